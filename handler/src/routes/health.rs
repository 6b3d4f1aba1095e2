//! `Health`: liveness and readiness for probes and operators; no authentication.

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::filters::function;
use super::spec::function_spec;
use crate::readiness::Readiness;
use crate::state::AppState;

/// The instance's health. Always answered with 200 while the process serves requests.
#[derive(Serialize, ToSchema)]
struct HealthReport {
    status: HealthStatus,
    /// The handler's version.
    #[schema(example = "0.1.0")]
    version: &'static str,
    checks: Checks,
}

/// `degraded` when any check is; a check still `starting` counts as ok.
#[derive(Serialize, ToSchema, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum HealthStatus {
    Ok,
    Degraded,
}

/// One entry per dependency the instance uses, and nothing more: this answer is anonymous, so
/// names of secrets and upstream reasons stay in the log.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Checks {
    /// The ACS connection string, when ACS is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    acs: Option<Readiness>,
    /// The client secret (from Key Vault or the settings), or the federated credential.
    client_credential: Readiness,
    /// The managed identity, when a setting uses it (Key Vault, the federated credential, ACS
    /// without a key).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    managed_identity: Option<Readiness>,
    /// Entra ID's v1.0 and v2.0 signing keys.
    signing_keys: Readiness,
}

impl Checks {
    fn all(&self) -> impl Iterator<Item = Readiness> {
        [
            self.acs,
            Some(self.client_credential),
            self.managed_identity,
            Some(self.signing_keys),
        ]
        .into_iter()
        .flatten()
    }
}

function_spec! {
    name: "Health",
    route: "health",
    methods: &[Method::GET],
    allow: "GET",
    problems: &[],
}

/// GET /api/health, no auth → 200 `{"status":"ok"|"degraded","version","checks"}`;
/// a dependency still `starting` after start-up counts as ok.
///
/// Always 200 while the process serves requests: a degraded dependency is reported, not turned
/// into a failed probe that would restart a healthy process.
#[utoipa::path(
    get,
    path = "/api/health",
    operation_id = "Health",
    tag = "health",
    summary = "Liveness and readiness",
    description = "No authentication. Always 200 while the process runs; `status` is `degraded` \
        when a dependency's last attempt failed. The answer is anonymous, so it holds states only.",
    responses(
        (status = 200, description = "The instance's health.", body = HealthReport,
            headers(("Cache-Control" = String, description = "`no-store`"))),
    ),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    function(SPEC).map(move || report(&state))
}

fn report(state: &AppState) -> impl Reply + use<> {
    let checks = Checks {
        acs: state.acs.health(),
        client_credential: state.secrets.client_credential_health(),
        managed_identity: state.secrets.managed_identity_health(),
        signing_keys: state.validator.signing_keys().health(),
    };
    let degraded = checks.all().any(|state| state == Readiness::Degraded);
    let report = HealthReport {
        status: if degraded {
            HealthStatus::Degraded
        } else {
            HealthStatus::Ok
        },
        version: env!("CARGO_PKG_VERSION"),
        checks,
    };
    warp::reply::with_header(warp::reply::json(&report), "cache-control", "no-store")
}
