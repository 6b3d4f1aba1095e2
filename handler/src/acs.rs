//! Azure Communication Services: an ACS access token for the signed-in Teams user, so calling
//! and chat in the tab act as that real user.
//!
//! The caller's SSO token is exchanged on-behalf-of for the ACS Teams scopes, then handed to
//! `POST /teamsUser/:exchangeAccessToken` with our client id and the caller's object id. That
//! call is authenticated either with the resource's access key (HMAC-SHA256 over method, path,
//! date, host and body hash, as ACS documents) or, when the connection string carries no key,
//! with a managed-identity token for `https://communication.azure.com//.default`.
//!
//! ACS tokens are cached per presented SSO token (its SHA-256) and (tenant, user) until five
//! minutes before they expire, like the on-behalf-of tokens they are made from: another SSO
//! token of the same user gets an exchange of its own. Concurrent requests with one token share
//! one exchange.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;
use url::Url;
use uuid::Uuid;

use crate::auth::Caller;
pub use crate::config::ConnectionString;
use crate::config::check_acs_endpoint;
use crate::obo::{CallerKey, OboError, OnBehalfOf, ScopeSet};
use crate::otel::metrics::{self, TokenSource};
use crate::readiness::Readiness;
use crate::secrets::{DerivedFromSecret, Secrets, SecretsError};
use crate::token_cache::{self, UseBy};
use crate::upstream::{RetryPolicy, UpstreamError, http_date, read_json};

pub const SERVICE: &str = "Azure Communication Services";

/// Why no ACS token could be had. Cloneable, because requests of one user that waited on the
/// same exchange all get its failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Obo(#[from] OboError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("the ACS connection string {0}")]
    ConnectionString(String),
    #[error("neither ACS_ENDPOINT nor ACS_CONNECTION_STRING is set")]
    NotConfigured,
    #[error("ACS {0}")]
    Upstream(Arc<UpstreamError>),
    #[error("ACS answered an expiresOn that is not a date-time")]
    BadExpiry,
    #[error("the exchange request could not be built: {0}")]
    Request(String),
}

impl From<UpstreamError> for Error {
    fn from(error: UpstreamError) -> Self {
        Error::Upstream(Arc::new(error))
    }
}

/// The Identity API version of the Teams token exchange. Newer stable versions exist
/// (2026-07-22, 2026-09-23); this is the one the HMAC vectors in the tests were produced with
/// (`signs_like_the_acs_sdk`) and the fakes model, and the exchange's request and
/// answer did not change after it, so it stays until a newer one is tested the same way.
pub const API_VERSION: &str = "2025-06-30";

/// The error code of an exchange that refused the Teams user token itself (observed in the
/// azure-sdk-for-js recordings of `/teamsUser/:exchangeAccessToken`).
const TEAMS_TOKEN_REFUSED: &str = "InvalidAccessToken";

/// The ACS first-party API's delegated permissions a Teams user token must carry.
pub const ACS_SCOPES: ScopeSet = ScopeSet {
    request: "https://auth.msft.communication.azure.com/Teams.ManageCalls https://auth.msft.communication.azure.com/Teams.ManageChats",
    consent: &[
        "https://auth.msft.communication.azure.com/Teams.ManageCalls",
        "https://auth.msft.communication.azure.com/Teams.ManageChats",
    ],
    resource: (SERVICE, "1fd5118e-2576-4263-8130-9503064c837a"),
};

/// The scope of a managed-identity token for the ACS data plane. The resource is
/// `https://communication.azure.com/`, trailing slash included, which is why every Azure SDK
/// (Java, .NET, Python, JavaScript) asks for this double-slash form.
pub const ENTRA_SCOPE: &str = "https://communication.azure.com//.default";

/// The three headers of an HMAC-authenticated ACS request.
#[derive(Debug, PartialEq, Eq)]
pub struct HmacHeaders {
    pub date: String,
    pub content_sha256: String,
    pub authorization: String,
}

/// Signs a request as ACS specifies: `VERB\nPathAndQuery\nx-ms-date;host;x-ms-content-sha256`,
/// HMAC-SHA256 with the decoded access key, everything base64.
pub fn sign(method: &str, url: &Url, body: &[u8], date: &str, key: &[u8]) -> HmacHeaders {
    let content_sha256 = BASE64.encode(digest::digest(&digest::SHA256, body));
    let mut path_and_query = url.path().to_owned();
    if let Some(query) = url.query() {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let string_to_sign = format!("{method}\n{path_and_query}\n{date};{host};{content_sha256}");
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let signature = BASE64.encode(hmac::sign(&key, string_to_sign.as_bytes()));
    HmacHeaders {
        date: date.to_owned(),
        content_sha256,
        authorization: format!(
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
        ),
    }
}

/// How the exchange call is authenticated.
enum Authentication {
    /// HMAC with the connection string's key; `text` is the secret it was parsed from, to name
    /// what ACS refused when it answers 401.
    AccessKey {
        parsed: Arc<ConnectionString>,
        text: Arc<SecretString>,
    },
    Entra(SecretString),
}

/// Where the exchange goes and how it is signed.
struct Signer {
    /// The resource's `/teamsUser/:exchangeAccessToken`, with the API version.
    exchange_url: Url,
    authentication: Authentication,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeRequest<'a> {
    token: &'a str,
    app_id: &'a str,
    user_id: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExchangeResponse {
    token: String,
    expires_on: String,
}

/// An ACS access token of a Teams user.
pub struct AcsToken {
    pub token: SecretString,
    /// As ACS returned it, normalised to RFC 3339 UTC.
    pub expires_on: String,
    use_by: Instant,
}

impl std::fmt::Debug for AcsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcsToken")
            .field("token", &"[redacted]")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

impl UseBy for AcsToken {
    fn use_by(&self) -> Instant {
        self.use_by
    }
}

pub struct AcsClient {
    http: reqwest::Client,
    /// `ACS_ENDPOINT`; otherwise the connection string's endpoint.
    endpoint: Option<Url>,
    client_id: String,
    secrets: Arc<Secrets>,
    obo: Arc<OnBehalfOf>,
    upstream: RetryPolicy,
    cache: moka::future::Cache<CallerKey, Arc<AcsToken>>,
    /// The connection string parsed and checked against `ACS_ENDPOINT` once per read of the
    /// secret, not on every exchange and every health check.
    connection_string: DerivedFromSecret<Result<Arc<ConnectionString>, String>>,
}

impl std::fmt::Debug for AcsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcsClient")
            .field("endpoint", &self.endpoint.as_ref().map(Url::as_str))
            .field("cached_tokens", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

/// Everything `AcsClient::new` needs, named so call sites read well.
pub struct AcsOptions {
    pub endpoint: Option<Url>,
    pub client_id: Uuid,
    pub retry_backoff: Duration,
    pub cache_capacity: u64,
}

impl AcsClient {
    pub fn new(
        http: reqwest::Client,
        secrets: Arc<Secrets>,
        obo: Arc<OnBehalfOf>,
        options: AcsOptions,
    ) -> AcsClient {
        AcsClient {
            http,
            endpoint: options.endpoint,
            client_id: options.client_id.to_string(),
            secrets,
            obo,
            upstream: RetryPolicy {
                service: SERVICE,
                backoff: options.retry_backoff,
                request_id_header: "ms-cv",
            },
            cache: token_cache::cache(options.cache_capacity),
            connection_string: DerivedFromSecret::new(),
        }
    }

    /// The caller's ACS token, from the cache or a new exchange finished before `deadline`.
    pub async fn token_for(
        &self,
        caller: &Caller,
        deadline: Instant,
    ) -> Result<Arc<AcsToken>, Arc<Error>> {
        let key = CallerKey::of(caller);
        let exchanged = std::sync::atomic::AtomicBool::new(false);
        let result = self
            .cache
            .try_get_with(key, async {
                exchanged.store(true, std::sync::atomic::Ordering::Relaxed);
                // Boxed: with its retry after a key rotation the exchange's future is large,
                // and it only runs when the cache misses, beside a network call.
                Box::pin(self.exchange(caller, deadline))
                    .await
                    .map(Arc::new)
            })
            .await;
        metrics::acs_token(match &result {
            Err(_) => TokenSource::Failed,
            Ok(_) if exchanged.load(std::sync::atomic::Ordering::Relaxed) => TokenSource::Exchange,
            Ok(_) => TokenSource::Cache,
        });
        result
    }

    async fn exchange(&self, caller: &Caller, deadline: Instant) -> Result<AcsToken, Error> {
        let signer = self.signer().await?;
        let teams_token = self.obo.token(caller, &ACS_SCOPES, deadline).await?;
        let object_id = caller.identity.object_id.to_string();
        let body = serde_json::to_vec(&ExchangeRequest {
            token: teams_token.token.expose_secret(),
            app_id: &self.client_id,
            user_id: &object_id,
        })
        .map_err(|e| Error::Request(e.to_string()))?;
        let started = Instant::now();
        let response = match self.send_exchange(&signer, &body, deadline).await {
            // A 401 to a signed request: the access key may have been regenerated since the
            // connection string was read. Read it again (at most once a minute, however many
            // requests are refused) and try once more with what the vault holds now. A 401
            // that names the Teams token (`InvalidAccessToken`) is about the user's token, not
            // our key.
            Err(UpstreamError::Status { status: 401, code })
                if code != TEAMS_TOKEN_REFUSED
                    && let Some(secret) = &self.secrets.acs_connection_string
                    && let Authentication::AccessKey { text: used, .. } =
                        &signer.authentication =>
            {
                secret.refresh_after_rejection(used).await?;
                self.send_exchange(&self.signer().await?, &body, deadline)
                    .await?
            }
            other => other?,
        };
        let issued: ExchangeResponse = read_json(response).await?;
        let expires =
            OffsetDateTime::parse(&issued.expires_on, &Rfc3339).map_err(|_| Error::BadExpiry)?;
        let lifetime = (expires - OffsetDateTime::now_utc())
            .try_into()
            .unwrap_or(Duration::ZERO);
        Ok(AcsToken {
            token: SecretString::from(issued.token),
            // Whole seconds, like every other time the API returns.
            expires_on: expires
                .replace_nanosecond(0)
                .unwrap_or(expires)
                .to_offset(time::UtcOffset::UTC)
                .format(&Rfc3339)
                .unwrap_or(issued.expires_on),
            use_by: token_cache::use_by(started, lifetime),
        })
    }

    async fn send_exchange(
        &self,
        signer: &Signer,
        body: &[u8],
        deadline: Instant,
    ) -> Result<reqwest::Response, UpstreamError> {
        let url = &signer.exchange_url;
        self.upstream
            .send(deadline, || {
                let request = self
                    .http
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .body(body.to_vec());
                match &signer.authentication {
                    Authentication::AccessKey { parsed, .. } => {
                        // A fresh date per attempt: ACS refuses signatures more than minutes old.
                        let date = http_date(OffsetDateTime::now_utc());
                        // `signer` picks this arm only for a string with a key.
                        let key = parsed.access_key().unwrap_or_default();
                        let signed = sign("POST", url, body, &date, key);
                        request
                            .header("x-ms-date", signed.date)
                            .header("x-ms-content-sha256", signed.content_sha256)
                            .header("authorization", signed.authorization)
                    }
                    Authentication::Entra(token) => request.bearer_auth(token.expose_secret()),
                }
            })
            .await
    }

    /// Where to send the exchange and how to sign it, from the connection string (access key)
    /// or the managed identity (no key).
    async fn signer(&self) -> Result<Signer, Error> {
        let read = match &self.secrets.acs_connection_string {
            Some(secret) => {
                let text = secret.get_shared().await?;
                let parsed = self
                    .checked_connection_string(text.clone())
                    .map_err(Error::ConnectionString)?;
                Some((parsed, text))
            }
            None => None,
        };
        let mut exchange_url = self
            .endpoint
            .clone()
            .or_else(|| read.as_ref().map(|(parsed, _)| parsed.endpoint.clone()))
            .ok_or(Error::NotConfigured)?;
        exchange_url.set_path("/teamsUser/:exchangeAccessToken");
        exchange_url.set_query(Some(&format!("api-version={API_VERSION}")));
        let authentication = match read.filter(|(parsed, _)| parsed.has_access_key()) {
            Some((parsed, text)) => Authentication::AccessKey { parsed, text },
            None => Authentication::Entra(self.secrets.identity_token(ENTRA_SCOPE).await?),
        };
        Ok(Signer {
            exchange_url,
            authentication,
        })
    }

    /// Settings were checked at start-up; a connection string read from Key Vault is checked
    /// here, before its key signs anything.
    fn checked_connection_string(
        &self,
        text: Arc<SecretString>,
    ) -> Result<Arc<ConnectionString>, String> {
        self.connection_string.of(text, |text| {
            let parsed = ConnectionString::parse(text.expose_secret())?;
            check_acs_endpoint(&parsed.endpoint, self.endpoint.as_ref())?;
            Ok(Arc::new(parsed))
        })
    }

    /// `None` when ACS is not configured at all. A connection string that cannot be used is
    /// degraded; why is logged by the request that tried it.
    pub fn health(&self) -> Option<Readiness> {
        match &self.secrets.acs_connection_string {
            Some(secret) => Some(match secret.health() {
                Readiness::Ok => {
                    let usable = secret
                        .current_shared()
                        .is_some_and(|text| self.checked_connection_string(text).is_ok());
                    if usable {
                        Readiness::Ok
                    } else {
                        Readiness::Degraded
                    }
                }
                other => other,
            }),
            None if self.endpoint.is_some() => Some(Readiness::Ok),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhpcyBpcyBhIHRlc3Qga2V5IGZvciB0aGUgQUNTIEhNQUMgdmVjdG9yIQ==";
    const BODY: &str = r#"{"token":"eyJ0eXAiOiJKV1QifQ.e30.sig","appId":"00000000-0000-0000-0000-00000000a001","userId":"00000000-0000-0000-0000-00000000b002"}"#;
    const DATE: &str = "Thu, 26 Nov 2026 06:24:56 GMT";

    /// Vectors produced with Microsoft's own signing code (the `HMACCredentialsPolicy` of the
    /// Python package azure-communication-identity 1.5.0, its clock fixed to `DATE`) and
    /// cross-checked with a plain HMAC computation: same inputs, same headers.
    #[test]
    fn signs_like_the_acs_sdk() {
        let key = BASE64.decode(KEY).unwrap();
        for (version, signature) in [
            ("2025-06-30", "QaHbjNmEtv21PnbQ1f1JrdV6IcVxN8jSEdoM/Q6B//k="),
            ("2023-10-01", "mzSK7mf0RpgRiKAGQn6fTbBv/Y4voqKcONvsYPl1Mng="),
        ] {
            let url = Url::parse(&format!(
                "https://contoso-acs.communication.azure.com/teamsUser/:exchangeAccessToken?api-version={version}"
            ))
            .unwrap();
            let headers = sign("POST", &url, BODY.as_bytes(), DATE, &key);
            assert_eq!(
                headers.content_sha256,
                "9id4GKfX+XEh9VU4TW2GmiVj2jj3dTByhVAUzjZl6vI="
            );
            assert_eq!(
                headers.authorization,
                format!(
                    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
                )
            );
        }
    }

    #[test]
    fn formats_the_date_as_rfc_1123() {
        let time = OffsetDateTime::parse("2026-11-26T07:24:56+01:00", &Rfc3339).unwrap();
        assert_eq!(http_date(time), DATE);
    }
}
