//! OpenTelemetry export to Application Insights, end to end: the handler with telemetry on,
//! the local cloud, the managed identity and a fake ingestion endpoint that checks envelopes
//! and bearer tokens as the service does.
//!
//! The Azure SDK reads the managed-identity endpoint from the process environment, and the
//! `tracing` subscriber that feeds the exporter is process-wide: so this binary has its own
//! `main`, which sets both up once and runs the cases one after another.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use handler::config::Config;
use handler::otel::Telemetry;
use handler::state::AppState;
use serde_json::{Value, json};
use test_support::app_insights::{FakeAppInsights, Mode};
use test_support::cloud::Cloud;
use test_support::directory::{EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID};
use test_support::managed_identity::FakeManagedIdentity;

const IDENTITY_HEADER: &str = "Tq8mVb3NxR6yKz2Wp5";
const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const CLIENT_SECRET: &str = "Lk82Hs5QwPz3Vn7RbT4";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const HOST_SPAN_ID: &str = "00f067aa0ba902b7";
const SUBJECT: &str = "Pump 7 vibration at Gate Nine";
const MESSAGE: &str = "Bring the torque wrench, Robin";

struct World {
    addr: SocketAddr,
    http: reqwest::Client,
    cloud: Cloud,
    identity: FakeManagedIdentity,
    ingestion: FakeAppInsights,
    telemetry: Arc<Telemetry>,
}

impl World {
    fn token(&self) -> String {
        self.cloud
            .entra
            .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
            .sign()
    }

    /// A POST to one of the handler's functions, as the tab sends it.
    fn post(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("http://{}{path}", self.addr))
            .bearer_auth(token)
    }

    async fn create_meeting(&self, token: &str) -> reqwest::Response {
        self.post("/api/meetings", token)
            .header("traceparent", format!("00-{TRACE_ID}-{HOST_SPAN_ID}-01"))
            .json(&json!({
                "subject": SUBJECT,
                "startDateTime": "2026-11-26T14:00:00Z",
                "endDateTime": "2026-11-26T15:00:00Z",
                "participants": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT,
                    "upn": "robin@experts.example", "role": "presenter"}]
            }))
            .send()
            .await
            .unwrap()
    }

    async fn notify(&self, token: &str) -> reqwest::Response {
        self.post("/api/notifications/chat", token)
            .json(&json!({"recipients": [EXPERT_OID], "message": MESSAGE}))
            .send()
            .await
            .unwrap()
    }

    async fn validate(&self, token: &str) -> reqwest::Response {
        self.post("/api/token/validate", token)
            .send()
            .await
            .unwrap()
    }

    /// Exports what is queued; the SDK's flush blocks, so it runs off the runtime's workers.
    async fn flush(&self) {
        let telemetry = self.telemetry.clone();
        tokio::task::spawn_blocking(move || telemetry.force_flush())
            .await
            .unwrap();
    }

    /// The accepted envelopes once one satisfies `done` (bounded wait).
    async fn envelopes_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..100 {
            self.flush().await;
            let envelopes = self.ingestion.envelopes();
            if done(&envelopes) {
                return envelopes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the expected telemetry never arrived: {:#?} (uploads {}, answers {:?}, identity requests {:?})",
            self.ingestion.envelopes(),
            self.ingestion.uploads(),
            self.ingestion.answers(),
            self.identity.requests(),
        );
    }
}

fn base(envelope: &Value) -> &Value {
    &envelope["data"]["baseData"]
}

fn of_type<'a>(envelopes: &'a [Value], base_type: &str) -> Vec<&'a Value> {
    envelopes
        .iter()
        .filter(|e| e["data"]["baseType"] == base_type)
        .collect()
}

fn in_trace<'a>(envelopes: &'a [Value], trace_id: &str) -> Vec<&'a Value> {
    envelopes
        .iter()
        .filter(|e| e["tags"]["ai.operation.id"] == trace_id)
        .collect()
}

async fn create_meeting_is_a_server_span_of_the_hosts_trace_with_client_spans(world: &World) {
    // Arrange
    world.ingestion.clear();
    let token = world.token();

    // Act
    let response = world.create_meeting(&token).await;

    // Assert: one request, child of the host's span, named by the function.
    assert_eq!(response.status(), 201);
    let envelopes = world
        .envelopes_until(|all| {
            let trace = in_trace(all, TRACE_ID);
            trace.iter().any(|e| e["data"]["baseType"] == "RequestData")
                && trace
                    .iter()
                    .filter(|e| e["data"]["baseType"] == "RemoteDependencyData")
                    .count()
                    >= 2
        })
        .await;
    let trace: Vec<Value> = in_trace(&envelopes, TRACE_ID)
        .into_iter()
        .cloned()
        .collect();
    let requests = of_type(&trace, "RequestData");
    assert_eq!(requests.len(), 1, "{trace:#?}");
    let request = requests[0];
    assert_eq!(request["tags"]["ai.operation.parentId"], HOST_SPAN_ID);
    assert_eq!(base(request)["name"], "CreateMeeting");
    assert_eq!(base(request)["responseCode"], "201");
    assert_eq!(base(request)["success"], true);
    assert_eq!(base(request)["properties"]["tenant_id"], FIELD_TENANT);
    assert_eq!(base(request)["properties"]["outcome"], "ok");
    let request_id = base(request)["id"].as_str().unwrap();

    // The on-behalf-of exchange and the Graph call are its children, with their status.
    let dependencies = of_type(&trace, "RemoteDependencyData");
    for dependency in &dependencies {
        assert_eq!(dependency["tags"]["ai.operation.parentId"], request_id);
    }
    let named = |name: &str| {
        dependencies
            .iter()
            .find(|d| base(d)["name"] == name)
            .unwrap_or_else(|| panic!("no dependency {name}: {dependencies:#?}"))
    };
    let obo = named("POST /{id}/oauth2/v2.0/token");
    assert_eq!(base(obo)["resultCode"], "200");
    assert_eq!(base(obo)["success"], true);
    assert_eq!(base(obo)["target"], "127.0.0.1");
    let graph = named("POST /v1.0/me/onlineMeetings");
    assert_eq!(base(graph)["resultCode"], "201");
    assert_eq!(base(graph)["success"], true);
    assert!(
        base(graph)["properties"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "Graph's request-id is kept for support: {graph:#?}"
    );
}

async fn a_refused_token_is_a_failed_request_with_its_code(world: &World) {
    // Arrange
    world.ingestion.clear();
    let expired = world
        .cloud
        .entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .claim("exp", test_support::tokens::unix_now() - 3600)
        .sign();

    // Act
    let response = world.create_meeting(&expired).await;

    // Assert
    assert_eq!(response.status(), 401);
    let envelopes = world
        .envelopes_until(|all| {
            of_type(all, "RequestData")
                .iter()
                .any(|e| base(e)["responseCode"] == "401")
        })
        .await;
    let failed = of_type(&envelopes, "RequestData")
        .into_iter()
        .find(|e| base(e)["responseCode"] == "401")
        .unwrap();
    assert_eq!(base(failed)["name"], "CreateMeeting");
    assert_eq!(base(failed)["success"], false);
    assert_eq!(base(failed)["properties"]["outcome"], "invalid_token");
}

async fn uploads_carry_an_identity_token_for_azure_monitor(world: &World) {
    // Assert: every upload so far was accepted by an endpoint that wants an Entra token, and
    // the identity was asked for the ingestion audience.
    let answers = world.ingestion.answers();
    assert!(!answers.is_empty());
    assert!(answers.iter().all(|status| *status == 200), "{answers:?}");
    assert!(
        world.identity.requests().iter().any(|r| r
            .resource
            .as_deref()
            .is_some_and(|res| res.starts_with("https://monitor.azure.com"))),
        "{:?}",
        world.identity.requests()
    );

    // And the fake refuses an upload without one, as the service does.
    let ca = std::fs::read(test_support::http::TEST_CA_PEM_PATH).unwrap();
    let trusting = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
        .build()
        .unwrap();
    let refused = trusting
        .post(world.ingestion.track_url())
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

async fn nothing_personal_or_secret_is_exported(world: &World) {
    // Arrange: a session's worth of calls, failures included.
    world.ingestion.clear();
    let token = world.token();
    assert_eq!(world.create_meeting(&token).await.status(), 201);
    assert_eq!(world.notify(&token).await.status(), 201);
    assert_eq!(world.validate(&token).await.status(), 200);
    let _ = world.validate("not-a-token").await;
    world
        .envelopes_until(|all| of_type(all, "RequestData").len() >= 4)
        .await;

    // Assert: no token, secret, UPN, subject or message text in any byte sent.
    let exported = world.ingestion.bodies().join("\n");
    let mut secrets: Vec<String> = vec![
        token.clone(),
        CLIENT_SECRET.to_owned(),
        IDENTITY_HEADER.to_owned(),
    ];
    secrets.extend(world.cloud.entra.token_endpoint().grants().issued_tokens());
    secrets.extend(world.identity.issued_token_values());
    test_support::log_hygiene::leaks(&exported, secrets.iter().map(String::as_str)).unwrap();
    for personal in [
        "avery@fieldworks.example",
        "robin@experts.example",
        "Avery",
        "Robin",
        SUBJECT,
        MESSAGE,
        "torque",
        "Gate Nine",
    ] {
        assert!(!exported.contains(personal), "{personal} was exported");
    }
}

async fn metrics_count_requests_token_sources_and_refusals(world: &World) {
    // Arrange: metrics are deltas since the last export, so export what came before.
    world.flush().await;
    world.ingestion.clear();
    let token = world
        .cloud
        .entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .claim("sid", "metrics")
        .sign();
    let expired = world
        .cloud
        .entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .claim("exp", test_support::tokens::unix_now() - 3600)
        .sign();

    // Act: a new SSO token exchanges once, then hits the cache; one token is refused.
    assert_eq!(world.create_meeting(&token).await.status(), 201);
    assert_eq!(world.create_meeting(&token).await.status(), 201);
    assert_eq!(world.validate(&expired).await.status(), 401);

    // Assert
    let metric = |all: &[Value], name: &str, property: &str, value: &str| -> Option<f64> {
        of_type(all, "MetricData").into_iter().find_map(|e| {
            let metric = &base(e)["metrics"][0];
            (metric["name"] == name && base(e)["properties"][property] == value)
                .then(|| metric["value"].as_f64())
                .flatten()
        })
    };
    let envelopes = world
        .envelopes_until(|all| metric(all, "handler.token.refusals", "reason", "expired").is_some())
        .await;
    assert_eq!(
        metric(&envelopes, "handler.requests", "function", "CreateMeeting"),
        Some(2.0)
    );
    assert_eq!(
        metric(&envelopes, "handler.obo.tokens", "source", "exchanged"),
        Some(1.0)
    );
    assert_eq!(
        metric(&envelopes, "handler.obo.tokens", "source", "cache_hit"),
        Some(1.0)
    );
    assert_eq!(
        metric(&envelopes, "handler.token.refusals", "reason", "expired"),
        Some(1.0)
    );
    // Bounded attributes only: no tenant or user in any metric.
    for e in of_type(&envelopes, "MetricData") {
        let properties = base(e)["properties"].as_object().unwrap();
        assert!(
            properties.keys().all(|k| [
                "function",
                "outcome",
                "source",
                "result",
                "reason",
                "service.name"
            ]
            .contains(&k.as_str())),
            "{e}"
        );
    }
}

async fn a_stalled_or_refusing_ingestion_endpoint_does_not_slow_requests(world: &World) {
    for mode in [Mode::Stall, Mode::Down, Mode::Throttle] {
        // Arrange: ingestion hangs (or refuses) while more spans are made than the queue holds.
        world.ingestion.set_mode(mode);
        let token = world.token();
        let uploads_before = world.ingestion.uploads();

        // Act: 2,500 validations, 8 at a time.
        let started = Instant::now();
        let mut slowest = Duration::ZERO;
        for _ in 0..(2500 / 8) {
            let batch = (0..8).map(|_| async {
                let sent = Instant::now();
                let status = world.validate(&token).await.status();
                (status, sent.elapsed())
            });
            for (status, took) in futures::future::join_all(batch).await {
                assert_eq!(status, 200);
                slowest = slowest.max(took);
            }
        }
        let total = started.elapsed();

        // Assert: generous bounds, far below the upload timeout and the exporter's retries.
        assert!(
            slowest < Duration::from_secs(2),
            "{mode:?}: slowest request took {slowest:?}"
        );
        assert!(
            total < Duration::from_secs(60),
            "{mode:?}: 2,500 requests took {total:?}"
        );
        if mode == Mode::Stall {
            // The exporter did try while the requests ran (its interval is 5 s)... or the queue
            // filled and asked for an export.
            for _ in 0..100 {
                if world.ingestion.uploads() > uploads_before {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(world.ingestion.uploads() > uploads_before);
        }
        println!("    {mode:?}: 2,500 requests in {total:?}, slowest {slowest:?}");
    }
    world.ingestion.set_mode(Mode::Accept);
}

fn main() -> ExitCode {
    // Bind the identity endpoint and publish it before any thread exists.
    let identity_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!(
        "http://{}/msi/token",
        identity_listener.local_addr().unwrap()
    );
    #[allow(unsafe_code)]
    // SAFETY: no other thread has been started yet, so nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", &endpoint);
        std::env::set_var("IDENTITY_HEADER", IDENTITY_HEADER);
        // The handler's log goes to stdout with the test's own lines; thousands of request
        // lines would bury them.
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "warn");
        }
    }
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let identity = FakeManagedIdentity::start_on(identity_listener, IDENTITY_HEADER)
            .await
            .unwrap();
        let ingestion = FakeAppInsights::start(Some(identity.issued_tokens()))
            .await
            .unwrap();
        let cloud = Cloud::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
        let settings: HashMap<&str, String> = [
            ("GRAPH_ENDPOINT", cloud.graph.endpoint()),
            ("ENTRA_CLIENT_ID", CLIENT_ID.to_owned()),
            ("ENTRA_ALLOWED_TENANTS", "*".to_owned()),
            ("ENTRA_AUTHORITY_HOST", cloud.entra.authority()),
            ("ENTRA_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("IDENTITY_ENDPOINT", endpoint.clone()),
            ("IDENTITY_HEADER", IDENTITY_HEADER.to_owned()),
            (
                "SSL_CERT_FILE",
                test_support::http::TEST_CA_PEM_PATH.to_owned(),
            ),
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                ingestion.connection_string(),
            ),
            (
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                "Authorization=AAD".to_owned(),
            ),
        ]
        .into_iter()
        .collect();
        let config = Config::from_lookup(|name| settings.get(name).cloned()).unwrap();
        let telemetry = Arc::new(Telemetry::build(&config).unwrap().unwrap());
        // The subscriber is the process's for good (the first test installs it), and so is
        // the thread that writes its lines.
        std::mem::forget(handler::telemetry::init(Some(&telemetry)));
        let state = AppState::build(config).unwrap();
        telemetry.use_identity(state.secrets.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(handler::run(listener, state, std::future::pending()));
        let world = World {
            addr,
            http: reqwest::Client::new(),
            cloud,
            identity,
            ingestion,
            telemetry,
        };

        println!("create_meeting_is_a_server_span_of_the_hosts_trace_with_client_spans");
        create_meeting_is_a_server_span_of_the_hosts_trace_with_client_spans(&world).await;
        println!("a_refused_token_is_a_failed_request_with_its_code");
        a_refused_token_is_a_failed_request_with_its_code(&world).await;
        println!("uploads_carry_an_identity_token_for_azure_monitor");
        uploads_carry_an_identity_token_for_azure_monitor(&world).await;
        println!("nothing_personal_or_secret_is_exported");
        nothing_personal_or_secret_is_exported(&world).await;
        println!("metrics_count_requests_token_sources_and_refusals");
        metrics_count_requests_token_sources_and_refusals(&world).await;
        println!("a_stalled_or_refusing_ingestion_endpoint_does_not_slow_requests");
        a_stalled_or_refusing_ingestion_endpoint_does_not_slow_requests(&world).await;
    });
    // The line libtest prints, which scripts/ci/test-totals.sh counts.
    println!(
        "\ntest result: ok. 6 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
