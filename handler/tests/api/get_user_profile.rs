//! `GetUserProfile`: `GET /api/users/{id}` (and what it shares with `GetUserPhoto`: a per-user
//! browser cache).

use serde_json::{Value, json};
use test_support::directory::TECHNICIAN_OID as TECHNICIAN;
use test_support::graph::Scripted;
use warp::http::Method;

use crate::helpers::*;

#[tokio::test]
async fn profile_of_me_and_of_a_colleague_by_id_or_upn() {
    // Arrange
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    // Act
    let me: Value = app.get("/api/users/me", &token).await.json().await.unwrap();
    let by_id = app.get(&format!("/api/users/{TECHNICIAN}"), &token).await;
    let by_upn = app
        .get("/api/users/jordan%40fieldworks.example", &token)
        .await;

    // Assert
    assert_eq!(
        me,
        json!({
            "id": FIELD_WORKER_OID, "displayName": "Avery Field", "mail": "avery@fieldworks.example",
            "userPrincipalName": "avery@fieldworks.example", "jobTitle": "Field Technician",
            "department": "Maintenance", "officeLocation": "Plant 3"
        })
    );
    assert_eq!(by_id.status(), 200);
    assert_eq!(by_upn.status(), 200);
    let by_upn: Value = by_upn.json().await.unwrap();
    assert_eq!(by_upn["id"], TECHNICIAN);
    let calls = app.graph.requests_to("GET", "/");
    assert_eq!(calls[0].path, "/me");
    assert_eq!(calls[1].path, format!("/users/{TECHNICIAN}"));
    assert_eq!(calls[2].path, "/users/jordan@fieldworks.example");
    for call in &calls {
        assert_eq!(
            call.query["$select"],
            "id,displayName,mail,userPrincipalName,jobTitle,department,officeLocation"
        );
    }
}

#[tokio::test]
async fn profile_returns_404_for_an_unknown_user_and_400_for_a_bad_id() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    let unknown = app
        .get("/api/users/0b1d0000-0000-4000-8000-0000000000ff", &token)
        .await;
    let bad = app.get("/api/users/not%20a%20user", &token).await;
    let traversal = app.get("/api/users/..%2Fme", &token).await;

    problem(unknown, 404, "not_found").await;
    problem(bad, 400, "bad_request").await;
    problem(traversal, 400, "bad_request").await;
    assert_eq!(app.graph.requests().len(), 1);
}

#[tokio::test]
async fn profile_returns_401_without_a_token_and_502_when_graph_fails() {
    let app = spawn_app().await;
    let no_token = app.http.get(app.url("/api/users/me")).send().await.unwrap();
    app.graph.script([Scripted::status(
        Method::GET,
        "/me",
        500,
        "generalException",
    )]);
    let failed = app
        .get("/api/users/me", &app.field_worker_token().sign())
        .await;

    problem(no_token, 401, "invalid_token").await;
    problem(failed, 502, "upstream_error").await;
}

#[tokio::test]
async fn per_user_answers_vary_on_authorization_and_never_get_sniffed() {
    // A browser shared by two users must not answer user B from user A's cached profile.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    let profile = app.get("/api/users/me", &token).await;
    let photo = app.get("/api/users/me/photo", &token).await;

    for (what, response) in [("profile", profile), ("photo", photo)] {
        assert_eq!(response.status(), 200, "{what}");
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("private, max-age="),
            "{what} stays cacheable"
        );
        assert_eq!(response.headers()["vary"], "Authorization", "{what}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn my_full_profile_needs_user_read_and_says_so() {
    // Job title, department and office of the signed-in user need User.Read.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .withhold_graph_permissions(FIELD_TENANT, &["User.Read"]);
    let token = app.field_worker_token().sign();

    let me = app.get("/api/users/me", &token).await;
    let colleague = app.get(&format!("/api/users/{TECHNICIAN}"), &token).await;

    let body = problem(me, 403, "consent_required").await;
    assert_eq!(
        body["scopes"],
        json!(["https://graph.microsoft.com/User.Read"])
    );
    assert_eq!(colleague.status(), 200);
}
