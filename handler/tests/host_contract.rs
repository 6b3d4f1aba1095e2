//! The Functions host contract, played by this test since Core Tools cannot run here.
//!
//! It packages the app with `scripts/package.sh` (in a scratch copy of the repository, with the
//! binary cargo built for this test), reads `dist/host.json` and every `dist/*/function.json`
//! as the host does, starts `dist/handler` the way the host starts a custom handler (its working
//! directory, its arguments, `FUNCTIONS_CUSTOMHANDLER_PORT`), waits for it to answer on `/`
//! within the host's initialization timeout, and then forwards one request per function the way
//! the host forwards HTTP with `enableForwardingHttpRequest`: same method, `/api` path, query,
//! headers and body. Paths no function declares are answered by the "host" itself, as in Azure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::acs::FakeAcs;
use test_support::directory::{EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID};
use test_support::entra::FakeEntra;
use test_support::graph::FakeGraph;

/// The host's default `InitializationTimeout` for a custom handler.
const HOST_INITIALIZATION_TIMEOUT: Duration = Duration::from_secs(30);
const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const CLIENT_SECRET: &str = "Hc7Zt2Qw9Lm4Xp8Vb3Nr6";

struct Function {
    name: String,
    route: String,
    methods: Vec<String>,
}

struct Package {
    root: PathBuf,
    executable: PathBuf,
    working_directory: PathBuf,
    arguments: Vec<String>,
    route_prefix: String,
    functions: Vec<Function>,
}

struct Handler(Child);

impl Drop for Handler {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the packaging command in a scratch copy of what it reads, so a developer's own `dist/`
/// is left alone.
fn build_package(label: &str) -> PathBuf {
    let scratch =
        std::env::temp_dir().join(format!("host-contract-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let root = repo_root();
    copy_tree(&root.join("functions"), &scratch.join("functions"));
    copy_tree(&root.join("scripts"), &scratch.join("scripts"));
    std::fs::copy(root.join("host.json"), scratch.join("host.json")).unwrap();
    let output = Command::new("bash")
        .arg(scratch.join("scripts/package.sh"))
        .env("HANDLER_BIN", env!("CARGO_BIN_EXE_handler"))
        .env("SKIP_CHECK", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "package.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    scratch.join("dist")
}

/// Reads the package as the host does.
fn read_package(dist: &Path) -> Package {
    let host: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("host.json")).unwrap()).unwrap();
    let handler = &host["customHandler"];
    assert_eq!(
        handler["enableForwardingHttpRequest"], true,
        "the handler expects requests forwarded on their own path"
    );
    let description = &handler["description"];
    let executable = dist.join(description["defaultExecutablePath"].as_str().unwrap());
    let working_directory = match description["workingDirectory"].as_str() {
        Some(dir) if !dir.is_empty() => dist.join(dir),
        _ => dist.to_path_buf(),
    };
    let arguments = description["arguments"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    let route_prefix = host["extensions"]["http"]["routePrefix"]
        .as_str()
        .unwrap_or("api")
        .to_owned();

    let mut functions = Vec::new();
    for entry in std::fs::read_dir(dist).unwrap() {
        let path = entry.unwrap().path();
        let manifest = path.join("function.json");
        if !manifest.is_file() {
            continue;
        }
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
        let trigger = json["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "httpTrigger")
            .unwrap();
        functions.push(Function {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            route: trigger["route"].as_str().unwrap().to_owned(),
            methods: trigger["methods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_ascii_uppercase())
                .collect(),
        });
    }
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    Package {
        root: dist.to_path_buf(),
        executable,
        working_directory,
        arguments,
        route_prefix,
        functions,
    }
}

/// Starts the handler as the host starts a custom handler, and waits for it to answer.
fn start_handler(package: &Package, settings: &HashMap<String, String>) -> (Handler, u16) {
    assert!(
        package.executable.is_file(),
        "host.json points at a missing executable: {}",
        package.executable.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&package.executable)
        .args(&package.arguments)
        .current_dir(&package.working_directory)
        .env_clear()
        .envs(settings)
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
        .env("FUNCTIONS_WORKER_RUNTIME", "custom")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let handler = Handler(child);
    let started = Instant::now();
    loop {
        if raw_status(port, "/").is_some() {
            break;
        }
        assert!(
            started.elapsed() < HOST_INITIALIZATION_TIMEOUT,
            "the handler did not answer within the host's initialization timeout"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (handler, port)
}

/// The status of a plain `GET path`, sent by hand; `None` while nothing answers. The host's
/// readiness probe counts any HTTP answer on `/`.
fn raw_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    let text = std::str::from_utf8(&head).ok()?;
    text.strip_prefix("HTTP/1.1 ")?.trim().parse().ok()
}

/// The host's routing: a request reaches the handler only when a function declares its path
/// and method.
fn routes_to<'a>(package: &'a Package, method: &str, path: &str) -> Option<&'a Function> {
    let rest = path.strip_prefix(&format!("/{}/", package.route_prefix))?;
    package.functions.iter().find(|f| {
        f.methods.iter().any(|m| m == method) && {
            let template: Vec<&str> = f.route.split('/').collect();
            let actual: Vec<&str> = rest.split('/').collect();
            template.len() == actual.len()
                && template
                    .iter()
                    .zip(&actual)
                    .all(|(t, a)| t.starts_with('{') || t == a)
        }
    })
}

/// One request per function, with the answer it must get.
fn example_requests(
    worker: &str,
    expert: &str,
) -> BTreeMap<&'static str, (String, &'static str, Option<Value>, String, u16)> {
    let meeting = json!({
        "subject": "Pump 7", "startDateTime": "2026-11-26T14:00:00Z", "endDateTime": "2026-11-26T15:00:00Z",
        "participants": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}]
    });
    let notify =
        json!({"recipients": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}], "message": "hi"});
    BTreeMap::from([
        (
            "Health",
            ("GET".into(), "/api/health", None, String::new(), 200),
        ),
        (
            "TokenValidate",
            (
                "POST".into(),
                "/api/token/validate",
                None,
                worker.to_owned(),
                200,
            ),
        ),
        (
            "CreateMeeting",
            (
                "POST".into(),
                "/api/meetings",
                Some(meeting),
                worker.to_owned(),
                201,
            ),
        ),
        (
            "NotifyChat",
            (
                "POST".into(),
                "/api/notifications/chat",
                Some(notify),
                worker.to_owned(),
                201,
            ),
        ),
        (
            "SearchContacts",
            (
                "GET".into(),
                "/api/contacts?q=pump&top=5",
                None,
                worker.to_owned(),
                200,
            ),
        ),
        (
            "GetUserProfile",
            ("GET".into(), "/api/users/me", None, expert.to_owned(), 200),
        ),
        (
            "GetUserPhoto",
            (
                "GET".into(),
                "/api/users/me/photo",
                None,
                worker.to_owned(),
                200,
            ),
        ),
        (
            "AcsToken",
            (
                "POST".into(),
                "/api/acs/token",
                None,
                expert.to_owned(),
                200,
            ),
        ),
    ])
}

#[tokio::test]
async fn the_packaged_app_serves_every_function_as_the_host_forwards_it() {
    // Arrange: the package, the fakes behind it, and the handler started as the host would.
    let package = read_package(&build_package("serve"));
    let entra = FakeEntra::start().await.unwrap();
    entra
        .token_endpoint()
        .register_client(CLIENT_ID, &[CLIENT_SECRET]);
    let graph = FakeGraph::start(entra.token_endpoint().grants())
        .await
        .unwrap();
    let acs = FakeAcs::start(entra.token_endpoint().grants())
        .await
        .unwrap();
    let settings: HashMap<String, String> = [
        ("ENTRA_CLIENT_ID", CLIENT_ID.to_owned()),
        (
            "ENTRA_ALLOWED_TENANTS",
            format!("{FIELD_TENANT},{EXPERT_TENANT}"),
        ),
        ("ENTRA_AUTHORITY_HOST", entra.authority()),
        ("ENTRA_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("GRAPH_ENDPOINT", graph.endpoint()),
        ("ACS_CONNECTION_STRING", acs.connection_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let (_handler, port) = start_handler(&package, &settings);
    let worker = entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .sign();
    let expert = entra.token_v2(CLIENT_ID, EXPERT_TENANT, EXPERT_OID).sign();
    let examples = example_requests(&worker, &expert);
    let http = reqwest::Client::new();

    // Every function folder has an example, so a new function cannot go untested here.
    for function in &package.functions {
        assert!(
            examples.contains_key(function.name.as_str()),
            "no example request for function {}",
            function.name
        );
    }

    for (name, (method, path_and_query, body, token, expected)) in &examples {
        // The host routes by function.json: the request must reach this very function.
        let path = path_and_query.split('?').next().unwrap();
        let function = routes_to(&package, method, path)
            .unwrap_or_else(|| panic!("{name}: the host would not route {method} {path}"));
        assert_eq!(&function.name, name);

        // Act: forward as the host does (same method, path with prefix, query, headers, body).
        let mut request = http
            .request(
                method.parse().unwrap(),
                format!("http://127.0.0.1:{port}{path_and_query}"),
            )
            .header(
                "x-azure-functions-invocationid",
                "3f9a0000-0000-4000-8000-000000000001",
            )
            .header("user-agent", "Azure-Functions-Host/4.1045.0");
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();

        // Assert
        assert_eq!(
            response.status().as_u16(),
            *expected,
            "{name}: {method} {path_and_query}"
        );
    }

    // The host answers undeclared paths itself; they never reach the handler.
    assert!(routes_to(&package, "GET", "/api/nothing-here").is_none());
    assert!(routes_to(&package, "DELETE", "/api/meetings").is_none());
    assert!(package.root.join("handler").is_file());
}

#[test]
fn a_function_whose_route_the_handler_does_not_serve_is_caught() {
    // A package with an extra function folder: the handler answers its route with 404, which
    // the contract test above would report (its example table has no entry either).
    let dist = build_package("stray");
    let stray = dist.join("Stray");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(
        stray.join("function.json"),
        r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get"],"route":"stray"},{"type":"http","direction":"out","name":"res"}]}"#,
    )
    .unwrap();
    let package = read_package(&dist);
    let (_handler, port) = start_handler(
        &package,
        &HashMap::from([
            ("ENTRA_CLIENT_ID".to_owned(), CLIENT_ID.to_owned()),
            ("ENTRA_ALLOWED_TENANTS".to_owned(), "*".to_owned()),
            (
                "ENTRA_AUTHORITY_HOST".to_owned(),
                "http://127.0.0.1:9".to_owned(),
            ),
        ]),
    );
    assert!(routes_to(&package, "GET", "/api/stray").is_some());
    assert_eq!(raw_status(port, "/api/stray"), Some(404));
    assert!(!example_requests("", "").contains_key("Stray"));
}
