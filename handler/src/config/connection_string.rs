//! The ACS connection string, a setting (or a Key Vault secret) with the resource's access key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::{ExposeSecret, SecretBox};
use url::Url;

/// `endpoint=https://<resource>.communication.azure.com/;accesskey=<base64>`, parsed strictly.
pub struct ConnectionString {
    pub endpoint: Url,
    access_key: Option<SecretBox<Vec<u8>>>,
}

impl std::fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionString")
            .field("endpoint", &self.endpoint.as_str())
            .field(
                "access_key",
                &self.access_key.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl ConnectionString {
    /// Errors describe the problem without repeating any of the value.
    pub fn parse(text: &str) -> Result<ConnectionString, &'static str> {
        let mut endpoint = None;
        let mut access_key = None;
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or("is malformed: every part must be name=value")?;
            match name.trim().to_ascii_lowercase().as_str() {
                "endpoint" if endpoint.is_none() => {
                    let url = Url::parse(value.trim())
                        .ok()
                        .filter(|u| {
                            matches!(u.scheme(), "https" | "http") && u.host_str().is_some()
                        })
                        .filter(|u| u.query().is_none() && u.fragment().is_none())
                        // An ACS endpoint is an origin. A path would mean the text was not
                        // what it seems: a lost `;` turns `/;accesskey=…` into a path that
                        // carries the key into anything that prints the endpoint.
                        .filter(|u| {
                            u.path() == "/" && u.username().is_empty() && u.password().is_none()
                        })
                        .ok_or("is malformed: endpoint is not an https origin")?;
                    endpoint = Some(url);
                }
                "accesskey" if access_key.is_none() => {
                    let key = BASE64
                        .decode(value.trim())
                        .ok()
                        .filter(|k| !k.is_empty())
                        .ok_or("is malformed: accesskey is not base64")?;
                    access_key = Some(SecretBox::new(Box::new(key)));
                }
                "endpoint" | "accesskey" => return Err("is malformed: a part is given twice"),
                _ => return Err("is malformed: only endpoint and accesskey are expected"),
            }
        }
        Ok(ConnectionString {
            endpoint: endpoint.ok_or("is malformed: endpoint is missing")?,
            access_key,
        })
    }

    pub fn has_access_key(&self) -> bool {
        self.access_key.is_some()
    }

    /// The decoded access key, for HMAC signing; `None` for a keyless connection string.
    pub fn access_key(&self) -> Option<&[u8]> {
        self.access_key
            .as_ref()
            .map(|key| key.expose_secret().as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhpcyBpcyBhIHRlc3Qga2V5IGZvciB0aGUgQUNTIEhNQUMgdmVjdG9yIQ==";

    #[test]
    fn parses_connection_strings_strictly() {
        let parsed = ConnectionString::parse(&format!(
            "endpoint=https://contoso-acs.communication.azure.com/;accesskey={KEY}"
        ))
        .unwrap();
        assert_eq!(
            parsed.endpoint.as_str(),
            "https://contoso-acs.communication.azure.com/"
        );
        assert!(parsed.has_access_key());
        let keyless =
            ConnectionString::parse("Endpoint=https://contoso-acs.communication.azure.com/;")
                .unwrap();
        assert!(!keyless.has_access_key());
        for bad in [
            "",
            "accesskey=c2VjcmV0",
            "endpoint=contoso;accesskey=c2VjcmV0",
            "endpoint=https://x.example/;accesskey=not base64!",
            "endpoint=https://x.example/;accesskey=",
            "endpoint=https://x.example/;endpoint=https://y.example/",
            "endpoint=https://x.example/accesskey=c2VjcmV0",
            "endpoint=https://user:pw@x.example/;accesskey=c2VjcmV0",
            "endpoint=https://x.example/;sharedkey=abc",
            "garbage",
        ] {
            assert!(ConnectionString::parse(bad).is_err(), "{bad}");
        }
        let printed = format!("{parsed:?}");
        assert!(!printed.contains("dGhp"));
    }
}
