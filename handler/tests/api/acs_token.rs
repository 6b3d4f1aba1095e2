//! `POST /api/acs/token`: an ACS token for the signed-in Teams user, HMAC-signed exchange.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::acs::{ACCESS_KEY, sign_for_test};
use test_support::token_endpoint::Refusal;

use crate::helpers::*;

#[tokio::test]
async fn acs_token_is_exchanged_for_the_caller_with_an_hmac_signed_call() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_json("/api/acs/token", &app.expert_token().sign(), &json!({}))
        .await;

    // Assert: the answer.
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    // A JWT as ACS issues it (the handler passes it on untouched, never parsing it).
    assert_eq!(body["token"].as_str().unwrap().split('.').count(), 3);
    assert_eq!(body["teamsUserId"], EXPERT_OID);
    assert!(body["expiresOn"].as_str().unwrap().ends_with('Z'));

    // Assert: an on-behalf-of token for the two ACS Teams scopes, in the expert's tenant.
    let exchanges = app.token_requests();
    assert_eq!(exchanges.len(), 1);
    assert_eq!(
        exchanges[0]["scope"],
        "https://auth.msft.communication.azure.com/Teams.ManageCalls https://auth.msft.communication.azure.com/Teams.ManageChats"
    );

    // Assert: ACS verified our signature and got the OBO token, our app id and the user's oid.
    let records = app.acs.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].authenticated_by, "hmac");
    assert_eq!(records[0].status, 200);
    assert_eq!(records[0].api_version, "2025-06-30");
    assert_eq!(records[0].body["appId"], CLIENT_ID);
    assert_eq!(records[0].body["userId"], EXPERT_OID);
    let grant = app
        .entra
        .token_endpoint()
        .grants()
        .lookup(records[0].body["token"].as_str().unwrap())
        .expect("ACS received an on-behalf-of token");
    assert_eq!(
        (grant.tenant_id.as_str(), grant.object_id.as_str()),
        (EXPERT_TENANT, EXPERT_OID)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_calls_make_one_exchange() {
    let app = spawn_app().await;
    let token = app.expert_token().sign();
    let empty = json!({});

    let responses =
        futures::future::join_all((0..20).map(|_| app.post_json("/api/acs/token", &token, &empty)))
            .await;

    let mut tokens = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        tokens.push(response.json::<Value>().await.unwrap()["token"].clone());
    }
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(app.acs.exchanges(), 1);
    assert_eq!(app.token_requests().len(), 1);
}

#[tokio::test]
async fn an_acs_token_near_expiry_is_exchanged_again() {
    // ACS tokens here live 5 min + 1 s, so they are usable for one second only.
    let app = spawn_app().await;
    app.acs.set_token_lifetime(301);
    let token = app.expert_token().sign();

    let first: Value = app
        .post_json("/api/acs/token", &token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second: Value = app
        .post_json("/api/acs/token", &token, &json!({}))
        .await
        .json()
        .await
        .unwrap();

    assert_ne!(first["token"], second["token"]);
    assert_eq!(app.acs.exchanges(), 2);
    assert_eq!(
        app.token_requests().len(),
        1,
        "the OBO token was still good"
    );
}

#[tokio::test]
async fn acs_consent_missing_is_403_with_the_acs_scopes() {
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next((0..4).map(|_| Refusal::consent_required()));

    let response = app
        .post_json("/api/acs/token", &app.expert_token().sign(), &json!({}))
        .await;

    let body = problem(response, 403, "consent_required").await;
    assert_eq!(
        body["scopes"],
        json!([
            "https://auth.msft.communication.azure.com/Teams.ManageCalls",
            "https://auth.msft.communication.azure.com/Teams.ManageChats"
        ])
    );
    assert!(app.acs.records().is_empty());
}

#[tokio::test]
async fn acs_refusing_our_token_is_502_not_401() {
    let app = spawn_app().await;
    app.acs.script([(
        401,
        json!({"error": {"code": "InvalidAccessToken", "message": "Provided access token is not valid."}}),
    )]);

    let response = app
        .post_json("/api/acs/token", &app.expert_token().sign(), &json!({}))
        .await;

    upstream_error_naming(response, "InvalidAccessToken").await;
}

#[tokio::test]
async fn acs_unavailability_is_retried_then_reported_as_503() {
    let app = spawn_app().await;
    let token = app.expert_token().sign();
    let busy = || {
        (
            503,
            json!({"error": {"code": "ServiceUnavailable", "message": "busy"}}),
        )
    };

    app.acs.script([busy()]);
    let recovered = app.post_json("/api/acs/token", &token, &json!({})).await;
    app.acs.script((0..4).map(|_| busy()));
    let other_user = app.field_worker_token().sign();
    let throttled = app
        .post_json("/api/acs/token", &other_user, &json!({}))
        .await;

    assert_eq!(recovered.status(), 200);
    assert!(throttled.headers().contains_key("retry-after"));
    problem(throttled, 503, "unavailable").await;
}

#[tokio::test]
async fn acs_that_keeps_answering_429_is_reported_as_throttling() {
    let app = spawn_app().await;
    let token = app.expert_token().sign();
    app.acs.script((0..4).map(|_| {
        (
            429,
            json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        )
    }));

    let throttled = app.post_json("/api/acs/token", &token, &json!({})).await;

    assert!(throttled.headers().contains_key("retry-after"));
    problem(throttled, 429, "throttled").await;
    assert_eq!(app.acs.exchanges(), 0);
}

#[tokio::test]
async fn acs_token_needs_a_bearer_token() {
    let app = spawn_app().await;

    let response = app
        .http
        .post(app.url("/api/acs/token"))
        .send()
        .await
        .unwrap();

    problem(response, 401, "invalid_token").await;
    assert!(app.acs.records().is_empty());
}

#[tokio::test]
async fn acs_token_is_503_when_acs_is_not_configured() {
    // The app under test has ACS configured; this one is built without it.
    let app = spawn_app_with(|config| {
        config.secrets.acs_connection_string = None;
    })
    .await;

    let response = app
        .post_json("/api/acs/token", &app.expert_token().sign(), &json!({}))
        .await;

    problem(response, 503, "unavailable").await;
}

/// The fake must refuse what ACS refuses, or the happy path proves nothing.
#[tokio::test]
async fn the_fake_acs_refuses_bad_signatures() {
    let app = spawn_app().await;
    let host = app.acs.endpoint().trim_start_matches("http://").to_owned();
    let path = "/teamsUser/:exchangeAccessToken?api-version=2025-06-30";
    let body = br#"{"token":"x","appId":"y","userId":"z"}"#;
    let now = time::OffsetDateTime::now_utc();
    let wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleQ==";
    let cases = [
        (
            "stale date",
            sign_for_test(
                path,
                &host,
                body,
                now - time::Duration::minutes(16),
                ACCESS_KEY,
            ),
            &body[..],
        ),
        (
            "wrong key",
            sign_for_test(path, &host, body, now, wrong_key),
            &body[..],
        ),
        (
            "body changed after signing",
            sign_for_test(path, &host, body, now, ACCESS_KEY),
            &br#"{"token":"y"}"#[..],
        ),
        (
            "wrong host signed",
            sign_for_test(path, "other.example", body, now, ACCESS_KEY),
            &body[..],
        ),
    ];
    for (description, headers, sent_body) in cases {
        let mut request = app
            .http
            .post(format!("{}{path}", app.acs.endpoint()))
            .body(sent_body.to_vec());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{description}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "Unauthorized", "{description}");
    }
    let good = sign_for_test(path, &host, body, now, ACCESS_KEY);
    let mut request = app
        .http
        .post(format!("{}{path}", app.acs.endpoint()))
        .body(body.to_vec());
    for (name, value) in good {
        request = request.header(name, value);
    }
    // Signed right, so it gets past authentication, to be refused for its made-up token.
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["error"]["code"], "InvalidAccessToken");
}

#[tokio::test]
async fn acs_service_times_are_answered_as_whole_seconds_utc() {
    // ACS writes `2026-11-26T08:15:00.1234567+00:00`; the contract promises RFC 3339 UTC.
    let app = spawn_app().await;

    let body: Value = app
        .post_json("/api/acs/token", &app.expert_token().sign(), &json!({}))
        .await
        .json()
        .await
        .unwrap();

    let expires = body["expiresOn"].as_str().unwrap();
    assert_eq!(expires.len(), "2026-11-26T08:15:00Z".len(), "{expires}");
    assert!(
        expires.ends_with('Z') && !expires.contains('.'),
        "{expires}"
    );
}

#[tokio::test]
async fn a_retried_acs_call_is_signed_again_with_a_fresh_date() {
    // ACS refuses a signature whose x-ms-date is minutes old, so each attempt is signed anew.
    let app = spawn_app().await;
    app.acs.set_scripted_retry_after(1);
    app.acs.script([(
        503,
        json!({"error": {"code": "ServiceUnavailable", "message": "busy"}}),
    )]);

    let response = app
        .post_json("/api/acs/token", &app.expert_token().sign(), &json!({}))
        .await;

    assert_eq!(response.status(), 200);
    let records = app.acs.records();
    assert_eq!(records.len(), 2, "one try, one retry");
    assert_eq!(records[1].authenticated_by, "hmac");
    assert_eq!(records[1].status, 200, "the retry's own signature verified");
    assert_ne!(records[0].date, records[1].date, "a new x-ms-date");
}

#[tokio::test]
async fn a_tenant_without_the_acs_service_principal_is_told_what_its_admin_must_do() {
    // AADSTS650052 arrives as `invalid_client`: it is the caller's tenant that lacks ACS's
    // service principal, not our credential that is wrong, so the secret is not re-read and
    // the answer names the fix.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::entra(400, "invalid_client", 650052, None)]);

    let response = app
        .post_json("/api/acs/token", &app.expert_token().sign(), &json!({}))
        .await;

    let body = problem(response, 403, "service_principal_missing").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("az ad sp create --id 1fd5118e-2576-4263-8130-9503064c837a"));
    assert_eq!(
        app.token_requests().len(),
        1,
        "no second try with a re-read secret"
    );
    assert!(app.acs.records().is_empty());
}
