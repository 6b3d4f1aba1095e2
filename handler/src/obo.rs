//! The on-behalf-of exchange: the caller's SSO token for a token to Microsoft Graph (or ACS)
//! that acts as that same user.
//!
//! Tokens are requested from the caller's own tenant (`/{tid}/oauth2/v2.0/token`, never
//! `common`) and cached until five minutes before they expire per presented SSO token (its
//! SHA-256) as well as tenant, user and scope set, as MSAL's on-behalf-of cache keys by the
//! assertion: another token of the same user (another session, one without MFA, a stolen one)
//! never reuses an exchange, so Entra evaluates Conditional Access for every SSO token it has
//! not seen. Concurrent requests with one token for one scope set share a single exchange.
//!
//! Consent and interaction refusals are remembered per key for `refusal_memory` (see
//! `Tuning`): a tab that fires several calls at once, or keeps retrying, reaches Entra once per
//! window instead of once per call, so no user can get the app throttled for everyone. The first
//! refusal is still answered at once, and a tab that says it has just consented gets its retries
//! once per window.
//!
//! Entra's answers are sorted the way MSAL sorts them: consent needed (answered at once, unless
//! the tab says it has just completed consent: then retried with backoff for the seconds Entra
//! takes to notice, as the Teams SSO docs recommend), a claims challenge the user must satisfy
//! (MFA, Conditional Access: passed on to the tab), an expired or revoked assertion (the caller
//! must get a new token), a rotated client secret (read it again), or an outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use uuid::Uuid;

use tracing::Instrument as _;

use crate::auth::{Caller, TokenDigest};
use crate::otel::dependency;
use crate::otel::metrics::{self, TokenSource};
use crate::secrets::{ClientAuthentication, ClientCredential, Secrets, SecretsError};
use crate::token_cache::{self, UseUntil};
use crate::upstream::safe_code;

/// Retries while Entra may not have noticed a fresh consent yet (1 s, 2 s, 4 s by default).
const CONSENT_RETRIES: u32 = 3;

/// MSAL's `InteractionRequiredAuthError` codes.
const INTERACTION_ERRORS: &[&str] = &[
    "interaction_required",
    "consent_required",
    "login_required",
    "bad_token",
    "ux_not_allowed",
    "interrupted_user",
];
const INTERACTION_SUBERRORS: &[&str] = &[
    "message_only",
    "additional_action",
    "basic_action",
    "user_password_expired",
    "consent_required",
    "bad_token",
    "ux_not_allowed",
    "interrupted_user",
];
/// AADSTS65001: the user or an administrator has not consented.
const CONSENT_NOT_GRANTED: i64 = 65001;
/// AADSTS650052: the caller's tenant has no service principal for the resource the app asks
/// for (for ACS: its first-party app was never set up there). Entra sends it as
/// `invalid_client`, which must not be taken for our own credential being wrong.
const RESOURCE_SERVICE_PRINCIPAL_MISSING: i64 = 650052;
/// AADSTS50076 / 50079: multi-factor authentication required (or required to register);
/// AADSTS50158: an external security challenge; AADSTS53003: blocked by Conditional Access.
const CLAIMS_CHALLENGES: &[i64] = &[50076, 50079, 50158, 53003];
/// AADSTS50013 (assertion failed signature validation, e.g. expired) and AADSTS500133 (assertion
/// not within its valid time range): the caller must fetch a new SSO token.
const ASSERTION_REJECTED: &[i64] = &[50013, 500133];

/// A set of delegated permissions requested together.
#[derive(Debug, Clone, Copy)]
pub struct ScopeSet {
    /// The `scope` sent to Entra (space-separated).
    pub request: &'static str,
    /// What the user or admin must consent to, as reported in `consent_required`.
    pub consent: &'static [&'static str],
    /// The resource's name and first-party app id, for an administrator who must set it up.
    pub resource: (&'static str, &'static str),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    tenant_id: Uuid,
    object_id: Uuid,
    scopes: &'static str,
    /// The presented SSO token: an exchange answers for the assertion it was made with.
    assertion: TokenDigest,
}

impl CacheKey {
    fn new(caller: &Caller, scopes: &ScopeSet) -> Self {
        CacheKey {
            tenant_id: caller.identity.tenant_id,
            object_id: caller.identity.object_id,
            scopes: scopes.request,
            assertion: caller.token_digest,
        }
    }
}

/// A consent or interaction refusal, answered again without asking Entra while it lasts.
struct RememberedRefusal {
    error: OboError,
    /// Whether a request saying `x-consent-retry: 1` already had its retries in this window.
    consent_retry_spent: AtomicBool,
    /// The end of the window. Checked here rather than left to the cache's time-to-live, which
    /// only bounds how long a dead entry takes up room.
    until: Instant,
}

impl RememberedRefusal {
    fn is_current(&self) -> bool {
        Instant::now() < self.until
    }

    /// Whether this refusal should stand for a request of `caller`, rather than the request
    /// trying Entra again: only a consent refusal, only for a tab that says it has just
    /// consented, and only once per window.
    fn stands_for(&self, caller: &Caller) -> bool {
        let retry = caller.just_consented
            && matches!(self.error, OboError::ConsentRequired { .. })
            && !self.consent_retry_spent.swap(true, Ordering::AcqRel);
        !retry
    }
}

/// An access token obtained on behalf of a user.
pub struct DelegatedToken {
    pub token: SecretString,
    /// When to stop using it (already `token_cache::EXPIRY_MARGIN` before the real expiry).
    pub use_until: Instant,
    /// The permissions Entra says the token carries (the answer's `scope`), lower-case and
    /// without the resource prefix; `None` when Entra did not say.
    pub granted: Option<Vec<String>>,
    /// Set when the resource refused the token (401: expired early, revoked, the user's
    /// sessions ended): the cache must not hand it out again.
    refused: std::sync::atomic::AtomicBool,
}

impl DelegatedToken {
    pub fn new(token: SecretString, use_until: Instant, granted: Option<Vec<String>>) -> Self {
        DelegatedToken {
            token,
            use_until,
            granted,
            refused: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The resource answered 401 to this token; the next request gets a new one.
    pub fn mark_refused(&self) {
        self.refused
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_refused(&self) -> bool {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the token carries `permission` (e.g. `Chat.Create`); `None` when unknown.
    pub fn grants(&self, permission: &str) -> Option<bool> {
        let wanted = permission.to_ascii_lowercase();
        self.granted
            .as_ref()
            .map(|granted| granted.contains(&wanted))
    }
}

impl std::fmt::Debug for DelegatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegatedToken")
            .field("token", &"[redacted]")
            .field("use_until", &self.use_until)
            .finish()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum OboError {
    #[error("consent required")]
    ConsentRequired { scopes: Vec<String> },
    #[error("the caller's tenant has no service principal for {resource} (AADSTS650052)")]
    ServicePrincipalMissing {
        resource: &'static str,
        app_id: &'static str,
    },
    /// Conditional Access wants more of the user (MFA, a compliant device); `claims` is Entra's
    /// challenge, for the tab to pass to `getAuthToken`.
    #[error("interaction required (AADSTS{code})")]
    InteractionRequired { code: i64, claims: Option<String> },
    #[error("the SSO token was refused as an assertion (AADSTS{0})")]
    AssertionRejected(i64),
    #[error(transparent)]
    Credential(#[from] SecretsError),
    #[error("Entra token endpoint unavailable: {0}")]
    Unavailable(String),
    #[error("Entra token endpoint throttled the exchange")]
    Throttled { retry_after: Option<Duration> },
    #[error("Entra answered {status} ({code})")]
    Upstream { status: u16, code: String },
    #[error("Entra did not answer in time")]
    Timeout,
}

/// How one token request ended, before retry decisions.
enum Attempt {
    Issued(DelegatedToken),
    InvalidClient,
    NeedsConsent,
    NeedsInteraction { code: i64, claims: Option<String> },
    Failed(OboError),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize, Default)]
struct TokenErrorResponse {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_codes: Vec<i64>,
    #[serde(default)]
    suberror: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
    /// A claims challenge (JSON text) with `interaction_required`.
    #[serde(default)]
    claims: Option<String>,
}

pub struct OnBehalfOf {
    http: reqwest::Client,
    authority_host: String,
    client_id: String,
    secrets: Arc<Secrets>,
    consent_backoff: Duration,
    cache: moka::future::Cache<CacheKey, Arc<DelegatedToken>>,
    refusal_memory: Duration,
    refusals: moka::future::Cache<CacheKey, Arc<RememberedRefusal>>,
}

impl std::fmt::Debug for OnBehalfOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnBehalfOf")
            .field("authority_host", &self.authority_host)
            .field("cached_tokens", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl UseUntil for DelegatedToken {
    fn use_until(&self) -> Instant {
        self.use_until
    }
}

/// How `OnBehalfOf` paces and bounds itself.
#[derive(Debug, Clone, Copy)]
pub struct OboOptions {
    /// First wait before retrying a consent refusal for a tab that has just consented.
    pub consent_backoff: Duration,
    /// How long a consent or interaction refusal is answered without asking Entra again.
    pub refusal_memory: Duration,
    /// Tokens (and remembered refusals) kept, each per SSO token and scope set.
    pub capacity: u64,
}

impl OnBehalfOf {
    pub fn new(
        http: reqwest::Client,
        authority_host: &str,
        client_id: Uuid,
        secrets: Arc<Secrets>,
        options: OboOptions,
    ) -> Self {
        OnBehalfOf {
            http,
            authority_host: authority_host.to_owned(),
            client_id: client_id.to_string(),
            secrets,
            consent_backoff: options.consent_backoff,
            cache: token_cache::cache(options.capacity),
            refusal_memory: options.refusal_memory,
            refusals: moka::future::Cache::builder()
                .max_capacity(options.capacity)
                .time_to_live(options.refusal_memory)
                .build(),
        }
    }

    /// A token for `scopes` acting as `caller`, from the cache or a new exchange, finished
    /// before `deadline`. A refusal for missing consent is retried (with backoff, inside the
    /// deadline) only when the caller says it has just consented (`x-consent-retry: 1`).
    pub async fn token(
        &self,
        caller: &Caller,
        scopes: &ScopeSet,
        deadline: Instant,
    ) -> Result<Arc<DelegatedToken>, OboError> {
        let key = CacheKey::new(caller, scopes);
        // The hit path first: a cached token means the last exchange for this key succeeded,
        // which ended any refusal window, so the refusals need not be looked at.
        if let Some(cached) = self.cache.get(&key).await
            && !cached.is_refused()
        {
            metrics::obo_token(TokenSource::Cache);
            return Ok(cached);
        }
        if let Some(refusal) = self.refusals.get(&key).await
            && refusal.is_current()
            && refusal.stands_for(caller)
        {
            metrics::obo_token(TokenSource::Failed);
            return Err(refusal.error.clone());
        }
        let exchanged = AtomicBool::new(false);
        let result = self
            .cached_or_exchanged(&key, caller, scopes, deadline, &exchanged)
            .await;
        metrics::obo_token(match &result {
            Err(_) => TokenSource::Failed,
            Ok(_) if exchanged.load(Ordering::Relaxed) => TokenSource::Exchange,
            Ok(_) => TokenSource::Cache,
        });
        match &result {
            Ok(_) => self.refusals.invalidate(&key).await,
            Err(
                error @ (OboError::ConsentRequired { .. } | OboError::InteractionRequired { .. }),
            ) => self.remember(key, error, caller).await,
            Err(_) => {}
        }
        result
    }

    /// Starts a window in which `error` answers for `key`, unless one is already running: a
    /// retry that was refused again must not extend it.
    async fn remember(&self, key: CacheKey, error: &OboError, caller: &Caller) {
        let refusal = Arc::new(RememberedRefusal {
            error: error.clone(),
            consent_retry_spent: AtomicBool::new(caller.just_consented),
            until: Instant::now() + self.refusal_memory,
        });
        self.refusals
            .entry(key)
            .and_compute_with(|existing| async move {
                match existing {
                    Some(existing) if existing.value().is_current() => moka::ops::compute::Op::Nop,
                    _ => moka::ops::compute::Op::Put(refusal),
                }
            })
            .await;
    }

    async fn cached_or_exchanged(
        &self,
        key: &CacheKey,
        caller: &Caller,
        scopes: &ScopeSet,
        deadline: Instant,
        exchanged: &AtomicBool,
    ) -> Result<Arc<DelegatedToken>, OboError> {
        let exchange = || async {
            exchanged.store(true, Ordering::Relaxed);
            match tokio::time::timeout_at(deadline, self.exchange(caller, scopes, deadline)).await {
                Ok(result) => result.map(Arc::new),
                Err(_) => Err(OboError::Timeout),
            }
        };
        let cached = self
            .cache
            .try_get_with(key.clone(), exchange())
            .await
            .map_err(|shared| OboError::clone(&shared))?;
        if !cached.is_refused() {
            return Ok(cached);
        }
        // Refused by the resource since it was cached: drop it (unless another request has
        // already replaced it) and exchange again.
        self.cache
            .entry(key.clone())
            .and_compute_with(|entry| async move {
                match entry {
                    Some(entry) if entry.value().is_refused() => moka::ops::compute::Op::Remove,
                    _ => moka::ops::compute::Op::Nop,
                }
            })
            .await;
        self.cache
            .try_get_with(key.clone(), exchange())
            .await
            .map_err(|shared| OboError::clone(&shared))
    }

    async fn exchange(
        &self,
        caller: &Caller,
        scopes: &ScopeSet,
        deadline: Instant,
    ) -> Result<DelegatedToken, OboError> {
        let mut consent_retries = 0;
        let max_consent_retries = if caller.just_consented {
            CONSENT_RETRIES
        } else {
            0
        };
        let mut reread_secret = false;
        loop {
            let authentication = self.secrets.client_credential.authentication().await?;
            match self.request(caller, scopes, &authentication).await {
                Attempt::Issued(token) => return Ok(token),
                Attempt::InvalidClient if !reread_secret => {
                    // The secret was rotated under us: read it again once, then retry.
                    reread_secret = true;
                    if let (ClientCredential::Secret(secret), ClientAuthentication::Secret(used)) =
                        (&self.secrets.client_credential, &authentication)
                    {
                        secret.refresh_after_rejection(used).await?;
                    }
                }
                Attempt::InvalidClient => {
                    return Err(OboError::Upstream {
                        status: 401,
                        code: "invalid_client".to_owned(),
                    });
                }
                Attempt::NeedsInteraction { code, claims } => {
                    return Err(OboError::InteractionRequired { code, claims });
                }
                Attempt::NeedsConsent => {
                    let wait = self.consent_backoff * 2u32.pow(consent_retries);
                    if consent_retries >= max_consent_retries || Instant::now() + wait >= deadline {
                        return Err(OboError::ConsentRequired {
                            scopes: scopes.consent.iter().map(|s| (*s).to_owned()).collect(),
                        });
                    }
                    consent_retries += 1;
                    tokio::time::sleep(wait).await;
                }
                Attempt::Failed(error) => return Err(error),
            }
        }
    }

    async fn request(
        &self,
        caller: &Caller,
        scopes: &ScopeSet,
        authentication: &ClientAuthentication,
    ) -> Attempt {
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority_host, caller.identity.tenant_id
        );
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", &self.client_id),
            ("assertion", caller.token()),
            ("scope", scopes.request),
            ("requested_token_use", "on_behalf_of"),
        ];
        match authentication {
            ClientAuthentication::Secret(secret) => {
                form.push(("client_secret", secret.expose_secret()));
            }
            ClientAuthentication::Assertion(assertion) => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
                form.push(("client_assertion", assertion.expose_secret()));
            }
        }
        let started = Instant::now();
        let span = dependency::span_for("entra", "POST", &url);
        let sent = self
            .http
            .post(&url)
            .form(&form)
            .send()
            .instrument(span.clone())
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                dependency::record_status(&span, None);
                if error.is_timeout() {
                    return Attempt::Failed(OboError::Timeout);
                }
                return Attempt::Failed(OboError::Unavailable("unreachable".to_owned()));
            }
        };
        let status = response.status();
        dependency::record_status(&span, Some(status.as_u16()));
        dependency::record_request_id(
            &span,
            response
                .headers()
                .get("x-ms-request-id")
                .and_then(|v| v.to_str().ok()),
        );
        let retry_after = crate::upstream::retry_after(&response);
        let body = match crate::upstream::read_capped(response, crate::upstream::MAX_JSON_BODY)
            .await
        {
            Ok(body) => body,
            Err(crate::upstream::UpstreamError::TooLarge { .. }) => {
                return Attempt::Failed(OboError::Upstream {
                    status: status.as_u16(),
                    code: "answer_too_large".to_owned(),
                });
            }
            Err(_) => return Attempt::Failed(OboError::Unavailable("answer cut short".to_owned())),
        };
        if status.is_success() {
            return match serde_json::from_slice::<TokenResponse>(&body) {
                Ok(issued) => {
                    let lifetime = Duration::from_secs(issued.expires_in);
                    Attempt::Issued(DelegatedToken::new(
                        SecretString::from(issued.access_token),
                        token_cache::use_until(started, lifetime),
                        issued.scope.as_deref().map(granted_permissions),
                    ))
                }
                Err(_) => Attempt::Failed(OboError::Upstream {
                    status: status.as_u16(),
                    code: "unreadable token response".to_owned(),
                }),
            };
        }
        let error: TokenErrorResponse = serde_json::from_slice(&body).unwrap_or_default();
        tracing::info!(
            status = status.as_u16(),
            error = %error.error,
            error_codes = ?error.error_codes,
            suberror = error.suberror.as_deref().unwrap_or(""),
            entra_trace_id = error.trace_id.as_deref().unwrap_or(""),
            entra_correlation_id = error.correlation_id.as_deref().unwrap_or(""),
            "on-behalf-of exchange refused"
        );
        classify(status.as_u16(), &error, retry_after, scopes)
    }
}

/// Sorts Entra's refusal. The AADSTS codes come first: Entra files several different refusals
/// under one `error` (650052, a problem of the caller's tenant, arrives as `invalid_client`).
fn classify(
    status: u16,
    error: &TokenErrorResponse,
    retry_after: Option<Duration>,
    scopes: &ScopeSet,
) -> Attempt {
    if error
        .error_codes
        .contains(&RESOURCE_SERVICE_PRINCIPAL_MISSING)
    {
        let (resource, app_id) = scopes.resource;
        return Attempt::Failed(OboError::ServicePrincipalMissing { resource, app_id });
    }
    if let Some(code) = error
        .error_codes
        .iter()
        .find(|code| ASSERTION_REJECTED.contains(code))
    {
        return Attempt::Failed(OboError::AssertionRejected(*code));
    }
    let consent = error.error_codes.contains(&CONSENT_NOT_GRANTED)
        || error.error == "consent_required"
        || error.suberror.as_deref() == Some("consent_required");
    if consent {
        return Attempt::NeedsConsent;
    }
    if error.error == "invalid_client" {
        return Attempt::InvalidClient;
    }
    let challenge = error
        .error_codes
        .iter()
        .find(|code| CLAIMS_CHALLENGES.contains(code));
    let interaction = challenge.is_some()
        || error.claims.is_some()
        || INTERACTION_ERRORS.contains(&error.error.as_str())
        || error
            .suberror
            .as_deref()
            .is_some_and(|s| INTERACTION_SUBERRORS.contains(&s));
    if interaction {
        return Attempt::NeedsInteraction {
            code: challenge
                .or(error.error_codes.first())
                .copied()
                .unwrap_or_default(),
            claims: error.claims.clone().filter(|c| is_claims_challenge(c)),
        };
    }
    if status == 429 {
        return Attempt::Failed(OboError::Throttled { retry_after });
    }
    if status >= 500 {
        return Attempt::Failed(OboError::Unavailable(format!("answered {status}")));
    }
    // `error` is a protocol code in Entra's answers, but it is upstream text all the same: only
    // an identifier goes to the caller (the whole answer was logged above).
    let code = match (safe_code(&error.error), error.error_codes.first()) {
        (Some(name), Some(aadsts)) => format!("{name} AADSTS{aadsts}"),
        (Some(name), None) => name,
        (None, Some(aadsts)) => format!("AADSTS{aadsts}"),
        (None, None) => "unexpected answer".to_owned(),
    };
    Attempt::Failed(OboError::Upstream { status, code })
}

/// `https://graph.microsoft.com/Chat.Create openid` → `["chat.create", "openid"]`.
fn granted_permissions(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.rsplit_once('/')
                .map_or(s, |(_, name)| name)
                .to_ascii_lowercase()
        })
        .collect()
}

/// A claims challenge is a JSON object Entra wrote; anything else is not passed on.
fn is_claims_challenge(claims: &str) -> bool {
    claims.len() <= 4096
        && serde_json::from_str::<serde_json::Value>(claims).is_ok_and(|v| v.is_object())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(error: &str, codes: &[i64], suberror: Option<&str>) -> TokenErrorResponse {
        TokenErrorResponse {
            error: error.to_owned(),
            error_codes: codes.to_vec(),
            suberror: suberror.map(str::to_owned),
            ..Default::default()
        }
    }

    fn kind(attempt: Attempt) -> String {
        match attempt {
            Attempt::Issued(_) => "issued".into(),
            Attempt::InvalidClient => "invalid_client".into(),
            Attempt::NeedsConsent => "consent".into(),
            Attempt::NeedsInteraction { code, claims } => {
                format!("interaction {code} {}", claims.unwrap_or_default())
            }
            Attempt::Failed(e) => format!("failed: {e}"),
        }
    }

    #[test]
    fn sorts_entra_answers_like_msal() {
        let cases = [
            (400, error("invalid_grant", &[65001], None), "consent"),
            (
                400,
                error("interaction_required", &[50079], None),
                "interaction 50079 ",
            ),
            (400, error("consent_required", &[], None), "consent"),
            (
                400,
                error("invalid_grant", &[50076], Some("basic_action")),
                "interaction 50076 ",
            ),
            (
                400,
                TokenErrorResponse {
                    claims: Some(r#"{"access_token":{"acrs":{"essential":true}}}"#.into()),
                    ..error("interaction_required", &[53003], None)
                },
                r#"interaction 53003 {"access_token":{"acrs":{"essential":true}}}"#,
            ),
            (
                400,
                TokenErrorResponse {
                    claims: Some("not json".into()),
                    ..error("interaction_required", &[50079], None)
                },
                "interaction 50079 ",
            ),
            (
                400,
                error("invalid_grant", &[50013], None),
                "failed: the SSO token was refused as an assertion (AADSTS50013)",
            ),
            (
                400,
                error("invalid_grant", &[500133], None),
                "failed: the SSO token was refused as an assertion (AADSTS500133)",
            ),
            (
                401,
                error("invalid_client", &[7000215], None),
                "invalid_client",
            ),
            (
                400,
                error("invalid_client", &[650052], None),
                "failed: the caller's tenant has no service principal for Azure Communication Services (AADSTS650052)",
            ),
            (
                400,
                error("invalid_grant", &[50020], None),
                "failed: Entra answered 400 (invalid_grant AADSTS50020)",
            ),
            (
                503,
                error("temporarily_unavailable", &[], None),
                "failed: Entra token endpoint unavailable: answered 503",
            ),
            (
                400,
                TokenErrorResponse::default(),
                "failed: Entra answered 400 (unexpected answer)",
            ),
            (
                400,
                error("<script>alert(1)</script> call +1-555", &[50020], None),
                "failed: Entra answered 400 (AADSTS50020)",
            ),
            (
                429,
                error("temporarily_unavailable", &[], None),
                "failed: Entra token endpoint throttled the exchange",
            ),
        ];
        for (status, response, expected) in cases {
            assert_eq!(
                kind(classify(status, &response, None, &crate::acs::ACS_SCOPES)),
                expected
            );
        }
    }
}
