//! Black-box tests: the real handler on a random loopback port, against local fakes of Entra.
// Integration tests fail by panicking; clippy.toml exempts #[test] fns but not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod acs_token;
mod binary;
mod create_meeting;
mod fakes;
mod faults;
mod function_json;
mod get_user_photo;
mod get_user_profile;
mod health;
mod helpers;
mod notify_chat;
mod open_api;
mod routing;
mod search_contacts;
mod tls;
mod token_caches;
mod token_validate;
