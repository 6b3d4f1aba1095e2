//! `NotifyChat`: a message from the caller into a chat: an existing one (the meeting chat), or
//! a one-on-one or group chat with the recipients, created or reused, cross-tenant included.
//!
//! The message is the caller's plain text. It is HTML-escaped before it goes into Graph's
//! HTML body, so nothing a caller sends can become markup in someone's Teams client.

pub(crate) mod body;
mod schema;

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::{Method, StatusCode};
use warp::{Filter, Rejection, Reply};

use super::caller_graph::CallerGraph;
use super::context::{RequestContext, UPSTREAM_PROBLEMS, within_deadline};
use super::filters::{CALLER_PROBLEMS, protected};
use super::json_body::{BODY_PROBLEMS, json_body};
use super::spec::function_spec;
use crate::domain::{ChatId, Guid};
use crate::error::ApiError;
use crate::graph;
use crate::graph::chats::{Member, MemberRole};
use crate::state::AppState;
pub use body::graph_message_html;
use body::{NotifyChat, Target, validate};
use schema::NotifyChatBody;

function_spec! {
    name: "NotifyChat",
    route: "notifications/chat",
    methods: &[Method::POST],
    allow: "POST",
    problems: &[CALLER_PROBLEMS, BODY_PROBLEMS, UPSTREAM_PROBLEMS],
}

/// The message was posted.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Notified {
    /// The chat; send the next messages of the session with it.
    #[schema(value_type = ChatId)]
    chat_id: String,
    /// The message's id in that chat.
    message_id: String,
}

/// POST /api/notifications/chat, bearer token, JSON `NotifyChat` → 201 `{chatId, messageId}`.
#[utoipa::path(
    post,
    path = "/api/notifications/chat",
    operation_id = "NotifyChat",
    tag = "chats",
    summary = "Post a notification into a chat",
    description = "Posts a message from the caller into a chat: an existing one (`chatId`, e.g. the \
        meeting chat), or a one-on-one or group chat with the `recipients`, created or reused, \
        across organizations too. An unknown `chatId`, or one the caller is not in, is 404.",
    request_body(content = NotifyChatBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The message was posted.", body = Notified),
    ),
    security(("entraId" = ["access_as_user"])),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(SPEC, &state)
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
        let caller_graph = context.caller_graph().await?;
        let chat_id = match notification.target {
            Target::Chat(chat_id) => chat_id.into_string(),
            Target::People(people) => open_chat(&caller_graph, &context, &people).await?,
        };
        let message_id = caller_graph
            .send_chat_message(&chat_id, &notification.html)
            .await?;
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
    caller_graph: &CallerGraph<'_>,
    context: &RequestContext,
    people: &[(Guid, Option<Guid>)],
) -> Result<String, ApiError> {
    let own_tenant: Guid = context.caller.identity.tenant_id.into();
    let members =
        futures_util::future::try_join_all(people.iter().map(|(user, tenant)| async move {
            let federated = tenant.filter(|t| *t != own_tenant);
            let role = match federated {
                Some(_) => MemberRole::Owner,
                None => caller_graph.member_role(*user).await?,
            };
            Ok::<_, ApiError>(Member {
                user_id: *user,
                tenant_id: federated,
                role,
            })
        }));
    let (caller_role, members) = futures_util::try_join!(caller_graph.my_member_role(), members)?;
    let caller = Member {
        user_id: context.caller.identity.object_id.into(),
        tenant_id: None,
        role: caller_role,
    };
    caller_graph.find_or_create_chat(caller, &members).await
}
