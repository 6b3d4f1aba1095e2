//! Authentication of the Teams SSO token that every route but health requires.
//!
//! - `jwt`: the compact token format and the RS256 signature check.
//! - `jwks`: Entra's signing keys and issuer templates, fetched and kept fresh.
//! - `claims`: the multitenant claim checks that turn a signed token into an `Identity`.
//! - `token_version`: v1.0 or v2.0, which decides issuer, claims and keys.
//!
//! `TokenValidator` ties them together and remembers tokens it has accepted, keyed by a SHA-256
//! of the token, until they expire: a Teams tab re-sends the same token for up to an hour, and
//! the RSA verify is by far the largest cost of a request. A remembered token counts only while
//! the key that signed it is still published: after Entra withdraws a key (an emergency
//! rollover) and the keys are re-read, the token is checked again and refused, as
//! Microsoft.IdentityModel does by verifying against the current keys on every call.
//!
//! The same digest identifies the presented token to the on-behalf-of and ACS caches, which
//! must never hand one SSO token's exchange to another.

pub mod claims;
pub mod jwks;
pub mod jwt;
pub mod token_version;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use warp::http::HeaderValue;

pub use claims::{ClaimsError, Expectations, Identity, TokenVersion};
pub use jwks::{KeyError, SigningKeys};
use jwt::{JwtError, Segments};

/// SHA-256 of a presented SSO token: the key of every cache that answers for that token.
pub type TokenDigest = [u8; 32];

/// The authenticated caller of a request.
#[derive(Clone)]
pub struct Caller {
    pub identity: Arc<Identity>,
    /// The SSO token itself, kept only to be exchanged on behalf of the caller.
    pub token: SsoToken,
    /// Its SHA-256, computed once by the validator.
    pub token_digest: TokenDigest,
    /// The tab says it has just completed consent (`x-consent-retry: 1`), so a consent refusal
    /// may only mean Entra has not caught up yet.
    pub just_consented: bool,
}

/// The request header a tab sends on the retry right after its consent popup succeeded.
pub const CONSENT_RETRY_HEADER: &str = "x-consent-retry";

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("identity", &self.identity)
            .field("token", &"[redacted]")
            .field("just_consented", &self.just_consented)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error(transparent)]
    Token(#[from] JwtError),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error(transparent)]
    Claims(#[from] ClaimsError),
}

pub struct TokenValidator {
    keys: Arc<SigningKeys>,
    expectations: Expectations,
    /// Sharded and compact (S3-FIFO): no global lock, no scans on eviction. Entries are not
    /// timed out by the cache; a lookup treats one past its `exp`, or whose key is no longer
    /// published, as absent.
    accepted: quick_cache::sync::Cache<TokenDigest, Arc<Identity>>,
}

/// What a successful validation yields.
#[derive(Debug, Clone)]
pub struct Validated {
    pub identity: Arc<Identity>,
    pub token_digest: TokenDigest,
}

impl std::fmt::Debug for TokenValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenValidator")
            .field("expectations", &self.expectations)
            .field("cached_tokens", &self.accepted.len())
            .finish_non_exhaustive()
    }
}

impl TokenValidator {
    pub fn new(keys: Arc<SigningKeys>, expectations: Expectations, cache_capacity: u64) -> Self {
        TokenValidator {
            keys,
            expectations,
            accepted: quick_cache::sync::Cache::new(
                usize::try_from(cache_capacity).unwrap_or(usize::MAX).max(1),
            ),
        }
    }

    pub fn signing_keys(&self) -> &SigningKeys {
        &self.keys
    }

    pub async fn validate(&self, token: &str) -> Result<Validated, AuthError> {
        let now = unix_now();
        let segments = Segments::split(token)?;
        let token_digest = *segments.token_digest();
        if let Some(identity) = self.accepted.get(&token_digest) {
            if identity.expires_at >= now && self.still_signed(&identity) {
                return Ok(Validated {
                    identity,
                    token_digest,
                });
            }
            self.accepted.remove(&token_digest);
        }

        let unverified = segments.into_unverified()?;
        let (keys, key) = self.keys.resolve(&unverified.key_id).await?;
        let claims = unverified.verify(&key.public_key)?;
        let identity = Arc::new(self.expectations.check(&claims, &keys, &key, now)?);
        // A token inside the clock-skew grace period is accepted but not remembered, so the
        // cache never answers for a token past its `exp`.
        if identity.expires_at > now {
            self.accepted.insert(token_digest, identity.clone());
        }
        Ok(Validated {
            identity,
            token_digest,
        })
    }

    /// Whether the key that signed a remembered token is still published: trivially while the
    /// key set is the one it was checked against, else by looking its `kid` up in the new set.
    fn still_signed(&self, identity: &Identity) -> bool {
        let check = &identity.vouched_by;
        self.keys.current().as_ref().is_some_and(|set| {
            set.generation() == check.generation || set.still_publishes(&check.key)
        })
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Marks a request that arrived with more than one `Authorization` header. The server sets it
/// before routing, because warp's header filters only ever see the first value, and which of
/// two credentials a proxy or the host would forward is not ours to guess.
#[derive(Debug, Clone, Copy)]
pub struct AmbiguousCredentials;

/// The bearer token of a request, given its `Authorization` header, if it carries one.
///
/// The scheme is case-insensitive (RFC 7235). The credential must be one RFC 6750 `b64token`:
/// a header that carries two credentials (`Bearer a, Bearer b`) or anything after the token is
/// refused rather than cut down to a part of it.
pub fn bearer_token(authorization: Option<&HeaderValue>) -> Result<&str, AuthError> {
    let value = authorization.ok_or(AuthError::Missing)?;
    let value = visible_ascii(value.as_bytes()).ok_or(JwtError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(JwtError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if !is_b64token(token) {
        return Err(JwtError::Malformed.into());
    }
    Ok(token)
}

/// The caller's SSO token, held as the request's own `Authorization` header (whose bytes hyper
/// shares with the request rather than copies) and the token's place in it.
///
/// Every protected request carries one to the on-behalf-of and ACS exchanges; copying 1-2 KB
/// into a zeroize-on-drop `SecretString` per request cost an allocation, a copy and a volatile
/// wipe, and protected nothing, since the request's read buffer holding the same bytes is freed
/// without a wipe. What this keeps from `SecretString` is the part that matters: it never shows
/// in `Debug` and is read only through `expose`.
#[derive(Clone)]
pub struct SsoToken {
    authorization: HeaderValue,
    start: usize,
    end: usize,
}

impl SsoToken {
    /// The bearer token of an `Authorization` header, checked as `bearer_token` does.
    pub fn from_authorization(authorization: HeaderValue) -> Result<SsoToken, AuthError> {
        let (start, end) = {
            let token = bearer_token(Some(&authorization))?;
            let start = token.as_ptr() as usize - authorization.as_bytes().as_ptr() as usize;
            (start, start + token.len())
        };
        Ok(SsoToken {
            authorization,
            start,
            end,
        })
    }

    /// The raw token, for the validator and the on-behalf-of exchange only.
    pub fn expose(&self) -> &str {
        // Checked as a b64token when built, so neither can fail; an empty token would be
        // refused upstream, never mistaken for another.
        let token = self
            .authorization
            .as_bytes()
            .get(self.start..self.end)
            .unwrap_or_default();
        std::str::from_utf8(token).unwrap_or_default()
    }
}

impl std::fmt::Debug for SsoToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SsoToken([redacted])")
    }
}

/// The header as text if it is what `HeaderValue::to_str` accepts (visible ASCII and tab).
///
/// Every protected request runs this and `is_b64token` over 1-2 KB of token: both are written
/// as one pass without an early exit, which the compiler turns into vector code (`to_str` and
/// `all` test a byte at a time).
fn visible_ascii(bytes: &[u8]) -> Option<&str> {
    let visible = bytes.iter().fold(true, |all, &b| {
        all & ((b' '..=b'~').contains(&b) | (b == b'\t'))
    });
    if visible {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

/// RFC 6750 §2.1: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().fold(true, |all, b| {
            all & (b.is_ascii_alphanumeric()
                | (b == b'-')
                | (b == b'.')
                | (b == b'_')
                | (b == b'~')
                | (b == b'+')
                | (b == b'/'))
        })
}

impl Caller {
    /// The raw SSO token, for the on-behalf-of exchange only.
    pub fn token(&self) -> &str {
        self.token.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    #[test]
    fn an_sso_token_is_the_bearer_credential_of_its_header_and_never_shown() {
        let token = SsoToken::from_authorization(header("bearer   eyJh.eyJi.c2ln  ")).unwrap();
        assert_eq!(token.expose(), "eyJh.eyJi.c2ln");
        assert_eq!(format!("{token:?}"), "SsoToken([redacted])");
        assert!(!format!("{:?}", token.clone()).contains("eyJ"));
    }

    #[test]
    fn an_sso_token_refuses_what_bearer_token_refuses() {
        for value in [
            "Basic dXNlcjpwdw==",
            "Bearer",
            "Bearer a, Bearer b",
            "Bearer a b",
        ] {
            assert_eq!(
                SsoToken::from_authorization(header(value)).map(|t| t.expose().to_owned()),
                bearer_token(Some(&header(value))).map(str::to_owned),
                "{value}"
            );
            assert!(
                SsoToken::from_authorization(header(value)).is_err(),
                "{value}"
            );
        }
    }
}
