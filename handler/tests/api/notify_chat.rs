//! `POST /api/notifications/chat`: a message from the caller, escaped, into the right chat.

use serde_json::{Value, json};
use test_support::directory::{GUEST_OID, SPECIALIST_OID};
use test_support::graph::Scripted;
use warp::http::Method;

use crate::helpers::*;

#[tokio::test]
async fn notify_creates_a_federated_one_on_one_chat_and_posts_escaped_html() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({
        "recipients": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}],
        "message": "Pump <7> needs you & now: <script>alert(1)</script>",
        "link": {"url": "https://tab.contoso.example/session?id=1&x=<y>", "title": "Join \"session\""}
    });

    // Act
    let response = app.notify(&app.field_worker_token().sign(), &body).await;

    // Assert: the answer.
    assert_eq!(response.status(), 201);
    let answer: Value = response.json().await.unwrap();
    let chat_id = answer["chatId"].as_str().unwrap();
    assert!(chat_id.ends_with("@unq.gbl.spaces"));
    assert!(answer["messageId"].as_str().is_some_and(|m| !m.is_empty()));

    // Assert: the chat Graph was asked for lists both people, the expert with their tenant.
    let create = chat_created(&app);
    assert_eq!(create.body["chatType"], "oneOnOne");
    assert_eq!(
        create.body["members"],
        json!([
            {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": ["owner"],
             "user@odata.bind": format!("https://graph.microsoft.com/v1.0/users('{FIELD_WORKER_OID}')")},
            {"@odata.type": "#microsoft.graph.aadUserConversationMember", "roles": ["owner"],
             "user@odata.bind": format!("https://graph.microsoft.com/v1.0/users('{EXPERT_OID}')"),
             "tenantId": EXPERT_TENANT}
        ])
    );

    // Assert: the message arrived escaped, as HTML.
    let messages = app.graph.messages(chat_id);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["body"]["contentType"], "html");
    assert_eq!(
        messages[0]["body"]["content"],
        "<p>Pump &lt;7&gt; needs you &amp; now: &lt;script&gt;alert(1)&lt;/script&gt;</p>\
         <p><a href=\"https://tab.contoso.example/session?id=1&amp;x=%3Cy%3E\">Join &quot;session&quot;</a></p>"
    );
}

#[tokio::test]
async fn notify_reuses_the_one_on_one_chat() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let body = json!({"recipients": [EXPERT_OID], "message": "first"});

    let first: Value = app.notify(&token, &body).await.json().await.unwrap();
    let second: Value = app.notify(&token, &body).await.json().await.unwrap();

    assert_eq!(first["chatId"], second["chatId"]);
    assert_eq!(
        app.graph.messages(first["chatId"].as_str().unwrap()).len(),
        2
    );
}

#[tokio::test]
async fn notify_posts_into_the_meeting_chat() {
    // Arrange: a meeting with the expert exists.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let meeting: Value = app
        .create_meeting(
            &token,
            &json!({
                "subject": "Pump 7", "startDateTime": "2026-11-26T14:00:00Z", "endDateTime": "2026-11-26T15:00:00Z",
                "participants": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}]
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let thread = meeting["chatThreadId"].as_str().unwrap();

    // Act
    let response = app
        .notify(&token, &json!({"chatId": thread, "message": "Joining now"}))
        .await;

    // Assert
    assert_eq!(response.status(), 201);
    assert_eq!(app.graph.messages(thread).len(), 1);
    assert!(
        app.graph
            .requests_to("POST", "/chats")
            .iter()
            .all(|r| r.path != "/chats")
    );
}

#[tokio::test]
async fn notify_makes_a_group_chat_for_several_recipients() {
    let app = spawn_app().await;

    let response = app.notify(&app.field_worker_token().sign(), &json!({"recipients": [EXPERT_OID, "0b1d0000-0000-4000-8000-000000000003"], "message": "hi"}))
        .await;

    assert_eq!(response.status(), 201);
    let create = chat_created(&app);
    assert_eq!(create.body["chatType"], "group");
    assert_eq!(create.body["members"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn notify_returns_400_for_a_bad_request_and_401_without_a_token() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    let both = app
        .notify(
            &token,
            &json!({"chatId": "19:a@thread.v2", "recipients": [EXPERT_OID], "message": "x"}),
        )
        .await;
    let insecure_link = app.notify(&token, &json!({"chatId": "19:a@thread.v2", "message": "x", "link": {"url": "http://evil.example"}}))
        .await;
    let no_token = app
        .http
        .post(app.url("/api/notifications/chat"))
        .json(&json!({"chatId": "19:a@thread.v2", "message": "x"}))
        .send()
        .await
        .unwrap();

    problem(both, 400, "bad_request").await;
    let link = problem(insecure_link, 400, "bad_request").await;
    assert!(link["detail"].as_str().unwrap().contains("link.url"));
    problem(no_token, 401, "invalid_token").await;
    assert!(app.graph.requests().is_empty());
}

#[tokio::test]
async fn notify_returns_404_for_an_unknown_chat_and_502_when_graph_fails() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    let unknown = app
        .notify(
            &token,
            &json!({"chatId": "19:nope@thread.v2", "message": "x"}),
        )
        .await;
    app.graph.script([Scripted::status(
        Method::POST,
        "/chats",
        500,
        "InternalServerError",
    )]);
    let failed = app
        .notify(&token, &json!({"recipients": [EXPERT_OID], "message": "x"}))
        .await;

    problem(unknown, 404, "not_found").await;
    problem(failed, 502, "upstream_error").await;
}

#[tokio::test]
async fn notify_adds_a_guest_of_the_tenant_with_the_guest_role() {
    // Arrange: a group chat with a B2B guest of Fieldworks and the expert of another tenant.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let body = json!({
        "recipients": [GUEST_OID, {"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}],
        "message": "Valve 3 is leaking",
    });

    // Act
    let response = app.notify(&token, &body).await;

    // Assert: Graph got each member with the role it requires (it refuses a guest as owner).
    assert_eq!(response.status(), 201);
    let create = chat_created(&app);
    let roles: Vec<(String, Value, Value)> = create.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (bound_user(m), m["roles"].clone(), m["tenantId"].clone()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (
                format!("https://graph.microsoft.com/v1.0/users('{FIELD_WORKER_OID}')"),
                json!(["owner"]),
                Value::Null
            ),
            (
                format!("https://graph.microsoft.com/v1.0/users('{GUEST_OID}')"),
                json!(["guest"]),
                Value::Null
            ),
            (
                format!("https://graph.microsoft.com/v1.0/users('{EXPERT_OID}')"),
                json!(["owner"]),
                json!(EXPERT_TENANT)
            ),
        ]
    );
    let lookups = app.graph.requests_to("GET", "/users/");
    assert_eq!(
        lookups.len(),
        1,
        "only the in-tenant recipient is looked up"
    );
    assert_eq!(lookups[0].query["$select"], "id,userPrincipalName");
}

#[tokio::test]
async fn notify_asks_for_consent_when_the_tenant_lacks_chat_create() {
    let app = spawn_app().await;
    app.entra
        .token_endpoint()
        .withhold_graph_permissions(FIELD_TENANT, &["Chat.Create"]);

    let response = app.notify(&app.field_worker_token().sign(), &json!({"recipients": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}], "message": "x"}))
        .await;

    let body = problem(response, 403, "consent_required").await;
    assert_eq!(
        body["scopes"],
        json!(["https://graph.microsoft.com/Chat.Create"])
    );
}

/// The one `POST /chats` the handler sent Graph.
fn chat_created(app: &TestApp) -> test_support::graph::RecordedRequest {
    app.graph
        .requests_to("POST", "/chats")
        .into_iter()
        .find(|r| r.path == "/chats")
        .expect("a chat was created")
}

/// The `users('…')` URL a chat member binds.
fn bound_user(member: &Value) -> String {
    member["user@odata.bind"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `POST /api/notifications/chat` into an existing chat as the holder of `token`.
async fn post_into(
    app: &TestApp,
    token: &str,
    chat_id: &Value,
    message: &str,
) -> reqwest::Response {
    app.notify(token, &json!({"chatId": chat_id, "message": message}))
        .await
}

#[tokio::test]
async fn notify_into_a_chat_the_caller_is_not_in_is_not_found() {
    // Teams refuses a sender who is not on the roster with 403, although the token carries
    // ChatMessage.Send: not a consent problem, and not an upstream failure either. Whether a
    // chat one is not in exists is not the caller's to learn, so it is answered as absent.
    let app = spawn_app().await;
    let expert = app.expert_token().sign();
    let created: Value = app
        .notify(
            &expert,
            &json!({"recipients": [SPECIALIST_OID], "message": "x"}),
        )
        .await
        .json()
        .await
        .unwrap();

    let outsider = post_into(
        &app,
        &app.field_worker_token().sign(),
        &created["chatId"],
        "let me in",
    )
    .await;

    let body = problem(outsider, 404, "not_found").await;
    assert!(body["detail"].as_str().unwrap().contains("not in it"));
}

#[tokio::test]
async fn a_guest_caller_joins_the_chat_as_guest_in_a_group_chat() {
    // Arrange: Quinn, a B2B guest of Fieldworks, notifies a colleague there. chat-post.md: an
    // in-tenant guest must have the guest role, the caller included; a guest is documented
    // only in group chats.
    let app = spawn_app().await;

    // Act
    let response = app
        .notify(
            &app.guest_token().sign(),
            &json!({"recipients": [FIELD_WORKER_OID], "message": "Valve 3 done"}),
        )
        .await;

    // Assert: the caller's user type was read from /me, and the chat was made as Graph wants.
    assert_eq!(response.status(), 201);
    let me = app.graph.requests_to("GET", "/me");
    assert!(
        me.iter()
            .any(|r| r.path == "/me" && r.query["$select"] == "id,userType")
    );
    let create = chat_created(&app);
    assert_eq!(create.body["chatType"], "group");
    let roles: Vec<(String, Value)> = create.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (bound_user(m), m["roles"].clone()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (
                format!("https://graph.microsoft.com/v1.0/users('{GUEST_OID}')"),
                json!(["guest"])
            ),
            (
                format!("https://graph.microsoft.com/v1.0/users('{FIELD_WORKER_OID}')"),
                json!(["owner"])
            ),
        ]
    );
}

#[tokio::test]
async fn a_single_guest_recipient_gets_a_group_chat() {
    let app = spawn_app().await;

    let response = app
        .notify(
            &app.field_worker_token().sign(),
            &json!({"recipients": [GUEST_OID], "message": "Can you look at valve 3?"}),
        )
        .await;

    assert_eq!(response.status(), 201);
    let create = chat_created(&app);
    assert_eq!(create.body["chatType"], "group");
    assert_eq!(create.body["members"][1]["roles"], json!(["guest"]));
}

#[tokio::test]
async fn notify_into_a_meeting_chat_before_joining_the_meeting_is_not_found_with_a_hint() {
    // The expert is invited to the field worker's meeting but has not joined: Teams has not
    // put them on the meeting chat's roster yet.
    let app = spawn_app().await;
    let created: Value = app
        .create_meeting(
            &app.field_worker_token().sign(),
            &json!({
                "subject": "Pump 7", "startDateTime": "2026-11-26T14:00:00Z",
                "endDateTime": "2026-11-26T15:00:00Z",
                "participants": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT}]
            }),
        )
        .await
        .json()
        .await
        .unwrap();

    let thread = &created["chatThreadId"];
    let as_expert = post_into(&app, &app.expert_token().sign(), thread, "On my way").await;
    let as_organizer = post_into(&app, &app.field_worker_token().sign(), thread, "Starting").await;

    let body = problem(as_expert, 404, "not_found").await;
    assert!(body["detail"].as_str().unwrap().contains("join it first"));
    assert_eq!(as_organizer.status(), 201);
}

#[tokio::test]
async fn a_long_link_without_a_title_is_posted_with_the_url_as_its_text() {
    // Regression: the 200-character limit of `link.title` was applied to the URL shown in its
    // place, so an https URL of 201 to 2048 characters without a title, valid by the OpenAPI
    // description, was refused with "`link.title` must be at most 200 characters".
    let app = spawn_app().await;
    let url = format!("https://tab.contoso.example/session?id={}", "7".repeat(300));

    let response = app
        .notify(
            &app.field_worker_token().sign(),
            &json!({"recipients": [EXPERT_OID], "message": "hi", "link": {"url": url}}),
        )
        .await;
    let titled = app
        .notify(
            &app.field_worker_token().sign(),
            &json!({"recipients": [EXPERT_OID], "message": "hi",
                    "link": {"url": "https://tab.contoso.example/", "title": "x".repeat(201)}}),
        )
        .await;

    let html = first_message_html(&app, response).await;
    assert!(
        html.ends_with(&format!("<a href=\"{url}\">{url}</a></p>")),
        "{html}"
    );
    let body = problem(titled, 400, "bad_request").await;
    assert!(body["detail"].as_str().unwrap().contains("link.title"));
}

#[tokio::test]
async fn null_is_an_absent_field_as_the_openapi_description_says() {
    // The description lets optional fields be `null` (serde reads them as absent), and counts
    // `chatId` / `recipients` as given only when not `null`; schemathesis's negative-data check
    // found the description refusing what the API accepts here.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    let to_recipients = app
        .notify(
            &token,
            &json!({"chatId": null, "recipients": [EXPERT_OID], "message": "hi", "link": null}),
        )
        .await;
    let to_nobody = app
        .notify(&token, &json!({"chatId": null, "message": "hi"}))
        .await;

    assert_eq!(to_recipients.status(), 201);
    problem(to_nobody, 400, "bad_request").await;
}

#[tokio::test]
async fn a_link_to_an_international_domain_is_posted() {
    // `link.url` is an IRI in the description: the URL parser takes international host names
    // (and sends them as punycode); schemathesis found a `uri` format refusing them.
    let app = spawn_app().await;

    let response = app
        .notify(
            &app.field_worker_token().sign(),
            &json!({"recipients": [EXPERT_OID], "message": "hi",
                    "link": {"url": "https://bücher.example/pump", "title": "Manual"}}),
        )
        .await;

    let html = first_message_html(&app, response).await;
    assert!(
        html.contains("https://xn--bcher-kva.example/pump"),
        "{html}"
    );
}

/// Checks that a notification was posted (201) and returns the HTML of the first message in the
/// chat it names.
async fn first_message_html(app: &TestApp, response: reqwest::Response) -> String {
    assert_eq!(response.status(), 201);
    let answer: Value = response.json().await.unwrap();
    app.graph.messages(answer["chatId"].as_str().unwrap())[0]["body"]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}
