//! `GET /api/contacts`: people first, then the directory, without duplicates.

use serde_json::{Value, json};
use test_support::graph::Scripted;
use warp::http::Method;

use crate::helpers::*;

#[tokio::test]
async fn search_merges_people_and_directory_users_without_duplicates() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .get(
            "/api/contacts?q=pump&top=5",
            &app.field_worker_token().sign(),
        )
        .await;

    // Assert: Jordan Pump is found by both searches but listed once, in an answer that
    // depends on the caller and is kept by no cache.
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let contacts = body["value"].as_array().unwrap();
    assert_eq!(contacts.len(), 1, "{body}");
    assert_eq!(contacts[0]["displayName"], "Jordan Pump");
    assert_eq!(contacts[0]["mail"], "jordan@fieldworks.example");
    assert_eq!(contacts[0]["jobTitle"], "Pump Technician");

    // Assert: what Graph was asked.
    let people = app.graph.requests_to("GET", "/me/people");
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].query["$search"], "\"pump\"");
    assert_eq!(people[0].query["$top"], "5");
    let users = app.graph.requests_to("GET", "/users");
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0].query["$search"],
        "\"displayName:pump\" OR \"mail:pump\""
    );
    assert_eq!(users[0].query["$count"], "true");
    assert_eq!(
        users[0].query["$select"],
        "id,displayName,mail,userPrincipalName,jobTitle,department"
    );
    assert_eq!(users[0].headers["consistencylevel"], "eventual");
    assert_eq!(
        users[0].headers["client-request-id"],
        people[0].headers["client-request-id"]
    );
}

#[tokio::test]
async fn search_escapes_quotes_in_the_term() {
    let app = spawn_app().await;

    let response = app
        .get(
            "/api/contacts?q=%22pump%22%20%5C",
            &app.field_worker_token().sign(),
        )
        .await;

    assert_eq!(response.status(), 200);
    let users = app.graph.requests_to("GET", "/users");
    assert_eq!(
        users[0].query["$search"],
        r#""displayName:\"pump\" \\" OR "mail:\"pump\" \\""#
    );
}

#[tokio::test]
async fn search_validates_q_and_top() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    for query in ["", "?q=", "?q=a&top=26", "?q=a&top=0", "?q=a&sort=name"] {
        let response = app.get(&format!("/api/contacts{query}"), &token).await;
        problem(response, 400, "bad_request").await;
    }
    assert!(app.graph.requests().is_empty());
}

#[tokio::test]
async fn search_returns_401_without_a_token_and_502_when_graph_fails() {
    let app = spawn_app().await;
    let no_token = app
        .http
        .get(app.url("/api/contacts?q=pump"))
        .send()
        .await
        .unwrap();
    app.graph.script([Scripted::status(
        Method::GET,
        "/users",
        400,
        "Request_UnsupportedQuery",
    )]);
    let failed = app
        .get("/api/contacts?q=pump", &app.field_worker_token().sign())
        .await;

    problem(no_token, 401, "invalid_token").await;
    upstream_error_naming(failed, "Request_UnsupportedQuery").await;
}

#[tokio::test]
async fn a_guest_without_a_mailbox_finds_nothing_but_is_told_why() {
    // Arrange: Quinn is a B2B guest of Fieldworks: no Exchange mailbox there (the People API
    // answers 404 MailboxNotEnabledForRESTAPI) and no right to list its users (403).
    let app = spawn_app().await;
    let guest = app.guest_token().sign();

    // Act
    let response = app.get("/api/contacts?q=pump", &guest).await;

    // Assert: both sources were asked, both refusals are documented ones, so the answer is an
    // empty list that says which sources were left out, not an error.
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"value": [], "warnings": ["people_unavailable", "directory_unavailable"]})
    );
    assert_eq!(app.graph.requests_to("GET", "/me/people").len(), 1);
    assert_eq!(app.graph.requests_to("GET", "/users").len(), 1);
}

#[tokio::test]
async fn one_source_refused_keeps_the_other_sources_results() {
    // Arrange: the directory may not be listed (a tenant that restricts it), the mailbox works.
    let app = spawn_app().await;
    app.graph.script([Scripted::status(
        Method::GET,
        "/users",
        403,
        "Authorization_RequestDenied",
    )]);

    // Act
    let response = app
        .get("/api/contacts?q=jordan", &app.field_worker_token().sign())
        .await;

    // Assert
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"][0]["displayName"], "Jordan Pump", "{body}");
    assert_eq!(body["warnings"], json!(["directory_unavailable"]));
}

#[tokio::test]
async fn search_matches_words_and_mail_prefixes_as_graph_does() {
    // search-query-parameter.md: names are matched word by word from the start of each word,
    // mail addresses from their start; the middle of a word matches nothing.
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();
    let names = |body: Value| -> Vec<String> {
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["displayName"].as_str().unwrap().to_owned())
            .collect()
    };

    let pump: Value = app
        .get("/api/contacts?q=pum", &token)
        .await
        .json()
        .await
        .unwrap();
    let middle: Value = app
        .get("/api/contacts?q=ump", &token)
        .await
        .json()
        .await
        .unwrap();
    let mail: Value = app
        .get("/api/contacts?q=jord", &token)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(names(pump), ["Jordan Pump"]);
    assert!(names(middle).is_empty());
    assert_eq!(names(mail), ["Jordan Pump"]);
}

#[tokio::test]
async fn search_lists_only_people_whose_ids_the_other_routes_accept() {
    // `/me/people` also holds Outlook contacts and people the user mailed; their ids are no
    // directory object ids, so a meeting or chat with them would fail at Graph.
    let app = spawn_app().await;

    let response = app
        .get("/api/contacts?q=pump", &app.field_worker_token().sign())
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let names: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Jordan Pump"], "{body}");
    let people = app.graph.requests_to("GET", "/me/people");
    assert!(
        people[0].query["$select"]
            .split(',')
            .any(|f| f == "personType"),
        "personType is asked for"
    );
}
