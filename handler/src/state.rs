//! The application state every route uses: settings, the token validator and the clients of
//! the Microsoft services, built once from `Config` with their background work started.

use std::sync::Arc;

use crate::acs::{AcsClient, AcsOptions};
use crate::auth::{Expectations, SigningKeys, TokenValidator};
use crate::config::{AllowedClientApps, Config};
use crate::graph::GraphClient;
use crate::http_client;
use crate::obo::{OboOptions, OnBehalfOf};
use crate::secrets::{SdkTransport, Secrets, SecretsError};

/// What every route may use. Cheap to clone: everything inside is shared.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub validator: Arc<TokenValidator>,
    pub secrets: Arc<Secrets>,
    pub obo: Arc<OnBehalfOf>,
    pub graph: Arc<GraphClient>,
    pub acs: Arc<AcsClient>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Client(#[from] http_client::ClientError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// Replacements for what tests cannot reach: the Azure SDK's transport, so its requests for
/// `*.vault.azure.net` can be sent to a local fake.
#[derive(Debug, Default)]
pub struct Overrides {
    pub sdk_transport: Option<SdkTransport>,
}

impl AppState {
    /// Builds the state and starts its background work (key and secret refresh). Needs a Tokio
    /// runtime. Nothing here waits for the network, so the handler answers its readiness probe
    /// at once even when Entra or Key Vault is unreachable.
    pub fn build(config: Config) -> Result<AppState, StartupError> {
        AppState::build_with(config, Overrides::default())
    }

    pub fn build_with(config: Config, overrides: Overrides) -> Result<AppState, StartupError> {
        let http = http_client::build(&config.tuning, &config.tls)?;
        let secrets = Arc::new(Secrets::build(&config, &http, overrides.sdk_transport)?);
        let signing_keys = Arc::new(SigningKeys::new(
            http.clone(),
            &config.entra.authority_host,
            config.tuning.signing_keys_min_refetch_interval,
        ));
        signing_keys.clone().spawn_refresher(
            config.tuning.signing_keys_refresh_interval,
            config.tuning.signing_keys_min_refetch_interval,
        );

        let mut audiences: Vec<Arc<str>> = vec![config.entra.client_id.to_string().into()];
        audiences.extend(config.entra.app_id_uri.as_deref().map(Arc::from));
        if config.entra.allowed_client_apps == AllowedClientApps::Any {
            tracing::warn!(
                "ENTRA_ALLOWED_CLIENT_APPS is *: any client app a user consented to can call this API in that user's name"
            );
        }
        let expectations = Expectations {
            audiences,
            allowed_tenants: config.entra.allowed_tenants.clone(),
            allowed_client_apps: config.entra.allowed_client_apps.clone(),
        };
        let validator = Arc::new(TokenValidator::new(
            signing_keys,
            expectations,
            config.tuning.token_cache_capacity,
        ));
        let obo = Arc::new(OnBehalfOf::new(
            http.clone(),
            &config.entra.authority_host,
            config.entra.client_id,
            secrets.clone(),
            OboOptions {
                consent_backoff: config.tuning.consent_retry_backoff,
                refusal_memory: config.tuning.refusal_memory,
                capacity: config.tuning.delegated_token_cache_capacity,
            },
        ));
        let acs = Arc::new(AcsClient::new(
            http.clone(),
            secrets.clone(),
            obo.clone(),
            AcsOptions {
                endpoint: config.acs_endpoint.clone(),
                client_id: config.entra.client_id,
                retry_backoff: config.tuning.upstream_retry_backoff,
                cache_capacity: config.tuning.delegated_token_cache_capacity,
            },
        ));
        let graph_client = Arc::new(GraphClient::new(
            http,
            &config.graph_endpoint,
            config.tuning.upstream_retry_backoff,
        ));
        Ok(AppState {
            config: Arc::new(config),
            validator,
            secrets,
            obo,
            graph: graph_client,
            acs,
        })
    }
}
