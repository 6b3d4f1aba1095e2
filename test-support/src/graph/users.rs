//! A user's profile and photo (`GET /me`, `/users/{id}`, `…/photo/$value`), and the directory
//! lookups the other calls share.

use std::collections::HashMap;

use serde_json::{Value, json};
use warp::http::StatusCode;
use warp::reply::Response;

use super::{State, error, json_status, select};
use crate::directory::DirectoryUser;
use crate::token_endpoint::Grant;

pub(super) fn find_user<'a>(
    state: &'a State,
    tenant: &str,
    id_or_upn: &str,
) -> Option<&'a DirectoryUser> {
    state.users.iter().find(|u| {
        u.tenant_id == tenant
            && (u.id.eq_ignore_ascii_case(id_or_upn)
                || u.user_principal_name.eq_ignore_ascii_case(id_or_upn))
    })
}

/// Whether the signed-in user is a B2B guest of the tenant they called in: guests have no
/// Exchange mailbox there, and default guest permissions do not let them list users.
pub(super) fn caller_is_guest(state: &State, caller: &Grant) -> bool {
    find_user(state, &caller.tenant_id, &caller.object_id).is_some_and(|u| u.user_type == "Guest")
}

pub(super) fn user(
    state: &State,
    caller: &Grant,
    id: &str,
    query: &HashMap<String, String>,
) -> Response {
    let Some(user) = find_user(state, &caller.tenant_id, id) else {
        return error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    };
    let mut full = json!({
        "id": user.id,
        "displayName": user.display_name,
        "mail": user.mail,
        "userPrincipalName": user.user_principal_name,
        "jobTitle": user.job_title,
        "department": user.department,
        "officeLocation": user.office_location,
        "userType": user.user_type,
        "mobilePhone": "+1 555 0100",
    });
    // User.Read gives the signed-in user's full profile; another user's is read with
    // User.ReadBasic.All, which returns only the basic profile and null for the rest.
    if !user.id.eq_ignore_ascii_case(&caller.object_id) {
        for field in [
            "jobTitle",
            "department",
            "officeLocation",
            "userType",
            "mobilePhone",
        ] {
            full[field] = Value::Null;
        }
    }
    match select(&full, query) {
        Ok(selected) => json_status(&selected, 200),
        Err(response) => *response,
    }
}

pub(super) fn photo(state: &State, caller: &Grant, id: &str) -> Response {
    use warp::Reply;
    let Some(user) = find_user(state, &caller.tenant_id, id) else {
        return error(StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    };
    let Some((content_type, bytes)) = user.photo else {
        return error(StatusCode::NOT_FOUND, "ImageNotFound");
    };
    warp::reply::with_header(bytes.to_vec(), "content-type", content_type).into_response()
}
