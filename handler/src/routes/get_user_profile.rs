//! `GetUserProfile`: who the caller is talking to, as Graph knows them in the caller's tenant.
//!
//! `{id}` is `me`, an object id or a user principal name; anything else is refused before Graph
//! is called, so no caller-made text reaches a Graph path unchecked.

use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::context::{RequestContext, within_deadline};
use super::filters::protected_with_param;
use super::problems::GRAPH_READ_PROBLEMS;
use super::spec::function_spec;
use super::users::{parse_user, per_user_cache};
use crate::domain::UserRef;
use crate::error::ApiError;
use crate::graph;
use crate::graph::users::Profile;
use crate::state::AppState;

function_spec! {
    name: "GetUserProfile",
    route: "users/{id}",
    methods: &[Method::GET],
    allow: "GET",
    problems: GRAPH_READ_PROBLEMS,
}

/// How long a browser may keep a profile (for the same `Authorization` only).
pub(crate) const PROFILE_CACHE_CONTROL: &str = "private, max-age=300";

/// GET /api/users/{id}, bearer token → 200 the profile.
#[utoipa::path(
    get,
    path = "/api/users/{id}",
    operation_id = "GetUserProfile",
    tag = "people",
    summary = "A user's profile",
    description = "The profile of a user of the caller's directory, as Graph knows them. Anything \
        but `me`, an object id or a user principal name as `{id}` is 400; a user Graph does not \
        know is 404.",
    params(("id" = UserRef, Path, description = "`me`, an object id, or a user principal name \
        (percent-encode the `@` or not, both work).")),
    responses(
        (status = 200, description = "The user's profile.", body = Profile, headers(
            ("Cache-Control" = String, description = "`private, max-age=300`"),
            ("Vary" = String, description = "`Authorization`: a browser shared by two people never \
                shows one person's answer to the other."),
        )),
    ),
    security(("entraId" = ["access_as_user"])),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected_with_param(SPEC, &state).then(profile)
}

/// The Graph path the route would call for `{id}`, after the same parsing. Public for fuzzing
/// and the property tests.
pub fn user_path(id: &str) -> Result<String, ApiError> {
    parse_user(id).map(|user| graph::users::user_path(&user))
}

async fn profile(id: String, context: RequestContext) -> Result<warp::reply::Response, ApiError> {
    let user = parse_user(&id)?;
    within_deadline(context.deadline, graph::SERVICE, async {
        let caller_graph = context.caller_graph().await?;
        let profile = caller_graph.get_user(&user).await?;
        let mut response = warp::reply::json(&profile).into_response();
        per_user_cache(&mut response, PROFILE_CACHE_CONTROL);
        Ok(response)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_ids_to_graph_paths_and_refuses_anything_else() {
        let path = user_path;
        assert_eq!(path("me").unwrap(), "/me");
        assert_eq!(
            path("0b1d0000-0000-4000-8000-000000000002").unwrap(),
            "/users/0b1d0000-0000-4000-8000-000000000002"
        );
        assert_eq!(
            path("robin_experts.example#EXT#@fieldworks.example").unwrap(),
            "/users/robin_experts.example%23EXT%23%40fieldworks.example"
        );
        for bad in [
            "",
            "..",
            "me/manager",
            "a b@c.example",
            "x?$select=*",
            "robin",
            "@contoso.example",
        ] {
            assert!(path(bad).is_err(), "{bad}");
        }
    }
}
