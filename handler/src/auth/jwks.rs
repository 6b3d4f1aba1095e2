//! Entra's token signing keys, fetched from the OpenID metadata and kept parsed in memory.
//!
//! Entra publishes two metadata documents: v1.0 tokens must be checked against the v1.0 document
//! and v2.0 tokens against the v2.0 one, each naming its own key set and issuer template. Both
//! are read together and swapped in atomically, so a request always sees one consistent set.
//!
//! Keys are never fetched per request. They are loaded in the background at start-up and every
//! day, and re-read when a token names a key we do not know (Entra rolls keys). As in
//! Microsoft.IdentityModel's `ConfigurationManager.RequestRefresh`, the first such re-read after
//! a scheduled load happens at once (a key rolled in just after start-up is honoured), and the
//! ones after it at most once per `signing_keys_min_refetch_interval`, so a stream of forged
//! `kid`s costs Entra one fetch per interval. A request that finds a fetch already running waits
//! for it and re-checks its `kid` against the result instead of fetching again, so a token that
//! arrives during the start-up load does not spend the immediate re-read.
//!
//! Each loaded set carries a generation. A re-read that brings nothing new keeps the set (and its
//! generation); one that changes anything gets the next generation, and keys that are published
//! unchanged are carried over as the same `Arc`, so the token cache can tell cheaply whether the
//! key that signed a remembered token is still published.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument as _;

use arc_swap::ArcSwapOption;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::token_version::TokenVersion;
use crate::readiness::Readiness;

/// The placeholder Entra puts in its multitenant issuer values.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// One verification key, with what Entra says it may sign.
#[derive(Debug)]
pub struct SigningKey {
    pub kid: String,
    pub public_key: ParsedPublicKey,
    /// The JWK's `n` and `e` as published, to recognise the same key in the next set.
    material: Vec<u8>,
    /// Published in the v1.0 key set.
    pub in_v1: bool,
    /// Published in the v2.0 key set.
    pub in_v2: bool,
    /// The v2.0 key set's `issuer` for this key: a template with `{tenantid}` for keys shared by
    /// all tenants, or a fixed issuer for a key that belongs to one tenant.
    pub issuer: Option<String>,
}

impl SigningKey {
    pub fn published_for(&self, version: TokenVersion) -> bool {
        match version {
            TokenVersion::V1 => self.in_v1,
            TokenVersion::V2 => self.in_v2,
        }
    }

    /// Published with the same material, for the same versions and issuer.
    fn same_as(&self, other: &SigningKey) -> bool {
        self.kid == other.kid
            && self.material == other.material
            && self.in_v1 == other.in_v1
            && self.in_v2 == other.in_v2
            && self.issuer == other.issuer
    }
}

/// A consistent snapshot of both key sets and both issuer templates.
#[derive(Debug)]
pub struct KeySet {
    keys: HashMap<String, Arc<SigningKey>>,
    v1_issuer: String,
    v2_issuer: String,
    /// Bumped by every load that changed anything.
    generation: u64,
}

impl KeySet {
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether `key` is still published exactly as it was when this set, or an earlier one,
    /// was loaded. Unchanged keys are carried from set to set as the same `Arc`, so this is a
    /// map lookup and a pointer comparison.
    pub fn still_publishes(&self, key: &Arc<SigningKey>) -> bool {
        self.keys
            .get(&key.kid)
            .is_some_and(|current| Arc::ptr_eq(current, key))
    }

    pub fn issuer_template(&self, version: TokenVersion) -> &str {
        match version {
            TokenVersion::V1 => &self.v1_issuer,
            TokenVersion::V2 => &self.v2_issuer,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key set is current and does not contain this `kid`.
    #[error("no signing key with this id")]
    Unknown,
    /// We cannot tell: keys were never loaded, or the last attempt to re-read them failed.
    #[error("signing keys unavailable")]
    Unavailable,
}

/// Why a fetch failed, in words safe for logs and the health check (never an upstream body).
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("signing key endpoint unreachable")]
    Unreachable(#[source] Arc<reqwest::Error>),
    #[error("signing key endpoint answered {0}")]
    Status(u16),
    #[error("signing key document malformed: {0}")]
    Malformed(&'static str),
    #[error("signing key document names a jwks_uri that is not https")]
    InsecureKeySetUrl,
}

#[derive(Debug, Default)]
struct FetchStatus {
    /// When a token with an unknown `kid` last caused a re-read; cleared by scheduled loads.
    last_unknown_kid_refetch: Option<Instant>,
    /// Whether any load has been tried yet (health says `starting` until then).
    attempted: bool,
    last_error: Option<FetchError>,
}

pub struct SigningKeys {
    http: reqwest::Client,
    v1_metadata_url: String,
    v2_metadata_url: String,
    min_refetch_interval: Duration,
    current: ArcSwapOption<KeySet>,
    status: Mutex<FetchStatus>,
    /// Serialises fetches so a burst of unknown `kid`s waits for one fetch instead of starting many.
    fetch_lock: tokio::sync::Mutex<()>,
    /// Counts finished fetch attempts, so a request that waited for the lock can tell that a
    /// fetch ran meanwhile and share its result.
    fetches_finished: AtomicU64,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("v1_metadata_url", &self.v1_metadata_url)
            .field("v2_metadata_url", &self.v2_metadata_url)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// `authority_host` is e.g. `https://login.microsoftonline.com`. The `common` documents list
    /// the keys of every tenant, which is what a multitenant app needs.
    pub fn new(
        http: reqwest::Client,
        authority_host: &str,
        min_refetch_interval: Duration,
    ) -> Self {
        SigningKeys {
            http,
            v1_metadata_url: format!("{authority_host}/common/.well-known/openid-configuration"),
            v2_metadata_url: format!(
                "{authority_host}/common/v2.0/.well-known/openid-configuration"
            ),
            min_refetch_interval,
            current: ArcSwapOption::empty(),
            status: Mutex::new(FetchStatus::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
            fetches_finished: AtomicU64::new(0),
        }
    }

    /// The key set in use now, if one was ever loaded.
    pub fn current(&self) -> arc_swap::Guard<Option<Arc<KeySet>>> {
        self.current.load()
    }

    /// Finds the key a token names, re-reading the key sets once if it is unknown.
    pub async fn resolve(&self, kid: &str) -> Result<(Arc<KeySet>, Arc<SigningKey>), KeyError> {
        if let Some(found) = self.lookup(kid) {
            return Ok(found);
        }
        self.refetch_unless_recent().await;
        if let Some(found) = self.lookup(kid) {
            return Ok(found);
        }
        let never_loaded = self.current.load().is_none();
        if never_loaded || self.last_error().is_some() {
            Err(KeyError::Unavailable)
        } else {
            Err(KeyError::Unknown)
        }
    }

    fn lookup(&self, kid: &str) -> Option<(Arc<KeySet>, Arc<SigningKey>)> {
        let set = self.current.load_full()?;
        let key = set.keys.get(kid)?.clone();
        Some((set, key))
    }

    /// Degraded while the last load failed, even with cached keys still in use (the failure
    /// itself is logged where it happens).
    pub fn health(&self) -> Readiness {
        let (attempted, failed) = self
            .status
            .lock()
            .map(|status| (status.attempted, status.last_error.is_some()))
            .unwrap_or((true, true));
        Readiness::from_attempts(self.current.load().is_some(), attempted, failed)
    }

    fn last_error(&self) -> Option<FetchError> {
        self.status
            .lock()
            .map(|status| status.last_error.clone())
            .unwrap_or(None)
    }

    /// A re-read for an unknown `kid`: at once if none happened since the last scheduled load,
    /// else only once the interval has passed. Waiters behind a running fetch share its result:
    /// if any fetch finished while this one waited for the lock, the caller looks again in what
    /// it loaded, and the budget for unknown `kid`s is left for the next new key.
    async fn refetch_unless_recent(&self) {
        let finished_before = self.fetches_finished.load(Ordering::Acquire);
        let _guard = self.fetch_lock.lock().await;
        if self.fetches_finished.load(Ordering::Acquire) != finished_before {
            return;
        }
        let allowed = self
            .status
            .lock()
            .map(|status| {
                status
                    .last_unknown_kid_refetch
                    .is_none_or(|at| at.elapsed() >= self.min_refetch_interval)
            })
            .unwrap_or(false);
        if allowed {
            if let Ok(mut status) = self.status.lock() {
                status.last_unknown_kid_refetch = Some(Instant::now());
            }
            let _ = self.fetch_locked().await;
        }
    }

    /// Re-reads both key sets now, as a scheduled load: the next unknown `kid` may re-read at
    /// once. Used at start-up and by the background refresher.
    pub async fn refresh(&self) -> Result<usize, FetchError> {
        let _guard = self.fetch_lock.lock().await;
        let result = self.fetch_locked().await;
        if let Ok(mut status) = self.status.lock() {
            status.last_unknown_kid_refetch = None;
        }
        result
    }

    async fn fetch_locked(&self) -> Result<usize, FetchError> {
        let result = self.fetch_both().await;
        crate::otel::metrics::signing_key_refresh(result.is_ok());
        if let Ok(mut status) = self.status.lock() {
            status.attempted = true;
            status.last_error = result.as_ref().err().cloned();
        }
        let outcome = match result {
            Ok(loaded) => {
                let count = loaded.keys.len();
                let previous = self.current.load_full();
                if let Some(set) = loaded.into_set(previous.as_deref()) {
                    self.current.store(Some(Arc::new(set)));
                }
                tracing::info!(keys = count, "signing keys loaded");
                Ok(count)
            }
            Err(error) => {
                tracing::warn!(error = %error, "signing keys could not be loaded");
                Err(error)
            }
        };
        self.fetches_finished.fetch_add(1, Ordering::Release);
        outcome
    }

    async fn fetch_both(&self) -> Result<LoadedKeys, FetchError> {
        let (v1, v2) = tokio::try_join!(
            self.fetch_one(&self.v1_metadata_url),
            self.fetch_one(&self.v2_metadata_url)
        )?;
        let mut keys: HashMap<String, SigningKey> = HashMap::new();
        for (version, document) in [(TokenVersion::V1, v1.keys), (TokenVersion::V2, v2.keys)] {
            for jwk in document.keys {
                let Some((kid, public_key, material, issuer)) = jwk.into_key() else {
                    continue;
                };
                let entry = keys.entry(kid.clone()).or_insert_with(|| SigningKey {
                    kid,
                    public_key,
                    material,
                    in_v1: false,
                    in_v2: false,
                    issuer: None,
                });
                match version {
                    TokenVersion::V1 => entry.in_v1 = true,
                    TokenVersion::V2 => {
                        entry.in_v2 = true;
                        entry.issuer = issuer;
                    }
                }
            }
        }
        if keys.is_empty() {
            return Err(FetchError::Malformed("no usable RSA signing keys"));
        }
        Ok(LoadedKeys {
            keys,
            v1_issuer: v1.issuer,
            v2_issuer: v2.issuer,
        })
    }

    async fn fetch_one(&self, metadata_url: &str) -> Result<Published, FetchError> {
        let metadata: Metadata = self.get_json(metadata_url).await?;
        if !metadata.issuer.contains(TENANT_PLACEHOLDER) {
            return Err(FetchError::Malformed(
                "issuer is not a multitenant template",
            ));
        }
        let jwks_uri = url::Url::parse(&metadata.jwks_uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or(FetchError::Malformed("jwks_uri is not an http(s) URL"))?;
        // Keys decide whom we trust: fetched in the clear, anyone on the path could swap them.
        crate::config::require_tls_url(jwks_uri).map_err(|_| FetchError::InsecureKeySetUrl)?;
        let keys: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        Ok(Published {
            issuer: metadata.issuer,
            keys,
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, FetchError> {
        let span = crate::otel::dependency::span_for("entra", "GET", url);
        let response = self
            .http
            .get(url)
            .send()
            .instrument(span.clone())
            .await
            .map_err(|e| {
                crate::otel::dependency::record_status(&span, None);
                FetchError::Unreachable(Arc::new(e))
            })?;
        crate::otel::dependency::record_status(&span, Some(response.status().as_u16()));
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let body = crate::upstream::read_capped(response, crate::upstream::MAX_JSON_BODY)
            .await
            .map_err(|error| match error {
                crate::upstream::UpstreamError::Transport(e) => {
                    FetchError::Unreachable(Arc::new(e))
                }
                _ => FetchError::Malformed("document larger than any key set"),
            })?;
        serde_json::from_slice(&body).map_err(|_| FetchError::Malformed("not the expected JSON"))
    }

    /// Loads the keys now and then keeps them fresh: daily when all is well, and every
    /// `retry` while Entra cannot be reached, so an outage at start-up heals by itself.
    pub fn spawn_refresher(self: Arc<Self>, interval: Duration, retry: Duration) {
        tokio::spawn(async move {
            loop {
                let wait = match self.refresh().await {
                    Ok(_) => interval,
                    Err(_) => retry,
                };
                tokio::time::sleep(wait).await;
            }
        });
    }
}

struct Published {
    issuer: String,
    keys: JwkSet,
}

/// Both documents as just read, before they are compared with the set in use.
struct LoadedKeys {
    keys: HashMap<String, SigningKey>,
    v1_issuer: String,
    v2_issuer: String,
}

impl LoadedKeys {
    /// The set to swap in, or `None` when it publishes exactly what `previous` does. Keys that
    /// are unchanged keep their `Arc` from `previous` (see `KeySet::still_publishes`); a change
    /// of issuer template changes what every key vouches for, so then nothing is carried over.
    fn into_set(self, previous: Option<&KeySet>) -> Option<KeySet> {
        let carried_from = previous.filter(|previous| {
            previous.v1_issuer == self.v1_issuer && previous.v2_issuer == self.v2_issuer
        });
        let mut unchanged = 0;
        let keys: HashMap<String, Arc<SigningKey>> = self
            .keys
            .into_iter()
            .map(|(kid, loaded)| {
                let old = carried_from
                    .and_then(|previous| previous.keys.get(&kid))
                    .filter(|old| old.same_as(&loaded));
                let key = match old {
                    Some(old) => {
                        unchanged += 1;
                        old.clone()
                    }
                    None => Arc::new(loaded),
                };
                (kid, key)
            })
            .collect();
        if carried_from
            .is_some_and(|previous| unchanged == keys.len() && previous.keys.len() == keys.len())
        {
            return None;
        }
        Some(KeySet {
            keys,
            v1_issuer: self.v1_issuer,
            v2_issuer: self.v2_issuer,
            generation: previous.map_or(1, |previous| previous.generation + 1),
        })
    }
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    issuer: Option<String>,
}

impl Jwk {
    /// Keeps RSA signing keys with a `kid`; anything else in the set is not for us.
    fn into_key(self) -> Option<(String, ParsedPublicKey, Vec<u8>, Option<String>)> {
        if self.kty.as_deref() != Some("RSA") || self.usage.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let kid = self.kid.filter(|k| !k.is_empty())?;
        let n = URL_SAFE_NO_PAD.decode(self.n?).ok()?;
        let e = URL_SAFE_NO_PAD.decode(self.e?).ok()?;
        let components = RsaPublicKeyComponents {
            n: strip_leading_zeros(&n),
            e: strip_leading_zeros(&e),
        };
        let public_key = components
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .ok()?;
        let mut material = Vec::with_capacity(components.n.len() + components.e.len() + 1);
        material.extend_from_slice(components.n);
        material.push(0);
        material.extend_from_slice(components.e);
        Some((kid, public_key, material, self.issuer))
    }
}

/// aws-lc-rs wants minimal big-endian integers; some JWK writers keep a sign byte.
fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}
