//! The plain text a caller posts into a chat.

/// 1 to 4000 characters, not all blank. Still plain text: it is escaped where it becomes HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

pub const MAX_MESSAGE_CHARS: usize = 4000;

impl MessageText {
    pub fn parse(text: String) -> Option<MessageText> {
        let fits = !text.trim().is_empty() && text.chars().count() <= MAX_MESSAGE_CHARS;
        fits.then_some(MessageText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
