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
