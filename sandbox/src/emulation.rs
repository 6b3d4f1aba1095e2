//! Starting the emulated cloud and the real handler, wired together through the handler's
//! ordinary settings.

use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;

use handler::config::Config;
use handler::otel::Telemetry;
use handler::secrets::SdkTransport;
use handler::state::{AppState, Overrides};
use serde_json::json;
use test_support::app_insights::FakeAppInsights;
use test_support::azure_transport::VaultRedirect;
use test_support::cloud::Cloud;
use test_support::directory::{
    EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID, GUEST_OID, SUPERVISOR_OID,
};
use test_support::graph::{FakeGraph, Scripted};
use test_support::key_vault::FakeKeyVault;
use test_support::managed_identity::FakeManagedIdentity;
use test_support::token_endpoint::{Refusal, TokenEndpoint};
use test_support::tokens::unix_now;
use warp::Filter;
use warp::http::Method;

use crate::cors::{self, AllowedOrigins};
use crate::options::Options;
use crate::personas::{self, NEWCO_TENANT};
use crate::tab_build::TabBuild;
use crate::web;

/// The sandbox's own multitenant app registration.
const CLIENT_ID: &str = "5a4db0c5-0000-4000-8000-000000000001";
const APP_ID_URI: &str = "api://localhost/5a4db0c5-0000-4000-8000-000000000001";
/// A vault URL that only the sandbox's transport resolves (to the emulated vault).
const VAULT_URI: &str = "https://remote-expert-sandbox.vault.azure.net";

/// The emulated managed-identity endpoint, bound before the runtime starts.
pub struct IdentityEndpoint {
    listener: std::net::TcpListener,
    header: String,
}

impl IdentityEndpoint {
    /// Binds a loopback port and publishes it as `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`.
    /// Must run before any other thread exists.
    pub fn bind_and_publish() -> std::io::Result<IdentityEndpoint> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}/msi/token", listener.local_addr()?);
        let header = uuid_like();
        #[allow(unsafe_code)]
        // SAFETY: called first thing in `main`, before the runtime or any thread is started, so
        // nothing reads the environment concurrently.
        unsafe {
            std::env::set_var("IDENTITY_ENDPOINT", &endpoint);
            std::env::set_var("IDENTITY_HEADER", &header);
            if std::env::var_os("RUST_LOG").is_none() {
                // The banner is the point; request logs are one RUST_LOG=info away.
                std::env::set_var("RUST_LOG", "warn");
            }
        }
        Ok(IdentityEndpoint { listener, header })
    }
}

/// Fresh random text for the run's secrets; they only ever live inside the emulation.
fn uuid_like() -> String {
    format!(
        "{:032x}",
        std::collections::hash_map::RandomState::new().hash_one(unix_now())
    )
}

use std::hash::BuildHasher;

/// The host page's failure switches, applied to the emulated Graph and Entra ID.
#[derive(Debug)]
struct Switches {
    graph: Arc<FakeGraph>,
    tokens: TokenEndpoint,
}

impl web::Failures for Switches {
    fn throttle_next_search(&self) {
        // The first answer and the handler's three retries, each with a one-second Retry-After.
        self.graph.script(
            std::iter::repeat_with(|| Scripted::throttled(Method::GET, "/me/people", 1)).take(4),
        );
    }

    fn challenge_next_exchange(&self) {
        self.tokens.refuse_next([Refusal::interaction_required()]);
    }
}

pub async fn run(options: Options, identity: IdentityEndpoint) -> Result<(), Box<dyn Error>> {
    let header = identity.header.clone();
    let identity = FakeManagedIdentity::start_on(identity.listener, &header).await?;
    let client_secret = uuid_like();
    let cloud = Cloud::start(CLIENT_ID, &client_secret).await?;
    cloud.trust_managed_identity(identity.issued_tokens());
    let Cloud { entra, graph, acs } = cloud;
    let graph = Arc::new(graph);
    let tokens = entra.token_endpoint();
    let vault = FakeKeyVault::start(identity.issued_tokens()).await?;
    let ingestion = Arc::new(FakeAppInsights::start(Some(identity.issued_tokens())).await?);
    vault.set_secret("entra-client-secret", &client_secret);
    vault.set_secret("acs-connection-string", &acs.connection_string());

    // Newco's user has to consent before the on-behalf-of exchange works (see `personas`).
    let consents = tokens.consents();
    consents.set_client_id(CLIENT_ID);
    let newcomer = personas::newcomer_in_directory();
    consents.require(
        newcomer.tenant_id,
        newcomer.id,
        newcomer.user_principal_name,
    );
    graph.add_user(newcomer);
    // The meeting the host page's "meeting side panel" opens the tab in: scheduled by the field
    // worker's supervisor, with the field worker and the expert of the other organization.
    let meeting = graph.seed_meeting(
        (SUPERVISOR_OID, FIELD_TENANT),
        &[
            (FIELD_WORKER_OID, FIELD_TENANT),
            (EXPERT_OID, EXPERT_TENANT),
        ],
        "Pump 7 vibration: remote assist",
        60,
    );

    let settings: HashMap<&str, String> = HashMap::from([
        ("ENTRA_CLIENT_ID", CLIENT_ID.to_owned()),
        ("ENTRA_APP_ID_URI", APP_ID_URI.to_owned()),
        (
            "ENTRA_ALLOWED_TENANTS",
            format!("{FIELD_TENANT},{EXPERT_TENANT},{NEWCO_TENANT}"),
        ),
        ("ENTRA_AUTHORITY_HOST", entra.authority()),
        ("GRAPH_ENDPOINT", graph.endpoint()),
        ("KEY_VAULT_URI", VAULT_URI.to_owned()),
        ("IDENTITY_ENDPOINT", identity.endpoint()),
        ("IDENTITY_HEADER", header),
        // Telemetry as in Azure: to Application Insights (emulated, over https with the test
        // CA) with the managed identity's token, for the telemetry page.
        (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            ingestion.connection_string(),
        ),
        (
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            "Authorization=AAD".to_owned(),
        ),
        (
            "SSL_CERT_FILE",
            test_support::http::TEST_CA_PEM_PATH.to_owned(),
        ),
    ]);
    let listener = bind(options.port).await?;
    let address = listener.local_addr()?;
    let url = format!("http://{address}");
    // The tab and the host page on origins of their own, as in Teams: the tab is cross-origin
    // to the API (CORS) and to its host (postMessage).
    let next = |offset: u16| match options.port {
        0 => 0,
        port => port.saturating_add(offset),
    };
    let tab_listener = bind(next(1)).await?;
    let host_listener = bind(next(2)).await?;
    let tab_origin = format!("http://{}", tab_listener.local_addr()?);
    let host_origin = format!("http://{}", host_listener.local_addr()?);
    let host_url = format!("{host_origin}/");

    let mut tab_origins = vec![tab_origin.clone()];
    tab_origins.extend(options.tab_origins.iter().cloned());
    for origin in &tab_origins {
        consents.register_redirect_uri(&format!("{origin}/auth-end.html"));
    }

    let mut settings = settings;
    settings.insert("FUNCTIONS_CUSTOMHANDLER_PORT", address.port().to_string());
    let config = Config::from_lookup(|name| settings.get(name).cloned())?;
    let telemetry = Telemetry::build(&config)?.map(Arc::new);
    let _logs = handler::telemetry::init(telemetry.as_deref());
    let overrides = Overrides {
        sdk_transport: Some(SdkTransport(VaultRedirect::transport(vault.addr()))),
    };
    let state = AppState::build_with(config, overrides)?;
    if let Some(telemetry) = &telemetry {
        telemetry.use_identity(state.secrets.clone());
    }

    let api_url = options.api_url.clone().unwrap_or_else(|| url.clone());
    let tab_build = Arc::new(TabBuild::start(web::tab_dir(), web::tab_build_script()));
    let tab = web::TabSite {
        build: tab_build.clone(),
        config: json!({
            "apiBaseUrl": api_url,
            "clientId": CLIENT_ID,
            "authority": entra.authority(),
            "validMessageOrigins": [host_origin],
            "partnerExperts": personas::partner_experts(),
            "sandbox": true,
        }),
        csp: web::tab_csp(&api_url, std::slice::from_ref(&host_origin)),
    };
    let host = web::HostSite {
        dir: web::host_dir(),
        tab_url: format!("{tab_origin}/"),
        authority: entra.authority(),
        client_id: CLIENT_ID.to_owned(),
        graph_state_url: format!("{}/sandbox/state", graph.endpoint()),
        telemetry_url: format!("{url}/telemetry/"),
        meeting,
        host_names: web::loopback_host_names(host_listener.local_addr()?.port()),
        failures: Arc::new(Switches {
            graph: graph.clone(),
            tokens: tokens.clone(),
        }),
    };
    let (_tab_server, _host_server) = (
        serve_site(tab_listener, web::tab_routes(tab)).await?,
        serve_site(host_listener, web::host_routes(host)).await?,
    );

    // Listen for Ctrl-C and SIGTERM before saying we are ready: a script that reads the banner
    // and stops us at once must find the handlers in place.
    let shutdown = handler::server::shutdown_signal()?;
    let expires = unix_now() + options.token_hours * 3600;
    let field_worker_token = entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .claim("exp", expires)
        .sign();
    let expert_token = entra
        .token_v2(CLIENT_ID, EXPERT_TENANT, EXPERT_OID)
        .claim("exp", expires)
        .claim("name", "Robin Expert")
        .claim("preferred_username", "robin@experts.example")
        .sign();
    let state_url = format!("{}/sandbox/state", graph.endpoint());

    if options.tokens_json {
        println!(
            "{}",
            json!({
                "sandbox": true,
                "url": url,
                "hostUrl": host_url,
                "referenceUrl": format!("{url}/docs/"),
                "telemetryUrl": format!("{url}/telemetry/"),
                "tabUrl": format!("{tab_origin}/"),
                "graphStateUrl": state_url,
                "clientId": CLIENT_ID,
                "fieldWorker": {"tenantId": FIELD_TENANT, "objectId": FIELD_WORKER_OID, "token": field_worker_token},
                "expert": {"tenantId": EXPERT_TENANT, "objectId": EXPERT_OID, "token": expert_token},
                "guest": {"tenantId": FIELD_TENANT, "objectId": GUEST_OID},
            })
        );
    } else {
        println!(
            "{}",
            crate::banner::text(
                &host_url,
                &format!("{tab_origin}/"),
                &url,
                &state_url,
                &field_worker_token,
                &expert_token,
                options.token_hours
            )
        );
    }

    // The handler behind the platform's CORS, as the Functions host runs it; the API reference
    // page beside it.
    let exported: Arc<dyn web::TelemetrySource> = Arc::new(Exported {
        telemetry: telemetry.clone(),
        ingestion: ingestion.clone(),
    });
    let routes = web::reference_routes()
        .or(web::telemetry_routes(exported))
        .unify()
        .or(cors::layer(
            AllowedOrigins::new(tab_origins),
            handler::routes::routes(state),
        ))
        .unify();
    handler::server::serve(listener, routes, shutdown).await;
    tab_build.remove();
    eprintln!("sandbox stopped");
    // Keep the emulation alive until the handler has drained.
    drop((identity, entra, graph, acs, vault));
    Ok(())
}

/// The telemetry page's data: flush the exporter, then read what the emulated ingestion holds.
struct Exported {
    telemetry: Option<Arc<Telemetry>>,
    ingestion: Arc<FakeAppInsights>,
}

impl web::TelemetrySource for Exported {
    fn envelopes(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = serde_json::Value> + Send + '_>> {
        Box::pin(async move {
            if let Some(telemetry) = self.telemetry.clone() {
                // The SDK's flush blocks while the upload runs on this runtime.
                let _ = tokio::task::spawn_blocking(move || telemetry.force_flush()).await;
            }
            serde_json::Value::Array(self.ingestion.envelopes())
        })
    }
}

async fn bind(port: u16) -> Result<tokio::net::TcpListener, Box<dyn Error>> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}").into())
}

/// Serves a site until the sandbox stops.
async fn serve_site<F>(
    listener: tokio::net::TcpListener,
    routes: F,
) -> std::io::Result<test_support::http::Running>
where
    F: warp::Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    test_support::http::spawn_on(listener.into_std()?, routes).await
}
