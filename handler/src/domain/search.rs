//! What a caller searches for.

use super::line::one_line;

pub const MAX_SEARCH_CHARS: usize = 100;

/// Text to find in names and mail addresses: 1 to 100 characters once trimmed, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(text: &str) -> Option<SearchText> {
        one_line(text, MAX_SEARCH_CHARS)
            .ok()
            .map(|line| SearchText(line.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}
