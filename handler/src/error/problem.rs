//! How an `ApiError` is answered: its RFC 9457 problem details, headers and log line.

use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use super::{ApiError, PROBLEM_TYPE_PREFIX, ProblemCode, error_chain};

/// An RFC 9457 problem details object, as every error is answered.
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem<'a> {
    /// `urn:remote-expert:problem:` followed by the `code`.
    #[serde(rename = "type")]
    #[schema(pattern = "^urn:remote-expert:problem:[a-z_]+$")]
    problem_type: String,
    /// The code's short, fixed title.
    title: &'a str,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// For people: what went wrong, never upstream text, tokens or secrets.
    detail: String,
    code: ProblemCode,
    /// With `consent_required`: the permissions to consent to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>, nullable = false)]
    scopes: Option<&'a [String]>,
    /// With `interaction_required`: the claims challenge as Entra ID wrote it (JSON text), for
    /// `authentication.getAuthToken({claims: [claims]})`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    claims: Option<&'a str>,
}

impl ApiError {
    /// Which kind of problem this is; its status and title follow from it.
    pub fn kind(&self) -> ProblemCode {
        match self {
            ApiError::BadRequest(_) => ProblemCode::BadRequest,
            ApiError::MissingToken | ApiError::InvalidToken(_) => ProblemCode::InvalidToken,
            ApiError::TenantNotAllowed => ProblemCode::TenantNotAllowed,
            ApiError::InsufficientScope | ApiError::ClientAppNotAllowed => {
                ProblemCode::InsufficientScope
            }
            ApiError::ConsentRequired { .. } => ProblemCode::ConsentRequired,
            ApiError::ServicePrincipalMissing { .. } => ProblemCode::ServicePrincipalMissing,
            ApiError::InteractionRequired { .. } => ProblemCode::InteractionRequired,
            ApiError::NotFound(_) => ProblemCode::NotFound,
            ApiError::MethodNotAllowed { .. } => ProblemCode::MethodNotAllowed,
            ApiError::PayloadTooLarge { .. } => ProblemCode::PayloadTooLarge,
            ApiError::RequestTimeout { .. } => ProblemCode::RequestTimeout,
            ApiError::Unavailable { .. } => ProblemCode::Unavailable,
            ApiError::Throttled { .. } => ProblemCode::Throttled,
            ApiError::Upstream { .. } => ProblemCode::UpstreamError,
            ApiError::UpstreamTimeout { .. } => ProblemCode::UpstreamTimeout,
            ApiError::Internal(_) => ProblemCode::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.kind().status()
    }

    /// The machine-readable `code` of `docs/api.md`.
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
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
            ApiError::ServicePrincipalMissing { resource, app_id } => format!(
                "The user's organization has not set up {resource} (no service principal for app {app_id}). An administrator of that organization must create it, e.g. `az ad sp create --id {app_id}`, then grant consent again."
            ),
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
            | ApiError::ServicePrincipalMissing { .. }
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

    /// The problem details of the answer.
    pub(crate) fn problem(&self) -> Problem<'_> {
        let kind = self.kind();
        Problem {
            problem_type: format!("{PROBLEM_TYPE_PREFIX}{}", kind.as_str()),
            title: kind.title(),
            status: kind.status().as_u16(),
            detail: self.detail(),
            code: kind,
            scopes: match self {
                ApiError::ConsentRequired { scopes } => Some(scopes),
                _ => None,
            },
            claims: match self {
                ApiError::InteractionRequired { claims } => claims.as_deref(),
                _ => None,
            },
        }
    }

    /// Builds the problem+json answer; takes `&self` so rejections, which are only lent out by
    /// warp, can be answered too.
    pub fn to_response(&self) -> Response {
        self.log();
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = Response::new(body.into());
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
            .extensions_mut()
            .insert(crate::otel::Outcome(self.code()));
        let headers = response.headers_mut();
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
