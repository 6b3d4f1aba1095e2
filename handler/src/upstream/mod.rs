//! Calling a Microsoft service (Graph, ACS): `RetryPolicy` sends with the retry rules they
//! document (see `retry`), and their error answers are reduced here to the service's status and
//! its own error code (`{"error":{"code":…}}`, the shape Graph and ACS share), filtered to a safe
//! charset; their messages and bodies only reach the log. Bodies are read with a size cap.

mod retry;

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use retry::{RetryPolicy, http_date, retry_after};

/// What a caller is told to wait when a service cannot be reached at all.
pub const UNREACHABLE_RETRY_AFTER: Duration = Duration::from_secs(10);

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

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
}

/// The service's own error code (e.g. `Request_ResourceNotFound`), never its message or body.
/// The whole answer goes to the log, for support.
pub(super) async fn error_code(response: reqwest::Response) -> String {
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
