//! `AcsToken`: an Azure Communication Services token acting as the signed-in Teams user.

use serde::Serialize;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::FunctionSpec;
use super::context::{RequestContext, within_deadline};
use super::filters::protected;
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
    protected(FUNCTION, &state).then(|context: RequestContext| Box::pin(exchange(context)))
}

async fn exchange(context: RequestContext) -> Result<warp::reply::Response, ApiError> {
    within_deadline(context.deadline, crate::acs::SERVICE, async {
        let issued = Box::pin(
            context
                .state
                .acs
                .token_for(&context.caller, context.deadline),
        )
        .await
        .map_err(|e| ApiError::from_acs(&e, context.retry_after()))?;
        let body = IssuedToken {
            token: secrecy::ExposeSecret::expose_secret(&issued.token),
            expires_on: &issued.expires_on,
            teams_user_id: context.caller.identity.object_id.to_string(),
        };
        Ok(
            warp::reply::with_header(warp::reply::json(&body), "cache-control", "no-store")
                .into_response(),
        )
    })
    .await
}
