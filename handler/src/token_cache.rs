//! Caching tokens until a margin before they expire: the on-behalf-of tokens and the ACS tokens
//! are both kept per user this way.

use std::time::Duration;

use tokio::time::Instant;

/// Tokens are renewed this long before their issuer says they expire, so a request never
/// carries a token that dies on the way.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A cached token: when to stop using it.
pub trait UseUntil {
    fn use_until(&self) -> Instant;
}

/// When a token obtained at `obtained` and valid for `lifetime` must no longer be used.
pub fn use_until(obtained: Instant, lifetime: Duration) -> Instant {
    obtained + lifetime.saturating_sub(EXPIRY_MARGIN)
}

/// moka's per-entry expiry for tokens: each entry lives until its own `use_until`.
pub struct UntilUseBy;

impl<K, V: UseUntil> moka::Expiry<K, std::sync::Arc<V>> for UntilUseBy {
    fn expire_after_create(
        &self,
        _key: &K,
        value: &std::sync::Arc<V>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.use_until().saturating_duration_since(Instant::now()))
    }
}

/// A cache of one kind of token, per key, each expiring at its own `use_until`.
pub fn cache<K, V>(capacity: u64) -> moka::future::Cache<K, std::sync::Arc<V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: UseUntil + Send + Sync + 'static,
{
    moka::future::Cache::builder()
        .max_capacity(capacity)
        .expire_after(UntilUseBy)
        .build()
}
