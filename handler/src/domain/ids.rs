//! Entra object and tenant ids.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

/// What `parse_guid` accepts, as an ECMA-262 pattern for the OpenAPI description.
pub const GUID_PATTERN: &str =
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";

/// The OpenAPI schema of an object or tenant id (`Guid` in the document): what the routes take
/// as a GUID is a `String` checked by `parse_guid`, so this type only names its schema.
pub struct Guid;

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

/// The hyphenated 8-4-4-4-12 form only: `Uuid` also reads braces, URNs and bare hex, which
/// Entra never issues and which would only hide a copy-paste mistake.
pub fn parse_guid(text: &str) -> Option<Uuid> {
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hyphenated_form_is_a_guid() {
        assert!(parse_guid("0b1d0000-0000-4000-8000-000000000001").is_some());
        assert!(parse_guid("0B1D0000-0000-4000-8000-000000000001").is_some());
        for bad in [
            "",
            "{0b1d0000-0000-4000-8000-000000000001}",
            "0b1d0000000040008000000000000001",
            "urn:uuid:0b1d0000-0000-4000-8000-000000000001",
        ] {
            assert!(parse_guid(bad).is_none(), "{bad}");
        }
    }
}
