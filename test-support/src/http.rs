//! Starting a warp filter on a loopback port for the life of a fake.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use warp::Filter;

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
