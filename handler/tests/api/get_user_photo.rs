//! `GetUserPhoto`: `GET /api/users/{id}/photo`.

use test_support::directory::{JPEG_PHOTO, PNG_PHOTO, TECHNICIAN_OID as TECHNICIAN};

use crate::helpers::*;

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
