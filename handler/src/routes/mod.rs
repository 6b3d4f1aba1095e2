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
use warp::{Filter, Rejection, Reply};

pub use spec::FunctionSpec;

use crate::error::handle_rejection;
use crate::state::AppState;

/// Declares each function's module and lists its `SPEC` in `FUNCTIONS`, from one list of names,
/// so a function is registered by one word here.
macro_rules! functions {
    ($first:ident $(, $function:ident)* $(,)?) => {
        pub mod $first;
        $(pub mod $function;)*

        /// Every function the handler serves, in the order the router tries them and the
        /// OpenAPI document lists them. A test holds every `functions/*/function.json` to this
        /// list.
        pub const FUNCTIONS: &[FunctionSpec] = &[$first::SPEC, $($function::SPEC),*];

        /// Every function's filter, tried in the order listed. Chained by the macro rather than
        /// folded over `FUNCTIONS` at run time: a fold needs one type at every step, so each
        /// step was boxed again, and every request paid one allocation per step (nine) before
        /// its own function was even tried. Each function's filter is still boxed once, so
        /// cloning the chain (per connection and per request) is a reference count per
        /// function, not a copy of its state.
        fn api(
            state: &AppState,
        ) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + use<> {
            let api = ($first::SPEC.filter)(state, FUNCTIONS);
            $(let api = api.or(($function::SPEC.filter)(state, FUNCTIONS)).unify();)*
            api
        }
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
    filters::readiness()
        .or(filters::body_size_limit().and(api(&state)))
        .map(Reply::into_response)
        .recover(handle_rejection)
        .unify()
}
