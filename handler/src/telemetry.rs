//! Structured logs: one JSON object per line on stdout, which the Functions host forwards to
//! Application Insights as `Host.Function.Console` traces.
//!
//! Lines are written to stdout in batches (`log_writer`), not one system call per request.

use tracing_subscriber::EnvFilter;

/// Quiet by default about the libraries' internals; `RUST_LOG` overrides.
pub const DEFAULT_FILTER: &str = "info,hyper=warn,reqwest=warn,warp=warn";

/// Keeps the log writer's thread; dropping it writes out what is still pending. Hold it until
/// the process ends.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<crate::log_writer::FlushGuard>,
}

/// Installs the subscriber once; later calls (tests) are ignored.
pub fn init() -> LogGuard {
    let Ok((writer, guard)) = crate::log_writer::BatchedStdout::start() else {
        // No thread for batches: lines are written as they come, as stdout does.
        let _ = subscriber().with_writer(std::io::stdout).try_init();
        return LogGuard { _writer: None };
    };
    let installed = subscriber().with_writer(writer).try_init().is_ok();
    LogGuard {
        _writer: installed.then_some(guard),
    }
}

fn subscriber() -> tracing_subscriber::fmt::SubscriberBuilder<
    tracing_subscriber::fmt::format::JsonFields,
    tracing_subscriber::fmt::format::Format<tracing_subscriber::fmt::format::Json>,
    EnvFilter,
> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
}
