//! The accept loop, with the one piece of middleware every request goes through: the request's
//! record (method, function, tenant and correlation id, which its log lines carry), its
//! OpenTelemetry server span when an exporter is configured, and one log line when the answer is
//! sent.
//!
//! warp's own `serve` has no hook around a whole request, so connections are driven with hyper
//! directly, the way `warp::serve` does internally, and the filter runs as a service inside.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower_service::Service;
use tracing::Instrument;
use warp::Filter;
use warp::http::{HeaderValue, Request};
use warp::reply::Response;

use crate::auth::AmbiguousCredentials;
use crate::correlation::{CorrelationId, RESPONSE_HEADER};
use crate::otel;
use crate::request_record::{self, RequestRecord};

/// In-flight requests get this long to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// A client that opens a connection and sends nothing is dropped after this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve<F>(listener: TcpListener, routes: F, shutdown: impl Future<Output = ()>)
where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
    F::Future: Send,
{
    let service = warp::service(routes);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let per_request = hyper::service::service_fn(move |request: Request<Incoming>| {
            handle(service.clone(), request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), per_request);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }
    tracing::info!("shutting down; draining in-flight requests");
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(DRAIN_TIMEOUT) => {
            tracing::warn!("in-flight requests did not finish in time");
        },
    }
}

async fn handle<S>(service: S, request: Request<Incoming>) -> Result<Response, Infallible>
where
    S: Service<Request<Incoming>, Response = Response, Error = Infallible>,
{
    let started = Instant::now();
    let correlation_id = CorrelationId::from_headers(request.headers());
    // Only the method and the function name are logged, never the path: paths can hold user
    // principal names.
    let record = RequestRecord::new(request.method().clone(), correlation_id.clone());
    record
        .scope(answer(service, request, correlation_id, started))
        .await
}

/// Serves one request inside its record's scope, so every line it logs, the last included,
/// carries the record.
async fn answer<S>(
    mut service: S,
    mut request: Request<Incoming>,
    correlation_id: CorrelationId,
    started: Instant,
) -> Result<Response, Infallible>
where
    S: Service<Request<Incoming>, Response = Response, Error = Infallible>,
{
    let span = otel::request_span(request.method(), correlation_id.as_str(), request.headers());
    if request
        .headers()
        .get_all(warp::http::header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        request.extensions_mut().insert(AmbiguousCredentials);
    }
    let mut response = match service.call(request).instrument(span.clone()).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if let Ok(value) = HeaderValue::from_str(correlation_id.as_str()) {
        response.headers_mut().insert(RESPONSE_HEADER, value);
    }
    // Every answer, errors and photos included: a browser must never guess a type other than
    // the one declared.
    response.headers_mut().insert(
        warp::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let outcome = response
        .extensions()
        .get::<otel::Outcome>()
        .map_or("ok", |outcome| outcome.0);
    let function =
        request_record::with_current(|r| r.function()).unwrap_or(request_record::UNMATCHED);
    otel::record_outcome(&span, response.status().as_u16(), outcome);
    otel::metrics::request(function, outcome, latency_ms);
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = (latency_ms * 1000.0).round() / 1000.0,
        "request completed"
    );
    Ok(response)
}

/// Completes on Ctrl-C or SIGTERM (what the Functions host sends to stop a worker). The handlers
/// are registered when this is called, not when the future is first polled, so a signal that
/// arrives right after start-up is not lost.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
