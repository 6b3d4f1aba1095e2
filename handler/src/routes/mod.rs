//! One module per Azure Function, each exporting the warp filter that serves it.
//!
//! Paths carry the Functions route prefix (`/api/...`) because the host forwards requests on
//! their original path. Each route names itself for the request log before anything else, and
//! answers a wrong method with 405 and `Allow` rather than falling through to 404.

pub mod create_meeting;
pub mod exchange_acs_token;
pub mod health;
pub mod json_body;
pub mod search_contacts;
pub mod send_notification;
pub mod user_profile;
pub mod validate_token;

use std::convert::Infallible;

use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::auth::Caller;
use crate::correlation::CorrelationId;
use crate::error::{ApiError, handle_rejection};
use crate::graph::{GRAPH_SCOPES, GraphCall};
use crate::obo::DelegatedToken;
use crate::state::AppState;

/// Largest request body accepted, as API.md promises.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

/// One Azure Function: the name of its folder under `functions/`, the `route` and `methods` of
/// its `function.json`. The router matches exactly these, and a test holds every
/// `function.json` to this list, so the Functions configuration and the code cannot drift.
#[derive(Debug, Clone, Copy)]
pub struct FunctionSpec {
    pub name: &'static str,
    /// Without the `api/` prefix, as in `function.json`.
    pub route: &'static str,
    pub methods: &'static [Method],
    /// The `Allow` header value for a wrong method.
    pub allow: &'static str,
}

/// Every function the handler serves.
pub const FUNCTIONS: &[FunctionSpec] = &[
    health::FUNCTION,
    validate_token::FUNCTION,
    create_meeting::FUNCTION,
    send_notification::FUNCTION,
    search_contacts::FUNCTION,
    user_profile::PROFILE,
    user_profile::PHOTO,
    exchange_acs_token::FUNCTION,
];

/// Every function, composed, with errors already turned into problem answers.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let api = health::route(state.clone())
        .or(validate_token::route(state.clone()))
        .or(create_meeting::route(state.clone()))
        .or(send_notification::route(state.clone()))
        .or(search_contacts::route(state.clone()))
        .or(user_profile::profile_route(state.clone()))
        .or(user_profile::photo_route(state.clone()))
        .or(exchange_acs_token::route(state))
        // Boxed so that cloning the route tree, which the server does per connection and warp
        // per request, is one reference count instead of a copy of every route's state.
        .map(Reply::into_response)
        .boxed();
    readiness()
        .or(body_size_limit().and(api))
        .map(Reply::into_response)
        .recover(handle_rejection)
        .unify()
}

/// The Functions host polls `/` until the handler answers anything; answer at once.
fn readiness() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path::end()
        .and(function_name("Readiness"))
        .map(|| warp::reply().into_response())
}

/// Names the function on the request's log line.
fn function_name(name: &'static str) -> impl Filter<Extract = (), Error = Infallible> + Clone {
    warp::any()
        .map(move || {
            tracing::Span::current().record("route", name);
        })
        .untuple_one()
}

/// Matches the function's literal path; names it on the log line; answers a method it does not
/// serve with 405 and `Allow`.
pub fn function(spec: FunctionSpec) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    function_with_params(spec)
        .map(|_params: Vec<String>| ())
        .untuple_one()
}

/// Like `function`, for a route with one `{placeholder}` segment, whose percent-decoded value
/// is extracted.
pub fn function_with_param(
    spec: FunctionSpec,
) -> impl Filter<Extract = (String,), Error = Rejection> + Clone {
    function_with_params(spec).and_then(|mut params: Vec<String>| async move {
        params.pop().ok_or_else(warp::reject::not_found)
    })
}

fn function_with_params(
    spec: FunctionSpec,
) -> impl Filter<Extract = (Vec<String>,), Error = Rejection> + Clone {
    warp::path::full()
        .and_then(move |full: warp::path::FullPath| {
            let params = match_route(spec.route, full.as_str());
            async move { params.ok_or_else(warp::reject::not_found) }
        })
        .and(function_name(spec.name))
        .and(warp::method())
        .and_then(move |params: Vec<String>, method: Method| async move {
            if spec.methods.contains(&method) {
                Ok(params)
            } else {
                Err(warp::reject::custom(ApiError::MethodNotAllowed {
                    allow: spec.allow,
                }))
            }
        })
}

/// Matches `/api/<route>` segment by segment; `{name}` segments match any non-empty segment and
/// are returned percent-decoded, in order.
fn match_route(route: &str, path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("/api/")?;
    let mut template = route.split('/');
    let mut actual = rest.split('/');
    let mut params = Vec::new();
    loop {
        match (template.next(), actual.next()) {
            (None, None) => return Some(params),
            (Some(expected), Some(segment)) if expected.starts_with('{') => {
                let decoded = percent_encoding::percent_decode_str(segment)
                    .decode_utf8()
                    .ok()?
                    .into_owned();
                if decoded.is_empty() {
                    return None;
                }
                params.push(decoded);
            }
            (Some(expected), Some(segment)) if expected == segment => {}
            _ => return None,
        }
    }
}

/// A function that acts for the caller: its path and method, then the validated caller and the
/// request's correlation id.
pub fn protected(
    spec: FunctionSpec,
    state: &AppState,
) -> impl Filter<Extract = (Caller, CorrelationId), Error = Rejection> + Clone + use<> {
    function(spec)
        .and(crate::auth::caller(
            state.validator.clone(),
            state.config.tuning.retry_after,
        ))
        .and(correlation_id())
}

/// `protected` for a route with one `{placeholder}`, whose value comes first.
pub fn protected_with_param(
    spec: FunctionSpec,
    state: &AppState,
) -> impl Filter<Extract = (String, Caller, CorrelationId), Error = Rejection> + Clone + use<> {
    function_with_param(spec)
        .and(crate::auth::caller(
            state.validator.clone(),
            state.config.tuning.retry_after,
        ))
        .and(correlation_id())
}

/// The request's correlation id, set by the server for every request.
pub fn correlation_id() -> impl Filter<Extract = (CorrelationId,), Error = Infallible> + Clone {
    warp::ext::optional::<CorrelationId>()
        .map(|id: Option<CorrelationId>| id.unwrap_or_else(CorrelationId::generate))
}

/// A Graph token acting as the caller, from the on-behalf-of cache or a new exchange.
pub async fn graph_token(
    state: &AppState,
    caller: &Caller,
    deadline: tokio::time::Instant,
) -> Result<std::sync::Arc<DelegatedToken>, ApiError> {
    state
        .obo
        .token(caller, &GRAPH_SCOPES, deadline)
        .await
        .map_err(|e| e.into_api_error(state.config.tuning.retry_after))
}

pub fn graph_call<'a>(
    token: &'a DelegatedToken,
    correlation_id: &'a CorrelationId,
    deadline: tokio::time::Instant,
) -> GraphCall<'a> {
    GraphCall {
        token,
        correlation_id,
        deadline,
    }
}

/// Everything but RFC 3986's unreserved characters is escaped in a Graph path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` as one path segment of a Graph URL.
pub fn encode_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// Entra object and tenant ids: the hyphenated GUID form only.
pub fn parse_guid(text: &str) -> Option<uuid::Uuid> {
    if text.len() != 36 {
        return None;
    }
    uuid::Uuid::try_parse(text).ok()
}

/// A plausible user principal name: `name@domain`, in the characters Entra allows (guest UPNs
/// contain `#EXT#`), at most 113 characters before the `@` plus the domain.
pub fn is_user_principal_name(text: &str) -> bool {
    let Some((name, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let name_ok = (1..=113).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~+&".contains(c));
    let domain_ok = (3..=255).contains(&domain.len())
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    name_ok && domain_ok
}

/// Runs a route's work under the request deadline; past it, the caller gets 504.
pub async fn within_deadline<T>(
    deadline: tokio::time::Instant,
    service: &'static str,
    work: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or(Err(ApiError::UpstreamTimeout { service }))
}

/// Refuses a declared body over the limit before any work is done on it.
fn body_size_limit() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("content-length")
        .and_then(|length: Option<String>| async move {
            match length.map(|l| l.trim().parse::<u64>()) {
                None => Ok(()),
                Some(Ok(length)) if length <= MAX_BODY_BYTES => Ok(()),
                Some(Ok(_)) => Err(warp::reject::custom(ApiError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                })),
                Some(Err(_)) => Err(warp::reject::custom(ApiError::BadRequest(
                    "The Content-Length header is not a number.".to_owned(),
                ))),
            }
        })
        .untuple_one()
}

#[cfg(test)]
mod tests {
    use super::match_route;

    #[test]
    fn routes_match_exactly_and_decode_placeholders() {
        assert_eq!(match_route("health", "/api/health"), Some(vec![]));
        assert_eq!(match_route("health", "/api/health/"), None);
        assert_eq!(match_route("health", "/health"), None);
        assert_eq!(
            match_route("users/{id}/photo", "/api/users/ann%40contoso.example/photo"),
            Some(vec!["ann@contoso.example".to_owned()])
        );
        assert_eq!(match_route("users/{id}", "/api/users/"), None);
        assert_eq!(match_route("users/{id}", "/api/users/a/b"), None);
        assert_eq!(match_route("users/{id}", "/api/users/%FF"), None);
    }
}
