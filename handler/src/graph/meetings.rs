//! Teams meetings: standalone online meetings, and calendar events that carry one (so Exchange
//! mails the invitations), with the lookups and the lobby update the event path needs.
//! Graph's shapes: onlinemeeting-post.md, event-post.md (`isOnlineMeeting`),
//! onlinemeeting-get.md (`$filter=JoinWebUrl eq '…'`), onlinemeeting-update.md.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Collection, Error, GraphCall, GraphClient, encode_segment};
use crate::domain::{Guid, LobbyBypass, MeetingRole, MeetingWindow, utc};

/// What `create_online_meeting` sends.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOnlineMeeting<'a> {
    subject: &'a str,
    start_date_time: String,
    end_date_time: String,
    participants: Participants<'a>,
    lobby_bypass_settings: LobbyBypassSettings,
    /// meetingparticipantinfo.md: a `presenter` role applies only with `roleIsPresenter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_presenters: Option<&'static str>,
}

/// One invited participant of an online meeting.
#[derive(Debug, Serialize)]
pub struct Attendee<'a> {
    identity: Identity,
    #[serde(skip_serializing_if = "Option::is_none")]
    upn: Option<&'a str>,
    role: MeetingRole,
}

impl<'a> Attendee<'a> {
    /// `tenant_id` only for someone in another organization.
    pub fn new(
        user_id: Guid,
        tenant_id: Option<Guid>,
        upn: Option<&'a str>,
        role: MeetingRole,
    ) -> Self {
        Attendee {
            identity: Identity {
                user: IdentityUser {
                    id: user_id.to_string(),
                    tenant_id: tenant_id.map(|t| t.to_string()),
                },
            },
            upn,
            role,
        }
    }
}

impl<'a> NewOnlineMeeting<'a> {
    pub fn new(
        subject: &'a str,
        window: MeetingWindow,
        attendees: Vec<Attendee<'a>>,
        lobby_bypass: LobbyBypass,
    ) -> Self {
        let presenters = attendees.iter().any(|a| a.role == MeetingRole::Presenter);
        NewOnlineMeeting {
            subject,
            start_date_time: utc(window.start()),
            end_date_time: utc(window.end()),
            participants: Participants { attendees },
            lobby_bypass_settings: LobbyBypassSettings::new(lobby_bypass),
            allowed_presenters: presenters.then_some("roleIsPresenter"),
        }
    }
}

#[derive(Debug, Serialize)]
struct Participants<'a> {
    attendees: Vec<Attendee<'a>>,
}

#[derive(Debug, Serialize)]
struct Identity {
    user: IdentityUser,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentityUser {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LobbyBypassSettings {
    scope: LobbyBypass,
    is_dial_in_bypass_enabled: bool,
}

impl LobbyBypassSettings {
    fn new(scope: LobbyBypass) -> Self {
        LobbyBypassSettings {
            scope,
            is_dial_in_bypass_enabled: false,
        }
    }
}

/// What `create_event` sends: a calendar event that is a Teams meeting.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewEvent<'a> {
    subject: &'a str,
    start: EventTime,
    end: EventTime,
    is_online_meeting: bool,
    online_meeting_provider: &'static str,
    attendees: Vec<EventAttendee<'a>>,
}

impl<'a> NewEvent<'a> {
    /// Invitations go by mail, so the attendees are mail addresses.
    pub fn new(
        subject: &'a str,
        window: MeetingWindow,
        attendee_mail: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        NewEvent {
            subject,
            start: EventTime::utc(window.start()),
            end: EventTime::utc(window.end()),
            is_online_meeting: true,
            online_meeting_provider: "teamsForBusiness",
            attendees: attendee_mail
                .into_iter()
                .map(|address| EventAttendee {
                    email_address: EmailAddress { address },
                    attendee_type: "required",
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventTime {
    date_time: String,
    time_zone: &'static str,
}

impl EventTime {
    /// Exchange wants local time without offset plus a zone name; UTC keeps it exact.
    fn utc(time: OffsetDateTime) -> Self {
        let mut text = utc(time);
        text.pop();
        EventTime {
            date_time: text,
            time_zone: "UTC",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventAttendee<'a> {
    email_address: EmailAddress<'a>,
    #[serde(rename = "type")]
    attendee_type: &'static str,
}

#[derive(Debug, Serialize)]
struct EmailAddress<'a> {
    address: &'a str,
}

/// What the event path patches onto the event's online meeting, which Graph created with
/// Teams' defaults: the lobby, and the presenters when anyone presents. onlinemeeting-update.md:
/// `allowedPresenters: roleIsPresenter` takes effect with the attendees and their roles in the
/// same request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeetingSettings<'a> {
    lobby_bypass_settings: LobbyBypassSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_presenters: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    participants: Option<Participants<'a>>,
}

impl<'a> NewOnlineMeeting<'a> {
    /// The settings of this meeting that an existing online meeting must be patched with.
    pub fn settings(self) -> MeetingSettings<'a> {
        let presenters = self.allowed_presenters.is_some();
        MeetingSettings {
            lobby_bypass_settings: self.lobby_bypass_settings,
            allowed_presenters: self.allowed_presenters,
            participants: presenters.then_some(self.participants),
        }
    }
}

/// An online meeting as Graph returns it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineMeeting {
    pub id: String,
    pub join_web_url: String,
    chat_info: Option<ChatInfo>,
    pub subject: Option<String>,
    pub start_date_time: Option<String>,
    pub end_date_time: Option<String>,
}

impl OnlineMeeting {
    pub fn chat_thread_id(&self) -> Option<&str> {
        self.chat_info.as_ref().and_then(|c| c.thread_id.as_deref())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatInfo {
    thread_id: Option<String>,
}

/// A calendar event as Graph returns it; `join_url` is absent until Graph filled it in.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    online_meeting: Option<EventOnlineMeeting>,
}

impl Event {
    pub fn join_url(&self) -> Option<&str> {
        self.online_meeting.as_ref().map(|m| m.join_url.as_str())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventOnlineMeeting {
    join_url: String,
}

impl GraphClient {
    /// `POST /me/onlineMeetings`: needs OnlineMeetings.ReadWrite.
    pub async fn create_online_meeting(
        &self,
        call: &GraphCall<'_>,
        meeting: &NewOnlineMeeting<'_>,
    ) -> Result<OnlineMeeting, Error> {
        self.post_json(call, "/me/onlineMeetings", meeting).await
    }

    /// `POST /me/events`: needs Calendars.ReadWrite. Exchange mails the invitations.
    pub async fn create_event(
        &self,
        call: &GraphCall<'_>,
        event: &NewEvent<'_>,
    ) -> Result<Event, Error> {
        self.post_json(call, "/me/events", event).await
    }

    /// The event's join URL, if Graph has filled it in yet.
    pub async fn event_join_url(
        &self,
        call: &GraphCall<'_>,
        event_id: &str,
    ) -> Result<Option<String>, Error> {
        let path = format!("/me/events/{}", encode_segment(event_id));
        let event: Event = self
            .get_json(call, &path, &[("$select", "onlineMeeting")], &[])
            .await?;
        Ok(event.join_url().map(str::to_owned))
    }

    /// The caller's online meeting with this join URL, if Graph can see it yet.
    pub async fn find_online_meeting(
        &self,
        call: &GraphCall<'_>,
        join_url: &str,
    ) -> Result<Option<OnlineMeeting>, Error> {
        let filter = format!("JoinWebUrl eq '{}'", join_url.replace('\'', "''"));
        let found: Collection<OnlineMeeting> = self
            .get_json(call, "/me/onlineMeetings", &[("$filter", &filter)], &[])
            .await?;
        Ok(found.value.into_iter().next())
    }

    /// `PATCH /me/onlineMeetings/{id}` with the lobby bypass and presenters.
    pub async fn update_settings(
        &self,
        call: &GraphCall<'_>,
        meeting_id: &str,
        settings: &MeetingSettings<'_>,
    ) -> Result<(), Error> {
        let path = format!("/me/onlineMeetings/{}", encode_segment(meeting_id));
        self.patch_json(call, &path, settings).await
    }
}
