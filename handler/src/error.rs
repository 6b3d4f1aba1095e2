//! Every error answer, in one place: the `ApiError` variants, their RFC 9457 problem details and
//! the mapping of warp's routing rejections onto the same shape.
//!
//! Details sent to callers are written here, never taken from upstream bodies or token text, so
//! nothing secret can leak through an error. Causes are logged once, when the answer is built.

use std::convert::Infallible;
use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reject::Reject;
use warp::reply::Response;
use warp::{Rejection, Reply};

/// `type` URIs are stable identifiers of each problem kind, documented in `docs/api.md`.
const PROBLEM_TYPE_PREFIX: &str = "urn:remote-expert:problem:";

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

impl ApiError {
    /// The same answer for another request (a shared single-flight failure). The internal
    /// cause is not cloneable and is replaced by its text.
    pub fn duplicate(&self) -> ApiError {
        match self {
            ApiError::BadRequest(m) => ApiError::BadRequest(m.clone()),
            ApiError::MissingToken => ApiError::MissingToken,
            ApiError::InvalidToken(r) => ApiError::InvalidToken(r.clone()),
            ApiError::TenantNotAllowed => ApiError::TenantNotAllowed,
            ApiError::InsufficientScope => ApiError::InsufficientScope,
            ApiError::ClientAppNotAllowed => ApiError::ClientAppNotAllowed,
            ApiError::ConsentRequired { scopes } => ApiError::ConsentRequired {
                scopes: scopes.clone(),
            },
            ApiError::InteractionRequired { claims } => ApiError::InteractionRequired {
                claims: claims.clone(),
            },
            ApiError::NotFound(m) => ApiError::NotFound(m.clone()),
            ApiError::MethodNotAllowed { allow } => ApiError::MethodNotAllowed { allow },
            ApiError::PayloadTooLarge { limit } => ApiError::PayloadTooLarge { limit: *limit },
            ApiError::RequestTimeout { limit } => ApiError::RequestTimeout { limit: *limit },
            ApiError::Unavailable {
                dependency,
                reason,
                retry_after,
            } => ApiError::Unavailable {
                dependency,
                reason: reason.clone(),
                retry_after: *retry_after,
            },
            ApiError::Throttled {
                service,
                retry_after,
            } => ApiError::Throttled {
                service,
                retry_after: *retry_after,
            },
            ApiError::Upstream {
                service,
                status,
                code,
            } => ApiError::Upstream {
                service,
                status: *status,
                code: code.clone(),
            },
            ApiError::UpstreamTimeout { service } => ApiError::UpstreamTimeout { service },
            ApiError::Internal(cause) => ApiError::Internal(error_chain(cause.as_ref()).into()),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<&'a [String]>,
    /// The claims challenge as Entra wrote it (JSON text), for `getAuthToken({claims})`.
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<&'a str>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::MissingToken
            | ApiError::InvalidToken(_)
            | ApiError::InteractionRequired { .. } => StatusCode::UNAUTHORIZED,
            ApiError::TenantNotAllowed
            | ApiError::InsufficientScope
            | ApiError::ClientAppNotAllowed
            | ApiError::ConsentRequired { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            ApiError::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable `code` of API.md.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::MissingToken | ApiError::InvalidToken(_) => "invalid_token",
            ApiError::TenantNotAllowed => "tenant_not_allowed",
            ApiError::InsufficientScope | ApiError::ClientAppNotAllowed => "insufficient_scope",
            ApiError::ConsentRequired { .. } => "consent_required",
            ApiError::InteractionRequired { .. } => "interaction_required",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RequestTimeout { .. } => "request_timeout",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Throttled { .. } => "throttled",
            ApiError::Upstream { .. } => "upstream_error",
            ApiError::UpstreamTimeout { .. } => "upstream_timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "Bad request",
            ApiError::MissingToken | ApiError::InvalidToken(_) => "Invalid token",
            ApiError::TenantNotAllowed => "Tenant not allowed",
            ApiError::InsufficientScope | ApiError::ClientAppNotAllowed => "Insufficient scope",
            ApiError::ConsentRequired { .. } => "Consent required",
            ApiError::InteractionRequired { .. } => "Interaction required",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::RequestTimeout { .. } => "Request timeout",
            ApiError::Unavailable { .. } => "Service unavailable",
            ApiError::Throttled { .. } => "Throttled",
            ApiError::Upstream { .. } => "Upstream error",
            ApiError::UpstreamTimeout { .. } => "Upstream timeout",
            ApiError::Internal(_) => "Internal error",
        }
    }

    /// What the caller is told. Written for a Teams tab developer; never an upstream body.
    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest(message) => message.clone(),
            ApiError::MissingToken => "An Authorization: Bearer token is required.".to_owned(),
            ApiError::InvalidToken(_) => {
                "The bearer token is not a valid access token for this app.".to_owned()
            }
            ApiError::TenantNotAllowed => {
                "The signed-in user's organization is not allowed to use this app.".to_owned()
            }
            ApiError::InsufficientScope => {
                "The token does not carry the access_as_user scope.".to_owned()
            }
            ApiError::ClientAppNotAllowed => {
                "The token was obtained by a client app (azp/appid) that is not allowed to call this API; use the Teams, Microsoft 365 or Outlook client, or add the app to ENTRA_ALLOWED_CLIENT_APPS.".to_owned()
            }
            ApiError::ConsentRequired { .. } => {
                "The signed-in user (or an administrator of their organization) must consent to the listed scopes.".to_owned()
            }
            ApiError::InteractionRequired { .. } => {
                "The user's organization requires more sign-in steps (for example multi-factor authentication): get a new token with the listed claims, then retry.".to_owned()
            }
            ApiError::NotFound(message) => message.clone(),
            ApiError::MethodNotAllowed { allow } => {
                format!("This resource only accepts {allow}.")
            }
            ApiError::PayloadTooLarge { limit } => {
                format!("The request body must not exceed {limit} bytes.")
            }
            ApiError::RequestTimeout { limit } => format!(
                "The request body did not arrive within {} seconds.",
                limit.as_secs()
            ),
            ApiError::Unavailable { dependency, .. } => {
                format!("The {dependency} cannot be reached right now; retry later.")
            }
            ApiError::Throttled { service, .. } => {
                format!("{service} is throttling requests; retry after the indicated delay.")
            }
            ApiError::Upstream {
                service,
                status,
                code,
            } if *status == 0 => format!("The connection to {service} was lost ({code})."),
            ApiError::Upstream {
                service,
                status,
                code,
            } => format!("{service} answered {status} ({code})."),
            ApiError::UpstreamTimeout { service } => {
                format!("{service} did not answer in time.")
            }
            ApiError::Internal(_) => "An unexpected error occurred.".to_owned(),
        }
    }

    fn log(&self) {
        match self {
            ApiError::MissingToken | ApiError::InvalidToken(_) => {
                tracing::debug!(error = %self, "request refused");
            }
            ApiError::TenantNotAllowed
            | ApiError::InsufficientScope
            | ApiError::ClientAppNotAllowed
            | ApiError::ConsentRequired { .. }
            | ApiError::InteractionRequired { .. } => {
                tracing::info!(error = %self, "request forbidden");
            }
            ApiError::Throttled { .. } | ApiError::UpstreamTimeout { .. } => {
                tracing::warn!(error = %self, "upstream did not serve the request");
            }
            ApiError::Upstream { .. } => tracing::error!(error = %self, "upstream error"),
            ApiError::Unavailable { .. } => tracing::warn!(error = %self, "dependency unavailable"),
            ApiError::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "internal error");
            }
            _ => {}
        }
    }

    /// Builds the problem+json answer; takes `&self` so rejections, which are only lent out by
    /// warp, can be answered too.
    pub fn to_response(&self) -> Response {
        self.log();
        let status = self.status();
        let code = self.code();
        let problem = Problem {
            problem_type: format!("{PROBLEM_TYPE_PREFIX}{code}"),
            title: self.title(),
            status: status.as_u16(),
            detail: self.detail(),
            code,
            scopes: match self {
                ApiError::ConsentRequired { scopes } => Some(scopes),
                _ => None,
            },
            claims: match self {
                ApiError::InteractionRequired { claims } => claims.as_deref(),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = Response::new(body.into());
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self {
            ApiError::MissingToken | ApiError::InvalidToken(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            // RFC 6750 §3 with Entra's claims challenge, as Microsoft's middle-tier guidance
            // answers a client that must step up (the claims base64-encoded).
            ApiError::InteractionRequired { claims } => {
                let challenge = match claims {
                    Some(claims) => format!(
                        "Bearer error=\"insufficient_claims\", claims=\"{}\"",
                        base64::engine::general_purpose::STANDARD.encode(claims)
                    ),
                    None => "Bearer error=\"insufficient_claims\"".to_owned(),
                };
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            ApiError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            // The rest of a body that was too slow is not worth waiting for on this connection.
            ApiError::RequestTimeout { .. } => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            ApiError::Unavailable { retry_after, .. } | ApiError::Throttled { retry_after, .. } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs()),
                );
            }
            _ => {}
        }
        response
    }
}

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
