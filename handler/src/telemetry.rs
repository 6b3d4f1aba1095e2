//! Structured logs: one JSON object per line on stdout, which the Functions host forwards to
//! Application Insights as `Host.Function.Console` traces.

use tracing_subscriber::EnvFilter;

/// Quiet by default about the libraries' internals; `RUST_LOG` overrides.
const DEFAULT_FILTER: &str = "info,hyper=warn,reqwest=warn,warp=warn";

/// Installs the subscriber once; later calls (tests) are ignored.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
}
