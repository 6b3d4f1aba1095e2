//! The rule shared by the short texts a caller sends on one line: a meeting's subject, a search.

/// Why a text is not a line.
pub(super) enum LineProblem {
    /// Empty once trimmed, or longer than allowed.
    Length,
    /// A control character (a line break included).
    Control,
}

/// `text` trimmed, if it is 1 to `max_chars` characters with no control character: Teams shows
/// a subject on one line, and Graph's `$search` takes one line.
pub(super) fn one_line(text: &str, max_chars: usize) -> Result<&str, LineProblem> {
    let line = text.trim();
    let chars = line.chars().count();
    if chars == 0 || chars > max_chars {
        return Err(LineProblem::Length);
    }
    if line.chars().any(char::is_control) {
        return Err(LineProblem::Control);
    }
    Ok(line)
}
