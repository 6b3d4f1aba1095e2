//! Settings, read once at start-up.
//!
//! Every setting of the contract (the README's settings table) is parsed here into a typed value, so the rest of the handler never
//! looks at the environment. The names are the Function App setting names, which makes this file
//! the single list that `local.settings.json.example` and the Bicep `appSettings` must match.
//!
//! A setting that is present but malformed is a deployment mistake: start-up stops with one line
//! that names it (see `main.rs`), rather than failing later on a request.

mod allow_list;
mod connection_string;
mod endpoints;
mod parse;
mod reader;
mod telemetry;

pub use telemetry::{IngestionAuth, TelemetrySettings};

pub use allow_list::{AllowList, AllowedClientApps, AllowedTenants, TEAMS_CLIENT_APPS};
pub use connection_string::ConnectionString;
use endpoints::require_tls;
pub use endpoints::{check_acs_endpoint, is_loopback_host, require_tls_url};

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;
use uuid::Uuid;

use parse::{parse_app_id_uri, parse_base_url, parse_guid, parse_origin, parse_secret_name};
use reader::Reader;
pub use reader::{ConfigError, SettingProblem};

/// Port the handler listens on when the Functions host does not set one.
const DEFAULT_PORT: u16 = 3000;
const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
const DEFAULT_GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";
const DEFAULT_CLIENT_SECRET_NAME: &str = "entra-client-secret";
const DEFAULT_ACS_CONNECTION_STRING_NAME: &str = "acs-connection-string";

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
    /// Whether anything uses the identity: Key Vault, the federated client credential, ACS
    /// configured without an access key, or telemetry with Entra authentication.
    pub needed: bool,
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

impl Config {
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
        let allowed_tenants = reader.required("ENTRA_ALLOWED_TENANTS", |v| {
            AllowList::parse(v, "must be `*` or a comma-separated list of tenant GUIDs")
        });
        let allowed_client_apps = reader.parse("ENTRA_ALLOWED_CLIENT_APPS", |v| {
            AllowList::parse(
                v,
                "must be `*` or a comma-separated list of client app GUIDs",
            )
        });
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
                        needed: needs_managed_identity,
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

#[cfg(test)]
mod tests;
