//! What a handler of a protected function works with: the state, the validated caller, the
//! request's correlation id and deadline, and Graph as the caller on demand.

use tokio::time::Instant;

use super::caller_graph::CallerGraph;
use crate::auth::Caller;
use crate::correlation::CorrelationId;
use crate::error::{ApiError, ProblemCode};
use crate::graph::GRAPH_SCOPES;
use crate::state::AppState;

/// What a function that acts for the caller upstream can answer besides its own problems: the
/// on-behalf-of exchange (consent, a claims challenge, an assertion Entra ID refuses), then the
/// Graph or ACS call (not found, throttled, an unexpected answer, unreachable, too slow).
pub const UPSTREAM_PROBLEMS: &[ProblemCode] = &[
    ProblemCode::InvalidToken,
    ProblemCode::InteractionRequired,
    ProblemCode::ConsentRequired,
    ProblemCode::NotFound,
    ProblemCode::Throttled,
    ProblemCode::UpstreamError,
    ProblemCode::Unavailable,
    ProblemCode::UpstreamTimeout,
];

pub struct RequestContext {
    pub state: AppState,
    pub caller: Caller,
    pub correlation: CorrelationId,
    /// Everything the request does upstream, retries included, ends by then.
    pub deadline: Instant,
}

impl RequestContext {
    pub fn new(state: AppState, caller: Caller, correlation: CorrelationId) -> Self {
        let deadline = Instant::now() + state.config.tuning.request_deadline;
        RequestContext {
            state,
            caller,
            correlation,
            deadline,
        }
    }

    /// Graph as the caller: the on-behalf-of token (cached, or exchanged now) with the client.
    pub async fn caller_graph(&self) -> Result<CallerGraph<'_>, ApiError> {
        let token = self
            .state
            .obo
            .token(&self.caller, &GRAPH_SCOPES, self.deadline)
            .await
            .map_err(|e| ApiError::from_obo(e, self.state.config.tuning.retry_after))?;
        Ok(CallerGraph::new(
            &self.state.graph,
            token,
            &self.correlation,
            self.deadline,
        ))
    }

    pub fn retry_after(&self) -> std::time::Duration {
        self.state.config.tuning.retry_after
    }
}

/// Runs a route's work under the request deadline; past it, the caller gets 504.
pub async fn within_deadline<T>(
    deadline: Instant,
    service: &'static str,
    work: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or(Err(ApiError::UpstreamTimeout { service }))
}
