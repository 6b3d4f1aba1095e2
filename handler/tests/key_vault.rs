//! Secrets from Key Vault through the managed identity, driven through the real Azure SDK
//! against local fakes: the App Service identity endpoint and a vault with the real 401
//! challenge, reached through a transport that redirects `*.vault.azure.net` to loopback.
//!
//! The SDK reads `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` from the process environment, which can
//! only be set safely before any thread exists. So this binary has its own `main`: it binds the
//! fake identity endpoint, sets the environment, and only then starts the runtime and runs the
//! cases one after another. All cases share that one identity endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use handler::config::Config;
use handler::secrets::{ClientAuthentication, SdkTransport};
use handler::state::{AppState, Overrides};
use secrecy::{ExposeSecret, SecretString};
use test_support::acs::{ACCESS_KEY, FakeAcs};
use test_support::azure_transport::VaultRedirect;
use test_support::cloud::Cloud;
use test_support::entra::FakeEntra;
use test_support::graph::FakeGraph;
use test_support::key_vault::{FakeKeyVault, VAULT_RESOURCE};
use test_support::managed_identity::FakeManagedIdentity;
use tokio::sync::oneshot;

const IDENTITY_HEADER: &str = "Zp4kNw6YrT2cLq9VdX";
const VAULT_URI: &str = "https://remote-expert-test.vault.azure.net";
const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const USER_ASSIGNED_CLIENT_ID: &str = "a55e0000-0000-4000-8000-00000000a55e";
const TENANT: &str = "f1e1d000-0000-4000-8000-00000000f1e1";
const OID: &str = "0b1d0000-0000-4000-8000-000000000001";
const CLIENT_SECRET_V1: &str = "Hb71Xq7LrVb9Kp4WmZt3Qs8";
const CLIENT_SECRET_V2: &str = "Kc92Fj3TsWq8Rn5YhMv1Lp6";

/// Everything one case needs; the handler stops when it is dropped.
struct Case {
    state: AppState,
    addr: SocketAddr,
    vault: FakeKeyVault,
    entra: FakeEntra,
    graph: FakeGraph,
    acs: FakeAcs,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

struct Shared {
    identity: FakeManagedIdentity,
}

impl Case {
    async fn start(
        shared: &Shared,
        extra: &[(&str, &str)],
        prepare: impl FnOnce(&FakeKeyVault, &FakeAcs),
    ) -> Case {
        shared.identity.reset();
        // The app's identities: the system-assigned one and this user-assigned one.
        shared
            .identity
            .assign_user_identity(USER_ASSIGNED_CLIENT_ID);
        let cloud = Cloud::start(CLIENT_ID, CLIENT_SECRET_V1).await.unwrap();
        cloud.trust_managed_identity(shared.identity.issued_tokens());
        let Cloud { entra, graph, acs } = cloud;
        let vault = FakeKeyVault::start(shared.identity.issued_tokens())
            .await
            .unwrap();
        vault.set_secret("entra-client-secret", CLIENT_SECRET_V1);
        vault.set_secret("acs-connection-string", &acs.connection_string());
        prepare(&vault, &acs);

        let mut settings: HashMap<String, String> = [
            ("GRAPH_ENDPOINT", graph.endpoint()),
            ("ENTRA_CLIENT_ID", CLIENT_ID.to_owned()),
            ("ENTRA_ALLOWED_TENANTS", "*".to_owned()),
            ("ENTRA_AUTHORITY_HOST", entra.authority()),
            ("KEY_VAULT_URI", VAULT_URI.to_owned()),
            ("IDENTITY_ENDPOINT", shared.identity.endpoint()),
            ("IDENTITY_HEADER", IDENTITY_HEADER.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            settings.insert((*k).to_owned(), (*v).to_owned());
        }
        let mut config = Config::from_lookup(|name| settings.get(name).cloned()).unwrap();
        config.tuning.secret_retry_interval = Duration::from_millis(100);
        config.tuning.retry_after = Duration::from_secs(3);

        let overrides = Overrides {
            sdk_transport: Some(SdkTransport(VaultRedirect::transport(vault.addr()))),
        };
        let state = AppState::build_with(config, overrides).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(handler::run(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Case {
            state,
            addr,
            vault,
            entra,
            graph,
            acs,
            http: reqwest::Client::new(),
            _stop: stop,
        }
    }

    async fn client_secret(&self) -> Result<SecretString, String> {
        match self.state.secrets.client_credential.authentication().await {
            Ok(ClientAuthentication::Secret(secret)) => Ok(secret),
            Ok(ClientAuthentication::Assertion(_)) => panic!("expected a client secret"),
            Err(error) => Err(error.to_string()),
        }
    }

    /// A request to the handler as the signed-in user.
    async fn as_user(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.as_user_with_id(method, path, OID).await
    }

    /// A request as another user of the tenant, whose tokens no earlier request cached.
    async fn as_user_with_id(
        &self,
        method: reqwest::Method,
        path: &str,
        object_id: &str,
    ) -> reqwest::Response {
        let token = self.entra.token_v2(CLIENT_ID, TENANT, object_id).sign();
        self.http
            .request(method, format!("http://{}{path}", self.addr))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn post_as_user(&self, path: &str) -> reqwest::Response {
        self.as_user(reqwest::Method::POST, path).await
    }

    /// A POST as another user of the tenant (see `as_user_with_id`).
    async fn post_as_user_with_id(&self, path: &str, object_id: &str) -> reqwest::Response {
        self.as_user_with_id(reqwest::Method::POST, path, object_id)
            .await
    }

    /// The caller's own profile through Graph, which needs an on-behalf-of exchange.
    async fn my_profile(&self) -> reqwest::Response {
        self.as_user(reqwest::Method::GET, "/api/users/me").await
    }

    async fn health(&self) -> serde_json::Value {
        self.http
            .get(format!("http://{}/api/health", self.addr))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits (bounded) until health's `check` satisfies `accept`.
    async fn wait_for_check(
        &self,
        check: &str,
        accept: impl Fn(&str) -> bool,
    ) -> serde_json::Value {
        for _ in 0..200 {
            let health = self.health().await;
            if health["checks"][check].as_str().is_some_and(&accept) {
                return health;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "health check {check} never reached the expected state: {}",
            self.health().await
        );
    }

    /// Waits until health reports the client credential degraded, checks that the anonymous
    /// answer gives no reasons, and returns health with the reason the operator gets.
    async fn wait_for_degraded_credential(&self) -> (serde_json::Value, String) {
        let health = self
            .wait_for_check("clientCredential", |c| c == "degraded")
            .await;
        assert_no_reasons(&health);
        (health, self.client_secret().await.unwrap_err())
    }
}

async fn reads_secrets_with_the_system_assigned_identity(shared: &Shared) {
    // Arrange
    let case = Case::start(shared, &[], |_, _| {}).await;

    // Act
    let secret = case.client_secret().await.unwrap();

    // Assert: the SDK answered the vault's challenge with an identity token for the vault.
    assert_eq!(secret.expose_secret(), CLIENT_SECRET_V1);
    assert!(
        case.vault.anonymous_requests() >= 1,
        "the challenge was not exercised"
    );
    assert!(case.vault.api_versions().iter().all(|v| v == "2025-07-01"));
    let requests = shared.identity.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.resource.as_deref(), Some(VAULT_RESOURCE));
        assert_eq!(
            request.client_id, None,
            "system-assigned sends no client_id"
        );
        assert_eq!(request.api_version.as_deref(), Some("2019-08-01"));
        assert_eq!(request.identity_header.as_deref(), Some(IDENTITY_HEADER));
    }
    let health = case.wait_for_check("acs", |c| c == "ok").await;
    assert_eq!(health["checks"]["clientCredential"], "ok");
}

async fn uses_the_user_assigned_identity_when_azure_client_id_is_set(shared: &Shared) {
    let case = Case::start(
        shared,
        &[("AZURE_CLIENT_ID", USER_ASSIGNED_CLIENT_ID)],
        |_, _| {},
    )
    .await;

    assert_eq!(
        case.client_secret().await.unwrap().expose_secret(),
        CLIENT_SECRET_V1
    );

    let requests = shared.identity.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.client_id.as_deref() == Some(USER_ASSIGNED_CLIENT_ID))
    );
}

async fn a_burst_of_100_requests_makes_one_vault_read_and_one_identity_call(shared: &Shared) {
    // Arrange
    let case = Case::start(shared, &[], |_, _| {}).await;

    // Act: 100 concurrent needs of the client secret, racing the start-up read.
    let results = futures::future::join_all((0..100).map(|_| case.client_secret())).await;

    // Assert
    for result in results {
        assert_eq!(result.unwrap().expose_secret(), CLIENT_SECRET_V1);
    }
    assert_eq!(case.vault.reads("entra-client-secret"), 1);
    case.wait_for_check("acs", |c| c == "ok").await;
    assert_eq!(case.vault.reads("acs-connection-string"), 1);
    assert_eq!(
        shared.identity.requests().len(),
        1,
        "one identity token for all vault reads"
    );
    println!(
        "    burst of 100: {} vault read(s) of the client secret, {} managed-identity call(s)",
        case.vault.reads("entra-client-secret"),
        shared.identity.requests().len()
    );
}

async fn a_rejected_secret_is_read_again_once(shared: &Shared) {
    // Arrange: the secret was read, then rotated in the vault.
    let case = Case::start(shared, &[], |_, _| {}).await;
    let old = case.client_secret().await.unwrap();
    case.vault
        .set_secret("entra-client-secret", CLIENT_SECRET_V2);
    let crate_secret = match &case.state.secrets.client_credential {
        handler::secrets::ClientCredential::Secret(secret) => secret.clone(),
        other => panic!("expected a secret credential, got {other:?}"),
    };

    // Act: Entra said invalid_client for the old value, for ten requests at once.
    let refreshed =
        futures::future::join_all((0..10).map(|_| crate_secret.refresh_after_rejection(&old)))
            .await;

    // Assert: one extra read, and everyone gets the new value.
    for value in refreshed {
        assert_eq!(value.unwrap().expose_secret(), CLIENT_SECRET_V2);
    }
    assert_eq!(case.vault.reads("entra-client-secret"), 2);
    assert_eq!(
        case.client_secret().await.unwrap().expose_secret(),
        CLIENT_SECRET_V2
    );
}

async fn a_secret_refused_again_is_not_re_read_more_than_once_a_minute(shared: &Shared) {
    // Arrange: the vault holds a secret Entra does not accept (wrong in the vault too).
    let case = Case::start(shared, &[], |vault, _| {
        vault.set_secret("entra-client-secret", "not-the-registered-secret");
    })
    .await;
    case.wait_for_check("clientCredential", |c| c == "ok").await;
    let reads_at_start = case.vault.reads("entra-client-secret");

    // Act: five users in a row, each needing an on-behalf-of exchange.
    let mut statuses = Vec::new();
    for user in 0..5 {
        let oid = format!("0b1d0000-0000-4000-8000-00000000010{user}");
        let response = case
            .as_user_with_id(reqwest::Method::GET, "/api/users/me", &oid)
            .await;
        statuses.push(response.status().as_u16());
    }

    // Assert: every exchange failed as Entra said, and the vault was read again only once.
    assert_eq!(statuses, vec![502; 5]);
    assert_eq!(case.vault.reads("entra-client-secret") - reads_at_start, 1);
}

async fn an_acs_connection_string_from_the_vault_for_another_resource_is_not_used(shared: &Shared) {
    // Arrange: ACS_ENDPOINT names the fake; the vault's connection string names another host.
    let named_acs = FakeAcs::start(test_support::token_endpoint::TokenEndpoint::default().grants())
        .await
        .unwrap();
    let case = Case::start(shared, &[("ACS_ENDPOINT", &named_acs.endpoint())], |vault, _| {
        vault.set_secret(
            "acs-connection-string",
            &format!("endpoint=https://other-resource.communication.azure.com/;accesskey={ACCESS_KEY}"),
        );
    })
    .await;

    // Act
    let response = case.post_as_user("/api/acs/token").await;

    // Assert: 503, nothing signed or sent, and health degraded.
    assert_eq!(response.status(), 503);
    assert!(named_acs.records().is_empty());
    assert!(case.acs.records().is_empty());
    let health = case.wait_for_check("acs", |c| c == "degraded").await;
    assert_eq!(health["status"], "degraded");
}

async fn vault_down_at_start_is_degraded_then_recovers_by_itself(shared: &Shared) {
    // Arrange: the vault is down before the handler starts.
    let case = Case::start(shared, &[], |vault, _| vault.set_down(true)).await;

    // Act and assert: the handler runs, health says degraded (the reason is for the operator,
    // not in the anonymous answer), the secret is unavailable and says why.
    let (health, reason) = case.wait_for_degraded_credential().await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(reason, "Key Vault: answered 503");

    // Routes that need no secret keep working.
    let validated = case.post_as_user("/api/token/validate").await;
    assert_eq!(validated.status(), 200);

    // Act: the vault comes back; the background retry heals everything.
    case.vault.set_down(false);
    case.wait_for_check("clientCredential", |c| c == "ok").await;
    let health = case.wait_for_check("acs", |c| c == "ok").await;

    // Assert
    assert_eq!(health["status"], "ok");
    assert_eq!(
        case.client_secret().await.unwrap().expose_secret(),
        CLIENT_SECRET_V1
    );
}

async fn a_vault_that_denies_access_is_reported(shared: &Shared) {
    let case = Case::start(shared, &[], |vault, _| vault.set_deny(true)).await;

    let (health, reason) = case.wait_for_degraded_credential().await;

    assert_eq!(health["status"], "degraded");
    assert_eq!(
        reason,
        "Key Vault: access denied (403): grant the identity Key Vault Secrets User"
    );
}

async fn a_missing_secret_is_reported_by_name(shared: &Shared) {
    let case = Case::start(
        shared,
        &[("ENTRA_CLIENT_SECRET_NAME", "renamed-secret")],
        |_, _| {},
    )
    .await;

    // The name reaches the operator through the error (and the log), never anonymous callers.
    let (_, reason) = case.wait_for_degraded_credential().await;

    assert_eq!(reason, "Key Vault: secret renamed-secret not found (404)");
}

/// The anonymous health answer holds states only: no secret names, no vault reasons.
fn assert_no_reasons(health: &serde_json::Value) {
    for (check, state) in health["checks"].as_object().unwrap() {
        assert!(
            ["ok", "starting", "degraded"].contains(&state.as_str().unwrap()),
            "{check}: {state}"
        );
    }
    let text = health.to_string();
    for leak in ["secret", "403", "404", "503", "Key Vault"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

async fn the_federated_credential_is_an_identity_token_for_the_token_exchange(shared: &Shared) {
    // Arrange
    let case = Case::start(
        shared,
        &[
            ("ENTRA_CLIENT_CREDENTIAL", "managed-identity"),
            ("AZURE_CLIENT_ID", USER_ASSIGNED_CLIENT_ID),
        ],
        |_, _| {},
    )
    .await;

    // Act: twenty exchanges need an assertion.
    let mut assertions = Vec::new();
    for _ in 0..20 {
        match case
            .state
            .secrets
            .client_credential
            .authentication()
            .await
            .unwrap()
        {
            ClientAuthentication::Assertion(token) => assertions.push(token),
            ClientAuthentication::Secret(_) => panic!("no secret may be used"),
        }
    }

    // Assert: one identity call for api://AzureADTokenExchange, as the user-assigned identity,
    // whose token is the assertion every time; the client secret is never read.
    let exchange_requests: Vec<_> = shared
        .identity
        .requests()
        .into_iter()
        .filter(|r| r.resource.as_deref() == Some("api://AzureADTokenExchange"))
        .collect();
    assert_eq!(exchange_requests.len(), 1);
    assert_eq!(
        exchange_requests[0].client_id.as_deref(),
        Some(USER_ASSIGNED_CLIENT_ID)
    );
    let issued = shared
        .identity
        .issued_tokens()
        .lookup(assertions[0].expose_secret())
        .expect("the assertion is the identity's token");
    assert_eq!(issued.resource, "api://AzureADTokenExchange");
    assert!(
        assertions
            .iter()
            .all(|a| a.expose_secret() == assertions[0].expose_secret())
    );
    assert_eq!(case.vault.reads("entra-client-secret"), 0);
}

async fn a_secret_rotated_in_the_vault_is_picked_up_when_entra_refuses_the_old_one(
    shared: &Shared,
) {
    // Arrange: the handler has the old secret; the secret is rotated in the vault and the app
    // registration now only accepts the new one.
    let case = Case::start(shared, &[], |_, _| {}).await;
    assert_eq!(
        case.client_secret().await.unwrap().expose_secret(),
        CLIENT_SECRET_V1
    );
    case.vault
        .set_secret("entra-client-secret", CLIENT_SECRET_V2);
    case.entra
        .token_endpoint()
        .register_client(CLIENT_ID, &[CLIENT_SECRET_V2]);

    // Act
    let response = case.my_profile().await;

    // Assert: invalid_client, one re-read of the vault, a retry with the new secret.
    assert_eq!(response.status(), 200);
    let secrets_sent: Vec<String> = case
        .entra
        .token_endpoint()
        .requests()
        .iter()
        .map(|form| form["client_secret"].clone())
        .collect();
    assert_eq!(secrets_sent, [CLIENT_SECRET_V1, CLIENT_SECRET_V2]);
    assert_eq!(case.vault.reads("entra-client-secret"), 2);
}

async fn routes_that_need_the_secret_answer_503_while_the_vault_is_down(shared: &Shared) {
    let case = Case::start(shared, &[], |vault, _| vault.set_down(true)).await;

    let response = case.my_profile().await;

    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "3");
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "unavailable");
    assert!(case.entra.token_endpoint().requests().is_empty());
    assert!(case.graph.requests().is_empty());
}

async fn an_identity_endpoint_that_is_down_shows_in_health_and_heals(shared: &Shared) {
    // Arrange: the federated credential, and the platform's identity endpoint down from start.
    let case = Case::start(
        shared,
        &[
            ("ENTRA_CLIENT_CREDENTIAL", "managed-identity"),
            ("AZURE_CLIENT_ID", USER_ASSIGNED_CLIENT_ID),
        ],
        |_, _| shared.identity.set_down(true),
    )
    .await;

    // Act and assert: health names the dependency, the route that needs it answers 503.
    let health = case
        .wait_for_check("managedIdentity", |c| c == "degraded")
        .await;
    assert_eq!(health["status"], "degraded");
    let refused = case.my_profile().await;
    assert_eq!(refused.status(), 503);
    assert!(case.entra.token_endpoint().requests().is_empty());

    // Act: the endpoint comes back.
    shared.identity.set_down(false);
    let served = case.my_profile().await;

    // Assert
    assert_eq!(served.status(), 200);
    let health = case.wait_for_check("managedIdentity", |c| c == "ok").await;
    assert_eq!(health["checks"]["clientCredential"], "ok");
}

async fn a_throttling_vault_is_retried_by_the_sdk_then_reported(shared: &Shared) {
    // One 429 is absorbed by the SDK's retry; a vault that keeps throttling is a 503.
    let case = Case::start(shared, &[], |vault, _| vault.throttle_next(1)).await;
    let health = case.wait_for_check("clientCredential", |c| c == "ok").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(case.my_profile().await.status(), 200);

    let case = Case::start(shared, &[], |vault, _| vault.throttle_next(1000)).await;
    case.wait_for_check("clientCredential", |c| c == "degraded")
        .await;
    assert_eq!(case.my_profile().await.status(), 503);
    assert_eq!(
        case.client_secret().await.unwrap_err(),
        "Key Vault: answered 429"
    );
}

async fn the_federated_credential_signs_the_on_behalf_of_exchange(shared: &Shared) {
    // Arrange
    let case = Case::start(
        shared,
        &[
            ("ENTRA_CLIENT_CREDENTIAL", "managed-identity"),
            ("AZURE_CLIENT_ID", USER_ASSIGNED_CLIENT_ID),
        ],
        |_, _| {},
    )
    .await;

    // Act
    let response = case.my_profile().await;

    // Assert: Entra saw the identity's token as a jwt-bearer assertion, and no secret.
    assert_eq!(response.status(), 200);
    let requests = case.entra.token_endpoint().requests();
    assert_eq!(requests.len(), 1);
    let form = &requests[0];
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!form.contains_key("client_secret"));
    let issued = shared
        .identity
        .issued_tokens()
        .lookup(&form["client_assertion"])
        .expect("the assertion is a managed-identity token");
    assert_eq!(issued.resource, "api://AzureADTokenExchange");
    assert_eq!(issued.client_id.as_deref(), Some(USER_ASSIGNED_CLIENT_ID));
}

/// A `Case::start` preparation: the vault's ACS connection string names the resource but
/// carries no key, so ACS is called with the managed identity's token.
fn store_a_keyless_acs_connection_string(vault: &FakeKeyVault, acs: &FakeAcs) {
    vault.set_secret(
        "acs-connection-string",
        &format!("endpoint={}/", acs.endpoint()),
    );
}

async fn acs_without_an_access_key_is_called_with_the_identitys_entra_token(shared: &Shared) {
    // Arrange: the connection string in the vault names the resource but carries no key.
    let case = Case::start(shared, &[], store_a_keyless_acs_connection_string).await;

    // Act
    let response = case.post_as_user("/api/acs/token").await;

    // Assert: ACS accepted a managed-identity token for its data plane.
    assert_eq!(response.status(), 200);
    let records = case.acs.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].authenticated_by, "entra");
    assert_eq!(records[0].body["userId"], OID);
    assert!(
        shared
            .identity
            .requests()
            .iter()
            .any(|r| r.resource.as_deref() == Some("https://communication.azure.com/"))
    );
}

async fn acs_with_the_key_from_the_vault_signs_with_hmac(shared: &Shared) {
    let case = Case::start(shared, &[], |_, _| {}).await;
    let response = case.post_as_user("/api/acs/token").await;

    assert_eq!(response.status(), 200);
    assert_eq!(case.acs.records()[0].authenticated_by, "hmac");
}

async fn an_acs_connection_string_rotated_in_the_vault_is_used_once_read_again(shared: &Shared) {
    // Arrange: the vault first holds a keyless connection string; one exchange uses it.
    let case = Case::start(shared, &[], store_a_keyless_acs_connection_string).await;
    assert_eq!(case.post_as_user("/api/acs/token").await.status(), 200);
    let secret = case.state.secrets.acs_connection_string.clone().unwrap();
    let keyless = SecretString::clone(&secret.current_shared().unwrap());

    // Act: the operator adds the key; the handler reads the secret again (as its background
    // refresh would), then a new token is exchanged.
    case.vault
        .set_secret("acs-connection-string", &case.acs.connection_string());
    secret.refresh_after_rejection(&keyless).await.unwrap();
    // Another user, so the first user's cached ACS token does not answer.
    let response = case
        .post_as_user_with_id("/api/acs/token", "0b1d0000-0000-4000-8000-000000000201")
        .await;
    assert_eq!(response.status(), 200);

    // Assert: the parsed string kept for the first read was not reused for the second.
    let methods: Vec<_> = case
        .acs
        .records()
        .into_iter()
        .map(|r| r.authenticated_by)
        .collect();
    assert_eq!(methods, ["entra", "hmac"]);
}

async fn an_acs_key_regenerated_since_the_read_is_read_again_when_acs_refuses_it(shared: &Shared) {
    // Arrange: one exchange signed with the key the vault held at start.
    let case = Case::start(shared, &[], |_, _| {}).await;
    assert_eq!(case.post_as_user("/api/acs/token").await.status(), 200);
    let reads_before = case.vault.reads("acs-connection-string");

    // Act: the operator regenerates the key and stores the new connection string; before the
    // background refresh comes round, another user asks for a token.
    case.acs.regenerate_access_key();
    case.vault
        .set_secret("acs-connection-string", &case.acs.connection_string());
    let response = case
        .post_as_user_with_id("/api/acs/token", "0b1d0000-0000-4000-8000-000000000202")
        .await;

    // Assert: refused with the old key, the string read again once, accepted with the new key.
    assert_eq!(response.status(), 200);
    let statuses: Vec<_> = case.acs.records().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 401, 200]);
    assert_eq!(case.vault.reads("acs-connection-string") - reads_before, 1);
}

async fn an_acs_refusal_of_the_teams_token_does_not_read_the_key_again(shared: &Shared) {
    // Arrange: ACS will refuse the user's Teams token itself, not the signature.
    let case = Case::start(shared, &[], |_, acs| {
        acs.script([(
            401,
            serde_json::json!({"error": {"code": "InvalidAccessToken", "message": "Provided access token is not valid."}}),
        )]);
    })
    .await;
    case.wait_for_check("acs", |c| c == "ok").await;
    let reads_before = case.vault.reads("acs-connection-string");

    // Act
    let response = case.post_as_user("/api/acs/token").await;

    // Assert: one call, no second read of the connection string.
    assert_eq!(response.status(), 502);
    assert_eq!(case.acs.records().len(), 1);
    assert_eq!(case.vault.reads("acs-connection-string"), reads_before);
}

type CaseFn = for<'a> fn(&'a Shared) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), (|shared| Box::pin($name(shared))) as CaseFn)),*]
    };
}

/// Collects every log line the process writes, to check that no secret is among them.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The pseudo-case that checks, after the cases that ran, that nothing they logged leaks a
/// secret; it is listed, filtered and skipped like the cases.
const LEAK_CHECK: &str = "no_secret_or_identity_token_in_the_logs";

/// libtest's command line, as far as this harness honours it: `cargo test` and
/// `cargo test -- ARGS` work on this binary as on the others. Anything else is refused, so a
/// flag never silently turns into a name filter.
#[derive(Debug, Default)]
struct HarnessArgs {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
    quiet: bool,
    /// `--ignored`: only ignored cases run, and no case here is ignored.
    ignored_only: bool,
    help: bool,
}

const USAGE: &str = "usage: key_vault [FILTER...] [--skip NAME]... [--exact] [--list] \
[--ignored | --include-ignored] [--nocapture] [--show-output] [--test-threads N] [-q | --quiet] \
[--format pretty|terse] [--color auto|always|never]";

impl HarnessArgs {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<HarnessArgs, String> {
        let mut parsed = HarnessArgs::default();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .map(str::to_owned)
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match flag.as_str() {
                "--skip" => parsed.skip.push(value("--skip")?),
                "--exact" => parsed.exact = true,
                "--list" => parsed.list = true,
                "-q" | "--quiet" => parsed.quiet = true,
                "--ignored" => parsed.ignored_only = true,
                // No case is ignored, so including them changes nothing.
                "--include-ignored" => {}
                // Nothing is captured: a case's output and panic message always show.
                "--nocapture" | "--no-capture" | "--show-output" => {}
                // The cases share one identity endpoint and run one after another.
                "--test-threads" => {
                    let threads = value("--test-threads")?;
                    if !threads.parse::<usize>().is_ok_and(|n| n > 0) {
                        return Err(format!(
                            "--test-threads must be a positive number, not '{threads}'"
                        ));
                    }
                }
                "--format" => match value("--format")?.as_str() {
                    "pretty" => {}
                    "terse" => parsed.quiet = true,
                    other => return Err(format!("--format {other} is not supported here")),
                },
                "--color" => match value("--color")?.as_str() {
                    "auto" | "always" | "never" => {}
                    other => return Err(format!("--color {other} is not a color choice")),
                },
                "-h" | "--help" => parsed.help = true,
                _ if flag.starts_with('-') => return Err(format!("unknown option '{arg}'")),
                _ => parsed.filters.push(arg),
            }
        }
        Ok(parsed)
    }

    fn matches(&self, name: &str, pattern: &str) -> bool {
        if self.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    }

    fn selects(&self, name: &str) -> bool {
        !self.ignored_only
            && (self.filters.is_empty() || self.filters.iter().any(|f| self.matches(name, f)))
            && !self.skip.iter().any(|s| self.matches(name, s))
    }
}

fn main() -> ExitCode {
    // libtest's arguments first, before anything starts.
    let args = match HarnessArgs::parse(std::env::args().skip(1)) {
        Ok(args) if args.help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(args) => args,
        Err(error) => {
            eprintln!("error: {error}\n{USAGE}");
            return ExitCode::from(101);
        }
    };

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
    }

    let logs = LogCapture::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("debug,hyper=info,hyper_util=info,h2=info,rustls=info")
        .with_writer(move || writer.clone())
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let identity = runtime
        .block_on(FakeManagedIdentity::start_on(
            identity_listener,
            IDENTITY_HEADER,
        ))
        .unwrap();
    assert_eq!(identity.endpoint(), endpoint);
    let shared = Shared { identity };

    let all: &[(&str, CaseFn)] = cases![
        reads_secrets_with_the_system_assigned_identity,
        uses_the_user_assigned_identity_when_azure_client_id_is_set,
        a_burst_of_100_requests_makes_one_vault_read_and_one_identity_call,
        a_rejected_secret_is_read_again_once,
        a_secret_refused_again_is_not_re_read_more_than_once_a_minute,
        an_acs_connection_string_from_the_vault_for_another_resource_is_not_used,
        vault_down_at_start_is_degraded_then_recovers_by_itself,
        a_vault_that_denies_access_is_reported,
        a_missing_secret_is_reported_by_name,
        the_federated_credential_is_an_identity_token_for_the_token_exchange,
        a_secret_rotated_in_the_vault_is_picked_up_when_entra_refuses_the_old_one,
        routes_that_need_the_secret_answer_503_while_the_vault_is_down,
        the_federated_credential_signs_the_on_behalf_of_exchange,
        an_identity_endpoint_that_is_down_shows_in_health_and_heals,
        a_throttling_vault_is_retried_by_the_sdk_then_reported,
        acs_without_an_access_key_is_called_with_the_identitys_entra_token,
        acs_with_the_key_from_the_vault_signs_with_hmac,
        an_acs_connection_string_rotated_in_the_vault_is_used_once_read_again,
        an_acs_key_regenerated_since_the_read_is_read_again_when_acs_refuses_it,
        an_acs_refusal_of_the_teams_token_does_not_read_the_key_again,
    ];
    let names: Vec<&str> = all
        .iter()
        .map(|(name, _)| *name)
        .chain([LEAK_CHECK])
        .collect();
    let selected = names.iter().filter(|name| args.selects(name)).count();
    if args.list {
        for name in names.iter().filter(|name| args.selects(name)) {
            println!("{name}: test");
        }
        if !args.quiet {
            println!("\n{selected} tests, 0 benchmarks");
        }
        return ExitCode::SUCCESS;
    }
    if selected == 0 && !args.ignored_only {
        eprintln!(
            "error: no key_vault case matches {:?} (skipping {:?}{}); the cases are:\n    {}",
            args.filters,
            args.skip,
            if args.exact { ", exact" } else { "" },
            names.join("\n    ")
        );
        return ExitCode::from(101);
    }

    let began = std::time::Instant::now();
    let (mut passed, mut failed) = (0, 0);
    let mut failures: Vec<String> = Vec::new();
    let mut report = |name: &str, outcome: Result<(), String>| {
        match &outcome {
            Ok(()) => passed += 1,
            Err(_) => {
                failed += 1;
                failures.push(name.to_owned());
            }
        }
        match (&outcome, args.quiet) {
            (Ok(()), false) => println!("test {name} ... ok"),
            (Err(why), false) => println!("test {name} ... FAILED{why}"),
            (Ok(()), true) => print!("."),
            (Err(_), true) => print!("F"),
        }
        let _ = std::io::stdout().flush();
    };
    println!("\nrunning {selected} tests");
    for (name, case) in all {
        if !args.selects(name) {
            continue;
        }
        let outcome = runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(60),
                AssertUnwindSafe(case(&shared)).catch_unwind(),
            )
            .await
        });
        report(
            name,
            match outcome {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) => Err(String::new()),
                Err(_) => Err(" (timed out)".to_owned()),
            },
        );
    }

    // No secret, identity token or identity header may appear in anything logged.
    if args.selects(LEAK_CHECK) {
        let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
        let mut canaries: Vec<String> = shared.identity.issued_token_values();
        canaries.extend(
            [
                CLIENT_SECRET_V1,
                CLIENT_SECRET_V2,
                IDENTITY_HEADER,
                ACCESS_KEY,
            ]
            .map(str::to_owned),
        );
        match test_support::log_hygiene::leaks(&logged, canaries.iter().map(String::as_str)) {
            Ok(()) => report(LEAK_CHECK, Ok(())),
            Err(leaks) => {
                report(LEAK_CHECK, Err(" (a secret was logged)".to_owned()));
                println!("    {leaks}");
            }
        }
    }
    if args.quiet {
        println!();
    }
    if !failures.is_empty() {
        println!("\nfailures:");
        for name in &failures {
            println!("    {name}");
        }
    }

    // libtest's own closing line, which CI's totals (scripts/ci/test-totals.sh) add up.
    let verdict = if failed == 0 { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {failed} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        names.len() - selected,
        began.elapsed().as_secs_f64()
    );
    drop(shared);
    runtime.shutdown_timeout(Duration::from_secs(1));
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
