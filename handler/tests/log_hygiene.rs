//! No token or secret ever reaches the logs, at any log level.
//!
//! Every route is driven through its successes and its failures (bad tokens, consent, Graph
//! and ACS errors, throttling) with everything logged at `debug`, including the libraries'
//! own logs. Then the captured output is searched for every canary: the SSO tokens sent, the
//! on-behalf-of tokens issued, the ACS tokens returned, the client secret and the ACS access
//! key: not one of them, nor the first 8 characters of any, may appear.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use helpers::*;
use serde_json::{Value, json};
use test_support::acs::ACCESS_KEY;
use test_support::graph::Scripted;
use test_support::token_endpoint::Refusal;
use warp::http::Method;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_token_or_secret_appears_in_any_log_line() {
    // Arrange: capture everything at debug.
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .json()
        .with_env_filter("debug")
        .with_writer(move || writer.clone())
        .init();
    let app = spawn_app().await;
    let worker = app.field_worker_token().sign();
    let expert = app.expert_token().sign();
    let mut sent_tokens = vec![worker.clone(), expert.clone()];
    let mut received_tokens = Vec::new();
    let meeting = json!({
        "subject": "Pump 7", "startDateTime": "2026-11-26T14:00:00Z", "endDateTime": "2026-11-26T15:00:00Z",
        "participants": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}]
    });

    // Act: the happy paths.
    assert_eq!(app.validate(&worker).await.status(), 200);
    let created: Value = app
        .post_json("/api/meetings", &worker, &meeting)
        .await
        .json()
        .await
        .unwrap();
    let notify =
        json!({"chatId": created["chatThreadId"], "message": "secret-looking text stays in Graph"});
    assert_eq!(
        app.post_json("/api/notifications/chat", &worker, &notify)
            .await
            .status(),
        201
    );
    assert_eq!(app.get("/api/contacts?q=pump", &worker).await.status(), 200);
    assert_eq!(app.get("/api/users/me", &expert).await.status(), 200);
    assert_eq!(app.get("/api/users/me/photo", &worker).await.status(), 200);
    let acs: Value = app
        .post_json("/api/acs/token", &expert, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    received_tokens.push(acs["token"].as_str().unwrap().to_owned());

    // Act: the failures.
    let expired = app.field_worker_token().claim("exp", 1).sign();
    let foreign = app.field_worker_token().header("kid", "nope").sign();
    sent_tokens.extend([expired.clone(), foreign.clone()]);
    assert_eq!(app.validate(&expired).await.status(), 401);
    assert_eq!(app.validate(&foreign).await.status(), 401);
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::assertion_expired()]);
    let third = app
        .entra
        .token_v2(
            CLIENT_ID,
            FIELD_TENANT,
            "0b1d0000-0000-4000-8000-0000000000aa",
        )
        .sign();
    sent_tokens.push(third.clone());
    assert_eq!(app.get("/api/users/me", &third).await.status(), 401);
    app.graph.script([
        Scripted::status(Method::GET, "/users", 400, "Request_UnsupportedQuery"),
        Scripted::throttled(Method::GET, "/me", 0),
    ]);
    assert_eq!(app.get("/api/contacts?q=pump", &worker).await.status(), 502);
    assert_eq!(app.get("/api/users/me", &worker).await.status(), 200);
    app.acs.script([(
        401,
        json!({"error": {"code": "InvalidAccessToken", "message": "no"}}),
    )]);
    assert_eq!(
        app.post_json("/api/acs/token", &worker, &json!({}))
            .await
            .status(),
        502
    );

    // Assert
    let logged = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("request completed"), "nothing was captured");
    let issued = app.entra.token_endpoint().grants().issued_tokens();
    assert!(!issued.is_empty());
    let canaries = sent_tokens
        .iter()
        .chain(&received_tokens)
        .chain(&issued)
        .map(String::as_str)
        .chain([CLIENT_SECRET, ACCESS_KEY]);
    if let Err(leaks) = test_support::log_hygiene::leaks(&logged, canaries) {
        panic!("{leaks}");
    }
}
