//! Chats: the one-on-one or group chat with the recipients (chat-post.md; Graph returns the
//! existing chat for the same two people, and creates a new group every time), and messages
//! posted into a chat (chat-post-messages.md).

use serde::{Deserialize, Serialize};

use super::{Error, GraphCall, GraphClient, encode_segment};
use crate::domain::Guid;
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
    pub user_id: Guid,
    /// Only for someone in another organization (a federated chat).
    pub tenant_id: Option<Guid>,
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

/// The signed-in user's own `userType`, which User.Read may read (it is not in the basic
/// profile, so other users are told apart by their user principal name instead).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedInUser {
    user_type: Option<String>,
}

/// `oneOnOne` for two people, unless one of them is a guest of the tenant: chat-post.md
/// documents a guest only in a group chat (Example 6), and a one-on-one chat with a guest is
/// reported to reach no one, so a chat with a guest is a group chat even for two.
fn chat_type(caller: &Member, members: &[Member]) -> &'static str {
    let with_guest = std::iter::once(caller)
        .chain(members)
        .any(|m| m.role == MemberRole::Guest);
    if members.len() == 1 && !with_guest {
        "oneOnOne"
    } else {
        "group"
    }
}

impl GraphClient {
    /// The role the signed-in user must join a chat with: `guest` for a B2B guest of the
    /// tenant they signed in to (chat-post.md: "In-tenant guest users must be assigned the
    /// guest role", the caller included), else `owner`. Needs User.Read.
    pub async fn my_member_role(&self, call: &GraphCall<'_>) -> Result<MemberRole, Error> {
        let me = self
            .get_json::<SignedInUser>(call, "/me", &[("$select", "id,userType")], &[])
            .await?;
        Ok(if me.user_type.as_deref() == Some("Guest") {
            MemberRole::Guest
        } else {
            MemberRole::Owner
        })
    }

    /// The role a user of the caller's tenant must join a chat with (needs User.ReadBasic.All).
    /// A user this directory does not know (someone of another tenant given without a tenant)
    /// is `owner`: Graph itself says what it makes of them when the chat is created.
    pub async fn member_role(
        &self,
        call: &GraphCall<'_>,
        user_id: Guid,
    ) -> Result<MemberRole, Error> {
        let path = format!("/users/{user_id}");
        let entry = self
            .get_json::<DirectoryEntry>(call, &path, &[("$select", "id,userPrincipalName")], &[])
            .await;
        match entry {
            Ok(entry) => Ok(
                if entry
                    .user_principal_name
                    .is_some_and(|upn| crate::domain::is_guest_user_principal_name(&upn))
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
    /// one-on-one chat for one member, a new group chat for several or with a guest. Returns
    /// the chat id.
    pub async fn find_or_create_chat(
        &self,
        call: &GraphCall<'_>,
        caller: Member,
        members: &[Member],
    ) -> Result<String, Error> {
        let member = |m: &Member| ChatMember {
            odata_type: "#microsoft.graph.aadUserConversationMember",
            roles: [m.role],
            user_bind: format!("https://graph.microsoft.com/v1.0/users('{}')", m.user_id),
            tenant_id: m.tenant_id.map(|t| t.to_string()),
        };
        let chat = NewChat {
            chat_type: chat_type(&caller, members),
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
