//! The OpenAPI schemas `derive(ToSchema)` cannot say: a body with exactly one of two fields,
//! and a Teams chat id.

use std::borrow::Cow;

use utoipa::ToSchema;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr, Schema};

use super::body::{MAX_CHAT_ID_LEN, NotifyChat};

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

/// The schema of a Teams chat id, as `is_chat_id` accepts it.
pub(super) struct ChatId;

impl utoipa::PartialSchema for ChatId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^19:[A-Za-z0-9:._-]*@[A-Za-z0-9:@._-]*$"))
            .max_length(Some(MAX_CHAT_ID_LEN))
            .description(Some(
                "A Teams chat id: `19:` and the thread's own id, e.g. `19:meeting_…@thread.v2`.",
            ))
            .examples(["19:meeting_NjE5ZGQ4YjQtZjE2Zi00@thread.v2"])
            .into()
    }
}

impl ToSchema for ChatId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ChatId")
    }
}
