//! Properties that must hold for any input a caller can send: nothing panics, and what comes
//! out is safe. The fuzz targets in `fuzz/` drive the same functions with coverage guidance;
//! these run with every `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handler::acs::ConnectionString;
use handler::auth::bearer_token;
use handler::auth::jwt::UnverifiedToken;
use handler::routes::create_meeting::graph_meeting_body;
use handler::routes::search_contacts;
use handler::routes::send_notification::graph_message_html;
use handler::routes::user_profile::user_path;
use proptest::prelude::*;
use warp::http::{HeaderMap, HeaderValue};

/// Text that looks like what attackers send: JSON punctuation, markup, quotes, unicode.
fn hostile_text() -> impl Strategy<Value = String> {
    prop::string::string_regex(r#"([<>&"'\\/{}\[\]:,.=;@#%?\-_ a-zA-Z0-9]|é|💥|\u{0}|\n){0,80}"#)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_authorization_header_is_answered_without_panic(value in any::<Vec<u8>>()) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            headers.insert("authorization", value);
        }
        if let Ok(token) = bearer_token(headers.get("authorization")) {
            let _ = UnverifiedToken::parse(token);
        }
    }

    #[test]
    fn any_token_text_is_parsed_without_panic(token in "[A-Za-z0-9_.=-]{0,300}") {
        let _ = UnverifiedToken::parse(&token);
    }

    #[test]
    fn any_meeting_body_is_answered_without_panic(body in any::<Vec<u8>>()) {
        let _ = graph_meeting_body(&body);
    }

    #[test]
    fn a_valid_meeting_keeps_its_subject_and_participants(
        subject in "[a-zA-Z0-9 <>&\"']{1,255}",
        count in 0usize..50,
    ) {
        prop_assume!(!subject.trim().is_empty());
        let participants: Vec<serde_json::Value> = (0..count)
            .map(|i| serde_json::json!({"userId": format!("0b1d0000-0000-4000-8000-{i:012}")}))
            .collect();
        let request = serde_json::json!({
            "subject": subject,
            "startDateTime": "2026-11-26T14:00:00Z",
            "endDateTime": "2026-11-26T15:00:00Z",
            "participants": participants,
        });
        let graph: serde_json::Value =
            serde_json::from_slice(&graph_meeting_body(&serde_json::to_vec(&request).unwrap()).unwrap()).unwrap();
        prop_assert_eq!(graph["subject"].as_str().unwrap(), subject.trim());
        prop_assert_eq!(graph["participants"]["attendees"].as_array().unwrap().len(), count);
    }

    #[test]
    fn any_message_becomes_html_without_markup_of_its_own(message in hostile_text(), title in hostile_text()) {
        let request = serde_json::json!({
            "chatId": "19:meeting_abc@thread.v2",
            "message": message,
            "link": {"url": "https://contoso.example/x", "title": title},
        });
        if let Ok(html) = graph_message_html(&serde_json::to_vec(&request).unwrap()) {
            // Take away the markup we add ourselves; no '<', '>' or '"' may remain.
            let stripped = html
                .replace("<p>", "")
                .replace("</p>", "")
                .replace("<br>", "")
                .replace("<a href=\"https://contoso.example/x\">", "")
                .replace("</a>", "");
            prop_assert!(!stripped.contains('<') && !stripped.contains('>') && !stripped.contains('"'), "{}", html);
        }
    }

    #[test]
    fn any_notification_body_is_answered_without_panic(body in any::<Vec<u8>>()) {
        let _ = graph_message_html(&body);
    }

    #[test]
    fn any_connection_string_is_parsed_without_panic_or_echo(text in hostile_text()) {
        let secret_looking = format!("{text};accesskey=U0VDUkVUS0VZ");
        if let Ok(parsed) = ConnectionString::parse(&secret_looking) {
            let printed = format!("{:?}", parsed);
            prop_assert!(!printed.contains("U0VDUkVUS0VZ"));
        }
        let _ = ConnectionString::parse(&text);
    }

    #[test]
    fn any_contacts_query_is_answered_without_panic(query in hostile_text()) {
        if let Ok((term, top)) = search_contacts::validate(&query) {
            prop_assert!(!term.is_empty() && term.chars().count() <= 100);
            prop_assert!((1..=25).contains(&top));
        }
    }

    #[test]
    fn a_user_id_never_escapes_its_path_segment(id in hostile_text()) {
        if let Ok(path) = user_path(&id) {
            prop_assert!(path == "/me" || path.starts_with("/users/"), "{}", path);
            let rest = path.strip_prefix("/users/").unwrap_or_default();
            prop_assert!(!rest.contains(['/', '?', '#']), "{}", path);
        }
    }
}
