//! The compact JWS form of an Entra access token: `header.payload.signature`.
//!
//! Only what Entra issues is accepted: three base64url segments, a JSON header whose `alg` is
//! `RS256` and which names its key by `kid`. Everything else in the header (`jku`, `x5u`, `jwk`,
//! `x5c`) is ignored on purpose: keys come only from Entra's published key set. A `crit` header
//! is refused: RFC 7515 §4.1.11 says a recipient must reject a token that lists extensions it
//! does not understand, and this one understands none.
//!
//! Signature verification uses aws-lc-rs with a key parsed once per `kid` (see `jwks.rs`), so the
//! per-request cost is the RSA operation itself. The token is hashed once: SHA-256 runs over the
//! signed part, and the state it reached there is both finished into the digest the signature
//! covers and carried on over `.signature` into the digest that names the token in the caches.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// Entra tokens are a few KiB; anything far larger is not one of them, and rejecting it early
/// bounds the work an attacker can ask for.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("token is larger than {MAX_TOKEN_LEN} bytes")]
    TooLarge,
    #[error("token is not three base64url segments")]
    Malformed,
    #[error("token header is not valid JSON")]
    BadHeader,
    #[error("token algorithm is not RS256")]
    UnsupportedAlgorithm,
    #[error("token header names no key")]
    MissingKeyId,
    #[error("token header lists critical extensions")]
    CriticalExtensions,
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token claims are not a JSON object")]
    BadClaims,
}

/// A token's three segments, its shape checked and nothing decoded, with its two digests.
pub struct Segments<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// SHA-256 of `header.payload`: what the RS256 signature signs.
    signed_digest: Digest,
    /// SHA-256 of the whole token.
    token_digest: [u8; 32],
}

impl std::fmt::Debug for Segments<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segments([redacted])")
    }
}

/// A token split into its parts, header checked, signature not yet verified.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    pub key_id: String,
    segments: Segments<'a>,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    /// Only its presence matters: any value, `null` and the empty list included, is refused.
    #[serde(default)]
    crit: Presence,
}

/// Whether a header member was there at all, whatever its value (`Option` would read `null` as
/// absent).
#[derive(Default)]
enum Presence {
    #[default]
    Absent,
    Present,
}

impl<'de> Deserialize<'de> for Presence {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Presence::Present)
    }
}

impl<'a> Segments<'a> {
    pub fn split(token: &'a str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::TooLarge);
        }
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(JwtError::Malformed);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(JwtError::Malformed);
        }
        let signed_len = header.len() + 1 + payload.len();
        let mut hashing = digest::Context::new(&digest::SHA256);
        hashing.update(&token.as_bytes()[..signed_len]);
        let signed_part = hashing.clone();
        hashing.update(&token.as_bytes()[signed_len..]);
        let mut token_digest = [0u8; 32];
        token_digest.copy_from_slice(hashing.finish().as_ref());
        Ok(Segments {
            header,
            payload,
            signature,
            signed_digest: signed_part.finish(),
            token_digest,
        })
    }

    /// SHA-256 of the whole token: equal digests mean the same token, byte for byte.
    pub fn token_digest(&self) -> &[u8; 32] {
        &self.token_digest
    }

    /// Decodes and checks the header: the step before a key can be chosen.
    pub fn into_unverified(self) -> Result<UnverifiedToken<'a>, JwtError> {
        let header_json = URL_SAFE_NO_PAD
            .decode(self.header)
            .map_err(|_| JwtError::Malformed)?;
        let header: Header =
            serde_json::from_slice(&header_json).map_err(|_| JwtError::BadHeader)?;
        // The algorithm is pinned by us; the header may only confirm it.
        if header.alg.as_deref() != Some("RS256") {
            return Err(JwtError::UnsupportedAlgorithm);
        }
        if matches!(header.crit, Presence::Present) {
            return Err(JwtError::CriticalExtensions);
        }
        let key_id = header
            .kid
            .filter(|kid| !kid.is_empty())
            .ok_or(JwtError::MissingKeyId)?;
        Ok(UnverifiedToken {
            key_id,
            segments: self,
        })
    }
}

impl<'a> UnverifiedToken<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JwtError> {
        Segments::split(token)?.into_unverified()
    }

    /// Verifies the RS256 signature and returns the decoded claims bytes.
    pub fn verify(&self, key: &ParsedPublicKey) -> Result<Vec<u8>, JwtError> {
        let signature = URL_SAFE_NO_PAD
            .decode(self.segments.signature)
            .map_err(|_| JwtError::Malformed)?;
        key.verify_digest_sig(&self.segments.signed_digest, &signature)
            .map_err(|_| JwtError::BadSignature)?;
        URL_SAFE_NO_PAD
            .decode(self.segments.payload)
            .map_err(|_| JwtError::BadClaims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn parses_an_rs256_header_with_a_kid() {
        let token = format!(
            "{}.{}.c2ln",
            encode(r#"{"alg":"RS256","kid":"k1"}"#),
            encode("{}")
        );
        let parsed = UnverifiedToken::parse(&token).unwrap();
        assert_eq!(parsed.key_id, "k1");
    }

    #[test]
    fn rejects_shapes_that_are_not_a_signed_jwt() {
        let header = encode(r#"{"alg":"RS256","kid":"k1"}"#);
        let cases = [
            ("".to_string(), JwtError::Malformed),
            ("abc".to_string(), JwtError::Malformed),
            (format!("{header}.e30"), JwtError::Malformed),
            (format!("{header}.e30."), JwtError::Malformed),
            (format!("{header}.e30.c2ln.x.y"), JwtError::Malformed),
            ("!!!.e30.c2ln".to_string(), JwtError::Malformed),
            (
                format!("{}.e30.c2ln", encode("not json")),
                JwtError::BadHeader,
            ),
            (
                format!("{}.e30.c2ln", encode(r#"{"alg":"none","kid":"k1"}"#)),
                JwtError::UnsupportedAlgorithm,
            ),
            (
                format!("{}.e30.c2ln", encode(r#"{"alg":"rs256","kid":"k1"}"#)),
                JwtError::UnsupportedAlgorithm,
            ),
            (
                format!("{}.e30.c2ln", encode(r#"{"kid":"k1"}"#)),
                JwtError::UnsupportedAlgorithm,
            ),
            (
                format!("{}.e30.c2ln", encode(r#"{"alg":"RS256"}"#)),
                JwtError::MissingKeyId,
            ),
            (
                format!("{}.e30.c2ln", encode(r#"{"alg":"RS256","kid":""}"#)),
                JwtError::MissingKeyId,
            ),
            (
                format!(
                    "{}.e30.c2ln",
                    encode(r#"{"alg":"RS256","kid":"k1","crit":["exp"],"exp":1}"#)
                ),
                JwtError::CriticalExtensions,
            ),
            (
                format!(
                    "{}.e30.c2ln",
                    encode(r#"{"alg":"RS256","kid":"k1","crit":null}"#)
                ),
                JwtError::CriticalExtensions,
            ),
            ("a".repeat(MAX_TOKEN_LEN + 1), JwtError::TooLarge),
        ];
        for (token, expected) in cases {
            assert_eq!(
                UnverifiedToken::parse(&token).unwrap_err(),
                expected,
                "{token:.60}"
            );
        }
    }
}
