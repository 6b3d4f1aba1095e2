//! JSON request bodies: read with a hard size limit, parsed with errors that name the field.
//!
//! The limit is enforced while reading, so a chunked body with no `Content-Length` cannot make
//! the handler buffer more than `MAX_BODY_BYTES`; and the whole body must arrive within a time
//! limit, so a client that trickles it in cannot hold a request (and its memory) open forever.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use warp::{Filter, Rejection};

use super::filters::MAX_BODY_BYTES;
use crate::error::{ApiError, ProblemCode};

/// What `json_body` answers for a body it cannot use.
pub const BODY_PROBLEMS: &[ProblemCode] = &[
    ProblemCode::BadRequest,
    ProblemCode::RequestTimeout,
    ProblemCode::PayloadTooLarge,
];

/// Extracts a `T` from a JSON body, or rejects with 413, 408 (not complete within
/// `read_timeout`) or a 400 naming what is wrong.
pub fn json_body<T: DeserializeOwned + Send>(
    read_timeout: Duration,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::body::stream()
        .and_then(move |body| async move {
            tokio::time::timeout(read_timeout, read_limited(body))
                .await
                .unwrap_or_else(|_| {
                    Err(warp::reject::custom(ApiError::RequestTimeout {
                        limit: read_timeout,
                    }))
                })
        })
        .and_then(|body: BytesMut| async move { parse_json(&body).map_err(warp::reject::custom) })
}

async fn read_limited<S, B>(body: S) -> Result<BytesMut, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut body = std::pin::pin!(body);
    let mut buffer = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|_| {
            warp::reject::custom(ApiError::BadRequest(
                "The request body could not be read.".to_owned(),
            ))
        })?;
        if (buffer.len() + chunk.remaining()) as u64 > MAX_BODY_BYTES {
            return Err(warp::reject::custom(ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            }));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let len = part.len();
            buffer.extend_from_slice(part);
            chunk.advance(len);
        }
    }
    Ok(buffer)
}

/// Parses `bytes` as a `T`; the error names the JSON path of the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would also read a struct from a JSON array, field by field; the contract is objects.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest(
            "The request body must be a JSON object.".to_owned(),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let what = describe(&inner);
        ApiError::BadRequest(if path == "." {
            format!("The request body is not valid: {what}.")
        } else {
            format!("Field `{path}` is not valid: {what}.")
        })
    })?;
    deserializer.end().map_err(|_| {
        ApiError::BadRequest("The request body has trailing data after the JSON value.".to_owned())
    })?;
    Ok(value)
}

/// serde_json's message without its "at line 1 column 9" suffix, which means nothing to a caller
/// who built the body from an object.
fn describe(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Meeting {
        subject: String,
        participants: Vec<Participant>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Participant {
        user_id: String,
    }

    fn message(body: &str) -> String {
        match parse_json::<Meeting>(body.as_bytes()) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn names_a_missing_field() {
        assert_eq!(
            message(r#"{"participants":[]}"#),
            "The request body is not valid: missing field `subject`."
        );
    }

    #[test]
    fn names_a_nested_field_of_the_wrong_type() {
        assert_eq!(
            message(r#"{"subject":"s","participants":[{"userId":7}]}"#),
            "Field `participants[0].userId` is not valid: invalid type: integer `7`, expected a string."
        );
    }

    #[test]
    fn refuses_syntax_errors_empty_bodies_and_trailing_data() {
        let truncated = message(r#"{"subject":"#);
        assert!(truncated.contains("EOF"), "{truncated}");
        assert_eq!(message("[1, 2]"), "The request body must be a JSON object.");
        assert_eq!(message("  "), "The request body must be a JSON object.");
        assert!(message(r#"{"subject":"s","participants":[]} x"#).contains("trailing"));
    }

    #[test]
    fn accepts_a_valid_body() {
        let meeting: Meeting = parse_json(br#"{"subject":"s","participants":[]}"#).unwrap();
        assert_eq!(meeting.subject, "s");
    }
}
