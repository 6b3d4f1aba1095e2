//! The retry policy of the Microsoft services: 429, 503 and 504 are retried up to three times,
//! honouring `Retry-After` (seconds or an HTTP-date) or backing off exponentially with jitter,
//! never past the request's deadline. What the last answer was decides how a failure is
//! reported: still 429 is throttling, still 503/504 is an outage; both carry the delay the
//! service asked for.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use tokio::time::Instant;
use tracing::Instrument as _;
use warp::http::StatusCode;

use super::{UpstreamError, error_code};
use crate::otel::dependency;

const MAX_RETRIES: u32 = 3;
/// However long a service asks us to wait, we never plan further ahead than this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// RFC 9110's HTTP-date (IMF-fixdate), always in GMT: `Retry-After` and ACS's `x-ms-date`.
const HTTP_DATE: &[BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// `time` as an HTTP-date.
pub fn http_date(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(HTTP_DATE)
        .unwrap_or_default()
}

/// How one service is called: its name for logs and answers, how long to back off, and which
/// header carries its own id of a request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub service: &'static str,
    /// First wait when the service gives no `Retry-After`; doubled on each retry.
    pub backoff: Duration,
    /// The service's own id of the request, logged for support.
    pub request_id_header: &'static str,
}

impl RetryPolicy {
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
        OffsetDateTime::now_utc(),
    )
}

fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
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
}
