//! The one HTTP client used for every call the handler makes: Entra, Key Vault and the managed
//! identity endpoint (through the Azure SDK), Graph and ACS.
//!
//! Built once and shared: connection pools and TLS state are reused, timeouts are uniform, and
//! redirects are never followed, so a compromised or misconfigured upstream cannot bounce a
//! request carrying a token to another host. Extra root certificates from `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` are trusted in addition to the system's (corporate TLS inspection).

use std::path::Path;

use crate::config::{TlsSettings, Tuning};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read {setting} ({path}): {source}")]
    Certificates {
        setting: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{setting} ({path}) holds no usable PEM certificate")]
    NoCertificates { setting: &'static str, path: String },
    #[error("the HTTP client could not be built: {0}")]
    Build(#[from] reqwest::Error),
}

pub fn build(tuning: &Tuning, tls: &TlsSettings) -> Result<reqwest::Client, ClientError> {
    let mut extra_roots = Vec::new();
    if let Some(file) = &tls.cert_file {
        extra_roots.extend(read_pem_file("SSL_CERT_FILE", file)?);
    }
    if let Some(dir) = &tls.cert_dir {
        let entries = std::fs::read_dir(dir).map_err(|source| ClientError::Certificates {
            setting: "SSL_CERT_DIR",
            path: dir.display().to_string(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            // OpenSSL-style directories also hold hash symlinks and non-PEM files; skip what
            // does not parse rather than refusing to start.
            if path.is_file()
                && let Ok(certificates) = read_pem_file("SSL_CERT_DIR", &path)
            {
                extra_roots.extend(certificates);
            }
        }
    }
    let client = reqwest::Client::builder()
        .timeout(tuning.outbound_timeout)
        .connect_timeout(
            tuning
                .outbound_timeout
                .min(std::time::Duration::from_secs(5)),
        )
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("remote-expert-handler/", env!("CARGO_PKG_VERSION")))
        .tls_certs_merge(extra_roots)
        .build()?;
    Ok(client)
}

fn read_pem_file(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let bytes = std::fs::read(path).map_err(|source| ClientError::Certificates {
        setting,
        path: path.display().to_string(),
        source,
    })?;
    match reqwest::Certificate::from_pem_bundle(&bytes) {
        Ok(certificates) if !certificates.is_empty() => Ok(certificates),
        _ => Err(ClientError::NoCertificates {
            setting,
            path: path.display().to_string(),
        }),
    }
}
