//! `AcsToken`: an Azure Communication Services token acting as the signed-in Teams user.

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::context::{RequestContext, UPSTREAM_PROBLEMS, within_deadline};
use super::filters::{CALLER_PROBLEMS, protected};
use super::spec::function_spec;
use crate::domain::Guid;
use crate::error::{ApiError, ProblemCode};
use crate::state::AppState;

function_spec! {
    name: "AcsToken",
    route: "acs/token",
    methods: &[Method::POST],
    allow: "POST",
    problems: &[
        CALLER_PROBLEMS,
        UPSTREAM_PROBLEMS,
        &[ProblemCode::ServicePrincipalMissing],
    ],
}

/// An ACS access token of the signed-in Teams user.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct IssuedToken<'a> {
    /// For `AzureCommunicationTokenCredential` of the ACS Calling and Chat SDKs.
    token: &'a str,
    /// When the token expires (it matches the user's Entra ID token); ask again when it is near.
    #[schema(format = DateTime)]
    expires_on: &'a str,
    /// The caller's object id: the Teams user's id in ACS (`microsoftTeamsUserId`).
    teams_user_id: Guid,
}

/// POST /api/acs/token, bearer token, no body → 200 `{token, expiresOn, teamsUserId}`.
#[utoipa::path(
    post,
    path = "/api/acs/token",
    operation_id = "AcsToken",
    tag = "calling",
    summary = "An ACS token of the signed-in Teams user",
    description = "An Azure Communication Services access token of the signed-in Teams user, for the \
        ACS Calling and Chat SDKs: calls and chats made with it are the user's own. No body. The \
        handler returns the same token until five minutes before it expires. 403 \
        `consent_required` names the two ACS scopes; 503 when the ACS resource is not configured \
        or its connection string cannot be read.",
    responses(
        (status = 200, description = "The ACS token.", body = IssuedToken,
            headers(("Cache-Control" = String, description = "`no-store`"))),
    ),
    security(("entraId" = ["access_as_user"])),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(SPEC, &state).then(|context: RequestContext| Box::pin(exchange(context)))
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
            teams_user_id: context.caller.identity.object_id.into(),
        };
        Ok(
            warp::reply::with_header(warp::reply::json(&body), "cache-control", "no-store")
                .into_response(),
        )
    })
    .await
}
