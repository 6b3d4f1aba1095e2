//! `AcsToken`: an Azure Communication Services token acting as the signed-in Teams user.

use serde::Serialize;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::{FunctionSpec, function, within_deadline};
use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;

pub const FUNCTION: FunctionSpec = FunctionSpec {
    name: "AcsToken",
    route: "acs/token",
    methods: &[Method::POST],
    allow: "POST",
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssuedToken<'a> {
    token: &'a str,
    expires_on: &'a str,
    teams_user_id: String,
}

/// POST /api/acs/token, bearer token, no body → 200 `{token, expiresOn, teamsUserId}`.
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    function(FUNCTION)
        .and(auth::caller(
            state.validator.clone(),
            state.config.tuning.retry_after,
        ))
        .then(move |caller: Caller| {
            let state = state.clone();
            async move { Box::pin(exchange(state, caller)).await }
        })
}

async fn exchange(state: AppState, caller: Caller) -> Result<warp::reply::Response, ApiError> {
    let deadline = tokio::time::Instant::now() + state.config.tuning.request_deadline;
    within_deadline(deadline, crate::acs::SERVICE, async {
        let issued = Box::pin(state.acs.token_for(&caller, deadline))
            .await
            .map_err(share_error)?;
        let body = IssuedToken {
            token: secrecy::ExposeSecret::expose_secret(&issued.token),
            expires_on: &issued.expires_on,
            teams_user_id: caller.identity.object_id.to_string(),
        };
        Ok(
            warp::reply::with_header(warp::reply::json(&body), "cache-control", "no-store")
                .into_response(),
        )
    })
    .await
}

/// Requests that waited on another's exchange share its error; answer each with a copy.
fn share_error(error: std::sync::Arc<ApiError>) -> ApiError {
    match std::sync::Arc::try_unwrap(error) {
        Ok(error) => error,
        Err(shared) => shared.duplicate(),
    }
}
