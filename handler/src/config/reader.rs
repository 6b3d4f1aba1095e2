//! Reading settings one by one while collecting everything wrong with them, so one start-up
//! attempt reports all of it.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{ConnectionString, check_acs_endpoint};

/// Everything wrong with the settings, so one start-up attempt reports all of it.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<SettingProblem>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct SettingProblem {
    pub setting: &'static str,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{} {}", p.setting, p.reason))
            .collect();
        write!(f, "invalid settings: {}", parts.join("; "))
    }
}

impl std::error::Error for ConfigError {}

pub(super) struct Reader<'a, L: Fn(&str) -> Option<String>> {
    pub(super) lookup: &'a L,
    pub(super) problems: Vec<SettingProblem>,
}

impl<L: Fn(&str) -> Option<String>> Reader<'_, L> {
    pub(super) fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn parse<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        let raw = self.raw(name)?;
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.problems.push(SettingProblem {
                    setting: name,
                    reason: reason.to_owned(),
                });
                None
            }
        }
    }

    pub(super) fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Option<T> {
        if self.raw(name).is_none() {
            self.problems.push(SettingProblem {
                setting: name,
                reason: "is missing".to_owned(),
            });
            return None;
        }
        self.parse(name, parse)
    }

    pub(super) fn secret(&self, name: &str) -> Option<SecretString> {
        self.raw(name).map(SecretString::from)
    }

    /// Whether the ACS connection string carries an access key (`None` without one, or when it
    /// cannot be read); a string that does not parse, or whose endpoint disagrees with
    /// `ACS_ENDPOINT`, is a problem.
    pub(super) fn acs_key_presence(
        &mut self,
        connection_string: Option<&SecretString>,
        acs_endpoint: Option<&Url>,
    ) -> Option<bool> {
        let parsed = match ConnectionString::parse(connection_string?.expose_secret()) {
            Ok(parsed) => parsed,
            Err(reason) => {
                self.problems.push(SettingProblem {
                    setting: "ACS_CONNECTION_STRING",
                    reason: reason.to_owned(),
                });
                return None;
            }
        };
        if let Err(reason) = check_acs_endpoint(&parsed.endpoint, acs_endpoint) {
            self.problems.push(SettingProblem {
                setting: "ACS_CONNECTION_STRING",
                reason,
            });
        }
        Some(parsed.has_access_key())
    }

    /// The App Service identity endpoint must be configured for `purpose`; a setting that is
    /// present but malformed has already been reported.
    pub(super) fn require_identity_endpoint(
        &mut self,
        purpose: &str,
        endpoint: bool,
        header: bool,
    ) {
        for (setting, present) in [("IDENTITY_ENDPOINT", endpoint), ("IDENTITY_HEADER", header)] {
            if !present && self.raw(setting).is_none() {
                self.problems.push(SettingProblem {
                    setting,
                    reason: format!(
                        "is missing: {purpose}, which needs the App Service managed identity endpoint (set MANAGED_IDENTITY_ALLOW_IMDS=true only on a VM)"
                    ),
                });
            }
        }
    }
}
