//! Where the handler may send tokens and secrets: https, or plain http only on this machine.

use url::Url;

/// Whether `host` is this machine: the only place where plain http cannot be read or altered
/// on the way (tests, the sandbox, a local emulator).
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Endpoints that receive tokens or secrets must be https, unless they are on loopback.
pub fn require_tls_url(url: Url) -> Result<Url, &'static str> {
    let loopback = url.host().is_some_and(|h| is_loopback_host(&h));
    if url.scheme() == "https" || loopback {
        Ok(url)
    } else {
        Err("must be an https URL (plain http is allowed only for 127.0.0.0/8, ::1 and localhost)")
    }
}

pub(super) fn require_tls(origin: String) -> Result<String, &'static str> {
    let url = Url::parse(&origin).map_err(|_| "is not a URL")?;
    require_tls_url(url).map(|_| origin)
}

/// The connection string's key signs requests for its own resource: sending them to another
/// host (with the user's Teams token in the body) must never happen by a settings mistake.
pub fn check_acs_endpoint(
    connection_string_endpoint: &Url,
    acs_endpoint: Option<&Url>,
) -> Result<(), String> {
    require_tls_url(connection_string_endpoint.clone())
        .map_err(|reason| format!("is malformed: its endpoint {reason}"))?;
    match acs_endpoint {
        Some(setting) if !same_origin(setting, connection_string_endpoint) => Err(format!(
            "names the endpoint {}, which disagrees with ACS_ENDPOINT {}",
            connection_string_endpoint.origin().ascii_serialization(),
            setting.origin().ascii_serialization()
        )),
        _ => Ok(()),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}
