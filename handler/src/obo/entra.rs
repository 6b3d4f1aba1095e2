//! One request to Entra's token endpoint for an on-behalf-of token, and the sorting of its
//! answer the way MSAL sorts it.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::{DelegatedToken, OboError, OnBehalfOf, ScopeSet};
use crate::auth::Caller;
use crate::otel::dependency;
use crate::secrets::ClientAuthentication;
use crate::token_cache;
use crate::upstream::safe_code;

/// MSAL's `InteractionRequiredAuthError` codes.
const INTERACTION_ERRORS: &[&str] = &[
    "interaction_required",
    "consent_required",
    "login_required",
    "bad_token",
    "ux_not_allowed",
    "interrupted_user",
];
const INTERACTION_SUBERRORS: &[&str] = &[
    "message_only",
    "additional_action",
    "basic_action",
    "user_password_expired",
    "consent_required",
    "bad_token",
    "ux_not_allowed",
    "interrupted_user",
];
/// AADSTS65001: the user or an administrator has not consented.
const CONSENT_NOT_GRANTED: i64 = 65001;
/// AADSTS650052: the caller's tenant has no service principal for the resource the app asks
/// for (for ACS: its first-party app was never set up there). Entra sends it as
/// `invalid_client`, which must not be taken for our own credential being wrong.
const RESOURCE_SERVICE_PRINCIPAL_MISSING: i64 = 650052;
/// AADSTS50076 / 50079: multi-factor authentication required (or required to register);
/// AADSTS50158: an external security challenge; AADSTS53003: blocked by Conditional Access.
const CLAIMS_CHALLENGES: &[i64] = &[50076, 50079, 50158, 53003];
/// AADSTS50013 (assertion failed signature validation, e.g. expired) and AADSTS500133 (assertion
/// not within its valid time range): the caller must fetch a new SSO token.
const ASSERTION_REJECTED: &[i64] = &[50013, 500133];

/// How one token request ended, before retry decisions.
pub(super) enum Attempt {
    Issued(DelegatedToken),
    InvalidClient,
    NeedsConsent,
    NeedsInteraction { code: i64, claims: Option<String> },
    Failed(OboError),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize, Default)]
struct TokenErrorResponse {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_codes: Vec<i64>,
    #[serde(default)]
    suberror: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
    /// A claims challenge (JSON text) with `interaction_required`.
    #[serde(default)]
    claims: Option<String>,
}

impl OnBehalfOf {
    pub(super) async fn request(
        &self,
        caller: &Caller,
        scopes: &ScopeSet,
        authentication: &ClientAuthentication,
    ) -> Attempt {
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority_host, caller.identity.tenant_id
        );
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", &self.client_id),
            ("assertion", caller.token()),
            ("scope", scopes.request),
            ("requested_token_use", "on_behalf_of"),
        ];
        match authentication {
            ClientAuthentication::Secret(secret) => {
                form.push(("client_secret", secret.expose_secret()));
            }
            ClientAuthentication::Assertion(assertion) => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
                form.push(("client_assertion", assertion.expose_secret()));
            }
        }
        let started = Instant::now();
        let span = dependency::span_for("entra", "POST", &url);
        let sent = self
            .http
            .post(&url)
            .form(&form)
            .send()
            .instrument(span.clone())
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                dependency::record_status(&span, None);
                if error.is_timeout() {
                    return Attempt::Failed(OboError::Timeout);
                }
                return Attempt::Failed(OboError::Unavailable("unreachable".to_owned()));
            }
        };
        let status = response.status();
        dependency::record_status(&span, Some(status.as_u16()));
        dependency::record_request_id(
            &span,
            response
                .headers()
                .get("x-ms-request-id")
                .and_then(|v| v.to_str().ok()),
        );
        let retry_after = crate::upstream::retry_after(&response);
        let body = match crate::upstream::read_capped(response, crate::upstream::MAX_JSON_BODY)
            .await
        {
            Ok(body) => body,
            Err(crate::upstream::UpstreamError::TooLarge { .. }) => {
                return Attempt::Failed(OboError::Upstream {
                    status: status.as_u16(),
                    code: "answer_too_large".to_owned(),
                });
            }
            Err(_) => return Attempt::Failed(OboError::Unavailable("answer cut short".to_owned())),
        };
        if status.is_success() {
            return match serde_json::from_slice::<TokenResponse>(&body) {
                Ok(issued) => {
                    let lifetime = Duration::from_secs(issued.expires_in);
                    Attempt::Issued(DelegatedToken::new(
                        SecretString::from(issued.access_token),
                        token_cache::use_by(started, lifetime),
                        issued.scope.as_deref().map(granted_permissions),
                    ))
                }
                Err(_) => Attempt::Failed(OboError::Upstream {
                    status: status.as_u16(),
                    code: "unreadable token response".to_owned(),
                }),
            };
        }
        let error: TokenErrorResponse = serde_json::from_slice(&body).unwrap_or_default();
        tracing::info!(
            status = status.as_u16(),
            error = %error.error,
            error_codes = ?error.error_codes,
            suberror = error.suberror.as_deref().unwrap_or(""),
            entra_trace_id = error.trace_id.as_deref().unwrap_or(""),
            entra_correlation_id = error.correlation_id.as_deref().unwrap_or(""),
            "on-behalf-of exchange refused"
        );
        classify(status.as_u16(), &error, retry_after, scopes)
    }
}

/// Sorts Entra's refusal. The AADSTS codes come first: Entra files several different refusals
/// under one `error` (650052, a problem of the caller's tenant, arrives as `invalid_client`).
fn classify(
    status: u16,
    error: &TokenErrorResponse,
    retry_after: Option<Duration>,
    scopes: &ScopeSet,
) -> Attempt {
    if error
        .error_codes
        .contains(&RESOURCE_SERVICE_PRINCIPAL_MISSING)
    {
        let (resource, app_id) = scopes.resource;
        return Attempt::Failed(OboError::ServicePrincipalMissing { resource, app_id });
    }
    if let Some(code) = error
        .error_codes
        .iter()
        .find(|code| ASSERTION_REJECTED.contains(code))
    {
        return Attempt::Failed(OboError::AssertionRejected(*code));
    }
    let consent = error.error_codes.contains(&CONSENT_NOT_GRANTED)
        || error.error == "consent_required"
        || error.suberror.as_deref() == Some("consent_required");
    if consent {
        return Attempt::NeedsConsent;
    }
    if error.error == "invalid_client" {
        return Attempt::InvalidClient;
    }
    let challenge = error
        .error_codes
        .iter()
        .find(|code| CLAIMS_CHALLENGES.contains(code));
    let interaction = challenge.is_some()
        || error.claims.is_some()
        || INTERACTION_ERRORS.contains(&error.error.as_str())
        || error
            .suberror
            .as_deref()
            .is_some_and(|s| INTERACTION_SUBERRORS.contains(&s));
    if interaction {
        return Attempt::NeedsInteraction {
            code: challenge
                .or(error.error_codes.first())
                .copied()
                .unwrap_or_default(),
            claims: error.claims.clone().filter(|c| is_claims_challenge(c)),
        };
    }
    if status == 429 {
        return Attempt::Failed(OboError::Throttled { retry_after });
    }
    if status >= 500 {
        return Attempt::Failed(OboError::Unavailable(format!("answered {status}")));
    }
    // `error` is a protocol code in Entra's answers, but it is upstream text all the same: only
    // an identifier goes to the caller (the whole answer was logged above).
    let code = match (safe_code(&error.error), error.error_codes.first()) {
        (Some(name), Some(aadsts)) => format!("{name} AADSTS{aadsts}"),
        (Some(name), None) => name,
        (None, Some(aadsts)) => format!("AADSTS{aadsts}"),
        (None, None) => "unexpected answer".to_owned(),
    };
    Attempt::Failed(OboError::Upstream { status, code })
}

/// `https://graph.microsoft.com/Chat.Create openid` → `["chat.create", "openid"]`.
fn granted_permissions(scope: &str) -> Vec<String> {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.rsplit_once('/')
                .map_or(s, |(_, name)| name)
                .to_ascii_lowercase()
        })
        .collect()
}

/// A claims challenge is a JSON object Entra wrote; anything else is not passed on.
fn is_claims_challenge(claims: &str) -> bool {
    claims.len() <= 4096
        && serde_json::from_str::<serde_json::Value>(claims).is_ok_and(|v| v.is_object())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(error: &str, codes: &[i64], suberror: Option<&str>) -> TokenErrorResponse {
        TokenErrorResponse {
            error: error.to_owned(),
            error_codes: codes.to_vec(),
            suberror: suberror.map(str::to_owned),
            ..Default::default()
        }
    }

    fn kind(attempt: Attempt) -> String {
        match attempt {
            Attempt::Issued(_) => "issued".into(),
            Attempt::InvalidClient => "invalid_client".into(),
            Attempt::NeedsConsent => "consent".into(),
            Attempt::NeedsInteraction { code, claims } => {
                format!("interaction {code} {}", claims.unwrap_or_default())
            }
            Attempt::Failed(e) => format!("failed: {e}"),
        }
    }

    #[test]
    fn sorts_entra_answers_like_msal() {
        let cases = [
            (400, error("invalid_grant", &[65001], None), "consent"),
            (
                400,
                error("interaction_required", &[50079], None),
                "interaction 50079 ",
            ),
            (400, error("consent_required", &[], None), "consent"),
            (
                400,
                error("invalid_grant", &[50076], Some("basic_action")),
                "interaction 50076 ",
            ),
            (
                400,
                TokenErrorResponse {
                    claims: Some(r#"{"access_token":{"acrs":{"essential":true}}}"#.into()),
                    ..error("interaction_required", &[53003], None)
                },
                r#"interaction 53003 {"access_token":{"acrs":{"essential":true}}}"#,
            ),
            (
                400,
                TokenErrorResponse {
                    claims: Some("not json".into()),
                    ..error("interaction_required", &[50079], None)
                },
                "interaction 50079 ",
            ),
            (
                400,
                error("invalid_grant", &[50013], None),
                "failed: the SSO token was refused as an assertion (AADSTS50013)",
            ),
            (
                400,
                error("invalid_grant", &[500133], None),
                "failed: the SSO token was refused as an assertion (AADSTS500133)",
            ),
            (
                401,
                error("invalid_client", &[7000215], None),
                "invalid_client",
            ),
            (
                400,
                error("invalid_client", &[650052], None),
                "failed: the caller's tenant has no service principal for Azure Communication Services (AADSTS650052)",
            ),
            (
                400,
                error("invalid_grant", &[50020], None),
                "failed: Entra answered 400 (invalid_grant AADSTS50020)",
            ),
            (
                503,
                error("temporarily_unavailable", &[], None),
                "failed: Entra token endpoint unavailable: answered 503",
            ),
            (
                400,
                TokenErrorResponse::default(),
                "failed: Entra answered 400 (unexpected answer)",
            ),
            (
                400,
                error("<script>alert(1)</script> call +1-555", &[50020], None),
                "failed: Entra answered 400 (AADSTS50020)",
            ),
            (
                429,
                error("temporarily_unavailable", &[], None),
                "failed: Entra token endpoint throttled the exchange",
            ),
        ];
        for (status, response, expected) in cases {
            assert_eq!(
                kind(classify(status, &response, None, &crate::acs::ACS_SCOPES)),
                expected
            );
        }
    }
}
