//! `spawn_app()`: the handler configured through its real settings, pointed at local fakes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use handler::config::Config;
use handler::state::AppState;
use test_support::acs::FakeAcs;
use test_support::cloud::Cloud;
use test_support::entra::FakeEntra;
use test_support::graph::FakeGraph;
use test_support::tokens::TokenBuilder;
use tokio::sync::oneshot;

pub use test_support::directory::{
    EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID, GUEST_OID,
};

pub const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
pub const APP_ID_URI: &str = "api://tab.contoso.example/6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
/// A tenant that never consented.
pub const STRANGER_TENANT: &str = "5a5a5000-0000-4000-8000-000000005a5a";
/// A canary: tests check that it never shows up in logs or answers.
pub const CLIENT_SECRET: &str = "7Qm2x9LrGk4Ts8WbNc3Vz";

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub entra: FakeEntra,
    pub graph: FakeGraph,
    pub acs: FakeAcs,
    /// Dropping it (or `shut_down`) stops the server as a SIGTERM does.
    stop: Option<oneshot::Sender<()>>,
}

/// The production settings the tests use, with the authority pointed at `entra` and Graph at
/// `graph_endpoint`.
pub fn settings(entra: &FakeEntra, graph_endpoint: &str) -> HashMap<String, String> {
    settings_with_acs(entra, graph_endpoint, None)
}

/// The same, with `ACS_CONNECTION_STRING` when given.
pub fn settings_with_acs(
    entra: &FakeEntra,
    graph_endpoint: &str,
    acs_connection_string: Option<String>,
) -> HashMap<String, String> {
    [
        ("ENTRA_CLIENT_ID", CLIENT_ID.to_owned()),
        ("ENTRA_APP_ID_URI", APP_ID_URI.to_owned()),
        (
            "ENTRA_ALLOWED_TENANTS",
            format!("{FIELD_TENANT},{EXPERT_TENANT}"),
        ),
        ("ENTRA_AUTHORITY_HOST", entra.authority()),
        ("ENTRA_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("GRAPH_ENDPOINT", graph_endpoint.to_owned()),
    ]
    .into_iter()
    .chain(acs_connection_string.map(|cs| ("ACS_CONNECTION_STRING", cs)))
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `adjust` has had its say on the configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let entra = FakeEntra::start().await.expect("fake Entra starts");
    spawn_app_against(entra, adjust).await
}

pub async fn spawn_app_against(entra: FakeEntra, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let Cloud { entra, graph, acs } = Cloud::around(entra, CLIENT_ID, CLIENT_SECRET)
        .await
        .expect("the emulated cloud starts");
    let settings = settings_with_acs(&entra, &graph.endpoint(), Some(acs.connection_string()));
    let mut config =
        Config::from_lookup(|name| settings.get(name).cloned()).expect("valid settings");
    config.tuning.retry_after = Duration::from_secs(7);
    // Retries keep their shape, on a scale a test can wait for.
    config.tuning.consent_retry_backoff = Duration::from_millis(10);
    config.tuning.upstream_retry_backoff = Duration::from_millis(10);
    adjust(&mut config);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let state = AppState::build(config).expect("state builds");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(handler::run(listener, state, async move {
        let _ = stopped.await;
    }));

    TestApp {
        addr,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
        entra,
        graph,
        acs,
        stop: Some(stop),
    }
}

impl TestApp {
    /// Stops accepting connections and drains the requests in flight, as on SIGTERM.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A valid v2.0 token of the field worker, signed with the published key.
    pub fn field_worker_token(&self) -> TokenBuilder {
        self.entra
            .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
    }

    /// A valid v2.0 token of the remote expert, from the other tenant.
    pub fn expert_token(&self) -> TokenBuilder {
        self.entra
            .token_v2(CLIENT_ID, EXPERT_TENANT, EXPERT_OID)
            .claim("name", "Robin Expert")
            .claim("preferred_username", "robin@experts.example")
    }

    /// A valid v2.0 token of Quinn, a B2B guest of the field worker's tenant (signed in there,
    /// from their home organization).
    pub fn guest_token(&self) -> TokenBuilder {
        self.entra
            .token_v2(CLIENT_ID, FIELD_TENANT, GUEST_OID)
            .claim("name", "Quinn Valve Consultant")
            .claim(
                "preferred_username",
                "quinn_valveconsult.example#EXT#@fieldworks.example",
            )
            .claim(
                "idp",
                "https://sts.windows.net/7c0a0000-0000-4000-8000-0000000c0a57/",
            )
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request reaches the handler")
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request reaches the handler")
    }

    /// `POST /api/meetings` as the holder of `token`.
    pub async fn create_meeting(&self, token: &str, body: &serde_json::Value) -> reqwest::Response {
        self.post_json("/api/meetings", token, body).await
    }

    /// `POST /api/notifications/chat` as the holder of `token`.
    pub async fn notify(&self, token: &str, body: &serde_json::Value) -> reqwest::Response {
        self.post_json("/api/notifications/chat", token, body).await
    }

    /// Checks that the handler asked nothing of Entra's token endpoint or of Graph.
    pub fn assert_nothing_went_upstream(&self) {
        assert!(self.token_requests().is_empty(), "token requests were made");
        assert!(self.graph.requests().is_empty(), "Graph was called");
    }

    /// Token requests the fake Entra received.
    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.entra.token_endpoint().requests()
    }

    pub async fn validate(&self, token: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/token/validate"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request reaches the handler")
    }

    pub async fn health(&self) -> serde_json::Value {
        self.http
            .get(self.url("/api/health"))
            .send()
            .await
            .expect("health answers")
            .json()
            .await
            .expect("health is JSON")
    }

    /// Waits (bounded) until health reports the signing keys as `ok`.
    pub async fn wait_for_signing_keys(&self) {
        for _ in 0..100 {
            let health = self.health().await;
            if health["checks"]["signingKeys"] == "ok" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("signing keys never loaded");
    }
}

/// Reads a problem answer and checks the parts every problem shares.
pub async fn problem(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "content type"
    );
    let body: serde_json::Value = response.json().await.expect("problem is JSON");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "code in {body}");
    assert_eq!(body["type"], format!("urn:remote-expert:problem:{code}"));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

/// Reads a 502 `upstream_error` answer and checks that its detail names `upstream_code` (the
/// upstream's own error code, which is all a caller may learn of it).
pub async fn upstream_error_naming(response: reqwest::Response, upstream_code: &str) {
    let body = problem(response, 502, "upstream_error").await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(upstream_code),
        "{upstream_code} not in {body}"
    );
}
