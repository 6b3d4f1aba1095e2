//! Every error answer, in one place: the `ApiError` variants, their RFC 9457 problem details and
//! the mapping of warp's routing rejections onto the same shape.
//!
//! Details sent to callers are written here, never taken from upstream bodies or token text, so
//! nothing secret can leak through an error. Causes are logged once, when the answer is built.

use std::convert::Infallible;
use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reject::Reject;
use warp::reply::Response;
use warp::{Rejection, Reply};

use crate::acs;
use crate::auth::{AuthError, ClaimsError, KeyError};
use crate::graph;
use crate::obo::{DelegatedToken, OboError};
use crate::secrets::SecretsError;
use crate::upstream::{UNREACHABLE_RETRY_AFTER, UpstreamError};

/// `type` URIs are stable identifiers of each problem kind, documented in `docs/api.md`.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:remote-expert:problem:";

/// The machine-readable `code` of a problem answer, the one thing a tab branches on. Each code
/// has exactly one HTTP status; the OpenAPI description lists, per operation, the codes it can
/// answer (`FunctionSpec::problems`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    BadRequest,
    InvalidToken,
    InteractionRequired,
    TenantNotAllowed,
    InsufficientScope,
    ConsentRequired,
    ServicePrincipalMissing,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    PayloadTooLarge,
    Throttled,
    Internal,
    UpstreamError,
    Unavailable,
    UpstreamTimeout,
}

impl ProblemCode {
    /// Every code, in the order of `docs/api.md`'s table.
    pub const ALL: [ProblemCode; 16] = [
        ProblemCode::BadRequest,
        ProblemCode::InvalidToken,
        ProblemCode::InteractionRequired,
        ProblemCode::TenantNotAllowed,
        ProblemCode::InsufficientScope,
        ProblemCode::ConsentRequired,
        ProblemCode::ServicePrincipalMissing,
        ProblemCode::NotFound,
        ProblemCode::MethodNotAllowed,
        ProblemCode::RequestTimeout,
        ProblemCode::PayloadTooLarge,
        ProblemCode::Throttled,
        ProblemCode::Internal,
        ProblemCode::UpstreamError,
        ProblemCode::Unavailable,
        ProblemCode::UpstreamTimeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::BadRequest => "bad_request",
            ProblemCode::InvalidToken => "invalid_token",
            ProblemCode::InteractionRequired => "interaction_required",
            ProblemCode::TenantNotAllowed => "tenant_not_allowed",
            ProblemCode::InsufficientScope => "insufficient_scope",
            ProblemCode::ConsentRequired => "consent_required",
            ProblemCode::ServicePrincipalMissing => "service_principal_missing",
            ProblemCode::NotFound => "not_found",
            ProblemCode::MethodNotAllowed => "method_not_allowed",
            ProblemCode::RequestTimeout => "request_timeout",
            ProblemCode::PayloadTooLarge => "payload_too_large",
            ProblemCode::Throttled => "throttled",
            ProblemCode::Internal => "internal",
            ProblemCode::UpstreamError => "upstream_error",
            ProblemCode::Unavailable => "unavailable",
            ProblemCode::UpstreamTimeout => "upstream_timeout",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ProblemCode::BadRequest => StatusCode::BAD_REQUEST,
            ProblemCode::InvalidToken | ProblemCode::InteractionRequired => {
                StatusCode::UNAUTHORIZED
            }
            ProblemCode::TenantNotAllowed
            | ProblemCode::InsufficientScope
            | ProblemCode::ConsentRequired
            | ProblemCode::ServicePrincipalMissing => StatusCode::FORBIDDEN,
            ProblemCode::NotFound => StatusCode::NOT_FOUND,
            ProblemCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ProblemCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::Throttled => StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ProblemCode::UpstreamError => StatusCode::BAD_GATEWAY,
            ProblemCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ProblemCode::BadRequest => "Bad request",
            ProblemCode::InvalidToken => "Invalid token",
            ProblemCode::InteractionRequired => "Interaction required",
            ProblemCode::TenantNotAllowed => "Tenant not allowed",
            ProblemCode::InsufficientScope => "Insufficient scope",
            ProblemCode::ConsentRequired => "Consent required",
            ProblemCode::ServicePrincipalMissing => "Service not set up in the organization",
            ProblemCode::NotFound => "Not found",
            ProblemCode::MethodNotAllowed => "Method not allowed",
            ProblemCode::RequestTimeout => "Request timeout",
            ProblemCode::PayloadTooLarge => "Payload too large",
            ProblemCode::Throttled => "Throttled",
            ProblemCode::Internal => "Internal error",
            ProblemCode::UpstreamError => "Upstream error",
            ProblemCode::Unavailable => "Service unavailable",
            ProblemCode::UpstreamTimeout => "Upstream timeout",
        }
    }

    /// When the code is answered, for a tab developer: the `docs/api.md` table in one line each.
    pub fn meaning(self) -> &'static str {
        match self {
            ProblemCode::BadRequest => "malformed input; `detail` names the field",
            ProblemCode::InvalidToken => {
                "the bearer token is missing, malformed, badly signed, expired, not yet valid, or for another audience or issuer"
            }
            ProblemCode::InteractionRequired => {
                "Entra ID needs the user to satisfy a claims challenge (MFA, Conditional Access) first: get a token with `getAuthToken({claims: [body.claims]})` and retry"
            }
            ProblemCode::TenantNotAllowed => {
                "the user's organization is not allowed by this deployment"
            }
            ProblemCode::InsufficientScope => {
                "the token lacks `access_as_user`, or comes from a client app that is not allowed (`detail` says which)"
            }
            ProblemCode::ConsentRequired => {
                "the user or an administrator of their organization must consent to the listed `scopes`; after consent, retry once with `x-consent-retry: 1`"
            }
            ProblemCode::ServicePrincipalMissing => {
                "the user's organization has no service principal for a Microsoft service the call needs (Azure Communication Services); an administrator of that organization must create it, then consent"
            }
            ProblemCode::NotFound => {
                "the user, photo or chat does not exist (or the caller is not in the chat), or the path is unknown"
            }
            ProblemCode::MethodNotAllowed => {
                "the path is served, but not with this method; `Allow` lists the methods"
            }
            ProblemCode::RequestTimeout => {
                "the request body did not arrive within 15 s; the connection is closed"
            }
            ProblemCode::PayloadTooLarge => "the request body is over 64 KiB",
            ProblemCode::Throttled => {
                "Graph, ACS or Entra ID kept answering 429 after the retries; wait `Retry-After` seconds"
            }
            ProblemCode::Internal => "a bug; nothing internal is disclosed",
            ProblemCode::UpstreamError => {
                "Graph, ACS or Entra ID answered with an unexpected error; `detail` gives its status and error code, never its message"
            }
            ProblemCode::Unavailable => {
                "a dependency (Entra ID's signing keys or token endpoint, Key Vault, Graph or ACS) cannot be reached now; retry after `Retry-After` seconds"
            }
            ProblemCode::UpstreamTimeout => {
                "the upstream calls did not finish within the 25 s request deadline"
            }
        }
    }
}

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

/// The answers for what the clients of the Microsoft services report: each client has its own
/// error enum, and this is the one place that decides what a caller is told of them.
impl ApiError {
    /// `retry_after` is what callers are told to wait when the signing keys are unavailable.
    pub fn from_auth(error: AuthError, retry_after: Duration) -> ApiError {
        match error {
            AuthError::Missing => ApiError::MissingToken,
            AuthError::Key(KeyError::Unavailable) => ApiError::Unavailable {
                dependency: "signing key service",
                reason: "Entra signing keys cannot be loaded".to_owned(),
                retry_after,
            },
            AuthError::Claims(ClaimsError::TenantNotAllowed) => ApiError::TenantNotAllowed,
            AuthError::Claims(ClaimsError::MissingScope) => ApiError::InsufficientScope,
            AuthError::Claims(ClaimsError::ClientAppNotAllowed) => ApiError::ClientAppNotAllowed,
            other => ApiError::InvalidToken(other.to_string()),
        }
    }

    pub fn from_obo(error: OboError, retry_after: Duration) -> ApiError {
        match error {
            OboError::ConsentRequired { scopes } => ApiError::ConsentRequired { scopes },
            OboError::ServicePrincipalMissing { resource, app_id } => {
                ApiError::ServicePrincipalMissing { resource, app_id }
            }
            OboError::InteractionRequired { claims, .. } => {
                ApiError::InteractionRequired { claims }
            }
            OboError::AssertionRejected(code) => {
                ApiError::InvalidToken(format!("on-behalf-of refused the assertion (AADSTS{code})"))
            }
            OboError::Credential(error) => ApiError::from_secrets(error, retry_after),
            OboError::Unavailable(reason) => ApiError::Unavailable {
                dependency: "Entra token endpoint",
                reason,
                retry_after,
            },
            OboError::Throttled { retry_after: asked } => ApiError::Throttled {
                service: ENTRA,
                retry_after: asked.unwrap_or(retry_after),
            },
            OboError::Upstream { status, code } => ApiError::Upstream {
                service: ENTRA,
                status,
                code,
            },
            OboError::Timeout => ApiError::UpstreamTimeout { service: ENTRA },
        }
    }

    pub fn from_secrets(error: SecretsError, retry_after: Duration) -> ApiError {
        ApiError::Unavailable {
            dependency: error.dependency(),
            reason: error.to_string(),
            retry_after,
        }
    }

    /// A failed call to `service`; `not_found` says what was missing. A service we cannot
    /// connect to is unavailable (503, retry later); a connection lost mid-answer is an
    /// upstream error (502).
    pub fn from_upstream(
        error: &UpstreamError,
        service: &'static str,
        not_found: &str,
    ) -> ApiError {
        match error {
            UpstreamError::Transport(error) if error.is_connect() => ApiError::Unavailable {
                dependency: service,
                reason: "connection refused or unreachable".to_owned(),
                retry_after: UNREACHABLE_RETRY_AFTER,
            },
            UpstreamError::NotFound { .. } => ApiError::NotFound(not_found.to_owned()),
            UpstreamError::Status { status, code } => ApiError::Upstream {
                service,
                status: *status,
                code: code.clone(),
            },
            UpstreamError::Throttled { retry_after } => ApiError::Throttled {
                service,
                retry_after: *retry_after,
            },
            UpstreamError::Unavailable {
                status,
                retry_after,
            } => ApiError::Unavailable {
                dependency: service,
                reason: format!("answered {status} until the retry budget was spent"),
                retry_after: *retry_after,
            },
            UpstreamError::Timeout => ApiError::UpstreamTimeout { service },
            UpstreamError::Transport(_) => ApiError::Upstream {
                service,
                status: 0,
                code: "connection lost".to_owned(),
            },
            UpstreamError::TooLarge { .. } => ApiError::Upstream {
                service,
                status: 200,
                code: "answer_too_large".to_owned(),
            },
            UpstreamError::Parse => ApiError::Upstream {
                service,
                status: 200,
                code: "unreadable_answer".to_owned(),
            },
        }
    }

    /// A failed Graph call that needed `permissions` (e.g. `Chat.Create`).
    ///
    /// With `.default`, a token carries only what the tenant consented to; a permission added to
    /// the app later is missing until an administrator consents again, and Graph answers 403.
    /// That is `consent_required` with the permissions the call needs, so the tab can prompt.
    /// Whether the token lacks one is read from Entra's own answer (`scope`); a 403 for a
    /// permission the token has (e.g. posting into a chat the user is not in) stays an
    /// upstream error.
    pub fn from_graph(
        error: &graph::Error,
        token: &DelegatedToken,
        permissions: &[&str],
        not_found: &str,
    ) -> ApiError {
        if let UpstreamError::Status { status: 403, code } = error {
            let granted: Vec<Option<bool>> = permissions.iter().map(|p| token.grants(p)).collect();
            let lacking = granted.contains(&Some(false));
            let unknown = granted.iter().all(Option::is_none);
            if lacking || (unknown && graph::PERMISSION_DENIED_CODES.contains(&code.as_str())) {
                return ApiError::ConsentRequired {
                    scopes: permissions
                        .iter()
                        .map(|p| format!("{}/{p}", graph::GRAPH_RESOURCE))
                        .collect(),
                };
            }
        }
        ApiError::from_upstream(error, graph::SERVICE, not_found)
    }

    pub fn from_acs(error: &acs::Error, retry_after: Duration) -> ApiError {
        match error {
            acs::Error::Obo(error) => ApiError::from_obo(error.clone(), retry_after),
            acs::Error::Secrets(error) => ApiError::from_secrets(error.clone(), retry_after),
            acs::Error::ConnectionString(reason) => ApiError::Unavailable {
                dependency: "ACS connection string",
                reason: format!("the ACS connection string {reason}"),
                retry_after,
            },
            acs::Error::NotConfigured => ApiError::Unavailable {
                dependency: "Azure Communication Services resource",
                reason: "neither ACS_ENDPOINT nor ACS_CONNECTION_STRING is set".to_owned(),
                retry_after,
            },
            acs::Error::Upstream(error) => {
                ApiError::from_upstream(error, acs::SERVICE, "ACS could not find the user.")
            }
            acs::Error::BadExpiry => ApiError::Upstream {
                service: acs::SERVICE,
                status: 200,
                code: "expiresOn is not a date-time".to_owned(),
            },
            acs::Error::Request(reason) => ApiError::Internal(reason.clone().into()),
        }
    }
}

/// How Entra ID is named in answers.
const ENTRA: &str = "Entra ID";

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

    /// The machine-readable `code` of API.md.
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
