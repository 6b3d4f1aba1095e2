//! The Azure Functions custom handler behind the Teams remote-expert app.
//!
//! The Functions host forwards each HTTP request, on its original `/api/...` path, to this
//! process on `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT`. Every route but health requires the
//! Teams SSO token of the multitenant Entra app.
//!
//! # Layout
//!
//! Layers, each using only those above it:
//!
//! 1. Foundations
//!    - `config`: every setting, parsed and checked once at start-up (with the ACS connection
//!      string and the rule that token-receiving endpoints are https).
//!    - `domain`: validated values a caller sends (GUIDs, chat ids, UPNs, meeting subject and
//!      window, message and search text).
//!    - `telemetry`: JSON logs to stdout (`log_line` formats a line, `log_writer` batches them).
//!      `correlation`: the correlation id of a request; `request_record`: what a request's log
//!      lines say about it.
//!    - `otel`: OpenTelemetry traces and metrics for Application Insights (the request's
//!      server span, a client span per outbound call, bounded metrics, the exporter's
//!      Entra-authenticated uploads); nothing is built without a connection string.
//!    - `readiness`: the `starting` / `ok` / `degraded` state a dependency reports to health.
//!    - `http_client`: the one HTTP client every call to a Microsoft service goes through.
//!    - `token_cache`: tokens kept per user until a margin before they expire.
//! 2. Clients of the Microsoft services, each with its own error type
//!    - `auth`: Teams SSO token validation (signing keys, signature, claims, cache).
//!    - `secrets`: the client credential, the ACS connection string and the managed identity;
//!      the only module that uses the Azure SDK.
//!    - `upstream`: calling Graph or ACS: the retry policy (`upstream::RetryPolicy`) and the
//!      reduction of their error answers to a status and a code.
//!    - `obo`: the on-behalf-of exchange and its per-user token cache.
//!    - `graph`: Microsoft Graph, one module per area (meetings, chats, people, users).
//!    - `acs`: the ACS token exchange for Teams users, with HMAC or managed-identity auth.
//! 3. `error`: `ApiError`, its RFC 9457 problem answers, and the one mapping of every client
//!    error onto them.
//! 4. `state`: the shared `AppState`, built once from `Config`.
//! 5. `routes`: one module per Azure Function, each declaring its `FunctionSpec` (`open_api` is
//!    the OpenAPI description of them all, generated from their types), the filters they are
//!    built from, the per-request context and Graph as the caller (`caller_graph`).
//! 6. `server`: the accept loop, request record, server span and log line, graceful shutdown;
//!    `run` serves the routes over a built `AppState` with it.

pub mod acs;
pub mod auth;
pub mod config;
pub mod correlation;
pub mod domain;
pub mod error;
pub mod graph;
pub mod http_client;
pub mod log_line;
pub mod log_writer;
pub mod obo;
pub mod otel;
pub mod readiness;
pub mod request_record;
pub mod routes;
pub mod secrets;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod token_cache;
pub mod upstream;

use std::future::Future;

use tokio::net::TcpListener;

use crate::state::AppState;

/// Serves every function over `state` on `listener` until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn run(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()>) {
    server::serve(listener, routes::routes(state), shutdown).await;
}
