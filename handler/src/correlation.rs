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

    /// The id as a GUID, the form Microsoft services expect in `client-request-id`: itself when
    /// it already is one, a W3C trace id re-grouped, anything else mapped to a name-based GUID
    /// (the same id always maps to the same GUID).
    pub fn as_guid(&self) -> String {
        if let Ok(guid) = uuid::Uuid::try_parse(&self.0) {
            return guid.hyphenated().to_string();
        }
        if self.0.len() == 32
            && let Ok(value) = u128::from_str_radix(&self.0, 16)
        {
            return uuid::Uuid::from_u128(value).hyphenated().to_string();
        }
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, self.0.as_bytes())
            .hyphenated()
            .to_string()
    }

    /// Someone must have a correlation id; requests that bypassed the server (unit tests) get
    /// a fresh one.
    pub fn generate() -> CorrelationId {
        CorrelationId(uuid::Uuid::new_v4().to_string().into())
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
    fn maps_every_id_to_a_stable_guid() {
        let trace = CorrelationId("4bf92f3577b34da6a3ce929d0e0e4736".into());
        assert_eq!(trace.as_guid(), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
        let guid = CorrelationId("0B1D0000-0000-4000-8000-000000000001".into());
        assert_eq!(guid.as_guid(), "0b1d0000-0000-4000-8000-000000000001");
        let text = CorrelationId("tab-req-42".into());
        assert_eq!(text.as_guid(), text.as_guid());
        assert!(uuid::Uuid::try_parse(&text.as_guid()).is_ok());
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
