//! `GET /api/health` and the host's readiness probe on `/`.

use crate::helpers::*;

#[tokio::test]
async fn health_reports_ok_once_signing_keys_are_loaded() {
    // Arrange
    let app = spawn_app().await;
    app.wait_for_signing_keys().await;

    // Act
    let response = app.http.get(app.url("/api/health")).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["checks"]["signingKeys"], "ok");
}

#[tokio::test]
async fn health_needs_no_token_and_stays_200_when_degraded() {
    let app = spawn_app().await;
    app.entra.set_down(true);
    let response = app.http.get(app.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readiness_probe_on_root_answers_any_method() {
    let app = spawn_app().await;
    for method in [
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::HEAD,
    ] {
        let response = app
            .http
            .request(method.clone(), app.url("/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{method}");
    }
}

#[tokio::test]
async fn every_answer_carries_the_correlation_id() {
    let app = spawn_app().await;
    let given = app
        .http
        .get(app.url("/api/health"))
        .header("x-ms-client-request-id", "tab-req-42")
        .send()
        .await
        .unwrap();
    let made_up = app.http.get(app.url("/nowhere")).send().await.unwrap();

    assert_eq!(given.headers()["x-ms-client-request-id"], "tab-req-42");
    let made_up_id = made_up.headers()["x-ms-client-request-id"]
        .to_str()
        .unwrap();
    assert!(uuid_like(made_up_id), "{made_up_id}");
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn a_fresh_instance_reports_starting_as_ok_until_entra_answers() {
    // Arrange: Entra receives the warm-up requests but has not answered yet (a cold scale-out).
    let entra = test_support::entra::FakeEntra::start().await.unwrap();
    entra.hold();
    let app = spawn_app_against(entra, |_| {}).await;

    // Act
    let starting = app.health().await;
    app.entra.release();
    app.wait_for_signing_keys().await;

    // Assert: nothing has failed, so nothing is degraded; the warm-up was already under way.
    assert_eq!(starting["status"], "ok", "{starting}");
    assert_eq!(starting["checks"]["signingKeys"], "starting");
    assert_eq!(app.health().await["status"], "ok");
}

#[tokio::test]
async fn health_is_degraded_once_a_warm_up_attempt_failed_and_says_no_more() {
    // Arrange
    let entra = test_support::entra::FakeEntra::start().await.unwrap();
    entra.set_down(true);
    let app = spawn_app_against(entra, |_| {}).await;

    // Act: bounded wait for the background load to have failed.
    let mut health = app.health().await;
    for _ in 0..200 {
        if health["checks"]["signingKeys"] == "degraded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        health = app.health().await;
    }

    // Assert: the state, and only the state.
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["checks"]["signingKeys"], "degraded");
    assert!(app.entra.metadata_requests() >= 1);
    assert!(!health.to_string().contains("503"), "{health}");
}

#[tokio::test]
async fn every_answer_says_nosniff() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let answers = [
        app.http.get(app.url("/api/health")).send().await.unwrap(),
        app.http.get(app.url("/nowhere")).send().await.unwrap(),
        app.validate(&token).await,
        app.validate("not-a-token").await,
        app.get("/api/users/me/photo", &token).await,
    ];
    for response in answers {
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{}",
            response.url()
        );
    }
}
