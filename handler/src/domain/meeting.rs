//! A meeting's subject, time window, lobby rule and its participants' roles.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::line::{LineProblem, one_line};

const MAX_DURATION: time::Duration = time::Duration::hours(24);

pub const MAX_SUBJECT_CHARS: usize = 255;

/// A meeting's subject: 1 to 255 characters once trimmed, no control characters (Teams shows it
/// as one line, in invitations too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingSubject(String);

impl MeetingSubject {
    /// The error names the field for the caller.
    pub fn parse(text: &str) -> Result<MeetingSubject, String> {
        match one_line(text, MAX_SUBJECT_CHARS) {
            Ok(subject) => Ok(MeetingSubject(subject.to_owned())),
            Err(LineProblem::Length) => Err(format!(
                "Field `subject` must be 1 to {MAX_SUBJECT_CHARS} characters."
            )),
            Err(LineProblem::Control) => {
                Err("Field `subject` must not contain control characters.".to_owned())
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Start and end of a session: end after start, at most 24 hours later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingWindow {
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl MeetingWindow {
    /// The error names the offending field for the caller.
    pub fn parse(start: &str, end: &str) -> Result<MeetingWindow, String> {
        let start = parse_time("startDateTime", start)?;
        let end = parse_time("endDateTime", end)?;
        if end <= start {
            return Err("Field `endDateTime` must be after `startDateTime`.".to_owned());
        }
        if end - start > MAX_DURATION {
            return Err(
                "Field `endDateTime` must be at most 24 hours after `startDateTime`.".to_owned(),
            );
        }
        Ok(MeetingWindow { start, end })
    }

    pub fn start(&self) -> OffsetDateTime {
        self.start
    }

    pub fn end(&self) -> OffsetDateTime {
        self.end
    }
}

fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        format!("Field `{field}` must be an RFC 3339 date-time, e.g. 2026-11-26T14:00:00Z.")
    })
}

/// RFC 3339 in UTC with a `Z`, as the contract promises.
pub fn utc(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Who may skip the lobby, in Graph's words (`lobbyBypassSettings.scope`). For someone outside
/// the organizer's company to skip it, keep `organizationAndFederated` (their tenant must be
/// federated with the organizer's) or use `everyone`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum LobbyBypass {
    Organization,
    #[default]
    OrganizationAndFederated,
    Everyone,
}

/// A participant's role, in Graph's words (`meetingParticipantInfo.role`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum MeetingRole {
    #[default]
    Attendee,
    Presenter,
}
