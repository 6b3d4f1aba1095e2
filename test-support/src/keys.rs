//! The RSA keys under `fixtures/`, compiled in so tests and the sandbox need no files at run time.

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestKey {
    /// The `kid` the fake publishes and tokens name.
    pub kid: &'static str,
    pub private_pem: &'static str,
    jwk: &'static str,
}

pub const SIGNING_KEY_A: TestKey = TestKey {
    kid: "test-key-a",
    private_pem: include_str!("../fixtures/signing-key-a.pem"),
    jwk: include_str!("../fixtures/signing-key-a.jwk.json"),
};

pub const SIGNING_KEY_B: TestKey = TestKey {
    kid: "test-key-b",
    private_pem: include_str!("../fixtures/signing-key-b.pem"),
    jwk: include_str!("../fixtures/signing-key-b.jwk.json"),
};

/// Never published by the fake Entra.
pub const FOREIGN_KEY: TestKey = TestKey {
    kid: "test-key-foreign",
    private_pem: include_str!("../fixtures/foreign-key.pem"),
    jwk: include_str!("../fixtures/foreign-key.jwk.json"),
};

impl TestKey {
    /// The public key as a JWK, with `kid` and `use`, and `issuer` when given (v2.0 key sets
    /// carry one per key).
    pub fn public_jwk(&self, issuer: Option<&str>) -> Value {
        let mut jwk: Value = serde_json::from_str(self.jwk).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), json!(self.kid));
            map.insert("use".into(), json!("sig"));
            if let Some(issuer) = issuer {
                map.insert("issuer".into(), json!(issuer));
            }
        }
        jwk
    }

    /// The public modulus, base64url, as published.
    pub fn modulus(&self) -> String {
        self.public_jwk(None)["n"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}
