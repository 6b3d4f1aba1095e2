//! Microsoft Graph as the caller: `GraphClient` bound to one caller's on-behalf-of token,
//! correlation id and deadline. Each method names the delegated permission its call needs
//! (`graph::permission`) and turns Graph's failure into the caller's answer, so a refusal for
//! lack of that permission becomes `consent_required` asking for it, and a 404 says what was not
//! found.

use std::sync::Arc;

use tokio::time::Instant;

use crate::correlation::CorrelationId;
use crate::domain::{Guid, UserRef};
use crate::error::ApiError;
use crate::graph::chats::{Member, MemberRole};
use crate::graph::meetings::{Event, MeetingSettings, NewEvent, NewOnlineMeeting, OnlineMeeting};
use crate::graph::people::{Contact, Person};
use crate::graph::permission::{
    CALENDARS_READ_WRITE, CHAT_CREATE, CHAT_MESSAGE_SEND, ONLINE_MEETINGS_READ_WRITE, PEOPLE_READ,
    USER_READ, USER_READ_BASIC_ALL,
};
use crate::graph::users::{Photo, Profile};
use crate::graph::{self, GraphCall, GraphClient};
use crate::obo::DelegatedToken;
use crate::upstream::UpstreamError;

const MEETING_NOT_FOUND: &str = "The meeting could not be found.";
const RECIPIENT_NOT_FOUND: &str = "A recipient was not found.";
const NO_CONTACTS: &str = "No contacts were found.";
const NO_SUCH_CHAT: &str = "The chat does not exist or the caller is not in it. A meeting's chat \
    takes its people as they join the meeting: join it first.";

/// Exchange's answer to a People API call for a user whose mailbox is not in Exchange Online
/// (a guest of the tenant, a mailbox on premises), Exchange KB 4462988.
const NO_MAILBOX_CODES: &[&str] = &[
    "MailboxNotEnabledForRESTAPI",
    "MailboxNotSupportedForRESTAPI",
];

/// Graph with one caller's token.
pub struct CallerGraph<'a> {
    client: &'a GraphClient,
    token: Arc<DelegatedToken>,
    correlation: &'a CorrelationId,
    deadline: Instant,
}

impl<'a> CallerGraph<'a> {
    pub fn new(
        client: &'a GraphClient,
        token: Arc<DelegatedToken>,
        correlation: &'a CorrelationId,
        deadline: Instant,
    ) -> Self {
        CallerGraph {
            client,
            token,
            correlation,
            deadline,
        }
    }

    fn call(&self) -> GraphCall<'_> {
        GraphCall {
            token: &self.token,
            correlation_id: self.correlation,
            deadline: self.deadline,
        }
    }

    /// The answer for a failed call that needed `permission`; `not_found` is what a 404 means.
    fn answer(&self, error: &graph::Error, permission: &str, not_found: &str) -> ApiError {
        ApiError::from_graph(error, &self.token, &[permission], not_found)
    }

    /// A standalone online meeting organized by the caller.
    pub async fn create_online_meeting(
        &self,
        meeting: &NewOnlineMeeting<'_>,
    ) -> Result<OnlineMeeting, ApiError> {
        self.client
            .create_online_meeting(&self.call(), meeting)
            .await
            .map_err(|e| self.answer(&e, ONLINE_MEETINGS_READ_WRITE, MEETING_NOT_FOUND))
    }

    /// A calendar event that is an online meeting; Exchange mails its invitations.
    pub async fn create_event(&self, event: &NewEvent<'_>) -> Result<Event, ApiError> {
        self.client
            .create_event(&self.call(), event)
            .await
            .map_err(|e| self.answer(&e, CALENDARS_READ_WRITE, MEETING_NOT_FOUND))
    }

    /// A user's mail address, `None` when they have none or the directory does not know them.
    pub async fn mail_of(&self, user_id: Guid) -> Result<Option<String>, ApiError> {
        match self.client.mail_of(&self.call(), user_id).await {
            Ok(mail) => Ok(mail),
            Err(UpstreamError::NotFound { .. }) => Ok(None),
            Err(error) => {
                Err(self.answer(&error, USER_READ_BASIC_ALL, "A participant was not found."))
            }
        }
    }

    // The three calls after an event exists: their failures are never the caller's answer (the
    // invitations are out), so they stay Graph's errors, for the log.

    /// The event's join URL, if Graph has filled it in yet.
    pub async fn event_join_url(&self, event_id: &str) -> Result<Option<String>, graph::Error> {
        self.client.event_join_url(&self.call(), event_id).await
    }

    /// The caller's online meeting with this join URL, if Graph can see it yet.
    pub async fn find_online_meeting(
        &self,
        join_url: &str,
    ) -> Result<Option<OnlineMeeting>, graph::Error> {
        self.client
            .find_online_meeting(&self.call(), join_url)
            .await
    }

    /// The meeting's lobby bypass and presenters.
    pub async fn update_settings(
        &self,
        meeting_id: &str,
        settings: &MeetingSettings<'_>,
    ) -> Result<(), graph::Error> {
        self.client
            .update_settings(&self.call(), meeting_id, settings)
            .await
    }

    /// The role the caller joins a chat with.
    pub async fn my_member_role(&self) -> Result<MemberRole, ApiError> {
        self.client
            .my_member_role(&self.call())
            .await
            .map_err(|e| self.answer(&e, USER_READ, "The signed-in user was not found."))
    }

    /// The role a recipient of the caller's tenant joins a chat with.
    pub async fn member_role(&self, user_id: Guid) -> Result<MemberRole, ApiError> {
        self.client
            .member_role(&self.call(), user_id)
            .await
            .map_err(|e| self.answer(&e, USER_READ_BASIC_ALL, RECIPIENT_NOT_FOUND))
    }

    /// The chat of the caller and the members: the existing one-on-one chat, or a new one.
    pub async fn find_or_create_chat(
        &self,
        caller: Member,
        members: &[Member],
    ) -> Result<String, ApiError> {
        self.client
            .find_or_create_chat(&self.call(), caller, members)
            .await
            .map_err(|e| self.answer(&e, CHAT_CREATE, RECIPIENT_NOT_FOUND))
    }

    /// Posts the HTML message into the chat; the message id.
    ///
    /// Teams answers 403 to a sender who is not on the chat's roster (an ACL check), although the
    /// token carries ChatMessage.Send. To the caller that is the same as a chat that does not
    /// exist (404): whether a chat they are not in exists is not theirs to learn.
    pub async fn send_chat_message(&self, chat_id: &str, html: &str) -> Result<String, ApiError> {
        self.client
            .send_chat_message(&self.call(), chat_id, html)
            .await
            .map_err(|error| {
                let refused = matches!(error, UpstreamError::Status { status: 403, .. });
                if refused && self.token.grants(CHAT_MESSAGE_SEND) == Some(true) {
                    ApiError::NotFound(NO_SUCH_CHAT.to_owned())
                } else {
                    self.answer(&error, CHAT_MESSAGE_SEND, NO_SUCH_CHAT)
                }
            })
    }

    /// The caller's relevant people matching `term`; `None` when the caller has no Exchange
    /// Online mailbox to ask (a guest, a mailbox on premises).
    pub async fn search_people(
        &self,
        term: &str,
        top: usize,
    ) -> Result<Option<Vec<Person>>, ApiError> {
        match self.client.search_people(&self.call(), term, top).await {
            Ok(found) => Ok(Some(found)),
            Err(UpstreamError::NotFound { code }) if NO_MAILBOX_CODES.contains(&code.as_str()) => {
                Ok(None)
            }
            Err(error) => Err(self.answer(&error, PEOPLE_READ, NO_CONTACTS)),
        }
    }

    /// The directory's users matching `term`; `None` when the caller may not list them.
    pub async fn search_users(
        &self,
        term: &str,
        top: usize,
    ) -> Result<Option<Vec<Contact>>, ApiError> {
        match self.client.search_users(&self.call(), term, top).await {
            Ok(found) => Ok(Some(found)),
            // user-list.md: a guest gets 403 Authorization_RequestDenied although the token
            // carries User.ReadBasic.All; a token without it is a consent gap instead.
            Err(UpstreamError::Status { status: 403, code })
                if code == "Authorization_RequestDenied"
                    && self.token.grants(USER_READ_BASIC_ALL) == Some(true) =>
            {
                Ok(None)
            }
            Err(error) => Err(self.answer(&error, USER_READ_BASIC_ALL, NO_CONTACTS)),
        }
    }

    /// A user's profile.
    pub async fn get_user(&self, user: &UserRef) -> Result<Profile, ApiError> {
        // The signed-in user's job title, department and office need User.Read; other users'
        // basic profiles User.ReadBasic.All.
        let permission = match user {
            UserRef::Me => USER_READ,
            _ => USER_READ_BASIC_ALL,
        };
        self.client
            .get_user(&self.call(), user)
            .await
            .map_err(|e| self.answer(&e, permission, "The user was not found."))
    }

    /// A user's photo as Graph serves it.
    pub async fn get_photo(&self, user: &UserRef) -> Result<Photo, ApiError> {
        self.client
            .get_photo(&self.call(), user)
            .await
            .map_err(|e| {
                self.answer(
                    &e,
                    USER_READ_BASIC_ALL,
                    "The user has no photo, or was not found.",
                )
            })
    }
}
