//! The handler's two secrets (the app's client secret and the ACS connection string) and the
//! managed identity, the only code that touches the Azure SDK.
//!
//! With `KEY_VAULT_URI` set, secrets are read from Key Vault with the managed identity; without
//! it, from settings (local development). Either way a secret is read once, shared by all
//! requests (one read however many ask at once), re-read in the background so rotation is picked
//! up, and re-read at once when Entra reports the client secret invalid.
//!
//! A vault that cannot be read does not stop the handler: the secret's health check says why,
//! and the routes that need it answer 503 until a later read succeeds.
//!
//! The managed-identity credential is only built when a setting asks for it, and only when the
//! App Service identity endpoint is in the process environment (the SDK reads it there), unless
//! `MANAGED_IDENTITY_ALLOW_IMDS=true`: otherwise the SDK would fall back to the VM metadata
//! address, which is wrong for Functions and must never be reached by surprise.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{ClientCredentialKind, Config};
use crate::readiness::Readiness;

/// Why a secret or a managed-identity token is not available, in words safe for logs and the
/// health check: never a secret, a token or an upstream body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    #[error("{0} is not set")]
    NotConfigured(&'static str),
    #[error("Key Vault: {0}")]
    Vault(String),
    #[error("managed identity: {0}")]
    Identity(String),
}

impl SecretsError {
    /// The dependency to name in a 503 answer.
    pub fn dependency(&self) -> &'static str {
        match self {
            SecretsError::NotConfigured(_) => "secret store",
            SecretsError::Vault(_) => "Key Vault",
            SecretsError::Identity(_) => "managed identity endpoint",
        }
    }
}

/// Lets tests send the SDK's requests to a local fake; in production the SDK gets the handler's
/// own HTTP client.
#[derive(Debug, Clone)]
pub struct SdkTransport(pub Transport);

/// Where secrets are read from.
enum SecretStore {
    Vault(SecretClient),
    /// Values given in settings, for local development.
    Settings,
}

/// One named secret: its current value, and how to read it again.
pub struct CachedSecret {
    name: String,
    /// The setting that holds the value when there is no vault.
    setting: &'static str,
    local_value: Option<SecretString>,
    store: Arc<SecretStore>,
    current: ArcSwapOption<SecretString>,
    /// `None` until the first read finishes; then the last read's error, if it failed.
    last_result: Mutex<Option<Option<SecretsError>>>,
    /// One read at a time: a burst of requests for a missing secret waits for one vault call.
    read_lock: tokio::sync::Mutex<()>,
    /// When a rejection last caused a re-read; a second one within `reread_min_interval` gets
    /// the value already held.
    last_rejection_reread: Mutex<Option<std::time::Instant>>,
    reread_min_interval: Duration,
}

impl std::fmt::Debug for CachedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSecret")
            .field("name", &self.name)
            .field("loaded", &self.current.load().is_some())
            .finish_non_exhaustive()
    }
}

impl CachedSecret {
    /// The current value, reading it first if it was never read.
    pub async fn get(&self) -> Result<SecretString, SecretsError> {
        self.get_shared()
            .await
            .map(|value| SecretString::clone(&value))
    }

    /// Like `get`, but the value as it is held: the same `Arc` until the secret is read again,
    /// so what is derived from it can be kept until then (see `DerivedFromSecret`).
    pub async fn get_shared(&self) -> Result<Arc<SecretString>, SecretsError> {
        if let Some(value) = self.current.load_full() {
            return Ok(value);
        }
        let _guard = self.read_lock.lock().await;
        if let Some(value) = self.current.load_full() {
            return Ok(value);
        }
        self.read_locked().await
    }

    /// Called when the service said `rejected` is no longer valid (rotated): reads the secret
    /// again, unless another request already replaced that value, or a re-read for a rejection
    /// happened less than `reread_min_interval` ago (then the held value is returned, and the
    /// caller's retry fails the way the last one did).
    pub async fn refresh_after_rejection(
        &self,
        rejected: &SecretString,
    ) -> Result<SecretString, SecretsError> {
        let _guard = self.read_lock.lock().await;
        if let Some(value) = self.current.load_full()
            && value.expose_secret() != rejected.expose_secret()
        {
            return Ok(SecretString::clone(&value));
        }
        let recent = self
            .last_rejection_reread
            .lock()
            .map(|at| at.is_some_and(|at| at.elapsed() < self.reread_min_interval))
            .unwrap_or(true);
        if recent {
            tracing::info!(secret = %self.name, "secret refused again; not re-read this soon");
            return Ok(SecretString::clone(rejected));
        }
        if let Ok(mut at) = self.last_rejection_reread.lock() {
            *at = Some(std::time::Instant::now());
        }
        self.read_locked()
            .await
            .map(|value| SecretString::clone(&value))
    }

    async fn refresh(&self) -> Result<Arc<SecretString>, SecretsError> {
        let _guard = self.read_lock.lock().await;
        self.read_locked().await
    }

    /// Reads the secret and holds what was read, as a new `Arc` (see `DerivedFromSecret`).
    async fn read_locked(&self) -> Result<Arc<SecretString>, SecretsError> {
        let result = match &*self.store {
            SecretStore::Vault(client) => read_from_vault(client, &self.name).await,
            SecretStore::Settings => self
                .local_value
                .clone()
                .ok_or(SecretsError::NotConfigured(self.setting)),
        };
        if let Ok(mut last_result) = self.last_result.lock() {
            *last_result = Some(result.as_ref().err().cloned());
        }
        match result {
            Ok(value) => {
                let value = Arc::new(value);
                self.current.store(Some(value.clone()));
                Ok(value)
            }
            Err(error) => {
                // Keep serving the last good value: a rotation that fails to read is better
                // answered by the old secret (still valid for a while) than by nothing.
                tracing::warn!(secret = %self.name, error = %error, "secret could not be read");
                self.current.load_full().ok_or(error)
            }
        }
    }

    /// The value as last read, if any (no read is started), as it is held (see `get_shared`).
    pub fn current_shared(&self) -> Option<Arc<SecretString>> {
        self.current.load_full()
    }

    /// Degraded while the last read failed, even when the cached value is still served (the
    /// reason is logged by the read that failed).
    pub fn health(&self) -> Readiness {
        let (attempted, failed) = self
            .last_result
            .lock()
            .map(|r| (r.is_some(), r.as_ref().is_some_and(Option::is_some)))
            .unwrap_or((true, true));
        Readiness::from_attempts(self.current.load().is_some(), attempted, failed)
    }

    fn last_read_failed(&self) -> bool {
        self.last_result
            .lock()
            .map(|r| r.as_ref().is_none_or(Option::is_some))
            .unwrap_or(true)
    }

    /// Reads now (so health is meaningful from the start), then again every `interval`, or
    /// every `retry` while reads fail.
    fn spawn_refresher(self: Arc<Self>, interval: Duration, retry: Duration) {
        tokio::spawn(async move {
            loop {
                let failed = self.refresh().await.is_err() || self.last_read_failed();
                tokio::time::sleep(if failed { retry } else { interval }).await;
            }
        });
    }
}

/// A value computed from a secret (a parsed and checked connection string), kept until the
/// secret is read again: a read stores a new `Arc`, so pointer equality tells a new read from the
/// one the value was computed from, without comparing or hashing secret text.
pub struct DerivedFromSecret<T> {
    memo: ArcSwapOption<(Arc<SecretString>, T)>,
}

impl<T: Clone> DerivedFromSecret<T> {
    pub fn new() -> Self {
        DerivedFromSecret {
            memo: ArcSwapOption::empty(),
        }
    }

    /// What `derive` makes of `secret`, computed at most once per read of the secret (two
    /// requests that race on a new read may both compute it; either result is the same).
    pub fn of(&self, secret: Arc<SecretString>, derive: impl FnOnce(&SecretString) -> T) -> T {
        if let Some(memo) = self.memo.load().as_ref()
            && Arc::ptr_eq(&memo.0, &secret)
        {
            return memo.1.clone();
        }
        let derived = derive(&secret);
        self.memo.store(Some(Arc::new((secret, derived.clone()))));
        derived
    }
}

impl<T: Clone> Default for DerivedFromSecret<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for DerivedFromSecret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedFromSecret")
            .field("derived", &self.memo.load().is_some())
            .finish()
    }
}

async fn read_from_vault(client: &SecretClient, name: &str) -> Result<SecretString, SecretsError> {
    let response = client
        .get_secret(name, None)
        .await
        .map_err(|e| SecretsError::Vault(describe_vault_error(&e, name)))?;
    let secret = response.into_model().map_err(|_| {
        SecretsError::Vault(format!("secret {name} answered with an unreadable body"))
    })?;
    // A secret pasted with a trailing newline (`az keyvault secret set --value "$(cat …)"`)
    // would otherwise fail as invalid_client; no real secret starts or ends with whitespace.
    secret
        .value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
        .ok_or_else(|| SecretsError::Vault(format!("secret {name} has no value")))
}

fn describe_vault_error(error: &azure_core::Error, name: &str) -> String {
    match error.kind() {
        ErrorKind::HttpResponse { status, .. } => match u16::from(*status) {
            401 => "authentication refused (401)".to_owned(),
            403 => "access denied (403): grant the identity Key Vault Secrets User".to_owned(),
            404 => format!("secret {name} not found (404)"),
            code => format!("answered {code}"),
        },
        ErrorKind::Credential => "the managed identity could not get a token".to_owned(),
        ErrorKind::Connection | ErrorKind::Io => "unreachable".to_owned(),
        _ => "request failed".to_owned(),
    }
}

/// The managed identity, with what its endpoint last answered, for the health check.
#[derive(Debug)]
pub struct ManagedIdentity {
    credential: Arc<dyn TokenCredential>,
    /// `None` until a token was asked for; then whether the last request failed.
    last_failed: Mutex<Option<bool>>,
}

impl ManagedIdentity {
    fn new(credential: Arc<dyn TokenCredential>) -> Self {
        ManagedIdentity {
            credential,
            last_failed: Mutex::new(None),
        }
    }

    /// A token for `scope` (cached by the SDK until shortly before it expires).
    pub async fn token(&self, scope: &str) -> Result<SecretString, SecretsError> {
        self.get_token(&[scope], None)
            .await
            .map(|token| SecretString::from(token.token.secret().to_owned()))
            .map_err(|e| SecretsError::Identity(describe_identity_error(&e)))
    }

    fn record(&self, failed: bool) {
        if let Ok(mut last_failed) = self.last_failed.lock() {
            *last_failed = Some(failed);
        }
    }

    pub fn health(&self) -> Readiness {
        let last_failed = self.last_failed.lock().map(|l| *l).unwrap_or(Some(true));
        match last_failed {
            None => Readiness::Starting,
            Some(false) => Readiness::Ok,
            Some(true) => Readiness::Degraded,
        }
    }
}

/// The SDK's own clients (Key Vault) get the identity through this too, so every token request
/// counts for the health check.
#[async_trait::async_trait]
impl TokenCredential for ManagedIdentity {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        let result = self.credential.get_token(scopes, options).await;
        self.record(result.is_err());
        if let Err(error) = &result {
            tracing::warn!(
                error = %describe_identity_error(error),
                "managed identity token not available"
            );
        }
        result
    }
}

/// The credential the app presents to Entra's token endpoint in the on-behalf-of exchange.
#[derive(Debug)]
pub enum ClientCredential {
    Secret(Arc<CachedSecret>),
    /// A managed-identity token for `api://AzureADTokenExchange`, trusted by the app
    /// registration as a federated identity credential: no secret exists at all.
    FederatedIdentity {
        identity: Arc<ManagedIdentity>,
        audience: &'static str,
    },
}

/// What goes into the token request's form for the client's authentication.
pub enum ClientAuthentication {
    Secret(SecretString),
    Assertion(SecretString),
}

impl ClientCredential {
    pub async fn authentication(&self) -> Result<ClientAuthentication, SecretsError> {
        match self {
            ClientCredential::Secret(secret) => {
                secret.get().await.map(ClientAuthentication::Secret)
            }
            ClientCredential::FederatedIdentity { identity, audience } => {
                // The SDK caches this token and renews it five minutes before it expires.
                let scope = format!("{audience}/.default");
                identity
                    .token(&scope)
                    .await
                    .map(ClientAuthentication::Assertion)
            }
        }
    }

    pub fn health(&self) -> Readiness {
        match self {
            ClientCredential::Secret(secret) => secret.health(),
            ClientCredential::FederatedIdentity { identity, .. } => identity.health(),
        }
    }
}

fn describe_identity_error(error: &azure_core::Error) -> String {
    match error.kind() {
        ErrorKind::HttpResponse { status, .. } => {
            format!("token endpoint answered {}", u16::from(*status))
        }
        ErrorKind::Connection | ErrorKind::Io => "token endpoint unreachable".to_owned(),
        _ => "no token".to_owned(),
    }
}

/// The audience Entra expects of a federated assertion, per cloud.
fn token_exchange_audience(authority_host: &str) -> &'static str {
    if authority_host.ends_with(".microsoftonline.us") {
        "api://AzureADTokenExchangeUSGov"
    } else if authority_host.ends_with(".chinacloudapi.cn") {
        "api://AzureADTokenExchangeChina"
    } else {
        "api://AzureADTokenExchange"
    }
}

/// Every secret the handler uses, built from the settings.
#[derive(Debug)]
pub struct Secrets {
    pub client_credential: ClientCredential,
    /// Absent when no connection string is configured (ACS then uses the managed identity, or
    /// is not configured at all).
    pub acs_connection_string: Option<Arc<CachedSecret>>,
    /// The managed identity, when a setting needs it.
    identity: Option<Arc<ManagedIdentity>>,
}

impl Secrets {
    /// Builds the stores and starts their background refresh. Fails only when the managed
    /// identity would be needed but is not safely configured.
    pub fn build(
        config: &Config,
        http: &reqwest::Client,
        transport_override: Option<SdkTransport>,
    ) -> Result<Secrets, SecretsError> {
        let transport = transport_override.map(|t| t.0).unwrap_or_else(|| {
            Transport::new(Arc::new(crate::otel::dependency::TracedSdkClient::new(
                Arc::new(http.clone()),
                "azure",
            )))
        });
        let identity = if config.managed_identity.needed {
            Some(Arc::new(ManagedIdentity::new(managed_identity(
                config,
                transport.clone(),
            )?)))
        } else {
            None
        };

        let store = match (&config.secrets.key_vault_uri, &identity) {
            (Some(vault), Some(identity)) => {
                let options = SecretClientOptions {
                    client_options: sdk_client_options(transport.clone()),
                    ..Default::default()
                };
                let credential: Arc<dyn TokenCredential> = identity.clone();
                let client = SecretClient::new(vault.as_str(), credential, Some(options))
                    .map_err(|_| SecretsError::Vault("KEY_VAULT_URI is not usable".to_owned()))?;
                Arc::new(SecretStore::Vault(client))
            }
            _ => Arc::new(SecretStore::Settings),
        };

        let tuning = &config.tuning;
        let cached = |name: &str, setting: &'static str, local: &Option<SecretString>| {
            let secret = Arc::new(CachedSecret {
                name: name.to_owned(),
                setting,
                local_value: local.clone(),
                store: store.clone(),
                current: ArcSwapOption::empty(),
                last_result: Mutex::new(None),
                read_lock: tokio::sync::Mutex::new(()),
                last_rejection_reread: Mutex::new(None),
                reread_min_interval: tuning.secret_reread_min_interval,
            });
            secret
                .clone()
                .spawn_refresher(tuning.secret_refresh_interval, tuning.secret_retry_interval);
            secret
        };

        let client_credential = match (config.entra.client_credential, &identity) {
            (ClientCredentialKind::ManagedIdentity, Some(identity)) => {
                let audience = token_exchange_audience(&config.entra.authority_host);
                // Warm up in the background: the first request then finds the assertion ready,
                // and health knows early whether the identity endpoint answers.
                let warm = identity.clone();
                tokio::spawn(async move {
                    let _ = warm.token(&format!("{audience}/.default")).await;
                });
                ClientCredential::FederatedIdentity {
                    identity: identity.clone(),
                    audience,
                }
            }
            _ => ClientCredential::Secret(cached(
                &config.secrets.client_secret_name,
                "ENTRA_CLIENT_SECRET",
                &config.secrets.client_secret,
            )),
        };
        let acs_configured = config.secrets.key_vault_uri.is_some()
            || config.secrets.acs_connection_string.is_some();
        let acs_connection_string = acs_configured.then(|| {
            cached(
                &config.secrets.acs_connection_string_name,
                "ACS_CONNECTION_STRING",
                &config.secrets.acs_connection_string,
            )
        });

        Ok(Secrets {
            client_credential,
            acs_connection_string,
            identity,
        })
    }

    /// Health check of the client credential (the ACS connection string is `AcsClient`'s).
    pub fn client_credential_health(&self) -> Readiness {
        self.client_credential.health()
    }

    /// Health check of the managed identity, when one is used.
    pub fn managed_identity_health(&self) -> Option<Readiness> {
        self.identity.as_ref().map(|identity| identity.health())
    }

    /// A managed-identity token for `scope` (cached by the SDK until shortly before expiry).
    pub async fn identity_token(&self, scope: &str) -> Result<SecretString, SecretsError> {
        let identity = self.identity.as_ref().ok_or(SecretsError::NotConfigured(
            "the managed identity (IDENTITY_ENDPOINT)",
        ))?;
        identity.token(scope).await
    }
}

/// Retries inside the SDK stay short: the background refresher and the next request retry
/// anyway, and a request must not hang on a vault that is down.
fn sdk_client_options(transport: Transport) -> ClientOptions {
    ClientOptions {
        transport: Some(transport),
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: time::Duration::milliseconds(100),
            max_retries: 2,
            max_total_elapsed: time::Duration::seconds(3),
            max_delay: time::Duration::seconds(1),
        }),
        ..Default::default()
    }
}

fn managed_identity(
    config: &Config,
    transport: Transport,
) -> Result<Arc<dyn TokenCredential>, SecretsError> {
    // The SDK reads the endpoint from the process environment, not from `Config`; check that
    // what it will see is the App Service endpoint.
    let endpoint_in_env = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]
        .iter()
        .all(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    if !endpoint_in_env && !config.managed_identity.allow_imds {
        return Err(SecretsError::Identity(
            "IDENTITY_ENDPOINT and IDENTITY_HEADER are not set; refusing to fall back to the VM metadata service".to_owned(),
        ));
    }
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id: config
            .managed_identity
            .client_id
            .map(|id| UserAssignedId::ClientId(id.to_string())),
        client_options: sdk_client_options(transport),
    };
    let credential = ManagedIdentityCredential::new(Some(options))
        .map_err(|_| SecretsError::Identity("credential could not be created".to_owned()))?;
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_derived_value_is_computed_once_per_read_of_the_secret() {
        let derived = DerivedFromSecret::new();
        let computed = Cell::new(0);
        let length = |text: &SecretString| {
            computed.set(computed.get() + 1);
            text.expose_secret().len()
        };
        let first_read = Arc::new(SecretString::from("endpoint=a"));
        // A second read of the same text is a new value all the same: it is derived again.
        let second_read = Arc::new(SecretString::from("endpoint=a"));

        let answers = [
            derived.of(first_read.clone(), length),
            derived.of(first_read.clone(), length),
            derived.of(second_read.clone(), length),
            derived.of(second_read, length),
        ];

        assert_eq!(answers, [10; 4]);
        assert_eq!(computed.get(), 2);
    }
}
