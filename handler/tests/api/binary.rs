//! The `handler` executable as the Functions host runs it: settings from the environment, the
//! port from `FUNCTIONS_CUSTOMHANDLER_PORT`, logs on stdout, SIGTERM to stop.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use test_support::entra::FakeEntra;

use crate::helpers::*;

fn handler_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_handler"));
    // Only what we set: nothing from the developer's shell may point it at Azure.
    command.env_clear();
    command.env("RUST_LOG", "info");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the handler with only `settings`, expects it to refuse to start with exit code 2, and
/// returns what it printed on stderr.
fn refused_start(settings: &[(&str, &str)]) -> String {
    let port = free_port().to_string();
    let output = handler_command()
        .envs(settings.iter().copied())
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", &port)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn a_malformed_setting_stops_start_up_with_one_line_and_exit_code_2() {
    let stderr = refused_start(&[
        ("ENTRA_CLIENT_ID", "not-a-guid"),
        ("ENTRA_ALLOWED_TENANTS", "*"),
    ]);

    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("ENTRA_CLIENT_ID is not a GUID"), "{stderr}");
}

#[test]
fn key_vault_without_the_identity_endpoint_refuses_to_start() {
    // Without IDENTITY_ENDPOINT the Azure SDK would try the VM metadata address instead.
    let stderr = refused_start(&[
        ("ENTRA_CLIENT_ID", CLIENT_ID),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("KEY_VAULT_URI", "https://contoso.vault.azure.net"),
    ]);

    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("IDENTITY_ENDPOINT is missing"), "{stderr}");
    assert!(stderr.contains("IDENTITY_HEADER is missing"), "{stderr}");
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_stops_start_up() {
    for setting in [
        "ENTRA_AUTHORITY_HOST",
        "GRAPH_ENDPOINT",
        "ACS_ENDPOINT",
        "KEY_VAULT_URI",
    ] {
        let stderr = refused_start(&[
            ("ENTRA_CLIENT_ID", CLIENT_ID),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token"),
            ("IDENTITY_HEADER", "h"),
            (setting, "http://login.contoso.example"),
        ]);

        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("{setting} must be an https URL")),
            "{stderr}"
        );
    }
}

#[test]
fn an_acs_endpoint_that_disagrees_with_the_connection_string_stops_start_up() {
    let stderr = refused_start(&[
        ("ENTRA_CLIENT_ID", CLIENT_ID),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("ACS_ENDPOINT", "https://one.communication.azure.com"),
        (
            "ACS_CONNECTION_STRING",
            "endpoint=https://two.communication.azure.com/;accesskey=c2VjcmV0",
        ),
    ]);

    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("ACS_ENDPOINT"), "{stderr}");
    assert!(
        stderr.contains("https://one.communication.azure.com"),
        "{stderr}"
    );
    assert!(
        stderr.contains("https://two.communication.azure.com"),
        "{stderr}"
    );
    assert!(!stderr.contains("c2VjcmV0"), "{stderr}");
}

#[test]
fn missing_settings_are_all_named() {
    let stderr = refused_start(&[]);

    assert!(stderr.contains("ENTRA_CLIENT_ID is missing"), "{stderr}");
    assert!(
        stderr.contains("ENTRA_ALLOWED_TENANTS is missing"),
        "{stderr}"
    );
}

/// A handler process, and everything it logged on stdout so far.
struct Running {
    child: Child,
    port: u16,
    stdout: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How often a start is tried again on a new port when another process took the one chosen.
const START_ATTEMPTS: usize = 5;

/// Starts the handler with `settings` on a free port, and returns once it holds that port.
///
/// The port comes from binding port 0 and letting it go, so until the handler binds it another
/// test may take it. The handler logs `handler listening` only once it holds the port, and
/// exits with code 1 ("cannot listen") when the port is taken: the first is awaited (no other
/// server can then answer in its place), the second starts over on another port, a bounded
/// number of times.
async fn start_listening(settings: &HashMap<String, String>) -> Running {
    for _ in 0..START_ATTEMPTS {
        let port = free_port();
        let mut child = handler_command()
            .envs(settings)
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = child.stdout.take().unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let (listening, listened) = mpsc::channel::<()>();
        let text = Arc::clone(&stdout);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let json = serde_json::from_str::<serde_json::Value>(&line).unwrap_or_default();
                if json["message"] == "handler listening" && json["port"] == port {
                    let _ = listening.send(());
                }
                let mut text = text.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
            // Dropping the sender tells the waiter that stdout closed: the handler exited.
        });
        let mut running = Running {
            child,
            port,
            stdout,
            reader: Some(reader),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match listened.try_recv() {
                Ok(()) => return running,
                Err(mpsc::TryRecvError::Empty) => {
                    assert!(Instant::now() < deadline, "the handler did not start");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(mpsc::TryRecvError::Disconnected) => break,
            }
        }
        let status = running.child.wait().unwrap();
        let mut stderr = String::new();
        running
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(
            status.code() == Some(1) && stderr.contains("cannot listen on"),
            "the handler exited before listening ({status}): {stderr}"
        );
        eprintln!("port {port} was taken before the handler bound it; again");
    }
    panic!("every one of {START_ATTEMPTS} ports was taken before the handler could bind it");
}

/// The binary serves the validate route, logs one line per request without the token, and
/// exits cleanly on SIGTERM.
#[tokio::test]
async fn the_binary_serves_logs_safely_and_stops_on_sigterm() {
    // Arrange
    let entra = FakeEntra::start().await.unwrap();
    let mut running = start_listening(&settings(&entra, "http://127.0.0.1:9")).await;
    let base = format!("http://127.0.0.1:{}", running.port);
    let http = reqwest::Client::new();
    let token = entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .sign();

    // Act
    let response = http
        .post(format!("{base}/api/token/validate"))
        .bearer_auth(&token)
        .header("x-ms-client-request-id", "corr-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let pid = running.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "handler ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    // The process is gone, so its stdout is closed and the reader has read all of it.
    running.reader.take().unwrap().join().unwrap();
    let stdout = running.stdout.lock().unwrap().clone();

    // Assert
    assert!(status.success(), "exit status {status}");
    let line = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["message"] == "request completed" && l["span"]["route"] == "TokenValidate")
        .unwrap_or_else(|| panic!("no request line in {stdout}"));
    assert_eq!(line["span"]["method"], "POST");
    assert_eq!(line["status"], 200);
    assert_eq!(line["span"]["tenant_id"], FIELD_TENANT);
    assert_eq!(line["span"]["correlation_id"], "corr-0001");
    assert!(line["latency_ms"].as_f64().is_some());
    if let Err(leaks) = test_support::log_hygiene::leaks(&stdout, [token.as_str(), CLIENT_SECRET]) {
        panic!("{leaks}");
    }
    assert!(!stdout.to_ascii_lowercase().contains("authorization"));
}
