//! `GetUserProfile` and `GetUserPhoto`: who the caller is talking to, as Graph knows them in
//! the caller's tenant.
//!
//! `{id}` is `me`, an object id or a user principal name; anything else is refused before Graph
//! is called, so no caller-made text reaches a Graph path unchecked.

use serde::{Deserialize, Serialize};
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::{
    FunctionSpec, encode_segment, graph_call, is_user_principal_name, parse_guid,
    protected_with_param, within_deadline,
};
use crate::auth::Caller;
use crate::correlation::CorrelationId;
use crate::error::ApiError;
use crate::graph::route_error;
use crate::state::AppState;

pub const PROFILE: FunctionSpec = FunctionSpec {
    name: "GetUserProfile",
    route: "users/{id}",
    methods: &[Method::GET],
    allow: "GET",
};

pub const PHOTO: FunctionSpec = FunctionSpec {
    name: "GetUserPhoto",
    route: "users/{id}/photo",
    methods: &[Method::GET],
    allow: "GET",
};

const PROFILE_FIELDS: &str =
    "id,displayName,mail,userPrincipalName,jobTitle,department,officeLocation";

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    id: String,
    display_name: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    office_location: Option<String>,
}

/// GET /api/users/{id}, bearer token → 200 the profile.
pub fn profile_route(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected_with_param(PROFILE, &state).then(
        move |id: String, caller: Caller, correlation: CorrelationId| {
            let state = state.clone();
            async move { profile(state, id, caller, correlation).await }
        },
    )
}

/// GET /api/users/{id}/photo, bearer token → 200 the image bytes with their content type.
pub fn photo_route(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected_with_param(PHOTO, &state).then(
        move |id: String, caller: Caller, correlation: CorrelationId| {
            let state = state.clone();
            async move { photo(state, id, caller, correlation).await }
        },
    )
}

/// The Graph path of a user: `/me`, or `/users/{id}` with the id percent-encoded.
pub fn user_path(id: &str) -> Result<String, ApiError> {
    if id == "me" {
        return Ok("/me".to_owned());
    }
    if parse_guid(id).is_some() || is_user_principal_name(id) {
        return Ok(format!("/users/{}", encode_segment(id)));
    }
    Err(ApiError::BadRequest(
        "The user id must be `me`, an object id (GUID) or a user principal name.".to_owned(),
    ))
}

async fn profile(
    state: AppState,
    id: String,
    caller: Caller,
    correlation: CorrelationId,
) -> Result<warp::reply::Response, ApiError> {
    let path = user_path(&id)?;
    let deadline = tokio::time::Instant::now() + state.config.tuning.request_deadline;
    within_deadline(deadline, "Microsoft Graph", async {
        let token = super::graph_token(&state, &caller, deadline).await?;
        let call = graph_call(&token, &correlation, deadline);
        // The signed-in user's job title, department and office need User.Read; other users'
        // basic profiles User.ReadBasic.All.
        let permission = if path == "/me" {
            "User.Read"
        } else {
            "User.ReadBasic.All"
        };
        let profile: Profile = state
            .graph
            .get_json(&call, &path, &[("$select", PROFILE_FIELDS)], &[])
            .await
            .map_err(|e| route_error(e, &token, &[permission], "The user was not found."))?;
        let mut response = warp::reply::json(&profile).into_response();
        per_user_cache(&mut response, "private, max-age=300");
        Ok(response)
    })
    .await
}

async fn photo(
    state: AppState,
    id: String,
    caller: Caller,
    correlation: CorrelationId,
) -> Result<warp::reply::Response, ApiError> {
    let path = format!("{}/photo/$value", user_path(&id)?);
    let deadline = tokio::time::Instant::now() + state.config.tuning.request_deadline;
    within_deadline(deadline, "Microsoft Graph", async {
        let token = super::graph_token(&state, &caller, deadline).await?;
        let call = graph_call(&token, &correlation, deadline);
        let photo = state.graph.get_photo(&call, &path).await.map_err(|e| {
            route_error(
                e,
                &token,
                &["User.ReadBasic.All"],
                "The user has no photo, or was not found.",
            )
        })?;
        let Some(content_type) = servable_image_type(&photo.content_type) else {
            tracing::warn!(
                content_type = %photo.content_type.chars().take(64).collect::<String>(),
                "Graph returned a photo in a type that is not served"
            );
            return Err(ApiError::NotFound(
                "The user has no photo in a format this API serves (JPEG, PNG, GIF or WebP)."
                    .to_owned(),
            ));
        };
        let mut response = warp::reply::Response::new(photo.bytes.into());
        response.headers_mut().insert(
            warp::http::header::CONTENT_TYPE,
            warp::http::HeaderValue::from_static(content_type),
        );
        per_user_cache(&mut response, "private, max-age=3600");
        Ok(response)
    })
    .await
}

/// Lets the browser keep a per-user answer, but only for the same `Authorization`: a shared
/// browser must not show one user's answer to the next (RFC 9111 §4.1).
fn per_user_cache(response: &mut warp::reply::Response, cache_control: &'static str) {
    let headers = response.headers_mut();
    headers.insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static(cache_control),
    );
    headers.insert(
        warp::http::header::VARY,
        warp::http::HeaderValue::from_static("Authorization"),
    );
}

/// The raster types a browser shows inertly. Anything else from upstream (SVG can carry script,
/// HTML is not an image) is not passed on under our origin.
fn servable_image_type(content_type: &str) -> Option<&'static str> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ["image/jpeg", "image/png", "image/gif", "image/webp"]
        .into_iter()
        .find(|allowed| *allowed == essence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_only_raster_image_types() {
        assert_eq!(servable_image_type("image/jpeg"), Some("image/jpeg"));
        assert_eq!(servable_image_type("Image/PNG; q=1"), Some("image/png"));
        for refused in [
            "image/svg+xml",
            "text/html",
            "image/jpeg2",
            "",
            "application/octet-stream",
        ] {
            assert_eq!(servable_image_type(refused), None, "{refused}");
        }
    }

    #[test]
    fn maps_ids_to_graph_paths_and_refuses_anything_else() {
        assert_eq!(user_path("me").unwrap(), "/me");
        assert_eq!(
            user_path("0b1d0000-0000-4000-8000-000000000002").unwrap(),
            "/users/0b1d0000-0000-4000-8000-000000000002"
        );
        assert_eq!(
            user_path("robin_experts.example#EXT#@fieldworks.example").unwrap(),
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
            assert!(user_path(bad).is_err(), "{bad}");
        }
    }
}
