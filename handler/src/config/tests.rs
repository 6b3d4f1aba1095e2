use super::*;
use std::collections::HashMap;

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

fn config_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

fn problem_settings(err: ConfigError) -> Vec<&'static str> {
    err.problems.iter().map(|p| p.setting).collect()
}

#[test]
fn minimal_settings_take_the_documented_defaults() {
    let config =
        config_from(&[("ENTRA_CLIENT_ID", CLIENT), ("ENTRA_ALLOWED_TENANTS", "*")]).unwrap();
    assert_eq!(config.port, 3000);
    assert_eq!(config.entra.authority_host, DEFAULT_AUTHORITY_HOST);
    assert_eq!(
        config.graph_endpoint.as_str(),
        "https://graph.microsoft.com/"
    );
    assert_eq!(config.entra.client_credential, ClientCredentialKind::Secret);
    assert_eq!(config.secrets.client_secret_name, "entra-client-secret");
    assert_eq!(
        config.secrets.acs_connection_string_name,
        "acs-connection-string"
    );
    assert_eq!(config.entra.allowed_tenants, AllowedTenants::Any);
}

#[test]
fn every_missing_required_setting_is_named() {
    let err = config_from(&[]).unwrap_err();
    assert_eq!(
        problem_settings(err),
        vec!["ENTRA_CLIENT_ID", "ENTRA_ALLOWED_TENANTS"]
    );
}

#[test]
fn malformed_settings_are_each_named() {
    let cases = [
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "eighty"),
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "0"),
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "70000"),
        ("ENTRA_CLIENT_ID", "not-a-guid"),
        ("ENTRA_CLIENT_ID", "{11111111-2222-3333-4444-555555555555}"),
        ("ENTRA_ALLOWED_TENANTS", "contoso.com"),
        (
            "ENTRA_ALLOWED_TENANTS",
            "11111111-2222-3333-4444-555555555555,,",
        ),
        ("ENTRA_APP_ID_URI", "not a uri"),
        ("ENTRA_AUTHORITY_HOST", "login.microsoftonline.com"),
        (
            "ENTRA_AUTHORITY_HOST",
            "https://login.microsoftonline.com/common",
        ),
        ("ENTRA_CLIENT_CREDENTIAL", "certificate"),
        ("GRAPH_ENDPOINT", "ftp://graph.microsoft.com"),
        ("ACS_ENDPOINT", "https://"),
        ("KEY_VAULT_URI", "https://vault.example/?x=1"),
        ("ENTRA_CLIENT_SECRET_NAME", "has spaces"),
        (
            "ACS_CONNECTION_STRING",
            "endpoint=https://x.communication.azure.com/;accesskey=%%%",
        ),
        ("ACS_CONNECTION_STRING", "accesskey=c2VjcmV0"),
        ("ACS_CONNECTION_STRING_NAME", "under_score"),
        ("AZURE_CLIENT_ID", "123"),
        ("IDENTITY_ENDPOINT", "localhost:8081"),
        ("MANAGED_IDENTITY_ALLOW_IMDS", "yes"),
        ("SSL_CERT_FILE", "/nonexistent/ca.pem"),
        ("SSL_CERT_DIR", "/nonexistent/certs"),
    ];
    for (setting, value) in cases {
        let mut pairs = vec![("ENTRA_CLIENT_ID", CLIENT), ("ENTRA_ALLOWED_TENANTS", "*")];
        pairs.retain(|(k, _)| *k != setting);
        pairs.push((setting, value));
        let err = config_from(&pairs).unwrap_err();
        assert_eq!(problem_settings(err), vec![setting], "{setting}={value}");
    }
}

#[test]
fn token_receiving_endpoints_must_be_https_unless_on_loopback() {
    let endpoints = [
        "ENTRA_AUTHORITY_HOST",
        "GRAPH_ENDPOINT",
        "ACS_ENDPOINT",
        "KEY_VAULT_URI",
    ];
    let base = [
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("MANAGED_IDENTITY_ALLOW_IMDS", "true"),
    ];
    for setting in endpoints {
        for refused in ["http://login.contoso.example", "http://10.0.0.4:8080"] {
            let mut pairs = base.to_vec();
            pairs.push((setting, refused));
            let err = config_from(&pairs).unwrap_err();
            assert_eq!(problem_settings(err), vec![setting], "{setting}={refused}");
        }
        for accepted in [
            "https://login.contoso.example",
            "http://127.0.0.1:8080",
            "http://127.8.0.2:1",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            let mut pairs = base.to_vec();
            pairs.push((setting, accepted));
            assert!(config_from(&pairs).is_ok(), "{setting}={accepted}");
        }
    }
    let err = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        (
            "ACS_CONNECTION_STRING",
            "endpoint=http://acs.contoso.example/;accesskey=c2VjcmV0",
        ),
    ])
    .unwrap_err();
    assert_eq!(problem_settings(err), vec!["ACS_CONNECTION_STRING"]);
}

#[test]
fn acs_endpoint_and_connection_string_must_name_the_same_resource() {
    let with = |endpoint: &str| {
        config_from(&[
            ("ENTRA_CLIENT_ID", CLIENT),
            ("ENTRA_ALLOWED_TENANTS", "*"),
            ("ACS_ENDPOINT", endpoint),
            (
                "ACS_CONNECTION_STRING",
                "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0",
            ),
        ])
    };
    assert!(with("https://contoso.communication.azure.com").is_ok());
    assert!(with("https://contoso.communication.azure.com/").is_ok());
    let err = with("https://fabrikam.communication.azure.com").unwrap_err();
    let line = err.to_string();
    assert_eq!(problem_settings(err), vec!["ACS_CONNECTION_STRING"]);
    assert!(line.contains("ACS_ENDPOINT"), "{line}");
    assert!(!line.contains("c2VjcmV0"), "{line}");
}

#[test]
fn client_apps_default_to_the_pre_authorized_teams_clients_and_the_app() {
    let config =
        config_from(&[("ENTRA_CLIENT_ID", CLIENT), ("ENTRA_ALLOWED_TENANTS", "*")]).unwrap();
    let AllowedClientApps::Only(apps) = &config.entra.allowed_client_apps else {
        panic!("the default is a list");
    };
    assert_eq!(apps.len(), TEAMS_CLIENT_APPS.len() + 1);
    assert!(apps.contains(&Uuid::parse_str(CLIENT).unwrap()));

    let listed = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        (
            "ENTRA_ALLOWED_CLIENT_APPS",
            "aaaaaaaa-0000-0000-0000-000000000001, aaaaaaaa-0000-0000-0000-000000000002",
        ),
    ])
    .unwrap();
    let AllowedClientApps::Only(apps) = &listed.entra.allowed_client_apps else {
        panic!("a list");
    };
    assert_eq!(apps.len(), 2, "the setting replaces the default");
    let err = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("ENTRA_ALLOWED_CLIENT_APPS", "teams"),
    ])
    .unwrap_err();
    assert_eq!(problem_settings(err), vec!["ENTRA_ALLOWED_CLIENT_APPS"]);
}

/// The Bicep app registration pre-authorizes exactly the clients the handler allows by
/// default: both read `infra/teams-client-apps.json`'s list, one from the file, one here.
#[test]
fn teams_client_apps_agree_with_the_app_registration() {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Listed {
        client_id: String,
        name: String,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/teams-client-apps.json"
    );
    let listed: Vec<Listed> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let from_file: Vec<(&str, &str)> = listed
        .iter()
        .map(|l| (l.client_id.as_str(), l.name.as_str()))
        .collect();
    assert_eq!(from_file, TEAMS_CLIENT_APPS);
}

#[test]
fn managed_identity_without_its_endpoint_refuses_to_start() {
    // Otherwise the Azure SDK would wander off to the VM metadata address.
    let err = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("KEY_VAULT_URI", "https://contoso.vault.azure.net"),
    ])
    .unwrap_err();
    assert_eq!(
        problem_settings(err),
        vec!["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]
    );

    let opted_in = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("KEY_VAULT_URI", "https://contoso.vault.azure.net"),
        ("MANAGED_IDENTITY_ALLOW_IMDS", "true"),
    ]);
    assert!(opted_in.is_ok());
}

#[test]
fn acs_without_an_access_key_needs_the_identity_endpoint() {
    let err = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("ACS_ENDPOINT", "https://contoso.communication.azure.com"),
    ])
    .unwrap_err();
    assert_eq!(
        problem_settings(err),
        vec!["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]
    );

    let with_key = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("ACS_ENDPOINT", "https://contoso.communication.azure.com"),
        (
            "ACS_CONNECTION_STRING",
            "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0",
        ),
    ])
    .unwrap();
    assert!(!with_key.managed_identity.needed);
}

#[test]
fn a_malformed_connection_string_is_named_without_its_key() {
    let err = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        (
            "ACS_CONNECTION_STRING",
            "endpoint=https://x.example/;accesskey=c2VjcmV0;extra=1",
        ),
    ])
    .unwrap_err();
    let line = err.to_string();
    assert!(
        line.contains("ACS_CONNECTION_STRING is malformed"),
        "{line}"
    );
    assert!(!line.contains("c2VjcmV0"));
}

#[test]
fn a_federated_credential_needs_a_user_assigned_identity() {
    let err = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("ENTRA_CLIENT_CREDENTIAL", "managed-identity"),
        ("IDENTITY_ENDPOINT", "http://127.0.0.1:41234/msi/token"),
        ("IDENTITY_HEADER", "h"),
    ])
    .unwrap_err();
    assert_eq!(problem_settings(err), vec!["AZURE_CLIENT_ID"]);
}

#[test]
fn empty_values_count_as_absent() {
    let config = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", " * "),
        ("KEY_VAULT_URI", ""),
        ("FUNCTIONS_CUSTOMHANDLER_PORT", "  "),
    ])
    .unwrap();
    assert!(config.secrets.key_vault_uri.is_none());
    assert_eq!(config.port, 3000);
}

#[test]
fn tenant_list_allows_only_the_listed_tenants() {
    let config = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        (
            "ENTRA_ALLOWED_TENANTS",
            "aaaaaaaa-0000-0000-0000-000000000001, aaaaaaaa-0000-0000-0000-000000000002",
        ),
    ])
    .unwrap();
    let allowed = &config.entra.allowed_tenants;
    assert!(allowed.allows(&Uuid::parse_str("aaaaaaaa-0000-0000-0000-000000000002").unwrap()));
    assert!(!allowed.allows(&Uuid::parse_str("aaaaaaaa-0000-0000-0000-000000000003").unwrap()));
}

#[test]
fn secrets_do_not_print() {
    let config = config_from(&[
        ("ENTRA_CLIENT_ID", CLIENT),
        ("ENTRA_ALLOWED_TENANTS", "*"),
        ("ENTRA_CLIENT_SECRET", "super-secret-value"),
        (
            "ACS_CONNECTION_STRING",
            "endpoint=https://x/;accesskey=c2VjcmV0",
        ),
        ("IDENTITY_HEADER", "identity-header-value"),
    ])
    .unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains("super-secret-value"));
    assert!(!printed.contains("c2VjcmV0"));
    assert!(!printed.contains("identity-header-value"));
}

#[test]
fn error_message_is_one_line_naming_each_setting() {
    let err = config_from(&[("ENTRA_CLIENT_ID", "nope")]).unwrap_err();
    let line = err.to_string();
    assert!(!line.contains('\n'));
    assert!(line.contains("ENTRA_CLIENT_ID is not a GUID"));
    assert!(line.contains("ENTRA_ALLOWED_TENANTS is missing"));
}

#[test]
fn setting_names_cover_every_lookup() {
    let looked_up = std::cell::RefCell::new(Vec::new());
    let _ = Config::from_lookup(|name| {
        looked_up.borrow_mut().push(name.to_owned());
        None
    });
    let mut looked_up = looked_up.into_inner();
    looked_up.sort();
    looked_up.dedup();
    let mut declared: Vec<String> = SETTING_NAMES.iter().map(|s| s.to_string()).collect();
    declared.sort();
    assert_eq!(looked_up, declared);
}
