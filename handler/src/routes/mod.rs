//! One module per Azure Function, each exporting the warp filter that serves it.
//!
//! Paths carry the Functions route prefix (`/api/...`) because the host forwards requests on
//! their original path. Each route names itself for the request log before anything else, and
//! answers a wrong method with 405 and `Allow` rather than falling through to 404.

pub mod health;
pub mod json_body;
pub mod validate_token;

use std::convert::Infallible;

use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::error::{ApiError, handle_rejection};
use crate::startup::AppState;

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
pub const FUNCTIONS: &[FunctionSpec] = &[health::FUNCTION, validate_token::FUNCTION];

/// Every function, composed, with errors already turned into problem answers.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let api = health::route(state.clone()).or(validate_token::route(state));
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

/// Matches the function's path exactly; names it on the log line; answers a method it does not
/// serve with 405 and `Allow`.
pub fn function(spec: FunctionSpec) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    let path = format!("/api/{}", spec.route);
    warp::path::full()
        .and_then(move |full: warp::path::FullPath| {
            let matches = full.as_str() == path;
            async move {
                if matches {
                    Ok(())
                } else {
                    Err(warp::reject::not_found())
                }
            }
        })
        .untuple_one()
        .and(function_name(spec.name))
        .and(warp::method())
        .and_then(move |method: Method| async move {
            if spec.methods.contains(&method) {
                Ok(())
            } else {
                Err(warp::reject::custom(ApiError::MethodNotAllowed {
                    allow: spec.allow,
                }))
            }
        })
        .untuple_one()
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
