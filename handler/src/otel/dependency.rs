//! Client spans for the handler's outbound calls (Application Insights "dependencies").
//!
//! A span carries the method, the host, the path as a template (every segment that could be an
//! id, a UPN or search text becomes `{id}`; the query is dropped), the final status, the number
//! of retries and the service's own request id. Never the full URL, a header or a body.

use std::future::Future;

use tracing::field::Empty;

use super::DEPENDENCY_TARGET;

tokio::task_local! {
    /// Set around the exporter's own uploads (and the identity token they fetch), whose
    /// calls must not become spans to export in turn.
    static UNTRACED: ();
}

/// Runs `future` without client spans.
pub fn untraced<F: Future>(future: F) -> impl Future<Output = F::Output> {
    UNTRACED.scope((), future)
}

/// A client span for one logical call (retries included). Disabled, and free, when telemetry is
/// off or the call is the exporter's own.
pub fn span(service: &'static str, method: &str, url: &url::Url) -> tracing::Span {
    if !super::enabled() || UNTRACED.try_with(|_| ()).is_ok() {
        return tracing::Span::none();
    }
    let host = url.host_str().unwrap_or("");
    let template = path_template(url.path());
    tracing::info_span!(
        target: DEPENDENCY_TARGET,
        "dependency",
        otel.name = %format_args!("{method} {template}"),
        otel.kind = "client",
        otel.status_code = Empty,
        "peer.service" = service,
        "server.address" = host,
        "http.request.method" = method,
        "url.template" = %template,
        // Application Insights shows this as the dependency's data; it is the template, so it
        // holds no ids.
        "url.full" = %format_args!("{}://{host}{template}", url.scheme()),
        "http.response.status_code" = Empty,
        "http.request.resend_count" = Empty,
        request_id = Empty,
    )
}

/// `span` for a URL held as text; parsed only when telemetry is on.
pub fn span_for(service: &'static str, method: &str, url: &str) -> tracing::Span {
    if !super::enabled() {
        return tracing::Span::none();
    }
    match url::Url::parse(url) {
        Ok(url) => span(service, method, &url),
        Err(_) => tracing::Span::none(),
    }
}

/// Records the last answer of the call (`None`: no answer at all).
pub fn record_status(span: &tracing::Span, status: Option<u16>) {
    if span.is_disabled() {
        return;
    }
    match status {
        Some(status) => {
            span.record("http.response.status_code", status);
            span.record(
                "otel.status_code",
                if status >= 400 { "ERROR" } else { "OK" },
            );
        }
        None => {
            span.record("otel.status_code", "ERROR");
        }
    }
}

pub fn record_retries(span: &tracing::Span, retries: u32) {
    if retries > 0 {
        span.record("http.request.resend_count", retries);
    }
}

/// The service's own id of the request (Graph's `request-id`, ACS's `x-ms-request-id`), which
/// support asks for; only a safe charset, at most 64 characters.
pub fn record_request_id(span: &tracing::Span, request_id: Option<&str>) {
    if span.is_disabled() {
        return;
    }
    if let Some(id) = request_id.filter(|id| {
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    }) {
        span.record("request_id", id);
    }
}

/// Literal path segments are words (`users`, `onlineMeetings`, `$value`, `:exchangeAccessToken`,
/// `v1.0`); anything else could identify a person or a tenant and becomes `{id}`.
pub fn path_template(path: &str) -> String {
    let mut template = String::with_capacity(path.len());
    let mut after_collection = false;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        template.push('/');
        if !after_collection && is_literal(segment) {
            template.push_str(segment);
            after_collection = COLLECTIONS.contains(&segment);
        } else {
            template.push_str("{id}");
            after_collection = false;
        }
    }
    if template.is_empty() {
        template.push('/');
    }
    template
}

/// Segments whose next segment is a member's key, whatever it looks like (`/users/adele`).
const COLLECTIONS: &[&str] = &[
    "users",
    "chats",
    "messages",
    "onlineMeetings",
    "events",
    "groups",
    "teams",
    "secrets",
    "servicePrincipals",
    "applications",
];

fn is_literal(segment: &str) -> bool {
    let version = segment.strip_prefix('v').is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    });
    // Letters only: a segment with digits, dots, dashes, `@` or escapes could be an id or a
    // UPN. The few such words the handler calls are listed.
    let bare = segment.trim_start_matches(['$', ':']);
    let word = (1..=40).contains(&bare.len()) && bare.bytes().all(|b| b.is_ascii_alphabetic());
    let known = matches!(segment, ".well-known" | "openid-configuration" | "oauth2");
    version || known || word
}

/// The Azure SDK's transport (Key Vault, managed identity) with a client span around each try.
#[derive(Debug)]
pub struct TracedSdkClient {
    inner: std::sync::Arc<dyn azure_core::http::HttpClient>,
    service: &'static str,
}

impl TracedSdkClient {
    pub fn new(
        inner: std::sync::Arc<dyn azure_core::http::HttpClient>,
        service: &'static str,
    ) -> TracedSdkClient {
        TracedSdkClient { inner, service }
    }
}

#[async_trait::async_trait]
impl azure_core::http::HttpClient for TracedSdkClient {
    async fn execute_request(
        &self,
        request: &azure_core::http::Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        use tracing::Instrument as _;
        let span = span(self.service, request.method().as_ref(), request.url());
        let result = self
            .inner
            .execute_request(request)
            .instrument(span.clone())
            .await;
        record_status(&span, result.as_ref().ok().map(|r| u16::from(r.status())));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_keep_words_and_hide_ids() {
        assert_eq!(
            path_template("/v1.0/users/adele%40contoso.com/photo/$value"),
            "/v1.0/users/{id}/photo/$value"
        );
        assert_eq!(
            path_template("/v1.0/chats/19:abc_def@thread.v2/messages"),
            "/v1.0/chats/{id}/messages"
        );
        assert_eq!(
            path_template("/f1e1d000-0000-4000-8000-00000000f1e1/oauth2/v2.0/token"),
            "/{id}/oauth2/v2.0/token"
        );
        assert_eq!(
            path_template("/teamsUser/:exchangeAccessToken"),
            "/teamsUser/:exchangeAccessToken"
        );
        assert_eq!(
            path_template("/secrets/entra-client-secret/"),
            "/secrets/{id}"
        );
        assert_eq!(
            path_template("/v1.0/me/onlineMeetings"),
            "/v1.0/me/onlineMeetings"
        );
        assert_eq!(path_template("/v1.0/users/adele"), "/v1.0/users/{id}");
        assert_eq!(path_template("/v1.0/me"), "/v1.0/me");
        assert_eq!(path_template(""), "/");
    }
}
