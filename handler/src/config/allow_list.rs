//! Who may call: the tenants whose users may sign in, and the client apps that may present
//! their tokens. Both are "any" or a list of GUIDs, read from a setting the same way.

use std::collections::HashSet;

use uuid::Uuid;

use super::parse::parse_guid;

/// The Microsoft clients that ask Entra for a Teams tab's SSO token, as the app registration
/// pre-authorizes them (`infra/teams-client-apps.json`, which a test holds this list to).
pub const TEAMS_CLIENT_APPS: &[(&str, &str)] = &[
    (
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "Teams desktop and mobile",
    ),
    ("5e3ce6c0-2b1f-4285-8d4b-75ee78787346", "Teams web"),
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "Microsoft 365 web"),
    (
        "0ec893e0-5785-4de6-99da-4ed124e5296c",
        "Microsoft 365 desktop",
    ),
    (
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "Microsoft 365 mobile, Outlook desktop",
    ),
    ("bc59ab01-8403-45c6-8796-ac3ef710b3e3", "Outlook web"),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook mobile"),
];

/// Which ids are allowed: any, or only those listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowList {
    /// Any tenant in which an administrator or user consented to the app; any client app a user
    /// consented to (warned about at start).
    Any,
    Only(HashSet<Uuid>),
}

/// Which tenants may sign in.
pub type AllowedTenants = AllowList;
/// Which client apps (`azp` / `appid`) may present a token.
pub type AllowedClientApps = AllowList;

impl AllowList {
    pub fn allows(&self, id: &Uuid) -> bool {
        match self {
            AllowList::Any => true,
            AllowList::Only(ids) => ids.contains(id),
        }
    }

    /// `*`, or GUIDs separated by commas; `error` says which GUIDs.
    pub(super) fn parse(value: &str, error: &'static str) -> Result<AllowList, &'static str> {
        if value == "*" {
            return Ok(AllowList::Any);
        }
        let ids = value
            .split(',')
            .map(|id| parse_guid(id.trim()))
            .collect::<Result<HashSet<_>, _>>()
            .map_err(|_| error)?;
        Ok(AllowList::Only(ids))
    }

    /// The client apps a Teams tab's token comes from: the Teams, Microsoft 365 and Outlook
    /// clients, plus the app itself (a tab that gets its own token, e.g. through MSAL in a
    /// browser outside Teams).
    pub fn teams_clients_and(app: Uuid) -> AllowList {
        let mut apps: HashSet<Uuid> = TEAMS_CLIENT_APPS
            .iter()
            .filter_map(|(id, _)| Uuid::try_parse(id).ok())
            .collect();
        apps.insert(app);
        AllowList::Only(apps)
    }
}
