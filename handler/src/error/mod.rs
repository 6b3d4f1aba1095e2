//! Every error answer, in one place: the `ApiError` variants, their RFC 9457 problem details and
//! the mapping of warp's routing rejections onto the same shape.
//!
//! Details sent to callers are written here, never taken from upstream bodies or token text, so
//! nothing secret can leak through an error. Causes are logged once, when the answer is built.

mod code;
mod mapping;
mod problem;

use std::convert::Infallible;
use std::time::Duration;

use warp::reject::Reject;
use warp::reply::Response;
use warp::{Rejection, Reply};

pub use code::ProblemCode;
pub(crate) use problem::Problem;

/// `type` URIs are stable identifiers of each problem kind, documented in `docs/api.md`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:remote-expert:problem:";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input; the message names the field and is shown to the caller.
    #[error("{0}")]
    BadRequest(String),
    #[error("no bearer token")]
    MissingToken,
    /// The reason is for debug logs; callers only learn that the token was refused.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("tenant not allowed")]
    TenantNotAllowed,
    #[error("token lacks the access_as_user scope")]
    InsufficientScope,
    /// Answered as `insufficient_scope` too: the token is for this API, but from an app that is
    /// not on `ENTRA_ALLOWED_CLIENT_APPS`.
    #[error("token obtained by a client app that is not allowed")]
    ClientAppNotAllowed,
    /// The on-behalf-of exchange needs consent to `scopes`, or Graph refused for a permission
    /// the tenant has not consented to.
    #[error("consent required")]
    ConsentRequired { scopes: Vec<String> },
    /// Entra refused the exchange because the caller's tenant has no service principal for
    /// the resource (AADSTS650052): only an administrator of that tenant can fix it.
    #[error("the caller's tenant has no service principal for {resource}")]
    ServicePrincipalMissing {
        resource: &'static str,
        app_id: &'static str,
    },
    /// Entra wants the user to satisfy a claims challenge (MFA, Conditional Access) first.
    #[error("interaction required")]
    InteractionRequired { claims: Option<String> },
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("request body not received within {limit:?}")]
    RequestTimeout { limit: Duration },
    /// A dependency cannot be reached now; `reason` is logged, not sent.
    #[error("{dependency} unavailable: {reason}")]
    Unavailable {
        dependency: &'static str,
        reason: String,
        retry_after: Duration,
    },
    /// Still throttled after the retry budget.
    #[error("{service} throttled")]
    Throttled {
        service: &'static str,
        retry_after: Duration,
    },
    /// An upstream answered with an error we do not pass on; `code` is the service's own error
    /// code, safe to show.
    #[error("{service} answered {status} ({code})")]
    Upstream {
        service: &'static str,
        status: u16,
        code: String,
    },
    #[error("{service} did not answer in time")]
    UpstreamTimeout { service: &'static str },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Reject for ApiError {}

impl Reply for ApiError {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// Turns what warp could not route into the same problem shape as every other error.
pub async fn handle_rejection(rejection: Rejection) -> Result<Response, Infallible> {
    let response = if let Some(error) = rejection.find::<ApiError>() {
        error.to_response()
    } else if rejection.is_not_found() {
        ApiError::NotFound("No function serves this path.".to_owned()).to_response()
    } else if let Some(invalid) = rejection.find::<warp::reject::InvalidHeader>() {
        ApiError::BadRequest(format!("The {} header is not valid.", invalid.name())).to_response()
    } else {
        ApiError::Internal(format!("unhandled rejection: {rejection:?}").into()).to_response()
    };
    Ok(response)
}

/// `error: cause: cause` on one line, so a log query sees the whole story.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::header;

    fn body_json(response: Response) -> serde_json::Value {
        let bytes = futures_body(response);
        serde_json::from_slice(&bytes).unwrap()
    }

    fn futures_body(response: Response) -> Vec<u8> {
        use http_body_util::BodyExt;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(response.into_body().collect())
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[test]
    fn every_error_is_problem_json_with_its_code() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ApiError::BadRequest("subject is required".into()),
                400,
                "bad_request",
            ),
            (ApiError::MissingToken, 401, "invalid_token"),
            (
                ApiError::InvalidToken("expired".into()),
                401,
                "invalid_token",
            ),
            (ApiError::TenantNotAllowed, 403, "tenant_not_allowed"),
            (ApiError::InsufficientScope, 403, "insufficient_scope"),
            (ApiError::NotFound("no".into()), 404, "not_found"),
            (
                ApiError::MethodNotAllowed { allow: "GET" },
                405,
                "method_not_allowed",
            ),
            (
                ApiError::PayloadTooLarge { limit: 10 },
                413,
                "payload_too_large",
            ),
            (
                ApiError::RequestTimeout {
                    limit: Duration::from_secs(15),
                },
                408,
                "request_timeout",
            ),
            (
                ApiError::Unavailable {
                    dependency: "signing key service",
                    reason: "down".into(),
                    retry_after: Duration::from_secs(7),
                },
                503,
                "unavailable",
            ),
            (
                ApiError::ConsentRequired {
                    scopes: vec!["https://graph.microsoft.com/Chat.Create".into()],
                },
                403,
                "consent_required",
            ),
            (
                ApiError::Throttled {
                    service: "Microsoft Graph",
                    retry_after: Duration::from_secs(4),
                },
                429,
                "throttled",
            ),
            (
                ApiError::Upstream {
                    service: "Microsoft Graph",
                    status: 403,
                    code: "Authorization_RequestDenied".into(),
                },
                502,
                "upstream_error",
            ),
            (
                ApiError::UpstreamTimeout {
                    service: "Microsoft Graph",
                },
                504,
                "upstream_timeout",
            ),
            (ApiError::Internal("boom".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let response = error.to_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
            let body = body_json(response);
            assert_eq!(body["status"], status);
            assert_eq!(body["code"], code);
            assert_eq!(body["type"], format!("urn:remote-expert:problem:{code}"));
            assert!(body["title"].is_string() && body["detail"].is_string());
        }
    }

    #[test]
    fn all_lists_every_code_once() {
        // A new code fails to compile here until it has a place, and then this test until ALL
        // has it in that place.
        let place = |code: ProblemCode| match code {
            ProblemCode::BadRequest => 0,
            ProblemCode::InvalidToken => 1,
            ProblemCode::InteractionRequired => 2,
            ProblemCode::TenantNotAllowed => 3,
            ProblemCode::InsufficientScope => 4,
            ProblemCode::ConsentRequired => 5,
            ProblemCode::ServicePrincipalMissing => 6,
            ProblemCode::NotFound => 7,
            ProblemCode::MethodNotAllowed => 8,
            ProblemCode::RequestTimeout => 9,
            ProblemCode::PayloadTooLarge => 10,
            ProblemCode::Throttled => 11,
            ProblemCode::Internal => 12,
            ProblemCode::UpstreamError => 13,
            ProblemCode::Unavailable => 14,
            ProblemCode::UpstreamTimeout => 15,
        };
        for (index, code) in ProblemCode::ALL.into_iter().enumerate() {
            assert_eq!(place(code), index, "{code:?}");
        }
    }

    #[test]
    fn invalid_token_detail_does_not_echo_the_reason() {
        let response = ApiError::InvalidToken("kid abc unknown".into()).to_response();
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        let body = body_json(response);
        assert!(!body["detail"].as_str().unwrap().contains("abc"));
    }

    #[test]
    fn internal_detail_says_nothing_internal() {
        let body = body_json(ApiError::Internal("db password wrong".into()).to_response());
        assert_eq!(body["detail"], "An unexpected error occurred.");
    }
}
