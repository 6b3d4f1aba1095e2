//! How a caller names a user: `me`, an object id, or a user principal name.

use super::ids::parse_guid;

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

/// A user of the caller's directory, as the profile and photo routes accept one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Me,
    /// An object id, as the caller spelled it (Graph takes either case).
    Id(String),
    Upn(UserPrincipalName),
}

impl UserRef {
    pub fn parse(text: &str) -> Option<UserRef> {
        if text == "me" {
            return Some(UserRef::Me);
        }
        match parse_guid(text) {
            Some(_) => Some(UserRef::Id(text.to_owned())),
            None => UserPrincipalName::parse(text).map(UserRef::Upn),
        }
    }
}
