//! Online meetings and calendar events: `POST`/`GET /me/onlineMeetings`,
//! `PATCH /me/onlineMeetings/{id}`, `POST /me/events` and `GET /me/events/{id}`. A meeting gets
//! its meeting chat; an event's join URL and online meeting appear only after a delay, as Graph
//! creates them asynchronously.

use std::collections::HashMap;

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;

use super::{Chat, State, Visibility, error, json_status, select};
use crate::token_endpoint::Grant;

/// Graph formats times with seven fractional digits and an offset.
fn graph_time(rfc3339: &str) -> String {
    rfc3339
        .strip_suffix('Z')
        .map(|t| format!("{t}.0000000+00:00"))
        .unwrap_or_else(|| rfc3339.to_owned())
}

pub(super) fn create_meeting(
    state: &mut State,
    caller: &Grant,
    body: &Value,
    subject: Option<&str>,
) -> Response {
    if let Err(field) = check_meeting_body(body) {
        return json_status(
            &json!({"error": {"code": "BadRequest", "message": format!("Invalid value for {field}.")}}),
            400,
        );
    }
    let key = uuid::Uuid::new_v4().simple().to_string();
    let thread_id = format!("19:meeting_{key}@thread.v2");
    let meeting = json!({
        "id": format!("MSo{key}"),
        "joinWebUrl": format!("https://teams.microsoft.com/l/meetup-join/19%3ameeting_{key}%40thread.v2/0"),
        "chatInfo": {"threadId": thread_id, "messageId": "0"},
        "subject": subject.map(Value::from).unwrap_or_else(|| body["subject"].clone()),
        "startDateTime": graph_time(body["startDateTime"].as_str().unwrap_or_default()),
        "endDateTime": graph_time(body["endDateTime"].as_str().unwrap_or_default()),
        "participants": {
            "organizer": {"identity": {"user": {"id": caller.object_id, "tenantId": caller.tenant_id}}},
            "attendees": body["participants"]["attendees"].clone(),
        },
        "lobbyBypassSettings": body["lobbyBypassSettings"].clone(),
        "allowedPresenters": body.get("allowedPresenters").cloned().unwrap_or_else(|| json!("everyone")),
        "organizerTenantId": caller.tenant_id,
        "organizerId": caller.object_id,
    });
    let mut meeting = meeting;
    if meeting["allowedPresenters"] != "roleIsPresenter" {
        // meetingparticipantinfo.md: `presenter` applies only with allowedPresenters set to
        // roleIsPresenter; otherwise Graph keeps everyone an attendee.
        if let Some(attendees) = meeting["participants"]["attendees"].as_array_mut() {
            for attendee in attendees {
                if attendee["role"] == "presenter" {
                    attendee["role"] = json!("attendee");
                }
            }
        }
    }
    // onlinemeeting-post.md says nothing of who is on the meeting chat's roster of a standalone
    // meeting before anyone joins; Teams adds people as they join. Until then the emulation
    // keeps the organizer alone on it, so a caller who is only invited is refused there.
    let members = vec![(caller.object_id.clone(), caller.tenant_id.clone())];
    state.chats.insert(
        thread_id,
        Chat {
            chat_type: "meeting".to_owned(),
            members,
            messages: Vec::new(),
        },
    );
    state.meetings.push(meeting.clone());
    json_status(&meeting, 201)
}

/// What Graph validates of an `onlineMeeting` body (onlinemeeting-post.md, the resource's
/// property types and enums); the first offending property is named.
fn check_meeting_body(body: &Value) -> Result<(), &'static str> {
    const KNOWN: &[&str] = &[
        "subject",
        "startDateTime",
        "endDateTime",
        "participants",
        "lobbyBypassSettings",
        "allowedPresenters",
    ];
    let fields = body.as_object().ok_or("the body")?;
    if fields.keys().any(|k| !KNOWN.contains(&k.as_str())) {
        return Err("an unknown property");
    }
    let time_ok = |name: &str| {
        body[name].as_str().is_some_and(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok()
        })
    };
    if !time_ok("startDateTime") {
        return Err("startDateTime");
    }
    if !time_ok("endDateTime") {
        return Err("endDateTime");
    }
    if fields.contains_key("subject") && !body["subject"].is_string() {
        return Err("subject");
    }
    const SCOPES: &[&str] = &[
        "organization",
        "organizationAndFederated",
        "everyone",
        "invited",
        "organizer",
    ];
    if let Some(lobby) = fields.get("lobbyBypassSettings")
        && !lobby["scope"]
            .as_str()
            .is_some_and(|scope| SCOPES.contains(&scope))
    {
        return Err("lobbyBypassSettings.scope");
    }
    const PRESENTERS: &[&str] = &["everyone", "organization", "roleIsPresenter", "organizer"];
    if let Some(allowed) = fields.get("allowedPresenters")
        && !allowed.as_str().is_some_and(|a| PRESENTERS.contains(&a))
    {
        return Err("allowedPresenters");
    }
    for attendee in body["participants"]["attendees"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if !attendee["identity"]["user"]["id"].is_string() {
            return Err("participants.attendees.identity.user.id");
        }
        if !attendee["role"]
            .as_str()
            .is_some_and(|r| ["attendee", "presenter", "producer", "coorganizer"].contains(&r))
        {
            return Err("participants.attendees.role");
        }
    }
    Ok(())
}

fn owned_by(meeting: &Value, caller: &Grant) -> bool {
    meeting["organizerId"] == caller.object_id.as_str()
        && meeting["organizerTenantId"] == caller.tenant_id.as_str()
}

pub(super) fn find_meeting(
    state: &State,
    caller: &Grant,
    query: &HashMap<String, String>,
) -> Response {
    let filter = query.get("$filter").map(String::as_str).unwrap_or_default();
    let Some(url) = filter
        .strip_prefix("JoinWebUrl eq '")
        .and_then(|rest| rest.strip_suffix('\''))
    else {
        return error(StatusCode::BAD_REQUEST, "InvalidFilter");
    };
    let url = url.replace("''", "'");
    let found: Vec<Value> = state
        .meetings
        .iter()
        .filter(|m| owned_by(m, caller) && m["joinWebUrl"] == url.as_str())
        .filter(|m| {
            // The meeting of an event is not found until Graph has created it.
            state.events.iter().all(|(event, visible)| {
                event["onlineMeeting"]["joinUrl"] != m["joinWebUrl"]
                    || std::time::Instant::now() >= visible.meeting_at
            })
        })
        .cloned()
        .collect();
    json_status(&json!({"value": found}), 200)
}

pub(super) fn patch_meeting(state: &mut State, caller: &Grant, id: &str, body: &Value) -> Response {
    const UPDATABLE: &[&str] = &["lobbyBypassSettings", "allowedPresenters", "participants"];
    if body.as_object().is_none_or(|changes| {
        changes.is_empty() || changes.keys().any(|k| !UPDATABLE.contains(&k.as_str()))
    }) {
        return error(StatusCode::BAD_REQUEST, "BadRequest");
    }
    // onlinemeeting-update.md: presenters by role need the attendees and their roles in the
    // same request; without them Graph has no one to make presenter.
    if body["allowedPresenters"] == "roleIsPresenter"
        && !body["participants"]["attendees"].is_array()
    {
        return error(StatusCode::BAD_REQUEST, "BadRequest");
    }
    let Some(meeting) = state
        .meetings
        .iter_mut()
        .find(|m| m["id"] == id && owned_by(m, caller))
    else {
        return error(StatusCode::NOT_FOUND, "NotFound");
    };
    if let (Some(target), Some(changes)) = (meeting.as_object_mut(), body.as_object()) {
        for (key, value) in changes {
            if key == "participants" {
                // Only the attendees change; the organizer stays who created the meeting.
                target["participants"]["attendees"] = value["attendees"].clone();
            } else {
                target.insert(key.clone(), value.clone());
            }
        }
    }
    json_status(meeting, 200)
}

pub(super) fn create_event(state: &mut State, caller: &Grant, body: &Value) -> Response {
    if body["isOnlineMeeting"] != true || body["onlineMeetingProvider"] != "teamsForBusiness" {
        return error(StatusCode::BAD_REQUEST, "ErrorInvalidRequest");
    }
    let times = json!({
        "startDateTime": format!("{}Z", body["start"]["dateTime"].as_str().unwrap_or_default()),
        "endDateTime": format!("{}Z", body["end"]["dateTime"].as_str().unwrap_or_default()),
        "participants": {"attendees": []},
        "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": false},
    });
    let subject = body["subject"].as_str().unwrap_or_default().to_owned();
    let created = create_meeting(state, caller, &times, Some(&subject));
    let Some(meeting) = state.meetings.last() else {
        return created;
    };
    let event = json!({
        "id": format!("AAMk{}", uuid::Uuid::new_v4().simple()),
        "subject": subject,
        "isOnlineMeeting": true,
        "onlineMeetingProvider": "teamsForBusiness",
        "onlineMeeting": {"joinUrl": meeting["joinWebUrl"]},
        "attendees": body["attendees"],
        "organizerId": caller.object_id,
        "organizerTenantId": caller.tenant_id,
    });
    let now = std::time::Instant::now();
    let visible = Visibility {
        join_url_at: now + state.event_join_url_delay,
        meeting_at: now + state.online_meeting_delay,
    };
    state.events.push((event.clone(), visible));
    json_status(&event_view(&event, visible), 201)
}

/// An event as Graph shows it: without its online meeting's join URL until Graph filled it in.
fn event_view(event: &Value, visible: Visibility) -> Value {
    let mut view = event.clone();
    if let Some(fields) = view.as_object_mut() {
        fields.remove("organizerId");
        fields.remove("organizerTenantId");
        if std::time::Instant::now() < visible.join_url_at {
            fields.insert("onlineMeeting".to_owned(), Value::Null);
        }
    }
    view
}

pub(super) fn get_event(
    state: &State,
    caller: &Grant,
    id: &str,
    query: &HashMap<String, String>,
) -> Response {
    let Some((event, visible)) = state.events.iter().find(|(e, _)| {
        e["id"] == id
            && e["organizerId"] == caller.object_id.as_str()
            && e["organizerTenantId"] == caller.tenant_id.as_str()
    }) else {
        return error(StatusCode::NOT_FOUND, "ErrorItemNotFound");
    };
    match select(&event_view(event, *visible), query) {
        Ok(selected) => json_status(&selected, 200),
        Err(response) => *response,
    }
}
