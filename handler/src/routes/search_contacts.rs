//! `SearchContacts`: finding an expert to call. The caller's own relevant people (`/me/people`)
//! come first, then the directory (`/users` with `$search`), asked in parallel and merged
//! without duplicates.

use std::collections::HashSet;

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::context::{RequestContext, within_deadline};
use super::filters::protected;
use super::problems::GRAPH_READ_PROBLEMS;
use super::spec::function_spec;
use crate::domain::{MAX_SEARCH_CHARS, SearchText};
use crate::error::ApiError;
use crate::graph;
use crate::graph::people::{Contact, Person};
use crate::state::AppState;

function_spec! {
    name: "SearchContacts",
    route: "contacts",
    methods: &[Method::GET],
    allow: "GET",
    problems: GRAPH_READ_PROBLEMS,
}

pub(crate) const DEFAULT_TOP: usize = 10;
pub(crate) const MAX_TOP: usize = 25;

/// The query string: `q` and `top`, each at most once, and no other parameter (a typo is
/// refused rather than ignored).
#[derive(Debug, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactsQuery {
    /// Text to find in names and mail addresses: 1 to 100 characters once trimmed, not blank,
    /// no control characters.
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$",
        example = "pump"
    )]
    pub q: String,
    /// How many contacts at most.
    #[param(value_type = u8, minimum = 1, maximum = 25, default = 10, required = false)]
    pub top: usize,
}

/// The contacts found, the caller's relevant people first, without duplicates.
#[derive(Serialize, ToSchema)]
struct Contacts {
    #[schema(max_items = 25)]
    value: Vec<Contact>,
    /// Present when a source could not be searched for this caller, so the list may be
    /// incomplete: `people_unavailable` (the caller has no Exchange Online mailbox, as guests
    /// and users with a mailbox on premises do), `directory_unavailable` (the caller may not
    /// list the directory's users, as guests by default may not).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 2)]
    warnings: Vec<SearchWarning>,
}

/// Why a source of the search was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum SearchWarning {
    PeopleUnavailable,
    DirectoryUnavailable,
}

/// GET /api/contacts?q=TEXT&top=N, bearer token → 200 `{value: [contact…]}`.
#[utoipa::path(
    get,
    path = "/api/contacts",
    operation_id = "SearchContacts",
    tag = "people",
    summary = "Find people to call",
    description = "The caller's relevant people (Graph `/me/people`) first, then directory users whose \
        name or mail matches (`/users?$search`), without duplicates. Only users of the caller's own \
        directory (and its guests) are listed: every `id` works as a `userId` of the other routes. \
        Graph does not list users of other tenants: keep the ids of external experts in your app.",
    params(ContactsQuery),
    responses(
        (status = 200, description = "The contacts found (possibly none).", body = Contacts,
            headers(("Cache-Control" = String, description = "`no-store`"))),
    ),
    security(("entraId" = ["access_as_user"])),
)]
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(SPEC, &state)
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .then(search)
}

async fn search(
    context: RequestContext,
    raw_query: String,
) -> Result<warp::reply::Response, ApiError> {
    let ContactsQuery { q: term, top } = validate(&raw_query)?;
    within_deadline(context.deadline, graph::SERVICE, async {
        let caller_graph = context.caller_graph().await?;
        let (people, users) = tokio::join!(
            caller_graph.search_people(&term, top),
            caller_graph.search_users(&term, top),
        );
        // Each source stands alone: one the caller cannot search (no mailbox; a guest who may
        // not list users) is left empty and said so, any other failure fails the search.
        let mut warnings = Vec::new();
        let people = people?.unwrap_or_else(|| {
            warnings.push(SearchWarning::PeopleUnavailable);
            Vec::new()
        });
        let users = users?.unwrap_or_else(|| {
            warnings.push(SearchWarning::DirectoryUnavailable);
            Vec::new()
        });
        let merged = merge(people, users, top);
        // What a caller may find depends on who they are and changes as the directory does:
        // no cache of any kind keeps it.
        Ok(warp::reply::with_header(
            warp::reply::json(&Contacts {
                value: merged,
                warnings,
            }),
            "cache-control",
            "no-store",
        )
        .into_response())
    })
    .await
}

/// The query of a request, checked: `q` trimmed.
pub fn validate(raw_query: &str) -> Result<ContactsQuery, ApiError> {
    let (q, top) = query_parameters(raw_query)?;
    let term = SearchText::parse(q.as_deref().unwrap_or_default()).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "Query parameter `q` must be 1 to {MAX_SEARCH_CHARS} characters."
        ))
    })?;
    let top = match top {
        None => DEFAULT_TOP,
        Some(top) => top
            .parse::<usize>()
            .ok()
            .filter(|t| (1..=MAX_TOP).contains(t))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "Query parameter `top` must be a number from 1 to {MAX_TOP}."
                ))
            })?,
    };
    Ok(ContactsQuery {
        q: term.into_string(),
        top,
    })
}

/// `q` and `top`, each at most once; any other parameter is refused, so a typo is noticed.
fn query_parameters(raw: &str) -> Result<(Option<String>, Option<String>), ApiError> {
    let mut q = None;
    let mut top = None;
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()).into_owned() {
        let slot = match name.as_str() {
            "q" => &mut q,
            "top" => &mut top,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "Query parameter `{other}` is not supported; use `q` and `top`."
                )));
            }
        };
        if slot.replace(value).is_some() {
            return Err(ApiError::BadRequest(format!(
                "Query parameter `{name}` is given more than once."
            )));
        }
    }
    Ok((q, top))
}

/// People first (they are ranked by relevance to the caller), then directory users; a contact
/// seen before, by id or by mail, is skipped. Only people who are directory users are kept:
/// every id answered works as a `userId` of the meeting and chat routes.
fn merge(people: Vec<Person>, users: Vec<Contact>, top: usize) -> Vec<Contact> {
    let from_people = people
        .into_iter()
        .filter(Person::is_organization_user)
        .filter_map(|p| {
            let mail = p.mail().map(str::to_owned);
            Some(Contact {
                id: p.id?,
                display_name: p.display_name,
                mail,
                user_principal_name: p.user_principal_name,
                job_title: p.job_title,
                department: p.department,
            })
        });
    let mut seen_ids = HashSet::new();
    let mut seen_mail = HashSet::new();
    from_people
        .chain(users)
        .filter(|c| {
            let new_id = seen_ids.insert(c.id.to_ascii_lowercase());
            let new_mail = match &c.mail {
                Some(mail) => seen_mail.insert(mail.to_ascii_lowercase()),
                None => true,
            };
            new_id && new_mail
        })
        .take(top)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn person_of(id: &str, mail: &str, subclass: Option<&str>) -> Person {
        let mut person = json!({
            "id": id,
            "displayName": id.to_uppercase(),
            "scoredEmailAddresses": [{"address": mail}],
        });
        if let Some(subclass) = subclass {
            person["personType"] = json!({"class": "Person", "subclass": subclass});
        }
        serde_json::from_value(person).unwrap()
    }

    fn person(id: &str, mail: &str) -> Person {
        person_of(id, mail, Some("OrganizationUser"))
    }

    fn user(id: &str, mail: &str) -> Contact {
        Contact {
            id: id.to_owned(),
            display_name: None,
            mail: Some(mail.to_owned()),
            user_principal_name: None,
            job_title: None,
            department: None,
        }
    }

    #[test]
    fn merges_people_first_without_duplicates_by_id_or_mail() {
        let merged = merge(
            vec![person("a", "a@x.example"), person("b", "b@x.example")],
            vec![
                user("A", "other@x.example"),
                user("c", "B@X.example"),
                user("d", "d@x.example"),
            ],
            10,
        );
        let ids: Vec<&str> = merged.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d"]);
        assert_eq!(merged[0].mail.as_deref(), Some("a@x.example"));
    }

    #[test]
    fn keeps_only_people_who_are_directory_users() {
        let merged = merge(
            vec![
                person_of(
                    "AAMkADc0contact",
                    "pat@supplier.example",
                    Some("PersonalContact"),
                ),
                person_of("c4b1f7a0-0d6e-4b8e-9c53-2f14b0e9a7d1", "x@y.example", None),
                person("a", "a@x.example"),
            ],
            vec![],
            10,
        );
        let ids: Vec<&str> = merged.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
    }

    #[test]
    fn honours_top() {
        let merged = merge(
            vec![person("a", "a@x")],
            vec![user("b", "b@x"), user("c", "c@x")],
            2,
        );
        assert_eq!(merged.len(), 2);
    }
}
