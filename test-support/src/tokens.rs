//! Entra-shaped access tokens for tests: real RS256 signatures over real claims, plus every way a
//! token can be wrong.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};

use crate::keys::{SIGNING_KEY_A, TestKey};

/// The Teams web client, which is what asks Entra for SSO tokens in a browser.
pub const TEAMS_WEB_CLIENT_ID: &str = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346";

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The parsed private key of a fixture, parsed once: PEM parsing costs more than signing.
fn encoding_key(key: TestKey) -> &'static EncodingKey {
    static PARSED: OnceLock<Mutex<HashMap<&'static str, &'static EncodingKey>>> = OnceLock::new();
    let mut parsed = PARSED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    parsed.entry(key.kid).or_insert_with(|| {
        let encoding = EncodingKey::from_rsa_pem(key.private_pem.as_bytes())
            .unwrap_or_else(|e| panic!("fixture key {} is not a PEM RSA key: {e}", key.kid));
        Box::leak(Box::new(encoding))
    })
}

/// A token under construction: header and claims as JSON, and the key that will sign it.
#[derive(Debug, Clone)]
pub struct TokenBuilder {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    key: TestKey,
}

impl TokenBuilder {
    /// A v2.0 SSO token as Entra issues it for an app with `requestedAccessTokenVersion: 2`.
    pub fn v2(authority: &str, audience: &str, tenant_id: &str, object_id: &str) -> Self {
        let now = unix_now();
        let claims = json!({
            "aud": audience,
            "iss": format!("{authority}/{tenant_id}/v2.0"),
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 3600,
            "azp": TEAMS_WEB_CLIENT_ID,
            "azpacr": "0",
            "name": "Avery Field",
            "oid": object_id,
            "preferred_username": "avery@fieldworks.example",
            "scp": "access_as_user",
            "sub": "sub-of-avery",
            "tid": tenant_id,
            "ver": "2.0",
        });
        TokenBuilder::from_claims(claims)
    }

    /// A v1.0 SSO token, as issued when the app registration leaves the token version unset.
    pub fn v1(audience: &str, tenant_id: &str, object_id: &str) -> Self {
        let now = unix_now();
        let claims = json!({
            "aud": audience,
            "iss": format!("https://sts.windows.net/{tenant_id}/"),
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 3600,
            "appid": TEAMS_WEB_CLIENT_ID,
            "appidacr": "0",
            "name": "Robin Expert",
            "oid": object_id,
            "upn": "robin@experts.example",
            "unique_name": "robin@experts.example",
            "scp": "access_as_user",
            "sub": "sub-of-robin",
            "tid": tenant_id,
            "ver": "1.0",
        });
        TokenBuilder::from_claims(claims)
    }

    fn from_claims(claims: Value) -> Self {
        let claims = match claims {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let mut header = Map::new();
        header.insert("typ".into(), json!("JWT"));
        header.insert("alg".into(), json!("RS256"));
        header.insert("kid".into(), json!(SIGNING_KEY_A.kid));
        TokenBuilder {
            header,
            claims,
            key: SIGNING_KEY_A,
        }
    }

    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.to_owned(), value.into());
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// Signs with `key` and names it in `kid`.
    pub fn signed_with(mut self, key: TestKey) -> Self {
        self.key = key;
        self.header.insert("kid".into(), json!(key.kid));
        self
    }

    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    fn signing_input(&self) -> String {
        let header = URL_SAFE_NO_PAD.encode(Value::Object(self.header.clone()).to_string());
        let claims = URL_SAFE_NO_PAD.encode(Value::Object(self.claims.clone()).to_string());
        format!("{header}.{claims}")
    }

    /// The compact token, RS256-signed with the chosen key (whatever `alg` the header says).
    pub fn sign(&self) -> String {
        let input = self.signing_input();
        let key = encoding_key(self.key);
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, Algorithm::RS256)
            .unwrap_or_else(|e| panic!("signing failed: {e}"));
        format!("{input}.{signature}")
    }

    /// The classic confusion attack: HS256 with the RSA *public* key text as the HMAC secret.
    pub fn sign_hs256_with_public_key(mut self) -> String {
        self.header.insert("alg".into(), json!("HS256"));
        let input = self.signing_input();
        let secret = self.key.modulus();
        let key = EncodingKey::from_secret(secret.as_bytes());
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256)
            .unwrap_or_else(|e| panic!("signing failed: {e}"));
        format!("{input}.{signature}")
    }

    /// `alg: none` with an empty signature.
    pub fn unsigned(mut self) -> String {
        self.header.insert("alg".into(), json!("none"));
        format!("{}.", self.signing_input())
    }
}
