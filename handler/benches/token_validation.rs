//! What validating a Teams SSO token costs, beside the RSA-2048 verify it cannot avoid.
//!
//! - `rsa2048_verify`: one PKCS#1 v1.5 SHA-256 verify with a pre-parsed key (the floor).
//! - `validate/fresh`: the whole path for a token not in the cache (digest, cache miss, parse,
//!   key lookup, verify, claims, insert), cycling through distinct tokens.
//! - `presented_token`: the token read out of its `Authorization` header and checked as a
//!   `b64token`, before any validation.
//! - `validate/cached`: the same token again, answered from the cache.
//!
//! Run: `cargo bench -p handler --bench token_validation`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use handler::auth::{Expectations, SigningKeys, SsoToken, TokenValidator};
use handler::config::{AllowedClientApps, AllowedTenants};
use test_support::entra::FakeEntra;
use test_support::keys::SIGNING_KEY_A;
use warp::http::HeaderValue;

const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const TENANT: &str = "f1e1d000-0000-4000-8000-00000000f1e1";
const OID: &str = "0b1d0000-0000-4000-8000-000000000001";

fn validator(runtime: &tokio::runtime::Runtime, entra: &FakeEntra, cache: u64) -> TokenValidator {
    let keys = Arc::new(SigningKeys::new(
        reqwest::Client::new(),
        &entra.authority(),
        Duration::from_secs(30),
    ));
    runtime
        .block_on(keys.refresh())
        .expect("keys load from the fake");
    TokenValidator::new(
        keys,
        Expectations {
            audiences: vec![CLIENT_ID.into()],
            allowed_tenants: AllowedTenants::Any,
            allowed_client_apps: AllowedClientApps::teams_clients_and(
                CLIENT_ID.parse().expect("client id is a GUID"),
            ),
        },
        cache,
    )
}

fn benchmarks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let entra = runtime.block_on(FakeEntra::start()).unwrap();
    let token = entra.token_v2(CLIENT_ID, TENANT, OID).sign();

    let jwk = SIGNING_KEY_A.public_jwk(None);
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let key: ParsedPublicKey = RsaPublicKeyComponents {
        n: &n[..],
        e: &e[..],
    }
    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
    .unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    c.bench_function("rsa2048_verify", |b| {
        b.iter(|| key.verify_sig(signed.as_bytes(), &signature).unwrap())
    });

    // Distinct tokens through a one-entry cache: every validation is a miss, as for a new user.
    let distinct: Vec<String> = (0..2000)
        .map(|i| {
            entra
                .token_v2(
                    CLIENT_ID,
                    TENANT,
                    &format!("0b1d9000-0000-4000-8000-{i:012}"),
                )
                .sign()
        })
        .collect();
    let uncached = validator(&runtime, &entra, 1);
    let mut next = 0;
    c.bench_function("validate/fresh", |b| {
        b.to_async(&runtime).iter(|| {
            next = (next + 1) % distinct.len();
            let token = &distinct[next];
            let uncached = &uncached;
            async move { uncached.validate(token).await.unwrap() }
        })
    });

    // Reading the token out of its header, as every protected request does before validating.
    let authorization = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    c.bench_function("presented_token", |b| {
        b.iter(|| {
            SsoToken::from_authorization(authorization.clone())
                .unwrap()
                .expose()
                .len()
        })
    });

    let cached = validator(&runtime, &entra, 1_000);
    runtime.block_on(cached.validate(&token)).unwrap();
    c.bench_function("validate/cached", |b| {
        b.to_async(&runtime)
            .iter(|| async { cached.validate(&token).await.unwrap() })
    });
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
