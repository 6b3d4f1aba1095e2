//! The fake Entra token endpoint, `POST /{tenant}/oauth2/v2.0/token`, for the on-behalf-of
//! grant.
//!
//! It checks what Entra checks that matters to the handler: the grant type, the client's
//! credential (its secret, or a managed-identity token for `api://AzureADTokenExchange` as a
//! federated assertion), and that the assertion is a token of the same tenant as the URL. It
//! issues opaque tokens and remembers whom each was issued to, so the Graph and ACS fakes can
//! insist on a real on-behalf-of token of the right user. Tests script refusals (consent,
//! interaction, expired assertion, outages) and read every request back.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::consent::Consents;
use crate::http::lock;
use crate::managed_identity::IssuedTokens;

/// Who an issued token acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub tenant_id: String,
    pub object_id: String,
    pub scope: String,
    pub client_id: String,
}

/// A scripted answer, used instead of issuing a token.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub body: Value,
}

impl Refusal {
    /// AADSTS65001: consent not granted.
    pub fn consent_required() -> Refusal {
        Refusal::entra(400, "invalid_grant", 65001, None)
    }

    /// MFA or another interaction is needed.
    pub fn interaction_required() -> Refusal {
        Refusal::entra(400, "interaction_required", 50079, None)
    }

    /// AADSTS50013: the assertion (the SSO token) is expired or otherwise invalid.
    pub fn assertion_expired() -> Refusal {
        Refusal::entra(400, "invalid_grant", 50013, None)
    }

    pub fn unavailable() -> Refusal {
        Refusal::entra(503, "temporarily_unavailable", 90033, None)
    }

    pub fn entra(status: u16, error: &str, code: i64, suberror: Option<&str>) -> Refusal {
        let mut body = json!({
            "error": error,
            "error_description": format!("AADSTS{code}: scripted by the test."),
            "error_codes": [code],
            "timestamp": "2026-11-26 07:00:00Z",
            "trace_id": "00000000-0000-4000-8000-00000000trace",
            "correlation_id": "00000000-0000-4000-8000-0000000corr",
        });
        if let Some(suberror) = suberror {
            body["suberror"] = json!(suberror);
        }
        Refusal { status, body }
    }
}

#[derive(Debug, Default)]
struct State {
    client_id: Option<String>,
    client_secrets: Vec<String>,
    identity_tokens: Option<IssuedTokens>,
    refusals: VecDeque<Refusal>,
    requests: Vec<HashMap<String, String>>,
    issued: HashMap<String, Grant>,
    lifetime_secs: u64,
    delay_ms: u64,
    /// Users whose consent is missing (see `consent`); none unless a test or the sandbox asks.
    consents: Consents,
}

/// Tokens the endpoint issued, shared with the Graph and ACS fakes.
#[derive(Debug, Clone)]
pub struct Grants(Arc<Mutex<State>>);

impl Grants {
    pub fn lookup(&self, token: &str) -> Option<Grant> {
        lock(&self.0).issued.get(token).cloned()
    }

    /// Every token issued so far (tests look for them in logs).
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.0).issued.keys().cloned().collect()
    }
}

#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    state: Arc<Mutex<State>>,
}

impl Default for TokenEndpoint {
    fn default() -> Self {
        TokenEndpoint {
            state: Arc::new(Mutex::new(State {
                lifetime_secs: 3600,
                ..State::default()
            })),
        }
    }
}

impl TokenEndpoint {
    /// The app registration: its client id and the secrets it currently accepts.
    pub fn register_client(&self, client_id: &str, secrets: &[&str]) {
        let mut state = self.lock();
        state.client_id = Some(client_id.to_owned());
        state.client_secrets = secrets.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Trusts managed-identity tokens for `api://AzureADTokenExchange` as client assertions.
    pub fn trust_federated_identity(&self, tokens: IssuedTokens) {
        self.lock().identity_tokens = Some(tokens);
    }

    /// The next exchanges are answered with these refusals, in order.
    pub fn refuse_next(&self, refusals: impl IntoIterator<Item = Refusal>) {
        self.lock().refusals.extend(refusals);
    }

    pub fn set_token_lifetime(&self, seconds: u64) {
        self.lock().lifetime_secs = seconds;
    }

    /// Every answer waits this long first.
    pub fn set_delay_ms(&self, delay_ms: u64) {
        self.lock().delay_ms = delay_ms;
    }

    /// Every request's form, in order.
    pub fn requests(&self) -> Vec<HashMap<String, String>> {
        self.lock().requests.clone()
    }

    pub fn grants(&self) -> Grants {
        Grants(self.state.clone())
    }

    /// Who still has to consent; the same registry backs the authorize and admin-consent pages
    /// that this endpoint's authority serves.
    pub fn consents(&self) -> Consents {
        self.lock().consents.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn route(
        &self,
    ) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone + use<> {
        let state = self.state.clone();
        let consent_pages = self.consents().routes();
        warp::post()
            .and(warp::path!(String / "oauth2" / "v2.0" / "token"))
            .and(warp::body::form::<HashMap<String, String>>())
            .then(move |tenant: String, form: HashMap<String, String>| {
                let state = state.clone();
                async move {
                    let delay = lock(&state).delay_ms;
                    if delay > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                    }
                    exchange(&state, &tenant, form)
                }
            })
            .or(consent_pages)
            .unify()
    }
}

fn exchange(state: &Mutex<State>, tenant: &str, form: HashMap<String, String>) -> Response {
    let mut state = lock(state);
    state.requests.push(form.clone());
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");

    if field("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer"
        || field("requested_token_use") != "on_behalf_of"
    {
        return refuse(&Refusal::entra(400, "unsupported_grant_type", 70003, None));
    }
    if state.client_id.as_deref() != Some(field("client_id")) {
        return refuse(&Refusal::entra(400, "unauthorized_client", 700016, None));
    }
    let secret_ok = form
        .get("client_secret")
        .is_some_and(|s| state.client_secrets.contains(s));
    let assertion_ok = field("client_assertion_type")
        == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        && state.identity_tokens.as_ref().is_some_and(|tokens| {
            tokens
                .lookup(field("client_assertion"))
                .is_some_and(|issued| issued.resource == "api://AzureADTokenExchange")
        });
    if !(secret_ok || assertion_ok)
        || (form.contains_key("client_secret") && form.contains_key("client_assertion"))
    {
        return refuse(&Refusal::entra(401, "invalid_client", 7000215, None));
    }
    if let Some(refusal) = state.refusals.pop_front() {
        return refuse(&refusal);
    }
    let Some(claims) = claims_of(field("assertion")) else {
        return refuse(&Refusal::entra(400, "invalid_request", 50027, None));
    };
    let assertion_tenant = claims["tid"].as_str().unwrap_or_default();
    let object_id = claims["oid"].as_str().unwrap_or_default();
    if assertion_tenant != tenant || object_id.is_empty() {
        return refuse(&Refusal::entra(400, "invalid_grant", 50013, None));
    }
    if !state.consents.allows(tenant, object_id) {
        return refuse(&Refusal::consent_required());
    }
    let token = format!(
        "obo-{}-{}",
        state.issued.len() + 1,
        uuid::Uuid::new_v4().simple()
    );
    let grant = Grant {
        tenant_id: tenant.to_owned(),
        object_id: object_id.to_owned(),
        scope: field("scope").to_owned(),
        client_id: field("client_id").to_owned(),
    };
    state.issued.insert(token.clone(), grant);
    use warp::Reply;
    warp::reply::json(&json!({
        "token_type": "Bearer",
        "scope": field("scope"),
        "expires_in": state.lifetime_secs,
        "ext_expires_in": state.lifetime_secs,
        "access_token": token,
    }))
    .into_response()
}

/// The claims of a compact JWT, unverified: the fake only needs to know whose token it is.
fn claims_of(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

fn refuse(refusal: &Refusal) -> Response {
    use warp::Reply;
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    warp::reply::with_status(warp::reply::json(&refusal.body), status).into_response()
}
