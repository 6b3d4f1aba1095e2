//! The `NotifyChat` request body: its fields, and its validation into the chat and the HTML
//! message Graph is given.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{ChatId, Guid, MessageText};
use crate::error::ApiError;
use crate::routes::json_body::parse_json;

pub(crate) const MAX_RECIPIENTS: usize = 20;
pub(crate) const MAX_LINK_TITLE_CHARS: usize = 200;
pub(crate) const MAX_URL_LEN: usize = 2048;

/// The request body: exactly one of `chatId` and `recipients`, and the message. Its OpenAPI
/// schema is `NotifyChatBody`, which adds the "exactly one" rule to these fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct NotifyChat {
    /// An existing chat the caller is in, e.g. a meeting's `chatThreadId`.
    #[schema(value_type = Option<ChatId>)]
    chat_id: Option<String>,
    /// 1 to 20 people: a chat with them is created, or the existing one-on-one chat reused.
    /// Graph reuses only one-on-one chats, so keep the `chatId` of the answer for the next
    /// messages of a session.
    #[schema(min_items = 1, max_items = 20)]
    recipients: Option<Vec<Recipient>>,
    /// Plain text, 1 to 4000 characters, not blank; HTML-escaped (line breaks kept), so `<b>`
    /// arrives as the text `<b>`.
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "\\S",
        example = "Pump 7 is vibrating above limits, can you join?"
    )]
    message: String,
    /// A link added below the message.
    link: Option<Link>,
}

/// A recipient is an object id, or an object with the id and, for someone in another
/// organization, their tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Recipient {
    #[schema(value_type = Guid)]
    Id(String),
    Qualified(QualifiedRecipient),
}

/// A recipient with their tenant, for someone from another organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QualifiedRecipient {
    #[schema(value_type = Guid)]
    user_id: String,
    #[schema(value_type = Option<Guid>)]
    tenant_id: Option<String>,
}

/// A link shown below the message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Link {
    /// An https URL.
    #[schema(
        format = "iri",
        max_length = 2048,
        pattern = "^https://[^/?#\\s]+",
        example = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjE5ZGQ4YjQtZjE2Zi00%40thread.v2/0"
    )]
    url: String,
    /// The link's text, at most 200 characters; the URL when absent.
    #[schema(max_length = 200, example = "Join the session")]
    title: Option<String>,
}

#[derive(Debug)]
pub(super) enum Target {
    Chat(ChatId),
    People(Vec<(Guid, Option<Guid>)>),
}

#[derive(Debug)]
pub(super) struct ValidNotification {
    pub(super) target: Target,
    pub(super) html: String,
}

/// The HTML message body sent to Graph for a `NotifyChat` request body, after the same parsing
/// and validation as the route. Public for fuzzing.
pub fn graph_message_html(request: &[u8]) -> Result<String, ApiError> {
    validate(parse_json(request)?).map(|n| n.html)
}

pub(super) fn validate(body: NotifyChat) -> Result<ValidNotification, ApiError> {
    let bad = |message: &str| ApiError::BadRequest(message.to_owned());
    let target = match (body.chat_id, body.recipients) {
        (Some(chat_id), None) => {
            let chat_id = ChatId::parse(chat_id)
                .ok_or_else(|| bad("Field `chatId` is not a Teams chat id (19:…)."))?;
            Target::Chat(chat_id)
        }
        (None, Some(recipients)) => {
            if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
                return Err(bad(&format!(
                    "Field `recipients` must have 1 to {MAX_RECIPIENTS} entries."
                )));
            }
            let mut people = Vec::with_capacity(recipients.len());
            for (index, recipient) in recipients.into_iter().enumerate() {
                let (user, tenant) = match recipient {
                    Recipient::Id(id) => (id, None),
                    Recipient::Qualified(q) => (q.user_id, q.tenant_id),
                };
                let invalid = || {
                    ApiError::BadRequest(format!(
                        "Field `recipients[{index}]` must be a user object id (GUID), or {{\"userId\", \"tenantId\"}} GUIDs."
                    ))
                };
                let user = Guid::parse(&user).ok_or_else(invalid)?;
                let tenant = match tenant {
                    Some(t) => Some(Guid::parse(&t).ok_or_else(invalid)?),
                    None => None,
                };
                if !people.iter().any(|(u, _)| *u == user) {
                    people.push((user, tenant));
                }
            }
            Target::People(people)
        }
        _ => return Err(bad("Exactly one of `chatId` and `recipients` is required.")),
    };
    let message = MessageText::parse(body.message)
        .ok_or_else(|| bad("Field `message` must be 1 to 4000 characters, not all blank."))?;
    let mut html = format!(
        "<p>{}</p>",
        escape_html(message.as_str()).replace('\n', "<br>")
    );
    if let Some(link) = body.link {
        let url = url::Url::parse(&link.url)
            .ok()
            .filter(|u| {
                u.scheme() == "https" && u.host_str().is_some() && link.url.len() <= MAX_URL_LEN
            })
            .ok_or_else(|| {
                bad(&format!(
                    "Field `link.url` must be an https URL of at most {MAX_URL_LEN} characters."
                ))
            })?;
        // The limit is the caller's title's: a long URL shown as its own text is fine.
        if link
            .title
            .as_ref()
            .is_some_and(|title| title.chars().count() > MAX_LINK_TITLE_CHARS)
        {
            return Err(bad(&format!(
                "Field `link.title` must be at most {MAX_LINK_TITLE_CHARS} characters."
            )));
        }
        let title = link.title.unwrap_or_else(|| url.to_string());
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape_html(url.as_str()),
            escape_html(&title)
        ));
    }
    Ok(ValidNotification { target, html })
}

/// Escapes the five characters that matter in HTML text and attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validated(value: serde_json::Value) -> Result<ValidNotification, ApiError> {
        validate(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn escapes_the_message_and_the_link() {
        let notification = validated(json!({
            "chatId": "19:meeting_abc@thread.v2",
            "message": "<script>alert('x')</script> & \"quotes\"\nline 2",
            "link": {"url": "https://contoso.example/a?b=1&c=<2>", "title": "<b>Open</b>"}
        }))
        .unwrap();
        assert_eq!(
            notification.html,
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;<br>line 2</p>\
             <p><a href=\"https://contoso.example/a?b=1&amp;c=%3C2%3E\">&lt;b&gt;Open&lt;/b&gt;</a></p>"
        );
    }

    #[test]
    fn refuses_bad_notifications() {
        let cases = [
            json!({"message": "hi"}),
            json!({"chatId": "19:a@thread.v2", "recipients": ["0b1d0000-0000-4000-8000-000000000002"], "message": "hi"}),
            json!({"chatId": "not-a-chat", "message": "hi"}),
            json!({"chatId": "19:a@thread.v2/../../me", "message": "hi"}),
            json!({"recipients": [], "message": "hi"}),
            json!({"recipients": ["bob"], "message": "hi"}),
            json!({"recipients": (0..21).map(|i| format!("0b1d0000-0000-4000-8000-{i:012}")).collect::<Vec<_>>(), "message": "hi"}),
            json!({"chatId": "19:a@thread.v2", "message": ""}),
            json!({"chatId": "19:a@thread.v2", "message": "x".repeat(4001)}),
            json!({"chatId": "19:a@thread.v2", "message": "hi", "link": {"url": "http://contoso.example"}}),
            json!({"chatId": "19:a@thread.v2", "message": "hi", "link": {"url": "javascript:alert(1)"}}),
        ];
        for case in cases {
            assert!(
                matches!(validated(case.clone()), Err(ApiError::BadRequest(_))),
                "{case}"
            );
        }
    }

    #[test]
    fn accepts_recipients_as_ids_or_with_their_tenant() {
        let notification = validated(json!({
            "recipients": [
                "0b1d0000-0000-4000-8000-000000000003",
                {"userId": "0b1d0000-0000-4000-8000-000000000002", "tenantId": "e4e4e000-0000-4000-8000-00000000e4e4"}
            ],
            "message": "hi"
        }))
        .unwrap();
        match notification.target {
            Target::People(people) => assert_eq!(people.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
