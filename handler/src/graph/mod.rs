//! Microsoft Graph, called with a delegated token on behalf of the caller.
//!
//! One module per Graph area, each with its own request and answer types and verb methods on
//! `GraphClient`: `meetings`, `chats`, `people`, `users`. This file is the transport they share.
//!
//! Every call carries a `client-request-id` (the request's correlation id) and logs Graph's
//! `request-id`, which Microsoft support asks for. Throttling (429) and transient 503/504 answers
//! are retried up to three times, honouring `Retry-After` or backing off exponentially with
//! jitter, but never past the request's deadline; still throttled after that is reported as
//! such, with the delay Graph asked for.

pub mod chats;
pub mod meetings;
pub mod people;
pub mod users;

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::correlation::CorrelationId;
use crate::upstream::{RetryPolicy, UpstreamError, read_json};

use crate::obo::{DelegatedToken, ScopeSet};

pub const SERVICE: &str = "Microsoft Graph";

/// The delegated permissions the Graph calls need, each named once: `GRAPH_SCOPES.consent` asks
/// for all of them, and each call of `routes::caller_graph` names the one it needs, so a refusal
/// for lack of it becomes `consent_required` with that permission.
pub mod permission {
    /// `POST /me/onlineMeetings`, and the lookups and lobby update of an event's meeting.
    pub const ONLINE_MEETINGS_READ_WRITE: &str = "OnlineMeetings.ReadWrite";
    /// `POST /me/events`: a meeting with invitations.
    pub const CALENDARS_READ_WRITE: &str = "Calendars.ReadWrite";
    /// `POST /chats`.
    pub const CHAT_CREATE: &str = "Chat.Create";
    /// `POST /chats/{id}/messages`.
    pub const CHAT_MESSAGE_SEND: &str = "ChatMessage.Send";
    /// `/me/people`.
    pub const PEOPLE_READ: &str = "People.Read";
    /// The signed-in user's own profile, job title and department included.
    pub const USER_READ: &str = "User.Read";
    /// Other users' basic profiles, photos and mail, and the directory search.
    pub const USER_READ_BASIC_ALL: &str = "User.ReadBasic.All";

    /// Every permission above, in the order of `GRAPH_SCOPES.consent`.
    pub const ALL: [&str; 7] = [
        ONLINE_MEETINGS_READ_WRITE,
        CALENDARS_READ_WRITE,
        CHAT_CREATE,
        CHAT_MESSAGE_SEND,
        PEOPLE_READ,
        USER_READ,
        USER_READ_BASIC_ALL,
    ];
}

/// One on-behalf-of token serves every Graph route: `.default` asks for what the app
/// registration lists and the tenant consented to. `consent` is that least-privilege list
/// (`permission::ALL` on Graph's resource; a test holds the two together), for the tab to
/// prompt with.
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
    resource: (SERVICE, "00000003-0000-0000-c000-000000000000"),
};

/// Graph's failures are those of any upstream; see `upstream`.
pub type Error = UpstreamError;

/// Codes Graph's workloads answer with 403 when a delegated token lacks a permission (directory,
/// Teams, Outlook).
pub const PERMISSION_DENIED_CODES: &[&str] = &[
    "Authorization_RequestDenied",
    "Forbidden",
    "ErrorAccessDenied",
    "AccessDenied",
];

/// The resource of Graph's delegated permissions, as consent prompts name them.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

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

#[derive(Deserialize)]
struct Collection<T> {
    value: Vec<T>,
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

    async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        call: &GraphCall<'_>,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let response = self
            .send(call, || self.http.post(self.url(path)).json(body))
            .await?;
        read_json(response).await
    }

    async fn patch_json<B: Serialize>(
        &self,
        call: &GraphCall<'_>,
        path: &str,
        body: &B,
    ) -> Result<(), Error> {
        self.send(call, || self.http.patch(self.url(path)).json(body))
            .await
            .map(drop)
    }

    /// GET with query parameters and extra headers (e.g. `ConsistencyLevel`).
    async fn get_json<T: DeserializeOwned>(
        &self,
        call: &GraphCall<'_>,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&'static str, &'static str)],
    ) -> Result<T, Error> {
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        call: &GraphCall<'_>,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        let client_request_id = call.correlation_id.as_guid();
        let upstream = RetryPolicy {
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
        if let Err(Error::Status { status: 401, .. }) = &result {
            // Expired early or revoked: never offer this token again.
            call.token.mark_refused();
        }
        result
    }
}

/// Everything but RFC 3986's unreserved characters is escaped in a Graph path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` as one path segment of a Graph URL.
fn encode_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_list_is_every_permission_a_call_names() {
        let named: Vec<String> = permission::ALL
            .iter()
            .map(|p| format!("{GRAPH_RESOURCE}/{p}"))
            .collect();
        assert_eq!(GRAPH_SCOPES.consent, named);
    }
}
