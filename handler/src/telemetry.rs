//! Structured logs: one JSON object per line on stdout, which the Functions host forwards to
//! Application Insights as `Host.Function.Console` traces; and, when configured, the
//! OpenTelemetry layer of `otel` beside them.
//!
//! Lines are formatted by `log_line` and written to stdout in batches (`log_writer`), not one
//! system call per request.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::FilterExt as _;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, filter};

use crate::otel::{self, Telemetry};

/// Quiet by default about the libraries' internals; `RUST_LOG` overrides.
pub const DEFAULT_FILTER: &str = "info,hyper=warn,reqwest=warn,warp=warn";

/// Keeps the log writer's thread; dropping it writes out what is still pending. Hold it until
/// the process ends.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<crate::log_writer::FlushGuard>,
}

/// Installs the subscriber once; later calls (tests) are ignored.
pub fn init(telemetry: Option<&Telemetry>) -> LogGuard {
    let Ok((writer, guard)) = crate::log_writer::BatchedStdout::start() else {
        // No thread for batches: lines are written as they come, as stdout does.
        install(std::io::stdout, telemetry);
        return LogGuard { _writer: None };
    };
    let installed = install(writer, telemetry);
    LogGuard {
        _writer: installed.then_some(guard),
    }
}

fn install<W>(writer: W, telemetry: Option<&Telemetry>) -> bool
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let env_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // The log does not see client spans: its lines keep the request span, and its correlation
    // id, as their current span.
    let log_filter = env_filter.and(filter::filter_fn(|m| !otel::is_dependency_span(m)));
    let log = tracing_subscriber::fmt::layer()
        .fmt_fields(crate::log_line::SpanFields)
        .event_format(crate::log_line::JsonLine)
        .with_writer(writer)
        .with_filter(log_filter);
    tracing_subscriber::registry()
        .with(log)
        .with(telemetry.map(|t| t.layer()))
        .try_init()
        .is_ok()
}
