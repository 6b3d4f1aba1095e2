//! One module per Azure Function, named after it in snake case (`CreateMeeting` is
//! `create_meeting`), each declaring its `SPEC` with `function_spec!`; `FUNCTIONS` lists them,
//! and the router and the OpenAPI document are both built from that list. The modules the
//! functions share are leaves that import nothing from here: `spec` (what a function declares),
//! `filters` (path, method, caller, body limit), `context` (what a protected handler works
//! with), `caller_graph` (Graph as the caller), `json_body`, `problems` (shared problem groups),
//! `users` (the user functions' `{id}`).
//!
//! Adding a function is two places: its module here (filter `route`, handler, `#[utoipa::path]`,
//! `function_spec!`, and its name in `functions!` below) and its
//! `functions/<Name>/function.json`. The tests fail while the two disagree (tests/api/
//! function_json.rs: a `function.json` without a `SPEC`, a `SPEC` without a `function.json`, a
//! different route or method), and while `docs/openapi.json` is not what the code generates.
//!
//! Paths carry the Functions route prefix (`/api/...`) because the host forwards requests on
//! their original path. Each route names itself for the request log before anything else, and
//! answers a wrong method with 405 and `Allow` rather than falling through to 404.

pub mod caller_graph;
pub mod context;
pub mod filters;
pub mod json_body;
pub mod problems;
pub mod spec;
pub mod users;

use std::convert::Infallible;

use warp::reply::Response;
use warp::{Filter, Reply};

pub use spec::FunctionSpec;

use crate::error::handle_rejection;
use crate::state::AppState;

/// Declares each function's module and lists its `SPEC` in `FUNCTIONS`, from one list of names,
/// so a function is registered by one word here.
macro_rules! functions {
    ($($function:ident),* $(,)?) => {
        $(pub mod $function;)*

        /// Every function the handler serves, in the order the router tries them and the
        /// OpenAPI document lists them. A test holds every `functions/*/function.json` to this
        /// list.
        pub const FUNCTIONS: &[FunctionSpec] = &[$($function::SPEC),*];
    };
}

functions!(
    health,
    token_validate,
    create_meeting,
    notify_chat,
    search_contacts,
    get_user_profile,
    get_user_photo,
    acs_token,
    open_api,
);

/// Every function, composed, with errors already turned into problem answers.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    // Boxed so that cloning the route tree, which the server does per connection and warp per
    // request, is one reference count instead of a copy of every route's state.
    let api = FUNCTIONS
        .iter()
        .map(|function| (function.filter)(&state, FUNCTIONS))
        .fold(no_function().boxed(), |api, function| {
            api.or(function).unify().boxed()
        });
    filters::readiness()
        .or(filters::body_size_limit().and(api))
        .map(Reply::into_response)
        .recover(handle_rejection)
        .unify()
}

/// Where the list of functions starts: no path is its own, so every request goes on to them.
fn no_function() -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::any().and_then(|| async { Err::<Response, _>(warp::reject::not_found()) })
}
