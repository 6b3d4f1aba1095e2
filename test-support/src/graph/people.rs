//! Finding people: `GET /me/people` (the People API, with the user's personal contacts) and
//! `GET /users?$search` (the directory), matching names word by word as Graph's `$search` does.

use std::collections::HashMap;

use serde_json::{Value, json};
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use super::users::caller_is_guest;
use super::{State, error, json_status, select};
use crate::directory::DirectoryUser;
use crate::token_endpoint::Grant;

/// Someone in `/me/people` who is not a user of the directory: an Outlook contact or a person
/// the user mailed. Their `id` is no directory object id.
const PERSONAL_CONTACTS: &[(&str, &str, &str)] = &[
    (
        "AAMkADc0MjRjNDc5LTA1ODktNDZmZS04ZDc3LWFhMmU2MmQ1Y2Q1ZgBGAAAAAADhApump",
        "Pat Pump Supplier",
        "pat@pumpsupplies.example",
    ),
    (
        "c4b1f7a0-0d6e-4b8e-9c53-2f14b0e9a7d1",
        "Lee Pump Hotline",
        "hotline@pumpvendor.example",
    ),
];

/// A user as `/me/people` (the People API keeps job and department) or `/users` shows them.
/// `/users` with User.ReadBasic.All reads only the basic profile (permissions-reference.md:
/// displayName, givenName, mail, photo, surname, userPrincipalName and the id): other
/// properties come back as null, which is what a delegated token of this app gets.
fn contact_json(user: &DirectoryUser, people: bool) -> Value {
    let mut value = json!({
        "id": user.id,
        "displayName": user.display_name,
        "userPrincipalName": user.user_principal_name,
        "jobTitle": user.job_title,
        "department": user.department,
    });
    if people {
        value["scoredEmailAddresses"] = json!([{"address": user.mail, "relevanceScore": 8.0}]);
    } else {
        value["mail"] = json!(user.mail);
        value["jobTitle"] = Value::Null;
        value["department"] = Value::Null;
    }
    value
}

/// search-query-parameter.md, `$search` on directory objects: `displayName` is tokenized
/// (words, split at spaces, punctuation and case changes) and each word of the term must start
/// a word of the name; `mail` and other string properties match from their start. So "pump"
/// finds "Jordan Pump" and "jordan@…", while "ump" finds nothing.
fn matches(user: &DirectoryUser, term: &str) -> bool {
    let mail_matches =
        !term.is_empty() && user.mail.to_lowercase().starts_with(&term.to_lowercase());
    name_matches(user.display_name, term) || mail_matches
}

/// Each word of `term` starts a word of `name` (and `term` has a word at all).
fn name_matches(name: &str, term: &str) -> bool {
    let name_words = words(name);
    let term_words = words(term);
    !term_words.is_empty()
        && term_words
            .iter()
            .all(|t| name_words.iter().any(|w| w.starts_with(t.as_str())))
}

/// Lower-cased words of `text`, split at anything not alphanumeric and where a lower-case
/// letter is followed by an upper-case one (`McCall` → `mc`, `call`).
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn top(query: &HashMap<String, String>) -> usize {
    query.get("$top").and_then(|t| t.parse().ok()).unwrap_or(10)
}

pub(super) fn people(state: &State, caller: &Grant, query: &HashMap<String, String>) -> Response {
    // The People API reads the user's Exchange Online mailbox; a user without one (a guest of
    // this tenant, a mailbox on premises) gets 404 MailboxNotEnabledForRESTAPI ("REST API is
    // not yet supported for this mailbox", Exchange KB 4462988).
    if caller_is_guest(state, caller) {
        return json_status(
            &json!({"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "REST API is not yet supported for this mailbox."}}),
            404,
        );
    }
    let search = query.get("$search").map(String::as_str).unwrap_or_default();
    let Some(term) = search.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return error(StatusCode::BAD_REQUEST, "BadRequest");
    };
    let organization = state
        .users
        .iter()
        .filter(|u| u.tenant_id == caller.tenant_id && u.id != caller.object_id && matches(u, term))
        .map(|u| {
            let mut person = contact_json(u, true);
            person["personType"] = json!({"class": "Person", "subclass": "OrganizationUser"});
            person
        });
    // people-example.md: relevant people also include the user's contacts and people they
    // mailed, whose ids are not directory object ids.
    let contacts = PERSONAL_CONTACTS
        .iter()
        .filter(|(_, name, mail)| {
            name_matches(name, term) || mail.starts_with(&term.to_lowercase())
        })
        .enumerate()
        .map(|(i, (id, name, mail))| {
            json!({
                "id": id,
                "displayName": name,
                "scoredEmailAddresses": [{"address": mail, "relevanceScore": 5.0}],
                "userPrincipalName": null,
                "jobTitle": null,
                "department": null,
                "personType": {
                    "class": "Person",
                    "subclass": if i == 0 { "PersonalContact" } else { "ImplicitContact" },
                },
            })
        });
    let mut found = Vec::new();
    for person in contacts.chain(organization).take(top(query)) {
        match select(&person, query) {
            Ok(selected) => found.push(selected),
            Err(response) => return *response,
        }
    }
    json_status(&json!({"value": found}), 200)
}

pub(super) fn search_users(
    state: &State,
    caller: &Grant,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let search = query.get("$search").map(String::as_str).unwrap_or_default();
    let eventual = headers
        .get("consistencylevel")
        .is_some_and(|v| v.as_bytes() == b"eventual");
    if !eventual {
        return error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    }
    // user-list.md: with the default guest permissions, a guest cannot list the directory's
    // users, whatever the app was granted.
    if caller_is_guest(state, caller) {
        return error(StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    }
    // `"displayName:term" OR "mail:term"`: every quoted clause names a property and a term.
    let terms: Vec<&str> = search
        .split('"')
        .filter_map(|clause| clause.split_once(':').map(|(_, term)| term))
        .collect();
    if terms.is_empty() {
        return error(StatusCode::BAD_REQUEST, "Request_BadRequest");
    }
    let found: Vec<Value> = state
        .users
        .iter()
        .filter(|u| u.tenant_id == caller.tenant_id && terms.iter().any(|t| matches(u, t)))
        .take(top(query))
        .map(|u| contact_json(u, false))
        .collect();
    json_status(&json!({"value": found, "@odata.count": found.len()}), 200)
}
