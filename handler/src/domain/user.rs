//! How a caller names a user: `me`, an object id, or a user principal name.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use super::ids::Guid;

/// What `UserPrincipalName::parse` accepts, as an ECMA-262 pattern: 1 to 113 allowed characters,
/// `@`, and a domain of 3 to 255 letters, digits, dots and hyphens with at least one dot.
pub const USER_PRINCIPAL_NAME_PATTERN: &str =
    "^[A-Za-z0-9'._!#^~+&-]{1,113}@(?=[A-Za-z0-9.-]{3,255}$)[A-Za-z0-9-]*\\.[A-Za-z0-9.-]*$";

/// A plausible user principal name: `name@domain`, in the characters Entra allows (guest UPNs
/// contain `#EXT#`), at most 113 characters before the `@` plus the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipalName(String);

impl UserPrincipalName {
    /// Takes the text by value: a valid name is kept as it is, without a copy.
    pub fn parse(text: impl Into<String>) -> Option<UserPrincipalName> {
        let text = text.into();
        let (name, domain) = text.rsplit_once('@')?;
        let name_ok = (1..=113).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~+&".contains(c));
        let domain_ok = (3..=255).contains(&domain.len())
            && domain.contains('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        (name_ok && domain_ok).then_some(UserPrincipalName(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl utoipa::PartialSchema for UserPrincipalName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(USER_PRINCIPAL_NAME_PATTERN))
            .description(Some(
                "A user principal name, `name@domain`; guests' contain `#EXT#`.",
            ))
            .examples(["robin@experts.example"])
            .into()
    }
}

impl utoipa::ToSchema for UserPrincipalName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UserPrincipalName")
    }
}

/// A user of the caller's directory, as the profile and photo routes accept one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Me,
    /// An object id, as the caller spelled it (Graph takes either case).
    Id(String),
    Upn(UserPrincipalName),
}

/// `{id}` of the profile and photo routes: `me`, an object id or a user principal name.
impl utoipa::PartialSchema for UserRef {
    fn schema() -> RefOr<Schema> {
        let me = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["me"]))
            .description(Some("The signed-in user."));
        OneOfBuilder::new()
            .item(me)
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                <Guid as utoipa::ToSchema>::name(),
            )))
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                <UserPrincipalName as utoipa::ToSchema>::name(),
            )))
            .into()
    }
}

impl utoipa::ToSchema for UserRef {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UserRef")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for (name, schema) in [
            (
                <Guid as utoipa::ToSchema>::name(),
                <Guid as utoipa::PartialSchema>::schema(),
            ),
            (
                <UserPrincipalName as utoipa::ToSchema>::name(),
                <UserPrincipalName as utoipa::PartialSchema>::schema(),
            ),
        ] {
            schemas.push((name.into_owned(), schema));
        }
    }
}

impl UserRef {
    pub fn parse(text: &str) -> Option<UserRef> {
        if text == "me" {
            return Some(UserRef::Me);
        }
        match Guid::parse(text) {
            Some(_) => Some(UserRef::Id(text.to_owned())),
            None => UserPrincipalName::parse(text).map(UserRef::Upn),
        }
    }
}

/// Whether a user principal name is a B2B guest's (`…#EXT#@tenant`): such a user is a guest of
/// the directory, and the name is never a mail address.
pub fn is_guest_user_principal_name(upn: &str) -> bool {
    upn.to_ascii_uppercase().contains("#EXT#")
}
