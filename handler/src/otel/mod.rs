//! OpenTelemetry traces and metrics for Application Insights.
//!
//! The Functions host reports its own request to Application Insights; everything the handler
//! does behind it (the route, and its calls to Entra, Graph, ACS, Key Vault and the managed
//! identity) is reported here, as a server span that continues the host's `traceparent` and one
//! client span per outbound call. The existing `tracing` spans are the source:
//! `tracing-opentelemetry` turns the two span kinds this module defines into OpenTelemetry
//! spans, and only those, never log events, so nothing a log line may quote (an upstream error
//! body, a URL with a UPN) is exported.
//!
//! Export runs on the SDK's batch thread with a bounded queue: when ingestion stalls or refuses,
//! spans beyond the queue are dropped, and a request never waits for telemetry. Without
//! `APPLICATIONINSIGHTS_CONNECTION_STRING` nothing here is built and the request path takes the
//! same branches as before.

pub mod dependency;
mod ingestion;
pub mod metrics;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use secrecy::ExposeSecret;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;
use warp::http::HeaderMap;

use crate::config::Config;
use crate::secrets::Secrets;

pub use ingestion::{INGESTION_SCOPE, IngestionClient};

/// The target of the spans that become OpenTelemetry spans; nothing else is exported.
pub const REQUEST_TARGET: &str = "handler::request";
pub const DEPENDENCY_TARGET: &str = "handler::dependency";

/// Spans waiting for export; past this, new ones are dropped (a stalled ingestion endpoint
/// costs at most this much memory, a few MiB).
const MAX_QUEUED_SPANS: usize = 2048;
const MAX_EXPORT_BATCH: usize = 512;
const EXPORT_INTERVAL: Duration = Duration::from_secs(5);
const METRICS_INTERVAL: Duration = Duration::from_secs(60);

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported in this process: decides, per request, whether the OpenTelemetry
/// fields and the client spans are created at all.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("APPLICATIONINSIGHTS_CONNECTION_STRING is not usable: {0}")]
    ConnectionString(String),
    #[error("the telemetry HTTP client could not be built: {0}")]
    Client(#[from] crate::http_client::ClientError),
}

/// The running pipeline; flushes on `shutdown`.
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    meter_provider: opentelemetry_sdk::metrics::SdkMeterProvider,
    identity: Arc<OnceLock<Arc<Secrets>>>,
}

impl Telemetry {
    /// Builds the exporters; `None` when no connection string is set. Must be called inside the
    /// Tokio runtime, whose handle the uploads run on.
    pub fn build(config: &Config) -> Result<Option<Telemetry>, TelemetryError> {
        let settings = &config.telemetry;
        let Some(connection_string) = &settings.connection_string else {
            return Ok(None);
        };
        let identity = Arc::new(OnceLock::new());
        let http = crate::http_client::build(&config.tuning, &config.tls)?;
        let client = IngestionClient::new(http, settings.sends_with_identity(), identity.clone());
        let traces = opentelemetry_application_insights::Exporter::new_from_connection_string(
            connection_string.expose_secret(),
            client.clone(),
        )
        // The error names the connection string's problem, never its content.
        .map_err(|e| TelemetryError::ConnectionString(e.to_string()))?
        .with_sample_rate(settings.sampling_ratio);
        let measurements =
            opentelemetry_application_insights::Exporter::new_from_connection_string(
                connection_string.expose_secret(),
                client,
            )
            .map_err(|e| TelemetryError::ConnectionString(e.to_string()))?;

        let batch = BatchConfigBuilder::default()
            .with_max_queue_size(MAX_QUEUED_SPANS)
            .with_max_export_batch_size(MAX_EXPORT_BATCH)
            .with_scheduled_delay(EXPORT_INTERVAL)
            .build();
        // Decided by the trace id alone, not by the host's sampled flag: the host's flag
        // reflects its own sampling settings, and a request's spans must be kept or dropped
        // together with its dependency calls.
        let sampler = Sampler::TraceIdRatioBased(settings.sampling_ratio);
        let resource = opentelemetry_sdk::Resource::builder_empty()
            .with_service_name(SERVICE_NAME)
            .build();
        let tracer_provider = SdkTracerProvider::builder()
            .with_span_processor(NameByFunction(BatchSpanProcessor::new(traces, batch)))
            .with_sampler(sampler)
            .with_resource(resource.clone())
            .build();
        let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(measurements)
            .with_interval(METRICS_INTERVAL)
            .build();
        let meter_provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource)
            .build();
        metrics::install(&meter_provider);
        ENABLED.store(true, Ordering::Relaxed);
        Ok(Some(Telemetry {
            tracer_provider,
            meter_provider,
            identity,
        }))
    }

    /// The `tracing` layer that exports the request and dependency spans, and nothing else.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let tracer = self.tracer_provider.tracer(SERVICE_NAME);
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_level(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(tracing_subscriber::filter::filter_fn(is_exported))
    }

    /// Ingestion tokens come from the handler's one managed identity, which exists only once
    /// the state is built; until then uploads that need one fail and are retried.
    pub fn use_identity(&self, secrets: Arc<Secrets>) {
        let _ = self.identity.set(secrets);
    }

    /// Exports what is queued (bounded by the SDK's own timeouts).
    pub fn force_flush(&self) {
        let _ = self.tracer_provider.force_flush();
        let _ = self.meter_provider.force_flush();
    }

    pub fn shutdown(&self) {
        ENABLED.store(false, Ordering::Relaxed);
        let _ = self
            .tracer_provider
            .shutdown_with_timeout(Duration::from_secs(5));
        let _ = self
            .meter_provider
            .shutdown_with_timeout(Duration::from_secs(5));
    }
}

/// Names each server span by its function (the `route` field routing records), which becomes
/// the Application Insights request name. tracing-opentelemetry fixes a span's name when the
/// span is first entered, before routing has run, so the name is set here, at the end.
#[derive(Debug)]
struct NameByFunction<P>(P);

impl<P: opentelemetry_sdk::trace::SpanProcessor> opentelemetry_sdk::trace::SpanProcessor
    for NameByFunction<P>
{
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, mut span: opentelemetry_sdk::trace::SpanData) {
        if span.span_kind == opentelemetry::trace::SpanKind::Server
            && let Some(route) = span
                .attributes
                .iter()
                .rev()
                .find(|kv| kv.key.as_str() == "route")
        {
            span.name = route.value.as_str().into_owned().into();
        }
        self.0.on_end(span);
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.0.set_resource(resource);
    }
}

/// `cloud_RoleName` in Application Insights.
const SERVICE_NAME: &str = "remote-expert-handler";

fn is_exported(metadata: &tracing::Metadata<'_>) -> bool {
    metadata.is_span() && matches!(metadata.target(), REQUEST_TARGET | DEPENDENCY_TARGET)
}

/// The request's server span, named by the function once routing knows it, continuing the W3C
/// trace the Functions host forwards. Its fields are all ids, names and codes.
pub fn request_span(
    method: &warp::http::Method,
    correlation_id: &str,
    headers: &HeaderMap,
) -> tracing::Span {
    // Without an exporter nothing reads the span: the log line takes its fields from the
    // request's record (`request_record`).
    if !enabled() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        target: REQUEST_TARGET,
        "request",
        method = %method,
        route = crate::request_record::UNMATCHED,
        tenant_id = tracing::field::Empty,
        correlation_id = %correlation_id,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        "http.response.status_code" = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    let parent =
        TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers));
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    // A missing or malformed traceparent leaves an empty context: the span starts a trace.
    let _ = span.set_parent(parent);
    span
}

/// Records how the request ended: the status and the problem `code` (`ok` on success).
pub fn record_outcome(span: &tracing::Span, status: u16, outcome: &str) {
    if !enabled() {
        return;
    }
    span.record("http.response.status_code", status);
    span.record("outcome", outcome);
    span.record(
        "otel.status_code",
        if status >= 400 { "ERROR" } else { "OK" },
    );
}

/// Names the function on the request's server span (its operation in Application Insights);
/// called through `request_record::name_function`.
pub fn record_route(name: &'static str) {
    if enabled() {
        tracing::Span::current().record("route", name);
    }
}

/// Records the validated caller's tenant on the request's server span; called through
/// `request_record::set_tenant`.
pub fn record_tenant(tenant_id: uuid::Uuid) {
    if enabled() {
        tracing::Span::current().record("tenant_id", tracing::field::display(tenant_id));
    }
}

/// The problem `code` of an error answer, left on the response for the request span and the
/// metrics; absent on success.
#[derive(Debug, Clone, Copy)]
pub struct Outcome(pub &'static str);
