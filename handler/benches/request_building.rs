//! The per-request work around the upstream calls: problem+json rendering, the ACS HMAC
//! signature, and turning a CreateMeeting body into Graph's.
//!
//! Run: `cargo bench -p handler --bench request_building`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use handler::acs;
use handler::error::ApiError;
use handler::routes::create_meeting::graph_meeting_body;

fn benchmarks(c: &mut Criterion) {
    c.bench_function("problem_json/invalid_token", |b| {
        b.iter(|| ApiError::InvalidToken("expired".to_owned()).to_response())
    });
    c.bench_function("problem_json/unavailable", |b| {
        b.iter(|| {
            ApiError::Unavailable {
                dependency: "Key Vault",
                reason: "down".to_owned(),
                retry_after: Duration::from_secs(30),
            }
            .to_response()
        })
    });

    let key = vec![7u8; 64];
    let url = url::Url::parse(
        "https://contoso-acs.communication.azure.com/teamsUser/:exchangeAccessToken?api-version=2025-06-30",
    )
    .unwrap();
    let body = vec![b'x'; 1800];
    let date = "Thu, 26 Nov 2026 06:24:56 GMT";
    c.bench_function("acs_hmac_sign/1.8KB", |b| {
        b.iter(|| acs::sign("POST", &url, &body, date, &key))
    });

    let participants: Vec<serde_json::Value> = (0..10)
        .map(|i| {
            serde_json::json!({
                "userId": format!("0b1d0000-0000-4000-8000-{i:012}"),
                "tenantId": "e4e4e000-0000-4000-8000-00000000e4e4",
                "upn": format!("expert{i}@experts.example"),
                "role": "presenter"
            })
        })
        .collect();
    let request = serde_json::to_vec(&serde_json::json!({
        "subject": "Pump 7 vibration",
        "startDateTime": "2026-11-26T14:00:00Z",
        "endDateTime": "2026-11-26T15:00:00Z",
        "participants": participants,
        "lobbyBypass": "organizationAndFederated"
    }))
    .unwrap();
    c.bench_function("meeting_request/10_participants", |b| {
        b.iter(|| graph_meeting_body(&request).unwrap())
    });
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
