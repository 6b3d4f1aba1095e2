//! `CreateMeeting`: the Teams meeting of a remote-assist session, created as the caller.
//!
//! Without invitations, a standalone online meeting (`POST /me/onlineMeetings`). With
//! `sendInvites`, a calendar event that is an online meeting (`POST /me/events`), so Exchange
//! sends the invitations; its online meeting is then looked up by join URL for the chat thread
//! and given the requested lobby bypass.
//!
//! Graph creates an event's online meeting asynchronously and promises no moment when it can be
//! read. Once the event exists the invitations are out, so from then on the caller is never told
//! that the request failed (a retry would mail everyone again): the event and the meeting are
//! polled with backoff inside the deadline, and if the meeting still cannot be found or changed,
//! the answer is 201 with the event's join URL and `"warnings": ["lobby_not_applied"]`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use warp::http::{Method, StatusCode};
use warp::{Filter, Rejection, Reply};

use super::json_body::json_body;
use super::{FunctionSpec, graph_call, protected, within_deadline};
use crate::auth::Caller;
use crate::correlation::CorrelationId;
use crate::error::ApiError;
use crate::graph::route_error;
use crate::obo::DelegatedToken;
use crate::state::AppState;

pub const FUNCTION: FunctionSpec = FunctionSpec {
    name: "CreateMeeting",
    route: "meetings",
    methods: &[Method::POST],
    allow: "POST",
};

const MAX_PARTICIPANTS: usize = 50;
/// First wait before looking for an event's online meeting again; doubled each time, capped.
const MEETING_POLL_FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(100);
const MEETING_POLL_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// What the invitation path keeps back for its own answer: polling stops this long before the
/// request deadline, so the 201 is sent in time.
const ANSWER_RESERVE: std::time::Duration = std::time::Duration::from_secs(2);
/// The answer's warning when the lobby setting could not be applied to an invitation's meeting.
const LOBBY_NOT_APPLIED: &str = "lobby_not_applied";
const MAX_SUBJECT_CHARS: usize = 255;
const MAX_DURATION: time::Duration = time::Duration::hours(24);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateMeeting {
    subject: String,
    start_date_time: String,
    end_date_time: String,
    #[serde(default)]
    participants: Vec<Participant>,
    #[serde(default)]
    lobby_bypass: Option<LobbyBypass>,
    #[serde(default)]
    send_invites: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Participant {
    user_id: String,
    tenant_id: Option<String>,
    upn: Option<String>,
    role: Option<Role>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
enum Role {
    Attendee,
    Presenter,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
enum LobbyBypass {
    Organization,
    #[default]
    OrganizationAndFederated,
    Everyone,
}

/// A request that passed validation.
#[derive(Debug)]
struct ValidMeeting {
    subject: String,
    start: OffsetDateTime,
    end: OffsetDateTime,
    attendees: Vec<ValidAttendee>,
    lobby_bypass: LobbyBypass,
    send_invites: bool,
}

#[derive(Debug)]
struct ValidAttendee {
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    upn: Option<String>,
    role: Role,
}

// ---- Graph shapes ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphOnlineMeeting<'a> {
    subject: &'a str,
    start_date_time: String,
    end_date_time: String,
    participants: GraphParticipants<'a>,
    lobby_bypass_settings: GraphLobbyBypass,
    /// meetingparticipantinfo.md: a `presenter` role applies only with `roleIsPresenter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_presenters: Option<&'static str>,
}

#[derive(Serialize)]
struct GraphParticipants<'a> {
    attendees: Vec<GraphAttendee<'a>>,
}

#[derive(Serialize)]
struct GraphAttendee<'a> {
    identity: GraphIdentity,
    #[serde(skip_serializing_if = "Option::is_none")]
    upn: Option<&'a str>,
    role: Role,
}

#[derive(Serialize)]
struct GraphIdentity {
    user: GraphIdentityUser,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphIdentityUser {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphLobbyBypass {
    scope: LobbyBypass,
    is_dial_in_bypass_enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphEvent<'a> {
    subject: &'a str,
    start: GraphDateTime,
    end: GraphDateTime,
    is_online_meeting: bool,
    online_meeting_provider: &'static str,
    attendees: Vec<GraphEventAttendee<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphDateTime {
    date_time: String,
    time_zone: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphEventAttendee<'a> {
    email_address: GraphEmail<'a>,
    #[serde(rename = "type")]
    attendee_type: &'static str,
}

#[derive(Serialize)]
struct GraphEmail<'a> {
    address: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GraphLobbyPatch {
    lobby_bypass_settings: GraphLobbyBypass,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedMeeting {
    id: String,
    join_web_url: String,
    chat_info: Option<ChatInfo>,
    subject: Option<String>,
    start_date_time: Option<String>,
    end_date_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatInfo {
    thread_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedEvent {
    id: String,
    online_meeting: Option<EventOnlineMeeting>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventOnlineMeeting {
    join_url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeetingCreated {
    id: String,
    join_web_url: Option<String>,
    chat_thread_id: Option<String>,
    subject: String,
    start_date_time: String,
    end_date_time: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<&'static str>,
}

/// What the route learned of the meeting it created.
struct Outcome {
    id: String,
    join_web_url: Option<String>,
    chat_thread_id: Option<String>,
    subject: Option<String>,
    start_date_time: Option<String>,
    end_date_time: Option<String>,
    warnings: Vec<&'static str>,
}

impl From<CreatedMeeting> for Outcome {
    fn from(created: CreatedMeeting) -> Self {
        Outcome {
            id: created.id,
            join_web_url: Some(created.join_web_url),
            chat_thread_id: created.chat_info.and_then(|c| c.thread_id),
            subject: created.subject,
            start_date_time: created.start_date_time,
            end_date_time: created.end_date_time,
            warnings: Vec::new(),
        }
    }
}

/// POST /api/meetings, bearer token, JSON `CreateMeeting` → 201 the meeting.
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(FUNCTION, &state)
        .and(json_body::<CreateMeeting>(
            state.config.tuning.body_read_timeout,
        ))
        .then(
            move |caller: Caller, correlation: CorrelationId, body: CreateMeeting| {
                let state = state.clone();
                async move { create(state, caller, correlation, body).await }
            },
        )
}

async fn create(
    state: AppState,
    caller: Caller,
    correlation: CorrelationId,
    body: CreateMeeting,
) -> Result<warp::reply::Response, ApiError> {
    let meeting = validate(body)?;
    let deadline = tokio::time::Instant::now() + state.config.tuning.request_deadline;
    if meeting.send_invites {
        // Not under `within_deadline`: once the event exists, the answer must be a 201, and the
        // invitation path keeps to the deadline itself.
        let token = within_deadline(
            deadline,
            crate::graph::SERVICE,
            super::graph_token(&state, &caller, deadline),
        )
        .await?;
        let call = graph_call(&token, &correlation, deadline);
        let outcome = create_with_invitations(&state, &call, &token, &meeting, deadline).await?;
        return Ok(answer(outcome, &meeting));
    }
    within_deadline(deadline, crate::graph::SERVICE, async {
        let token = super::graph_token(&state, &caller, deadline).await?;
        let call = graph_call(&token, &correlation, deadline);
        let created = state
            .graph
            .post_json::<_, CreatedMeeting>(&call, "/me/onlineMeetings", &online_meeting(&meeting))
            .await
            .map_err(|e| {
                route_error(e, &token, &["OnlineMeetings.ReadWrite"], MEETING_NOT_FOUND)
            })?;
        Ok(answer(created.into(), &meeting))
    })
    .await
}

const MEETING_NOT_FOUND: &str = "The meeting could not be found.";

/// The event (which sends the invitations), then its online meeting's lobby setting. Only the
/// event's creation can fail the request.
async fn create_with_invitations(
    state: &AppState,
    call: &crate::graph::GraphCall<'_>,
    token: &DelegatedToken,
    meeting: &ValidMeeting,
    deadline: tokio::time::Instant,
) -> Result<Outcome, ApiError> {
    let event: CreatedEvent = within_deadline(deadline, crate::graph::SERVICE, async {
        state
            .graph
            .post_json(call, "/me/events", &calendar_event(meeting))
            .await
            .map_err(|e| route_error(e, token, &["Calendars.ReadWrite"], MEETING_NOT_FOUND))
    })
    .await?;
    // From here on the invitations are out.
    let poll_until = deadline
        .checked_sub(ANSWER_RESERVE)
        .unwrap_or(deadline)
        .max(tokio::time::Instant::now());
    let applied = tokio::time::timeout_at(
        poll_until,
        apply_lobby(state, call, meeting, &event, poll_until),
    )
    .await;
    let fallback = |join_web_url: Option<String>| Outcome {
        id: event.id.clone(),
        join_web_url,
        chat_thread_id: None,
        subject: None,
        start_date_time: None,
        end_date_time: None,
        warnings: vec![LOBBY_NOT_APPLIED],
    };
    match applied {
        Ok(Ok(online)) => Ok(online.into()),
        Ok(Err(Unapplied { join_url, reason })) => {
            tracing::warn!(reason = %reason, "invitations sent, lobby setting not applied");
            Ok(fallback(join_url))
        }
        Err(_) => {
            tracing::warn!("invitations sent, online meeting not found before the deadline");
            Ok(fallback(
                event.online_meeting.as_ref().map(|m| m.join_url.clone()),
            ))
        }
    }
}

/// Why the lobby setting was not applied, with the join URL if it was learned.
struct Unapplied {
    join_url: Option<String>,
    reason: String,
}

/// Finds the event's join URL and online meeting, polling both until `until`, then patches the
/// lobby bypass. Graph errors other than "not there yet" end the attempt.
async fn apply_lobby(
    state: &AppState,
    call: &crate::graph::GraphCall<'_>,
    meeting: &ValidMeeting,
    event: &CreatedEvent,
    until: tokio::time::Instant,
) -> Result<CreatedMeeting, Unapplied> {
    let mut wait = MEETING_POLL_FIRST_WAIT;
    let mut join_url = event.online_meeting.as_ref().map(|m| m.join_url.clone());
    let event_path = format!("/me/events/{}", super::encode_segment(&event.id));
    let online = loop {
        if join_url.is_none() {
            let read: Result<CreatedEvent, _> = state
                .graph
                .get_json(call, &event_path, &[("$select", "onlineMeeting")], &[])
                .await;
            match read {
                Ok(read) => join_url = read.online_meeting.map(|m| m.join_url),
                Err(error) => {
                    return Err(Unapplied {
                        join_url,
                        reason: format!("reading the event: {error}"),
                    });
                }
            }
        }
        if let Some(url) = &join_url {
            let filter = format!("JoinWebUrl eq '{}'", url.replace('\'', "''"));
            let found: Result<crate::graph::Collection<CreatedMeeting>, _> = state
                .graph
                .get_json(call, "/me/onlineMeetings", &[("$filter", &filter)], &[])
                .await;
            match found.map(|c| c.value.into_iter().next()) {
                Ok(Some(online)) => break online,
                Ok(None) => {}
                Err(error) => {
                    return Err(Unapplied {
                        join_url,
                        reason: format!("finding the online meeting: {error}"),
                    });
                }
            }
        }
        if tokio::time::Instant::now() + wait >= until {
            return Err(Unapplied {
                join_url,
                reason: "the online meeting did not appear in time".to_owned(),
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MEETING_POLL_MAX_WAIT);
    };
    let patch = GraphLobbyPatch {
        lobby_bypass_settings: GraphLobbyBypass {
            scope: meeting.lobby_bypass,
            is_dial_in_bypass_enabled: false,
        },
    };
    let path = format!("/me/onlineMeetings/{}", super::encode_segment(&online.id));
    match state.graph.patch_json(call, &path, &patch).await {
        Ok(()) => Ok(online),
        Err(error) => Err(Unapplied {
            join_url: Some(online.join_web_url),
            reason: format!("updating the lobby: {error}"),
        }),
    }
}

/// The `onlineMeeting` JSON sent to Graph for a `CreateMeeting` request body, after the same
/// parsing and validation as the route. Public for benchmarks and fuzzing.
pub fn graph_meeting_body(request: &[u8]) -> Result<Vec<u8>, ApiError> {
    let meeting = validate(super::json_body::parse_json(request)?)?;
    serde_json::to_vec(&online_meeting(&meeting)).map_err(|e| ApiError::Internal(Box::new(e)))
}

fn validate(body: CreateMeeting) -> Result<ValidMeeting, ApiError> {
    let bad = |message: String| ApiError::BadRequest(message);
    let subject = body.subject.trim().to_owned();
    let subject_chars = subject.chars().count();
    if subject_chars == 0 || subject_chars > MAX_SUBJECT_CHARS {
        return Err(bad(format!(
            "Field `subject` must be 1 to {MAX_SUBJECT_CHARS} characters."
        )));
    }
    if subject.chars().any(char::is_control) {
        return Err(bad(
            "Field `subject` must not contain control characters.".to_owned()
        ));
    }
    let start = parse_time("startDateTime", &body.start_date_time)?;
    let end = parse_time("endDateTime", &body.end_date_time)?;
    if end <= start {
        return Err(bad(
            "Field `endDateTime` must be after `startDateTime`.".to_owned()
        ));
    }
    if end - start > MAX_DURATION {
        return Err(bad(
            "Field `endDateTime` must be at most 24 hours after `startDateTime`.".to_owned(),
        ));
    }
    if body.participants.len() > MAX_PARTICIPANTS {
        return Err(bad(format!(
            "Field `participants` must have at most {MAX_PARTICIPANTS} entries."
        )));
    }
    let mut attendees = Vec::with_capacity(body.participants.len());
    for (index, participant) in body.participants.into_iter().enumerate() {
        let field = |name: &str| format!("participants[{index}].{name}");
        let user_id = super::parse_guid(&participant.user_id)
            .ok_or_else(|| bad(format!("Field `{}` must be a GUID.", field("userId"))))?;
        let tenant_id = match participant.tenant_id {
            Some(tenant) => Some(
                super::parse_guid(&tenant)
                    .ok_or_else(|| bad(format!("Field `{}` must be a GUID.", field("tenantId"))))?,
            ),
            None => None,
        };
        let upn = match participant.upn {
            Some(upn) if super::is_user_principal_name(&upn) => Some(upn),
            Some(_) => {
                return Err(bad(format!(
                    "Field `{}` must be a user principal name (name@domain).",
                    field("upn")
                )));
            }
            None => None,
        };
        attendees.push(ValidAttendee {
            user_id,
            tenant_id,
            upn,
            role: participant.role.unwrap_or(Role::Attendee),
        });
    }
    Ok(ValidMeeting {
        subject,
        start,
        end,
        attendees,
        lobby_bypass: body.lobby_bypass.unwrap_or_default(),
        send_invites: body.send_invites,
    })
}

fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        ApiError::BadRequest(format!(
            "Field `{field}` must be an RFC 3339 date-time, e.g. 2026-11-26T14:00:00Z."
        ))
    })
}

/// RFC 3339 in UTC with a `Z`, as the contract promises.
fn utc(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn online_meeting(meeting: &ValidMeeting) -> GraphOnlineMeeting<'_> {
    GraphOnlineMeeting {
        subject: &meeting.subject,
        start_date_time: utc(meeting.start),
        end_date_time: utc(meeting.end),
        participants: GraphParticipants {
            attendees: meeting
                .attendees
                .iter()
                .map(|a| GraphAttendee {
                    identity: GraphIdentity {
                        user: GraphIdentityUser {
                            id: a.user_id.to_string(),
                            tenant_id: a.tenant_id.map(|t| t.to_string()),
                        },
                    },
                    upn: a.upn.as_deref(),
                    role: a.role,
                })
                .collect(),
        },
        lobby_bypass_settings: GraphLobbyBypass {
            scope: meeting.lobby_bypass,
            is_dial_in_bypass_enabled: false,
        },
        allowed_presenters: meeting
            .attendees
            .iter()
            .any(|a| a.role == Role::Presenter)
            .then_some("roleIsPresenter"),
    }
}

fn calendar_event(meeting: &ValidMeeting) -> GraphEvent<'_> {
    // Exchange wants local time without offset plus a zone name; UTC keeps it exact.
    let local = |t: OffsetDateTime| {
        let mut text = utc(t);
        text.pop();
        text
    };
    GraphEvent {
        subject: &meeting.subject,
        start: GraphDateTime {
            date_time: local(meeting.start),
            time_zone: "UTC",
        },
        end: GraphDateTime {
            date_time: local(meeting.end),
            time_zone: "UTC",
        },
        is_online_meeting: true,
        online_meeting_provider: "teamsForBusiness",
        // Invitations go by mail, so only participants with a UPN can be invited this way.
        attendees: meeting
            .attendees
            .iter()
            .filter_map(|a| a.upn.as_deref())
            .map(|address| GraphEventAttendee {
                email_address: GraphEmail { address },
                attendee_type: "required",
            })
            .collect(),
    }
}

fn answer(outcome: Outcome, meeting: &ValidMeeting) -> warp::reply::Response {
    let body = MeetingCreated {
        id: outcome.id,
        join_web_url: outcome.join_web_url,
        chat_thread_id: outcome.chat_thread_id,
        subject: outcome.subject.unwrap_or_else(|| meeting.subject.clone()),
        start_date_time: normalise(outcome.start_date_time).unwrap_or_else(|| utc(meeting.start)),
        end_date_time: normalise(outcome.end_date_time).unwrap_or_else(|| utc(meeting.end)),
        warnings: outcome.warnings,
    };
    warp::reply::with_status(warp::reply::json(&body), StatusCode::CREATED).into_response()
}

/// Graph answers with seven fractional digits and sometimes an offset; the contract promises
/// RFC 3339 UTC.
fn normalise(time: Option<String>) -> Option<String> {
    time.and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
        .map(utc)
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
        let graph = serde_json::to_value(online_meeting(&meeting)).unwrap();
        assert_eq!(
            graph,
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
        let event = serde_json::to_value(calendar_event(&meeting)).unwrap();
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
