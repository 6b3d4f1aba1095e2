//! A fake Key Vault secrets endpoint with the real authentication dance: an anonymous request
//! gets 401 and a `WWW-Authenticate` challenge naming the tenant and `https://vault.azure.net`,
//! then the client retries with a managed-identity token for that resource.
//!
//! Tests set and rotate secrets, deny access (403, as an RBAC vault without the role does),
//! take the vault down or throttle it (429 with `Retry-After`), and count reads. Like the
//! service it wants an `api-version` it knows, serves a named secret version (or the latest when
//! none is named, `GET /secrets/{name}/` as the SDK sends it), and accepts only unexpired
//! managed-identity tokens for the vault's resource.

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

/// Secrets API versions the service answers (REST reference, "Key Vault API versions").
const API_VERSIONS: &[&str] = &[
    "2016-10-01",
    "7.0",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6",
    "2025-07-01",
];

#[derive(Debug, Default)]
struct State {
    /// Every value each secret had, oldest first; version `i` is `{i+1:032x}`.
    secrets: HashMap<String, Vec<String>>,
    /// The next this many reads answer 429.
    throttled: usize,
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
        self.lock()
            .secrets
            .entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }

    /// The next `reads` authorized reads answer 429 with `Retry-After: 1`.
    pub fn throttle_next(&self, reads: usize) {
        self.lock().throttled = reads;
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
                  version: warp::path::Tail,
                  query: HashMap<String, String>,
                  authorization: Option<String>,
                  host: String| {
                let request = SecretRequest {
                    name: &name,
                    version: version.as_str().trim_end_matches('/'),
                    query: &query,
                    host: &host,
                };
                read_secret(&state, &tokens, &request, authorization)
            },
        )
}

struct SecretRequest<'a> {
    name: &'a str,
    /// Empty for the latest version.
    version: &'a str,
    query: &'a HashMap<String, String>,
    host: &'a str,
}

fn read_secret(
    state: &Mutex<State>,
    tokens: &IssuedTokens,
    request: &SecretRequest<'_>,
    authorization: Option<String>,
) -> Response {
    use warp::Reply;
    let SecretRequest {
        name,
        version,
        query,
        host,
    } = request;
    let mut state = lock(state);
    let api_version = query.get("api-version").cloned().unwrap_or_default();
    state.api_versions.push(api_version.clone());
    if !API_VERSIONS.contains(&api_version.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The specified version of the API is not recognized.",
        );
    }
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
    if state.throttled > 0 {
        state.throttled -= 1;
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Throttled",
            "Request was not processed because too many requests were received.",
        );
        response
            .headers_mut()
            .insert("retry-after", warp::http::HeaderValue::from_static("1"));
        return response;
    }
    let history = state.secrets.get(*name).cloned().unwrap_or_default();
    let wanted = if version.is_empty() {
        history.len().checked_sub(1)
    } else {
        (0..history.len()).find(|i| format!("{:032x}", i + 1) == *version)
    };
    let Some(index) = wanted else {
        return error(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            "A secret with this name (and version) was not found.",
        );
    };
    *state.reads.entry((*name).to_owned()).or_default() += 1;
    let value = &history[index];
    warp::reply::json(&json!({
        "value": value,
        "id": format!("https://{host}/secrets/{name}/{:032x}", index + 1),
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
