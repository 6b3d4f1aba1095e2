//! Structured logs: one JSON object per line on stdout, which the Functions host forwards to
//! Application Insights as `Host.Function.Console` traces.
//!
//! Lines are handed to a writer thread (tracing-appender's non-blocking writer) instead of being
//! written by the request's own task: a write to stdout is a system call per line and can block
//! on the pipe the host reads, and every request writes one line. The thread drains what queued
//! up and writes it in one go. Nothing is dropped (`lossy(false)`): when the queue is full, the
//! logging task waits, as it did before.

use tracing_subscriber::EnvFilter;

/// Quiet by default about the libraries' internals; `RUST_LOG` overrides.
pub const DEFAULT_FILTER: &str = "info,hyper=warn,reqwest=warn,warp=warn";

/// Keeps the log writer's thread; dropping it writes out what is still queued. Hold it until
/// the process ends.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the subscriber once; later calls (tests) are ignored.
pub fn init() -> LogGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(std::io::BufWriter::new(std::io::stdout()));
    let installed = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init()
        .is_ok();
    LogGuard {
        _writer: installed.then_some(guard),
    }
}
