//! Calling a Microsoft service (Graph, ACS) with the retry rules they document: 429, 503 and
//! 504 are retried up to three times, honouring `Retry-After` (seconds) or backing off
//! exponentially with jitter, never past the request's deadline. What the last answer was decides
//! how a failure is reported: still 429 is throttling, still 503/504 is an outage; both carry
//! the delay the service asked for.
//!
//! Error answers are reduced to the service's status and its own error code
//! (`{"error":{"code":…}}`, the shape Graph and ACS share), filtered to a safe charset; their
//! messages and bodies only reach the log.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use warp::http::StatusCode;

use crate::error::ApiError;

const MAX_RETRIES: u32 = 3;
/// What a caller is told to wait when a service cannot be reached at all.
const UNREACHABLE_RETRY_AFTER: Duration = Duration::from_secs(10);
/// However long a service asks us to wait, we never plan further ahead than this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("answered 404 ({code})")]
    NotFound { code: String },
    #[error("answered {status} ({code})")]
    Status { status: u16, code: String },
    #[error("still throttled after retries")]
    Throttled { retry_after: Duration },
    #[error("still answering {status} after retries")]
    Unavailable { status: u16, retry_after: Duration },
    #[error("did not answer in time")]
    Timeout,
    #[error("unreachable")]
    Transport(#[source] reqwest::Error),
    /// The reason is logged where the parse failed; it can quote the body, so it goes no
    /// further.
    #[error("answer unreadable")]
    Parse,
}

impl UpstreamError {
    /// The answer for the caller; `not_found` says what was missing. A service we cannot
    /// connect to is unavailable (503, retry later); a connection lost mid-answer is an
    /// upstream error (502).
    pub fn into_api_error(self, service: &'static str, not_found: &str) -> ApiError {
        match self {
            UpstreamError::Transport(error) if error.is_connect() => ApiError::Unavailable {
                dependency: service,
                reason: "connection refused or unreachable".to_owned(),
                retry_after: UNREACHABLE_RETRY_AFTER,
            },
            UpstreamError::NotFound { .. } => ApiError::NotFound(not_found.to_owned()),
            UpstreamError::Status { status, code } => ApiError::Upstream {
                service,
                status,
                code,
            },
            UpstreamError::Throttled { retry_after } => ApiError::Throttled {
                service,
                retry_after,
            },
            UpstreamError::Unavailable {
                status,
                retry_after,
            } => ApiError::Unavailable {
                dependency: service,
                reason: format!("answered {status} until the retry budget was spent"),
                retry_after,
            },
            UpstreamError::Timeout => ApiError::UpstreamTimeout { service },
            UpstreamError::Transport(_) => ApiError::Upstream {
                service,
                status: 0,
                code: "connection lost".to_owned(),
            },
            UpstreamError::Parse => ApiError::Upstream {
                service,
                status: 200,
                code: "unreadable_answer".to_owned(),
            },
        }
    }
}

/// How to talk to one service.
#[derive(Debug, Clone, Copy)]
pub struct Upstream {
    pub service: &'static str,
    /// First wait when the service gives no `Retry-After`; doubled on each retry.
    pub backoff: Duration,
    /// The service's own id of the request, logged for support.
    pub request_id_header: &'static str,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
}

impl Upstream {
    /// Sends the request `build` makes (anew for each attempt, so signatures and dates are
    /// fresh) until it succeeds, fails for good, or the deadline comes.
    pub async fn send(
        &self,
        deadline: Instant,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, UpstreamError> {
        let mut retries = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(UpstreamError::Timeout);
            }
            let response = match build().timeout(remaining).send().await {
                Ok(response) => response,
                Err(error) if error.is_timeout() => return Err(UpstreamError::Timeout),
                Err(error) => return Err(UpstreamError::Transport(error)),
            };
            let status = response.status();
            tracing::info!(
                service = self.service,
                status = status.as_u16(),
                upstream_request_id = header_text(&response, self.request_id_header)
                    .as_deref()
                    .unwrap_or(""),
                "upstream call"
            );
            if status.is_success() {
                return Ok(response);
            }
            if matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) {
                let asked = retry_after(&response);
                let wait = asked.unwrap_or_else(|| self.backoff_for(retries));
                if retries < MAX_RETRIES && Instant::now() + wait < deadline {
                    retries += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let retry_after = asked.unwrap_or(wait).max(Duration::from_secs(1));
                return Err(if status == StatusCode::TOO_MANY_REQUESTS {
                    UpstreamError::Throttled { retry_after }
                } else {
                    UpstreamError::Unavailable {
                        status: status.as_u16(),
                        retry_after,
                    }
                });
            }
            let code = error_code(response).await;
            return Err(if status == StatusCode::NOT_FOUND {
                UpstreamError::NotFound { code }
            } else {
                UpstreamError::Status {
                    status: status.as_u16(),
                    code,
                }
            });
        }
    }

    /// Exponential backoff with up to 50% jitter, so many instances do not retry in step.
    fn backoff_for(&self, retries: u32) -> Duration {
        let base = self.backoff * 2u32.pow(retries);
        let jitter_fraction = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 2000.0;
        base + base.mul_f64(jitter_fraction)
    }
}

fn header_text(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(64).collect())
}

/// The delay a `Retry-After` header asks for, in seconds (capped).
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = header_text(response, "retry-after")?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// The service's own error code (e.g. `Request_ResourceNotFound`), never its message or body.
/// The whole answer goes to the log, for support.
async fn error_code(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    let code = serde_json::from_slice::<ErrorBody>(&body)
        .ok()
        .and_then(|b| safe_code(&b.error.code));
    if code.is_none() {
        tracing::info!(
            status = status.as_u16(),
            body = %String::from_utf8_lossy(&body[..body.len().min(MAX_LOGGED_BODY)]),
            "upstream error answer without a usable error code"
        );
    }
    code.unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned())
}

/// How much of an unexpected answer the log keeps.
const MAX_LOGGED_BODY: usize = 512;

/// An upstream error code as callers may see it: an identifier (letters, digits, `_`, `.`,
/// `-`), at most 80 characters. Anything else is free text and stays out of answers.
pub fn safe_code(code: &str) -> Option<String> {
    let safe = (1..=80).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    safe.then(|| code.to_owned())
}

pub async fn read_json<T: DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, UpstreamError> {
    let body = response.bytes().await.map_err(UpstreamError::Transport)?;
    serde_json::from_slice(&body).map_err(|error| {
        tracing::warn!(error = %error, "upstream answer does not have the expected shape");
        UpstreamError::Parse
    })
}
