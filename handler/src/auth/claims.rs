//! The checks Entra documents for a multitenant API, applied to a token whose signature has
//! already been verified: issuer per tenant, signing-key issuer, audience, lifetime, tenant
//! allow-list and the `access_as_user` scope.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use uuid::Uuid;

use super::jwks::{KeySet, SigningKey, TENANT_PLACEHOLDER};
pub use super::token_version::TokenVersion;
use crate::config::{AllowedClientApps, AllowedTenants};
use crate::domain::Guid;

/// The delegated scope the Teams tab asks for; without it the token was not meant for us.
pub const REQUIRED_SCOPE: &str = "access_as_user";

/// Entra's clocks and ours may disagree by a few minutes; Microsoft's own validators allow 5.
pub const CLOCK_SKEW_SECS: i64 = 300;

/// Who called, as established by a fully validated token.
///
/// Kept compact: up to `token_cache_capacity` (50,000 by default) of these live in the token
/// cache. The user principal name, the display name and the scopes share one boxed text, the
/// audience is shared with the app's configuration, and what the check depended on
/// (`vouched_by`) is kept here rather than in an entry of its own: two allocations a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub audience: Arc<str>,
    pub version: TokenVersion,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// The user principal name, the name and the space-separated `scp` claim, in that order;
    /// `u32` lengths (a token is far shorter) keep the struct in a 128-byte allocator chunk.
    text: Box<str>,
    user_principal_name_len: u32,
    name_len: u32,
    has_user_principal_name: bool,
    has_name: bool,
    pub(super) vouched_by: KeyCheck,
}

// With the `Arc`'s two counts and glibc malloc's size word, an `Arc<Identity>` fits a 128-byte
// chunk.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Identity>() + 16 + 8 <= 128);

/// The key that verified a token's signature and the key set it was found in: while that set is
/// current the key is still published (`TokenValidator::still_signed`).
#[derive(Debug, Clone)]
pub(super) struct KeyCheck {
    pub(super) key: Arc<SigningKey>,
    pub(super) generation: u64,
}

impl PartialEq for KeyCheck {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.key, &other.key) && self.generation == other.generation
    }
}

impl Eq for KeyCheck {}

impl Identity {
    pub fn user_principal_name(&self) -> Option<&str> {
        let upn = self.text.get(..self.name_start());
        upn.filter(|_| self.has_user_principal_name)
    }

    pub fn name(&self) -> Option<&str> {
        let name = self.text.get(self.name_start()..self.scopes_start());
        name.filter(|_| self.has_name)
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        let scopes = self.text.get(self.scopes_start()..).unwrap_or_default();
        scopes.split(' ').filter(|s| !s.is_empty())
    }

    fn scopes_start(&self) -> usize {
        self.name_start() + self.name_len as usize
    }

    fn name_start(&self) -> usize {
        self.user_principal_name_len as usize
    }
}

/// Why a signed token is still not acceptable. The variant decides the HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    #[error("claims are not valid JSON")]
    Malformed,
    #[error("token has no expiry")]
    MissingExpiry,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token audience is not this app")]
    WrongAudience,
    #[error("token version is not 1.0 or 2.0")]
    UnknownVersion,
    #[error("token tenant id is missing or not a GUID")]
    BadTenant,
    #[error("token issuer does not match its tenant")]
    WrongIssuer,
    #[error("signing key is not published for this token's version or issuer")]
    KeyNotForIssuer,
    #[error("token has no user object id")]
    MissingObjectId,
    #[error("tenant is not allowed")]
    TenantNotAllowed,
    #[error("token lacks the access_as_user scope")]
    MissingScope,
    #[error("token was obtained by a client app that is not allowed")]
    ClientAppNotAllowed,
}

#[derive(Deserialize)]
struct RawClaims<'a> {
    #[serde(borrow)]
    aud: Option<Cow<'a, str>>,
    #[serde(borrow)]
    iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    oid: Option<Cow<'a, str>>,
    exp: Option<i64>,
    nbf: Option<i64>,
    #[serde(borrow)]
    ver: Option<Cow<'a, str>>,
    #[serde(borrow)]
    scp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    upn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    unique_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    preferred_username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    /// The client app that obtained the token: `azp` in v2.0 tokens, `appid` in v1.0.
    #[serde(borrow)]
    azp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    appid: Option<Cow<'a, str>>,
}

/// What the app accepts, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Expectations {
    /// The client id and, when configured, the application ID URI.
    pub audiences: Vec<Arc<str>>,
    pub allowed_tenants: AllowedTenants,
    /// Which client apps may present a token: any app a user consented to could otherwise
    /// drive this API's Graph permissions in that user's name.
    pub allowed_client_apps: AllowedClientApps,
}

impl Expectations {
    /// Checks the claims of a token signed by `key`, `now` being seconds since the epoch.
    pub fn check(
        &self,
        claims_json: &[u8],
        keys: &KeySet,
        key: &Arc<SigningKey>,
        now: i64,
    ) -> Result<Identity, ClaimsError> {
        let raw: RawClaims<'_> =
            serde_json::from_slice(claims_json).map_err(|_| ClaimsError::Malformed)?;

        let expires_at = raw.exp.ok_or(ClaimsError::MissingExpiry)?;
        if now > expires_at.saturating_add(CLOCK_SKEW_SECS) {
            return Err(ClaimsError::Expired);
        }
        if raw
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(CLOCK_SKEW_SECS))
        {
            return Err(ClaimsError::NotYetValid);
        }

        let token_audience = raw.aud.ok_or(ClaimsError::WrongAudience)?;
        let audience = self
            .audiences
            .iter()
            .find(|a| ***a == *token_audience)
            .ok_or(ClaimsError::WrongAudience)?
            .clone();

        let version = match raw.ver.as_deref() {
            Some("1.0") => TokenVersion::V1,
            Some("2.0") => TokenVersion::V2,
            _ => return Err(ClaimsError::UnknownVersion),
        };
        let tenant_text = raw.tid.ok_or(ClaimsError::BadTenant)?;
        let tenant_id = parse_guid(&tenant_text).ok_or(ClaimsError::BadTenant)?;

        // The issuer must be the template of this token version's metadata with this token's
        // own tenant in it: a token from tenant A can never claim to come from tenant B.
        let issuer = raw.iss.ok_or(ClaimsError::WrongIssuer)?;
        let expected_issuer = keys
            .issuer_template(version)
            .replace(TENANT_PLACEHOLDER, &tenant_text);
        if issuer != expected_issuer {
            return Err(ClaimsError::WrongIssuer);
        }
        check_signing_key_issuer(key, version, &issuer, &tenant_text)?;

        let object_id = raw
            .oid
            .as_deref()
            .and_then(parse_guid)
            .ok_or(ClaimsError::MissingObjectId)?;

        if !self.allowed_tenants.allows(&tenant_id) {
            return Err(ClaimsError::TenantNotAllowed);
        }

        // App-only tokens carry `roles` and no `scp`; on-behalf-of needs a user, so they fail here.
        let scopes = raw.scp.as_deref().unwrap_or_default();
        if !scopes.split(' ').any(|s| s == REQUIRED_SCOPE) {
            return Err(ClaimsError::MissingScope);
        }

        let client_app = match version {
            TokenVersion::V1 => raw.appid.as_deref(),
            TokenVersion::V2 => raw.azp.as_deref(),
        };
        let client_app_allowed = match &self.allowed_client_apps {
            AllowedClientApps::Any => true,
            AllowedClientApps::Only(apps) => client_app
                .and_then(parse_guid)
                .is_some_and(|app| apps.contains(&app)),
        };
        if !client_app_allowed {
            return Err(ClaimsError::ClientAppNotAllowed);
        }

        let user_principal_name = match version {
            TokenVersion::V1 => raw.upn.or(raw.unique_name),
            TokenVersion::V2 => raw.preferred_username,
        };

        let upn = user_principal_name.as_deref();
        let name = raw.name.as_deref();
        let length = |text: Option<&str>| {
            u32::try_from(text.map_or(0, str::len)).map_err(|_| ClaimsError::Malformed)
        };
        let (user_principal_name_len, name_len) = (length(upn)?, length(name)?);
        let text: String = [upn.unwrap_or_default(), name.unwrap_or_default(), scopes].concat();

        Ok(Identity {
            tenant_id,
            object_id,
            audience,
            version,
            expires_at,
            text: text.into_boxed_str(),
            user_principal_name_len,
            name_len,
            has_user_principal_name: upn.is_some(),
            has_name: name.is_some(),
            vouched_by: KeyCheck {
                key: key.clone(),
                generation: keys.generation(),
            },
        })
    }
}

fn check_signing_key_issuer(
    key: &SigningKey,
    version: TokenVersion,
    issuer: &str,
    tenant: &str,
) -> Result<(), ClaimsError> {
    if !key.published_for(version) {
        return Err(ClaimsError::KeyNotForIssuer);
    }
    match (version, key.issuer.as_deref()) {
        // A key's issuer is either the multitenant template or one tenant's own issuer.
        (TokenVersion::V2, Some(key_issuer)) => {
            if key_issuer.replace(TENANT_PLACEHOLDER, tenant) == issuer {
                Ok(())
            } else {
                Err(ClaimsError::KeyNotForIssuer)
            }
        }
        _ => Ok(()),
    }
}

/// Entra ids are hyphenated GUIDs; other spellings are not what Entra issues.
fn parse_guid(text: &str) -> Option<Uuid> {
    Guid::parse(text).map(Uuid::from)
}
