//! The state of one dependency as the anonymous health check reports it.
//!
//! Only a state travels: which secret, which vault error or which upstream reason is for the
//! operator's log, never for whoever can reach `/api/health`.

use serde::Serialize;
use utoipa::ToSchema;

/// The state of one dependency: `starting` (not answered yet since start-up; counts as ok),
/// `ok`, or `degraded` (the last attempt failed and none has succeeded since).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Readiness {
    /// Not answered yet since start-up, and nothing has failed: a fresh instance on a scale-out
    /// is healthy, so this counts as ok.
    Starting,
    Ok,
    /// The last attempt to reach the dependency failed and none has succeeded since.
    Degraded,
}

impl Readiness {
    /// From what a dependency has seen so far: whether a value is loaded, whether an attempt
    /// has finished, whether the last one failed.
    pub fn from_attempts(loaded: bool, attempted: bool, last_failed: bool) -> Readiness {
        match (loaded, attempted, last_failed) {
            (_, _, true) => Readiness::Degraded,
            (true, _, false) => Readiness::Ok,
            (false, false, false) => Readiness::Starting,
            // An attempt that neither failed nor stored a value is a bug; do not call it ok.
            (false, true, false) => Readiness::Degraded,
        }
    }
}
