//! Extra root certificates from `SSL_CERT_FILE` are trusted by the handler's outbound calls,
//! as corporate TLS inspection needs; without them the same https upstream is refused.

use std::path::PathBuf;

use test_support::entra::FakeEntra;
use test_support::http::TEST_CA_PEM_PATH;

use crate::helpers::*;

#[tokio::test]
async fn signing_keys_load_over_https_signed_by_an_extra_root() {
    // Arrange: Entra over https with a certificate from a CA only SSL_CERT_FILE knows.
    let entra = FakeEntra::start_tls().await.unwrap();
    let app = spawn_app_against(entra, |config| {
        config.tls.cert_file = Some(PathBuf::from(TEST_CA_PEM_PATH));
    })
    .await;

    // Act
    let response = app.validate(&app.field_worker_token().sign()).await;

    // Assert
    assert_eq!(response.status(), 200);
    assert!(app.entra.key_set_requests() >= 2);
}

#[tokio::test]
async fn an_unknown_root_is_refused() {
    let entra = FakeEntra::start_tls().await.unwrap();
    let app = spawn_app_against(entra, |_| {}).await;

    let response = app.validate(&app.field_worker_token().sign()).await;

    problem(response, 503, "unavailable").await;
    assert_eq!(
        app.entra.key_set_requests(),
        0,
        "no request got past the TLS handshake"
    );
    let health = app.health().await;
    assert_eq!(health["checks"]["signingKeys"], "degraded");
}
