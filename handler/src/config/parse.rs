//! The shapes a setting's value can take, each with the reason a value is refused.

use url::Url;
use uuid::Uuid;

use crate::domain::Guid;

pub(super) fn parse_guid(value: &str) -> Result<Uuid, &'static str> {
    Guid::parse(value)
        .map(Uuid::from)
        .ok_or("is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
}

pub(super) fn parse_app_id_uri(value: &str) -> Result<String, &'static str> {
    let uri = Url::parse(value).map_err(|_| "is not a URI (e.g. api://contoso.example/<id>)")?;
    if uri.cannot_be_a_base() && uri.scheme() != "api" {
        return Err("is not a URI (e.g. api://contoso.example/<id>)");
    }
    // The `aud` claim carries the URI exactly as registered, so compare against the raw text.
    Ok(value.to_owned())
}

/// An `http(s)` URL with a host, normalised to end without a slash so paths can be appended.
pub(super) fn parse_base_url(value: &str) -> Result<Url, &'static str> {
    let url = Url::parse(value).map_err(|_| "is not a URL")?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err("is not an http(s) URL with a host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment");
    }
    Ok(url)
}

pub(super) fn parse_origin(value: &str) -> Result<String, &'static str> {
    let url = parse_base_url(value)?;
    if url.path() != "/" {
        return Err("must be a scheme and host only, e.g. https://login.microsoftonline.com");
    }
    Ok(value.trim_end_matches('/').to_owned())
}

pub(super) fn parse_secret_name(value: &str) -> Result<String, &'static str> {
    // Key Vault's own rule for object names.
    let valid = (1..=127).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err("is not a Key Vault secret name (1-127 letters, digits and dashes)")
    }
}
