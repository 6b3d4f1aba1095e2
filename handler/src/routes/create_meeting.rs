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
use utoipa::ToSchema;
use uuid::Uuid;
use warp::http::{Method, StatusCode};
use warp::{Filter, Rejection, Reply};

use super::caller_graph::CallerGraph;
use super::context::{RequestContext, UPSTREAM_PROBLEMS, within_deadline};
use super::filters::{CALLER_PROBLEMS, protected};
use super::json_body::{BODY_PROBLEMS, json_body};
use super::spec::{FunctionSpec, boxed};
use crate::domain::{
    Guid, LobbyBypass, MeetingRole, MeetingWindow, UserPrincipalName, parse_guid, utc,
};
use crate::error::ApiError;
use crate::graph;
use crate::graph::meetings::{
    Attendee, Event, MeetingSettings, NewEvent, NewOnlineMeeting, OnlineMeeting,
};
use crate::state::AppState;

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "CreateMeeting",
    route: "meetings",
    methods: &[Method::POST],
    allow: "POST",
    problems: &[CALLER_PROBLEMS, BODY_PROBLEMS, UPSTREAM_PROBLEMS],
    filter: |state, _| boxed(route(state.clone())),
    describe: <Described as utoipa::OpenApi>::openapi,
};

/// The operation of `route`, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(route))]
struct Described;

pub(crate) const MAX_PARTICIPANTS: usize = 50;
pub(crate) const MAX_SUBJECT_CHARS: usize = 255;
/// First wait before looking for an event's online meeting again; doubled each time, capped.
const MEETING_POLL_FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(100);
const MEETING_POLL_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// What the invitation path keeps back for its own answer: polling stops this long before the
/// request deadline, so the 201 is sent in time.
const ANSWER_RESERVE: std::time::Duration = std::time::Duration::from_secs(2);

/// The request body. Unknown fields are refused, so a typo cannot go unnoticed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateMeeting {
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
struct ValidMeeting {
    subject: String,
    window: MeetingWindow,
    attendees: Vec<ValidAttendee>,
    lobby_bypass: LobbyBypass,
    send_invites: bool,
}

#[derive(Debug)]
struct ValidAttendee {
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    upn: Option<UserPrincipalName>,
    role: MeetingRole,
}

impl ValidMeeting {
    fn online_meeting(&self) -> NewOnlineMeeting<'_> {
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
        NewOnlineMeeting::new(&self.subject, self.window, attendees, self.lobby_bypass)
    }

    /// Invitations go by mail, to the addresses `invitation_addresses` found.
    fn event<'a>(&'a self, addresses: &'a [String]) -> NewEvent<'a> {
        NewEvent::new(
            &self.subject,
            self.window,
            addresses.iter().map(String::as_str),
        )
    }
}

/// The meeting created. With `sendInvites` and the warning `lobby_not_applied`, `id` is the
/// calendar event's id and `chatThreadId` is `null` (`joinWebUrl` too, in the rare case Graph
/// had not filled in the event's join URL yet).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MeetingCreated {
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
enum MeetingWarning {
    /// The invitations were sent, but the lobby setting could not be applied to the
    /// invitation's meeting.
    LobbyNotApplied,
    /// Some participants got no invitation: no mail address was found for them (a user
    /// without one, or someone of another organization given without a `upn`, or with one
    /// that is no mail address).
    InvitationsIncomplete,
}

/// What the route learned of the meeting it created.
struct Outcome {
    id: String,
    join_web_url: Option<String>,
    chat_thread_id: Option<String>,
    subject: Option<String>,
    start_date_time: Option<String>,
    end_date_time: Option<String>,
    warnings: Vec<MeetingWarning>,
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

/// POST /api/meetings, bearer token, JSON `CreateMeeting` → 201 the meeting.
#[utoipa::path(
    post,
    path = "/api/meetings",
    operation_id = "CreateMeeting",
    tag = "meetings",
    summary = "Create the Teams meeting of a session",
    description = "Creates a Teams meeting organized by the caller (Graph `POST /me/onlineMeetings`; \
        with `sendInvites`, a calendar event that is an online meeting). Participants from another \
        organization are given with their `tenantId`.",
    request_body(content = CreateMeeting, content_type = "application/json"),
    responses(
        (status = 201, description = "The meeting was created.", body = MeetingCreated),
    ),
    security(("entraId" = ["access_as_user"])),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(SPEC, &state)
        .and(json_body::<CreateMeeting>(
            state.config.tuning.body_read_timeout,
        ))
        .then(create)
}

async fn create(
    context: RequestContext,
    body: CreateMeeting,
) -> Result<warp::reply::Response, ApiError> {
    let meeting = validate(body)?;
    let deadline = context.deadline;
    if meeting.send_invites {
        // Not all under `within_deadline`: once the event exists, the answer must be a 201, and
        // the invitation path keeps to the deadline itself.
        let caller_graph =
            within_deadline(deadline, graph::SERVICE, context.caller_graph()).await?;
        let own_tenant = context.caller.identity.tenant_id;
        let outcome =
            create_with_invitations(&caller_graph, &meeting, own_tenant, deadline).await?;
        return Ok(answer(outcome, &meeting));
    }
    within_deadline(deadline, graph::SERVICE, async {
        let caller_graph = context.caller_graph().await?;
        let created = caller_graph
            .create_online_meeting(&meeting.online_meeting())
            .await?;
        Ok(answer(created.into(), &meeting))
    })
    .await
}

/// The participants' addresses, the event (which sends the invitations), then its online
/// meeting's lobby and presenters. Only what happens before the event exists can fail the
/// request.
async fn create_with_invitations(
    caller_graph: &CallerGraph<'_>,
    meeting: &ValidMeeting,
    own_tenant: Uuid,
    deadline: tokio::time::Instant,
) -> Result<Outcome, ApiError> {
    let (addresses, incomplete) = within_deadline(
        deadline,
        graph::SERVICE,
        invitation_addresses(caller_graph, meeting, own_tenant),
    )
    .await?;
    let event = within_deadline(
        deadline,
        graph::SERVICE,
        caller_graph.create_event(&meeting.event(&addresses)),
    )
    .await?;
    let incomplete = incomplete.then_some(MeetingWarning::InvitationsIncomplete);
    // From here on the invitations are out.
    let poll_until = deadline
        .checked_sub(ANSWER_RESERVE)
        .unwrap_or(deadline)
        .max(tokio::time::Instant::now());
    let settings = meeting.online_meeting().settings();
    let applied = tokio::time::timeout_at(
        poll_until,
        apply_settings(caller_graph, &settings, &event, poll_until),
    )
    .await;
    let fallback = |join_web_url: Option<String>| Outcome {
        id: event.id.clone(),
        join_web_url,
        chat_thread_id: None,
        subject: None,
        start_date_time: None,
        end_date_time: None,
        warnings: [Some(MeetingWarning::LobbyNotApplied), incomplete]
            .into_iter()
            .flatten()
            .collect(),
    };
    match applied {
        Ok(Ok(online)) => {
            let mut outcome: Outcome = online.into();
            outcome.warnings.extend(incomplete);
            Ok(outcome)
        }
        Ok(Err(Unapplied { join_url, reason })) => {
            tracing::warn!(reason = %reason, "invitations sent, lobby setting not applied");
            Ok(fallback(join_url))
        }
        Err(_) => {
            tracing::warn!("invitations sent, online meeting not found before the deadline");
            Ok(fallback(event.join_url().map(str::to_owned)))
        }
    }
}

/// The mail address of each participant who can be invited, and whether anyone was left out.
/// People of the caller's directory are looked up (their `mail`; a user principal name is no
/// mail address, and a guest's `…#EXT#@…` never is). Someone of another organization cannot be
/// looked up there, so their `upn` is used when it can be a mail address.
async fn invitation_addresses(
    caller_graph: &CallerGraph<'_>,
    meeting: &ValidMeeting,
    own_tenant: Uuid,
) -> Result<(Vec<String>, bool), ApiError> {
    let lookups = meeting.attendees.iter().map(|attendee| async move {
        let federated = attendee.tenant_id.is_some_and(|t| t != own_tenant);
        if federated {
            return Ok(attendee
                .upn
                .as_ref()
                .map(UserPrincipalName::as_str)
                .filter(|upn| !crate::domain::is_guest_user_principal_name(upn))
                .map(str::to_owned));
        }
        caller_graph.mail_of(attendee.user_id).await
    });
    let found = futures_util::future::try_join_all(lookups).await?;
    let incomplete = found.iter().any(Option::is_none);
    let mut addresses: Vec<String> = Vec::with_capacity(found.len());
    for address in found.into_iter().flatten() {
        if !addresses.iter().any(|a| a.eq_ignore_ascii_case(&address)) {
            addresses.push(address);
        }
    }
    Ok((addresses, incomplete))
}

/// Why the lobby setting was not applied, with the join URL if it was learned.
struct Unapplied {
    join_url: Option<String>,
    reason: String,
}

/// Finds the event's join URL and online meeting, polling both until `until`, then patches the
/// lobby bypass and presenters. Graph errors other than "not there yet" end the attempt.
async fn apply_settings(
    caller_graph: &CallerGraph<'_>,
    settings: &MeetingSettings<'_>,
    event: &Event,
    until: tokio::time::Instant,
) -> Result<OnlineMeeting, Unapplied> {
    let mut wait = MEETING_POLL_FIRST_WAIT;
    let mut join_url = event.join_url().map(str::to_owned);
    let online = loop {
        if join_url.is_none() {
            join_url = caller_graph
                .event_join_url(&event.id)
                .await
                .map_err(|error| Unapplied {
                    join_url: None,
                    reason: format!("reading the event: {error}"),
                })?;
        }
        if let Some(url) = &join_url {
            match caller_graph.find_online_meeting(url).await {
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
    match caller_graph.update_settings(&online.id, settings).await {
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
    serde_json::to_vec(&meeting.online_meeting()).map_err(|e| ApiError::Internal(Box::new(e)))
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
    let window = MeetingWindow::parse(&body.start_date_time, &body.end_date_time).map_err(bad)?;
    if body.participants.len() > MAX_PARTICIPANTS {
        return Err(bad(format!(
            "Field `participants` must have at most {MAX_PARTICIPANTS} entries."
        )));
    }
    let mut attendees = Vec::with_capacity(body.participants.len());
    for (index, participant) in body.participants.into_iter().enumerate() {
        let field = |name: &str| format!("participants[{index}].{name}");
        let user_id = parse_guid(&participant.user_id)
            .ok_or_else(|| bad(format!("Field `{}` must be a GUID.", field("userId"))))?;
        let tenant_id = match participant.tenant_id {
            Some(tenant) => Some(
                parse_guid(&tenant)
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

fn answer(outcome: Outcome, meeting: &ValidMeeting) -> warp::reply::Response {
    let body = MeetingCreated {
        id: outcome.id,
        join_web_url: outcome.join_web_url,
        chat_thread_id: outcome.chat_thread_id,
        subject: outcome.subject.unwrap_or_else(|| meeting.subject.clone()),
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
