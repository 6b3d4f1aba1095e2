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

mod answer;
pub(crate) mod body;
mod invitations;

use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::context::{RequestContext, UPSTREAM_PROBLEMS, within_deadline};
use super::filters::{CALLER_PROBLEMS, protected};
use super::json_body::{BODY_PROBLEMS, json_body};
use super::spec::function_spec;
use crate::error::ApiError;
use crate::graph;
use crate::state::AppState;
use answer::{MeetingCreated, answer};
pub use body::graph_meeting_body;
use body::{CreateMeeting, validate};
use invitations::create_with_invitations;

function_spec! {
    name: "CreateMeeting",
    route: "meetings",
    methods: &[Method::POST],
    allow: "POST",
    problems: &[CALLER_PROBLEMS, BODY_PROBLEMS, UPSTREAM_PROBLEMS],
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
        let own_tenant = context.caller.identity.tenant_id.into();
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
