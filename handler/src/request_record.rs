//! What every log line of a request says about it: the method, the function serving it, the
//! caller's tenant once the token is validated, and the correlation id.
//!
//! It lives in a task-local for the request's lifetime, not in a `tracing` span. A span costs
//! the registry's slot, its formatted fields, an enter and an exit on every poll and a lookup for
//! every record and every line: in profiles of the validate path that bookkeeping was the largest
//! per-request cost left in the log path, and without an exporter nothing else reads the span.
//! With an exporter the request's server span still exists, for OpenTelemetry only (`otel`).

use std::cell::Cell;
use std::future::Future;

use uuid::Uuid;
use warp::http::Method;

use crate::correlation::CorrelationId;
use crate::otel;

/// The request's own facts; the function and tenant are filled in as routing and validation
/// learn them.
#[derive(Debug)]
pub struct RequestRecord {
    method: Method,
    correlation_id: CorrelationId,
    function: Cell<&'static str>,
    tenant_id: Cell<Option<Uuid>>,
}

/// The function name of a request no function matched.
pub const UNMATCHED: &str = "unmatched";

tokio::task_local! {
    static CURRENT: RequestRecord;
}

impl RequestRecord {
    pub fn new(method: Method, correlation_id: CorrelationId) -> RequestRecord {
        RequestRecord {
            method,
            correlation_id,
            function: Cell::new(UNMATCHED),
            tenant_id: Cell::new(None),
        }
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn correlation_id(&self) -> &CorrelationId {
        &self.correlation_id
    }

    pub fn function(&self) -> &'static str {
        self.function.get()
    }

    pub fn tenant_id(&self) -> Option<Uuid> {
        self.tenant_id.get()
    }

    /// Runs `work` (a request's handling) with this record as the current one.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    /// Like `scope`, for code that is not async (tests of the log line).
    pub fn sync_scope<R>(self, work: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self, work)
    }
}

/// Reads the current request's record; `None` outside a request (start-up, background work).
pub fn with_current<R>(read: impl FnOnce(&RequestRecord) -> R) -> Option<R> {
    CURRENT.try_with(read).ok()
}

/// Called by routing when it knows which function serves the request; the server span, when
/// there is one, is named after it too.
pub fn name_function(name: &'static str) {
    with_current(|record| record.function.set(name));
    otel::record_route(name);
}

/// Called once the caller's token is validated; recorded on the server span too.
pub fn set_tenant(tenant_id: Uuid) {
    with_current(|record| record.tenant_id.set(Some(tenant_id)));
    otel::record_tenant(tenant_id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_and_validation_fill_in_the_current_record_only() {
        let record = RequestRecord::new(Method::POST, CorrelationId::generate());
        let tenant = Uuid::from_u128(7);

        let seen = record.sync_scope(|| {
            name_function("TokenValidate");
            set_tenant(tenant);
            with_current(|r| (r.function(), r.tenant_id(), r.method().clone()))
        });

        assert_eq!(seen, Some(("TokenValidate", Some(tenant), Method::POST)));
        // Outside a request there is nothing to fill in, and nothing fails.
        name_function("Health");
        assert!(with_current(|r| r.function()).is_none());
    }
}
