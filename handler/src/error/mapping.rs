//! What a caller is told of each client's failure.

use std::time::Duration;

use super::ApiError;
use crate::acs;
use crate::auth::{AuthError, ClaimsError, KeyError};
use crate::graph;
use crate::obo::{DelegatedToken, OboError};
use crate::secrets::SecretsError;
use crate::upstream::{UNREACHABLE_RETRY_AFTER, UpstreamError};

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
