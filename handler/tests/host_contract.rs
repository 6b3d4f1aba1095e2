//! The Functions host contract, played by this test since Core Tools cannot run here.
//!
//! It packages the app with `scripts/deploy/package.sh` (in a scratch copy of the repository, with the
//! binary cargo built for this test), reads `dist/host.json` and every `dist/*/function.json`
//! as the host does, starts `dist/handler` the way the host starts a custom handler (its working
//! directory, its arguments, `FUNCTIONS_CUSTOMHANDLER_PORT`), waits for it to answer on `/`
//! within the host's initialization timeout, and then forwards one request per function the way
//! the host forwards HTTP with `enableForwardingHttpRequest`: same method, `/api` path, query,
//! headers and body. Paths no function declares are answered by the "host" itself, as in Azure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::cloud::Cloud;
use test_support::directory::{EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID};

/// The host's default `InitializationTimeout` for a custom handler.
const HOST_INITIALIZATION_TIMEOUT: Duration = Duration::from_secs(30);
const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const CLIENT_SECRET: &str = "Hc7Zt2Qw9Lm4Xp8Vb3Nr6";

struct Function {
    name: String,
    route: String,
    /// `None` when function.json names no methods: the host then forwards every method.
    methods: Option<Vec<String>>,
}

struct Package {
    root: PathBuf,
    executable: PathBuf,
    working_directory: PathBuf,
    arguments: Vec<String>,
    route_prefix: String,
    functions: Vec<Function>,
}

/// The handler process as the host started it, and every JSON line it logged on stdout.
struct Handler {
    child: Child,
    port: u16,
    logs: Arc<Mutex<Vec<Value>>>,
}

impl Drop for Handler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Handler {
    /// The handler's own `request completed` line for the request sent with this correlation
    /// id, once it is logged.
    fn request_line(&self, correlation_id: &str) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .logs
                .lock()
                .unwrap()
                .iter()
                .find(|l| {
                    l["message"] == "request completed"
                        && l["span"]["correlation_id"] == correlation_id
                })
                .cloned();
            if found.is_some() || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// How many request lines carry one of these correlation ids.
    fn requests_logged_with(&self, ids: &[String]) -> usize {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| {
                l["message"] == "request completed"
                    && ids
                        .iter()
                        .any(|id| l["span"]["correlation_id"] == id.as_str())
            })
            .count()
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
        .arg(scratch.join("scripts/deploy/package.sh"))
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
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        functions.push(Function {
            // Without a route the host serves the function under its own name.
            route: trigger["route"].as_str().unwrap_or(&name).to_owned(),
            methods: trigger["methods"].as_array().map(|methods| {
                methods
                    .iter()
                    .map(|m| m.as_str().unwrap().to_ascii_uppercase())
                    .collect()
            }),
            name,
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

/// How often a start is tried again on a new port when another process took the one chosen.
const START_ATTEMPTS: usize = 5;

/// Starts the handler as the host starts a custom handler, and waits for it to answer.
///
/// The port is chosen by binding port 0 and letting it go, so until the handler binds it
/// another test may take it. The handler logs `handler listening` only once it holds the port,
/// and exits with code 1 ("cannot listen") when the port is taken: the first is awaited before
/// the host's readiness probe (so no other server can answer it), the second starts over on
/// another port, a bounded number of times.
fn start_handler(package: &Package, settings: &HashMap<String, String>) -> Handler {
    assert!(
        package.executable.is_file(),
        "host.json points at a missing executable: {}",
        package.executable.display()
    );
    for _ in 0..START_ATTEMPTS {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&package.executable)
            .args(&package.arguments)
            .current_dir(&package.working_directory)
            .env_clear()
            .envs(settings)
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .env("FUNCTIONS_WORKER_RUNTIME", "custom")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (listening, listened) = mpsc::channel::<()>();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(json) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if json["message"] == "handler listening" && json["port"] == port {
                    let _ = listening.send(());
                }
                lines.lock().unwrap().push(json);
            }
            // Dropping the sender tells the waiter that stdout closed: the handler exited.
        });
        let mut handler = Handler { child, port, logs };
        match listened.recv_timeout(HOST_INITIALIZATION_TIMEOUT) {
            Ok(()) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = handler.child.wait().unwrap();
                let mut stderr = String::new();
                handler
                    .child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                if status.code() == Some(1) && stderr.contains("cannot listen on") {
                    eprintln!("port {port} was taken before the handler bound it; again");
                    continue;
                }
                panic!("the handler exited before listening ({status}): {stderr}");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("the handler did not listen within the host's initialization timeout")
            }
        }
        // The host's own readiness probe: any HTTP answer on `/`.
        let started = Instant::now();
        while raw_status(port, "/").is_none() {
            assert!(
                started.elapsed() < HOST_INITIALIZATION_TIMEOUT,
                "the handler did not answer within the host's initialization timeout"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        return handler;
    }
    panic!("every one of {START_ATTEMPTS} ports was taken before the handler could bind it");
}

/// The status of a plain `GET path`, sent by hand; `None` while nothing answers. The host's
/// readiness probe counts any HTTP answer on `/`.
fn raw_status(port: u16, path: &str) -> Option<u16> {
    use std::io::Write;
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
/// (`{name}` segments match any one segment, `{*name}` the rest, literals ignore case) and
/// its method (any method when function.json names none).
fn routes_to<'a>(package: &'a Package, method: &str, path: &str) -> Option<&'a Function> {
    let rest = path.strip_prefix(&format!("/{}/", package.route_prefix))?;
    package.functions.iter().find(|f| {
        let method_declared = f
            .methods
            .as_ref()
            .is_none_or(|methods| methods.iter().any(|m| m == method));
        let template: Vec<&str> = f.route.split('/').collect();
        let actual: Vec<&str> = rest.split('/').collect();
        let path_declared = match template.last() {
            Some(last) if last.starts_with("{*") => {
                actual.len() >= template.len()
                    && segments_match(&template[..template.len() - 1], &actual)
            }
            _ => template.len() == actual.len() && segments_match(&template, &actual),
        };
        method_declared && path_declared
    })
}

fn segments_match(template: &[&str], actual: &[&str]) -> bool {
    template.iter().zip(actual).all(|(t, a)| {
        if t.starts_with('{') {
            !a.is_empty()
        } else {
            t.eq_ignore_ascii_case(a)
        }
    })
}

/// A path the host routes to this function: each `{placeholder}` filled with `me`.
fn concrete_path(package: &Package, function: &Function) -> String {
    let segments: Vec<&str> = function
        .route
        .split('/')
        .map(|s| if s.starts_with('{') { "me" } else { s })
        .collect();
    format!("/{}/{}", package.route_prefix, segments.join("/"))
}

/// The methods the host is asked for here; a function.json may declare any of them.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// What the host answered.
struct HostAnswer {
    /// The function the host forwarded the request to; `None` when it answered its own 404.
    function: Option<String>,
    status: u16,
    /// The correlation id the answer carries back (the handler echoes it; the host does not).
    echoed_id: Option<String>,
}

/// The Functions host as this test plays it: routes by the package's function.json files,
/// answers what no function declares with its own empty 404 without involving the handler,
/// and forwards the rest the way `enableForwardingHttpRequest` does (same method, `/api` path,
/// query, headers and body). Each request carries its own correlation id, so the handler's log
/// shows which requests reached it.
struct Host<'a> {
    package: &'a Package,
    handler: &'a Handler,
    http: reqwest::Client,
}

impl Host<'_> {
    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        token: Option<&str>,
        body: Option<&Value>,
        correlation_id: &str,
    ) -> HostAnswer {
        let path = path_and_query.split('?').next().unwrap();
        let Some(function) = routes_to(self.package, method, path) else {
            return HostAnswer {
                function: None,
                status: 404,
                echoed_id: None,
            };
        };
        let mut request = self
            .http
            .request(
                method.parse().unwrap(),
                format!("http://127.0.0.1:{}{path_and_query}", self.handler.port),
            )
            .header(
                "x-azure-functions-invocationid",
                "3f9a0000-0000-4000-8000-000000000001",
            )
            .header("user-agent", "Azure-Functions-Host/4.1045.0")
            .header("x-ms-client-request-id", correlation_id);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        HostAnswer {
            function: Some(function.name.clone()),
            status: response.status().as_u16(),
            echoed_id: response
                .headers()
                .get("x-ms-client-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// Every method of every function that function.json declares, sent through the host: the
    /// problems found, one line each, where the handler does not serve it as that function
    /// (its log names another function, or it answers 404 or 405).
    async fn declared_but_not_served(&self, token: Option<&str>) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, function) in self.package.functions.iter().enumerate() {
            let methods = function
                .methods
                .clone()
                .unwrap_or_else(|| METHODS.map(str::to_owned).to_vec());
            for method in methods {
                let id = format!("host-declared-{i}-{method}");
                let path = concrete_path(self.package, function);
                let body = (method != "GET").then(|| json!({}));
                let answer = self.send(&method, &path, token, body.as_ref(), &id).await;
                let Some(line) = self.handler.request_line(&id) else {
                    problems.push(format!(
                        "{}: {method} {path} was answered {} without reaching the handler",
                        function.name, answer.status
                    ));
                    continue;
                };
                let status = line["status"].as_u64().unwrap_or_default();
                if line["span"]["route"] != function.name.as_str() || [404, 405].contains(&status) {
                    problems.push(format!(
                        "{}: {method} {path} reached the handler as {} and got {status}",
                        function.name, line["span"]["route"]
                    ));
                }
            }
        }
        problems
    }
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
            "OpenApi",
            ("GET".into(), "/api/openapi.json", None, String::new(), 200),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_packaged_app_serves_every_function_as_the_host_forwards_it() {
    // Arrange: the package, the fakes behind it, and the handler started as the host would.
    let package = read_package(&build_package("serve"));
    let Cloud { entra, graph, acs } = Cloud::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
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
    let handler = start_handler(&package, &settings);
    let host = Host {
        package: &package,
        handler: &handler,
        http: reqwest::Client::new(),
    };
    let worker = entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .sign();
    let expert = entra.token_v2(CLIENT_ID, EXPERT_TENANT, EXPERT_OID).sign();
    let examples = example_requests(&worker, &expert);

    // Every function folder has an example, so a new function cannot go untested here.
    for function in &package.functions {
        assert!(
            examples.contains_key(function.name.as_str()),
            "no example request for function {}",
            function.name
        );
    }

    // Act and assert: each example through the host reaches the handler as the very function
    // that declares it, and the answer is the handler's own.
    let mut forwarded = Vec::new();
    for (i, (name, (method, path_and_query, body, token, expected))) in examples.iter().enumerate()
    {
        let id = format!("host-example-{i}");
        let token = (!token.is_empty()).then_some(token.as_str());
        let answer = host
            .send(method, path_and_query, token, body.as_ref(), &id)
            .await;

        assert_eq!(
            answer.function.as_deref(),
            Some(*name),
            "{name}: the host routes {method} {path_and_query} by function.json to this function"
        );
        assert_eq!(
            answer.status, *expected,
            "{name}: {method} {path_and_query}"
        );
        assert_eq!(answer.echoed_id.as_deref(), Some(id.as_str()));
        let line = handler
            .request_line(&id)
            .unwrap_or_else(|| panic!("{name}: the handler never logged request {id}"));
        assert_eq!(line["span"]["route"], *name, "{line}");
        assert_eq!(line["span"]["method"], method.as_str(), "{line}");
        assert_eq!(line["status"], *expected, "{line}");
        forwarded.push(id);
    }

    // Every method each function.json declares is one the handler serves as that function.
    let problems = host.declared_but_not_served(Some(&worker)).await;
    assert!(problems.is_empty(), "{problems:#?}");

    // What no function.json declares gets the host's own 404 and never reaches the handler:
    // every undeclared method of every function's path, and paths no function has.
    let mut undeclared: Vec<(&str, String)> = vec![
        ("GET", "/api/nothing-here".to_owned()),
        ("GET", "/api".to_owned()),
        ("GET", "/health".to_owned()),
        ("GET", "/api/health/more".to_owned()),
        ("POST", "/api/users/me/photo/more".to_owned()),
    ];
    for function in &package.functions {
        for method in METHODS {
            let path = concrete_path(&package, function);
            if routes_to(&package, method, &path).is_none() {
                undeclared.push((method, path));
            }
        }
    }
    assert!(
        undeclared.len() > package.functions.len(),
        "every function declares every method: {undeclared:?}"
    );
    let mut probes = Vec::new();
    for (i, (method, path)) in undeclared.iter().enumerate() {
        let id = format!("host-undeclared-{i}");
        let answer = host.send(method, path, Some(&worker), None, &id).await;
        assert_eq!(answer.function, None, "{method} {path}");
        assert_eq!(answer.status, 404, "{method} {path}");
        probes.push(id);
    }
    // A last forwarded request: once the handler has logged it, it would have logged any
    // probe that had reached it.
    let answer = host
        .send("GET", "/api/health", None, None, "host-last")
        .await;
    assert_eq!(answer.status, 200);
    assert!(handler.request_line("host-last").is_some());
    assert_eq!(
        handler.requests_logged_with(&probes),
        0,
        "requests no function.json declares reached the handler"
    );
    assert_eq!(
        handler.requests_logged_with(&forwarded),
        examples.len(),
        "each forwarded example was logged once"
    );
    assert!(package.root.join("handler").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_json_the_handler_does_not_serve_is_caught() {
    // A package with an extra function folder whose route the handler does not serve, and a
    // Health function that also declares DELETE: the host would forward both to the handler,
    // which answers 404 and 405.
    let dist = build_package("stray");
    let stray = dist.join("Stray");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(
        stray.join("function.json"),
        r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get"],"route":"stray"},{"type":"http","direction":"out","name":"res"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dist.join("Health/function.json"),
        r#"{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":["get","delete"],"route":"health"},{"type":"http","direction":"out","name":"res"}]}"#,
    )
    .unwrap();
    let package = read_package(&dist);
    let handler = start_handler(
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
    let host = Host {
        package: &package,
        handler: &handler,
        http: reqwest::Client::new(),
    };

    let problems = host.declared_but_not_served(None).await;

    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("Health: DELETE /api/health") && p.ends_with("got 405")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("Stray: GET /api/stray") && p.ends_with("got 404")),
        "{problems:#?}"
    );
    assert!(!example_requests("", "").contains_key("Stray"));
}
