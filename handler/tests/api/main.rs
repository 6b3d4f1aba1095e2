//! Black-box tests: the real handler on a random loopback port, against local fakes of Entra.
// Integration tests fail by panicking; clippy.toml exempts #[test] fns but not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
mod create_meeting;
mod exchange_acs_token;
mod fakes;
mod faults;
mod function_json;
mod health;
mod helpers;
mod open_api;
mod routing;
mod search_contacts;
mod send_notification;
mod tls;
mod token_caches;
mod user_profile;
mod validate_token;
