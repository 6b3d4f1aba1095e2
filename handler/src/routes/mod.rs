//! One module per Azure Function, named after it, each exporting the warp filter that serves
//! it, and the router that composes them.
//!
//! | function (`functions/<name>/function.json`) | module |
//! |---|---|
//! | `Health` | `health` |
//! | `TokenValidate` | `token_validate` |
//! | `CreateMeeting` | `create_meeting` |
//! | `NotifyChat` | `notify_chat` |
//! | `SearchContacts` | `search_contacts` |
//! | `GetUserProfile` | `get_user_profile` |
//! | `GetUserPhoto` | `get_user_photo` |
//! | `AcsToken` | `acs_token` |
//! | `OpenApi` | `open_api` |
//!
//! Paths carry the Functions route prefix (`/api/...`) because the host forwards requests on
//! their original path. Each route names itself for the request log before anything else, and
//! answers a wrong method with 405 and `Allow` rather than falling through to 404.

pub mod acs_token;
pub mod context;
pub mod create_meeting;
pub mod filters;
pub mod get_user_photo;
pub mod get_user_profile;
pub mod health;
pub mod json_body;
pub mod notify_chat;
pub mod open_api;
pub mod search_contacts;
pub mod token_validate;

use std::convert::Infallible;

use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Reply};

pub use filters::MAX_BODY_BYTES;

use crate::error::{ProblemCode, handle_rejection};
use crate::state::AppState;

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
    /// The problems it can answer, in groups (the filters it is built from, then its own), for
    /// the OpenAPI description; `ANY_PROBLEMS` come on top.
    pub problems: &'static [&'static [ProblemCode]],
}

/// What any function can answer: a declared body over the limit (`filters::body_size_limit`
/// runs before every function), and a bug.
pub const ANY_PROBLEMS: &[ProblemCode] = &[ProblemCode::PayloadTooLarge, ProblemCode::Internal];

/// What a Graph-backed GET can answer: the caller's problems, a parameter refused before Graph
/// is asked, and Graph's or on-behalf-of's problems.
pub const GRAPH_READ_PROBLEMS: &[&[ProblemCode]] = &[
    filters::CALLER_PROBLEMS,
    &[ProblemCode::BadRequest],
    context::UPSTREAM_PROBLEMS,
];

/// Every function the handler serves.
pub const FUNCTIONS: &[FunctionSpec] = &[
    health::FUNCTION,
    token_validate::FUNCTION,
    create_meeting::FUNCTION,
    notify_chat::FUNCTION,
    search_contacts::FUNCTION,
    get_user_profile::FUNCTION,
    get_user_photo::FUNCTION,
    acs_token::FUNCTION,
    open_api::FUNCTION,
];

/// Every function, composed, with errors already turned into problem answers.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let api = health::route(state.clone())
        .or(token_validate::route(state.clone()))
        .or(create_meeting::route(state.clone()))
        .or(notify_chat::route(state.clone()))
        .or(search_contacts::route(state.clone()))
        .or(get_user_profile::route(state.clone()))
        .or(get_user_photo::route(state.clone()))
        .or(acs_token::route(state))
        .or(open_api::route())
        // Boxed so that cloning the route tree, which the server does per connection and warp
        // per request, is one reference count instead of a copy of every route's state.
        .map(Reply::into_response)
        .boxed();
    filters::readiness()
        .or(filters::body_size_limit().and(api))
        .map(Reply::into_response)
        .recover(handle_rejection)
        .unify()
}
