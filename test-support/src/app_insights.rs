//! Application Insights' ingestion endpoint (`POST /v2/track`, `/v2.1/track`), refusing what the
//! service refuses.
//!
//! - 400 when the body is not a (gzip-compressed) JSON array of envelopes with the schema's
//!   required fields: `name`, `time`, `iKey` (the connection string's), `data.baseType` and a
//!   `data.baseData` with `ver` and the fields its type requires;
//! - 401 when a bearer token is required (a resource with local auth disabled) and the request
//!   has none, or one the managed identity did not issue for `https://monitor.azure.com`;
//! - 429 or 503 with `Retry-After` when switched to throttle or to be down, and an answer that
//!   never comes when switched to stall.
//!
//! Accepted envelopes are kept, with the decompressed bodies, so tests can read every byte the
//! handler exported.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::{Running, lock, spawn_tls};
use crate::managed_identity::IssuedTokens;

pub const INSTRUMENTATION_KEY: &str = "1ab5e000-0000-4000-8000-00000000a1ab";

/// How the endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Accept,
    /// 429 with `Retry-After`.
    Throttle,
    /// 503 with `Retry-After`.
    Down,
    /// Holds every upload without answering.
    Stall,
}

#[derive(Debug, Default)]
struct State {
    mode: Mode,
    accepted: Vec<Value>,
    bodies: Vec<String>,
    /// Status of every answer, in order (a stalled upload has none).
    answers: Vec<u16>,
    uploads: usize,
}

#[derive(Debug)]
pub struct FakeAppInsights {
    state: Arc<Mutex<State>>,
    server: Running,
}

impl FakeAppInsights {
    /// Accepts uploads with a bearer token `tokens` issued for Azure Monitor, or, with `None`,
    /// with the instrumentation key alone (local auth on).
    pub async fn start(tokens: Option<IssuedTokens>) -> std::io::Result<FakeAppInsights> {
        let state = Arc::new(Mutex::new(State::default()));
        // The exporter insists on https, as it should: uploads carry a bearer token.
        let server = spawn_tls(routes(state.clone(), tokens)).await?;
        Ok(FakeAppInsights { state, server })
    }

    /// The ingestion endpoint itself, for uploads by hand.
    pub fn track_url(&self) -> String {
        format!("https://localhost:{}/v2/track", self.server.addr.port())
    }

    /// The connection string that points the exporter here (trust the test CA).
    pub fn connection_string(&self) -> String {
        format!(
            "InstrumentationKey={INSTRUMENTATION_KEY};IngestionEndpoint=https://localhost:{}/;LiveEndpoint=https://localhost:{}/",
            self.server.addr.port(),
            self.server.addr.port()
        )
    }

    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state).mode = mode;
    }

    /// Every accepted envelope, in arrival order.
    pub fn envelopes(&self) -> Vec<Value> {
        lock(&self.state).accepted.clone()
    }

    /// Every upload's decompressed body, accepted or not.
    pub fn bodies(&self) -> Vec<String> {
        lock(&self.state).bodies.clone()
    }

    pub fn answers(&self) -> Vec<u16> {
        lock(&self.state).answers.clone()
    }

    pub fn uploads(&self) -> usize {
        lock(&self.state).uploads
    }

    pub fn clear(&self) {
        let mut state = lock(&self.state);
        state.accepted.clear();
        state.bodies.clear();
        state.answers.clear();
        state.uploads = 0;
    }
}

/// The resource (token audience) Azure Monitor ingestion accepts.
fn is_monitor_resource(resource: &str) -> bool {
    resource.trim_end_matches('/') == "https://monitor.azure.com"
}

fn routes(
    state: Arc<Mutex<State>>,
    tokens: Option<IssuedTokens>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::post()
        .and(
            warp::path!("v2" / "track")
                .or(warp::path!("v2.1" / "track"))
                .unify(),
        )
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("content-encoding"))
        .and(warp::body::bytes())
        .then(
            move |authorization: Option<String>, encoding: Option<String>, body: Bytes| {
                let state = state.clone();
                let tokens = tokens.clone();
                async move { track(&state, tokens.as_ref(), authorization, encoding, body).await }
            },
        )
}

async fn track(
    state: &Arc<Mutex<State>>,
    tokens: Option<&IssuedTokens>,
    authorization: Option<String>,
    encoding: Option<String>,
    body: Bytes,
) -> Response {
    let mode = {
        let mut state = lock(state);
        state.uploads += 1;
        state.mode
    };
    match mode {
        Mode::Stall => {
            // Longer than any upload timeout; the client gives up first.
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
        Mode::Throttle | Mode::Down => {
            let status = if mode == Mode::Throttle {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            lock(state).answers.push(status.as_u16());
            let mut response = answer(
                status,
                json!({"itemsReceived": 0, "itemsAccepted": 0, "errors": []}),
            );
            response
                .headers_mut()
                .insert("retry-after", warp::http::HeaderValue::from_static("30"));
            return response;
        }
        Mode::Accept => {}
    }
    let refuse = |status: StatusCode, message: &str| {
        lock(state).answers.push(status.as_u16());
        answer(
            status,
            json!({"itemsReceived": 0, "itemsAccepted": 0, "errors": [{"index": 0, "statusCode": status.as_u16(), "message": message}]}),
        )
    };
    if let Some(tokens) = tokens {
        let granted = authorization
            .as_deref()
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|token| tokens.lookup(token))
            .is_some_and(|issued| is_monitor_resource(&issued.resource));
        if !granted {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "Authorization token is missing or invalid",
            );
        }
    }
    let text = match decode(encoding.as_deref(), &body) {
        Some(text) => text,
        None => return refuse(StatusCode::BAD_REQUEST, "body is not readable"),
    };
    lock(state).bodies.push(text.clone());
    let envelopes = match serde_json::from_str::<Vec<Value>>(&text) {
        Ok(envelopes) if !envelopes.is_empty() => envelopes,
        _ => return refuse(StatusCode::BAD_REQUEST, "body is not an array of envelopes"),
    };
    if let Some(problem) = envelopes.iter().find_map(schema_problem) {
        return refuse(StatusCode::BAD_REQUEST, &problem);
    }
    let count = envelopes.len();
    let mut state = lock(state);
    state.answers.push(200);
    state.accepted.extend(envelopes);
    answer(
        StatusCode::OK,
        json!({"itemsReceived": count, "itemsAccepted": count, "errors": []}),
    )
}

fn decode(encoding: Option<&str>, body: &[u8]) -> Option<String> {
    match encoding {
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            use std::io::Read;
            let mut text = String::new();
            flate2::read::GzDecoder::new(body)
                .read_to_string(&mut text)
                .ok()?;
            Some(text)
        }
        None => String::from_utf8(body.to_vec()).ok(),
        Some(_) => None,
    }
}

/// What is wrong with an envelope, by the ingestion schema (Envelope, Data, and the base data
/// types the exporter sends).
pub fn schema_problem(envelope: &Value) -> Option<String> {
    let text = |v: &Value, field: &str| v.get(field).and_then(Value::as_str).map(str::to_owned);
    let Some(name) = text(envelope, "name") else {
        return Some("name is missing".to_owned());
    };
    if text(envelope, "time").is_none() {
        return Some(format!("{name}: time is missing"));
    }
    if text(envelope, "iKey").as_deref() != Some(INSTRUMENTATION_KEY) {
        return Some(format!("{name}: iKey is not the resource's"));
    }
    let (Some(base_type), Some(base)) = (
        envelope.get("data").and_then(|d| text(d, "baseType")),
        envelope.get("data").and_then(|d| d.get("baseData")),
    ) else {
        return Some(format!("{name}: data.baseType or data.baseData is missing"));
    };
    if base.get("ver").and_then(Value::as_i64).is_none() {
        return Some(format!("{name}: baseData.ver is missing"));
    }
    let required: &[&str] = match base_type.as_str() {
        "RequestData" => &["id", "duration", "responseCode", "success"],
        "RemoteDependencyData" => &["name", "duration"],
        "MetricData" => &["metrics"],
        "MessageData" => &["message"],
        "EventData" => &["name"],
        "ExceptionData" => &["exceptions"],
        other => return Some(format!("{name}: unknown baseType {other}")),
    };
    required
        .iter()
        .find(|field| base.get(**field).is_none())
        .map(|field| format!("{name}: baseData.{field} is missing"))
}

fn answer(status: StatusCode, body: Value) -> Response {
    let mut response = Response::new(body.to_string().into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_needs_the_schema_fields() {
        let good = json!({
            "name": "Microsoft.ApplicationInsights.Request",
            "time": "2026-12-04T14:00:00Z",
            "iKey": INSTRUMENTATION_KEY,
            "data": {"baseType": "RequestData", "baseData": {
                "ver": 2, "id": "1", "duration": "00:00:00.001", "responseCode": "201", "success": true
            }}
        });
        assert_eq!(schema_problem(&good), None);
        let mut no_code = good.clone();
        no_code["data"]["baseData"]
            .as_object_mut()
            .unwrap()
            .remove("responseCode");
        assert!(schema_problem(&no_code).unwrap().contains("responseCode"));
        let mut other_key = good.clone();
        other_key["iKey"] = json!("someone-else");
        assert!(schema_problem(&other_key).is_some());
        assert!(schema_problem(&json!({"time": "x"})).is_some());
        assert!(
            schema_problem(&json!({"name": "n", "time": "x", "iKey": INSTRUMENTATION_KEY}))
                .is_some()
        );
    }
}
