//! The one HTTP client used for every call the handler makes (Entra today; Graph, ACS later).
//!
//! Built once and shared: connection pools and TLS state are reused, timeouts are uniform, and
//! redirects are never followed, so a compromised or misconfigured upstream cannot bounce a
//! request carrying a token to another host.

use crate::config::Tuning;

pub type ClientError = reqwest::Error;

pub fn http_client(tuning: &Tuning) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .timeout(tuning.outbound_timeout)
        .connect_timeout(
            tuning
                .outbound_timeout
                .min(std::time::Duration::from_secs(5)),
        )
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("remote-expert-handler/", env!("CARGO_PKG_VERSION")))
        .build()
}
