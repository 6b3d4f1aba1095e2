//! A fake App Service / Functions managed-identity endpoint (`IDENTITY_ENDPOINT`).
//!
//! Shaped as the platform answers: `GET ?api-version=2019-08-01&resource=…[&client_id=…]` with
//! the `X-IDENTITY-HEADER` secret, returning `expires_on` as a *string* of epoch seconds. Tokens
//! are opaque, unique, and remembered so other fakes (Key Vault, the Entra token endpoint) can
//! check who they were issued to; a token past its `expires_on` is no longer recognised by any
//! of them. Like the platform, it refuses a `client_id` that names no identity assigned to the
//! app (400, "Identity not found").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::{Running, lock, spawn_on};
use crate::tokens::unix_now;

/// The client id the platform reports for the system-assigned identity.
pub const SYSTEM_ASSIGNED_CLIENT_ID: &str = "5a5e0000-0000-4000-8000-0000000005a1";

/// What a token was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub resource: String,
    /// `None` for the system-assigned identity.
    pub client_id: Option<String>,
    /// Epoch seconds.
    pub expires_on: i64,
}

/// One request the endpoint received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub resource: Option<String>,
    pub client_id: Option<String>,
    pub api_version: Option<String>,
    pub identity_header: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    issued: HashMap<String, IssuedToken>,
    requests: Vec<TokenRequest>,
    down: bool,
    lifetime_secs: i64,
    /// Client ids of the user-assigned identities attached to the app.
    assigned: Vec<String>,
}

/// Issued tokens, shared with fakes that must accept them.
#[derive(Debug, Clone)]
pub struct IssuedTokens(Arc<Mutex<State>>);

impl IssuedTokens {
    /// The token's grant while it is valid; `None` for an unknown or expired token.
    pub fn lookup(&self, token: &str) -> Option<IssuedToken> {
        lock(&self.0)
            .issued
            .get(token)
            .filter(|issued| issued.expires_on > unix_now())
            .cloned()
    }
}

#[derive(Debug)]
pub struct FakeManagedIdentity {
    server: Running,
    state: Arc<Mutex<State>>,
    header: String,
}

impl FakeManagedIdentity {
    /// Starts on a random loopback port; callers must present `header`.
    pub async fn start(header: &str) -> std::io::Result<FakeManagedIdentity> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        FakeManagedIdentity::start_on(listener, header).await
    }

    /// Starts on a listener bound earlier, for callers that must publish the address before
    /// any thread exists (the process environment the Azure SDK reads).
    pub async fn start_on(
        listener: std::net::TcpListener,
        header: &str,
    ) -> std::io::Result<FakeManagedIdentity> {
        let state = Arc::new(Mutex::new(State {
            lifetime_secs: 3600,
            ..State::default()
        }));
        let server = spawn_on(listener, routes(state.clone(), header.to_owned())).await?;
        Ok(FakeManagedIdentity {
            server,
            state,
            header: header.to_owned(),
        })
    }

    /// What `IDENTITY_ENDPOINT` should be.
    pub fn endpoint(&self) -> String {
        format!("http://{}/msi/token", self.server.addr)
    }

    pub fn header(&self) -> &str {
        &self.header
    }

    pub fn issued_tokens(&self) -> IssuedTokens {
        IssuedTokens(self.state.clone())
    }

    pub fn requests(&self) -> Vec<TokenRequest> {
        lock(&self.state).requests.clone()
    }

    /// Every token handed out so far (tests look for them in logs).
    pub fn issued_token_values(&self) -> Vec<String> {
        lock(&self.state).issued.keys().cloned().collect()
    }

    /// Forgets requests and switches, for a fresh test on a shared fake. Issued tokens stay
    /// valid, as real ones would.
    pub fn reset(&self) {
        let mut state = lock(&self.state);
        state.requests.clear();
        state.down = false;
        state.lifetime_secs = 3600;
    }

    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    pub fn set_token_lifetime(&self, seconds: i64) {
        lock(&self.state).lifetime_secs = seconds;
    }

    /// Attaches a user-assigned identity to the app, so its `client_id` may be asked for.
    pub fn assign_user_identity(&self, client_id: &str) {
        lock(&self.state).assigned.push(client_id.to_owned());
    }
}

fn routes(
    state: Arc<Mutex<State>>,
    header: String,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::get()
        .and(warp::path!("msi" / "token"))
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<String>("x-identity-header"))
        .map(
            move |query: HashMap<String, String>, presented: Option<String>| {
                issue(&state, &header, query, presented)
            },
        )
}

fn issue(
    state: &Mutex<State>,
    header: &str,
    query: HashMap<String, String>,
    presented: Option<String>,
) -> Response {
    use warp::Reply;
    let mut state = lock(state);
    let request = TokenRequest {
        resource: query.get("resource").cloned(),
        client_id: query.get("client_id").cloned(),
        api_version: query.get("api-version").cloned(),
        identity_header: presented.clone(),
    };
    state.requests.push(request.clone());
    if state.down {
        return warp::reply::with_status("unavailable", StatusCode::SERVICE_UNAVAILABLE)
            .into_response();
    }
    if presented.as_deref() != Some(header) {
        return warp::reply::with_status(
            warp::reply::json(
                &json!({"statusCode": 400, "message": "missing or wrong X-IDENTITY-HEADER"}),
            ),
            StatusCode::BAD_REQUEST,
        )
        .into_response();
    }
    let (Some(resource), Some("2019-08-01")) = (request.resource, request.api_version.as_deref())
    else {
        return warp::reply::with_status("bad request", StatusCode::BAD_REQUEST).into_response();
    };
    if let Some(client_id) = &request.client_id
        && !state.assigned.contains(client_id)
    {
        return warp::reply::with_status(
            warp::reply::json(&json!({"statusCode": 400, "message": "Identity not found"})),
            StatusCode::BAD_REQUEST,
        )
        .into_response();
    }
    let serial = state.requests.len();
    let token = format!("fake-mi-token-{serial}-{}", uuid::Uuid::new_v4().simple());
    let expires_on = unix_now() + state.lifetime_secs;
    state.issued.insert(
        token.clone(),
        IssuedToken {
            resource: resource.clone(),
            client_id: request.client_id.clone(),
            expires_on,
        },
    );
    warp::reply::json(&json!({
        "access_token": token,
        "expires_on": expires_on.to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": request.client_id.unwrap_or_else(|| SYSTEM_ASSIGNED_CLIENT_ID.to_owned()),
    }))
    .into_response()
}
