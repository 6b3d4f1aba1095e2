//! A meeting's time window, its lobby rule and its participants' roles.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const MAX_DURATION: time::Duration = time::Duration::hours(24);

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

/// Who may skip the lobby, in Graph's words (`lobbyBypassSettings.scope`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum LobbyBypass {
    Organization,
    #[default]
    OrganizationAndFederated,
    Everyone,
}

/// A participant's role, in Graph's words (`meetingParticipantInfo.role`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum MeetingRole {
    #[default]
    Attendee,
    Presenter,
}
