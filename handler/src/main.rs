//! Entry point: reads settings, binds the port the Functions host gave us, and serves until
//! SIGTERM or Ctrl-C. Exit code 2 means the settings are wrong; 1 that the port is taken.

use std::process::ExitCode;

use handler::config::Config;
use handler::{server, startup, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let _logs = telemetry::init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {error}", config.port);
            return ExitCode::from(1);
        }
    };
    let state = match startup::AppState::build(config) {
        Ok(state) => state,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::from(2);
        }
    };
    let shutdown = match server::shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(error) => {
            eprintln!("cannot listen for shutdown signals: {error}");
            return ExitCode::from(1);
        }
    };
    // Only now: whoever waits for this line may stop us with a signal at once.
    tracing::info!(port = state.config.port, "handler listening");
    startup::run(listener, state, shutdown).await;
    ExitCode::SUCCESS
}
