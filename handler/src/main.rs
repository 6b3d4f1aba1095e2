//! Entry point: reads settings, binds the port the Functions host gave us, and serves until
//! SIGTERM or Ctrl-C. Exit code 2 means the settings are wrong; 1 that the port is taken.

use std::process::ExitCode;

use handler::config::Config;
use handler::otel::Telemetry;
use handler::state::AppState;
use handler::{server, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    // Telemetry that cannot start is reported and left off: it must never keep the API down.
    let exporter = match Telemetry::build(&config) {
        Ok(exporter) => exporter,
        Err(error) => {
            eprintln!("telemetry off: {error}");
            None
        }
    };
    let _logs = telemetry::init(exporter.as_ref());
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {error}", config.port);
            return ExitCode::from(1);
        }
    };
    let state = match AppState::build(config) {
        Ok(state) => state,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(exporter) = &exporter {
        exporter.use_identity(state.secrets.clone());
    }
    let shutdown = match server::shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(error) => {
            eprintln!("cannot listen for shutdown signals: {error}");
            return ExitCode::from(1);
        }
    };
    // Only now: whoever waits for this line may stop us with a signal at once.
    tracing::info!(port = state.config.port, "handler listening");
    handler::run(listener, state, shutdown).await;
    if let Some(exporter) = exporter {
        // The batch thread blocks while it flushes; keep it off the runtime's workers.
        let _ = tokio::task::spawn_blocking(move || exporter.shutdown()).await;
    }
    ExitCode::SUCCESS
}
