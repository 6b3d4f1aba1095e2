//! The bearer token path up to the signature check: Authorization header, compact JWT split,
//! header JSON, algorithm and key id.
#![no_main]

use handler::auth::bearer_token;
use handler::auth::jwt::UnverifiedToken;
use libfuzzer_sys::fuzz_target;
use warp::http::{HeaderMap, HeaderValue};

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(data) {
        headers.insert("authorization", value);
    }
    if let Ok(token) = bearer_token(headers.get("authorization")) {
        let _ = UnverifiedToken::parse(token);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = UnverifiedToken::parse(text);
    }
});
