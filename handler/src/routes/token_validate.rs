//! `TokenValidate`: lets a tab check its SSO token and learn who the backend thinks it is.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use utoipa::ToSchema;
use uuid::Uuid;

use std::sync::Arc;

use super::filters::{CALLER_PROBLEMS, function, identity};
use super::spec::function_spec;
use crate::auth::{Identity, TokenVersion};
use crate::domain::Guid;
use crate::state::AppState;

function_spec! {
    name: "TokenValidate",
    route: "token/validate",
    methods: &[Method::POST],
    allow: "POST",
    problems: &[CALLER_PROBLEMS],
}

/// Who the backend thinks the caller is. Identify a user by `(tenantId, objectId)`: the same
/// person has a different `objectId` in each tenant.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ValidatedToken<'a> {
    /// The user's tenant (`tid`).
    #[schema(value_type = Guid)]
    tenant_id: &'a Uuid,
    /// The user's object id in that tenant (`oid`).
    #[schema(value_type = Guid)]
    object_id: &'a Uuid,
    /// `preferred_username` (v2.0) or `upn` / `unique_name` (v1.0); for display only.
    user_principal_name: Option<&'a str>,
    /// The user's display name; for display only.
    name: Option<&'a str>,
    /// The token's `aud`: the app's client id or application ID URI.
    audience: &'a str,
    /// The token's delegated scopes (`scp`), `access_as_user` among them.
    scopes: Vec<&'a str>,
    token_version: TokenVersion,
    /// The token's `exp`, RFC 3339 UTC.
    #[schema(format = DateTime)]
    expires_at: String,
}

/// POST /api/token/validate, bearer token, no body → 200 with the caller's identity.
#[utoipa::path(
    post,
    path = "/api/token/validate",
    operation_id = "TokenValidate",
    tag = "identity",
    summary = "Validate the SSO token",
    description = "Validates the bearer token and returns who the backend thinks the caller is. \
        No body. A tab can call it once after sign-in to check its setup.",
    responses(
        (status = 200, description = "The token is valid for this app.", body = ValidatedToken,
            headers(("Cache-Control" = String, description = "`no-store`"))),
    ),
    security(("entraId" = ["access_as_user"])),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    // Nothing here acts for the caller: no request context, and the token is not kept.
    function(SPEC)
        .and(identity(
            state.validator.clone(),
            state.config.tuning.retry_after,
        ))
        .map(|identity: Arc<Identity>| describe(&identity))
}

fn describe(identity: &Identity) -> warp::reply::Response {
    let expires_at = OffsetDateTime::from_unix_timestamp(identity.expires_at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let body = ValidatedToken {
        tenant_id: &identity.tenant_id,
        object_id: &identity.object_id,
        user_principal_name: identity.user_principal_name(),
        name: identity.name(),
        audience: &identity.audience,
        scopes: identity.scopes().collect(),
        token_version: identity.version,
        expires_at,
    };
    warp::reply::with_header(warp::reply::json(&body), "cache-control", "no-store").into_response()
}
