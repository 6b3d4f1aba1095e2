//! The sandbox as a newcomer runs it: start, read the tokens, walk through a remote-assist
//! session across two tenants, see it in the emulated Graph, stop with Ctrl-C.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::{Sandbox, banner_until, get_json, start as start_with};

/// Sends a request with `token` and reads the JSON answer.
async fn call(request: reqwest::RequestBuilder, token: &str) -> Value {
    request
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn start() -> Sandbox {
    start_with(&["--token-hours", "2"])
}

#[tokio::test]
async fn a_remote_assist_session_runs_end_to_end_offline() {
    // Arrange
    let sandbox = start();
    let url = sandbox.info["url"].as_str().unwrap();
    let worker = sandbox.info["fieldWorker"]["token"].as_str().unwrap();
    let expert = sandbox.info["expert"]["token"].as_str().unwrap();
    let expert_id = sandbox.info["expert"]["objectId"].as_str().unwrap();
    let expert_tenant = sandbox.info["expert"]["tenantId"].as_str().unwrap();
    assert_eq!(sandbox.info["sandbox"], true);
    let http = reqwest::Client::new();

    // Act and assert: who am I.
    let me = call(http.post(format!("{url}/api/token/validate")), worker).await;
    assert_eq!(me["name"], "Avery Field");

    // A meeting with the expert from the other tenant.
    let meeting = call(
        http.post(format!("{url}/api/meetings")).json(&json!({
            "subject": "Pump 7 vibration",
            "startDateTime": "2026-11-26T14:00:00Z",
            "endDateTime": "2026-11-26T15:00:00Z",
            "participants": [{"userId": expert_id, "tenantId": expert_tenant, "role": "presenter"}]
        })),
        worker,
    )
    .await;
    let thread = meeting["chatThreadId"].as_str().unwrap();

    // The organizer writes in the meeting chat. The expert is not on its roster until they
    // join the meeting (Teams adds people as they join), so their post there is 404; they are
    // reached in a chat of their own across the two organizations instead.
    let post = |token: &str, body: serde_json::Value| {
        http.post(format!("{url}/api/notifications/chat"))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    let in_meeting_chat = post(
        worker,
        json!({"chatId": thread, "message": "Joining from the plant"}),
    );
    assert_eq!(in_meeting_chat.await.unwrap().status(), 201);
    let before_joining = post(expert, json!({"chatId": thread, "message": "On my way"}));
    assert_eq!(before_joining.await.unwrap().status(), 404);
    let to_expert = post(
        worker,
        json!({"recipients": [{"userId": expert_id, "tenantId": expert_tenant}], "message": "Pump 7 needs you"}),
    );
    assert_eq!(to_expert.await.unwrap().status(), 201);

    // The expert gets an ACS token of their own; the field worker finds colleagues.
    let acs = call(http.post(format!("{url}/api/acs/token")), expert).await;
    assert_eq!(acs["teamsUserId"], expert_id);
    let contacts = call(http.get(format!("{url}/api/contacts?q=pump")), worker).await;
    assert!(!contacts["value"].as_array().unwrap().is_empty());

    // The emulated Graph shows the meeting chat with both messages.
    let state = get_json(sandbox.info["graphStateUrl"].as_str().unwrap()).await;
    let messages = state["chats"][thread]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    let federated = state["chats"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, _)| id.ends_with("@unq.gbl.spaces"))
        .map(|(_, chat)| chat)
        .unwrap();
    assert_eq!(federated["messages"].as_array().unwrap().len(), 1);

    // Health is green: keys, the vault-held secret and ACS all work in the emulation.
    let health = call(http.get(format!("{url}/api/health")), worker).await;
    assert_eq!(health["status"], "ok", "{health}");
}

#[test]
fn the_sandbox_stops_cleanly_on_ctrl_c() {
    let mut sandbox = start();
    let pid = sandbox.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = sandbox.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return;
        }
        assert!(Instant::now() < deadline, "the sandbox ignored Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_banner_says_loudly_that_it_is_a_sandbox() {
    let banner = banner_until(|lines| lines.len() == 4).concat();
    assert!(banner.contains("SANDBOX"), "{banner}");
    assert!(banner.contains("NOT MICROSOFT"), "{banner}");
}
