//! Structured logs: one JSON object per line on stdout, which the Functions host forwards to
//! Application Insights as `Host.Function.Console` traces; and, when configured, the
//! OpenTelemetry layer of `otel` beside them.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::FilterExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, filter};

use crate::otel::{self, Telemetry};

/// Quiet by default about the libraries' internals; `RUST_LOG` overrides.
const DEFAULT_FILTER: &str = "info,hyper=warn,reqwest=warn,warp=warn";

/// Installs the subscriber once; later calls (tests) are ignored.
pub fn init(telemetry: Option<&Telemetry>) {
    let env_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // The log does not see client spans: its lines keep the request span, and its correlation
    // id, as their current span.
    let log_filter = env_filter.and(filter::filter_fn(|m| !otel::is_dependency_span(m)));
    let log = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_filter(log_filter);
    let _ = tracing_subscriber::registry()
        .with(log)
        .with(telemetry.map(|t| t.layer()))
        .try_init();
}
