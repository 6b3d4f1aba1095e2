//! Finding people: the caller's relevant people (`/me/people`, people-example.md) and the
//! directory (`/users?$search`, which needs `ConsistencyLevel: eventual`, aad-advanced-queries.md).

use serde::{Deserialize, Serialize};

use super::{Collection, Error, GraphCall, GraphClient};

const USER_FIELDS: &str = "id,displayName,mail,userPrincipalName,jobTitle,department";
const PERSON_FIELDS: &str =
    "id,displayName,scoredEmailAddresses,userPrincipalName,jobTitle,department,personType";

/// Someone from `/me/people`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    scored_email_addresses: Vec<ScoredEmail>,
    pub user_principal_name: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
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

#[derive(Debug, Deserialize)]
struct ScoredEmail {
    address: Option<String>,
}

impl Person {
    pub fn is_organization_user(&self) -> bool {
        self.person_type.as_ref().is_some_and(|t| {
            t.class.as_deref() == Some("Person")
                && t.subclass.as_deref() == Some("OrganizationUser")
        })
    }

    /// The most relevant mail address.
    pub fn mail(&self) -> Option<&str> {
        self.scored_email_addresses
            .iter()
            .find_map(|e| e.address.as_deref())
    }
}

/// A directory user from `/users`, which is also what the contacts route answers.
#[derive(Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
}

/// Inside Graph's double-quoted `$search` terms, a quote or backslash must be escaped.
fn escape_search_term(term: &str) -> String {
    term.replace('\\', "\\\\").replace('"', "\\\"")
}

impl GraphClient {
    /// `GET /me/people?$search="term"` (needs People.Read), ranked by relevance to the caller.
    pub async fn search_people(
        &self,
        call: &GraphCall<'_>,
        term: &str,
        top: usize,
    ) -> Result<Vec<Person>, Error> {
        let search = format!("\"{}\"", escape_search_term(term));
        let top = top.to_string();
        let query = [
            ("$search", search.as_str()),
            ("$top", top.as_str()),
            ("$select", PERSON_FIELDS),
        ];
        let found: Collection<Person> = self.get_json(call, "/me/people", &query, &[]).await?;
        Ok(found.value)
    }

    /// `GET /users?$search="displayName:term" OR "mail:term"` (needs User.ReadBasic.All).
    pub async fn search_users(
        &self,
        call: &GraphCall<'_>,
        term: &str,
        top: usize,
    ) -> Result<Vec<Contact>, Error> {
        let quoted = escape_search_term(term);
        let search = format!("\"displayName:{quoted}\" OR \"mail:{quoted}\"");
        let top = top.to_string();
        let query = [
            ("$search", search.as_str()),
            ("$top", top.as_str()),
            ("$select", USER_FIELDS),
            ("$count", "true"),
        ];
        let found: Collection<Contact> = self
            .get_json(call, "/users", &query, &[("ConsistencyLevel", "eventual")])
            .await?;
        Ok(found.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_for_graph_search() {
        assert_eq!(escape_search_term(r#"pump "7" \x"#), r#"pump \"7\" \\x"#);
    }
}
