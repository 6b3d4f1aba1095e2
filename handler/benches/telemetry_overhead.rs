//! What OpenTelemetry export costs a request, end to end over loopback HTTP.
//!
//! The same in-process handler, against the local cloud, first with telemetry off (no
//! connection string: the production default when unset), then on, exporting to a fake
//! ingestion endpoint. Both runs log JSON like production, into a sink.
//!
//! - `…/off`: no connection string. `…/on`: every trace exported. `…/sampled_out`:
//!   `TELEMETRY_SAMPLING_RATIO=0`, so spans are made but not recorded or exported (run last, when
//!   the metrics of the earlier pipeline are shut down: it shows the spans' own cost).
//! - `validate/…`: `POST /api/token/validate` with a token already in the cache: the
//!   request span, its outcome and the request metrics are all telemetry adds.
//! - `create_meeting/{off,on}`: `POST /api/meetings` with a cached delegated token: one Graph
//!   call, so one client span more.
//!
//! The client, the handler, the cloud fakes and the uploads the exporter spawns run on one
//! current-thread runtime, so the thread-local subscriber set here sees all of it. The fake
//! ingestion endpoint (which gunzips and parses every upload) runs on a runtime of its own, on
//! its own thread: its work is Application Insights' in production, not the handler's, though
//! on a 2-core machine it still competes for the cores.
//!
//! Run: `cargo bench -p handler --bench telemetry_overhead`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use handler::config::Config;
use handler::otel::Telemetry;
use handler::state::AppState;
use serde_json::json;
use test_support::app_insights::FakeAppInsights;
use test_support::cloud::Cloud;
use test_support::directory::{EXPERT_OID, EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID};
use tracing_subscriber::layer::SubscriberExt as _;

const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const CLIENT_SECRET: &str = "Lk82Hs5QwPz3Vn7RbT4";

async fn start(settings: &HashMap<&str, String>) -> (SocketAddr, Config) {
    let config = Config::from_lookup(|name| settings.get(name).cloned()).unwrap();
    let state = AppState::build(config.clone()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(handler::run(listener, state, std::future::pending()));
    (addr, config)
}

fn json_log_to_sink() -> impl tracing_subscriber::Layer<tracing_subscriber::Registry> {
    handler::telemetry::log_layer(std::io::sink)
}

fn benchmarks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cloud = runtime.block_on(async { Cloud::start(CLIENT_ID, CLIENT_SECRET).await.unwrap() });
    let ingestion_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let ingestion =
        ingestion_runtime.block_on(async { FakeAppInsights::start(None).await.unwrap() });
    let token = cloud
        .entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .sign();
    let meeting = json!({
        "subject": "Pump 7 vibration",
        "startDateTime": "2026-11-26T14:00:00Z",
        "endDateTime": "2026-11-26T15:00:00Z",
        "participants": [{"userId": EXPERT_OID, "tenantId": EXPERT_TENANT,
            "upn": "robin@experts.example", "role": "presenter"}]
    });
    let mut settings: HashMap<&str, String> = [
        ("GRAPH_ENDPOINT", cloud.graph.endpoint()),
        ("ENTRA_CLIENT_ID", CLIENT_ID.to_owned()),
        ("ENTRA_ALLOWED_TENANTS", "*".to_owned()),
        ("ENTRA_AUTHORITY_HOST", cloud.entra.authority()),
        ("ENTRA_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        (
            "SSL_CERT_FILE",
            test_support::http::TEST_CA_PEM_PATH.to_owned(),
        ),
    ]
    .into_iter()
    .collect();
    let http = reqwest::Client::new();

    for mode in ["off", "on", "sampled_out"] {
        let telemetry = (mode != "off").then(|| {
            settings.insert(
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                ingestion.connection_string(),
            );
            let ratio = if mode == "on" { "1" } else { "0" };
            settings.insert("TELEMETRY_SAMPLING_RATIO", ratio.to_owned());
            let config = Config::from_lookup(|name| settings.get(name).cloned()).unwrap();
            let _entered = runtime.enter();
            Telemetry::build(&config).unwrap().unwrap()
        });
        let subscriber = tracing_subscriber::registry()
            .with(json_log_to_sink())
            .with(telemetry.as_ref().map(|t| t.layer()));
        let _default = tracing::subscriber::set_default(subscriber);
        let (addr, _) = runtime.block_on(start(&settings));
        let validate = format!("http://{addr}/api/token/validate");
        let meetings = format!("http://{addr}/api/meetings");
        // Warm: signing keys, the validated-token cache and the delegated-token cache.
        runtime.block_on(async {
            for _ in 0..50 {
                let answer = http.post(&validate).bearer_auth(&token).send().await;
                if answer.is_ok_and(|a| a.status() == 200) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let created = http
                .post(&meetings)
                .bearer_auth(&token)
                .json(&meeting)
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), 201);
        });

        let mut group = c.benchmark_group("validate");
        group.bench_function(mode, |b| {
            b.to_async(&runtime).iter(|| async {
                let answer = http
                    .post(&validate)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 200);
            })
        });
        group.finish();
        let mut group = c.benchmark_group("create_meeting");
        group.bench_function(mode, |b| {
            b.to_async(&runtime).iter(|| async {
                let answer = http
                    .post(&meetings)
                    .bearer_auth(&token)
                    .json(&meeting)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 201);
            })
        });
        group.finish();
        if let Some(telemetry) = telemetry {
            let exported_before = ingestion.envelopes().len();
            ingestion.clear();
            runtime.block_on(async {
                tokio::task::spawn_blocking(move || {
                    telemetry.force_flush();
                    telemetry.shutdown();
                })
                .await
                .unwrap();
            });
            println!(
                "telemetry {mode}: {} envelopes accepted by the fake ingestion",
                exported_before + ingestion.envelopes().len(),
            );
            ingestion.clear();
        }
    }
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
