//! The `CreateMeeting` request body: its fields and schema, and its validation into the meeting
//! Graph is asked for.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{
    Guid, LobbyBypass, MeetingRole, MeetingSubject, MeetingWindow, UserPrincipalName,
};
use crate::error::ApiError;
use crate::graph::meetings::{Attendee, NewEvent, NewOnlineMeeting};
use crate::routes::json_body::parse_json;

pub(crate) const MAX_PARTICIPANTS: usize = 50;

/// The request body. Unknown fields are refused, so a typo cannot go unnoticed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CreateMeeting {
    /// 1 to 255 characters once trimmed, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$",
        example = "Pump 7 vibration"
    )]
    subject: String,
    /// RFC 3339.
    #[schema(format = DateTime, example = "2026-11-26T14:00:00Z")]
    start_date_time: String,
    /// RFC 3339; after `startDateTime`, at most 24 hours later.
    #[schema(format = DateTime, example = "2026-11-26T15:00:00Z")]
    end_date_time: String,
    /// Who takes part besides the organizer (the caller).
    #[serde(default)]
    #[schema(max_items = 50)]
    participants: Vec<Participant>,
    /// Default `organizationAndFederated`.
    #[serde(default)]
    lobby_bypass: Option<LobbyBypass>,
    /// `false` (default): a standalone meeting, no calendar entry. `true`: a calendar event, and
    /// Exchange mails invitations to the participants that have a `upn`; from then on the
    /// answer is never an error (a retry would mail everyone again).
    #[serde(default)]
    send_invites: bool,
}

/// A participant; someone from another organization is given with their `tenantId`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Participant {
    /// The user's object id (in their own tenant).
    #[schema(value_type = Guid)]
    user_id: String,
    /// The user's tenant, for someone from another organization.
    #[schema(value_type = Option<Guid>)]
    tenant_id: Option<String>,
    /// Needed for the invitation mail with `sendInvites`.
    #[schema(value_type = Option<UserPrincipalName>)]
    upn: Option<String>,
    /// Default `attendee`. With any `presenter`, only presenters present.
    role: Option<MeetingRole>,
}

/// A request that passed validation.
#[derive(Debug)]
pub(super) struct ValidMeeting {
    pub(super) subject: MeetingSubject,
    pub(super) window: MeetingWindow,
    pub(super) attendees: Vec<ValidAttendee>,
    pub(super) lobby_bypass: LobbyBypass,
    pub(super) send_invites: bool,
}

#[derive(Debug)]
pub(super) struct ValidAttendee {
    pub(super) user_id: Guid,
    pub(super) tenant_id: Option<Guid>,
    pub(super) upn: Option<UserPrincipalName>,
    pub(super) role: MeetingRole,
}

impl ValidMeeting {
    pub(super) fn online_meeting(&self) -> NewOnlineMeeting<'_> {
        let attendees = self
            .attendees
            .iter()
            .map(|a| {
                Attendee::new(
                    a.user_id,
                    a.tenant_id,
                    a.upn.as_ref().map(UserPrincipalName::as_str),
                    a.role,
                )
            })
            .collect();
        NewOnlineMeeting::new(
            self.subject.as_str(),
            self.window,
            attendees,
            self.lobby_bypass,
        )
    }

    /// Invitations go by mail, to the addresses `invitation_addresses` found.
    pub(super) fn event<'a>(&'a self, addresses: &'a [String]) -> NewEvent<'a> {
        NewEvent::new(
            self.subject.as_str(),
            self.window,
            addresses.iter().map(String::as_str),
        )
    }
}

/// The `onlineMeeting` JSON sent to Graph for a `CreateMeeting` request body, after the same
/// parsing and validation as the route. Public for benchmarks and fuzzing.
pub fn graph_meeting_body(request: &[u8]) -> Result<Vec<u8>, ApiError> {
    let meeting = validate(parse_json(request)?)?;
    serde_json::to_vec(&meeting.online_meeting()).map_err(|e| ApiError::Internal(Box::new(e)))
}

pub(super) fn validate(body: CreateMeeting) -> Result<ValidMeeting, ApiError> {
    let bad = |message: String| ApiError::BadRequest(message);
    let subject = MeetingSubject::parse(&body.subject).map_err(bad)?;
    let window = MeetingWindow::parse(&body.start_date_time, &body.end_date_time).map_err(bad)?;
    if body.participants.len() > MAX_PARTICIPANTS {
        return Err(bad(format!(
            "Field `participants` must have at most {MAX_PARTICIPANTS} entries."
        )));
    }
    let mut attendees = Vec::with_capacity(body.participants.len());
    for (index, participant) in body.participants.into_iter().enumerate() {
        let field = |name: &str| format!("participants[{index}].{name}");
        let user_id = Guid::parse(&participant.user_id)
            .ok_or_else(|| bad(format!("Field `{}` must be a GUID.", field("userId"))))?;
        let tenant_id = match participant.tenant_id {
            Some(tenant) => Some(
                Guid::parse(&tenant)
                    .ok_or_else(|| bad(format!("Field `{}` must be a GUID.", field("tenantId"))))?,
            ),
            None => None,
        };
        let upn = match participant.upn {
            Some(upn) => Some(UserPrincipalName::parse(upn).ok_or_else(|| {
                bad(format!(
                    "Field `{}` must be a user principal name (name@domain).",
                    field("upn")
                ))
            })?),
            None => None,
        };
        attendees.push(ValidAttendee {
            user_id,
            tenant_id,
            upn,
            role: participant.role.unwrap_or_default(),
        });
    }
    Ok(ValidMeeting {
        subject,
        window,
        attendees,
        lobby_bypass: body.lobby_bypass.unwrap_or_default(),
        send_invites: body.send_invites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: serde_json::Value) -> Result<ValidMeeting, ApiError> {
        validate(serde_json::from_value(value).unwrap())
    }

    fn base() -> serde_json::Value {
        json!({
            "subject": "Pump 7 inspection",
            "startDateTime": "2026-11-26T14:00:00Z",
            "endDateTime": "2026-11-26T16:00:00+01:00",
        })
    }

    #[test]
    fn builds_the_graph_meeting_with_cross_tenant_attendees() {
        let mut body = base();
        body["endDateTime"] = json!("2026-11-26T16:30:00+01:00");
        body["participants"] = json!([
            {"userId": "0b1d0000-0000-4000-8000-000000000002", "tenantId": "e4e4e000-0000-4000-8000-00000000e4e4", "upn": "robin@experts.example", "role": "presenter"},
            {"userId": "0b1d0000-0000-4000-8000-000000000003"}
        ]);
        let meeting = request(body).unwrap();
        let sent = serde_json::to_value(meeting.online_meeting()).unwrap();
        assert_eq!(
            sent,
            json!({
                "subject": "Pump 7 inspection",
                "startDateTime": "2026-11-26T14:00:00Z",
                "endDateTime": "2026-11-26T15:30:00Z",
                "participants": {"attendees": [
                    {"identity": {"user": {"id": "0b1d0000-0000-4000-8000-000000000002", "tenantId": "e4e4e000-0000-4000-8000-00000000e4e4"}}, "upn": "robin@experts.example", "role": "presenter"},
                    {"identity": {"user": {"id": "0b1d0000-0000-4000-8000-000000000003"}}, "role": "attendee"}
                ]},
                "lobbyBypassSettings": {"scope": "organizationAndFederated", "isDialInBypassEnabled": false},
                "allowedPresenters": "roleIsPresenter"
            })
        );
    }

    #[test]
    fn builds_the_calendar_event_with_mail_attendees() {
        let mut body = base();
        body["participants"] = json!([
            {"userId": "0b1d0000-0000-4000-8000-000000000002", "upn": "robin@experts.example"},
            {"userId": "0b1d0000-0000-4000-8000-000000000003"}
        ]);
        body["sendInvites"] = json!(true);
        let meeting = request(body).unwrap();
        let addresses = ["robin@experts.example".to_owned()];
        let event = serde_json::to_value(meeting.event(&addresses)).unwrap();
        assert_eq!(event["isOnlineMeeting"], true);
        assert_eq!(event["onlineMeetingProvider"], "teamsForBusiness");
        assert_eq!(
            event["start"],
            json!({"dateTime": "2026-11-26T14:00:00", "timeZone": "UTC"})
        );
        assert_eq!(
            event["attendees"],
            json!([{"emailAddress": {"address": "robin@experts.example"}, "type": "required"}])
        );
    }

    #[test]
    fn refuses_invalid_meetings_naming_the_field() {
        let cases = [
            (json!({"subject": ""}), "subject"),
            (json!({"subject": "x".repeat(256)}), "subject"),
            (json!({"subject": "bell\u{7}"}), "subject"),
            (json!({"startDateTime": "tomorrow"}), "startDateTime"),
            (
                json!({"endDateTime": "2026-11-26T13:00:00Z"}),
                "endDateTime",
            ),
            (
                json!({"endDateTime": "2026-11-27T14:00:01Z"}),
                "endDateTime",
            ),
            (
                json!({"participants": [{"userId": "bob"}]}),
                "participants[0].userId",
            ),
            (
                json!({"participants": [{"userId": "0b1d0000-0000-4000-8000-000000000002", "tenantId": "x"}]}),
                "participants[0].tenantId",
            ),
            (
                json!({"participants": [{"userId": "0b1d0000-0000-4000-8000-000000000002", "upn": "no-at-sign"}]}),
                "participants[0].upn",
            ),
            (
                json!({"participants": (0..51).map(|_| json!({"userId": "0b1d0000-0000-4000-8000-000000000002"})).collect::<Vec<_>>()}),
                "participants",
            ),
        ];
        for (change, field) in cases {
            let mut body = base();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            match request(body) {
                Err(ApiError::BadRequest(message)) => {
                    assert!(message.contains(&format!("`{field}`")), "{message}")
                }
                other => panic!("{field}: expected a bad request, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_24_hour_meeting_is_allowed_and_lobby_bypass_is_honoured() {
        let mut body = base();
        body["endDateTime"] = json!("2026-11-27T14:00:00Z");
        body["lobbyBypass"] = json!("everyone");
        let meeting = request(body).unwrap();
        assert_eq!(meeting.lobby_bypass, LobbyBypass::Everyone);
    }
}
