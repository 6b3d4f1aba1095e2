//! `POST /api/token/validate`: the multitenant token rules of docs/api.md, one case at a time.

use std::time::Duration;

use serde_json::json;
use test_support::entra::{FakeEntra, PublishedKey};
use test_support::keys::{FOREIGN_KEY, SIGNING_KEY_A, SIGNING_KEY_B};
use test_support::tokens::{TokenBuilder, unix_now};

use crate::helpers::*;

#[tokio::test]
async fn validate_returns_the_caller_of_a_v2_token() {
    // Arrange
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    // Act
    let response = app.validate(&token).await;

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["tenantId"], FIELD_TENANT);
    assert_eq!(body["objectId"], FIELD_WORKER_OID);
    assert_eq!(body["userPrincipalName"], "avery@fieldworks.example");
    assert_eq!(body["name"], "Avery Field");
    assert_eq!(body["audience"], CLIENT_ID);
    assert_eq!(body["scopes"], json!(["access_as_user"]));
    assert_eq!(body["tokenVersion"], "2.0");
    let expires_at = body["expiresAt"].as_str().unwrap();
    assert!(
        expires_at.ends_with('Z') && expires_at.contains('T'),
        "{expires_at}"
    );
}

#[tokio::test]
async fn validate_answers_a_token_without_a_name_or_user_principal_name_with_neither() {
    // Arrange: an identity Entra issues without the optional claims (a service account, or an
    // app whose token configuration leaves them out).
    let app = spawn_app().await;
    let token = app
        .field_worker_token()
        .without_claim("name")
        .without_claim("preferred_username")
        .claim("scp", "User.Read access_as_user")
        .sign();

    // Act
    let response = app.validate(&token).await;

    // Assert
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body.get("userPrincipalName").is_none_or(|v| v.is_null()),
        "{body}"
    );
    assert!(body.get("name").is_none_or(|v| v.is_null()), "{body}");
    assert_eq!(body["scopes"], json!(["User.Read", "access_as_user"]));
    assert_eq!(body["objectId"], FIELD_WORKER_OID);
}

#[tokio::test]
async fn validate_accepts_a_v1_token_for_the_app_id_uri_from_another_tenant() {
    // Arrange
    let app = spawn_app().await;
    let token = TokenBuilder::v1(APP_ID_URI, EXPERT_TENANT, EXPERT_OID)
        .claim("scp", "access_as_user User.Read")
        .sign();

    // Act
    let response = app.validate(&token).await;

    // Assert
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["tenantId"], EXPERT_TENANT);
    assert_eq!(body["objectId"], EXPERT_OID);
    assert_eq!(body["userPrincipalName"], "robin@experts.example");
    assert_eq!(body["audience"], APP_ID_URI);
    assert_eq!(body["scopes"], json!(["access_as_user", "User.Read"]));
    assert_eq!(body["tokenVersion"], "1.0");
}

#[tokio::test]
async fn validate_accepts_a_v1_token_for_the_client_id_and_a_lower_case_scheme() {
    let app = spawn_app().await;
    let token = TokenBuilder::v1(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID).sign();

    let response = app
        .http
        .post(app.url("/api/token/validate"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn validate_tolerates_five_minutes_of_clock_skew() {
    let app = spawn_app().await;
    let now = unix_now();
    let recently_expired = app.field_worker_token().claim("exp", now - 200).sign();
    let almost_valid = app.field_worker_token().claim("nbf", now + 200).sign();

    assert_eq!(app.validate(&recently_expired).await.status(), 200);
    assert_eq!(app.validate(&almost_valid).await.status(), 200);
}

/// Every token here is refused, each with the status and code docs/api.md gives.
#[tokio::test]
async fn validate_refuses_hostile_and_broken_tokens() {
    // Arrange
    let attacker = FakeEntra::start().await.unwrap();
    attacker.publish(vec![PublishedKey::everywhere(FOREIGN_KEY)]);
    let app = spawn_app().await;
    let entra = &app.entra;
    let good = || app.field_worker_token();
    let now = unix_now();
    let valid = good().sign();
    let (head, rest) = valid.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut flipped_signature = signature.to_owned();
    let last = if flipped_signature.ends_with('A') {
        "B"
    } else {
        "A"
    };
    flipped_signature.replace_range(flipped_signature.len() - 1.., last);
    let other_payload = good().claim("oid", EXPERT_OID).sign();
    let other_payload = other_payload.split('.').nth(1).unwrap();
    entra.publish(vec![
        PublishedKey::everywhere(SIGNING_KEY_A),
        PublishedKey {
            key: SIGNING_KEY_B,
            in_v1: true,
            in_v2: false,
            issuer: None,
        },
    ]);
    let v1_only_key_for_v2 = good().signed_with(SIGNING_KEY_B).sign();

    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("alg none", good().unsigned(), 401, "invalid_token"),
        (
            "HS256 signed with the public key",
            good().sign_hs256_with_public_key(),
            401,
            "invalid_token",
        ),
        (
            "RS512 in the header",
            good().header("alg", "RS512").sign(),
            401,
            "invalid_token",
        ),
        (
            "no kid",
            good().without_header("kid").sign(),
            401,
            "invalid_token",
        ),
        (
            "unknown kid",
            good().header("kid", "never-published").sign(),
            401,
            "invalid_token",
        ),
        (
            "foreign key under a published kid",
            good()
                .signed_with(FOREIGN_KEY)
                .header("kid", SIGNING_KEY_A.kid)
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "foreign key under its own kid",
            good().signed_with(FOREIGN_KEY).sign(),
            401,
            "invalid_token",
        ),
        (
            "jku pointing at an attacker's key set",
            good()
                .signed_with(FOREIGN_KEY)
                .header(
                    "jku",
                    format!("{}/common/discovery/v2.0/keys", attacker.authority()),
                )
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "x5u pointing at an attacker's certificate",
            good()
                .signed_with(FOREIGN_KEY)
                .header("x5u", format!("{}/cert.pem", attacker.authority()))
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "embedded jwk header",
            good()
                .signed_with(FOREIGN_KEY)
                .header("jwk", FOREIGN_KEY.public_jwk(None))
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "signature altered",
            format!("{head}.{payload}.{flipped_signature}"),
            401,
            "invalid_token",
        ),
        (
            "signature longer than any RSA key's",
            format!("{head}.{payload}.{}", signature.repeat(6)),
            401,
            "invalid_token",
        ),
        (
            "signature cut short",
            format!("{head}.{payload}.{}", &signature[..signature.len() / 2]),
            401,
            "invalid_token",
        ),
        (
            "claims swapped after signing",
            format!("{head}.{other_payload}.{signature}"),
            401,
            "invalid_token",
        ),
        (
            "expired beyond the skew",
            good().claim("exp", now - 600).sign(),
            401,
            "invalid_token",
        ),
        (
            "not valid for ten minutes",
            good().claim("nbf", now + 600).sign(),
            401,
            "invalid_token",
        ),
        (
            "no exp",
            good().without_claim("exp").sign(),
            401,
            "invalid_token",
        ),
        (
            "exp as text",
            good().claim("exp", (now + 600).to_string()).sign(),
            401,
            "invalid_token",
        ),
        (
            "another app's audience",
            good()
                .claim("aud", "0d0d0d0d-0000-4000-8000-000000000000")
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "Graph audience by id",
            good()
                .claim("aud", "00000003-0000-0000-c000-000000000000")
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "Graph audience by URI",
            good().claim("aud", "https://graph.microsoft.com").sign(),
            401,
            "invalid_token",
        ),
        (
            "audience as an array",
            good().claim("aud", json!([CLIENT_ID])).sign(),
            401,
            "invalid_token",
        ),
        (
            "no audience",
            good().without_claim("aud").sign(),
            401,
            "invalid_token",
        ),
        (
            "issuer on another host",
            good()
                .claim(
                    "iss",
                    format!("https://login.evil.example/{FIELD_TENANT}/v2.0"),
                )
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "issuer of another tenant",
            good()
                .claim("iss", format!("{}/{EXPERT_TENANT}/v2.0", entra.authority()))
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "v1 issuer on a v2 token",
            good()
                .claim("iss", format!("https://sts.windows.net/{FIELD_TENANT}/"))
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "v2 issuer on a v1 token",
            TokenBuilder::v1(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
                .claim("iss", format!("{}/{FIELD_TENANT}/v2.0", entra.authority()))
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "no version",
            good().without_claim("ver").sign(),
            401,
            "invalid_token",
        ),
        (
            "no tenant id",
            good().without_claim("tid").sign(),
            401,
            "invalid_token",
        ),
        (
            "tenant id not a GUID",
            good()
                .claim("tid", "contoso.onmicrosoft.com")
                .claim(
                    "iss",
                    format!("{}/contoso.onmicrosoft.com/v2.0", entra.authority()),
                )
                .sign(),
            401,
            "invalid_token",
        ),
        (
            "no object id",
            good().without_claim("oid").sign(),
            401,
            "invalid_token",
        ),
        (
            "v2 token signed with a key published only for v1",
            v1_only_key_for_v2,
            401,
            "invalid_token",
        ),
        (
            "truncated",
            valid[..valid.len() - 20].to_owned(),
            401,
            "invalid_token",
        ),
        (
            "cut after the claims",
            format!("{head}.{payload}"),
            401,
            "invalid_token",
        ),
        (
            "bad base64 in the claims",
            format!("{head}.!!{payload}.{signature}"),
            401,
            "invalid_token",
        ),
        (
            "JWE-shaped, five segments",
            format!("{head}.{payload}.{signature}.aaaa.bbbb"),
            401,
            "invalid_token",
        ),
        (
            "oversized header",
            good().header("pad", "x".repeat(20_000)).sign(),
            401,
            "invalid_token",
        ),
        ("not a JWT at all", "hello".to_owned(), 401, "invalid_token"),
        (
            "a tenant that is not allowed",
            entra
                .token_v2(CLIENT_ID, STRANGER_TENANT, FIELD_WORKER_OID)
                .sign(),
            403,
            "tenant_not_allowed",
        ),
        (
            "no scp",
            good().without_claim("scp").sign(),
            403,
            "insufficient_scope",
        ),
        (
            "other scopes only",
            good().claim("scp", "User.Read Mail.Read").sign(),
            403,
            "insufficient_scope",
        ),
        (
            "app-only token with roles",
            good()
                .without_claim("scp")
                .claim("roles", json!(["OnlineMeetings.ReadWrite.All"]))
                .sign(),
            403,
            "insufficient_scope",
        ),
    ];

    for (description, token, status, code) in cases {
        // Act
        let response = app.validate(&token).await;

        // Assert
        assert_eq!(response.status().as_u16(), status, "{description}");
        if status == 401 {
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer error=\"invalid_token\"",
                "{description}"
            );
        }
        let body = problem(response, status, code).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            !detail.contains(&token[..token.len().min(12)]),
            "{description} echoes the token"
        );
    }
    assert_eq!(
        attacker.metadata_requests() + attacker.key_set_requests(),
        0,
        "attacker's URLs were followed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_refuses_a_key_bound_to_another_tenant() {
    // A key whose v2 issuer names one tenant may only sign that tenant's tokens. Key B is
    // published after the start-up load, so the first token naming it makes the re-read.
    let app = spawn_app().await;
    app.wait_for_signing_keys().await;
    let expert_issuer = format!("{}/{EXPERT_TENANT}/v2.0", app.entra.authority());
    app.entra.publish(vec![
        PublishedKey::everywhere(SIGNING_KEY_A),
        PublishedKey {
            key: SIGNING_KEY_B,
            in_v1: false,
            in_v2: true,
            issuer: Some(expert_issuer),
        },
    ]);
    let foreign_tenant_token = app.field_worker_token().signed_with(SIGNING_KEY_B).sign();
    let own_tenant_token = app
        .entra
        .token_v2(CLIENT_ID, EXPERT_TENANT, EXPERT_OID)
        .signed_with(SIGNING_KEY_B)
        .sign();

    problem(
        app.validate(&foreign_tenant_token).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(app.validate(&own_tenant_token).await.status(), 200);
}

#[tokio::test]
async fn validate_returns_401_without_a_bearer_token() {
    let app = spawn_app().await;
    let cases = [
        None,
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some("Bearer".to_owned()),
        Some("Bearer    ".to_owned()),
    ];
    for header in cases {
        let mut request = app.http.post(app.url("/api/token/validate"));
        if let Some(value) = &header {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\"",
            "{header:?}"
        );
        problem(response, 401, "invalid_token").await;
    }
}

#[tokio::test]
async fn validate_picks_up_a_new_key_and_drops_a_retired_one() {
    // Arrange: the handler has loaded key A; the first unknown key after a load is re-read at
    // once, whatever the interval.
    let app = spawn_app().await;
    app.wait_for_signing_keys().await;
    assert_eq!(
        app.validate(&app.field_worker_token().sign())
            .await
            .status(),
        200
    );
    let fetches_before = app.entra.key_set_requests();

    // Act: Entra rolls over to key B only.
    app.entra
        .publish(vec![PublishedKey::everywhere(SIGNING_KEY_B)]);
    let signed_with_new_key = app.field_worker_token().signed_with(SIGNING_KEY_B).sign();
    let new_key = app.validate(&signed_with_new_key).await;
    let signed_with_old_key = app.field_worker_token().claim("name", "fresh token").sign();
    let old_key = app.validate(&signed_with_old_key).await;

    // Assert: one re-read (v1 and v2 key sets) served the new key, and the old key is gone.
    assert_eq!(new_key.status(), 200);
    problem(old_key, 401, "invalid_token").await;
    assert_eq!(app.entra.key_set_requests() - fetches_before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_rereads_keys_at_most_once_per_interval_for_unknown_kids() {
    // Arrange: keys loaded; an interval far longer than the burst takes, however busy the
    // machine.
    let app = spawn_app_with(|config| {
        config.tuning.signing_keys_min_refetch_interval = Duration::from_secs(600);
    })
    .await;
    app.wait_for_signing_keys().await;
    let fetches_before = app.entra.key_set_requests();

    // Act: a burst of tokens naming keys that do not exist.
    let tokens: Vec<String> = (0..40)
        .map(|i| {
            app.field_worker_token()
                .header("kid", format!("forged-{i}"))
                .sign()
        })
        .collect();
    let responses = futures::future::join_all(tokens.iter().map(|t| app.validate(t))).await;

    // Assert: all refused, and Entra saw a single re-read of both key sets.
    for response in responses {
        assert_eq!(response.status(), 401);
    }
    assert_eq!(app.entra.key_set_requests() - fetches_before, 2);
}

#[tokio::test]
async fn validate_fails_closed_with_503_while_keys_were_never_loaded_then_recovers() {
    // Arrange: Entra is down from the start.
    let entra = FakeEntra::start().await.unwrap();
    entra.set_down(true);
    let app = spawn_app_against(entra, |config| {
        config.tuning.signing_keys_min_refetch_interval = Duration::from_millis(50);
    })
    .await;
    let token = app.field_worker_token().sign();

    // Act
    let refused = app.validate(&token).await;

    // Assert
    assert_eq!(refused.headers()["retry-after"], "7");
    problem(refused, 503, "unavailable").await;
    let health = app.health().await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["checks"]["signingKeys"], "degraded");

    // Act: Entra comes back.
    app.entra.set_down(false);
    tokio::time::sleep(Duration::from_millis(80)).await;

    // Assert: the same token now passes, and health recovers.
    assert_eq!(app.validate(&token).await.status(), 200);
    app.wait_for_signing_keys().await;
}

#[tokio::test]
async fn validate_keeps_working_on_cached_keys_while_entra_is_down() {
    // Arrange
    let app = spawn_app_with(|config| {
        config.tuning.signing_keys_min_refetch_interval = Duration::from_millis(10);
    })
    .await;
    app.wait_for_signing_keys().await;
    app.entra.set_down(true);

    // Act: a fresh token with a known key, and one naming an unknown key.
    let known = app.validate(&app.field_worker_token().sign()).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let unknown = app
        .validate(
            &app.field_worker_token()
                .header("kid", "rolled-while-down")
                .sign(),
        )
        .await;

    // Assert: known keys keep working; an unknown key cannot be judged, so 503, not 401.
    assert_eq!(known.status(), 200);
    problem(unknown, 503, "unavailable").await;
    let health = app.health().await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["checks"]["signingKeys"], "degraded");
}

/// A token accepted (and remembered), then, once the re-read interval has passed, Entra
/// publishes `keys` and a token signed with B makes the handler re-read them. Returns the app
/// and the first token's second answer.
async fn remembered_token_after_publishing(keys: Vec<PublishedKey>) -> reqwest::Response {
    let app = spawn_app_with(|config| {
        config.tuning.signing_keys_min_refetch_interval = Duration::from_millis(100);
    })
    .await;
    let token = app.field_worker_token().sign();
    assert_eq!(app.validate(&token).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.entra.publish(keys);
    let trigger = app.field_worker_token().signed_with(SIGNING_KEY_B).sign();
    assert_eq!(app.validate(&trigger).await.status(), 200);
    app.validate(&token).await
}

#[tokio::test]
async fn validate_refuses_a_remembered_token_once_its_key_is_withdrawn() {
    // An emergency rollover: Entra withdraws key A and publishes B alone.
    let again =
        remembered_token_after_publishing(vec![PublishedKey::everywhere(SIGNING_KEY_B)]).await;

    // A cache hit holds only while the key that signed the token is published.
    problem(again, 401, "invalid_token").await;
}

#[tokio::test]
async fn validate_keeps_remembering_a_token_whose_key_survives_a_re_read() {
    // A scheduled rollover: Entra rolls B in beside A.
    let again = remembered_token_after_publishing(vec![
        PublishedKey::everywhere(SIGNING_KEY_A),
        PublishedKey::everywhere(SIGNING_KEY_B),
    ])
    .await;

    assert_eq!(again.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_during_the_start_up_load_leaves_the_immediate_re_read_for_a_new_key() {
    // Arrange: Entra holds the start-up load; a token arrives while it runs.
    let entra = FakeEntra::start().await.unwrap();
    entra.hold();
    let app = spawn_app_against(entra, |_| {}).await;
    let early = {
        let (http, url, token) = (
            app.http.clone(),
            app.url("/api/token/validate"),
            app.field_worker_token().sign(),
        );
        tokio::spawn(async move { http.post(url).bearer_auth(token).send().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.entra.release();
    let early = early.await.unwrap().unwrap();
    let after_start = app.entra.key_set_requests();

    // Act: seconds later Entra rolls in key B, and a token signed with it arrives.
    app.entra.publish(vec![
        PublishedKey::everywhere(SIGNING_KEY_A),
        PublishedKey::everywhere(SIGNING_KEY_B),
    ]);
    let rolled = app
        .validate(&app.field_worker_token().signed_with(SIGNING_KEY_B).sign())
        .await;

    // Assert: the early token shared the start-up load (one read of both key sets), and the
    // new key got the immediate re-read instead of waiting out the 30 s interval.
    assert_eq!(early.status(), 200);
    assert_eq!(after_start, 2);
    assert_eq!(rolled.status(), 200);
    assert_eq!(app.entra.key_set_requests(), after_start + 2);
}

#[tokio::test]
async fn validate_does_not_remember_tokens_past_their_expiry() {
    // A token accepted inside the skew window is past `exp`: it must be re-checked every time,
    // so once the window closes it is refused.
    let app = spawn_app().await;
    let token = app
        .field_worker_token()
        .claim("exp", unix_now() - 298)
        .sign();
    assert_eq!(app.validate(&token).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    problem(app.validate(&token).await, 401, "invalid_token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_honours_a_key_rolled_in_right_after_start_and_still_limits_forged_kids() {
    // Arrange: default tuning, so unknown-kid re-reads are limited to one per 30 s; key A is
    // loaded by the start-up warm-up.
    let app = spawn_app().await;
    app.wait_for_signing_keys().await;
    app.entra.publish(vec![
        PublishedKey::everywhere(SIGNING_KEY_A),
        PublishedKey::everywhere(SIGNING_KEY_B),
    ]);
    let before = app.entra.key_set_requests();

    // Act: a token with the new key, seconds after start; then a flood of forged kids.
    let rolled = app
        .validate(&app.field_worker_token().signed_with(SIGNING_KEY_B).sign())
        .await;
    let after_rolled = app.entra.key_set_requests();
    let forged: Vec<String> = (0..20)
        .map(|i| {
            app.field_worker_token()
                .header("kid", format!("forged-{i}"))
                .sign()
        })
        .collect();
    let refused = futures::future::join_all(forged.iter().map(|t| app.validate(t))).await;

    // Assert: the first unknown kid after the load is re-read at once (both key sets); the
    // forged ones after it cost Entra nothing within the interval.
    assert_eq!(rolled.status(), 200);
    assert_eq!(after_rolled - before, 2);
    for response in refused {
        assert_eq!(response.status(), 401);
    }
    assert_eq!(app.entra.key_set_requests(), after_rolled);
}

#[tokio::test]
async fn validate_refuses_ambiguous_credentials() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let other = app.expert_token().sign();

    let two_headers = app
        .http
        .post(app.url("/api/token/validate"))
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {other}"))
        .send()
        .await
        .unwrap();
    let two_in_one = app
        .http
        .post(app.url("/api/token/validate"))
        .header("authorization", format!("Bearer {token}, Bearer {other}"))
        .send()
        .await
        .unwrap();
    let trailing = app
        .http
        .post(app.url("/api/token/validate"))
        .header("authorization", format!("Bearer {token} extra"))
        .send()
        .await
        .unwrap();

    for response in [two_headers, two_in_one, trailing] {
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\""
        );
        problem(response, 401, "invalid_token").await;
    }
    assert_eq!(
        app.validate(&token).await.status(),
        200,
        "each alone is fine"
    );
}

#[tokio::test]
async fn validate_refuses_a_token_with_critical_header_extensions() {
    // RFC 7515 §4.1.11: extensions listed in `crit` must be understood, and none are.
    let app = spawn_app().await;
    let with_crit = app
        .field_worker_token()
        .header("crit", json!(["http://example.com/ext"]))
        .header("http://example.com/ext", true)
        .sign();

    problem(app.validate(&with_crit).await, 401, "invalid_token").await;
}

#[tokio::test]
async fn validate_refuses_a_client_app_that_is_not_allowed() {
    // Arrange: the default list (Teams, Microsoft 365, Outlook clients and the app itself).
    let app = spawn_app().await;
    let some_other_app = "0a0a0a0a-1111-4222-8333-444444444444";
    let v2_other = app.field_worker_token().claim("azp", some_other_app).sign();
    let v2_none = app.field_worker_token().without_claim("azp").sign();
    let v1_other = TokenBuilder::v1(APP_ID_URI, EXPERT_TENANT, EXPERT_OID)
        .claim("appid", some_other_app)
        .sign();
    let outlook_web = app
        .field_worker_token()
        .claim("azp", "bc59ab01-8403-45c6-8796-ac3ef710b3e3")
        .sign();
    let the_app_itself = app.field_worker_token().claim("azp", CLIENT_ID).sign();

    // Act and assert
    for refused in [v2_other, v2_none, v1_other] {
        let body = problem(app.validate(&refused).await, 403, "insufficient_scope").await;
        assert!(
            body["detail"].as_str().unwrap().contains("client app"),
            "{body}"
        );
    }
    assert_eq!(app.validate(&outlook_web).await.status(), 200);
    assert_eq!(app.validate(&the_app_itself).await.status(), 200);
}

#[tokio::test]
async fn validate_takes_the_client_app_list_from_its_setting() {
    let entra = FakeEntra::start().await.unwrap();
    let own_app = "0a0a0a0a-1111-4222-8333-444444444444";
    let mut settings = settings(&entra, "http://127.0.0.1:9");
    settings.insert("ENTRA_ALLOWED_CLIENT_APPS".into(), own_app.into());
    let configured = handler::config::Config::from_lookup(|n| settings.get(n).cloned()).unwrap();
    settings.insert("ENTRA_ALLOWED_CLIENT_APPS".into(), "*".into());
    let any = handler::config::Config::from_lookup(|n| settings.get(n).cloned()).unwrap();
    let app = spawn_app_against(entra, move |config| {
        config.entra.allowed_client_apps = configured.entra.allowed_client_apps.clone();
    })
    .await;

    let listed = app.field_worker_token().claim("azp", own_app).sign();
    let teams = app.field_worker_token().sign();

    assert_eq!(app.validate(&listed).await.status(), 200);
    problem(app.validate(&teams).await, 403, "insufficient_scope").await;
    assert_eq!(
        any.entra.allowed_client_apps,
        handler::config::AllowedClientApps::Any
    );
}
