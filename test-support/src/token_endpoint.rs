//! The fake Entra token endpoint, `POST /{tenant}/oauth2/v2.0/token`, for the on-behalf-of
//! grant.
//!
//! It checks what Entra checks that matters to the handler (v2-oauth2-on-behalf-of-flow.md): the
//! grant type, the client's credential (its secret, or an unexpired managed-identity token for
//! `api://AzureADTokenExchange` as a federated assertion), the scope (Graph's `.default` or the
//! ACS Teams scopes; anything else is AADSTS70011), and the assertion itself: signed by a key
//! Entra publishes (else AADSTS50013), for this app (else AADSTS500131), within its lifetime
//! (else AADSTS500133), of the same tenant as the URL. It issues opaque tokens with a lifetime
//! and remembers whom each was issued to, so the Graph and ACS fakes can insist on a valid
//! on-behalf-of token of the right user; tests can revoke a user's tokens. Tests script refusals
//! (consent, interaction, outages) and read every request back.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::consent::Consents;
use crate::http::lock;
use crate::keys::{SIGNING_KEY_A, TestKey};
use crate::managed_identity::IssuedTokens;
use crate::tokens::unix_now;

/// Who an issued token acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub tenant_id: String,
    pub object_id: String,
    pub scope: String,
    pub client_id: String,
    /// The token's `scp`: for Graph's `.default`, the delegated permissions the app registration
    /// lists that the tenant consented to; otherwise the scopes asked for.
    pub permissions: Vec<String>,
    /// Epoch seconds after which resources refuse the token.
    pub expires_on: i64,
}

impl Grant {
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// The delegated Graph permissions the app registration lists (`infra/`), which `.default`
/// stands for once a tenant consented to all of them.
pub const APP_GRAPH_PERMISSIONS: &[&str] = &[
    "OnlineMeetings.ReadWrite",
    "Calendars.ReadWrite",
    "Chat.Create",
    "ChatMessage.Send",
    "People.Read",
    "User.Read",
    "User.ReadBasic.All",
];

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

    /// MFA or another interaction is needed: Conditional Access answers with a claims challenge
    /// the client must satisfy (v2-oauth2-on-behalf-of-flow.md, "Error response example").
    pub fn interaction_required() -> Refusal {
        let mut refusal = Refusal::entra(400, "interaction_required", 50079, None);
        refusal.body["claims"] = json!(INTERACTION_CLAIMS);
        refusal
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

/// The claims challenge the fake sends with `interaction_required`.
pub const INTERACTION_CLAIMS: &str = r#"{"access_token":{"capolids":{"essential":true,"values":["9ab03e19-ed42-4168-b6b7-7001fb3e933a"]}}}"#;

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
    /// Graph permissions each tenant has not consented to (a permission added to the app
    /// registration after the tenant's admin consented).
    withheld: HashMap<String, Vec<String>>,
    /// The keys Entra currently publishes, which a valid assertion is signed with.
    signing_keys: Vec<TestKey>,
    /// Users whose consent is missing (see `consent`); none unless a test or the sandbox asks.
    consents: Consents,
    /// Tenants with a Conditional Access policy that requires multi-factor authentication.
    mfa_required: std::collections::HashSet<String>,
}

/// Tokens the endpoint issued, shared with the Graph and ACS fakes.
#[derive(Debug, Clone)]
pub struct Grants(Arc<Mutex<State>>);

impl Grants {
    /// Whom a token acts for while it is valid; `None` for an unknown, expired or revoked one.
    pub fn lookup(&self, token: &str) -> Option<Grant> {
        lock(&self.0)
            .issued
            .get(token)
            .filter(|grant| grant.expires_on > unix_now())
            .cloned()
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
                signing_keys: vec![SIGNING_KEY_A],
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

    /// `tenant`'s consent lacks these Graph permissions: Graph tokens issued there for
    /// `.default` do not carry them.
    pub fn withhold_graph_permissions(&self, tenant: &str, permissions: &[&str]) {
        self.lock().withheld.insert(
            tenant.to_owned(),
            permissions.iter().map(|p| (*p).to_owned()).collect(),
        );
    }

    /// From now on `tenant` has a Conditional Access policy requiring MFA. Entra evaluates it on
    /// every on-behalf-of exchange, against how the user signed in to get the assertion
    /// (v2-oauth2-on-behalf-of-flow.md, "Error response example": `interaction_required`, with
    /// the claims the client must satisfy). The emulation reads the sign-in's methods from the
    /// assertion's `amr` claim: without `mfa` there, the exchange is refused.
    pub fn require_mfa(&self, tenant: &str) {
        self.lock().mfa_required.insert(tenant.to_owned());
    }

    pub fn set_token_lifetime(&self, seconds: u64) {
        self.lock().lifetime_secs = seconds;
    }

    /// The keys an assertion may be signed with: what the authority publishes right now.
    pub fn trust_signing_keys(&self, keys: Vec<TestKey>) {
        self.lock().signing_keys = keys;
    }

    /// Every token issued so far to this user stops working, as when an admin revokes the
    /// user's sessions or resets their password.
    pub fn revoke_user(&self, tenant_id: &str, object_id: &str) {
        self.lock()
            .issued
            .retain(|_, grant| !(grant.tenant_id == tenant_id && grant.object_id == object_id));
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
    let client_id = state.client_id.clone().unwrap_or_default();
    let claims = match verify_assertion(field("assertion"), &state.signing_keys, &client_id) {
        Ok(claims) => claims,
        Err(refusal) => return refuse(&refusal),
    };
    let assertion_tenant = claims["tid"].as_str().unwrap_or_default();
    let object_id = claims["oid"].as_str().unwrap_or_default();
    if assertion_tenant != tenant || object_id.is_empty() {
        return refuse(&Refusal::entra(400, "invalid_grant", 50013, None));
    }
    if !state.consents.allows(tenant, object_id) {
        return refuse(&Refusal::consent_required());
    }
    let signed_in_with_mfa = claims["amr"]
        .as_array()
        .is_some_and(|methods| methods.iter().any(|m| m == "mfa"));
    if state.mfa_required.contains(tenant) && !signed_in_with_mfa {
        return refuse(&Refusal::interaction_required());
    }
    if !KNOWN_SCOPES.contains(&field("scope")) {
        return refuse(&Refusal::entra(400, "invalid_scope", 70011, None));
    }
    let token = format!(
        "obo-{}-{}",
        state.issued.len() + 1,
        uuid::Uuid::new_v4().simple()
    );
    let scope = field("scope");
    let permissions = if scope == "https://graph.microsoft.com/.default" {
        let withheld = state.withheld.get(tenant).cloned().unwrap_or_default();
        APP_GRAPH_PERMISSIONS
            .iter()
            .filter(|p| !withheld.iter().any(|w| w == *p))
            .map(|p| (*p).to_owned())
            .collect()
    } else {
        scope.split(' ').map(str::to_owned).collect()
    };
    let grant = Grant {
        tenant_id: tenant.to_owned(),
        object_id: object_id.to_owned(),
        scope: scope.to_owned(),
        client_id: field("client_id").to_owned(),
        permissions,
        expires_on: unix_now() + i64::try_from(state.lifetime_secs).unwrap_or(i64::MAX / 2),
    };
    // Like Entra, the answer's `scope` lists what the token carries: for `.default`, the
    // consented permissions, each with its resource (v2-oauth2-on-behalf-of-flow.md).
    let granted_scope = if scope == "https://graph.microsoft.com/.default" {
        grant
            .permissions
            .iter()
            .map(|p| format!("https://graph.microsoft.com/{p}"))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        scope.to_owned()
    };
    state.issued.insert(token.clone(), grant);
    use warp::Reply;
    warp::reply::json(&json!({
        "token_type": "Bearer",
        "scope": granted_scope,
        "expires_in": state.lifetime_secs,
        "ext_expires_in": state.lifetime_secs,
        "access_token": token,
    }))
    .into_response()
}

/// The scopes the app asks for on behalf of a user: Graph through `.default`, and the ACS Teams
/// scopes for the Teams user token.
const KNOWN_SCOPES: &[&str] = &[
    "https://graph.microsoft.com/.default",
    "https://auth.msft.communication.azure.com/Teams.ManageCalls https://auth.msft.communication.azure.com/Teams.ManageChats",
];

/// Checks the SSO token presented as the assertion the way Entra does, and returns its claims.
fn verify_assertion(assertion: &str, keys: &[TestKey], client_id: &str) -> Result<Value, Refusal> {
    use jsonwebtoken::errors::ErrorKind;
    let malformed = || Refusal::entra(400, "invalid_request", 50027, None);
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    let key = keys
        .iter()
        .find(|k| Some(k.kid) == header.kid.as_deref())
        .ok_or_else(|| Refusal::entra(400, "invalid_grant", 50013, None))?;
    let jwk = key.public_jwk(None);
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or_default(),
        jwk["e"].as_str().unwrap_or_default(),
    )
    .map_err(|_| malformed())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "aud"]);
    let claims = jsonwebtoken::decode::<Value>(assertion, &decoding, &validation)
        .map_err(|error| match error.kind() {
            ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => {
                Refusal::entra(400, "invalid_grant", 500133, None)
            }
            _ => Refusal::entra(400, "invalid_grant", 50013, None),
        })?
        .claims;
    // The assertion must be a token for this app: its client id, or an application ID URI
    // ending in it (`api://host/<client id>`).
    let audience = claims["aud"].as_str().unwrap_or_default();
    let for_this_app = !client_id.is_empty()
        && (audience == client_id || audience.ends_with(&format!("/{client_id}")));
    if !for_this_app {
        return Err(Refusal::entra(400, "invalid_grant", 500131, None));
    }
    Ok(claims)
}

fn refuse(refusal: &Refusal) -> Response {
    use warp::Reply;
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    warp::reply::with_status(warp::reply::json(&refusal.body), status).into_response()
}
