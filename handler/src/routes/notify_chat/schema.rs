//! The OpenAPI schema `derive(ToSchema)` cannot say: a body with exactly one of two fields.

use std::borrow::Cow;

use utoipa::ToSchema;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr, Schema};

use super::body::NotifyChat;

/// The schema of a `NotifyChat` request body: its fields, with exactly one of `chatId` and
/// `recipients`.
pub(super) struct NotifyChatBody;

impl utoipa::PartialSchema for NotifyChatBody {
    fn schema() -> RefOr<Schema> {
        // A field counts as given when it is present and not `null`, as serde reads an Option.
        let given = |field: &str, kind: Type| {
            ObjectBuilder::new()
                .required(field)
                .property(field, ObjectBuilder::new().schema_type(kind))
        };
        // utoipa has no `not` schema; as an extension it is written where the keyword belongs.
        let not_both = ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .extensions(Some(Extensions::from_iter([(
                "not",
                serde_json::json!({
                    "properties": {"chatId": {"type": "string"}, "recipients": {"type": "array"}},
                    "required": ["chatId", "recipients"],
                }),
            )])));
        AllOfBuilder::new()
            .item(Ref::from_schema_name(<NotifyChat as ToSchema>::name()))
            .item(
                AnyOfBuilder::new()
                    .item(given("chatId", Type::String))
                    .item(given("recipients", Type::Array)),
            )
            .item(not_both)
            .description(Some(
                "Exactly one of `chatId` and `recipients` (not `null`), and the `message`.",
            ))
            .into()
    }
}

impl ToSchema for NotifyChatBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NotifyChatBody")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            <NotifyChat as ToSchema>::name().into_owned(),
            <NotifyChat as utoipa::PartialSchema>::schema(),
        ));
        <NotifyChat as ToSchema>::schemas(schemas);
    }
}
