//! A fake Azure Communication Services identity endpoint:
//! `POST /teamsUser/:exchangeAccessToken?api-version=…`.
//!
//! It authenticates the call the way ACS does. With an access key it recomputes the HMAC from
//! the request as received (method, path and query, `x-ms-date`, `Host`, body hash) and refuses
//! a wrong signature, a body that does not match `x-ms-content-sha256`, or an `x-ms-date` more
//! than 15 minutes off. Without a key, it wants a managed-identity token for the resource
//! `https://communication.azure.com/` (trailing slash: what the Azure SDKs' scope
//! `https://communication.azure.com//.default` names). It then insists that the Teams token is an on-behalf-of
//! token for the ACS Teams scopes, issued to `appId`, whose user is `userId`.
//!
//! What it hands out is shaped like a real ACS access token, because Microsoft's client libraries
//! read it: `AzureCommunicationTokenCredential` (`@azure/communication-common`) decodes the JWT
//! and schedules its refreshes from `exp`. See [`teams_user_token`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use time::OffsetDateTime;
use warp::Filter;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;

use crate::http::{Running, lock, spawn};
use crate::managed_identity::IssuedTokens;
use crate::token_endpoint::Grants;

/// The access key the fake accepts, base64 as in a connection string.
pub const ACCESS_KEY: &str = "ZmFrZS1hY3MtYWNjZXNzLWtleS1mb3ItdGVzdHMtb25seQ==";
/// The key after `regenerate_access_key`.
pub const REGENERATED_ACCESS_KEY: &str = "cmVnZW5lcmF0ZWQtZmFrZS1hY3Mta2V5LWZvci10ZXN0cw==";
const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;
const CALLS_SCOPE: &str = "https://auth.msft.communication.azure.com/Teams.ManageCalls";
const CHATS_SCOPE: &str = "https://auth.msft.communication.azure.com/Teams.ManageChats";

/// The emulated ACS resource's immutable resource id, as its tokens name it (`resourceId`).
pub const RESOURCE_ID: &str = "ac5e0000-0000-4000-8000-000000000ac5";
/// The emulated resource's data location (`resourceLocation`), as ACS spells it in tokens.
pub const RESOURCE_LOCATION: &str = "unitedstates";
/// The public half of the key the emulated ACS signs its tokens with (RS256), so a test can
/// check a signature; `fixtures/README.md` says how the pair was made.
pub const TOKEN_SIGNING_PUBLIC_KEY_PEM: &str = include_str!("../fixtures/acs-signing-key.pub.pem");
const TOKEN_SIGNING_KEY_PEM: &str = include_str!("../fixtures/acs-signing-key.pem");

/// How one exchange request was authenticated, and what came of it.
#[derive(Debug, Clone)]
pub struct ExchangeRecord {
    pub api_version: String,
    /// The request's `x-ms-date`, which the HMAC signature covers.
    pub date: String,
    pub authenticated_by: &'static str,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug)]
struct State {
    grants: Grants,
    identity_tokens: Option<IssuedTokens>,
    records: Vec<ExchangeRecord>,
    scripted: VecDeque<(u16, Value)>,
    /// `Retry-After` seconds sent with scripted 429/503 answers, when set.
    scripted_retry_after: Option<u64>,
    lifetime_secs: i64,
    access_key: &'static str,
}

#[derive(Debug)]
pub struct FakeAcs {
    server: Running,
    state: Arc<Mutex<State>>,
}

impl FakeAcs {
    /// Accepts Teams tokens from `grants` (the fake token endpoint).
    pub async fn start(grants: Grants) -> std::io::Result<FakeAcs> {
        let state = Arc::new(Mutex::new(State {
            grants,
            identity_tokens: None,
            records: Vec::new(),
            scripted: VecDeque::new(),
            scripted_retry_after: None,
            lifetime_secs: 3600,
            access_key: ACCESS_KEY,
        }));
        let server = spawn(routes(state.clone())).await?;
        Ok(FakeAcs { server, state })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// `endpoint=…;accesskey=…` for this fake, with the key it accepts now.
    pub fn connection_string(&self) -> String {
        let key = lock(&self.state).access_key;
        format!("endpoint={}/;accesskey={key}", self.endpoint())
    }

    /// Regenerates the key, as `az communication regenerate-key` does: a request signed with
    /// the old key is refused from now on (401), as after a rotation in the portal.
    pub fn regenerate_access_key(&self) {
        lock(&self.state).access_key = REGENERATED_ACCESS_KEY;
    }

    /// Also accept managed-identity tokens for `https://communication.azure.com/` instead of HMAC.
    pub fn trust_managed_identity(&self, tokens: IssuedTokens) {
        self.lock().identity_tokens = Some(tokens);
    }

    /// The next requests get these answers (after authentication), in order.
    pub fn script(&self, answers: impl IntoIterator<Item = (u16, Value)>) {
        self.lock().scripted.extend(answers);
    }

    /// Scripted 429 and 503 answers carry `Retry-After: seconds`.
    pub fn set_scripted_retry_after(&self, seconds: u64) {
        self.lock().scripted_retry_after = Some(seconds);
    }

    /// How long issued tokens live, in seconds.
    pub fn set_token_lifetime(&self, seconds: i64) {
        self.lock().lifetime_secs = seconds;
    }

    pub fn records(&self) -> Vec<ExchangeRecord> {
        self.lock().records.clone()
    }

    /// Successful exchanges.
    pub fn exchanges(&self) -> usize {
        self.records().iter().filter(|r| r.status == 200).count()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn routes(
    state: Arc<Mutex<State>>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::body::bytes())
        .map(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: String,
                  headers: HeaderMap,
                  body: bytes::Bytes| {
                let mut state = lock(&state);
                let api_version = url_query_value(&query, "api-version");
                let (authenticated_by, status, answer) =
                    exchange(&mut state, &method, path.as_str(), &query, &headers, &body);
                let date = headers
                    .get("x-ms-date")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                state.records.push(ExchangeRecord {
                    api_version,
                    date,
                    authenticated_by,
                    status,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                });
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                use warp::Reply;
                let mut response =
                    warp::reply::with_status(warp::reply::json(&answer), status).into_response();
                response
                    .headers_mut()
                    .insert("ms-cv", warp::http::HeaderValue::from_static("fakeAcsCv.0"));
                if let (Some(seconds), 429 | 503) = (state.scripted_retry_after, status.as_u16()) {
                    response
                        .headers_mut()
                        .insert("retry-after", warp::http::HeaderValue::from(seconds));
                }
                response
            },
        )
}

fn url_query_value(query: &str, name: &str) -> String {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default()
}

/// Identity API versions that have the Teams token exchange (the REST reference's version
/// list); others are refused as the service does.
const API_VERSIONS: &[&str] = &[
    "2021-03-07",
    "2022-06-01",
    "2022-10-01",
    "2023-08-01",
    "2023-10-01",
    "2025-03-02-preview",
    "2025-06-30",
    "2026-07-22",
    "2026-09-23",
];

/// The service writes times with seven fractional digits and an explicit `+00:00`.
fn service_time(time: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]+00:00"
    );
    time.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

fn exchange(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> (&'static str, u16, Value) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if method != Method::POST || path != "/teamsUser/:exchangeAccessToken" {
        return ("none", 404, error("NotFound", "Unknown operation."));
    }
    let api_version = url_query_value(query, "api-version");
    if !api_version.is_empty() && !API_VERSIONS.contains(&api_version.as_str()) {
        return (
            "none",
            400,
            error(
                "UnsupportedApiVersion",
                "The HTTP resource does not support the requested api-version.",
            ),
        );
    }
    if api_version.is_empty() {
        return (
            "none",
            400,
            error("MissingApiVersion", "api-version is required."),
        );
    }

    let authorization = header("authorization");
    let authenticated_by = if let Some(token) = authorization.strip_prefix("Bearer ") {
        let trusted = state.identity_tokens.as_ref().and_then(|t| t.lookup(token));
        if trusted.is_none_or(|issued| issued.resource != "https://communication.azure.com/") {
            return ("entra", 401, error("Unauthorized", "Invalid Entra token."));
        }
        "entra"
    } else {
        if let Err(message) = verify_hmac(state.access_key, method, path, query, headers, body) {
            return ("hmac", 401, error("Unauthorized", message));
        }
        "hmac"
    };

    if let Some((status, answer)) = state.scripted.pop_front() {
        return (authenticated_by, status, answer);
    }

    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(token), Some(app_id), Some(user_id)) = (
        request["token"].as_str(),
        request["appId"].as_str(),
        request["userId"].as_str(),
    ) else {
        return (
            authenticated_by,
            400,
            error("BadRequest", "token, appId and userId are required."),
        );
    };
    let Some(grant) = state.grants.lookup(token) else {
        return (
            authenticated_by,
            401,
            error("InvalidAccessToken", "Provided access token is not valid."),
        );
    };
    let scopes: Vec<&str> = grant.scope.split(' ').collect();
    if !scopes.contains(&CALLS_SCOPE) || !scopes.contains(&CHATS_SCOPE) {
        return (
            authenticated_by,
            401,
            error("InvalidAccessToken", "Provided access token is not valid."),
        );
    }
    if grant.client_id != app_id || grant.object_id != user_id {
        return (
            authenticated_by,
            400,
            error("BadRequest", "appId or userId does not match the token."),
        );
    }
    // Whole seconds, so that the token's `exp` and the answer's `expiresOn` are the same instant.
    let issued = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let expires = issued + time::Duration::seconds(state.lifetime_secs);
    let token = match teams_user_token(&grant.object_id, issued, expires) {
        Ok(token) => token,
        Err(message) => return (authenticated_by, 500, error("InternalError", &message)),
    };
    (
        authenticated_by,
        200,
        json!({
            "token": token,
            "expiresOn": service_time(expires),
        }),
    )
}

/// An ACS access token of the Teams user `object_id`, signed RS256 by the emulated resource.
///
/// Its shape follows real ACS tokens: the header carries `alg`, `kid`, `x5t` and `typ`, where
/// `kid` is the signing certificate's SHA-1 thumbprint in hex and `x5t` the same bytes in
/// base64url; the claims are `skypeid`, `scp`, `csi`, `exp`, `rgn`, `acsScope`, `resourceId`,
/// `resourceLocation` and `iat`. Sources: a decoded token of a live resource published in the
/// public ACS "Entra ID cross-tenant" console demo output (scp 1792, acsScope "chat,voip",
/// resourceLocation "unitedstates", csi = iat), and the ACS SDKs' own test tokens, whose only
/// required claims are `skypeid` and `exp` (azure-sdk-for-android,
/// sdk/communication/azure-communication-common/src/test/.../JwtTokenMocker.java; the JS SDK's
/// credential reads `exp` alone). The `skypeid` of a Teams user is `orgid:<object id>`: ACS users'
/// tokens carry their raw identifier without its `8:` type prefix (`acs:…`), and a Teams user's
/// raw identifier is `8:orgid:<object id>` (an inference; no decoded Teams-user token was
/// found). The handler never looks inside: to it the token stays opaque.
pub fn teams_user_token(
    object_id: &str,
    issued: OffsetDateTime,
    expires: OffsetDateTime,
) -> Result<String, String> {
    let thumbprint = signing_key_thumbprint();
    let header = json!({
        "alg": "RS256",
        "kid": thumbprint.iter().map(|b| format!("{b:02X}")).collect::<String>(),
        "x5t": URL_SAFE_NO_PAD.encode(thumbprint),
        "typ": "JWT",
    });
    let iat = issued.unix_timestamp();
    let claims = json!({
        "skypeid": format!("orgid:{object_id}"),
        "scp": 1792,
        "csi": iat.to_string(),
        "exp": expires.unix_timestamp(),
        "rgn": "amer",
        "acsScope": "chat,voip",
        "resourceId": RESOURCE_ID,
        "resourceLocation": RESOURCE_LOCATION,
        "iat": iat,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(TOKEN_SIGNING_KEY_PEM.as_bytes())
        .map_err(|e| format!("the emulated ACS signing key does not load: {e}"))?;
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::RS256)
            .map_err(|e| format!("signing the ACS token failed: {e}"))?;
    Ok(format!("{input}.{signature}"))
}

/// SHA-1 of the public key's DER bytes: a stable stand-in for a certificate thumbprint, the way
/// real ACS tokens name their signing certificate.
fn signing_key_thumbprint() -> Vec<u8> {
    let der: String = TOKEN_SIGNING_PUBLIC_KEY_PEM
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = BASE64.decode(der).unwrap_or_default();
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &der)
        .as_ref()
        .to_vec()
}

/// Checks an HMAC-SHA256 request signature from scratch, from what arrived on the wire.
fn verify_hmac(
    access_key: &str,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let date = header("x-ms-date").ok_or("x-ms-date is missing")?;
    let content_hash = header("x-ms-content-sha256").ok_or("x-ms-content-sha256 is missing")?;
    let host = header("host").ok_or("host is missing")?;
    let authorization = header("authorization").ok_or("authorization is missing")?;

    const RFC1123: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let sent = time::PrimitiveDateTime::parse(date, RFC1123)
        .map_err(|_| "x-ms-date is not an RFC 1123 date")?
        .assume_utc();
    if (OffsetDateTime::now_utc() - sent).whole_seconds().abs() > MAX_CLOCK_SKEW_SECS {
        return Err("x-ms-date is more than 15 minutes off");
    }
    let actual_hash = BASE64.encode(digest::digest(&digest::SHA256, body));
    if actual_hash != content_hash {
        return Err("x-ms-content-sha256 does not match the body");
    }
    let signature = authorization
        .strip_prefix("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=")
        .ok_or(
            "authorization is not an HMAC-SHA256 signature over x-ms-date;host;x-ms-content-sha256",
        )?;
    let path_and_query = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let string_to_sign = format!("{method}\n{path_and_query}\n{date};{host};{content_hash}");
    let key = BASE64
        .decode(access_key)
        .map_err(|_| "fixture key is not base64")?;
    let expected = BASE64.encode(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &key),
        string_to_sign.as_bytes(),
    ));
    if expected != signature {
        return Err("the signature does not match");
    }
    Ok(())
}

/// Headers for a hand-made request, so tests can send deliberately wrong ones.
pub fn sign_for_test(
    path_and_query: &str,
    host: &str,
    body: &[u8],
    date: OffsetDateTime,
    key_base64: &str,
) -> HashMap<&'static str, String> {
    const RFC1123: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let date = date
        .to_offset(time::UtcOffset::UTC)
        .format(RFC1123)
        .unwrap_or_default();
    let hash = BASE64.encode(digest::digest(&digest::SHA256, body));
    let key = BASE64.decode(key_base64).unwrap_or_default();
    let string_to_sign = format!("POST\n{path_and_query}\n{date};{host};{hash}");
    let signature = BASE64.encode(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &key),
        string_to_sign.as_bytes(),
    ));
    HashMap::from([
        ("x-ms-date", date),
        ("x-ms-content-sha256", hash),
        (
            "authorization",
            format!(
                "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
            ),
        ),
    ])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn teams_user_tokens_are_rs256_jwts_whose_exp_is_the_expiry() {
        let issued = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let expires = issued + time::Duration::hours(1);

        let token =
            teams_user_token("0b1d0000-0000-4000-8000-000000000002", issued, expires).unwrap();

        let key = jsonwebtoken::DecodingKey::from_rsa_pem(TOKEN_SIGNING_PUBLIC_KEY_PEM.as_bytes())
            .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let decoded = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        let claims = decoded.claims;
        assert_eq!(claims["exp"], 1_800_003_600);
        assert_eq!(claims["iat"], 1_800_000_000);
        assert_eq!(
            claims["skypeid"],
            "orgid:0b1d0000-0000-4000-8000-000000000002"
        );
        assert_eq!(claims["resourceId"], RESOURCE_ID);
        assert_eq!(claims["resourceLocation"], "unitedstates");
        assert_eq!(claims["acsScope"], "chat,voip");
        assert_eq!(claims["scp"], 1792);
        let kid = decoded.header.kid.unwrap();
        assert_eq!(kid.len(), 40, "a SHA-1 thumbprint in hex");
        let x5t = URL_SAFE_NO_PAD
            .decode(decoded.header.x5t.unwrap())
            .unwrap()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>();
        assert_eq!(x5t, kid, "kid and x5t name the same thumbprint");
    }
}
