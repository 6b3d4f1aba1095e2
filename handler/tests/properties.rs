//! Properties that must hold for any input a caller can send: nothing panics, and what comes
//! out is safe. The fuzz targets in `fuzz/` drive the same functions with coverage guidance;
//! these run with every `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use handler::acs::ConnectionString;
use handler::auth::bearer_token;
use handler::auth::jwt::UnverifiedToken;
use handler::routes::create_meeting::graph_meeting_body;
use handler::routes::get_user_profile::user_path;
use handler::routes::notify_chat::graph_message_html;
use handler::routes::search_contacts;
use proptest::prelude::*;
use warp::http::{HeaderMap, HeaderValue};

/// Text that looks like what attackers send: JSON punctuation, markup, quotes, unicode.
fn hostile_text() -> impl Strategy<Value = String> {
    prop::string::string_regex(r#"([<>&"'\\/{}\[\]:,.=;@#%?\-_ a-zA-Z0-9]|é|💥|\u{0}|\n){0,80}"#)
        .unwrap()
}

/// One small edit of `text`: a character inserted, removed or replaced at some position, or
/// nothing. Valid-shaped inputs with one flaw reach far deeper into a parser than random bytes.
fn mutated(text: impl Strategy<Value = String>) -> impl Strategy<Value = (String, bool)> {
    (
        text,
        0usize..4,
        any::<prop::sample::Index>(),
        prop::sample::select(vec![
            '/', '?', '#', '%', ';', '=', '@', ' ', '"', '<', 'é', '\0', 'A',
        ]),
    )
        .prop_map(|(text, edit, at, c)| {
            let mut chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len() + 1);
            match edit {
                1 => chars.insert(i, c),
                2 if i < chars.len() => {
                    chars.remove(i);
                }
                3 if i < chars.len() => chars[i] = c,
                _ => return (text, false),
            }
            (chars.into_iter().collect(), true)
        })
}

const KEY: &str = "U0VDUkVUS0VZLWZvci1wcm9wZXJ0eS10ZXN0cw==";

fn connection_string() -> impl Strategy<Value = String> {
    // A label that starts `xn--` is Punycode, which the URL parser decodes and refuses when it
    // is not valid Punycode: not a resource name Azure would give.
    let resource = "[a-z][a-z0-9-]{0,20}".prop_filter("not Punycode", |r| !r.starts_with("xn--"));
    (resource, prop::bool::ANY).prop_map(|(resource, slash)| {
        let slash = if slash { "/" } else { "" };
        format!("endpoint=https://{resource}.communication.azure.com{slash};accesskey={KEY}")
    })
}

fn guid() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
}

fn user_principal_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9._'-]{0,20}(#EXT#)?@[a-z][a-z0-9-]{0,15}\\.(example|com|onmicrosoft\\.com)"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_authorization_header_yields_one_whole_token_or_none(value in any::<Vec<u8>>()) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            headers.insert("authorization", value);
        }
        if let Ok(token) = bearer_token(headers.get("authorization")) {
            prop_assert!(!token.is_empty());
            prop_assert!(!token.contains([' ', ',', '\t']), "{}", token);
            let _ = UnverifiedToken::parse(token);
        }
    }

    #[test]
    fn a_bearer_header_gives_back_exactly_its_token_and_a_flawed_one_nothing_else(
        (header, _) in mutated("[Bb]earer [A-Za-z0-9_.~+/-]{1,60}={0,2}".prop_map(String::from)),
    ) {
        let value = HeaderValue::from_str(&header);
        prop_assume!(value.is_ok());
        let result = bearer_token(value.as_ref().ok());
        if let Ok(token) = result {
            // Whatever was edited, a token that comes out is the header's own, whole.
            prop_assert_eq!(Some(token), header.split_once(' ').map(|(_, t)| t.trim()));
            prop_assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c)));
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
    fn any_notification_body_becomes_one_escaped_paragraph_or_a_bad_request(body in any::<Vec<u8>>()) {
        match graph_message_html(&body) {
            Ok(html) => prop_assert!(html.starts_with("<p>"), "{}", html),
            Err(error) => prop_assert_eq!(error.code(), "bad_request"),
        }
    }

    #[test]
    fn a_connection_string_never_echoes_its_key((text, edited) in mutated(connection_string())) {
        match ConnectionString::parse(&text) {
            Ok(parsed) => {
                let printed = format!("{:?}", parsed);
                prop_assert!(!printed.contains(KEY) && !printed.contains("U0VDUkVU"), "{}", printed);
                prop_assert!(parsed.endpoint.as_str().starts_with("https://") || edited);
            }
            Err(reason) => {
                prop_assert!(edited, "the well-formed {} was refused: {}", text, reason);
                prop_assert!(!reason.contains("U0VDUkVU"), "{}", reason);
            }
        }
    }

    #[test]
    fn a_contacts_query_keeps_its_term_and_top_and_refuses_flawed_ones(
        term in "[a-zA-Z0-9 ._@'-]{1,100}",
        top in 1usize..=25,
        (extra, _) in mutated("&top=[0-9]{1,3}".prop_map(String::from)),
    ) {
        prop_assume!(!term.trim().is_empty());
        let encoded: String = url::form_urlencoded::byte_serialize(term.as_bytes()).collect();
        let query = format!("q={encoded}&top={top}");
        let parsed = search_contacts::validate(&query).unwrap();
        prop_assert_eq!(parsed.q, term.trim());
        prop_assert_eq!(parsed.top, top);
        // Appending another parameter (a second `top`, or a mangled one) is never accepted.
        prop_assert!(search_contacts::validate(&format!("{query}{extra}")).is_err(), "{}{}", query, extra);
    }

    #[test]
    fn a_user_id_is_a_guid_a_upn_or_refused_and_never_escapes_its_segment(
        (id, _) in mutated(prop_oneof![guid(), user_principal_name(), hostile_text()]),
    ) {
        match user_path(&id) {
            Ok(path) => {
                prop_assert!(path == "/me" || path.starts_with("/users/"), "{}", path);
                let rest = path.strip_prefix("/users/").unwrap_or_default();
                prop_assert!(!rest.contains(['/', '?', '#', '@', ' ']), "{}", path);
                let decoded = percent_encoding::percent_decode_str(rest).decode_utf8().unwrap();
                prop_assert!(path == "/me" || decoded == id, "{} -> {}", id, path);
            }
            Err(error) => prop_assert_eq!(error.code(), "bad_request"),
        }
    }

    #[test]
    fn well_formed_guids_and_upns_are_accepted(id in prop_oneof![guid(), user_principal_name()]) {
        prop_assert!(user_path(&id).is_ok(), "{}", id);
    }
}
