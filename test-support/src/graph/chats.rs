//! Chats: `POST /chats` (a one-on-one chat is reused; guests must carry their role) and
//! `POST /chats/{id}/messages`, refused to anyone not on the chat's roster, as Teams does.

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;

use super::users::find_user;
use super::{Chat, State, error, json_status};
use crate::token_endpoint::Grant;

pub(super) fn create_chat(state: &mut State, caller: &Grant, body: &Value) -> Response {
    let chat_type = body["chatType"].as_str().unwrap_or_default().to_owned();
    let mut members = Vec::new();
    for member in body["members"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let bind = member["user@odata.bind"].as_str().unwrap_or_default();
        let Some(id) = bind
            .strip_prefix("https://graph.microsoft.com/v1.0/users('")
            .and_then(|rest| rest.strip_suffix("')"))
        else {
            return error(StatusCode::BAD_REQUEST, "InvalidRequest");
        };
        if member["@odata.type"] != "#microsoft.graph.aadUserConversationMember" {
            return error(StatusCode::BAD_REQUEST, "InvalidRequest");
        }
        let tenant = member["tenantId"].as_str().unwrap_or(&caller.tenant_id);
        // chat-post.md: a guest of the caller's own tenant must be added with the `guest`
        // role; everyone else (members, and federated users of other tenants) as `owner`.
        let guest = tenant == caller.tenant_id
            && find_user(state, tenant, id).is_some_and(|u| u.user_type == "Guest");
        let expected_roles = if guest {
            json!(["guest"])
        } else {
            json!(["owner"])
        };
        if member["roles"] != expected_roles {
            return error(StatusCode::BAD_REQUEST, "BadRequest");
        }
        members.push((id.to_owned(), tenant.to_owned()));
    }
    let caller_listed = members
        .iter()
        .any(|(id, tenant)| *id == caller.object_id && *tenant == caller.tenant_id);
    // chat-post.md documents a guest only in a group chat (Example 6); a one-on-one chat with
    // a guest is not documented, and is reported to create a chat the guest never sees, so
    // the emulation refuses it rather than let it pass. A group chat's size has no documented
    // minimum beyond its two participants.
    let with_guest = body["members"]
        .as_array()
        .is_some_and(|members| members.iter().any(|m| m["roles"] == json!(["guest"])));
    let size_ok = match chat_type.as_str() {
        "oneOnOne" => members.len() == 2 && !with_guest,
        "group" => members.len() >= 2,
        _ => false,
    };
    if !caller_listed || !size_ok {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest");
    }
    let id = if chat_type == "oneOnOne" {
        let mut ids: Vec<&str> = members.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort_unstable();
        format!("19:{}_{}@unq.gbl.spaces", ids[0], ids[1])
    } else {
        format!("19:{}@thread.v2", uuid::Uuid::new_v4().simple())
    };
    state.chats.entry(id.clone()).or_insert(Chat {
        chat_type: chat_type.clone(),
        members,
        messages: Vec::new(),
    });
    json_status(
        &json!({"id": id, "chatType": chat_type, "topic": body["topic"]}),
        201,
    )
}

pub(super) fn post_message(
    state: &mut State,
    caller: &Grant,
    chat_id: &str,
    body: &Value,
) -> Response {
    let Some(chat) = state.chats.get_mut(chat_id) else {
        return error(StatusCode::NOT_FOUND, "NotFound");
    };
    let member = chat
        .members
        .iter()
        .any(|(id, tenant)| *id == caller.object_id && *tenant == caller.tenant_id);
    if !member {
        // Teams refuses a sender who is not on the chat's roster with 403 `Forbidden`, its
        // message naming the failed ACL check.
        return json_status(
            &json!({"error": {"code": "Forbidden", "message": "Failure due to: AclCheckFailed."}}),
            403,
        );
    }
    let message = json!({
        "id": format!("{}", 1_764_000_000_000u64 + chat.messages.len() as u64),
        "chatId": chat_id,
        "from": {"user": {"id": caller.object_id, "tenantId": caller.tenant_id}},
        "body": body["body"],
        "chatType": chat.chat_type,
    });
    chat.messages.push(message.clone());
    json_status(&message, 201)
}
