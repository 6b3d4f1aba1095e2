//! What a request pays for its Graph token once the on-behalf-of cache holds it: the hit path
//! that every Graph-backed route takes (cache key from the caller and the presented token's
//! digest, lookup, refusal check).
//!
//! - `obo/cached`: `OnBehalfOf::token` for a caller whose exchange is cached.
//!
//! Run: `cargo bench -p handler --bench delegated_tokens`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use handler::auth::{Caller, SsoToken};
use handler::config::Config;
use handler::graph::GRAPH_SCOPES;
use handler::state::AppState;
use test_support::cloud::Cloud;
use test_support::directory::{FIELD_TENANT, FIELD_WORKER_OID};
use test_support::entra::FakeEntra;
use warp::http::HeaderValue;

const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const CLIENT_SECRET: &str = "bench-secret-8Hq2";

fn benchmarks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (state, caller, _cloud) = runtime.block_on(async {
        let entra = FakeEntra::start().await.unwrap();
        let cloud = Cloud::around(entra, CLIENT_ID, CLIENT_SECRET)
            .await
            .unwrap();
        let settings: HashMap<&str, String> = HashMap::from([
            ("ENTRA_CLIENT_ID", CLIENT_ID.to_owned()),
            ("ENTRA_ALLOWED_TENANTS", FIELD_TENANT.to_owned()),
            ("ENTRA_AUTHORITY_HOST", cloud.entra.authority()),
            ("ENTRA_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("GRAPH_ENDPOINT", cloud.graph.endpoint()),
        ]);
        let config = Config::from_lookup(|name| settings.get(name).cloned()).unwrap();
        let state = AppState::build(config).unwrap();
        state.validator.signing_keys().refresh().await.unwrap();
        let token = cloud
            .entra
            .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
            .sign();
        let validated = state.validator.validate(&token).await.unwrap();
        let caller = Caller {
            identity: validated.identity,
            token: SsoToken::from_authorization(
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            )
            .unwrap(),
            token_digest: validated.token_digest,
            just_consented: false,
        };
        (state, caller, cloud)
    });
    let deadline = || tokio::time::Instant::now() + Duration::from_secs(25);
    runtime
        .block_on(state.obo.token(&caller, &GRAPH_SCOPES, deadline()))
        .expect("the first exchange succeeds");

    c.bench_function("obo/cached", |b| {
        b.to_async(&runtime).iter(|| async {
            state
                .obo
                .token(&caller, &GRAPH_SCOPES, deadline())
                .await
                .unwrap()
        })
    });
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
