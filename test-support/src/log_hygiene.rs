//! The one check that logs leak nothing: no token or secret may appear, whole or in part.
//!
//! "In part" is any 8 consecutive characters of one (a JWT's header is shared by many tokens,
//! so a prefix alone would prove little; a secret's every piece is secret). The three places
//! that capture logs (the in-process API tests, the Key Vault harness, the binary as the host
//! runs it) all ask this.

/// Each secret (token, client secret, key, identity header) found in `logged`, with the log
/// line that carries it, or `Ok` when there is none. Secrets shorter than 8 characters are
/// checked whole.
pub fn leaks<'a>(logged: &str, secrets: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    let mut found = Vec::new();
    for secret in secrets {
        let bytes = secret.as_bytes();
        let pieces: Vec<&[u8]> = if bytes.len() < 8 {
            vec![bytes]
        } else {
            bytes.windows(8).collect()
        };
        let hit = pieces.into_iter().find_map(|piece| {
            let piece = std::str::from_utf8(piece).ok()?;
            logged.find(piece)
        });
        if let Some(at) = hit {
            let start = logged[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = logged[at..].find('\n').map_or(logged.len(), |i| at + i);
            found.push(format!(
                "a secret ({} characters) appears in: {}",
                secret.len(),
                &logged[start..end]
            ));
        }
    }
    if logged.to_ascii_lowercase().contains("bearer ey") {
        found.push("an Authorization header value was logged".to_owned());
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(found.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_secret_whole_or_in_part_and_only_then() {
        let secret = "7Qm2x9LrGk4Ts8WbNc3Vz";
        assert!(leaks("all clean here", [secret]).is_ok());
        assert!(leaks("prefix Gk4Ts8Wb suffix", [secret]).is_err());
        assert!(leaks(&format!("x {secret} y"), [secret]).is_err());
        assert!(leaks("Authorization: Bearer eyJ0", ["unrelated-secret"]).is_err());
        assert!(leaks("short ab1 value", ["ab1"]).is_err());
    }
}
