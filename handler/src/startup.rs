//! Wiring: serves the routes over a built `AppState` on a bound listener.

use std::future::Future;

use tokio::net::TcpListener;

pub use crate::state::{AppState, Overrides, StartupError};
use crate::{routes, server};

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn run(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()>) {
    server::serve(listener, routes::routes(state), shutdown).await;
}
