//! Settings, read once at start-up.
//!
//! Every setting of the contract (the README's settings table) is parsed here into a typed value, so the rest of the handler never
//! looks at the environment. The names are the Function App setting names, which makes this file
//! the single list that `local.settings.json.example` and the Bicep `appSettings` must match.
//!
//! A setting that is present but malformed is a deployment mistake: start-up stops with one line
//! that names it (see `main.rs`), rather than failing later on a request.

mod connection_string;
mod endpoints;
mod telemetry;

pub use telemetry::{IngestionAuth, TelemetrySettings};

pub use connection_string::ConnectionString;
use endpoints::require_tls;
pub use endpoints::{check_acs_endpoint, is_loopback_host, require_tls_url};

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;
use uuid::Uuid;

use crate::domain::Guid;

/// Port the handler listens on when the Functions host does not set one.
const DEFAULT_PORT: u16 = 3000;
const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
const DEFAULT_GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";
const DEFAULT_CLIENT_SECRET_NAME: &str = "entra-client-secret";
const DEFAULT_ACS_CONNECTION_STRING_NAME: &str = "acs-connection-string";

/// The Microsoft clients that ask Entra for a Teams tab's SSO token, as the app registration
/// pre-authorizes them (`infra/teams-client-apps.json`, which a test holds this list to).
pub const TEAMS_CLIENT_APPS: &[(&str, &str)] = &[
    (
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "Teams desktop and mobile",
    ),
    ("5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "Teams web"),
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "Microsoft 365 web"),
    (
        "0ec893e0-5785-4de6-99da-4ed124e5296c",
        "Microsoft 365 desktop",
    ),
    (
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "Microsoft 365 mobile, Outlook desktop",
    ),
    ("bc59ab01-8403-45c6-8796-ac3ef710b3e3", "Outlook web"),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook mobile"),
];

/// The names of every setting the handler reads, in the order of the README's settings table.
///
/// Tests compare this list with `local.settings.json.example` and the deployment templates so the
/// three cannot drift apart.
pub const SETTING_NAMES: &[&str] = &[
    "FUNCTIONS_CUSTOMHANDLER_PORT",
    "ENTRA_CLIENT_ID",
    "ENTRA_APP_ID_URI",
    "ENTRA_ALLOWED_TENANTS",
    "ENTRA_ALLOWED_CLIENT_APPS",
    "ENTRA_AUTHORITY_HOST",
    "ENTRA_CLIENT_CREDENTIAL",
    "GRAPH_ENDPOINT",
    "ACS_ENDPOINT",
    "KEY_VAULT_URI",
    "ENTRA_CLIENT_SECRET_NAME",
    "ACS_CONNECTION_STRING_NAME",
    "ENTRA_CLIENT_SECRET",
    "ACS_CONNECTION_STRING",
    "AZURE_CLIENT_ID",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MANAGED_IDENTITY_ALLOW_IMDS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "TELEMETRY_SAMPLING_RATIO",
];

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub entra: EntraSettings,
    pub graph_endpoint: Url,
    pub acs_endpoint: Option<Url>,
    pub secrets: SecretSettings,
    pub managed_identity: ManagedIdentitySettings,
    pub tls: TlsSettings,
    pub telemetry: TelemetrySettings,
    /// Tunables that are not Function App settings; tests shorten them.
    pub tuning: Tuning,
}

#[derive(Debug, Clone)]
pub struct EntraSettings {
    pub client_id: Uuid,
    pub app_id_uri: Option<String>,
    pub allowed_tenants: AllowedTenants,
    pub allowed_client_apps: AllowedClientApps,
    /// Scheme and authority only (no trailing slash), e.g. `https://login.microsoftonline.com`.
    pub authority_host: String,
    pub client_credential: ClientCredentialKind,
}

/// Which tenants may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedTenants {
    /// Any tenant in which an administrator or user consented to the app.
    Any,
    Only(HashSet<Uuid>),
}

impl AllowedTenants {
    pub fn allows(&self, tenant_id: &Uuid) -> bool {
        match self {
            AllowedTenants::Any => true,
            AllowedTenants::Only(tenants) => tenants.contains(tenant_id),
        }
    }
}

/// Which client apps (`azp` / `appid`) may present a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedClientApps {
    /// Any app a user consented to (warned about at start).
    Any,
    Only(HashSet<Uuid>),
}

impl AllowedClientApps {
    /// The Teams, Microsoft 365 and Outlook clients, plus the app itself (a tab that gets its
    /// own token, e.g. through MSAL in a browser outside Teams).
    pub fn teams_clients_and(app: Uuid) -> AllowedClientApps {
        let mut apps: HashSet<Uuid> = TEAMS_CLIENT_APPS
            .iter()
            .filter_map(|(id, _)| Uuid::try_parse(id).ok())
            .collect();
        apps.insert(app);
        AllowedClientApps::Only(apps)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCredentialKind {
    Secret,
    /// The managed identity's token for `api://AzureADTokenExchange` is the client assertion.
    ManagedIdentity,
}

#[derive(Debug, Clone)]
pub struct SecretSettings {
    pub key_vault_uri: Option<Url>,
    pub client_secret_name: String,
    pub acs_connection_string_name: String,
    pub client_secret: Option<SecretString>,
    pub acs_connection_string: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct ManagedIdentitySettings {
    /// Client id of a user-assigned identity; system-assigned when absent.
    pub client_id: Option<Uuid>,
    pub endpoint: Option<Url>,
    pub header: Option<SecretString>,
    /// Without `IDENTITY_ENDPOINT`, the Azure SDK falls back to the VM metadata service at
    /// 169.254.169.254. That is only right on a VM, so it must be asked for explicitly.
    pub allow_imds: bool,
}

impl ManagedIdentitySettings {
    /// The App Service / Functions identity endpoint is configured (both variables set).
    pub fn has_app_service_endpoint(&self) -> bool {
        self.endpoint.is_some() && self.header.is_some()
    }
}

/// Extra trusted root certificates, e.g. for corporate TLS inspection, in the variables OpenSSL
/// made conventional.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    pub cert_file: Option<PathBuf>,
    pub cert_dir: Option<PathBuf>,
}

/// Timings and sizes that operators never need to change, kept in one place so tests can shrink
/// them instead of sleeping.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Signing keys are re-read this often even when nothing asks for a new key.
    pub signing_keys_refresh_interval: Duration,
    /// At most one re-read of the signing keys per this interval when a token names an unknown
    /// key, so a stream of forged `kid`s cannot turn the handler into a load generator for Entra.
    pub signing_keys_min_refetch_interval: Duration,
    /// How long clients are told to wait when a dependency is down.
    pub retry_after: Duration,
    /// Validated tokens kept so a tab that re-sends its token pays the RSA verify once.
    pub token_cache_capacity: u64,
    pub outbound_timeout: Duration,
    /// Secrets are re-read this often, so a rotated secret is picked up without a restart.
    pub secret_refresh_interval: Duration,
    /// While a secret cannot be read, the background refresher tries again this often.
    pub secret_retry_interval: Duration,
    /// A request that calls Entra or Graph answers within this, retries included (the Functions
    /// front end gives up at 230 s; a Teams tab much sooner).
    pub request_deadline: Duration,
    /// First wait before re-trying an exchange refused for consent (then doubled, three times).
    pub consent_retry_backoff: Duration,
    /// First wait before re-trying a throttled Graph or ACS call without `Retry-After`.
    pub upstream_retry_backoff: Duration,
    /// On-behalf-of and ACS tokens kept, one per presented SSO token and scope set.
    pub delegated_token_cache_capacity: u64,
    /// A consent or interaction refusal from Entra is answered from memory this long. Long
    /// enough to absorb a tab's burst of parallel calls and its retries (a page load makes
    /// several), short enough that a user who consented elsewhere is not kept waiting: Entra
    /// itself takes seconds to notice a new consent, and the tab's `x-consent-retry` still gets
    /// through once per window.
    pub refusal_memory: Duration,
    /// A request body must arrive completely within this (the headers have their own limit).
    pub body_read_timeout: Duration,
    /// After Entra refuses the client secret, it is re-read from the vault at most this often:
    /// a secret that is wrong in the vault too must not turn every request into a vault read.
    pub secret_reread_min_interval: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            signing_keys_refresh_interval: Duration::from_secs(24 * 60 * 60),
            signing_keys_min_refetch_interval: Duration::from_secs(30),
            retry_after: Duration::from_secs(30),
            token_cache_capacity: 50_000,
            outbound_timeout: Duration::from_secs(10),
            secret_refresh_interval: Duration::from_secs(10 * 60),
            secret_retry_interval: Duration::from_secs(30),
            request_deadline: Duration::from_secs(25),
            consent_retry_backoff: Duration::from_secs(1),
            upstream_retry_backoff: Duration::from_millis(500),
            delegated_token_cache_capacity: 20_000,
            refusal_memory: Duration::from_secs(15),
            body_read_timeout: Duration::from_secs(15),
            secret_reread_min_interval: Duration::from_secs(60),
        }
    }
}

/// Everything wrong with the settings, so one start-up attempt reports all of it.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<SettingProblem>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct SettingProblem {
    pub setting: &'static str,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{} {}", p.setting, p.reason))
            .collect();
        write!(f, "invalid settings: {}", parts.join("; "))
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Whether anything needs the managed identity: Key Vault, the federated client credential,
    /// or ACS configured without an access key.
    pub fn needs_managed_identity(&self) -> bool {
        let acs_has_key = self
            .secrets
            .acs_connection_string
            .as_ref()
            .and_then(|cs| ConnectionString::parse(cs.expose_secret()).ok())
            .map(|cs| cs.has_access_key());
        managed_identity_needed(
            self.secrets.key_vault_uri.is_some(),
            self.entra.client_credential,
            self.acs_endpoint.is_some(),
            acs_has_key,
        ) || self.telemetry.sends_with_identity()
    }

    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of settings (the environment in production, a
    /// map in tests). Values are trimmed; an empty value counts as absent, as the Azure portal
    /// writes cleared settings as empty strings.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut reader = Reader {
            lookup: &lookup,
            problems: Vec::new(),
        };

        let port = reader
            .parse("FUNCTIONS_CUSTOMHANDLER_PORT", |v| {
                v.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or("is not a TCP port (1-65535)")
            })
            .unwrap_or(DEFAULT_PORT);
        let client_id = reader.required("ENTRA_CLIENT_ID", parse_guid);
        let app_id_uri = reader.parse("ENTRA_APP_ID_URI", parse_app_id_uri);
        let allowed_tenants = reader.required("ENTRA_ALLOWED_TENANTS", parse_allowed_tenants);
        let allowed_client_apps =
            reader.parse("ENTRA_ALLOWED_CLIENT_APPS", parse_allowed_client_apps);
        let authority_host = reader
            .parse("ENTRA_AUTHORITY_HOST", |v| {
                parse_origin(v).and_then(require_tls)
            })
            .unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.to_owned());
        let client_credential = reader
            .parse("ENTRA_CLIENT_CREDENTIAL", |v| match v {
                "secret" => Ok(ClientCredentialKind::Secret),
                "managed-identity" => Ok(ClientCredentialKind::ManagedIdentity),
                _ => Err("must be `secret` or `managed-identity`"),
            })
            .unwrap_or(ClientCredentialKind::Secret);
        let graph_endpoint = reader
            .parse("GRAPH_ENDPOINT", |v| {
                parse_base_url(v).and_then(require_tls_url)
            })
            .or_else(|| Url::parse(DEFAULT_GRAPH_ENDPOINT).ok());
        let acs_endpoint = reader.parse("ACS_ENDPOINT", |v| {
            parse_base_url(v).and_then(require_tls_url)
        });
        let key_vault_uri = reader.parse("KEY_VAULT_URI", |v| {
            parse_base_url(v).and_then(require_tls_url)
        });
        let client_secret_name = reader
            .parse("ENTRA_CLIENT_SECRET_NAME", parse_secret_name)
            .unwrap_or_else(|| DEFAULT_CLIENT_SECRET_NAME.to_owned());
        let acs_connection_string_name = reader
            .parse("ACS_CONNECTION_STRING_NAME", parse_secret_name)
            .unwrap_or_else(|| DEFAULT_ACS_CONNECTION_STRING_NAME.to_owned());
        let client_secret = reader.secret("ENTRA_CLIENT_SECRET");
        let acs_connection_string = reader.secret("ACS_CONNECTION_STRING");
        let acs_connection_string_has_key =
            reader.acs_key_presence(acs_connection_string.as_ref(), acs_endpoint.as_ref());
        let managed_identity_client_id = reader.parse("AZURE_CLIENT_ID", parse_guid);
        let identity_endpoint = reader.parse("IDENTITY_ENDPOINT", parse_base_url);
        let identity_header = reader.secret("IDENTITY_HEADER");
        let allow_imds = reader
            .parse("MANAGED_IDENTITY_ALLOW_IMDS", |v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err("must be `true` or `false`"),
            })
            .unwrap_or(false);
        let cert_file = reader.parse("SSL_CERT_FILE", |v| {
            Some(PathBuf::from(v))
                .filter(|path| path.is_file())
                .ok_or("is not a readable file")
        });
        let cert_dir = reader.parse("SSL_CERT_DIR", |v| {
            Some(PathBuf::from(v))
                .filter(|path| path.is_dir())
                .ok_or("is not a directory")
        });

        let telemetry = telemetry::read(&mut reader, managed_identity_client_id);

        let needs_managed_identity = managed_identity_needed(
            key_vault_uri.is_some(),
            client_credential,
            acs_endpoint.is_some(),
            acs_connection_string_has_key,
        ) || telemetry.sends_with_identity();
        if needs_managed_identity && !allow_imds {
            let purpose = if key_vault_uri.is_some() {
                "KEY_VAULT_URI is set"
            } else if client_credential == ClientCredentialKind::ManagedIdentity {
                "ENTRA_CLIENT_CREDENTIAL is managed-identity"
            } else if telemetry.sends_with_identity() {
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for Entra authentication"
            } else {
                "ACS is configured without an access key"
            };
            reader.require_identity_endpoint(
                purpose,
                identity_endpoint.is_some(),
                identity_header.is_some(),
            );
        }
        if client_credential == ClientCredentialKind::ManagedIdentity
            && managed_identity_client_id.is_none()
            && reader.raw("AZURE_CLIENT_ID").is_none()
        {
            reader.problems.push(SettingProblem {
                setting: "AZURE_CLIENT_ID",
                reason: "is missing: a federated credential needs a user-assigned identity"
                    .to_owned(),
            });
        }

        match (client_id, allowed_tenants, graph_endpoint) {
            (Some(client_id), Some(allowed_tenants), Some(graph_endpoint))
                if reader.problems.is_empty() =>
            {
                Ok(Config {
                    port,
                    entra: EntraSettings {
                        client_id,
                        app_id_uri,
                        allowed_tenants,
                        allowed_client_apps: allowed_client_apps
                            .unwrap_or_else(|| AllowedClientApps::teams_clients_and(client_id)),
                        authority_host,
                        client_credential,
                    },
                    graph_endpoint,
                    acs_endpoint,
                    secrets: SecretSettings {
                        key_vault_uri,
                        client_secret_name,
                        acs_connection_string_name,
                        client_secret,
                        acs_connection_string,
                    },
                    managed_identity: ManagedIdentitySettings {
                        client_id: managed_identity_client_id,
                        endpoint: identity_endpoint,
                        header: identity_header,
                        allow_imds,
                    },
                    tls: TlsSettings {
                        cert_file,
                        cert_dir,
                    },
                    telemetry,
                    tuning: Tuning::default(),
                })
            }
            _ => Err(ConfigError {
                problems: reader.problems,
            }),
        }
    }
}

/// Key Vault is read with the managed identity; the federated credential is its token; and ACS
/// without an access key (in a setting; with a vault the key is read at run time) is called
/// with an Entra token of it. `acs_has_key` is `None` when no connection string is set.
fn managed_identity_needed(
    key_vault: bool,
    credential: ClientCredentialKind,
    acs_endpoint: bool,
    acs_has_key: Option<bool>,
) -> bool {
    let acs_uses_identity =
        !key_vault && acs_has_key != Some(true) && (acs_endpoint || acs_has_key == Some(false));
    key_vault || credential == ClientCredentialKind::ManagedIdentity || acs_uses_identity
}

struct Reader<'a, L: Fn(&str) -> Option<String>> {
    lookup: &'a L,
    problems: Vec<SettingProblem>,
}

impl<L: Fn(&str) -> Option<String>> Reader<'_, L> {
    fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        let raw = self.raw(name)?;
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.problems.push(SettingProblem {
                    setting: name,
                    reason: reason.to_owned(),
                });
                None
            }
        }
    }

    fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        if self.raw(name).is_none() {
            self.problems.push(SettingProblem {
                setting: name,
                reason: "is missing".to_owned(),
            });
            return None;
        }
        self.parse(name, parse)
    }

    fn secret(&self, name: &str) -> Option<SecretString> {
        self.raw(name).map(SecretString::from)
    }

    /// Whether the ACS connection string carries an access key (`None` without one, or when it
    /// cannot be read); a string that does not parse, or whose endpoint disagrees with
    /// `ACS_ENDPOINT`, is a problem.
    fn acs_key_presence(
        &mut self,
        connection_string: Option<&SecretString>,
        acs_endpoint: Option<&Url>,
    ) -> Option<bool> {
        let parsed = match ConnectionString::parse(connection_string?.expose_secret()) {
            Ok(parsed) => parsed,
            Err(reason) => {
                self.problems.push(SettingProblem {
                    setting: "ACS_CONNECTION_STRING",
                    reason: reason.to_owned(),
                });
                return None;
            }
        };
        if let Err(reason) = check_acs_endpoint(&parsed.endpoint, acs_endpoint) {
            self.problems.push(SettingProblem {
                setting: "ACS_CONNECTION_STRING",
                reason,
            });
        }
        Some(parsed.has_access_key())
    }

    /// The App Service identity endpoint must be configured for `purpose`; a setting that is
    /// present but malformed has already been reported.
    fn require_identity_endpoint(&mut self, purpose: &str, endpoint: bool, header: bool) {
        for (setting, present) in [("IDENTITY_ENDPOINT", endpoint), ("IDENTITY_HEADER", header)] {
            if !present && self.raw(setting).is_none() {
                self.problems.push(SettingProblem {
                    setting,
                    reason: format!(
                        "is missing: {purpose}, which needs the App Service managed identity endpoint (set MANAGED_IDENTITY_ALLOW_IMDS=true only on a VM)"
                    ),
                });
            }
        }
    }
}

fn parse_guid(value: &str) -> Result<Uuid, &'static str> {
    Guid::parse(value)
        .map(Uuid::from)
        .ok_or("is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
}

fn parse_allowed_tenants(value: &str) -> Result<AllowedTenants, &'static str> {
    if value == "*" {
        return Ok(AllowedTenants::Any);
    }
    let tenants = value
        .split(',')
        .map(|t| parse_guid(t.trim()))
        .collect::<Result<HashSet<_>, _>>()
        .map_err(|_| "must be `*` or a comma-separated list of tenant GUIDs")?;
    Ok(AllowedTenants::Only(tenants))
}

fn parse_allowed_client_apps(value: &str) -> Result<AllowedClientApps, &'static str> {
    if value == "*" {
        return Ok(AllowedClientApps::Any);
    }
    let apps = value
        .split(',')
        .map(|t| parse_guid(t.trim()))
        .collect::<Result<HashSet<_>, _>>()
        .map_err(|_| "must be `*` or a comma-separated list of client app GUIDs")?;
    Ok(AllowedClientApps::Only(apps))
}

fn parse_app_id_uri(value: &str) -> Result<String, &'static str> {
    let uri = Url::parse(value).map_err(|_| "is not a URI (e.g. api://contoso.example/<id>)")?;
    if uri.cannot_be_a_base() && uri.scheme() != "api" {
        return Err("is not a URI (e.g. api://contoso.example/<id>)");
    }
    // The `aud` claim carries the URI exactly as registered, so compare against the raw text.
    Ok(value.to_owned())
}

/// An `http(s)` URL with a host, normalised to end without a slash so paths can be appended.
fn parse_base_url(value: &str) -> Result<Url, &'static str> {
    let url = Url::parse(value).map_err(|_| "is not a URL")?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err("is not an http(s) URL with a host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment");
    }
    Ok(url)
}

fn parse_origin(value: &str) -> Result<String, &'static str> {
    let url = parse_base_url(value)?;
    if url.path() != "/" {
        return Err("must be a scheme and host only, e.g. https://login.microsoftonline.com");
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn parse_secret_name(value: &str) -> Result<String, &'static str> {
    // Key Vault's own rule for object names.
    let valid = (1..=127).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err("is not a Key Vault secret name (1-127 letters, digits and dashes)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

    fn config_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn problem_settings(err: ConfigError) -> Vec<&'static str> {
        err.problems.iter().map(|p| p.setting).collect()
    }

    #[test]
    fn minimal_settings_take_the_documented_defaults() {
        let config =
            config_from(&[("ENTRA_CLIENT_ID", CLIENT), ("ENTRA_ALLOWED_TENANTS", "*")]).unwrap();
        assert_eq!(config.port, 3000);
        assert_eq!(config.entra.authority_host, DEFAULT_AUTHORITY_HOST);
        assert_eq!(
            config.graph_endpoint.as_str(),
            "https://graph.microsoft.com/"
        );
        assert_eq!(config.entra.client_credential, ClientCredentialKind::Secret);
        assert_eq!(config.secrets.client_secret_name, "entra-client-secret");
        assert_eq!(
            config.secrets.acs_connection_string_name,
            "acs-connection-string"
        );
        assert_eq!(config.entra.allowed_tenants, AllowedTenants::Any);
    }

    #[test]
    fn every_missing_required_setting_is_named() {
        let err = config_from(&[]).unwrap_err();
        assert_eq!(
            problem_settings(err),
            vec!["ENTRA_CLIENT_ID", "ENTRA_ALLOWED_TENANTS"]
        );
    }

    #[test]
    fn malformed_settings_are_each_named() {
        let cases = [
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "eighty"),
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "0"),
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "70000"),
            ("ENTRA_CLIENT_ID", "not-a-guid"),
            ("ENTRA_CLIENT_ID", "{11111111-2222-3333-4444-555555555555}"),
            ("ENTRA_ALLOWED_TENANTS", "contoso.com"),
            (
                "ENTRA_ALLOWED_TENANTS",
                "11111111-2222-3333-4444-555555555555,,",
            ),
            ("ENTRA_APP_ID_URI", "not a uri"),
            ("ENTRA_AUTHORITY_HOST", "login.microsoftonline.com"),
            (
                "ENTRA_AUTHORITY_HOST",
                "https://login.microsoftonline.com/common",
            ),
            ("ENTRA_CLIENT_CREDENTIAL", "certificate"),
            ("GRAPH_ENDPOINT", "ftp://graph.microsoft.com"),
            ("ACS_ENDPOINT", "https://"),
            ("KEY_VAULT_URI", "https://vault.example/?x=1"),
            ("ENTRA_CLIENT_SECRET_NAME", "has spaces"),
            (
                "ACS_CONNECTION_STRING",
                "endpoint=https://x.communication.azure.com/;accesskey=%%%",
            ),
            ("ACS_CONNECTION_STRING", "accesskey=c2VjcmV0"),
            ("ACS_CONNECTION_STRING_NAME", "under_score"),
            ("AZURE_CLIENT_ID", "123"),
            ("IDENTITY_ENDPOINT", "localhost:8081"),
            ("MANAGED_IDENTITY_ALLOW_IMDS", "yes"),
            ("SSL_CERT_FILE", "/nonexistent/ca.pem"),
            ("SSL_CERT_DIR", "/nonexistent/certs"),
        ];
        for (setting, value) in cases {
            let mut pairs = vec![("ENTRA_CLIENT_ID", CLIENT), ("ENTRA_ALLOWED_TENANTS", "*")];
            pairs.retain(|(k, _)| *k != setting);
            pairs.push((setting, value));
            let err = config_from(&pairs).unwrap_err();
            assert_eq!(problem_settings(err), vec![setting], "{setting}={value}");
        }
    }

    #[test]
    fn token_receiving_endpoints_must_be_https_unless_on_loopback() {
        let endpoints = [
            "ENTRA_AUTHORITY_HOST",
            "GRAPH_ENDPOINT",
            "ACS_ENDPOINT",
            "KEY_VAULT_URI",
        ];
        let base = [
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("MANAGED_IDENTITY_ALLOW_IMDS", "true"),
        ];
        for setting in endpoints {
            for refused in ["http://login.contoso.example", "http://10.0.0.4:8080"] {
                let mut pairs = base.to_vec();
                pairs.push((setting, refused));
                let err = config_from(&pairs).unwrap_err();
                assert_eq!(problem_settings(err), vec![setting], "{setting}={refused}");
            }
            for accepted in [
                "https://login.contoso.example",
                "http://127.0.0.1:8080",
                "http://127.8.0.2:1",
                "http://localhost:3000",
                "http://[::1]:8080",
            ] {
                let mut pairs = base.to_vec();
                pairs.push((setting, accepted));
                assert!(config_from(&pairs).is_ok(), "{setting}={accepted}");
            }
        }
        let err = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            (
                "ACS_CONNECTION_STRING",
                "endpoint=http://acs.contoso.example/;accesskey=c2VjcmV0",
            ),
        ])
        .unwrap_err();
        assert_eq!(problem_settings(err), vec!["ACS_CONNECTION_STRING"]);
    }

    #[test]
    fn acs_endpoint_and_connection_string_must_name_the_same_resource() {
        let with = |endpoint: &str| {
            config_from(&[
                ("ENTRA_CLIENT_ID", CLIENT),
                ("ENTRA_ALLOWED_TENANTS", "*"),
                ("ACS_ENDPOINT", endpoint),
                (
                    "ACS_CONNECTION_STRING",
                    "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0",
                ),
            ])
        };
        assert!(with("https://contoso.communication.azure.com").is_ok());
        assert!(with("https://contoso.communication.azure.com/").is_ok());
        let err = with("https://fabrikam.communication.azure.com").unwrap_err();
        let line = err.to_string();
        assert_eq!(problem_settings(err), vec!["ACS_CONNECTION_STRING"]);
        assert!(line.contains("ACS_ENDPOINT"), "{line}");
        assert!(!line.contains("c2VjcmV0"), "{line}");
    }

    #[test]
    fn client_apps_default_to_the_pre_authorized_teams_clients_and_the_app() {
        let config =
            config_from(&[("ENTRA_CLIENT_ID", CLIENT), ("ENTRA_ALLOWED_TENANTS", "*")]).unwrap();
        let AllowedClientApps::Only(apps) = &config.entra.allowed_client_apps else {
            panic!("the default is a list");
        };
        assert_eq!(apps.len(), TEAMS_CLIENT_APPS.len() + 1);
        assert!(apps.contains(&Uuid::parse_str(CLIENT).unwrap()));

        let listed = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            (
                "ENTRA_ALLOWED_CLIENT_APPS",
                "aaaaaaaa-0000-0000-0000-000000000001, aaaaaaaa-0000-0000-0000-000000000002",
            ),
        ])
        .unwrap();
        let AllowedClientApps::Only(apps) = &listed.entra.allowed_client_apps else {
            panic!("a list");
        };
        assert_eq!(apps.len(), 2, "the setting replaces the default");
        let err = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("ENTRA_ALLOWED_CLIENT_APPS", "teams"),
        ])
        .unwrap_err();
        assert_eq!(problem_settings(err), vec!["ENTRA_ALLOWED_CLIENT_APPS"]);
    }

    /// The Bicep app registration pre-authorizes exactly the clients the handler allows by
    /// default: both read `infra/teams-client-apps.json`'s list, one from the file, one here.
    #[test]
    fn teams_client_apps_agree_with_the_app_registration() {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Listed {
            client_id: String,
            name: String,
        }
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../infra/teams-client-apps.json"
        );
        let listed: Vec<Listed> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let from_file: Vec<(&str, &str)> = listed
            .iter()
            .map(|l| (l.client_id.as_str(), l.name.as_str()))
            .collect();
        assert_eq!(from_file, TEAMS_CLIENT_APPS);
    }

    #[test]
    fn managed_identity_without_its_endpoint_refuses_to_start() {
        // Otherwise the Azure SDK would wander off to the VM metadata address.
        let err = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("KEY_VAULT_URI", "https://contoso.vault.azure.net"),
        ])
        .unwrap_err();
        assert_eq!(
            problem_settings(err),
            vec!["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]
        );

        let opted_in = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("KEY_VAULT_URI", "https://contoso.vault.azure.net"),
            ("MANAGED_IDENTITY_ALLOW_IMDS", "true"),
        ]);
        assert!(opted_in.is_ok());
    }

    #[test]
    fn acs_without_an_access_key_needs_the_identity_endpoint() {
        let err = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("ACS_ENDPOINT", "https://contoso.communication.azure.com"),
        ])
        .unwrap_err();
        assert_eq!(
            problem_settings(err),
            vec!["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]
        );

        let with_key = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("ACS_ENDPOINT", "https://contoso.communication.azure.com"),
            (
                "ACS_CONNECTION_STRING",
                "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0",
            ),
        ])
        .unwrap();
        assert!(!with_key.needs_managed_identity());
    }

    #[test]
    fn a_malformed_connection_string_is_named_without_its_key() {
        let err = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            (
                "ACS_CONNECTION_STRING",
                "endpoint=https://x.example/;accesskey=c2VjcmV0;extra=1",
            ),
        ])
        .unwrap_err();
        let line = err.to_string();
        assert!(
            line.contains("ACS_CONNECTION_STRING is malformed"),
            "{line}"
        );
        assert!(!line.contains("c2VjcmV0"));
    }

    #[test]
    fn a_federated_credential_needs_a_user_assigned_identity() {
        let err = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("ENTRA_CLIENT_CREDENTIAL", "managed-identity"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41234/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ])
        .unwrap_err();
        assert_eq!(problem_settings(err), vec!["AZURE_CLIENT_ID"]);
    }

    #[test]
    fn empty_values_count_as_absent() {
        let config = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", " * "),
            ("KEY_VAULT_URI", ""),
            ("FUNCTIONS_CUSTOMHANDLER_PORT", "  "),
        ])
        .unwrap();
        assert!(config.secrets.key_vault_uri.is_none());
        assert_eq!(config.port, 3000);
    }

    #[test]
    fn tenant_list_allows_only_the_listed_tenants() {
        let config = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            (
                "ENTRA_ALLOWED_TENANTS",
                "aaaaaaaa-0000-0000-0000-000000000001, aaaaaaaa-0000-0000-0000-000000000002",
            ),
        ])
        .unwrap();
        let allowed = &config.entra.allowed_tenants;
        assert!(allowed.allows(&Uuid::parse_str("aaaaaaaa-0000-0000-0000-000000000002").unwrap()));
        assert!(!allowed.allows(&Uuid::parse_str("aaaaaaaa-0000-0000-0000-000000000003").unwrap()));
    }

    #[test]
    fn secrets_do_not_print() {
        let config = config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("ENTRA_CLIENT_SECRET", "super-secret-value"),
            (
                "ACS_CONNECTION_STRING",
                "endpoint=https://x/;accesskey=c2VjcmV0",
            ),
            ("IDENTITY_HEADER", "identity-header-value"),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("super-secret-value"));
        assert!(!printed.contains("c2VjcmV0"));
        assert!(!printed.contains("identity-header-value"));
    }

    #[test]
    fn error_message_is_one_line_naming_each_setting() {
        let err = config_from(&[("ENTRA_CLIENT_ID", "nope")]).unwrap_err();
        let line = err.to_string();
        assert!(!line.contains('\n'));
        assert!(line.contains("ENTRA_CLIENT_ID is not a GUID"));
        assert!(line.contains("ENTRA_ALLOWED_TENANTS is missing"));
    }

    #[test]
    fn setting_names_cover_every_lookup() {
        let looked_up = std::cell::RefCell::new(Vec::new());
        let _ = Config::from_lookup(|name| {
            looked_up.borrow_mut().push(name.to_owned());
            None
        });
        let mut looked_up = looked_up.into_inner();
        looked_up.sort();
        looked_up.dedup();
        let mut declared: Vec<String> = SETTING_NAMES.iter().map(|s| s.to_string()).collect();
        declared.sort();
        assert_eq!(looked_up, declared);
    }
}
