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
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, filter};

use crate::otel::Telemetry;

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
    tracing_subscriber::registry()
        .with(log_layer(writer))
        .with(telemetry.map(|t| t.layer()))
        .try_init()
        .is_ok()
}

/// The JSON log as production writes it, filtered by `RUST_LOG` (else `DEFAULT_FILTER`), into
/// `writer`; public for the benchmarks that measure what a request's line costs.
pub fn log_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let env_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // The log sees no spans at all: a line takes the request's facts from its record
    // (`request_record`), and spans exist only for the exporter.
    let log_filter = env_filter.and(filter::filter_fn(|m| !m.is_span()));
    tracing_subscriber::fmt::layer()
        .event_format(crate::log_line::JsonLine)
        .with_writer(writer)
        .with_filter(log_filter)
}
