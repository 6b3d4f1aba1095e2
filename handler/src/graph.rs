//! Microsoft Graph, called with a delegated token on behalf of the caller.
//!
//! Every call carries a `client-request-id` (the request's correlation id) and logs Graph's
//! `request-id`, which Microsoft support asks for. Throttling (429) and transient 503/504 answers
//! are retried up to three times, honouring `Retry-After` or backing off exponentially with
//! jitter, but never past the request's deadline; still throttled after that is reported as
//! such, with the delay Graph asked for.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use warp::http::StatusCode;

use crate::correlation::CorrelationId;
use crate::error::ApiError;

use crate::obo::ScopeSet;

const SERVICE: &str = "Microsoft Graph";

/// One on-behalf-of token serves every Graph route: `.default` asks for what the app
/// registration lists and the tenant consented to. `consent` is that least-privilege list, for
/// the tab to prompt with.
pub const GRAPH_SCOPES: ScopeSet = ScopeSet {
    request: "https://graph.microsoft.com/.default",
    consent: &[
        "https://graph.microsoft.com/OnlineMeetings.ReadWrite",
        "https://graph.microsoft.com/Calendars.ReadWrite",
        "https://graph.microsoft.com/Chat.Create",
        "https://graph.microsoft.com/ChatMessage.Send",
        "https://graph.microsoft.com/People.Read",
        "https://graph.microsoft.com/User.ReadBasic.All",
    ],
};
const MAX_RETRIES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("Graph answered 404 ({code})")]
    NotFound { code: String },
    #[error("Graph answered {status} ({code})")]
    Status { status: u16, code: String },
    #[error("Graph still throttled after retries")]
    Throttled { retry_after: Duration },
    #[error("Graph did not answer in time")]
    Timeout,
    #[error("Graph unreachable")]
    Transport(#[source] reqwest::Error),
    #[error("Graph answer unreadable: {0}")]
    Parse(String),
}

impl GraphError {
    /// The answer for the caller; `not_found` names what was missing.
    pub fn into_api_error(self, not_found: &str) -> ApiError {
        match self {
            GraphError::NotFound { .. } => ApiError::NotFound(not_found.to_owned()),
            GraphError::Status { status, code } => ApiError::Upstream {
                service: SERVICE,
                status,
                code,
            },
            GraphError::Throttled { retry_after } => ApiError::Throttled {
                service: SERVICE,
                retry_after,
            },
            GraphError::Timeout => ApiError::UpstreamTimeout { service: SERVICE },
            GraphError::Transport(_) => ApiError::Upstream {
                service: SERVICE,
                status: 0,
                code: "unreachable".to_owned(),
            },
            GraphError::Parse(what) => ApiError::Upstream {
                service: SERVICE,
                status: 200,
                code: format!("unreadable answer: {what}"),
            },
        }
    }
}

/// One caller's view of Graph: whose token, which correlation id, until when.
pub struct GraphCall<'a> {
    pub token: &'a SecretString,
    pub correlation_id: &'a CorrelationId,
    pub deadline: Instant,
}

#[derive(Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    base: String,
    backoff: Duration,
}

/// A photo as Graph returned it.
#[derive(Debug)]
pub struct Photo {
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphErrorDetail,
}

#[derive(Deserialize)]
struct GraphErrorDetail {
    code: String,
}

#[derive(Deserialize)]
pub struct Collection<T> {
    pub value: Vec<T>,
}

impl GraphClient {
    /// `endpoint` is `GRAPH_ENDPOINT`, e.g. `https://graph.microsoft.com`.
    pub fn new(http: reqwest::Client, endpoint: &url::Url, backoff: Duration) -> Self {
        GraphClient {
            http,
            base: format!("{}/v1.0", endpoint.as_str().trim_end_matches('/')),
            backoff,
        }
    }

    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        call: &GraphCall<'_>,
        path: &str,
        body: &B,
    ) -> Result<T, GraphError> {
        let response = self
            .send(call, || self.http.post(self.url(path)).json(body))
            .await?;
        read_json(response).await
    }

    pub async fn patch_json<B: Serialize>(
        &self,
        call: &GraphCall<'_>,
        path: &str,
        body: &B,
    ) -> Result<(), GraphError> {
        self.send(call, || self.http.patch(self.url(path)).json(body))
            .await
            .map(drop)
    }

    /// GET with query parameters and extra headers (e.g. `ConsistencyLevel`).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        call: &GraphCall<'_>,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&'static str, &'static str)],
    ) -> Result<T, GraphError> {
        let response = self
            .send(call, || {
                let mut request = self.http.get(self.url(path)).query(query);
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                request
            })
            .await?;
        read_json(response).await
    }

    pub async fn get_photo(&self, call: &GraphCall<'_>, path: &str) -> Result<Photo, GraphError> {
        let response = self.send(call, || self.http.get(self.url(path))).await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.starts_with("image/"))
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = response.bytes().await.map_err(GraphError::Transport)?;
        Ok(Photo {
            content_type,
            bytes,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        call: &GraphCall<'_>,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, GraphError> {
        let client_request_id = call.correlation_id.as_guid();
        let mut retries = 0;
        loop {
            let remaining = call.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(GraphError::Timeout);
            }
            let request = build()
                .bearer_auth(call.token.expose_secret())
                .header("client-request-id", &client_request_id)
                .timeout(remaining);
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) if error.is_timeout() => return Err(GraphError::Timeout),
                Err(error) => return Err(GraphError::Transport(error)),
            };
            let status = response.status();
            let request_id = header_text(&response, "request-id");
            tracing::info!(
                status = status.as_u16(),
                graph_request_id = request_id.as_deref().unwrap_or(""),
                client_request_id = %client_request_id,
                "graph call"
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
                let fits = Instant::now() + wait < call.deadline;
                if retries < MAX_RETRIES && fits {
                    retries += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(GraphError::Throttled {
                    retry_after: asked.unwrap_or(wait).max(Duration::from_secs(1)),
                });
            }
            let code = error_code(response).await;
            return Err(if status == StatusCode::NOT_FOUND {
                GraphError::NotFound { code }
            } else {
                GraphError::Status {
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

/// `Retry-After` in seconds, as Graph sends it; capped so a hostile value cannot stall us.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = header_text(response, "retry-after")?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds.min(300)))
}

/// Graph's own error code (e.g. `Request_ResourceNotFound`), never its message or body.
async fn error_code(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    serde_json::from_slice::<GraphErrorBody>(&body)
        .ok()
        .map(|b| b.error.code)
        .filter(|code| {
            code.len() <= 80
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned())
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, GraphError> {
    let body = response.bytes().await.map_err(GraphError::Transport)?;
    serde_json::from_slice(&body).map_err(|e| GraphError::Parse(e.to_string()))
}
