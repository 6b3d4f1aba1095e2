//! A fake Entra ID: the v1.0 and v2.0 OpenID metadata documents of the `common` authority and
//! their signing key sets, shaped as Entra publishes them.
//!
//! Tests roll keys over, take the endpoints down, and count fetches.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;

use crate::http::{Running, lock, spawn_on, spawn_tls};
use crate::keys::{SIGNING_KEY_A, TestKey};
use crate::token_endpoint::TokenEndpoint;
use crate::tokens::TokenBuilder;

/// How a key is published.
#[derive(Debug, Clone)]
pub struct PublishedKey {
    pub key: TestKey,
    pub in_v1: bool,
    pub in_v2: bool,
    /// Overrides the v2.0 `issuer` of the key (a single-tenant key); the multitenant template
    /// otherwise.
    pub issuer: Option<String>,
}

impl PublishedKey {
    pub fn everywhere(key: TestKey) -> Self {
        PublishedKey {
            key,
            in_v1: true,
            in_v2: true,
            issuer: None,
        }
    }
}

#[derive(Debug)]
struct State {
    scheme: &'static str,
    keys: Vec<PublishedKey>,
    down: bool,
    metadata_requests: usize,
    key_set_requests: usize,
}

#[derive(Debug)]
pub struct FakeEntra {
    server: Running,
    state: Arc<Mutex<State>>,
    tokens: TokenEndpoint,
    /// While `true`, metadata and key requests wait without answering (a slow authority).
    held: tokio::sync::watch::Sender<bool>,
}

impl FakeEntra {
    /// Starts on a random loopback port, publishing `SIGNING_KEY_A`.
    pub async fn start() -> std::io::Result<FakeEntra> {
        FakeEntra::start_on(std::net::TcpListener::bind("127.0.0.1:0")?).await
    }

    /// Starts on a listener bound by the caller: a fixed port keeps the issuer, and so tokens
    /// minted earlier, valid across runs (load tests reuse token files).
    pub async fn start_on(listener: std::net::TcpListener) -> std::io::Result<FakeEntra> {
        FakeEntra::start_with("http", |routes| spawn_on(listener, routes)).await
    }

    /// The same over https, with a certificate signed by the test CA
    /// (`http::TEST_CA_PEM_PATH`), reached as `https://localhost:<port>`.
    pub async fn start_tls() -> std::io::Result<FakeEntra> {
        FakeEntra::start_with("https", spawn_tls).await
    }

    /// The authority's routes (metadata, keys, token endpoint) served by `serve`.
    async fn start_with<F, S>(scheme: &'static str, serve: S) -> std::io::Result<FakeEntra>
    where
        S: FnOnce(warp::filters::BoxedFilter<(warp::reply::Response,)>) -> F,
        F: std::future::Future<Output = std::io::Result<Running>>,
    {
        let state = FakeEntra::initial_state(scheme);
        let tokens = TokenEndpoint::default();
        let held = tokio::sync::watch::Sender::new(false);
        let routes = routes(state.clone(), held.clone())
            .or(tokens.route())
            .unify()
            .boxed();
        Ok(FakeEntra {
            server: serve(routes).await?,
            state,
            tokens,
            held,
        })
    }

    fn initial_state(scheme: &'static str) -> Arc<Mutex<State>> {
        Arc::new(Mutex::new(State {
            scheme,
            keys: vec![PublishedKey::everywhere(SIGNING_KEY_A)],
            down: false,
            metadata_requests: 0,
            key_set_requests: 0,
        }))
    }

    /// What `ENTRA_AUTHORITY_HOST` should be set to.
    pub fn authority(&self) -> String {
        match self.lock().scheme {
            "https" => format!("https://localhost:{}", self.server.addr.port()),
            _ => format!("http://{}", self.server.addr),
        }
    }

    /// The token endpoint (`/{tenant}/oauth2/v2.0/token`) of this authority.
    pub fn token_endpoint(&self) -> &TokenEndpoint {
        &self.tokens
    }

    /// A v2.0 token for this authority, signed with `SIGNING_KEY_A`.
    pub fn token_v2(&self, audience: &str, tenant_id: &str, object_id: &str) -> TokenBuilder {
        TokenBuilder::v2(&self.authority(), audience, tenant_id, object_id)
    }

    pub fn publish(&self, keys: Vec<PublishedKey>) {
        self.tokens
            .trust_signing_keys(keys.iter().map(|k| k.key).collect());
        self.lock().keys = keys;
    }

    /// While held, metadata and key requests are received but not answered, until `release`.
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// While down, every endpoint answers 503 as Entra does during an incident.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    pub fn metadata_requests(&self) -> usize {
        self.lock().metadata_requests
    }

    pub fn key_set_requests(&self) -> usize {
        self.lock().key_set_requests
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

#[derive(Clone, Copy)]
enum Version {
    V1,
    V2,
}

fn routes(
    state: Arc<Mutex<State>>,
    held: tokio::sync::watch::Sender<bool>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let with_state = warp::any().map(move || state.clone());
    let unless_held = warp::any()
        .map(move || held.subscribe())
        .and_then(|mut held: tokio::sync::watch::Receiver<bool>| async move {
            let _ = held.wait_for(|held| !*held).await;
            Ok::<_, std::convert::Infallible>(())
        })
        .untuple_one();
    let host = warp::header::<String>("host");

    let v1_metadata = warp::path!("common" / ".well-known" / "openid-configuration")
        .and(with_state.clone())
        .and(host)
        .map(|state, host| metadata(state, host, Version::V1));
    let v2_metadata = warp::path!("common" / "v2.0" / ".well-known" / "openid-configuration")
        .and(with_state.clone())
        .and(host)
        .map(|state, host| metadata(state, host, Version::V2));
    let v1_keys = warp::path!("common" / "discovery" / "keys")
        .and(with_state.clone())
        .and(host)
        .map(|state, host| key_set(state, host, Version::V1));
    let v2_keys = warp::path!("common" / "discovery" / "v2.0" / "keys")
        .and(with_state)
        .and(host)
        .map(|state, host| key_set(state, host, Version::V2));

    warp::get().and(unless_held).and(
        v1_metadata
            .or(v2_metadata)
            .unify()
            .or(v1_keys)
            .unify()
            .or(v2_keys)
            .unify(),
    )
}

fn metadata(state: Arc<Mutex<State>>, host: String, version: Version) -> warp::reply::Response {
    let mut state = lock(&state);
    state.metadata_requests += 1;
    if state.down {
        return unavailable();
    }
    let authority = format!("{}://{host}", state.scheme);
    let document = match version {
        Version::V1 => json!({
            "issuer": "https://sts.windows.net/{tenantid}/",
            "jwks_uri": format!("{authority}/common/discovery/keys"),
            "token_endpoint": format!("{authority}/common/oauth2/token"),
        }),
        Version::V2 => json!({
            "issuer": format!("{authority}/{{tenantid}}/v2.0"),
            "jwks_uri": format!("{authority}/common/discovery/v2.0/keys"),
            "token_endpoint": format!("{authority}/common/oauth2/v2.0/token"),
        }),
    };
    json_reply(&document)
}

fn key_set(state: Arc<Mutex<State>>, host: String, version: Version) -> warp::reply::Response {
    let mut state = lock(&state);
    state.key_set_requests += 1;
    if state.down {
        return unavailable();
    }
    let template = format!("{}://{host}/{{tenantid}}/v2.0", state.scheme);
    let keys: Vec<Value> = state
        .keys
        .iter()
        .filter_map(|published| match version {
            Version::V1 if published.in_v1 => Some(published.key.public_jwk(None)),
            Version::V2 if published.in_v2 => Some(
                published
                    .key
                    .public_jwk(Some(published.issuer.as_deref().unwrap_or(&template))),
            ),
            _ => None,
        })
        .collect();
    json_reply(&json!({ "keys": keys }))
}

fn json_reply(value: &Value) -> warp::reply::Response {
    use warp::Reply;
    warp::reply::json(value).into_response()
}

fn unavailable() -> warp::reply::Response {
    use warp::Reply;
    warp::reply::with_status("temporarily unavailable", StatusCode::SERVICE_UNAVAILABLE)
        .into_response()
}
