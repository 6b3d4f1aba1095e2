//! What the two user functions (`GetUserProfile`, `GetUserPhoto`) share: their `{id}` parameter
//! and the browser cache of their per-user answers.

use crate::domain::UserRef;
use crate::error::ApiError;

/// `{id}` as a user, or 400.
pub fn parse_user(id: &str) -> Result<UserRef, ApiError> {
    UserRef::parse(id).ok_or_else(|| {
        ApiError::BadRequest(
            "The user id must be `me`, an object id (GUID) or a user principal name.".to_owned(),
        )
    })
}

/// Lets the browser keep a per-user answer, but only for the same `Authorization`: a shared
/// browser must not show one user's answer to the next (RFC 9111 §4.1).
pub fn per_user_cache(response: &mut warp::reply::Response, cache_control: &'static str) {
    let headers = response.headers_mut();
    headers.insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static(cache_control),
    );
    headers.insert(
        warp::http::header::VARY,
        warp::http::HeaderValue::from_static("Authorization"),
    );
}
