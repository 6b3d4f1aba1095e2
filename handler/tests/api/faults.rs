//! Faults injected through the fakes: connections reset, services gone, keys rolled over under
//! load. Each answer is exact, and nothing is lost or crosses users.

use std::time::Duration;

use test_support::entra::PublishedKey;
use test_support::http::spawn_hanging_up;
use test_support::keys::{SIGNING_KEY_A, SIGNING_KEY_B};

use crate::helpers::*;

#[tokio::test]
async fn graph_resetting_connections_is_502_connection_lost() {
    let hanging_up = spawn_hanging_up().await.unwrap();
    let app = spawn_app_with(|config| {
        config.graph_endpoint = format!("http://{}", hanging_up.addr).parse().unwrap();
    })
    .await;

    let response = app
        .get("/api/users/me", &app.field_worker_token().sign())
        .await;

    let body = problem(response, 502, "upstream_error").await;
    assert!(
        body["detail"].as_str().unwrap().contains("connection"),
        "{body}"
    );
}

#[tokio::test]
async fn graph_not_listening_is_503_with_retry_after() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app_with(move |config| {
        config.graph_endpoint = format!("http://{closed}").parse().unwrap();
    })
    .await;

    let response = app
        .get("/api/users/me", &app.field_worker_token().sign())
        .await;

    assert_eq!(response.headers()["retry-after"], "10");
    problem(response, 503, "unavailable").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_hanging_up_on_every_retry_still_answers_once() {
    // A Graph that hangs up is not retried blindly: one call, one clear answer.
    let hanging_up = spawn_hanging_up().await.unwrap();
    let app = spawn_app_with(|config| {
        config.graph_endpoint = format!("http://{}", hanging_up.addr).parse().unwrap();
    })
    .await;
    let token = app.field_worker_token().sign();

    let answers =
        futures::future::join_all((0..20).map(|_| app.get("/api/contacts?q=pump", &token))).await;

    for answer in answers {
        assert_eq!(answer.status(), 502);
    }
    // Each request asked Graph's two searches once: a lost connection is not retried.
    assert_eq!(hanging_up.requests(), 40, "one try per Graph call");
    assert_eq!(
        app.token_requests().len(),
        1,
        "the delegated token was still shared"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rollover_under_load_loses_no_request() {
    // Arrange: keys loaded; re-reads allowed often, as after a day.
    let app = spawn_app_with(|config| {
        config.tuning.signing_keys_min_refetch_interval = Duration::from_millis(20);
    })
    .await;
    app.wait_for_signing_keys().await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let old_tokens: Vec<String> = (0..60)
        .map(|i| {
            app.field_worker_token()
                .claim("name", format!("old {i}"))
                .sign()
        })
        .collect();
    let new_tokens: Vec<String> = (0..60)
        .map(|i| {
            app.field_worker_token()
                .claim("name", format!("new {i}"))
                .signed_with(SIGNING_KEY_B)
                .sign()
        })
        .collect();

    // Act: requests are sent from other tasks, and Entra starts publishing key B (and signing
    // with it) while those with key A are in flight.
    let url = app.url("/api/token/validate");
    let send = |token: String| {
        let http = app.http.clone();
        let url = url.clone();
        tokio::spawn(async move { http.post(url).bearer_auth(token).send().await })
    };
    let in_flight: Vec<_> = old_tokens.iter().cloned().map(send).collect();
    tokio::task::yield_now().await;
    app.entra.publish(vec![
        PublishedKey::everywhere(SIGNING_KEY_A),
        PublishedKey::everywhere(SIGNING_KEY_B),
    ]);
    let after: Vec<_> = new_tokens.iter().cloned().map(send).collect();
    let first_half = futures::future::join_all(in_flight).await;
    let mixed = futures::future::join_all(after).await;
    let first_half: Vec<reqwest::Response> = first_half
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    let mixed: Vec<reqwest::Response> = mixed.into_iter().map(|r| r.unwrap().unwrap()).collect();

    // Assert: every request, with the old key or the new one, was accepted as its own user.
    for response in first_half.into_iter().chain(mixed) {
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["objectId"], FIELD_WORKER_OID);
    }
}

#[tokio::test]
async fn upstream_free_text_never_reaches_the_caller() {
    use serde_json::json;
    use test_support::graph::Scripted;
    use test_support::token_endpoint::Refusal;
    use warp::http::Method;

    // Arrange: three upstream answers carrying text a caller must not see.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let leak = "hunter2 call +1-555-0100";
    let mut unparseable = Scripted::status(Method::GET, "/me", 200, "");
    unparseable.body = json!(format!("unexpected page: {leak}"));
    let mut prose_code = Scripted::status(Method::GET, "/users/", 400, "");
    prose_code.body = json!({"error": {"code": format!("Bad thing: {leak}"), "message": leak}});
    app.graph.script([unparseable, prose_code]);

    // Act
    let from_parse = app.get("/api/users/me", &token).await;
    let from_code = app.get(&format!("/api/users/{EXPERT_OID}"), &token).await;
    app.entra.token_endpoint().refuse_next([Refusal::entra(
        400,
        &format!("weird {leak}"),
        50020,
        None,
    )]);
    let expert = app.expert_token().sign();
    let from_entra = app.get("/api/users/me", &expert).await;

    // Assert: status and an identifier-only code, never the upstream's words.
    for (what, response) in [
        ("unparseable Graph answer", from_parse),
        ("Graph error code with prose", from_code),
        ("Entra error string", from_entra),
    ] {
        let body = problem(response, 502, "upstream_error").await;
        let text = body.to_string();
        assert!(!text.contains("hunter2"), "{what}: {text}");
        assert!(!text.contains("555"), "{what}: {text}");
    }
}

#[tokio::test]
async fn token_endpoint_throttling_is_429_and_its_outage_is_503() {
    use test_support::token_endpoint::Refusal;

    let app = spawn_app().await;
    let mut throttled = Refusal::entra(429, "temporarily_unavailable", 50196, None);
    throttled.body["error_description"] = serde_json::json!("AADSTS50196: slow down");
    app.entra
        .token_endpoint()
        .refuse_next([throttled, Refusal::unavailable()]);

    let first = app
        .get("/api/users/me", &app.field_worker_token().sign())
        .await;
    let second = app.get("/api/users/me", &app.expert_token().sign()).await;

    assert!(first.headers().contains_key("retry-after"));
    problem(first, 429, "throttled").await;
    assert!(second.headers().contains_key("retry-after"));
    problem(second, 503, "unavailable").await;
}

#[tokio::test]
async fn an_upstream_answer_too_large_to_be_real_is_not_buffered() {
    use test_support::graph::Scripted;
    use warp::http::Method;

    // Arrange: Graph answers a profile with 2 MiB of JSON (no real profile is near that).
    let app = spawn_app().await;
    let mut huge = Scripted::status(Method::GET, "/me", 200, "");
    huge.body =
        serde_json::json!({"id": FIELD_WORKER_OID, "displayName": "x".repeat(2 * 1024 * 1024)});
    app.graph.script([huge]);

    // Act
    let response = app
        .get("/api/users/me", &app.field_worker_token().sign())
        .await;

    // Assert
    upstream_error_naming(response, "answer_too_large").await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_is_answered_at_once() {
    use test_support::graph::Scripted;
    use warp::http::Method;

    // Graph asks for two minutes; the request deadline is 25 s: waiting would only end in 504.
    let app = spawn_app().await;
    app.graph
        .script([Scripted::throttled(Method::GET, "/me", 120)]);

    let response = app
        .get("/api/users/me", &app.field_worker_token().sign())
        .await;

    assert_eq!(response.headers()["retry-after"], "120");
    problem(response, 429, "throttled").await;
    assert_eq!(app.graph.requests_to("GET", "/me").len(), 1, "no retry");
}

#[tokio::test]
async fn a_retry_after_given_as_an_http_date_is_honoured() {
    use test_support::graph::Scripted;
    use warp::http::Method;

    // RFC 9110 allows an HTTP-date; a date already past means "retry now".
    let app = spawn_app().await;
    let mut throttled = Scripted::throttled(Method::GET, "/me", 0);
    throttled.headers = vec![(
        "retry-after".to_owned(),
        "Wed, 21 Oct 2015 07:28:00 GMT".to_owned(),
    )];
    app.graph.script([throttled]);

    let response = app
        .get("/api/users/me", &app.field_worker_token().sign())
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(app.graph.requests_to("GET", "/me").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_lets_requests_in_flight_finish_and_takes_no_new_ones() {
    use test_support::graph::Scripted;
    use warp::http::Method;

    // Arrange: a profile request that Graph answers slowly is in flight.
    let mut app = spawn_app().await;
    app.graph.script([Scripted::slow(Method::GET, "/me", 500)]);
    let token = app.field_worker_token().sign();
    let in_flight = {
        let http = app.http.clone();
        let url = app.url("/api/users/me");
        let token = token.clone();
        tokio::spawn(async move { http.get(url).bearer_auth(token).send().await })
    };
    for _ in 0..200 {
        if !app.graph.requests_to("GET", "/me").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Act: the host stops the handler (SIGTERM in production) while Graph is still answering.
    app.shut_down();
    let finished = in_flight.await.unwrap().unwrap();
    let fresh = reqwest::Client::new()
        .get(app.url("/api/health"))
        .send()
        .await;

    // Assert
    assert_eq!(finished.status(), 200, "the request in flight was drained");
    assert!(fresh.is_err(), "no new connection after shutdown");
}
