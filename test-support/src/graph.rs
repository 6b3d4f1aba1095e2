//! A fake Microsoft Graph (`/v1.0`): the subset the routes use, over a seeded two-tenant
//! directory, with state that hangs together (a meeting's chat thread accepts messages; a
//! one-on-one chat is reused).
//!
//! Every call must carry an on-behalf-of token issued by the fake token endpoint for Graph;
//! `me` is that token's user, and the directory visible is that user's tenant, as in Graph.
//! Every request is recorded (method, path, query, headers, JSON body, caller) so tests assert
//! on what the handler sent. Tests can script answers (throttling, errors, slowness) for paths.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use warp::Filter;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;

use crate::directory::{DirectoryUser, seeded_users};
use crate::http::{Running, lock, spawn};
use crate::token_endpoint::{Grant, Grants};

/// One request as Graph received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Below `/v1.0`, percent-decoded, e.g. `/users/ann@contoso.example`.
    pub path: String,
    pub query: HashMap<String, String>,
    /// Lower-case names; `authorization` is left out.
    pub headers: HashMap<String, String>,
    pub body: Value,
    /// Whose token it carried.
    pub caller: Option<Grant>,
}

/// An answer given instead of the normal one, to the next request matching it.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub method: Method,
    pub path_prefix: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub delay_ms: u64,
}

impl Scripted {
    pub fn status(method: Method, path_prefix: &str, status: u16, code: &str) -> Scripted {
        Scripted {
            method,
            path_prefix: path_prefix.to_owned(),
            status,
            headers: Vec::new(),
            body: json!({"error": {"code": code, "message": "Scripted by the test; secret-looking text: hunter2"}}),
            delay_ms: 0,
        }
    }

    /// 429 with `Retry-After: seconds`.
    pub fn throttled(method: Method, path_prefix: &str, seconds: u64) -> Scripted {
        let mut scripted = Scripted::status(method, path_prefix, 429, "TooManyRequests");
        scripted
            .headers
            .push(("retry-after".to_owned(), seconds.to_string()));
        scripted
    }

    /// The normal answer, but only after `delay_ms`.
    pub fn slow(method: Method, path_prefix: &str, delay_ms: u64) -> Scripted {
        Scripted {
            status: 0,
            delay_ms,
            ..Scripted::status(method, path_prefix, 0, "")
        }
    }
}

#[derive(Debug, Clone)]
struct Chat {
    chat_type: String,
    /// (object id, tenant id) of each member.
    members: Vec<(String, String)>,
    messages: Vec<Value>,
}

#[derive(Debug)]
struct State {
    grants: Grants,
    users: Vec<DirectoryUser>,
    meetings: Vec<Value>,
    /// Calendar events, each with when its join URL and when its online meeting become visible.
    events: Vec<(Value, Visibility)>,
    /// How long after `POST /me/events` the event's online meeting can be seen: Graph creates
    /// it asynchronously and promises no moment (onlinemeeting-get.md; the event may first come
    /// back without `onlineMeeting`).
    online_meeting_delay: std::time::Duration,
    /// How long the event itself comes back without `onlineMeeting` (its join URL).
    event_join_url_delay: std::time::Duration,
    chats: HashMap<String, Chat>,
    requests: Vec<RecordedRequest>,
    scripted: VecDeque<Scripted>,
}

/// Long enough that a client reading the meeting at once does not find it.
const DEFAULT_ONLINE_MEETING_DELAY: std::time::Duration = std::time::Duration::from_millis(150);
const DEFAULT_EVENT_JOIN_URL_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// When the parts of an event that Graph fills in later can be seen.
#[derive(Debug, Clone, Copy)]
struct Visibility {
    join_url_at: std::time::Instant,
    meeting_at: std::time::Instant,
}

/// Someone in `/me/people` who is not a user of the directory: an Outlook contact or a person
/// the user mailed. Their `id` is no directory object id.
const PERSONAL_CONTACTS: &[(&str, &str, &str)] = &[
    (
        "AAMkADc0MjRjNDc5LTA1ODktNDZmZS04ZDc3LWFhMmU2MmQ1Y2Q1ZgBGAAAAAADhApump",
        "Pat Pump Supplier",
        "pat@pumpsupplies.example",
    ),
    (
        "c4b1f7a0-0d6e-4b8e-9c53-2f14b0e9a7d1",
        "Lee Pump Hotline",
        "hotline@pumpvendor.example",
    ),
];

#[derive(Debug)]
pub struct FakeGraph {
    server: Running,
    state: Arc<Mutex<State>>,
}

impl FakeGraph {
    /// Accepts tokens from `grants` (the fake token endpoint) issued for Graph.
    pub async fn start(grants: Grants) -> std::io::Result<FakeGraph> {
        let state = Arc::new(Mutex::new(State {
            grants,
            users: seeded_users(),
            events: Vec::new(),
            online_meeting_delay: DEFAULT_ONLINE_MEETING_DELAY,
            event_join_url_delay: DEFAULT_EVENT_JOIN_URL_DELAY,
            meetings: Vec::new(),
            chats: HashMap::new(),
            requests: Vec::new(),
            scripted: VecDeque::new(),
        }));
        let server = spawn(routes(state.clone())).await?;
        Ok(FakeGraph { server, state })
    }

    /// What `GRAPH_ENDPOINT` should be.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn requests_to(&self, method: &str, prefix: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .collect()
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.lock().scripted.extend(answers);
    }

    pub fn add_user(&self, user: DirectoryUser) {
        self.lock().users.push(user);
    }

    /// The messages posted to a chat, as Graph stored them.
    pub fn messages(&self, chat_id: &str) -> Vec<Value> {
        self.lock()
            .chats
            .get(chat_id)
            .map(|c| c.messages.clone())
            .unwrap_or_default()
    }

    /// Members (object id, tenant id) of a chat.
    pub fn chat_members(&self, chat_id: &str) -> Vec<(String, String)> {
        self.lock()
            .chats
            .get(chat_id)
            .map(|c| c.members.clone())
            .unwrap_or_default()
    }

    /// How long after an event is created its online meeting becomes visible.
    pub fn set_online_meeting_delay(&self, delay: std::time::Duration) {
        self.lock().online_meeting_delay = delay;
    }

    /// How long after an event is created it still comes back without its join URL.
    pub fn set_event_join_url_delay(&self, delay: std::time::Duration) {
        self.lock().event_join_url_delay = delay;
    }

    pub fn meetings(&self) -> Vec<Value> {
        self.lock().meetings.clone()
    }

    /// A meeting that already exists, from now for `minutes`, with its meeting chat, as if
    /// `organizer` (object id, tenant id) had scheduled it in Teams with `attendees`: what a
    /// meeting side panel opens in. Returns the meeting as `POST /me/onlineMeetings` would have.
    pub fn seed_meeting(
        &self,
        organizer: (&str, &str),
        attendees: &[(&str, &str)],
        subject: &str,
        minutes: i64,
    ) -> Value {
        const RFC3339: &[time::format_description::BorrowedFormatItem<'static>] =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:00Z");
        let now = time::OffsetDateTime::now_utc();
        let start = now.format(RFC3339).unwrap_or_default();
        let end = (now + time::Duration::minutes(minutes))
            .format(RFC3339)
            .unwrap_or_default();
        let caller = Grant {
            tenant_id: organizer.1.to_owned(),
            object_id: organizer.0.to_owned(),
            scope: String::new(),
            client_id: String::new(),
            permissions: Vec::new(),
            expires_on: 0,
        };
        let body = json!({
            "subject": subject,
            "startDateTime": start,
            "endDateTime": end,
            "participants": {"attendees": attendees.iter().map(|(id, tenant)| json!({
                "identity": {"user": {"id": id, "tenantId": tenant}},
                "role": "attendee",
            })).collect::<Vec<_>>()},
        });
        let mut state = self.lock();
        create_meeting(&mut state, &caller, &body, None);
        let meeting = state.meetings.last().cloned().unwrap_or(Value::Null);
        // A meeting in progress: its people have joined, so Teams has put them on the meeting
        // chat's roster (a tab in the meeting's side panel is only ever opened by someone in it).
        if let Some(chat) = meeting["chatInfo"]["threadId"]
            .as_str()
            .and_then(|thread| state.chats.get_mut(thread))
        {
            for (id, tenant) in attendees {
                chat.members.push(((*id).to_owned(), (*tenant).to_owned()));
            }
        }
        meeting
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn routes(
    state: Arc<Mutex<State>>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let inspect_state = state.clone();
    let inspection = warp::get()
        .and(warp::path!("sandbox" / "state"))
        .map(move || inspect(&lock(&inspect_state)));
    let graph = warp::method()
        .and(warp::path::full())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::headers_cloned())
        .and(warp::body::bytes())
        .then(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: HashMap<String, String>,
                  headers: HeaderMap,
                  body: bytes::Bytes| {
                let state = state.clone();
                async move { handle(&state, method, path.as_str(), query, &headers, &body).await }
            },
        );
    inspection.or(graph).unify()
}

/// Everything the emulated Graph holds, for people developing against it (not a Graph API).
fn inspect(state: &State) -> Response {
    let chats: Map<String, Value> = state
        .chats
        .iter()
        .map(|(id, chat)| {
            (
                id.clone(),
                json!({
                    "chatType": chat.chat_type,
                    "members": chat.members.iter().map(|(id, tenant)| json!({"userId": id, "tenantId": tenant})).collect::<Vec<_>>(),
                    "messages": chat.messages,
                }),
            )
        })
        .collect();
    json_status(
        &json!({
            "meetings": state.meetings,
            "chats": chats,
            "requests": state.requests.len(),
        }),
        200,
    )
}

async fn handle(
    state: &Mutex<State>,
    method: Method,
    raw_path: &str,
    query: HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let path = percent_decode(raw_path.strip_prefix("/v1.0").unwrap_or(raw_path));
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let scripted = {
        let mut state = lock(state);
        let caller = state.grants.lookup(bearer);
        state.requests.push(RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            headers: headers
                .iter()
                .filter(|(name, _)| *name != "authorization")
                .map(|(name, value)| {
                    (
                        name.to_string(),
                        value.to_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            body: body.clone(),
            caller,
        });
        // Scripted answers stand in for what Graph does with an authenticated request: an
        // unauthenticated one is refused first, as Graph would.
        let authenticated = state
            .grants
            .lookup(bearer)
            .is_some_and(|g| g.scope.contains("https://graph.microsoft.com/"));
        let position = state
            .scripted
            .iter()
            .position(|s| s.method == method && path.starts_with(&s.path_prefix))
            .filter(|_| authenticated);
        position.and_then(|i| state.scripted.remove(i))
    };
    if let Some(scripted) = &scripted {
        if scripted.delay_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(scripted.delay_ms)).await;
        }
        if scripted.status != 0 {
            return scripted_answer(scripted);
        }
    }

    let mut state = lock(state);
    let Some(caller) = state
        .grants
        .lookup(bearer)
        .filter(|g| g.scope.contains("https://graph.microsoft.com/"))
    else {
        return error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    };
    // Graph reads a request body only as JSON it was told about.
    let json_declared = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if matches!(method.as_str(), "POST" | "PATCH") && !json_declared {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType");
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let Some((permission, code)) = required_permission(&method, &segments, &query)
        && !caller.has_permission(permission)
    {
        return error(StatusCode::FORBIDDEN, code);
    }
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["me", "onlineMeetings"]) => create_meeting(&mut state, &caller, &body, None),
        ("GET", ["me", "onlineMeetings"]) => find_meeting(&state, &caller, &query),
        ("PATCH", ["me", "onlineMeetings", id]) => patch_meeting(&mut state, &caller, id, &body),
        ("POST", ["me", "events"]) => create_event(&mut state, &caller, &body),
        ("GET", ["me", "events", id]) => get_event(&state, &caller, id, &query),
        ("POST", ["chats"]) => create_chat(&mut state, &caller, &body),
        ("POST", ["chats", chat_id, "messages"]) => {
            post_message(&mut state, &caller, chat_id, &body)
        }
        ("GET", ["me", "people"]) => people(&state, &caller, &query),
        ("GET", ["users"]) => search_users(&state, &caller, &query, headers),
        ("GET", ["me"]) => user(&state, &caller, &caller.object_id, &query),
        ("GET", ["users", id]) => user(&state, &caller, id, &query),
        ("GET", ["me", "photo", "$value"]) => photo(&state, &caller, &caller.object_id),
        ("GET", ["users", id, "photo", "$value"]) => photo(&state, &caller, id),
        _ => error(StatusCode::BAD_REQUEST, "BadRequest"),
    }
}

/// The delegated permission each call needs, and the error code its workload answers when the
/// token lacks it: Teams APIs say `Forbidden`, Outlook ones `ErrorAccessDenied`, the directory
/// `Authorization_RequestDenied` (permissions per the API reference page of each call).
fn required_permission(
    method: &Method,
    segments: &[&str],
    query: &HashMap<String, String>,
) -> Option<(&'static str, &'static str)> {
    const BASIC_PROFILE: &[&str] = &["id", "displayName", "mail", "userPrincipalName"];
    Some(match (method.as_str(), segments) {
        (_, ["me", "onlineMeetings", ..]) => ("OnlineMeetings.ReadWrite", "Forbidden"),
        (_, ["me", "events", ..]) => ("Calendars.ReadWrite", "ErrorAccessDenied"),
        ("POST", ["chats"]) => ("Chat.Create", "Forbidden"),
        ("POST", ["chats", _, "messages"]) => ("ChatMessage.Send", "Forbidden"),
        ("GET", ["me", "people"]) => ("People.Read", "ErrorAccessDenied"),
        // The signed-in user's full profile needs User.Read; the basic one does not.
        ("GET", ["me"])
            if query
                .get("$select")
                .is_none_or(|select| select.split(',').any(|f| !BASIC_PROFILE.contains(&f))) =>
        {
            ("User.Read", "Authorization_RequestDenied")
        }
        ("GET", ["me" | "users", ..]) => ("User.ReadBasic.All", "Authorization_RequestDenied"),
        _ => return None,
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn scripted_answer(scripted: &Scripted) -> Response {
    let mut response = json_status(&scripted.body, scripted.status);
    for (name, value) in &scripted.headers {
        if let (Ok(name), Ok(value)) = (
            warp::http::HeaderName::from_bytes(name.as_bytes()),
            warp::http::HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn json_status(body: &Value, status: u16) -> Response {
    use warp::Reply;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = warp::reply::with_status(warp::reply::json(body), status).into_response();
    response.headers_mut().insert(
        "request-id",
        warp::http::HeaderValue::from_static("fa4e0000-0000-4000-8000-00000000fa4e"),
    );
    response
}

fn error(status: StatusCode, code: &str) -> Response {
    json_status(
        &json!({"error": {"code": code, "message": "Fake Graph refused the request."}}),
        status.as_u16(),
    )
}

fn find_user<'a>(state: &'a State, tenant: &str, id_or_upn: &str) -> Option<&'a DirectoryUser> {
    state.users.iter().find(|u| {
        u.tenant_id == tenant
            && (u.id.eq_ignore_ascii_case(id_or_upn)
                || u.user_principal_name.eq_ignore_ascii_case(id_or_upn))
    })
}

/// Graph formats times with seven fractional digits and an offset.
fn graph_time(rfc3339: &str) -> String {
    rfc3339
        .strip_suffix('Z')
        .map(|t| format!("{t}.0000000+00:00"))
        .unwrap_or_else(|| rfc3339.to_owned())
}

fn create_meeting(
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

fn find_meeting(state: &State, caller: &Grant, query: &HashMap<String, String>) -> Response {
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

fn patch_meeting(state: &mut State, caller: &Grant, id: &str, body: &Value) -> Response {
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

fn create_event(state: &mut State, caller: &Grant, body: &Value) -> Response {
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

fn get_event(state: &State, caller: &Grant, id: &str, query: &HashMap<String, String>) -> Response {
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

/// `$select`: only the named properties; `None` (answered 400) for a property the resource
/// does not have, as Graph refuses unknown `$select` fields rather than dropping them.
fn selected(full: &Value, query: &HashMap<String, String>) -> Option<Value> {
    let Some(fields) = query.get("$select") else {
        return Some(full.clone());
    };
    let mut selected = Map::new();
    if let Some(id) = full.get("id") {
        selected.insert("id".to_owned(), id.clone());
    }
    for field in fields.split(',') {
        match full.get(field) {
            Some(value) => {
                selected.insert(field.to_owned(), value.clone());
            }
            None => return None,
        }
    }
    Some(Value::Object(selected))
}

fn select(full: &Value, query: &HashMap<String, String>) -> Result<Value, Box<Response>> {
    selected(full, query).ok_or_else(|| Box::new(error(StatusCode::BAD_REQUEST, "BadRequest")))
}

fn create_chat(state: &mut State, caller: &Grant, body: &Value) -> Response {
    let chat_type = body["chatType"].as_str().unwrap_or_default().to_owned();
    let mut members = Vec::new();
    for member in body["members"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let bind = member["user@odata.bind"].as_str().unwrap_or_default();
        let Some(id) = bind
            .strip_prefix("https://graph.microsoft.com/v1.0/users('")
            .and_then(|rest| rest.strip_suffix("')"))
        else {
            return error(StatusCode::BAD_REQUEST, "InvalidRequest");
        };
        if member["@odata.type"] != "#microsoft.graph.aadUserConversationMember" {
            return error(StatusCode::BAD_REQUEST, "InvalidRequest");
        }
        let tenant = member["tenantId"].as_str().unwrap_or(&caller.tenant_id);
        // chat-post.md: a guest of the caller's own tenant must be added with the `guest`
        // role; everyone else (members, and federated users of other tenants) as `owner`.
        let guest = tenant == caller.tenant_id
            && find_user(state, tenant, id).is_some_and(|u| u.user_type == "Guest");
        let expected_roles = if guest {
            json!(["guest"])
        } else {
            json!(["owner"])
        };
        if member["roles"] != expected_roles {
            return error(StatusCode::BAD_REQUEST, "BadRequest");
        }
        members.push((id.to_owned(), tenant.to_owned()));
    }
    let caller_listed = members
        .iter()
        .any(|(id, tenant)| *id == caller.object_id && *tenant == caller.tenant_id);
    // chat-post.md documents a guest only in a group chat (Example 6); a one-on-one chat with
    // a guest is not documented, and is reported to create a chat the guest never sees, so
    // the emulation refuses it rather than let it pass. A group chat's size has no documented
    // minimum beyond its two participants.
    let with_guest = body["members"]
        .as_array()
        .is_some_and(|members| members.iter().any(|m| m["roles"] == json!(["guest"])));
    let size_ok = match chat_type.as_str() {
        "oneOnOne" => members.len() == 2 && !with_guest,
        "group" => members.len() >= 2,
        _ => false,
    };
    if !caller_listed || !size_ok {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest");
    }
    let id = if chat_type == "oneOnOne" {
        let mut ids: Vec<&str> = members.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort_unstable();
        format!("19:{}_{}@unq.gbl.spaces", ids[0], ids[1])
    } else {
        format!("19:{}@thread.v2", uuid::Uuid::new_v4().simple())
    };
    state.chats.entry(id.clone()).or_insert(Chat {
        chat_type: chat_type.clone(),
        members,
        messages: Vec::new(),
    });
    json_status(
        &json!({"id": id, "chatType": chat_type, "topic": body["topic"]}),
        201,
    )
}

fn post_message(state: &mut State, caller: &Grant, chat_id: &str, body: &Value) -> Response {
    let Some(chat) = state.chats.get_mut(chat_id) else {
        return error(StatusCode::NOT_FOUND, "NotFound");
    };
    let member = chat
        .members
        .iter()
        .any(|(id, tenant)| *id == caller.object_id && *tenant == caller.tenant_id);
    if !member {
        // Teams refuses a sender who is not on the chat's roster with 403 `Forbidden`, its
        // message naming the failed ACL check.
        return json_status(
            &json!({"error": {"code": "Forbidden", "message": "Failure due to: AclCheckFailed."}}),
            403,
        );
    }
    let message = json!({
        "id": format!("{}", 1_764_000_000_000u64 + chat.messages.len() as u64),
        "chatId": chat_id,
        "from": {"user": {"id": caller.object_id, "tenantId": caller.tenant_id}},
        "body": body["body"],
        "chatType": chat.chat_type,
    });
    chat.messages.push(message.clone());
    json_status(&message, 201)
}

/// A user as `/me/people` (the People API keeps job and department) or `/users` shows them.
/// `/users` with User.ReadBasic.All reads only the basic profile (permissions-reference.md:
/// displayName, givenName, mail, photo, surname, userPrincipalName and the id): other
/// properties come back as null, which is what a delegated token of this app gets.
fn contact_json(user: &DirectoryUser, people: bool) -> Value {
    let mut value = json!({
        "id": user.id,
        "displayName": user.display_name,
        "userPrincipalName": user.user_principal_name,
        "jobTitle": user.job_title,
        "department": user.department,
    });
    if people {
        value["scoredEmailAddresses"] = json!([{"address": user.mail, "relevanceScore": 8.0}]);
    } else {
        value["mail"] = json!(user.mail);
        value["jobTitle"] = Value::Null;
        value["department"] = Value::Null;
    }
    value
}

/// search-query-parameter.md, `$search` on directory objects: `displayName` is tokenized
/// (words, split at spaces, punctuation and case changes) and each word of the term must start
/// a word of the name; `mail` and other string properties match from their start. So "pump"
/// finds "Jordan Pump" and "jordan@…", while "ump" finds nothing.
fn matches(user: &DirectoryUser, term: &str) -> bool {
    let name_words = words(user.display_name);
    let term_words = words(term);
    let name_matches = !term_words.is_empty()
        && term_words
            .iter()
            .all(|t| name_words.iter().any(|w| w.starts_with(t.as_str())));
    let mail_matches =
        !term.is_empty() && user.mail.to_lowercase().starts_with(&term.to_lowercase());
    name_matches || mail_matches
}

/// Lower-cased words of `text`, split at anything not alphanumeric and where a lower-case
/// letter is followed by an upper-case one (`McCall` → `mc`, `call`).
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether the signed-in user is a B2B guest of the tenant they called in: guests have no
/// Exchange mailbox there, and default guest permissions do not let them list users.
fn caller_is_guest(state: &State, caller: &Grant) -> bool {
    find_user(state, &caller.tenant_id, &caller.object_id).is_some_and(|u| u.user_type == "Guest")
}

fn top(query: &HashMap<String, String>) -> usize {
    query.get("$top").and_then(|t| t.parse().ok()).unwrap_or(10)
}

fn people(state: &State, caller: &Grant, query: &HashMap<String, String>) -> Response {
    // The People API reads the user's Exchange Online mailbox; a user without one (a guest of
    // this tenant, a mailbox on premises) gets 404 MailboxNotEnabledForRESTAPI ("REST API is
    // not yet supported for this mailbox", Exchange KB 4462988).
    if caller_is_guest(state, caller) {
        return json_status(
            &json!({"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "REST API is not yet supported for this mailbox."}}),
            404,
        );
    }
    let search = query.get("$search").map(String::as_str).unwrap_or_default();
    let Some(term) = search.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return error(StatusCode::BAD_REQUEST, "BadRequest");
    };
    let organization = state
        .users
        .iter()
        .filter(|u| u.tenant_id == caller.tenant_id && u.id != caller.object_id && matches(u, term))
        .map(|u| {
            let mut person = contact_json(u, true);
            person["personType"] = json!({"class": "Person", "subclass": "OrganizationUser"});
            person
        });
    // people-example.md: relevant people also include the user's contacts and people they
    // mailed, whose ids are not directory object ids.
    let contacts = PERSONAL_CONTACTS
        .iter()
        .filter(|(_, name, mail)| {
            let term_words = words(term);
            let name_words = words(name);
            (!term_words.is_empty()
                && term_words
                    .iter()
                    .all(|t| name_words.iter().any(|w| w.starts_with(t.as_str()))))
                || mail.starts_with(&term.to_lowercase())
        })
        .enumerate()
        .map(|(i, (id, name, mail))| {
            json!({
                "id": id,
                "displayName": name,
                "scoredEmailAddresses": [{"address": mail, "relevanceScore": 5.0}],
                "userPrincipalName": null,
                "jobTitle": null,
                "department": null,
                "personType": {
                    "class": "Person",
                    "subclass": if i == 0 { "PersonalContact" } else { "ImplicitContact" },
                },
            })
        });
    let mut found = Vec::new();
    for person in contacts.chain(organization).take(top(query)) {
        match select(&person, query) {
            Ok(selected) => found.push(selected),
            Err(response) => return *response,
        }
    }
    json_status(&json!({"value": found}), 200)
}

fn search_users(
    state: &State,
    caller: &Grant,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let search = query.get("$search").map(String::as_str).unwrap_or_default();
    let eventual = headers
        .get("consistencylevel")
        .is_some_and(|v| v.as_bytes() == b"eventual");
    if !eventual {
        return error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    }
    // user-list.md: with the default guest permissions, a guest cannot list the directory's
    // users, whatever the app was granted.
    if caller_is_guest(state, caller) {
        return error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    }
    // `"displayName:term" OR "mail:term"`: every quoted clause names a property and a term.
    let terms: Vec<&str> = search
        .split('"')
        .filter_map(|clause| clause.split_once(':').map(|(_, term)| term))
        .collect();
    if terms.is_empty() {
        return error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    }
    let found: Vec<Value> = state
        .users
        .iter()
        .filter(|u| u.tenant_id == caller.tenant_id && terms.iter().any(|t| matches(u, t)))
        .take(top(query))
        .map(|u| contact_json(u, false))
        .collect();
    json_status(&json!({"value": found, "@odata.count": found.len()}), 200)
}

fn user(state: &State, caller: &Grant, id: &str, query: &HashMap<String, String>) -> Response {
    let Some(user) = find_user(state, &caller.tenant_id, id) else {
        return error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    };
    let mut full = json!({
        "id": user.id,
        "displayName": user.display_name,
        "mail": user.mail,
        "userPrincipalName": user.user_principal_name,
        "jobTitle": user.job_title,
        "department": user.department,
        "officeLocation": user.office_location,
        "userType": user.user_type,
        "mobilePhone": "+1 555 0100",
    });
    // User.Read gives the signed-in user's full profile; another user's is read with
    // User.ReadBasic.All, which returns only the basic profile and null for the rest.
    if !user.id.eq_ignore_ascii_case(&caller.object_id) {
        for field in [
            "jobTitle",
            "department",
            "officeLocation",
            "userType",
            "mobilePhone",
        ] {
            full[field] = Value::Null;
        }
    }
    match select(&full, query) {
        Ok(selected) => json_status(&selected, 200),
        Err(response) => *response,
    }
}

fn photo(state: &State, caller: &Grant, id: &str) -> Response {
    use warp::Reply;
    let Some(user) = find_user(state, &caller.tenant_id, id) else {
        return error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    };
    let Some((content_type, bytes)) = user.photo else {
        return error(StatusCode::NOT_FOUND, "ImageNotFound");
    };
    warp::reply::with_header(bytes.to_vec(), "content-type", content_type).into_response()
}
