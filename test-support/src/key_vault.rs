//! A fake Key Vault secrets endpoint with the real authentication dance: an anonymous request
//! gets 401 and a `WWW-Authenticate` challenge naming the tenant and `https://vault.azure.net`,
//! then the client retries with a managed-identity token for that resource.
//!
//! Tests set and rotate secrets, deny access (403, as an RBAC vault without the role does),
//! take the vault down, and count reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::{Running, lock, spawn};
use crate::managed_identity::IssuedTokens;

/// The tenant the vault's challenge names.
pub const VAULT_TENANT: &str = "7e4a0000-0000-4000-8000-00000000a7e4";
pub const VAULT_RESOURCE: &str = "https://vault.azure.net";

#[derive(Debug, Default)]
struct State {
    secrets: HashMap<String, (String, u32)>,
    down: bool,
    deny: bool,
    /// Authorized reads per secret name.
    reads: HashMap<String, usize>,
    anonymous_requests: usize,
    api_versions: Vec<String>,
}

#[derive(Debug)]
pub struct FakeKeyVault {
    server: Running,
    state: Arc<Mutex<State>>,
}

impl FakeKeyVault {
    /// Accepts bearer tokens that `tokens` issued for `https://vault.azure.net`.
    pub async fn start(tokens: IssuedTokens) -> std::io::Result<FakeKeyVault> {
        let state = Arc::new(Mutex::new(State::default()));
        let server = spawn(routes(state.clone(), tokens)).await?;
        Ok(FakeKeyVault { server, state })
    }

    /// The loopback address to send `*.vault.azure.net` requests to.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    /// Sets a secret; a new value is a new version, as a rotation makes.
    pub fn set_secret(&self, name: &str, value: &str) {
        let mut state = self.lock();
        let version = state.secrets.get(name).map_or(1, |(_, v)| v + 1);
        state
            .secrets
            .insert(name.to_owned(), (value.to_owned(), version));
    }

    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// Refuses every authenticated read with 403 `ForbiddenByRbac`.
    pub fn set_deny(&self, deny: bool) {
        self.lock().deny = deny;
    }

    /// Successful reads of `name`.
    pub fn reads(&self, name: &str) -> usize {
        self.lock().reads.get(name).copied().unwrap_or(0)
    }

    pub fn anonymous_requests(&self) -> usize {
        self.lock().anonymous_requests
    }

    pub fn api_versions(&self) -> Vec<String> {
        self.lock().api_versions.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn routes(
    state: Arc<Mutex<State>>,
    tokens: IssuedTokens,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::get()
        .and(warp::path("secrets"))
        .and(warp::path::param::<String>())
        .and(warp::path::tail())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::<String>("host"))
        .map(
            move |name: String,
                  _version: warp::path::Tail,
                  query: HashMap<String, String>,
                  authorization: Option<String>,
                  host: String| {
                read_secret(&state, &tokens, &name, &query, authorization, &host)
            },
        )
}

fn read_secret(
    state: &Mutex<State>,
    tokens: &IssuedTokens,
    name: &str,
    query: &HashMap<String, String>,
    authorization: Option<String>,
    host: &str,
) -> Response {
    use warp::Reply;
    let mut state = lock(state);
    state
        .api_versions
        .push(query.get("api-version").cloned().unwrap_or_default());
    if state.down {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The vault is unavailable.",
        );
    }
    let bearer = authorization
        .as_deref()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(bearer) = bearer else {
        state.anonymous_requests += 1;
        let challenge = format!(
            "Bearer authorization=\"https://login.microsoftonline.com/{VAULT_TENANT}\", resource=\"{VAULT_RESOURCE}\""
        );
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.",
        );
        if let Ok(value) = warp::http::HeaderValue::from_str(&challenge) {
            response.headers_mut().insert("www-authenticate", value);
        }
        return response;
    };
    if tokens
        .lookup(&bearer)
        .is_none_or(|issued| issued.resource != VAULT_RESOURCE)
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "AKV10032: Invalid issuer.",
        );
    }
    if state.deny {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Caller is not authorized to perform action on resource.",
        );
    }
    let Some((value, version)) = state.secrets.get(name).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            "A secret with this name was not found.",
        );
    };
    *state.reads.entry(name.to_owned()).or_default() += 1;
    warp::reply::json(&json!({
        "value": value,
        "id": format!("https://{host}/secrets/{name}/{version:032x}"),
        "attributes": { "enabled": true, "created": 1_764_000_000, "updated": 1_764_000_000, "recoveryLevel": "Recoverable+Purgeable" },
        "tags": {}
    }))
    .into_response()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    use warp::Reply;
    let body = if status == StatusCode::FORBIDDEN {
        json!({"error": {"code": code, "message": message, "innererror": {"code": "ForbiddenByRbac"}}})
    } else {
        json!({"error": {"code": code, "message": message}})
    };
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}
