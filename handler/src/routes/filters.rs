//! The warp filters every route is built from: the function's path and method, the validated
//! caller, the request's correlation id, the body limit, and the state handed to a handler.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use warp::http::{HeaderValue, Method};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::context::RequestContext;
use super::spec::FunctionSpec;
use crate::auth::{
    AmbiguousCredentials, AuthError, CONSENT_RETRY_HEADER, Caller, Identity, SsoToken,
    TokenValidator, Validated,
};
use crate::correlation::CorrelationId;
use crate::error::{ApiError, ProblemCode};
use crate::otel;
use crate::request_record;
use crate::state::AppState;

/// Largest request body accepted, as the contract promises.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

/// What `caller` answers for a request it refuses.
pub const CALLER_PROBLEMS: &[ProblemCode] = &[
    ProblemCode::InvalidToken,
    ProblemCode::TenantNotAllowed,
    ProblemCode::InsufficientScope,
    ProblemCode::Unavailable,
];

/// The state, for a handler: warp's `with_db` of its todos example.
pub fn with_state(
    state: AppState,
) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// The Functions host polls `/` until the handler answers anything; answer at once.
pub fn readiness() -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path::end()
        .and(function_name("Readiness"))
        .map(|| warp::reply().into_response())
}

/// Names the function on the request's log line.
fn function_name(name: &'static str) -> impl Filter<Extract = (), Error = Infallible> + Clone {
    warp::any()
        .map(move || {
            request_record::name_function(name);
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

/// A function that acts for the caller: its path and method, then the request's context.
pub fn protected(
    spec: FunctionSpec,
    state: &AppState,
) -> impl Filter<Extract = (RequestContext,), Error = Rejection> + Clone + use<> {
    function(spec).and(context(state))
}

/// `protected` for a route with one `{placeholder}`, whose value comes first.
pub fn protected_with_param(
    spec: FunctionSpec,
    state: &AppState,
) -> impl Filter<Extract = (String, RequestContext), Error = Rejection> + Clone + use<> {
    function_with_param(spec).and(context(state))
}

fn context(
    state: &AppState,
) -> impl Filter<Extract = (RequestContext,), Error = Rejection> + Clone + use<> {
    caller(state.validator.clone(), state.config.tuning.retry_after)
        .and(correlation_id())
        .and(with_state(state.clone()))
        .map(
            |caller: Caller, correlation: CorrelationId, state: AppState| {
                RequestContext::new(state, caller, correlation)
            },
        )
}

/// The filter every protected route starts with: yields the validated caller or rejects with a
/// problem answer (401, 403 or 503). Records the tenant on the request's log line.
pub fn caller(
    validator: Arc<TokenValidator>,
    retry_after: Duration,
) -> impl Filter<Extract = (Caller,), Error = warp::Rejection> + Clone {
    let just_consented = warp::header::optional::<String>(CONSENT_RETRY_HEADER)
        .map(|value: Option<String>| value.is_some_and(|v| v.trim() == "1"));
    presented_token().and(just_consented).and_then(
        move |presented: PresentedToken, just_consented: bool| {
            let validator = validator.clone();
            async move {
                let (token, validated) = authenticate(&validator, presented, retry_after).await?;
                Ok::<_, warp::Rejection>(Caller {
                    identity: validated.identity,
                    token,
                    token_digest: validated.token_digest,
                    just_consented,
                })
            }
        },
    )
}

/// `caller` for a function that only says who the caller is and acts for no one: the validated
/// identity, without the token kept for exchanges or the request's context.
pub fn identity(
    validator: Arc<TokenValidator>,
    retry_after: Duration,
) -> impl Filter<Extract = (Arc<Identity>,), Error = warp::Rejection> + Clone {
    presented_token().and_then(move |presented: PresentedToken| {
        let validator = validator.clone();
        async move {
            let (_, validated) = authenticate(&validator, presented, retry_after).await?;
            Ok::<_, warp::Rejection>(validated.identity)
        }
    })
}

/// The request's `Authorization` header, and whether the server saw more than one.
struct PresentedToken {
    authorization: Option<HeaderValue>,
    ambiguous: bool,
}

fn presented_token() -> impl Filter<Extract = (PresentedToken,), Error = Infallible> + Clone {
    let authorization = warp::header::value(warp::http::header::AUTHORIZATION.as_str())
        .map(Some)
        .or(warp::any().map(|| None))
        .unify();
    authorization
        .and(warp::ext::optional::<AmbiguousCredentials>())
        .map(
            |authorization: Option<HeaderValue>, ambiguous: Option<AmbiguousCredentials>| {
                PresentedToken {
                    authorization,
                    ambiguous: ambiguous.is_some(),
                }
            },
        )
}

async fn authenticate(
    validator: &TokenValidator,
    presented: PresentedToken,
    retry_after: Duration,
) -> Result<(SsoToken, Validated), warp::Rejection> {
    if presented.ambiguous {
        otel::metrics::token_refused("ambiguous");
        return Err(warp::reject::custom(ApiError::InvalidToken(
            "more than one Authorization header".to_owned(),
        )));
    }
    let refuse = |e: AuthError| {
        otel::metrics::token_refused(otel::metrics::refusal_reason(&e));
        warp::reject::custom(ApiError::from_auth(e, retry_after))
    };
    let token = presented
        .authorization
        .ok_or(AuthError::Missing)
        .and_then(SsoToken::from_authorization)
        .map_err(refuse)?;
    let validated = validator.validate(token.expose()).await.map_err(refuse)?;
    request_record::set_tenant(validated.identity.tenant_id);
    Ok((token, validated))
}

/// The request's correlation id, set by the server for every request.
pub fn correlation_id() -> impl Filter<Extract = (CorrelationId,), Error = Infallible> + Clone {
    warp::any().map(|| {
        request_record::with_current(|record| record.correlation_id().clone())
            .unwrap_or_else(CorrelationId::generate)
    })
}

/// Refuses a declared body over the limit before any work is done on it.
pub fn body_size_limit() -> impl Filter<Extract = (), Error = Rejection> + Clone {
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
