//! The Application Insights settings: where telemetry goes, how the handler proves who it is
//! there, and how much of it is kept.
//!
//! Without a connection string telemetry is off and costs nothing. With local authentication
//! disabled on the resource (as infra/ deploys it) ingestion accepts only an Entra token of the
//! identity named in `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`, the setting the Functions host
//! reads for its own telemetry; the handler honours the same one so both land in the same place.

use secrecy::SecretString;
use uuid::Uuid;

use super::{Reader, SettingProblem};

#[derive(Debug, Clone, Default)]
pub struct TelemetrySettings {
    /// Carries the instrumentation key: not a credential when local auth is off, but it lets
    /// anyone write into the resource when it is on, so it is kept unprintable.
    pub connection_string: Option<SecretString>,
    pub auth: IngestionAuth,
    /// Fraction of traces kept, 0.0 to 1.0 (default 1.0); decided per trace id, so a request and
    /// its dependency calls are kept or dropped together.
    pub sampling_ratio: f64,
}

/// How the exporter authenticates to the ingestion endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IngestionAuth {
    /// The instrumentation key alone (a resource with local auth on; local runs).
    #[default]
    InstrumentationKey,
    /// An Entra token of the managed identity (`AZURE_CLIENT_ID`'s, or the system-assigned one).
    ManagedIdentity,
}

impl TelemetrySettings {
    pub fn enabled(&self) -> bool {
        self.connection_string.is_some()
    }

    /// Whether the exporter will ask the managed identity for ingestion tokens.
    pub fn sends_with_identity(&self) -> bool {
        self.enabled() && self.auth == IngestionAuth::ManagedIdentity
    }
}

pub(super) fn read<L: Fn(&str) -> Option<String>>(
    reader: &mut Reader<'_, L>,
    managed_identity_client_id: Option<Uuid>,
) -> TelemetrySettings {
    let connection_string = reader.secret("APPLICATIONINSIGHTS_CONNECTION_STRING");
    let auth = match reader.raw("APPLICATIONINSIGHTS_AUTHENTICATION_STRING") {
        None => IngestionAuth::InstrumentationKey,
        Some(raw) => match parse_authentication_string(&raw) {
            Ok(client_id) => {
                // One managed identity serves the whole handler; telemetry naming another one
                // would fail in Azure with a 403 that nobody sees, so refuse it at start.
                if client_id.is_some() && client_id != managed_identity_client_id {
                    reader.problems.push(SettingProblem {
                        setting: "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                        reason: "names a ClientId other than AZURE_CLIENT_ID".to_owned(),
                    });
                }
                IngestionAuth::ManagedIdentity
            }
            Err(reason) => {
                reader.problems.push(SettingProblem {
                    setting: "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                    reason: reason.to_owned(),
                });
                IngestionAuth::InstrumentationKey
            }
        },
    };
    let sampling_ratio = reader
        .parse("TELEMETRY_SAMPLING_RATIO", |v| {
            v.parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or("is not a number from 0 to 1")
        })
        .unwrap_or(1.0);
    TelemetrySettings {
        connection_string,
        auth,
        sampling_ratio,
    }
}

/// `Authorization=AAD` with an optional `ClientId=<guid>` (user-assigned identity), in any
/// order, `;`-separated, as Azure Monitor documents it.
fn parse_authentication_string(value: &str) -> Result<Option<Uuid>, &'static str> {
    let mut aad = false;
    let mut client_id = None;
    for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, val) = part
            .split_once('=')
            .ok_or("is not a list of Key=Value pairs")?;
        match key.trim() {
            k if k.eq_ignore_ascii_case("Authorization") => {
                if !val.trim().eq_ignore_ascii_case("AAD") {
                    return Err("supports only Authorization=AAD");
                }
                aad = true;
            }
            k if k.eq_ignore_ascii_case("ClientId") => {
                client_id = Some(
                    Uuid::try_parse(val.trim()).map_err(|_| "has a ClientId that is not a GUID")?,
                );
            }
            _ => return Err("has a key other than Authorization and ClientId"),
        }
    }
    if !aad {
        return Err("lacks Authorization=AAD");
    }
    Ok(client_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_string_is_aad_with_an_optional_client_id() {
        let id = "a55e0000-0000-4000-8000-00000000a55e";
        assert_eq!(
            parse_authentication_string(&format!("Authorization=AAD;ClientId={id}")),
            Ok(Some(Uuid::try_parse(id).unwrap()))
        );
        assert_eq!(
            parse_authentication_string(&format!("ClientId={id};Authorization=AAD")),
            Ok(Some(Uuid::try_parse(id).unwrap()))
        );
        assert_eq!(parse_authentication_string("Authorization=AAD"), Ok(None));
        assert!(parse_authentication_string(&format!("ClientId={id}")).is_err());
        assert!(parse_authentication_string("Authorization=Key").is_err());
        assert!(parse_authentication_string("Authorization=AAD;ClientId=nope").is_err());
        assert!(parse_authentication_string("garbage").is_err());
    }
}
