//! The Azure Functions custom handler behind the Teams remote-expert app.
//!
//! The Functions host forwards each HTTP request, on its original `/api/...` path, to this
//! process on `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT`. Every route but health requires the
//! Teams SSO token of the multitenant Entra app.
//!
//! # Layout
//!
//! - `config`: every setting, parsed and checked once at start-up.
//! - `state`: the shared `AppState`, built once from `Config`.
//! - `startup`: runs the server over the routes and the state.
//! - `server`: the accept loop and the per-request span and log line.
//! - `correlation`: the correlation id of a request.
//! - `routes`: one module per Azure Function, plus routing helpers.
//! - `auth`: Teams SSO token validation (signing keys, signature, claims, cache).
//! - `error`: `ApiError` and its RFC 9457 problem answers, the only error-to-HTTP mapping.
//! - `acs`: the ACS token exchange for Teams users, with HMAC or managed-identity auth.
//! - `obo`: the on-behalf-of exchange and its per-user token cache.
//! - `graph`: Microsoft Graph calls with retries for throttling.
//! - `upstream`: retries and error reduction shared by the Graph and ACS calls.
//! - `outbound`: the shared HTTP client for calls to Microsoft services.
//! - `readiness`: the `starting` / `ok` / `degraded` state a dependency reports to health.
//! - `secrets`: the client credential and ACS connection string, from Key Vault or settings;
//!   the only module that uses the Azure SDK.
//! - `telemetry`: JSON logs to stdout.

pub mod acs;
pub mod auth;
pub mod config;
pub mod correlation;
pub mod error;
pub mod graph;
pub mod obo;
pub mod outbound;
pub mod readiness;
pub mod routes;
pub mod secrets;
pub mod server;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod upstream;
