//! The `code` of every problem answer, with its status, title and meaning.

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::StatusCode;

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
