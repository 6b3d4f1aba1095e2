//! Entra object and tenant ids.

use uuid::Uuid;

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
