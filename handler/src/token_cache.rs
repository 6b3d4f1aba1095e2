//! Caching tokens until a margin before they expire: the on-behalf-of tokens and the ACS tokens
//! are both kept per user this way.

use std::time::Duration;

use tokio::time::Instant;

/// Tokens are renewed this long before their issuer says they expire, so a request never
/// carries a token that dies on the way.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A cached token: the moment to stop using it, its "use by".
pub trait UseBy {
    fn use_by(&self) -> Instant;
}

/// When a token obtained at `obtained` and valid for `lifetime` must no longer be used.
pub fn use_by(obtained: Instant, lifetime: Duration) -> Instant {
    obtained + lifetime.saturating_sub(EXPIRY_MARGIN)
}

/// moka's per-entry expiry for tokens: each entry lives until its own `use_by`.
struct ExpiresAtUseBy;

impl<K, V: UseBy> moka::Expiry<K, std::sync::Arc<V>> for ExpiresAtUseBy {
    fn expire_after_create(
        &self,
        _key: &K,
        value: &std::sync::Arc<V>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.use_by().saturating_duration_since(Instant::now()))
    }
}

/// A cache of one kind of token, per key, each expiring at its own `use_by`.
pub fn cache<K, V>(capacity: u64) -> moka::future::Cache<K, std::sync::Arc<V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: UseBy + Send + Sync + 'static,
{
    moka::future::Cache::builder()
        .max_capacity(capacity)
        .expire_after(ExpiresAtUseBy)
        .build()
}
