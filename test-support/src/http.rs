//! Starting a warp filter on a loopback port for the life of a fake.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use warp::Filter;

/// A fake's state, even after a test thread panicked while holding it: the fake must keep
/// answering so the failing test reports its own assertion, not a poisoned lock.
pub(crate) fn lock<T>(state: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running fake; the server stops when this is dropped.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

/// Serves `filter` on a random loopback port.
pub async fn spawn<F>(filter: F) -> std::io::Result<Running>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    spawn_on(std::net::TcpListener::bind("127.0.0.1:0")?, filter).await
}

/// Serves `filter` on a listener bound by the caller.
pub async fn spawn_on<F>(listener: std::net::TcpListener, filter: F) -> std::io::Result<Running>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(
        warp::serve(filter)
            .incoming(listener)
            .graceful(async move {
                let _ = stopped.await;
            })
            .run(),
    );
    Ok(Running { addr, _stop: stop })
}

/// The test CA that signed the fakes' https certificate; trust it with `SSL_CERT_FILE`.
pub const TEST_CA_PEM_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/test-ca.pem");
const SERVER_CERT_PEM: &str = include_str!("../fixtures/localhost.cert.pem");
const SERVER_KEY_PEM: &str = include_str!("../fixtures/localhost.key.pem");

/// Serves `filter` over https on a random loopback port, with a certificate for `localhost` and
/// `127.0.0.1` signed by the test CA.
pub async fn spawn_tls<F>(filter: F) -> std::io::Result<Running>
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let invalid = |e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
    };
    let certificates = CertificateDer::pem_slice_iter(SERVER_CERT_PEM.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM.as_bytes()).map_err(|e| invalid(&e))?;
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| invalid(&e))?
    .with_no_client_auth()
    .with_single_cert(certificates, key)
    .map_err(|e| invalid(&e))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    let service = warp::service(filter);
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
                _ = &mut stopped => break,
            };
            let acceptor = acceptor.clone();
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                }
            });
        }
    });
    Ok(Running { addr, _stop: stop })
}

/// A server that reads each request and then drops the connection without answering, as a
/// crashing upstream or a middlebox does. Stops when dropped.
#[derive(Debug)]
pub struct HangingUp {
    pub addr: SocketAddr,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

impl HangingUp {
    /// Requests (connections that sent something) received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub async fn spawn_hanging_up() -> std::io::Result<HangingUp> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = requests.clone();
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((mut stream, _)) = accepted {
                        let counter = counter.clone();
                        tokio::spawn(async move {
                            use tokio::io::AsyncReadExt;
                            let mut request_head = [0u8; 1024];
                            if matches!(stream.read(&mut request_head).await, Ok(n) if n > 0) {
                                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                            drop(stream);
                        });
                    }
                }
                _ = &mut stopped => break,
            }
        }
    });
    Ok(HangingUp {
        addr,
        requests,
        _stop: stop,
    })
}
