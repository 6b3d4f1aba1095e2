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

mod entra;
mod token;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::{Caller, TokenDigest};
use crate::otel::metrics::{self, TokenSource};
use crate::secrets::{ClientAuthentication, ClientCredential, Secrets, SecretsError};
use crate::token_cache;
use entra::Attempt;
pub use token::DelegatedToken;

/// Retries while Entra may not have noticed a fresh consent yet (1 s, 2 s, 4 s by default).
const CONSENT_RETRIES: u32 = 3;

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

/// Whose token a cached token is: the user, and the SSO token they presented, since an exchange
/// answers for the assertion it was made with. The ACS tokens, made from on-behalf-of tokens,
/// are kept per the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallerKey {
    tenant_id: Uuid,
    object_id: Uuid,
    assertion: TokenDigest,
}

impl CallerKey {
    pub fn of(caller: &Caller) -> Self {
        CallerKey {
            tenant_id: caller.identity.tenant_id,
            object_id: caller.identity.object_id,
            assertion: caller.token_digest,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    caller: CallerKey,
    scopes: &'static str,
}

impl CacheKey {
    fn new(caller: &Caller, scopes: &ScopeSet) -> Self {
        CacheKey {
            caller: CallerKey::of(caller),
            scopes: scopes.request,
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
        // The cached token, or one exchange shared by every request waiting on this key.
        let cached_or_exchanged = || {
            let exchange = async {
                exchanged.store(true, Ordering::Relaxed);
                match tokio::time::timeout_at(deadline, self.exchange(caller, scopes, deadline))
                    .await
                {
                    Ok(result) => result.map(Arc::new),
                    Err(_) => Err(OboError::Timeout),
                }
            };
            async {
                self.cache
                    .try_get_with(key.clone(), exchange)
                    .await
                    .map_err(|shared| OboError::clone(&shared))
            }
        };
        let cached = cached_or_exchanged().await?;
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
        cached_or_exchanged().await
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
}
