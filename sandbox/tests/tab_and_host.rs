//! What the sandbox serves a browser: the tab with its config and policy, the emulated Teams host
//! page with persona tokens, CORS in front of the API, and consent in the emulated Entra ID.
//! (The same, driven through a real browser: tests/browser/.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

mod common;
use common::{Sandbox, banner_until, get_json, start};

fn url(sandbox: &Sandbox, name: &str) -> String {
    sandbox.info[name]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_owned()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn persona_token(sandbox: &Sandbox, persona: &str) -> String {
    let answer: Value = http()
        .post(format!(
            "{}/personas/{persona}/token",
            url(sandbox, "hostUrl")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_tab_is_served_with_its_config_and_a_policy_that_allows_only_the_api_and_its_host() {
    let sandbox = start(&[]);
    let tab = url(&sandbox, "tabUrl");
    let page = http().get(format!("{tab}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!(
            "connect-src 'self' {} https://res.cdn.office.net;",
            url(&sandbox, "url")
        )),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("frame-ancestors {}", url(&sandbox, "hostUrl"))),
        "{csp}"
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("vendor/teams-js/MicrosoftTeams.min.js")
    );

    let config = get_json(&format!("{tab}/config.json")).await;
    assert_eq!(config["apiBaseUrl"], sandbox.info["url"]);
    assert_eq!(config["clientId"], sandbox.info["clientId"]);
    assert_eq!(config["sandbox"], true);
    assert_eq!(
        config["partnerExperts"][0]["tenantId"],
        sandbox.info["expert"]["tenantId"]
    );
    let teams_js = http()
        .get(format!("{tab}/vendor/teams-js/MicrosoftTeams.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        teams_js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn the_api_answers_cors_for_the_tab_origin_only() {
    let sandbox = start(&["--tab-origin", "https://tab.sandbox.test"]);
    let api = url(&sandbox, "url");
    let tab_origin = url(&sandbox, "tabUrl");
    for (origin, allowed) in [
        (tab_origin.as_str(), true),
        ("https://tab.sandbox.test", true),
        ("https://evil.example", false),
    ] {
        let preflight = http()
            .request(reqwest::Method::OPTIONS, format!("{api}/api/meetings"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 204, "{origin}");
        assert_eq!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .is_some(),
            allowed,
            "{origin}"
        );
        let answer = http()
            .get(format!("{api}/api/health"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(
            answer
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned()),
            allowed.then(|| origin.to_owned()),
        );
    }
}

#[tokio::test]
async fn a_user_of_an_organization_that_is_not_allowed_is_refused_before_graph() {
    let sandbox = start(&[]);
    let token = persona_token(&sandbox, "not-allowed").await;
    let answer = http()
        .get(format!("{}/api/users/me", url(&sandbox, "url")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let problem: Value = answer.json().await.unwrap();
    assert_eq!(problem["code"], "tenant_not_allowed");
    let state = get_json(sandbox.info["graphStateUrl"].as_str().unwrap()).await;
    assert_eq!(state["requests"], 0);
}

#[tokio::test]
async fn a_new_user_consents_in_the_emulated_entra_and_the_retry_succeeds() {
    let sandbox = start(&[]);
    let api = url(&sandbox, "url");
    let token = persona_token(&sandbox, "not-consented").await;
    let me = || {
        http()
            .get(format!("{api}/api/users/me"))
            .bearer_auth(&token)
    };

    // Arrange: before consent, Graph routes answer consent_required.
    let before = me().send().await.unwrap();
    assert_eq!(before.status(), 403);
    assert_eq!(
        before.json::<Value>().await.unwrap()["code"],
        "consent_required"
    );

    // Act: the consent window's authorize page, then "Grant consent".
    let config = get_json(&format!("{}/config.json", url(&sandbox, "tabUrl"))).await;
    let authority = config["authority"].as_str().unwrap();
    let tenant = "0e3c0000-0000-4000-8000-000000000e3c";
    let redirect = format!("{}/auth-end.html", url(&sandbox, "tabUrl"));
    let client_id = sandbox.info["clientId"].as_str().unwrap();
    let page = http()
        .get(format!("{authority}/{tenant}/oauth2/v2.0/authorize"))
        .query(&[
            ("client_id", client_id),
            ("redirect_uri", redirect.as_str()),
            (
                "scope",
                "openid https://graph.microsoft.com/User.ReadBasic.All",
            ),
            ("login_hint", "noor@newco.example"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("SANDBOX: emulated Microsoft Entra ID"),
        "{html}"
    );
    assert!(html.contains("User.ReadBasic.All"), "{html}");
    let granted = http()
        .post(format!("{authority}/{tenant}/oauth2/v2.0/authorize"))
        .form(&[
            ("client_id", client_id),
            ("redirect_uri", redirect.as_str()),
            ("state", "s1"),
            ("login_hint", "noor@newco.example"),
            ("decision", "grant"),
        ])
        .send()
        .await
        .unwrap();

    // Assert: back to the tab with a code and the state; the retry after consent succeeds.
    assert_eq!(granted.status(), 302);
    let location = granted.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{redirect}#code=")),
        "{location}"
    );
    assert!(location.ends_with("&state=s1"), "{location}");
    let after = me().header("x-consent-retry", "1").send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(
        after.json::<Value>().await.unwrap()["displayName"],
        "Noor Newcomer"
    );
}

#[tokio::test]
async fn the_emulated_entra_redirects_only_to_registered_pages() {
    let sandbox = start(&[]);
    let config = get_json(&format!("{}/config.json", url(&sandbox, "tabUrl"))).await;
    let page = http()
        .get(format!(
            "{}/0e3c0000-0000-4000-8000-000000000e3c/oauth2/v2.0/authorize",
            config["authority"].as_str().unwrap()
        ))
        .query(&[
            ("client_id", sandbox.info["clientId"].as_str().unwrap()),
            ("redirect_uri", "https://evil.example/steal"),
            ("login_hint", "noor@newco.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("AADSTS50011"));
}

#[test]
fn the_banner_prints_the_host_page_first() {
    let urls = url_labels(&banner_until(|lines| url_labels(lines).len() == 3));
    assert!(
        urls[0].starts_with("Open the Teams tab in the emulated Teams host"),
        "{urls:?}"
    );
}

/// What the banner says before each URL it prints, in order.
fn url_labels(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| line.find("http://").map(|at| line[..at].trim().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_api_reference_is_served_beside_the_api_and_reads_its_document() {
    let sandbox = start(&[]);
    let reference = url(&sandbox, "referenceUrl");
    let api = url(&sandbox, "url");
    assert!(
        reference.starts_with(&api),
        "{reference} is on the API's origin"
    );

    let page = http().get(format!("{reference}/")).send().await.unwrap();
    let script = http()
        .get(format!("{reference}/reference.js"))
        .send()
        .await
        .unwrap();
    let document = http()
        .get(format!("{api}/api/openapi.json"))
        .send()
        .await
        .unwrap();
    let not_a_page = http().post(format!("{reference}/")).send().await.unwrap();

    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("/api/openapi.json"));
    assert_eq!(document.status(), 200);
    let document: Value = document.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    // Only GET serves the page; anything else is the handler's own answer.
    assert_eq!(not_a_page.status(), 404);
}

/// A web page can make a browser send requests to 127.0.0.1 under a name of its own (DNS
/// rebinding): the host page, which hands out SSO tokens, answers only the names it printed.
#[tokio::test]
async fn the_host_page_answers_only_for_the_loopback_names_it_printed() {
    let sandbox = start(&[]);
    let host = url(&sandbox, "hostUrl");
    let port = host.rsplit(':').next().unwrap().to_owned();
    let ask = |name: String| {
        let host = host.clone();
        async move {
            http()
                .post(format!("{host}/personas/field-worker/token"))
                .header("host", name)
                .send()
                .await
                .unwrap()
        }
    };

    for name in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        assert_eq!(ask(name.clone()).await.status(), 200, "{name}");
    }
    for name in [
        format!("rebound.example:{port}"),
        "127.0.0.1".to_owned(),
        format!("localhost.evil.example:{port}"),
    ] {
        let answer = ask(name.clone()).await;
        assert_eq!(answer.status(), 421, "{name}");
        assert!(
            answer.text().await.unwrap().contains("127.0.0.1"),
            "the refusal says which names to use"
        );
    }
    let page = http()
        .get(format!("{host}/"))
        .header("host", "rebound.example")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 421);
}

/// The host page's meeting side panel opens the tab in a meeting the emulated Graph holds, whose
/// chat has the field worker and the expert of the other organization as members.
#[tokio::test]
async fn the_side_panel_meeting_is_one_of_the_emulated_graph_with_its_chat() {
    let sandbox = start(&[]);
    let host = get_json(&format!("{}/host-config.json", url(&sandbox, "hostUrl"))).await;
    let state = get_json(sandbox.info["graphStateUrl"].as_str().unwrap()).await;

    let meeting = &host["meeting"];
    let chat = &state["chats"][meeting["chatId"].as_str().unwrap()];
    let members: Vec<&str> = chat["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userId"].as_str().unwrap())
        .collect();
    assert!(members.contains(&sandbox.info["fieldWorker"]["objectId"].as_str().unwrap()));
    assert!(members.contains(&sandbox.info["expert"]["objectId"].as_str().unwrap()));
    assert_eq!(state["meetings"][0]["id"], meeting["id"]);
    assert_eq!(meeting["subject"], "Pump 7 vibration: remote assist");
}
