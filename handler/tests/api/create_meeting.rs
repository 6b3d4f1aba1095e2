//! `POST /api/meetings`: on-behalf-of the caller, a Teams meeting with a cross-tenant expert.
//! Also home of the on-behalf-of behaviour every Graph route shares (cache, single flight,
//! consent, throttling, deadlines), exercised through this route.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::graph::Scripted;
use test_support::token_endpoint::{INTERACTION_CLAIMS, Refusal};
use warp::http::Method;

use crate::helpers::*;
use test_support::directory::{
    GUEST_OID, SPECIALIST_OID as SPECIALIST, TECHNICIAN_OID as TECHNICIAN,
};

fn meeting_with_expert() -> Value {
    json!({
        "subject": "Pump 7 vibration",
        "startDateTime": "2026-11-26T14:00:00Z",
        "endDateTime": "2026-11-26T15:00:00Z",
        "participants": [
            {"userId": EXPERT_OID, "tenantId": EXPERT_TENANT, "upn": "robin@experts.example", "role": "presenter"}
        ]
    })
}

/// The field worker asks for the usual meeting with the expert.
async fn post_meeting(app: &TestApp) -> reqwest::Response {
    app.create_meeting(&app.field_worker_token().sign(), &meeting_with_expert())
        .await
}

/// The field worker asks for the usual meeting with the expert, with calendar invitations;
/// checks the 201 and returns its body.
async fn post_meeting_with_invites(app: &TestApp) -> Value {
    let mut request = meeting_with_expert();
    request["sendInvites"] = json!(true);
    let response = app
        .create_meeting(&app.field_worker_token().sign(), &request)
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn create_meeting_creates_an_online_meeting_as_the_caller() {
    // Arrange
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    // Act
    let response = app
        .http
        .post(app.url("/api/meetings"))
        .bearer_auth(&token)
        .header(
            "x-ms-client-request-id",
            "6f1c0000-0000-4000-8000-0000000000aa",
        )
        .json(&meeting_with_expert())
        .send()
        .await
        .unwrap();

    // Assert: the answer.
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("MSo"));
    assert!(
        body["joinWebUrl"]
            .as_str()
            .unwrap()
            .starts_with("https://teams.microsoft.com/l/meetup-join/")
    );
    assert!(
        body["chatThreadId"]
            .as_str()
            .unwrap()
            .ends_with("@thread.v2")
    );
    assert_eq!(body["subject"], "Pump 7 vibration");
    assert_eq!(body["startDateTime"], "2026-11-26T14:00:00Z");
    assert_eq!(body["endDateTime"], "2026-11-26T15:00:00Z");

    // Assert: one on-behalf-of exchange, in the caller's tenant, with the SSO token.
    let exchanges = app.token_requests();
    assert_eq!(exchanges.len(), 1);
    let form = &exchanges[0];
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(form["requested_token_use"], "on_behalf_of");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["assertion"], token);
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");

    // Assert: what Graph received.
    let calls = app.graph.requests_to("POST", "/me/onlineMeetings");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    let caller = call.caller.as_ref().expect("an on-behalf-of token");
    assert_eq!(
        (caller.tenant_id.as_str(), caller.object_id.as_str()),
        (FIELD_TENANT, FIELD_WORKER_OID)
    );
    assert_eq!(
        call.headers["client-request-id"],
        "6f1c0000-0000-4000-8000-0000000000aa"
    );
    assert_eq!(
        call.body,
        json!({
            "subject": "Pump 7 vibration",
            "startDateTime": "2026-11-26T14:00:00Z",
            "endDateTime": "2026-11-26T15:00:00Z",
            "participants": {"attendees": [{
                "identity": {"user": {"id": EXPERT_OID, "tenantId": EXPERT_TENANT}},
                "upn": "robin@experts.example",
                "role": "presenter"
            }]},
            "lobbyBypassSettings": {"scope": "organizationAndFederated", "isDialInBypassEnabled": false},
            "allowedPresenters": "roleIsPresenter"
        })
    );
}

#[tokio::test]
async fn create_meeting_with_invites_uses_a_calendar_event() {
    // Arrange
    let app = spawn_app().await;
    let mut request = meeting_with_expert();
    request["sendInvites"] = json!(true);
    request["lobbyBypass"] = json!("everyone");

    // Act
    let response = app
        .create_meeting(&app.field_worker_token().sign(), &request)
        .await;

    // Assert
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let events = app.graph.requests_to("POST", "/me/events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body["isOnlineMeeting"], true);
    assert_eq!(events[0].body["onlineMeetingProvider"], "teamsForBusiness");
    assert_eq!(
        events[0].body["attendees"],
        json!([{"emailAddress": {"address": "robin@experts.example"}, "type": "required"}])
    );
    // The emulated Graph, like the real one, shows the event's meeting only after a moment.
    let lookups = app.graph.requests_to("GET", "/me/onlineMeetings");
    assert!(!lookups.is_empty());
    assert!(lookups[0].query["$filter"].starts_with("JoinWebUrl eq 'https://teams.microsoft.com/"));
    assert!(body.get("warnings").is_none(), "{body}");
    let patches = app.graph.requests_to("PATCH", "/me/onlineMeetings/");
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].body["lobbyBypassSettings"]["scope"], "everyone");
    assert_eq!(
        patches[0].path,
        format!("/me/onlineMeetings/{}", body["id"].as_str().unwrap())
    );
    assert!(
        body["chatThreadId"]
            .as_str()
            .unwrap()
            .starts_with("19:meeting_")
    );
}

#[tokio::test]
async fn invitations_go_to_mail_addresses_never_to_user_principal_names() {
    // Arrange: a colleague, a B2B guest of Fieldworks (UPN `…#EXT#@…`, mail at their own
    // company), and the expert of another organization once with a UPN, once without.
    let app = spawn_app().await;
    let mut request = meeting_with_expert();
    request["sendInvites"] = json!(true);
    request["participants"] = json!([
        {"userId": TECHNICIAN, "upn": "jordan@fieldworks.example"},
        {"userId": GUEST_OID, "upn": "quinn_valveconsult.example#EXT#@fieldworks.example"},
        {"userId": EXPERT_OID, "tenantId": EXPERT_TENANT, "upn": "robin@experts.example"},
        {"userId": SPECIALIST, "tenantId": EXPERT_TENANT},
    ]);

    // Act
    let response = app
        .create_meeting(&app.field_worker_token().sign(), &request)
        .await;

    // Assert: people of the directory are invited at their `mail` (looked up), the expert at
    // the UPN they were given; the specialist could not be invited, and the answer says so.
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let events = app.graph.requests_to("POST", "/me/events");
    let addresses: Vec<&str> = events[0].body["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["emailAddress"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        [
            "jordan@fieldworks.example",
            "quinn@valveconsult.example",
            "robin@experts.example"
        ]
    );
    assert!(!addresses.iter().any(|a| a.contains("#EXT#")));
    assert_eq!(body["warnings"], json!(["invitations_incomplete"]));
    let lookups = app.graph.requests_to("GET", "/users/");
    assert_eq!(
        lookups.len(),
        2,
        "only the directory's own people are looked up"
    );
    assert!(lookups.iter().all(|l| l.query["$select"] == "id,mail"));
}

#[tokio::test]
async fn invitations_keep_the_presenters() {
    // Arrange: the expert presents; with invitations, Graph creates the meeting with Teams'
    // defaults, so the roles must be patched onto it.
    let app = spawn_app().await;

    // Act
    let body = post_meeting_with_invites(&app).await;

    // Assert: one PATCH carries the lobby, roleIsPresenter and the attendees with their roles,
    // and the meeting Graph holds has the expert as presenter.
    let patches = app.graph.requests_to("PATCH", "/me/onlineMeetings/");
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].body["allowedPresenters"], "roleIsPresenter");
    assert_eq!(
        patches[0].body["participants"]["attendees"][0]["identity"]["user"]["id"],
        EXPERT_OID
    );
    assert_eq!(
        patches[0].body["participants"]["attendees"][0]["role"],
        "presenter"
    );
    let held = app
        .graph
        .meetings()
        .into_iter()
        .find(|m| m["id"] == body["id"])
        .unwrap();
    assert_eq!(held["allowedPresenters"], "roleIsPresenter");
    assert_eq!(held["participants"]["attendees"][0]["role"], "presenter");
}

#[tokio::test]
async fn create_meeting_returns_401_without_a_token_and_calls_nothing() {
    let app = spawn_app().await;

    let response = app
        .http
        .post(app.url("/api/meetings"))
        .json(&meeting_with_expert())
        .send()
        .await
        .unwrap();

    problem(response, 401, "invalid_token").await;
    app.assert_nothing_went_upstream();
}

#[tokio::test]
async fn create_meeting_returns_400_naming_the_field_before_any_upstream_call() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let mut bad_participant = meeting_with_expert();
    bad_participant["participants"][0]["userId"] = json!("robin");
    let mut unknown_field = meeting_with_expert();
    unknown_field["passcode"] = json!("1234");
    let cases = [
        (bad_participant, "participants[0].userId"),
        (unknown_field, "passcode"),
        (json!({"subject": "x"}), "startDateTime"),
        (json!(["Pump 7", "2026-11-26T14:00:00Z"]), "JSON object"),
    ];

    for (body, field) in cases {
        let response = app.create_meeting(&token, &body).await;
        let problem = problem(response, 400, "bad_request").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{problem}"
        );
    }
    let malformed = app
        .http
        .post(app.url("/api/meetings"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"subject\": ")
        .send()
        .await
        .unwrap();
    problem(malformed, 400, "bad_request").await;
    app.assert_nothing_went_upstream();
}

#[tokio::test]
async fn create_meeting_returns_502_with_graphs_code_when_graph_fails() {
    // Arrange
    let app = spawn_app().await;
    app.graph.script([Scripted::status(
        Method::POST,
        "/me/onlineMeetings",
        403,
        "Authorization_RequestDenied",
    )]);

    // Act
    let response = post_meeting(&app).await;

    // Assert: Graph's code is passed on, its message is not.
    let body = problem(response, 502, "upstream_error").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("Authorization_RequestDenied"), "{detail}");
    assert!(!body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn create_meeting_retries_after_throttling_then_succeeds() {
    let app = spawn_app().await;
    app.graph
        .script([Scripted::throttled(Method::POST, "/me/onlineMeetings", 1)]);
    let started = Instant::now();

    let response = post_meeting(&app).await;

    assert_eq!(response.status(), 201);
    assert_eq!(app.graph.requests_to("POST", "/me/onlineMeetings").len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

/// Graph answers every try of the meeting with `status`; the tab gets `expected` after one try
/// and three retries.
async fn graph_keeps_answering(status: u16, graph_code: &str, expected: (u16, &str)) {
    let app = spawn_app().await;
    app.graph.script((0..4).map(|_| {
        let mut answer = Scripted::status(Method::POST, "/me/onlineMeetings", status, graph_code);
        if status == 429 {
            answer
                .headers
                .push(("retry-after".to_owned(), "0".to_owned()));
        }
        answer
    }));

    let response = post_meeting(&app).await;

    assert!(response.headers().contains_key("retry-after"));
    problem(response, expected.0, expected.1).await;
    assert_eq!(
        app.graph.requests_to("POST", "/me/onlineMeetings").len(),
        4,
        "1 try + 3 retries"
    );
}

#[tokio::test]
async fn create_meeting_returns_429_when_throttling_outlasts_the_retries() {
    graph_keeps_answering(429, "TooManyRequests", (429, "throttled")).await;
}

#[tokio::test]
async fn create_meeting_returns_503_when_graph_stays_unavailable_past_the_retries() {
    // An outage is not throttling: the tab must not be told to slow down, but to retry later.
    graph_keeps_answering(503, "ServiceUnavailable", (503, "unavailable")).await;
}

#[tokio::test]
async fn create_meeting_returns_503_when_graph_keeps_timing_out_at_the_gateway() {
    graph_keeps_answering(504, "GatewayTimeout", (503, "unavailable")).await;
}

#[tokio::test]
async fn create_meeting_returns_consent_required_with_the_scopes() {
    // Arrange: consent is missing.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next((0..4).map(|_| Refusal::consent_required()));

    // Act
    let response = post_meeting(&app).await;

    // Assert
    let body = problem(response, 403, "consent_required").await;
    let scopes: Vec<&str> = body["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(scopes.contains(&"https://graph.microsoft.com/OnlineMeetings.ReadWrite"));
    assert!(scopes.contains(&"https://graph.microsoft.com/Chat.Create"));
    assert_eq!(
        app.token_requests().len(),
        1,
        "answered at once: a user who never consented must not wait for retries"
    );
    assert!(app.graph.requests().is_empty());
}

#[tokio::test]
async fn create_meeting_rides_out_the_seconds_after_consent() {
    // Entra can still refuse right after the user consented; a tab that says so
    // (`x-consent-retry: 1`) gets the retries that absorb it.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::consent_required(), Refusal::consent_required()]);

    let response = app
        .http
        .post(app.url("/api/meetings"))
        .bearer_auth(app.field_worker_token().sign())
        .header("x-consent-retry", "1")
        .json(&meeting_with_expert())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    assert_eq!(app.token_requests().len(), 3);
}

#[tokio::test]
async fn create_meeting_passes_a_claims_challenge_to_the_tab() {
    // MFA or Conditional Access: the user must act, so nothing is retried and the tab gets
    // Entra's claims to ask Teams for a token that satisfies them.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::interaction_required()]);

    let response = post_meeting(&app).await;

    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = problem(response, 401, "interaction_required").await;
    assert_eq!(body["claims"], INTERACTION_CLAIMS);
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(INTERACTION_CLAIMS);
    assert_eq!(
        challenge,
        format!("Bearer error=\"insufficient_claims\", claims=\"{encoded}\"")
    );
    assert_eq!(app.token_requests().len(), 1);
    assert!(app.graph.requests().is_empty());
}

#[tokio::test]
async fn create_meeting_sets_presenters_so_graph_applies_their_role() {
    let app = spawn_app().await;

    let response = post_meeting(&app).await;

    assert_eq!(response.status(), 201);
    let sent = &app.graph.requests_to("POST", "/me/onlineMeetings")[0].body;
    assert_eq!(sent["allowedPresenters"], "roleIsPresenter");
    let stored = &app.graph.meetings()[0];
    assert_eq!(stored["participants"]["attendees"][0]["role"], "presenter");
}

#[tokio::test]
async fn create_meeting_with_invites_answers_201_with_a_warning_when_the_meeting_never_appears() {
    // Arrange: Graph takes longer to create the event's online meeting than the request may.
    let app = spawn_app_with(|config| {
        config.tuning.request_deadline = Duration::from_secs(4);
    })
    .await;
    app.graph.set_online_meeting_delay(Duration::from_secs(120));

    // Act
    let body = post_meeting_with_invites(&app).await;

    // Assert: invitations went out once, and the tab is told so, not asked to retry.
    assert_eq!(body["warnings"], json!(["lobby_not_applied"]));
    assert!(
        body["joinWebUrl"]
            .as_str()
            .unwrap()
            .starts_with("https://teams.microsoft.com/l/meetup-join/"),
        "{body}"
    );
    assert_eq!(app.graph.requests_to("POST", "/me/events").len(), 1);
    assert!(app.graph.requests_to("GET", "/me/onlineMeetings").len() >= 2);
    assert!(
        app.graph
            .requests_to("PATCH", "/me/onlineMeetings/")
            .is_empty()
    );
}

#[tokio::test]
async fn create_meeting_with_invites_never_answers_5xx_once_the_event_exists() {
    let app = spawn_app().await;
    app.graph.script([Scripted::status(
        Method::PATCH,
        "/me/onlineMeetings/",
        500,
        "InternalServerError",
    )]);

    let body = post_meeting_with_invites(&app).await;

    assert_eq!(body["warnings"], json!(["lobby_not_applied"]));
    assert_eq!(app.graph.requests_to("POST", "/me/events").len(), 1);
}

#[tokio::test]
async fn create_meeting_asks_for_consent_when_the_tenant_lacks_a_permission_added_later() {
    // Arrange: Fieldworks consented before OnlineMeetings.ReadWrite was added to the app.
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .withhold_graph_permissions(FIELD_TENANT, &["OnlineMeetings.ReadWrite"]);

    // Act
    let response = post_meeting(&app).await;

    // Assert: Graph refused (403), and the tab is asked to get consent for what it needs.
    assert_eq!(app.graph.requests_to("POST", "/me/onlineMeetings").len(), 1);
    let body = problem(response, 403, "consent_required").await;
    assert_eq!(
        body["scopes"],
        json!(["https://graph.microsoft.com/OnlineMeetings.ReadWrite"])
    );
}

#[tokio::test]
async fn create_meeting_returns_401_when_entra_refuses_the_assertion() {
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::assertion_expired()]);

    let response = post_meeting(&app).await;

    problem(response, 401, "invalid_token").await;
}

#[tokio::test]
async fn create_meeting_returns_503_when_the_token_endpoint_is_down() {
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .refuse_next([Refusal::unavailable()]);

    let response = post_meeting(&app).await;

    assert_eq!(response.headers()["retry-after"], "7");
    problem(response, 503, "unavailable").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_of_one_user_make_one_token_call() {
    // Arrange: a slow token endpoint, so the requests really overlap.
    let app = spawn_app().await;
    app.entra.token_endpoint().set_delay_ms(200);
    let token = app.field_worker_token().sign();
    let body = meeting_with_expert();

    // Act
    let responses =
        futures::future::join_all((0..50).map(|_| app.create_meeting(&token, &body))).await;

    // Assert
    for response in responses {
        assert_eq!(response.status(), 201);
    }
    assert_eq!(app.token_requests().len(), 1);
    assert_eq!(
        app.graph.requests_to("POST", "/me/onlineMeetings").len(),
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_tokens_never_cross_users_or_tenants() {
    // Arrange: 100 users in 5 tenants, each with their own SSO token.
    let app = spawn_app_with(|config| {
        config.entra.allowed_tenants = handler::config::AllowedTenants::Any;
    })
    .await;
    let users: Vec<(String, String)> = (0..100)
        .map(|i| {
            (
                format!("7e0a0000-0000-4000-8000-00000000000{}", i % 5),
                format!("0b1d7000-0000-4000-8000-{:012}", i),
            )
        })
        .collect();

    // Act: each creates a meeting whose subject names them; twice with the same SSO token (as
    // Teams re-sends it), to go through the cache.
    let app = &app;
    let tokens: Vec<String> = users
        .iter()
        .map(|(tenant, oid)| app.entra.token_v2(CLIENT_ID, tenant, oid).sign())
        .collect();
    for _round in 0..2 {
        let requests = users.iter().zip(&tokens).map(|((tenant, oid), token)| {
            let mut body = meeting_with_expert();
            body["subject"] = json!(format!("{tenant}/{oid}"));
            async move { app.create_meeting(token, &body).await.status() }
        });
        for status in futures::future::join_all(requests).await {
            assert_eq!(status, 201);
        }
    }

    // Assert: every Graph call carried the token of the user it was made for.
    let calls = app.graph.requests_to("POST", "/me/onlineMeetings");
    assert_eq!(calls.len(), 200);
    for call in calls {
        let caller = call.caller.expect("an on-behalf-of token");
        assert_eq!(
            call.body["subject"],
            format!("{}/{}", caller.tenant_id, caller.object_id)
        );
    }
    assert_eq!(
        app.token_requests().len(),
        100,
        "one exchange per user, then the cache"
    );
}

#[tokio::test]
async fn create_meeting_answers_504_within_the_deadline_when_graph_hangs() {
    let app = spawn_app_with(|config| {
        config.tuning.request_deadline = Duration::from_millis(400);
    })
    .await;
    app.graph
        .script([Scripted::slow(Method::POST, "/me/onlineMeetings", 5_000)]);
    let started = Instant::now();

    let response = post_meeting(&app).await;

    problem(response, 504, "upstream_timeout").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_on_behalf_of_token_within_five_minutes_of_expiry_is_not_reused() {
    // Entra may issue a token that lives only five minutes more; it is renewed at once.
    let app = spawn_app().await;
    app.entra.token_endpoint().set_token_lifetime(300);
    let token = app.field_worker_token().sign();

    assert_eq!(
        app.create_meeting(&token, &meeting_with_expert())
            .await
            .status(),
        201
    );
    assert_eq!(
        app.create_meeting(&token, &meeting_with_expert())
            .await
            .status(),
        201
    );

    assert_eq!(app.token_requests().len(), 2);
}

#[tokio::test]
async fn a_graph_token_that_graph_refuses_is_dropped_not_reused() {
    // Arrange: the field worker's Graph token is cached, then revoked (sessions ended).
    // One SSO token throughout, as Teams re-sends it: the cache answers for that token.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let meeting = meeting_with_expert();
    assert_eq!(app.create_meeting(&token, &meeting).await.status(), 201);
    app.entra
        .token_endpoint()
        .revoke_user(FIELD_TENANT, FIELD_WORKER_OID);

    // Act
    let refused = app.create_meeting(&token, &meeting).await;
    let next = app.create_meeting(&token, &meeting).await;

    // Assert: Graph said 401 once; the next request exchanged again and succeeded.
    let body = problem(refused, 502, "upstream_error").await;
    assert!(body["detail"].as_str().unwrap().contains("401"), "{body}");
    assert_eq!(next.status(), 201);
    assert_eq!(app.token_requests().len(), 2);
    let creates = app.graph.requests_to("POST", "/me/onlineMeetings");
    assert_eq!(creates.len(), 3);
}
