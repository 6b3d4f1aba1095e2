//! The fakes refuse what the Microsoft services refuse. A fake kinder than its service hides
//! exactly the bugs that reach production, so each refusal the handler's tests rely on is
//! checked here, over HTTP, the way a client other than the handler would meet it.

use serde_json::{Value, json};
use test_support::acs::FakeAcs;
use test_support::entra::FakeEntra;
use test_support::graph::FakeGraph;
use test_support::key_vault::FakeKeyVault;
use test_support::managed_identity::FakeManagedIdentity;

use crate::helpers::*;

/// An on-behalf-of request to the fake token endpoint with `assertion` and `scope`.
async fn exchange(entra: &FakeEntra, assertion: &str, scope: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/{FIELD_TENANT}/oauth2/v2.0/token",
            entra.authority()
        ))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("requested_token_use", "on_behalf_of"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("assertion", assertion),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn aadsts(answer: &Value) -> i64 {
    answer["error_codes"][0].as_i64().unwrap_or_default()
}

#[tokio::test]
async fn the_token_endpoint_refuses_assertions_entra_would_refuse() {
    let entra = FakeEntra::start().await.unwrap();
    entra
        .token_endpoint()
        .register_client(CLIENT_ID, &[CLIENT_SECRET]);
    let good = || entra.token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID);
    let graph = "https://graph.microsoft.com/.default";
    let now = test_support::tokens::unix_now();

    let (ok, issued) = exchange(&entra, &good().sign(), graph).await;
    let expired = exchange(&entra, &good().claim("exp", now - 10).sign(), graph).await;
    let other_app = exchange(
        &entra,
        &good()
            .claim("aud", "00000003-0000-0000-c000-000000000000")
            .sign(),
        graph,
    )
    .await;
    let unsigned = exchange(&entra, &good().unsigned(), graph).await;
    let foreign_key = exchange(
        &entra,
        &good()
            .signed_with(test_support::keys::FOREIGN_KEY)
            .header("kid", "test-key-a")
            .sign(),
        graph,
    )
    .await;
    let other_scope = exchange(
        &entra,
        &good().sign(),
        "https://graph.microsoft.com/User.Read",
    )
    .await;

    assert_eq!(ok, 200, "{issued}");
    assert!(
        issued["scope"]
            .as_str()
            .unwrap()
            .contains("https://graph.microsoft.com/Chat.Create"),
        "the answer lists the permissions the token carries"
    );
    assert_eq!((expired.0, aadsts(&expired.1)), (400, 500133));
    assert_eq!((other_app.0, aadsts(&other_app.1)), (400, 500131));
    assert_eq!((unsigned.0, aadsts(&unsigned.1)), (400, 50027));
    assert_eq!((foreign_key.0, aadsts(&foreign_key.1)), (400, 50013));
    assert_eq!((other_scope.0, aadsts(&other_scope.1)), (400, 70011));
}

#[tokio::test]
async fn graph_refuses_expired_tokens_unknown_select_fields_and_bodies_it_cannot_read() {
    let entra = FakeEntra::start().await.unwrap();
    let tokens = entra.token_endpoint();
    tokens.register_client(CLIENT_ID, &[CLIENT_SECRET]);
    let graph = FakeGraph::start(tokens.grants()).await.unwrap();
    let http = reqwest::Client::new();
    let (_, issued) = exchange(
        &entra,
        &entra
            .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
            .sign(),
        "https://graph.microsoft.com/.default",
    )
    .await;
    let token = issued["access_token"].as_str().unwrap().to_owned();
    let url = |path: &str| format!("{}/v1.0{path}", graph.endpoint());

    let unknown_field = http
        .get(url("/me"))
        .query(&[("$select", "id,favouriteColour")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let no_content_type = http
        .post(url("/me/onlineMeetings"))
        .bearer_auth(&token)
        .body(r#"{"subject":"x"}"#)
        .send()
        .await
        .unwrap();
    let bad_meeting = http
        .post(url("/me/onlineMeetings"))
        .bearer_auth(&token)
        .json(&json!({"subject": "x", "startDateTime": "tomorrow", "endDateTime": "2026-11-26T15:00:00Z"}))
        .send()
        .await
        .unwrap();
    let bad_patch = http
        .patch(url("/me/onlineMeetings/MSoanything"))
        .bearer_auth(&token)
        .json(&json!({"subject": "renamed"}))
        .send()
        .await
        .unwrap();
    tokens.revoke_user(FIELD_TENANT, FIELD_WORKER_OID);
    let revoked = http
        .get(url("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(unknown_field.status(), 400);
    assert_eq!(no_content_type.status(), 415);
    assert_eq!(bad_meeting.status(), 400);
    assert_eq!(bad_patch.status(), 400);
    assert_eq!(revoked.status(), 401);
}

#[tokio::test]
async fn graph_tokens_expire() {
    let entra = FakeEntra::start().await.unwrap();
    let tokens = entra.token_endpoint();
    tokens.register_client(CLIENT_ID, &[CLIENT_SECRET]);
    tokens.set_token_lifetime(0);
    let graph = FakeGraph::start(tokens.grants()).await.unwrap();
    let (_, issued) = exchange(
        &entra,
        &entra
            .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
            .sign(),
        "https://graph.microsoft.com/.default",
    )
    .await;

    let response = reqwest::Client::new()
        .get(format!("{}/v1.0/me", graph.endpoint()))
        .bearer_auth(issued["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn acs_refuses_an_api_version_it_does_not_have() {
    let entra = FakeEntra::start().await.unwrap();
    let acs = FakeAcs::start(entra.token_endpoint().grants())
        .await
        .unwrap();

    let response = reqwest::Client::new()
        .post(format!(
            "{}/teamsUser/:exchangeAccessToken?api-version=2019-01-01",
            acs.endpoint()
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn the_identity_endpoint_and_the_vault_refuse_what_azure_refuses() {
    // Arrange: a vault with two versions of a secret, and the app's identity endpoint.
    let identity = FakeManagedIdentity::start("h3ader").await.unwrap();
    identity.assign_user_identity("a55e0000-0000-4000-8000-00000000a55e");
    let vault = FakeKeyVault::start(identity.issued_tokens()).await.unwrap();
    vault.set_secret("s", "first");
    vault.set_secret("s", "second");
    let http = reqwest::Client::new();
    let mi_token = |client_id: Option<&'static str>| {
        let http = http.clone();
        let endpoint = identity.endpoint();
        async move {
            let mut query = vec![
                ("api-version", "2019-08-01"),
                ("resource", "https://vault.azure.net"),
            ];
            query.extend(client_id.map(|id| ("client_id", id)));
            http.get(endpoint)
                .query(&query)
                .header("x-identity-header", "h3ader")
                .send()
                .await
                .unwrap()
        }
    };
    let read = |path: &'static str, api_version: &'static str, token: String| {
        let http = http.clone();
        let url = format!("http://{}/secrets/{path}", vault.addr());
        async move {
            http.get(url)
                .query(&[("api-version", api_version)])
                .bearer_auth(token)
                .header("host", "remote-expert-test.vault.azure.net")
                .send()
                .await
                .unwrap()
        }
    };

    // Act
    let unknown_identity = mi_token(Some("0c0c0c0c-0000-4000-8000-000000000000")).await;
    let assigned: Value = mi_token(Some("a55e0000-0000-4000-8000-00000000a55e"))
        .await
        .json()
        .await
        .unwrap();
    let token = assigned["access_token"].as_str().unwrap().to_owned();
    let latest: Value = read("s/", "2025-07-01", token.clone())
        .await
        .json()
        .await
        .unwrap();
    let first_version = format!("{:032x}", 1);
    let old = http
        .get(format!("http://{}/secrets/s/{first_version}", vault.addr()))
        .query(&[("api-version", "2025-07-01")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let missing_version = read(
        "s/0000000000000000000000000000beef",
        "2025-07-01",
        token.clone(),
    )
    .await;
    let bad_api_version = read("s/", "1999-01-01", token.clone()).await;
    identity.set_token_lifetime(-1);
    let expired: Value = mi_token(None).await.json().await.unwrap();
    let with_expired = read(
        "s/",
        "2025-07-01",
        expired["access_token"].as_str().unwrap().to_owned(),
    )
    .await;

    // Assert
    assert_eq!(unknown_identity.status(), 400);
    assert_eq!(latest["value"], "second");
    assert_eq!(old["value"], "first");
    assert_eq!(missing_version.status(), 404);
    assert_eq!(bad_api_version.status(), 400);
    assert_eq!(with_expired.status(), 401);
}
