//! `NotifyChat`: a message from the caller into a chat: an existing one (the meeting chat), or
//! a one-on-one or group chat with the recipients, created or reused, cross-tenant included.
//!
//! The message is the caller's plain text. It is HTML-escaped before it goes into Graph's
//! HTML body, so nothing a caller sends can become markup in someone's Teams client.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use warp::http::{Method, StatusCode};
use warp::{Filter, Rejection, Reply};

use super::FunctionSpec;
use super::context::{Graph, RequestContext, within_deadline};
use super::filters::protected;
use super::json_body::json_body;
use crate::domain::{MessageText, parse_guid};
use crate::error::ApiError;
use crate::graph;
use crate::graph::chats::{Member, MemberRole};
use crate::state::AppState;

pub const FUNCTION: FunctionSpec = FunctionSpec {
    name: "NotifyChat",
    route: "notifications/chat",
    methods: &[Method::POST],
    allow: "POST",
};

const MAX_RECIPIENTS: usize = 20;
const MAX_LINK_TITLE_CHARS: usize = 200;
const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NotifyChat {
    chat_id: Option<String>,
    recipients: Option<Vec<Recipient>>,
    message: String,
    link: Option<Link>,
}

/// A recipient is an object id, or an object with the id and, for someone in another
/// organization, their tenant.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Recipient {
    Id(String),
    Qualified(QualifiedRecipient),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QualifiedRecipient {
    user_id: String,
    tenant_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    url: String,
    title: Option<String>,
}

#[derive(Debug)]
enum Target {
    Chat(String),
    People(Vec<(Uuid, Option<Uuid>)>),
}

#[derive(Debug)]
struct ValidNotification {
    target: Target,
    html: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notified {
    chat_id: String,
    message_id: String,
}

/// POST /api/notifications/chat, bearer token, JSON `NotifyChat` → 201 `{chatId, messageId}`.
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(FUNCTION, &state)
        .and(json_body::<NotifyChat>(
            state.config.tuning.body_read_timeout,
        ))
        .then(notify)
}

async fn notify(
    context: RequestContext,
    body: NotifyChat,
) -> Result<warp::reply::Response, ApiError> {
    let notification = validate(body)?;
    within_deadline(context.deadline, graph::SERVICE, async {
        let graph = context.graph().await?;
        let chat_id = match notification.target {
            Target::Chat(chat_id) => chat_id,
            Target::People(people) => open_chat(&graph, &context, &people).await?,
        };
        let message_id = graph
            .client
            .send_chat_message(&graph.call(), &chat_id, &notification.html)
            .await
            .map_err(|e| {
                graph.error(
                    &e,
                    &["ChatMessage.Send"],
                    "The chat does not exist or the caller is not in it.",
                )
            })?;
        let body = Notified {
            chat_id,
            message_id,
        };
        Ok(warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED).into_response())
    })
    .await
}

/// Creates the chat, or gets the existing one-on-one chat back. Recipients of the caller's own
/// tenant are looked up first, since a guest among them must join with the `guest` role or Graph
/// refuses the whole chat.
async fn open_chat(
    graph: &Graph<'_>,
    context: &RequestContext,
    people: &[(Uuid, Option<Uuid>)],
) -> Result<String, ApiError> {
    let own_tenant = context.caller.identity.tenant_id;
    let not_found = "A recipient was not found.";
    let members =
        futures_util::future::try_join_all(people.iter().map(|(user, tenant)| async move {
            let federated = tenant.filter(|t| *t != own_tenant);
            let role = match federated {
                Some(_) => MemberRole::Owner,
                None => graph
                    .client
                    .member_role(&graph.call(), *user)
                    .await
                    .map_err(|e| graph.error(&e, &["User.ReadBasic.All"], not_found))?,
            };
            Ok::<_, ApiError>(Member {
                user_id: *user,
                tenant_id: federated,
                role,
            })
        }))
        .await?;
    graph
        .client
        .find_or_create_chat(&graph.call(), context.caller.identity.object_id, &members)
        .await
        .map_err(|e| graph.error(&e, &["Chat.Create"], not_found))
}

/// The HTML message body sent to Graph for a `NotifyChat` request body, after the same parsing
/// and validation as the route. Public for fuzzing.
pub fn graph_message_html(request: &[u8]) -> Result<String, ApiError> {
    validate(super::json_body::parse_json(request)?).map(|n| n.html)
}

fn validate(body: NotifyChat) -> Result<ValidNotification, ApiError> {
    let bad = |message: &str| ApiError::BadRequest(message.to_owned());
    let target = match (body.chat_id, body.recipients) {
        (Some(chat_id), None) => {
            if !is_chat_id(&chat_id) {
                return Err(bad("Field `chatId` is not a Teams chat id (19:…)."));
            }
            Target::Chat(chat_id)
        }
        (None, Some(recipients)) => {
            if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
                return Err(bad("Field `recipients` must have 1 to 20 entries."));
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
                let user = parse_guid(&user).ok_or_else(invalid)?;
                let tenant = match tenant {
                    Some(t) => Some(parse_guid(&t).ok_or_else(invalid)?),
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
        .ok_or_else(|| bad("Field `message` must be 1 to 4000 characters."))?;
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
            .ok_or_else(|| bad("Field `link.url` must be an https URL."))?;
        let title = link.title.unwrap_or_else(|| url.to_string());
        if title.chars().count() > MAX_LINK_TITLE_CHARS {
            return Err(bad("Field `link.title` must be at most 200 characters."));
        }
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape_html(url.as_str()),
            escape_html(&title)
        ));
    }
    Ok(ValidNotification { target, html })
}

/// Teams chat ids: `19:` then the thread's own id, `@thread.v2`, `@thread.skype` or
/// `@unq.gbl.spaces`.
fn is_chat_id(text: &str) -> bool {
    text.starts_with("19:")
        && text.len() <= 256
        && text.contains('@')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":@._-".contains(c))
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
