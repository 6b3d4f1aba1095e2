//! `Health`: liveness and readiness for probes and operators; no authentication.

use std::collections::BTreeMap;

use serde::Serialize;
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::{FunctionSpec, function};
use crate::startup::AppState;

#[derive(Serialize)]
struct HealthReport {
    status: &'static str,
    version: &'static str,
    /// One entry per dependency: `ok` or a short reason it is not.
    checks: BTreeMap<&'static str, String>,
}

pub const FUNCTION: FunctionSpec = FunctionSpec {
    name: "Health",
    route: "health",
    methods: &[Method::GET],
    allow: "GET",
};

/// GET /api/health, no auth → 200 `{"status":"ok"|"degraded","version","checks"}`.
///
/// Always 200 while the process serves requests: a degraded dependency is reported, not turned
/// into a failed probe that would restart a healthy process.
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    function(FUNCTION).map(move || report(&state))
}

fn report(state: &AppState) -> impl Reply + use<> {
    let mut results = vec![("signingKeys", state.validator.signing_keys().health())];
    results.extend(state.secrets.health());
    if let Some(acs) = state.acs.health() {
        results.push(("acs", acs));
    }
    let degraded = results.iter().any(|(_, problem)| problem.is_some());
    let checks: BTreeMap<&'static str, String> = results
        .into_iter()
        .map(|(name, problem)| (name, problem.unwrap_or_else(|| "ok".to_owned())))
        .collect();
    let report = HealthReport {
        status: if degraded { "degraded" } else { "ok" },
        version: env!("CARGO_PKG_VERSION"),
        checks,
    };
    warp::reply::with_header(warp::reply::json(&report), "cache-control", "no-store")
}
