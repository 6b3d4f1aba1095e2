//! The token an on-behalf-of exchange issues, as the cache keeps it.

use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::SecretString;
use tokio::time::Instant;

use crate::token_cache::UseBy;

/// An access token obtained on behalf of a user.
pub struct DelegatedToken {
    pub token: SecretString,
    /// When to stop using it (already `token_cache::EXPIRY_MARGIN` before the real expiry).
    pub use_by: Instant,
    /// The permissions Entra says the token carries (the answer's `scope`), lower-case and
    /// without the resource prefix; `None` when Entra did not say.
    pub granted: Option<Vec<String>>,
    /// Set when the resource refused the token (401: expired early, revoked, the user's
    /// sessions ended): the cache must not hand it out again.
    refused: AtomicBool,
}

impl DelegatedToken {
    pub fn new(token: SecretString, use_by: Instant, granted: Option<Vec<String>>) -> Self {
        DelegatedToken {
            token,
            use_by,
            granted,
            refused: AtomicBool::new(false),
        }
    }

    /// The resource answered 401 to this token; the next request gets a new one.
    pub fn mark_refused(&self) {
        self.refused.store(true, Ordering::Relaxed);
    }

    pub(super) fn is_refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    /// Whether the token carries `permission` (e.g. `Chat.Create`); `None` when unknown.
    pub fn grants(&self, permission: &str) -> Option<bool> {
        let wanted = permission.to_ascii_lowercase();
        self.granted
            .as_ref()
            .map(|granted| granted.contains(&wanted))
    }
}

impl std::fmt::Debug for DelegatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegatedToken")
            .field("token", &"[redacted]")
            .field("use_by", &self.use_by)
            .finish()
    }
}

impl UseBy for DelegatedToken {
    fn use_by(&self) -> Instant {
        self.use_by
    }
}
