//! Chats: the one-on-one or group chat with the recipients (chat-post.md; Graph returns the
//! existing chat for the same two people, and creates a new group every time), and messages
//! posted into a chat (chat-post-messages.md).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Error, GraphCall, GraphClient, encode_segment};
use crate::upstream::UpstreamError;

/// chat-post.md: a guest of the caller's own tenant joins a chat as `guest`; members and
/// federated users of other tenants as `owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Owner,
    Guest,
}

/// One member of a chat to create.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub user_id: Uuid,
    /// Only for someone in another organization (a federated chat).
    pub tenant_id: Option<Uuid>,
    pub role: MemberRole,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewChat {
    chat_type: &'static str,
    members: Vec<ChatMember>,
}

#[derive(Serialize)]
struct ChatMember {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    roles: [MemberRole; 1],
    #[serde(rename = "user@odata.bind")]
    user_bind: String,
    #[serde(rename = "tenantId", skip_serializing_if = "Option::is_none")]
    tenant_id: Option<String>,
}

#[derive(Serialize)]
struct NewMessage<'a> {
    body: MessageBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageBody<'a> {
    content_type: &'static str,
    content: &'a str,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Enough of a directory user to tell a guest: B2B guests' user principal names carry `#EXT#`,
/// and `userPrincipalName` is in the basic profile that User.ReadBasic.All may read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryEntry {
    user_principal_name: Option<String>,
}

impl GraphClient {
    /// The role a user of the caller's tenant must join a chat with (needs User.ReadBasic.All).
    /// A user this directory does not know (someone of another tenant given without a tenant)
    /// is `owner`: Graph itself says what it makes of them when the chat is created.
    pub async fn member_role(
        &self,
        call: &GraphCall<'_>,
        user_id: Uuid,
    ) -> Result<MemberRole, Error> {
        let path = format!("/users/{user_id}");
        let entry = self
            .get_json::<DirectoryEntry>(call, &path, &[("$select", "id,userPrincipalName")], &[])
            .await;
        match entry {
            Ok(entry) => Ok(
                if entry
                    .user_principal_name
                    .is_some_and(|upn| upn.to_ascii_uppercase().contains("#EXT#"))
                {
                    MemberRole::Guest
                } else {
                    MemberRole::Owner
                },
            ),
            Err(UpstreamError::NotFound { .. }) => Ok(MemberRole::Owner),
            Err(error) => Err(error),
        }
    }

    /// `POST /chats` with the caller and the members (needs Chat.Create): the existing
    /// one-on-one chat for one member, a new group chat for several. Returns the chat id.
    pub async fn find_or_create_chat(
        &self,
        call: &GraphCall<'_>,
        caller_id: Uuid,
        members: &[Member],
    ) -> Result<String, Error> {
        let member = |m: &Member| ChatMember {
            odata_type: "#microsoft.graph.aadUserConversationMember",
            roles: [m.role],
            user_bind: format!("https://graph.microsoft.com/v1.0/users('{}')", m.user_id),
            tenant_id: m.tenant_id.map(|t| t.to_string()),
        };
        let caller = Member {
            user_id: caller_id,
            tenant_id: None,
            role: MemberRole::Owner,
        };
        let chat = NewChat {
            chat_type: if members.len() == 1 {
                "oneOnOne"
            } else {
                "group"
            },
            members: std::iter::once(&caller)
                .chain(members)
                .map(member)
                .collect(),
        };
        let created: Created = self.post_json(call, "/chats", &chat).await?;
        Ok(created.id)
    }

    /// `POST /chats/{id}/messages` with an HTML body (needs ChatMessage.Send). Returns the
    /// message id.
    pub async fn send_chat_message(
        &self,
        call: &GraphCall<'_>,
        chat_id: &str,
        html: &str,
    ) -> Result<String, Error> {
        let path = format!("/chats/{}/messages", encode_segment(chat_id));
        let message = NewMessage {
            body: MessageBody {
                content_type: "html",
                content: html,
            },
        };
        let created: Created = self.post_json(call, &path, &message).await?;
        Ok(created.id)
    }
}
