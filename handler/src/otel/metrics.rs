//! The handler's own metrics, with bounded attribute values only (function names, problem
//! codes, fixed outcome words): no tenant or user ids, whose number nobody bounds.

use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, MeterProvider as _};

struct Instruments {
    requests: Counter<u64>,
    request_duration: Histogram<f64>,
    obo_exchanges: Counter<u64>,
    acs_exchanges: Counter<u64>,
    signing_key_refreshes: Counter<u64>,
    token_refusals: Counter<u64>,
}

static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();

pub(super) fn install(provider: &opentelemetry_sdk::metrics::SdkMeterProvider) {
    let meter = provider.meter("remote-expert-handler");
    let _ = INSTRUMENTS.set(Instruments {
        requests: meter
            .u64_counter("handler.requests")
            .with_description("Requests answered, by function and outcome (ok or problem code)")
            .build(),
        request_duration: meter
            .f64_histogram("handler.request.duration")
            .with_unit("ms")
            .with_description("Time to answer, by function and outcome")
            .build(),
        obo_exchanges: meter
            .u64_counter("handler.obo.tokens")
            .with_description("Delegated tokens handed out: cache hits and exchanges with Entra")
            .build(),
        acs_exchanges: meter
            .u64_counter("handler.acs.tokens")
            .with_description("ACS tokens handed out: cache hits and exchanges with ACS")
            .build(),
        signing_key_refreshes: meter
            .u64_counter("handler.signing_keys.refreshes")
            .with_description("Fetches of Entra's signing keys, by result")
            .build(),
        token_refusals: meter
            .u64_counter("handler.token.refusals")
            .with_description("SSO tokens refused, by reason")
            .build(),
    });
}

/// Where a delegated token came from.
#[derive(Debug, Clone, Copy)]
pub enum TokenSource {
    Cache,
    Exchange,
    Failed,
}

impl TokenSource {
    fn as_str(self) -> &'static str {
        match self {
            TokenSource::Cache => "cache_hit",
            TokenSource::Exchange => "exchanged",
            TokenSource::Failed => "failed",
        }
    }
}

pub fn request(function: &'static str, outcome: &'static str, duration_ms: f64) {
    if let Some(m) = INSTRUMENTS.get() {
        let attributes = [
            KeyValue::new("function", function),
            KeyValue::new("outcome", outcome),
        ];
        m.requests.add(1, &attributes);
        m.request_duration.record(duration_ms, &attributes);
    }
}

pub fn obo_token(source: TokenSource) {
    if let Some(m) = INSTRUMENTS.get() {
        m.obo_exchanges
            .add(1, &[KeyValue::new("source", source.as_str())]);
    }
}

pub fn acs_token(source: TokenSource) {
    if let Some(m) = INSTRUMENTS.get() {
        m.acs_exchanges
            .add(1, &[KeyValue::new("source", source.as_str())]);
    }
}

pub fn signing_key_refresh(succeeded: bool) {
    if let Some(m) = INSTRUMENTS.get() {
        m.signing_key_refreshes.add(
            1,
            &[KeyValue::new(
                "result",
                if succeeded { "ok" } else { "failed" },
            )],
        );
    }
}

/// `reason` is a problem code from the fixed set `ApiError::code` returns.
pub fn token_refused(reason: &'static str) {
    if let Some(m) = INSTRUMENTS.get() {
        m.token_refusals.add(1, &[KeyValue::new("reason", reason)]);
    }
}

/// Why a token was refused, as one of a fixed set of words (the metric's `reason`).
pub fn refusal_reason(error: &crate::auth::AuthError) -> &'static str {
    use crate::auth::AuthError;
    use crate::auth::claims::ClaimsError;
    use crate::auth::jwks::KeyError;
    use crate::auth::jwt::JwtError;
    match error {
        AuthError::Missing => "missing",
        AuthError::Token(JwtError::BadSignature) => "bad_signature",
        AuthError::Token(_) => "malformed",
        AuthError::Key(KeyError::Unknown) => "unknown_key",
        AuthError::Key(_) => "keys_unavailable",
        AuthError::Claims(ClaimsError::Expired) => "expired",
        AuthError::Claims(ClaimsError::NotYetValid) => "not_yet_valid",
        AuthError::Claims(ClaimsError::WrongAudience) => "wrong_audience",
        AuthError::Claims(
            ClaimsError::WrongIssuer | ClaimsError::BadTenant | ClaimsError::KeyNotForIssuer,
        ) => "wrong_issuer",
        AuthError::Claims(ClaimsError::TenantNotAllowed) => "tenant_not_allowed",
        AuthError::Claims(ClaimsError::MissingScope) => "insufficient_scope",
        AuthError::Claims(ClaimsError::ClientAppNotAllowed) => "client_app_not_allowed",
        AuthError::Claims(_) => "bad_claims",
    }
}
