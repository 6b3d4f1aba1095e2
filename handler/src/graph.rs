//! Microsoft Graph, called with a delegated token on behalf of the caller.
//!
//! Every call carries a `client-request-id` (the request's correlation id) and logs Graph's
//! `request-id`, which Microsoft support asks for. Throttling (429) and transient 503/504 answers
//! are retried up to three times, honouring `Retry-After` or backing off exponentially with
//! jitter, but never past the request's deadline; still throttled after that is reported as
//! such, with the delay Graph asked for.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::correlation::CorrelationId;
use crate::upstream::{Upstream, UpstreamError, read_json};

use crate::error::ApiError;
use crate::obo::{DelegatedToken, ScopeSet};

pub const SERVICE: &str = "Microsoft Graph";

/// Graph stores profile photos of at most 4 MB (profilephoto-update.md).
const MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;

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
        "https://graph.microsoft.com/User.Read",
        "https://graph.microsoft.com/User.ReadBasic.All",
    ],
};

/// Graph's failures are those of any upstream; see `upstream`.
pub type GraphError = UpstreamError;

/// Codes Graph's workloads answer with 403 when a delegated token lacks a permission (directory,
/// Teams, Outlook).
const PERMISSION_DENIED_CODES: &[&str] = &[
    "Authorization_RequestDenied",
    "Forbidden",
    "ErrorAccessDenied",
    "AccessDenied",
];

/// The answer for a failed Graph call that needed `permissions` (e.g. `Chat.Create`).
///
/// With `.default`, a token carries only what the tenant consented to; a permission added to
/// the app later is missing until an administrator consents again, and Graph answers 403. That
/// is `consent_required` with the permissions the call needs, so the tab can prompt. Whether the
/// token lacks one is read from Entra's own answer (`scope`); a 403 for a permission the token
/// has (e.g. posting into a chat the user is not in) stays an upstream error.
pub fn route_error(
    error: GraphError,
    token: &DelegatedToken,
    permissions: &[&str],
    not_found: &str,
) -> ApiError {
    if let GraphError::Status { status: 403, code } = &error {
        let granted: Vec<Option<bool>> = permissions.iter().map(|p| token.grants(p)).collect();
        let lacking = granted.contains(&Some(false));
        let unknown = granted.iter().all(Option::is_none);
        if lacking || (unknown && PERMISSION_DENIED_CODES.contains(&code.as_str())) {
            return ApiError::ConsentRequired {
                scopes: permissions
                    .iter()
                    .map(|p| format!("{GRAPH_RESOURCE}/{p}"))
                    .collect(),
            };
        }
    }
    error.into_api_error(SERVICE, not_found)
}

const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// One caller's view of Graph: whose token, which correlation id, until when.
pub struct GraphCall<'a> {
    pub token: &'a DelegatedToken,
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
        let bytes = crate::upstream::read_capped(response, MAX_PHOTO_BYTES).await?;
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
        let upstream = Upstream {
            service: SERVICE,
            backoff: self.backoff,
            request_id_header: "request-id",
        };
        let result = upstream
            .send(call.deadline, || {
                build()
                    .bearer_auth(call.token.token.expose_secret())
                    .header("client-request-id", &client_request_id)
            })
            .await;
        if let Err(GraphError::Status { status: 401, .. }) = &result {
            // Expired early or revoked: never offer this token again.
            call.token.mark_refused();
        }
        result
    }
}
