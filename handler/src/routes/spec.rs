//! What an Azure Function declares about itself, once: the `route` and `methods` of its
//! `functions/<name>/function.json`, the problems it can answer, how its filter is built and how
//! it is described in OpenAPI. The router, the OpenAPI document and the test that holds every
//! `function.json` to the code all read these, so none of them keeps its own list.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::error::ProblemCode;
use crate::state::AppState;

/// One function's declaration; each route module declares its own `SPEC` with `function_spec!`.
#[derive(Debug, Clone, Copy)]
pub struct FunctionSpec {
    /// The name of its folder under `functions/`.
    pub name: &'static str,
    /// Without the `api/` prefix, as in `function.json`.
    pub route: &'static str,
    pub methods: &'static [Method],
    /// The `Allow` header value for a wrong method.
    pub allow: &'static str,
    /// The problems it can answer, in groups (the filters it is built from, then its own), for
    /// the OpenAPI description; `problems::ANY_PROBLEMS` come on top.
    pub problems: &'static [&'static [ProblemCode]],
    /// Its filter over the state; `functions` is everything served, for the one function that
    /// describes them all.
    pub filter:
        fn(state: &AppState, functions: &'static [FunctionSpec]) -> BoxedFilter<(Response,)>,
    /// Its OpenAPI operation and the schemas the operation uses (the `#[utoipa::path]` on its
    /// filter, gathered by a `#[derive(OpenApi)]` of that one path).
    pub describe: fn() -> utoipa::openapi::OpenApi,
}

/// A route's filter as `FunctionSpec::filter` returns it: its answer a response, its type erased
/// so that every function fits one list.
pub fn boxed<F, R>(filter: F) -> BoxedFilter<(Response,)>
where
    F: Filter<Extract = (R,), Error = Rejection> + Clone + Send + Sync + 'static,
    R: Reply + 'static,
{
    filter.map(Reply::into_response).boxed()
}

/// Declares the route module's `SPEC` from the fields of its `function.json` and its problems;
/// the filter is the module's `route(state)` (or the `filter` given), and the OpenAPI operation
/// is the `#[utoipa::path]` on that `route`, gathered by a one-path `#[derive(OpenApi)]`.
macro_rules! function_spec {
    (
        name: $name:expr,
        route: $route:expr,
        methods: $methods:expr,
        allow: $allow:expr,
        problems: $problems:expr
        $(, filter: $filter:expr)? $(,)?
    ) => {
        pub const SPEC: $crate::routes::spec::FunctionSpec = $crate::routes::spec::FunctionSpec {
            name: $name,
            route: $route,
            methods: $methods,
            allow: $allow,
            problems: $problems,
            filter: $crate::routes::spec::function_spec!(@filter $($filter)?),
            describe: <Described as utoipa::OpenApi>::openapi,
        };

        /// The operation of `route`, for the OpenAPI document.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths(route))]
        struct Described;
    };
    (@filter) => {
        |state, _| $crate::routes::spec::boxed(route(state.clone()))
    };
    (@filter $filter:expr) => {
        $filter
    };
}

pub(crate) use function_spec;
