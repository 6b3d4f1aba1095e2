//! The on-behalf-of and ACS caches answer for the SSO token that earned them, and Entra's
//! consent and interaction refusals are remembered briefly instead of asked again
//! (docs/api.md, cache rules).

use std::time::Duration;

use serde_json::json;
use test_support::token_endpoint::Refusal;

use crate::helpers::*;

/// The field worker's SSO token from one sign-in session, with how they signed in.
fn session_token(app: &TestApp, session: &str, methods: &[&str]) -> String {
    app.field_worker_token()
        .claim("sid", session)
        .claim("amr", json!(methods))
        .sign()
}

/// A cheap route that needs an on-behalf-of Graph token.
async fn my_profile(app: &TestApp, token: &str) -> reqwest::Response {
    app.get("/api/users/me", token).await
}

/// The same, as a tab does right after its consent popup succeeded.
async fn my_profile_after_consent(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/users/me"))
        .bearer_auth(token)
        .header("x-consent-retry", "1")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn another_sso_token_of_the_same_user_meets_conditional_access_on_its_own() {
    // Arrange: a Graph token earned with an MFA sign-in is cached; then the tenant starts
    // requiring MFA.
    let app = spawn_app().await;
    let with_mfa = session_token(&app, "session-mfa", &["pwd", "mfa"]);
    assert_eq!(my_profile(&app, &with_mfa).await.status(), 200);
    app.entra.token_endpoint().require_mfa(FIELD_TENANT);
    let exchanges_before = app.token_requests().len();

    // Act: the same user from another session, signed in with a password only.
    let password_only = session_token(&app, "session-pwd", &["pwd"]);
    let refused = my_profile(&app, &password_only).await;
    let again_with_mfa = my_profile(&app, &with_mfa).await;

    // Assert: the second token was exchanged (and refused by Conditional Access), not served
    // the first one's Graph token; the first token still rides on its own exchange.
    let body = problem(refused, 401, "interaction_required").await;
    assert!(
        body["claims"]
            .as_str()
            .is_some_and(|c| c.contains("capolids"))
    );
    assert_eq!(app.token_requests().len(), exchanges_before + 1);
    assert_eq!(
        app.token_requests()[exchanges_before]["assertion"],
        password_only
    );
    assert_eq!(again_with_mfa.status(), 200);
    assert_eq!(app.token_requests().len(), exchanges_before + 1);
}

#[tokio::test]
async fn another_sso_token_of_the_same_user_gets_an_acs_token_of_its_own() {
    // Arrange: an ACS token is cached for one SSO token of the expert.
    let app = spawn_app().await;
    let first = app.expert_token().claim("sid", "one").sign();
    let second = app.expert_token().claim("sid", "two").sign();
    let first_answer = app.post_json("/api/acs/token", &first, &json!({})).await;
    assert_eq!(first_answer.status(), 200);
    let first_answer: serde_json::Value = first_answer.json().await.unwrap();

    // Act
    let again = app.post_json("/api/acs/token", &first, &json!({})).await;
    let other = app.post_json("/api/acs/token", &second, &json!({})).await;

    // Assert: the same token is served from the cache; the other token made its own
    // on-behalf-of exchange and its own ACS exchange.
    assert_eq!(again.status(), 200);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["token"], first_answer["token"]);
    assert_eq!(other.status(), 200);
    let assertions: Vec<String> = app
        .token_requests()
        .iter()
        .map(|form| form["assertion"].clone())
        .collect();
    assert_eq!(assertions, vec![first, second]);
    assert_eq!(app.acs.records().len(), 2);
}

#[tokio::test]
async fn a_consent_refusal_is_remembered_so_repeated_calls_reach_entra_once() {
    // Arrange: Entra refuses every exchange for missing consent.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next((0..40).map(|_| Refusal::consent_required()));
    let token = app.field_worker_token().sign();

    // Act: a tab that keeps calling.
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(my_profile(&app, &token).await);
    }

    // Assert: every call is told to get consent, and Entra was asked once.
    for answer in answers {
        problem(answer, 403, "consent_required").await;
    }
    assert_eq!(app.token_requests().len(), 1);
    assert!(app.graph.requests().is_empty());
}

#[tokio::test]
async fn the_consent_retry_header_is_honoured_once_per_window() {
    // Arrange: consent keeps being refused; a short window so the test can outlast it.
    let app = spawn_app_with(|config| {
        config.tuning.refusal_memory = Duration::from_millis(800);
    })
    .await;
    app.entra
        .token_endpoint()
        .refuse_next((0..40).map(|_| Refusal::consent_required()));
    let token = app.field_worker_token().sign();

    // Act: the first call, then five retries that each say consent was just given.
    let first = my_profile(&app, &token).await;
    let after_first = app.token_requests().len();
    let mut retries = Vec::new();
    for _ in 0..5 {
        retries.push(my_profile_after_consent(&app, &token).await);
    }
    let after_retries = app.token_requests().len();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after_window = my_profile(&app, &token).await;

    // Assert: the first answer took one request (it is immediate); only the first retry in
    // the window reached Entra (one request and its three backed-off retries); once the
    // window is over, Entra is asked again.
    problem(first, 403, "consent_required").await;
    assert_eq!(after_first, 1);
    for retry in retries {
        problem(retry, 403, "consent_required").await;
    }
    assert_eq!(after_retries, 1 + 4);
    problem(after_window, 403, "consent_required").await;
    assert_eq!(app.token_requests().len(), 1 + 4 + 1);
}

#[tokio::test]
async fn a_consent_retry_that_succeeds_ends_the_remembered_refusal() {
    // Arrange: one consent refusal, then Entra has caught up with the user's consent.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::consent_required()]);
    let token = app.field_worker_token().sign();
    problem(my_profile(&app, &token).await, 403, "consent_required").await;

    // Act: the tab's retry after consent, then an ordinary call.
    let retry = my_profile_after_consent(&app, &token).await;
    let next = my_profile(&app, &token).await;

    // Assert: both succeed, on one new exchange.
    assert_eq!(retry.status(), 200);
    assert_eq!(next.status(), 200);
    assert_eq!(app.token_requests().len(), 2);
}

#[tokio::test]
async fn an_interaction_refusal_is_remembered_for_that_token_only() {
    // Arrange: Conditional Access wants MFA for the next exchange.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::interaction_required()]);
    let token = session_token(&app, "before-mfa", &["pwd"]);

    // Act: the same token three times, then the token Teams issues once MFA is done.
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(my_profile(&app, &token).await);
    }
    let after_mfa = my_profile(&app, &session_token(&app, "after-mfa", &["pwd", "mfa"])).await;

    // Assert: the refused token is refused from memory (Entra asked once); the new token is
    // exchanged at once.
    for answer in answers {
        problem(answer, 401, "interaction_required").await;
    }
    assert_eq!(after_mfa.status(), 200);
    assert_eq!(app.token_requests().len(), 2);
}
