//! Local stand-ins for the Microsoft cloud, for the handler's tests and the offline sandbox.
//!
//! Each fake is a real HTTP server on `127.0.0.1` with a random port, reached through the same
//! settings that point at Azure in production. Fakes record what they receive so tests can
//! assert on what the handler sent, and have switches to fail the way the real services do.
//!
//! - `cloud`: Entra, Graph and ACS started together, as every user of the fakes needs them.
//! - `http`: serves a fake on a loopback port (plain, https with the test CA, or one that hangs
//!   up), and the lock that outlives a panicking test.
//! - `keys`: the RSA test keys in `fixtures/`.
//! - `tokens`: mints Entra-shaped access tokens, valid or deliberately broken.
//! - `entra`: OpenID metadata and signing keys (v1.0 and v2.0), with key rollover and outages.
//! - `token_endpoint`: Entra's on-behalf-of token endpoint, with scripted refusals.
//! - `consent`: users who have not consented yet, and the consent pages that change that.
//! - `directory`: the seeded two-tenant directory (Fieldworks and Experts Inc.): ids, people
//!   and photos, shared by the Graph fake, the tests and the sandbox.
//! - `graph`: the Graph subset the routes use, over that directory.
//! - `managed_identity`: the App Service managed-identity endpoint.
//! - `key_vault`: Key Vault secrets, with the 401 challenge, rotation, 403 and outages.
//! - `acs`: the ACS Teams token exchange, verifying HMAC signatures as ACS does.
//! - `app_insights`: Application Insights ingestion, with its schema and Entra checks.
//! - `azure_transport`: sends the Azure SDK's vault requests to the fake vault.
//! - `log_hygiene`: the one check that no token or secret, nor a piece of one, was logged.

#![allow(clippy::panic)] // a fake that cannot load its own fixtures is a broken test setup

pub mod acs;
pub mod app_insights;
pub mod azure_transport;
pub mod cloud;
pub mod consent;
pub mod directory;
pub mod entra;
pub mod graph;
pub mod key_vault;
pub mod keys;
pub mod log_hygiene;
pub mod managed_identity;
pub mod token_endpoint;
pub mod tokens;

pub mod http;
