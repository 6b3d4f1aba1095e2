//! Entra object and tenant ids.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

/// What `Guid::parse` accepts, as an ECMA-262 pattern for the OpenAPI description.
pub const GUID_PATTERN: &str =
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

/// An Entra object or tenant id, in its hyphenated 8-4-4-4-12 form. Written lowercase, as Entra
/// writes ids; `Guid` in the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid(Uuid);

impl Guid {
    /// The hyphenated 8-4-4-4-12 form only, either case: `Uuid` also reads braces, URNs and bare
    /// hex, which Entra never issues and which would only hide a copy-paste mistake.
    pub fn parse(text: &str) -> Option<Guid> {
        if text.len() != 36 {
            return None;
        }
        Uuid::try_parse(text).ok().map(Guid)
    }
}

impl From<Uuid> for Guid {
    fn from(id: Uuid) -> Self {
        Guid(id)
    }
}

impl From<Guid> for Uuid {
    fn from(id: Guid) -> Self {
        id.0
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl utoipa::PartialSchema for Guid {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".to_owned())))
            .pattern(Some(GUID_PATTERN))
            .description(Some(
                "An Entra object or tenant id: a GUID in its hyphenated 8-4-4-4-12 form, either case.",
            ))
            .examples(["0b1d0000-0000-4000-8000-000000000002"])
            .into()
    }
}

impl utoipa::ToSchema for Guid {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Guid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hyphenated_form_is_a_guid() {
        assert!(Guid::parse("0b1d0000-0000-4000-8000-000000000001").is_some());
        assert_eq!(
            Guid::parse("0B1D0000-0000-4000-8000-000000000001")
                .unwrap()
                .to_string(),
            "0b1d0000-0000-4000-8000-000000000001"
        );
        for bad in [
            "",
            "{0b1d0000-0000-4000-8000-000000000001}",
            "0b1d0000000040008000000000000001",
            "urn:uuid:0b1d0000-0000-4000-8000-000000000001",
        ] {
            assert!(Guid::parse(bad).is_none(), "{bad}");
        }
    }
}
