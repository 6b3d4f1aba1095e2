//! `SearchContacts`: finding an expert to call. The caller's own relevant people (`/me/people`)
//! come first, then the directory (`/users` with `$search`), asked in parallel and merged
//! without duplicates.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use warp::http::Method;
use warp::{Filter, Rejection, Reply};

use super::{FunctionSpec, graph_call, protected, within_deadline};
use crate::auth::Caller;
use crate::correlation::CorrelationId;
use crate::error::ApiError;
use crate::graph::{Collection, GraphError, route_error};
use crate::state::AppState;

pub const FUNCTION: FunctionSpec = FunctionSpec {
    name: "SearchContacts",
    route: "contacts",
    methods: &[Method::GET],
    allow: "GET",
};

const MAX_QUERY_CHARS: usize = 100;
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 25;
const USER_FIELDS: &str = "id,displayName,mail,userPrincipalName,jobTitle,department";
const PERSON_FIELDS: &str =
    "id,displayName,scoredEmailAddresses,userPrincipalName,jobTitle,department,personType";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    q: Option<String>,
    top: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Person {
    id: Option<String>,
    display_name: Option<String>,
    #[serde(default)]
    scored_email_addresses: Vec<ScoredEmail>,
    user_principal_name: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    person_type: Option<PersonType>,
}

/// people-example.md: `{"class": "Person", "subclass": "OrganizationUser"}` for users of the
/// directory; contacts and people the user mailed (`PersonalContact`, `ImplicitContact`, …) have
/// ids that are no directory object ids, which the meeting and chat routes could not use.
#[derive(Debug, Deserialize)]
struct PersonType {
    class: Option<String>,
    subclass: Option<String>,
}

impl Person {
    fn is_organization_user(&self) -> bool {
        self.person_type.as_ref().is_some_and(|t| {
            t.class.as_deref() == Some("Person")
                && t.subclass.as_deref() == Some("OrganizationUser")
        })
    }
}

#[derive(Debug, Deserialize)]
struct ScoredEmail {
    address: Option<String>,
}

/// A contact as the API answers it, which is also exactly how Graph's `/users` returns the
/// `$select`ed fields.
#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Contact {
    id: String,
    display_name: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
}

#[derive(Serialize)]
struct Contacts {
    value: Vec<Contact>,
}

/// GET /api/contacts?q=TEXT&top=N, bearer token → 200 `{value: [contact]}`.
pub fn route(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    protected(FUNCTION, &state)
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .then(
            move |caller: Caller, correlation: CorrelationId, query: String| {
                let state = state.clone();
                async move { search(state, caller, correlation, query).await }
            },
        )
}

async fn search(
    state: AppState,
    caller: Caller,
    correlation: CorrelationId,
    raw_query: String,
) -> Result<warp::reply::Response, ApiError> {
    let (term, top) = validate(&raw_query)?;
    let deadline = tokio::time::Instant::now() + state.config.tuning.request_deadline;
    within_deadline(deadline, "Microsoft Graph", async {
        let token = super::graph_token(&state, &caller, deadline).await?;
        let call = graph_call(&token, &correlation, deadline);
        let quoted = escape_search_term(&term);
        let top_text = top.to_string();
        let people_search = format!("\"{quoted}\"");
        let users_search = format!("\"displayName:{quoted}\" OR \"mail:{quoted}\"");
        let people_query = [
            ("$search", people_search.as_str()),
            ("$top", top_text.as_str()),
            ("$select", PERSON_FIELDS),
        ];
        let users_query = [
            ("$search", users_search.as_str()),
            ("$top", top_text.as_str()),
            ("$select", USER_FIELDS),
            ("$count", "true"),
        ];
        let people =
            state
                .graph
                .get_json::<Collection<Person>>(&call, "/me/people", &people_query, &[]);
        // Advanced queries ($search on directory objects) need eventual consistency.
        let users = state.graph.get_json::<Collection<Contact>>(
            &call,
            "/users",
            &users_query,
            &[("ConsistencyLevel", "eventual")],
        );
        let (people, users) = tokio::join!(people, users);
        let not_found = "No contacts were found.";
        let merged = merge(
            people
                .map_err(|e: GraphError| route_error(e, &token, &["People.Read"], not_found))?
                .value,
            users
                .map_err(|e: GraphError| {
                    route_error(e, &token, &["User.ReadBasic.All"], not_found)
                })?
                .value,
            top,
        );
        Ok(warp::reply::json(&Contacts { value: merged }).into_response())
    })
    .await
}

/// The search term and `top` of a raw query string, as the route reads them.
pub fn validate(raw_query: &str) -> Result<(String, usize), ApiError> {
    let query: Query = serde_urlencoded_query(raw_query)?;
    let term = query.q.map(|q| q.trim().to_owned()).unwrap_or_default();
    let chars = term.chars().count();
    if chars == 0 || chars > MAX_QUERY_CHARS || term.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "Query parameter `q` must be 1 to 100 characters.".to_owned(),
        ));
    }
    let top = match query.top {
        None => DEFAULT_TOP,
        Some(top) => top
            .parse::<usize>()
            .ok()
            .filter(|t| (1..=MAX_TOP).contains(t))
            .ok_or_else(|| {
                ApiError::BadRequest(
                    "Query parameter `top` must be a number from 1 to 25.".to_owned(),
                )
            })?,
    };
    Ok((term, top))
}

fn serde_urlencoded_query(raw: &str) -> Result<Query, ApiError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let mut query = Query { q: None, top: None };
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "q" => &mut query.q,
            "top" => &mut query.top,
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
    Ok(query)
}

/// Inside Graph's double-quoted `$search` terms, a quote or backslash must be escaped.
fn escape_search_term(term: &str) -> String {
    term.replace('\\', "\\\\").replace('"', "\\\"")
}

/// People first (they are ranked by relevance to the caller), then directory users; a contact
/// seen before, by id or by mail, is skipped.
fn merge(people: Vec<Person>, users: Vec<Contact>, top: usize) -> Vec<Contact> {
    let from_people = people
        .into_iter()
        .filter(Person::is_organization_user)
        .filter_map(|p| {
            let mail = p.scored_email_addresses.into_iter().find_map(|e| e.address);
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

    fn person(id: &str, mail: &str) -> Person {
        Person {
            id: Some(id.to_owned()),
            display_name: Some(id.to_uppercase()),
            scored_email_addresses: vec![ScoredEmail {
                address: Some(mail.to_owned()),
            }],
            user_principal_name: None,
            job_title: None,
            department: None,
            person_type: Some(PersonType {
                class: Some("Person".to_owned()),
                subclass: Some("OrganizationUser".to_owned()),
            }),
        }
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
        let mut contact = person("AAMkADc0contact", "pat@supplier.example");
        contact.person_type = Some(PersonType {
            class: Some("Person".to_owned()),
            subclass: Some("PersonalContact".to_owned()),
        });
        let mut untyped = person("c4b1f7a0-0d6e-4b8e-9c53-2f14b0e9a7d1", "x@y.example");
        untyped.person_type = None;
        let merged = merge(
            vec![contact, untyped, person("a", "a@x.example")],
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

    #[test]
    fn escapes_quotes_for_graph_search() {
        assert_eq!(escape_search_term(r#"pump "7" \x"#), r#"pump \"7\" \\x"#);
    }

    #[test]
    fn validates_the_query() {
        assert_eq!(validate("q=pump").unwrap(), ("pump".to_owned(), 10));
        assert_eq!(
            validate("q=pump%20eng&top=25").unwrap(),
            ("pump eng".to_owned(), 25)
        );
        for bad in [
            "",
            "q=",
            "q=%20",
            "top=5",
            "q=a&top=0",
            "q=a&top=26",
            "q=a&top=x",
            "q=a&q=b",
            "q=a&skip=1",
            &format!("q={}", "a".repeat(101)),
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
