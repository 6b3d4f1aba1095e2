//! `Health`: liveness and readiness for probes and operators; no authentication.

use std::collections::BTreeMap;

use serde::Serialize;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::FunctionSpec;
use super::filters::function;
use crate::readiness::Readiness;
use crate::state::AppState;

#[derive(Serialize)]
struct HealthReport {
    status: &'static str,
    version: &'static str,
    /// One entry per dependency: `starting`, `ok` or `degraded`, and nothing more: this answer
    /// is anonymous, so names of secrets and upstream reasons stay in the log.
    checks: BTreeMap<&'static str, Readiness>,
}

pub const FUNCTION: FunctionSpec = FunctionSpec {
    name: "Health",
    route: "health",
    methods: &[Method::GET],
    allow: "GET",
};

/// GET /api/health, no auth → 200 `{"status":"ok"|"degraded","version","checks"}`;
/// a dependency still `starting` after start-up counts as ok.
///
/// Always 200 while the process serves requests: a degraded dependency is reported, not turned
/// into a failed probe that would restart a healthy process.
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    function(FUNCTION).map(move || report(&state))
}

fn report(state: &AppState) -> impl Reply + use<> {
    let mut checks = BTreeMap::from([("signingKeys", state.validator.signing_keys().health())]);
    checks.extend(state.secrets.health());
    if let Some(acs) = state.acs.health() {
        checks.insert("acs", acs);
    }
    let degraded = checks.values().any(|state| *state == Readiness::Degraded);
    let report = HealthReport {
        status: if degraded { "degraded" } else { "ok" },
        version: env!("CARGO_PKG_VERSION"),
        checks,
    };
    warp::reply::with_header(warp::reply::json(&report), "cache-control", "no-store")
}
