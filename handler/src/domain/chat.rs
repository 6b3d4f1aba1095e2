//! A Teams chat id. Not a GUID: `19:` then the thread's own id.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

pub const MAX_CHAT_ID_LEN: usize = 256;

/// A Teams chat id: `19:` then the thread's own id, `@thread.v2`, `@thread.skype` or
/// `@unq.gbl.spaces`, in the characters those use, so it is safe as a Graph path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatId(String);

impl ChatId {
    pub fn parse(text: String) -> Option<ChatId> {
        let valid = text.starts_with("19:")
            && text.len() <= MAX_CHAT_ID_LEN
            && text.contains('@')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":@._-".contains(c));
        valid.then_some(ChatId(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// As `ChatId::parse` accepts it.
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

impl utoipa::ToSchema for ChatId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ChatId")
    }
}
