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
use tracing::Instrument as _;
use warp::http::StatusCode;

use crate::otel::dependency;

const MAX_RETRIES: u32 = 3;
/// What a caller is told to wait when a service cannot be reached at all.
pub const UNREACHABLE_RETRY_AFTER: Duration = Duration::from_secs(10);
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
    /// The answer was larger than any answer of this kind can legitimately be.
    #[error("answer larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The reason is logged where the parse failed; it can quote the body, so it goes no
    /// further.
    #[error("answer unreadable")]
    Parse,
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
        // One client span for the call, retries included; created with the first request,
        // which knows the method and URL.
        let mut span: Option<tracing::Span> = None;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                if let Some(span) = &span {
                    dependency::record_status(span, None);
                }
                return Err(UpstreamError::Timeout);
            }
            let (client, request) = build().timeout(remaining).build_split();
            let request = request.map_err(UpstreamError::Transport)?;
            let span = span.get_or_insert_with(|| {
                dependency::span(self.service, request.method().as_str(), request.url())
            });
            dependency::record_retries(span, retries);
            let response = match client.execute(request).instrument(span.clone()).await {
                Ok(response) => response,
                Err(error) => {
                    dependency::record_status(span, None);
                    if error.is_timeout() {
                        return Err(UpstreamError::Timeout);
                    }
                    return Err(UpstreamError::Transport(error));
                }
            };
            let status = response.status();
            dependency::record_status(span, Some(status.as_u16()));
            dependency::record_request_id(
                span,
                header_text(&response, self.request_id_header).as_deref(),
            );
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

/// The delay a `Retry-After` header asks for (capped): RFC 9110 §10.2.3 allows seconds or an
/// HTTP-date; a date in the past means now.
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    parse_retry_after(
        &header_text(response, "retry-after")?,
        time::OffsetDateTime::now_utc(),
    )
}

fn parse_retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    const HTTP_DATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let date = time::PrimitiveDateTime::parse(value, HTTP_DATE)
                .ok()?
                .assume_utc();
            Duration::try_from(date - now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The service's own error code (e.g. `Request_ResourceNotFound`), never its message or body.
/// The whole answer goes to the log, for support.
async fn error_code(response: reqwest::Response) -> String {
    let status = response.status();
    let body = read_capped(response, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
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

/// The largest JSON answer read from a Microsoft service: token answers, key sets and the Graph
/// pages the routes ask for are a few KiB; a misbehaving upstream must not make us buffer more.
pub const MAX_JSON_BODY: usize = 1024 * 1024;
/// Error answers are smaller still; only their code is read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The whole body, or `TooLarge` as soon as it (or its declared length) passes `limit`.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<bytes::Bytes, UpstreamError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(UpstreamError::TooLarge { limit });
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(UpstreamError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(UpstreamError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

pub async fn read_json<T: DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, UpstreamError> {
    let body = read_capped(response, MAX_JSON_BODY).await?;
    serde_json::from_slice(&body).map_err(|error| {
        tracing::warn!(error = %error, "upstream answer does not have the expected shape");
        UpstreamError::Parse
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = time::macros::datetime!(2026-12-02 13:00:00 UTC);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 13:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 12:59:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past"
        );
        assert_eq!(
            parse_retry_after("99999", now),
            Some(MAX_RETRY_AFTER),
            "capped"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn only_identifiers_pass_as_upstream_codes() {
        assert_eq!(
            safe_code("Request_ResourceNotFound").as_deref(),
            Some("Request_ResourceNotFound")
        );
        assert_eq!(safe_code("a b"), None);
        assert_eq!(safe_code(""), None);
        assert_eq!(safe_code(&"x".repeat(81)), None);
        assert_eq!(safe_code("<script>"), None);
    }
}
