//! A fake Microsoft Graph (`/v1.0`): the subset the routes use, over a seeded two-tenant
//! directory, with state that hangs together (a meeting's chat thread accepts messages; a
//! one-on-one chat is reused).
//!
//! Every call must carry an on-behalf-of token issued by the fake token endpoint for Graph;
//! `me` is that token's user, and the directory visible is that user's tenant, as in Graph.
//! Every request is recorded (method, path, query, headers, JSON body, caller) so tests assert
//! on what the handler sent. Tests can script answers (throttling, errors, slowness) for paths.
//!
//! This file holds the server, its state, the dispatch of each call with the permission it
//! needs, and the shape of Graph's answers. The calls themselves are split by what they touch:
//! `meetings` (online meetings and calendar events), `chats` (chats and their messages),
//! `people` (searching the People API and the directory) and `users` (a profile, a photo).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use warp::Filter;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;

use crate::directory::{DirectoryUser, seeded_users};
use crate::http::{Running, lock, spawn};
use crate::token_endpoint::{Grant, Grants};

mod chats;
mod meetings;
mod people;
mod users;

use chats::{create_chat, post_message};
use meetings::{create_event, create_meeting, find_meeting, get_event, patch_meeting};
use people::{people, search_users};
use users::{photo, user};

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
