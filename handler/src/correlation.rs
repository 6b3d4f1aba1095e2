//! The correlation id that ties a request's log line to the caller's and upstream logs.
//!
//! Taken from `x-ms-client-request-id` (what Microsoft clients send) or from the trace id of a
//! W3C `traceparent`, else made up. Incoming values are checked so a caller cannot write
//! arbitrary text into our logs.

use std::fmt;
use std::sync::Arc;

use warp::http::HeaderMap;

pub const RESPONSE_HEADER: &str = "x-ms-client-request-id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(Arc<str>);

impl CorrelationId {
    pub fn from_headers(headers: &HeaderMap) -> CorrelationId {
        let client_request_id = headers
            .get(RESPONSE_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_safe_id(v));
        let trace_id = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(trace_id_of);
        let id = client_request_id
            .map(str::to_owned)
            .or(trace_id)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        CorrelationId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_safe_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`; an all-zero trace id is invalid.
fn trace_id_of(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let (_version, trace_id, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex(trace_id, 32)
        || !hex(parent, 16)
        || !hex(flags, 2)
        || trace_id.bytes().all(|b| b == b'0')
    {
        return None;
    }
    Some(trace_id.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn prefers_the_client_request_id() {
        let id = CorrelationId::from_headers(&headers(&[
            ("x-ms-client-request-id", "abc-123"),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        ]));
        assert_eq!(id.as_str(), "abc-123");
    }

    #[test]
    fn falls_back_to_the_trace_id() {
        let id = CorrelationId::from_headers(&headers(&[(
            "traceparent",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        )]));
        assert_eq!(id.as_str(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn makes_one_up_for_unsafe_or_missing_values() {
        for bad in [
            vec![("x-ms-client-request-id", "has space\" injected=1")],
            vec![(
                "traceparent",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            )],
            vec![("traceparent", "garbage")],
            vec![],
        ] {
            let id = CorrelationId::from_headers(&headers(&bad));
            assert!(uuid::Uuid::parse_str(id.as_str()).is_ok(), "{bad:?}");
        }
    }
}
