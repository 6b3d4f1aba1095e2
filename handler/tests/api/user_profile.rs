//! `GET /api/users/{id}` and `GET /api/users/{id}/photo`.

use serde_json::{Value, json};
use test_support::directory::{JPEG_PHOTO, PNG_PHOTO};
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

const TECHNICIAN: &str = "0b1d0000-0000-4000-8000-000000000004";

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
async fn photo_passes_the_image_and_its_content_type_through() {
    let app = spawn_app().await;

    let mine = app
        .get("/api/users/me/photo", &app.field_worker_token().sign())
        .await;
    let experts = app
        .get("/api/users/me/photo", &app.expert_token().sign())
        .await;

    assert_eq!(mine.status(), 200);
    assert_eq!(mine.headers()["content-type"], "image/jpeg");
    assert_eq!(mine.bytes().await.unwrap().as_ref(), JPEG_PHOTO);
    assert_eq!(experts.headers()["content-type"], "image/png");
    assert_eq!(experts.bytes().await.unwrap().as_ref(), PNG_PHOTO);
    assert_eq!(app.graph.requests_to("GET", "/me/photo/$value").len(), 2);
}

#[tokio::test]
async fn photo_returns_404_when_the_user_has_none() {
    let app = spawn_app().await;

    let response = app
        .get(
            &format!("/api/users/{TECHNICIAN}/photo"),
            &app.field_worker_token().sign(),
        )
        .await;

    problem(response, 404, "not_found").await;
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
async fn photo_in_a_type_that_can_carry_script_is_not_served() {
    // Arrange: a directory user whose photo Graph serves as SVG (which can hold script).
    let app = spawn_app().await;
    const SVG: &[u8] = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    let mut user = test_support::directory::seeded_users()
        .into_iter()
        .find(|u| u.id == TECHNICIAN)
        .unwrap();
    user.id = "0b1d0000-0000-4000-8000-000000000506";
    user.user_principal_name = "svg@fieldworks.example";
    user.photo = Some(("image/svg+xml", SVG));
    app.graph.add_user(user);
    let token = app.field_worker_token().sign();

    // Act
    let response = app
        .get("/api/users/svg%40fieldworks.example/photo", &token)
        .await;

    // Assert: a problem answer, not the SVG under our origin.
    assert_eq!(
        app.graph
            .requests_to("GET", "/users/svg@fieldworks.example/photo")
            .len(),
        1,
        "Graph was asked"
    );
    let body = problem(response, 404, "not_found").await;
    assert!(!body.to_string().contains("<script>"));
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
