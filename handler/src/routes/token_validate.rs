//! `TokenValidate`: lets a tab check its SSO token and learn who the backend thinks it is.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::FunctionSpec;
use super::context::RequestContext;
use super::filters::protected;
use crate::state::AppState;

pub const FUNCTION: FunctionSpec = FunctionSpec {
    name: "TokenValidate",
    route: "token/validate",
    methods: &[Method::POST],
    allow: "POST",
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidatedToken<'a> {
    tenant_id: String,
    object_id: String,
    user_principal_name: Option<&'a str>,
    name: Option<&'a str>,
    audience: &'a str,
    scopes: Vec<&'a str>,
    token_version: &'static str,
    expires_at: String,
}

/// POST /api/token/validate, bearer token, no body → 200 with the caller's identity.
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(FUNCTION, &state).map(|context: RequestContext| describe(&context))
}

fn describe(context: &RequestContext) -> warp::reply::Response {
    let identity = &context.caller.identity;
    let expires_at = OffsetDateTime::from_unix_timestamp(identity.expires_at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let body = ValidatedToken {
        tenant_id: identity.tenant_id.to_string(),
        object_id: identity.object_id.to_string(),
        user_principal_name: identity.user_principal_name.as_deref(),
        name: identity.name.as_deref(),
        audience: &identity.audience,
        scopes: identity.scopes().collect(),
        token_version: identity.version.as_str(),
        expires_at,
    };
    warp::reply::with_header(warp::reply::json(&body), "cache-control", "no-store").into_response()
}
