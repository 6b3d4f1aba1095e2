//! The on-behalf-of exchange: the caller's SSO token for a token to Microsoft Graph (or ACS)
//! that acts as that same user.
//!
//! Tokens are requested from the caller's own tenant (`/{tid}/oauth2/v2.0/token`, never
//! `common`) and cached per (tenant, user, scope set) until five minutes before they expire, so
//! one user's token can never answer for another. Concurrent requests of one user for one scope
//! set share a single exchange.
//!
//! Entra's answers are sorted the way MSAL sorts them: consent or interaction needed (after the
//! short retries the Teams docs recommend for the seconds right after consent), an expired or
//! revoked assertion (the caller must get a new token), a rotated client secret (read it again
//! once), or an outage.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::secrets::{ClientAuthentication, ClientCredential, Secrets, SecretsError};
use crate::upstream::safe_code;

/// Tokens are renewed this long before Entra says they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);
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
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    tenant_id: Uuid,
    object_id: Uuid,
    scopes: &'static str,
}

/// An access token obtained on behalf of a user.
pub struct DelegatedToken {
    pub token: SecretString,
    /// When to stop using it (already `EXPIRY_MARGIN` before the real expiry).
    pub use_until: Instant,
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

impl OboError {
    pub fn into_api_error(self, retry_after: Duration) -> ApiError {
        match self {
            OboError::ConsentRequired { scopes } => ApiError::ConsentRequired { scopes },
            OboError::AssertionRejected(code) => {
                ApiError::InvalidToken(format!("on-behalf-of refused the assertion (AADSTS{code})"))
            }
            OboError::Credential(error) => ApiError::Unavailable {
                dependency: error.dependency(),
                reason: error.to_string(),
                retry_after,
            },
            OboError::Unavailable(reason) => ApiError::Unavailable {
                dependency: "Entra token endpoint",
                reason,
                retry_after,
            },
            OboError::Throttled { retry_after: asked } => ApiError::Throttled {
                service: "Entra ID",
                retry_after: asked.unwrap_or(retry_after),
            },
            OboError::Upstream { status, code } => ApiError::Upstream {
                service: "Entra ID",
                status,
                code,
            },
            OboError::Timeout => ApiError::UpstreamTimeout {
                service: "Entra ID",
            },
        }
    }
}

/// How one token request ended, before retry decisions.
enum Attempt {
    Issued(DelegatedToken),
    InvalidClient,
    NeedsConsent,
    Failed(OboError),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
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
}

pub struct OnBehalfOf {
    http: reqwest::Client,
    authority_host: String,
    client_id: String,
    secrets: Arc<Secrets>,
    consent_backoff: Duration,
    cache: moka::future::Cache<CacheKey, Arc<DelegatedToken>>,
}

impl std::fmt::Debug for OnBehalfOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnBehalfOf")
            .field("authority_host", &self.authority_host)
            .field("cached_tokens", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

struct UntilUseBy;

impl moka::Expiry<CacheKey, Arc<DelegatedToken>> for UntilUseBy {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<DelegatedToken>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.use_until.saturating_duration_since(Instant::now()))
    }
}

impl OnBehalfOf {
    pub fn new(
        http: reqwest::Client,
        authority_host: &str,
        client_id: Uuid,
        secrets: Arc<Secrets>,
        consent_backoff: Duration,
        capacity: u64,
    ) -> Self {
        OnBehalfOf {
            http,
            authority_host: authority_host.to_owned(),
            client_id: client_id.to_string(),
            secrets,
            consent_backoff,
            cache: moka::future::Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilUseBy)
                .build(),
        }
    }

    /// A token for `scopes` acting as `caller`, from the cache or a new exchange, finished
    /// before `deadline`.
    pub async fn token(
        &self,
        caller: &Caller,
        scopes: &ScopeSet,
        deadline: Instant,
    ) -> Result<Arc<DelegatedToken>, OboError> {
        let key = CacheKey {
            tenant_id: caller.identity.tenant_id,
            object_id: caller.identity.object_id,
            scopes: scopes.request,
        };
        let exchange = async {
            match tokio::time::timeout_at(deadline, self.exchange(caller, scopes, deadline)).await {
                Ok(result) => result.map(Arc::new),
                Err(_) => Err(OboError::Timeout),
            }
        };
        self.cache
            .try_get_with(key, exchange)
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
                Attempt::NeedsConsent => {
                    let wait = self.consent_backoff * 2u32.pow(consent_retries);
                    if consent_retries >= CONSENT_RETRIES || Instant::now() + wait >= deadline {
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
        let response = match self.http.post(&url).form(&form).send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => return Attempt::Failed(OboError::Timeout),
            Err(_) => return Attempt::Failed(OboError::Unavailable("unreachable".to_owned())),
        };
        let status = response.status();
        let retry_after = crate::upstream::retry_after(&response);
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(_) => return Attempt::Failed(OboError::Unavailable("answer cut short".to_owned())),
        };
        if status.is_success() {
            return match serde_json::from_slice::<TokenResponse>(&body) {
                Ok(issued) => {
                    let lifetime = Duration::from_secs(issued.expires_in);
                    Attempt::Issued(DelegatedToken {
                        token: SecretString::from(issued.access_token),
                        use_until: started + lifetime.saturating_sub(EXPIRY_MARGIN),
                    })
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
        classify(status.as_u16(), &error, retry_after)
    }
}

fn classify(status: u16, error: &TokenErrorResponse, retry_after: Option<Duration>) -> Attempt {
    if error.error == "invalid_client" {
        return Attempt::InvalidClient;
    }
    if let Some(code) = error
        .error_codes
        .iter()
        .find(|code| ASSERTION_REJECTED.contains(code))
    {
        return Attempt::Failed(OboError::AssertionRejected(*code));
    }
    let interaction = INTERACTION_ERRORS.contains(&error.error.as_str())
        || error
            .suberror
            .as_deref()
            .is_some_and(|s| INTERACTION_SUBERRORS.contains(&s))
        || (error.error == "invalid_grant" && error.error_codes.contains(&CONSENT_NOT_GRANTED));
    if interaction {
        return Attempt::NeedsConsent;
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
                "consent",
            ),
            (400, error("consent_required", &[], None), "consent"),
            (
                400,
                error("invalid_grant", &[50076], Some("basic_action")),
                "consent",
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
            assert_eq!(kind(classify(status, &response, None)), expected);
        }
    }
}
