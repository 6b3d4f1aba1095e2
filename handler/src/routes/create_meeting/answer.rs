//! What `CreateMeeting` answers: the meeting created, as Graph described it or, on the
//! invitation path, as far as it was learned.

use serde::Serialize;
use utoipa::ToSchema;
use warp::Reply;
use warp::http::StatusCode;

use super::body::ValidMeeting;
use crate::domain::utc;
use crate::graph::meetings::OnlineMeeting;

/// The meeting created. With `sendInvites` and the warning `lobby_not_applied`, `id` is the
/// calendar event's id and `chatThreadId` is `null` (`joinWebUrl` too, in the rare case Graph
/// had not filled in the event's join URL yet).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct MeetingCreated {
    /// The online meeting's id (or the calendar event's, see above).
    id: String,
    /// The URL that joins the meeting.
    join_web_url: Option<String>,
    /// The meeting chat: a `chatId` for `POST /api/notifications/chat`.
    chat_thread_id: Option<String>,
    subject: String,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    start_date_time: String,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    end_date_time: String,
    /// Present only when something did not go as asked: `lobby_not_applied` when the invitations
    /// were sent but the lobby setting could not be applied (Teams' default lobby then holds).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<MeetingWarning>,
}

/// Something that did not go as asked, though the meeting exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum MeetingWarning {
    /// The invitations were sent, but the lobby setting could not be applied to the
    /// invitation's meeting.
    LobbyNotApplied,
    /// Some participants got no invitation: no mail address was found for them (a user
    /// without one, or someone of another organization given without a `upn`, or with one
    /// that is no mail address).
    InvitationsIncomplete,
}

/// What the route learned of the meeting it created.
pub(super) struct Outcome {
    pub(super) id: String,
    pub(super) join_web_url: Option<String>,
    pub(super) chat_thread_id: Option<String>,
    pub(super) subject: Option<String>,
    pub(super) start_date_time: Option<String>,
    pub(super) end_date_time: Option<String>,
    pub(super) warnings: Vec<MeetingWarning>,
}

impl From<OnlineMeeting> for Outcome {
    fn from(created: OnlineMeeting) -> Self {
        Outcome {
            chat_thread_id: created.chat_thread_id().map(str::to_owned),
            id: created.id,
            join_web_url: Some(created.join_web_url),
            subject: created.subject,
            start_date_time: created.start_date_time,
            end_date_time: created.end_date_time,
            warnings: Vec::new(),
        }
    }
}

pub(super) fn answer(outcome: Outcome, meeting: &ValidMeeting) -> warp::reply::Response {
    let body = MeetingCreated {
        id: outcome.id,
        join_web_url: outcome.join_web_url,
        chat_thread_id: outcome.chat_thread_id,
        subject: outcome
            .subject
            .unwrap_or_else(|| meeting.subject.as_str().to_owned()),
        start_date_time: normalise(outcome.start_date_time)
            .unwrap_or_else(|| utc(meeting.window.start())),
        end_date_time: normalise(outcome.end_date_time)
            .unwrap_or_else(|| utc(meeting.window.end())),
        warnings: outcome.warnings,
    };
    warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED).into_response()
}

/// Graph answers with seven fractional digits and sometimes an offset; the contract promises
/// RFC 3339 UTC.
fn normalise(time: Option<String>) -> Option<String> {
    time.and_then(|t| {
        time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
    })
    .map(utc)
}
