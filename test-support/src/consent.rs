//! Consent in the emulated Entra ID: users whose consent is still missing, and the two pages a
//! person uses to give it.
//!
//! A user registered with [`Consents::require`] is refused by the fake token endpoint with
//! AADSTS65001 (`invalid_grant`, "the user or administrator has not consented"), exactly what
//! Entra answers an on-behalf-of exchange before consent. Consent is given in a browser, as in
//! Entra:
//!
//! - `GET /{tenant}/oauth2/v2.0/authorize?client_id&redirect_uri&scope&login_hint&state&…`: the
//!   consent prompt of the tab's popup. "Grant consent" records that user's consent and redirects
//!   to `redirect_uri#code=…&state=…`; "Cancel" redirects with `#error=access_denied`. The
//!   `redirect_uri` must be registered ([`Consents::register_redirect_uri`]), as in an app
//!   registration; anything else gets AADSTS50011 and no redirect.
//! - `GET /{tenant}/adminconsent?client_id=…`: an administrator consents for the whole
//!   organization; the page then says so (there is no redirect without a `redirect_uri`).
//!
//! Users who were never registered need no consent, so the fakes behave as before for every
//! test that does not ask for this.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::lock;

#[derive(Debug, Clone)]
struct PendingUser {
    tenant_id: String,
    object_id: String,
    user_principal_name: String,
}

#[derive(Debug, Default)]
struct State {
    client_id: Option<String>,
    pending: Vec<PendingUser>,
    /// (tenant, object id) of users who consented.
    granted_users: HashSet<(String, String)>,
    granted_tenants: HashSet<String>,
    redirect_uris: Vec<String>,
}

/// Who still has to consent, shared by the token endpoint and the consent pages.
#[derive(Debug, Clone, Default)]
pub struct Consents(Arc<Mutex<State>>);

impl Consents {
    /// The client id the consent pages accept.
    pub fn set_client_id(&self, client_id: &str) {
        lock(&self.0).client_id = Some(client_id.to_owned());
    }

    /// From now on this user's on-behalf-of exchanges are refused until they (or an
    /// administrator of their tenant) consent.
    pub fn require(&self, tenant_id: &str, object_id: &str, user_principal_name: &str) {
        lock(&self.0).pending.push(PendingUser {
            tenant_id: tenant_id.to_owned(),
            object_id: object_id.to_owned(),
            user_principal_name: user_principal_name.to_owned(),
        });
    }

    /// A redirect URI of the app registration (SPA platform), e.g. the tab's `auth-end.html`.
    pub fn register_redirect_uri(&self, uri: &str) {
        lock(&self.0).redirect_uris.push(uri.to_owned());
    }

    /// Whether the token endpoint may issue tokens for this user.
    pub fn allows(&self, tenant_id: &str, object_id: &str) -> bool {
        let state = lock(&self.0);
        let pending = state
            .pending
            .iter()
            .any(|u| u.tenant_id == tenant_id && u.object_id == object_id);
        !pending
            || state.granted_tenants.contains(tenant_id)
            || state
                .granted_users
                .contains(&(tenant_id.to_owned(), object_id.to_owned()))
    }

    /// Records the consent of the user signed in as `login_hint`; false when no such user waits.
    fn grant_user(&self, tenant_id: &str, login_hint: &str) -> bool {
        let mut state = lock(&self.0);
        let Some(user) = state
            .pending
            .iter()
            .find(|u| {
                u.tenant_id == tenant_id && u.user_principal_name.eq_ignore_ascii_case(login_hint)
            })
            .cloned()
        else {
            return false;
        };
        state.granted_users.insert((user.tenant_id, user.object_id));
        true
    }

    fn grant_tenant(&self, tenant_id: &str) {
        lock(&self.0).granted_tenants.insert(tenant_id.to_owned());
    }

    /// The authorize and admin-consent pages.
    pub fn routes(
        &self,
    ) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone + use<> {
        let consents = self.clone();
        let authorize = warp::get()
            .and(warp::path!(String / "oauth2" / "v2.0" / "authorize"))
            .and(warp::query::<HashMap<String, String>>())
            .map({
                let consents = consents.clone();
                move |tenant: String, query: HashMap<String, String>| {
                    consents.authorize_page(&tenant, &query)
                }
            });
        let decide = warp::post()
            .and(warp::path!(String / "oauth2" / "v2.0" / "authorize"))
            .and(warp::body::content_length_limit(16 * 1024))
            .and(warp::body::form::<Decision>())
            .map({
                let consents = consents.clone();
                move |tenant: String, decision: Decision| consents.decide(&tenant, decision)
            });
        let admin = warp::path!(String / "adminconsent")
            .and(warp::method())
            .and(warp::query::<HashMap<String, String>>())
            .map(
                move |tenant: String,
                      method: warp::http::Method,
                      query: HashMap<String, String>| {
                    consents.admin_consent(&tenant, &method, &query)
                },
            );
        authorize.or(decide).unify().or(admin).unify()
    }

    fn check_client_and_redirect(
        &self,
        query: &HashMap<String, String>,
    ) -> Result<String, Box<Response>> {
        let state = lock(&self.0);
        let client_id = query.get("client_id").map(String::as_str).unwrap_or("");
        if state.client_id.as_deref() != Some(client_id) {
            return Err(Box::new(page(
                StatusCode::BAD_REQUEST,
                "Sign-in error",
                &format!(
                    "<p>AADSTS700016: application <code>{}</code> is not known here.</p>",
                    escape(client_id)
                ),
                None,
            )));
        }
        let redirect_uri = query.get("redirect_uri").cloned().unwrap_or_default();
        if !state.redirect_uris.contains(&redirect_uri) {
            return Err(Box::new(page(
                StatusCode::BAD_REQUEST,
                "Sign-in error",
                &format!(
                    "<p>AADSTS50011: the redirect URI <code>{}</code> is not registered for this application.</p>",
                    escape(&redirect_uri)
                ),
                None,
            )));
        }
        Ok(redirect_uri)
    }

    fn authorize_page(&self, tenant: &str, query: &HashMap<String, String>) -> Response {
        let redirect_uri = match self.check_client_and_redirect(query) {
            Ok(uri) => uri,
            Err(refusal) => return *refusal,
        };
        let field = |name: &str| escape(query.get(name).map(String::as_str).unwrap_or(""));
        let login_hint = query.get("login_hint").cloned().unwrap_or_default();
        let scopes: String = query
            .get("scope")
            .map(String::as_str)
            .unwrap_or("")
            .split_whitespace()
            .map(|scope| format!("<li><code>{}</code></li>", escape(scope)))
            .collect();
        let body = format!(
            r#"<p>Signed in as <strong>{user}</strong> (organization <code>{tenant}</code>).</p>
<p>The app <strong>Remote Expert</strong> (<code>{client}</code>) asks for these permissions, used on your behalf:</p>
<ul>{scopes}</ul>
<form method="post" action="/{tenant}/oauth2/v2.0/authorize">
<input type="hidden" name="client_id" value="{client}">
<input type="hidden" name="redirect_uri" value="{redirect}">
<input type="hidden" name="state" value="{state}">
<input type="hidden" name="login_hint" value="{user}">
<button type="submit" name="decision" value="grant">Grant consent</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>"#,
            user = escape(&login_hint),
            tenant = escape(tenant),
            client = field("client_id"),
            redirect = escape(&redirect_uri),
            state = field("state"),
        );
        page(
            StatusCode::OK,
            "Permissions requested",
            &body,
            origin_of(&redirect_uri),
        )
    }

    fn decide(&self, tenant: &str, decision: Decision) -> Response {
        let query = HashMap::from([
            ("client_id".to_owned(), decision.client_id.clone()),
            ("redirect_uri".to_owned(), decision.redirect_uri.clone()),
        ]);
        let redirect_uri = match self.check_client_and_redirect(&query) {
            Ok(uri) => uri,
            Err(refusal) => return *refusal,
        };
        let state = form_encode(&decision.state);
        let fragment = if decision.decision != "grant" {
            format!(
                "error=access_denied&error_description={}&state={state}",
                form_encode("AADSTS65004: User declined to consent to access the app.")
            )
        } else if self.grant_user(tenant, &decision.login_hint) {
            format!("code={}&state={state}", uuid::Uuid::new_v4().simple())
        } else {
            format!(
                "error=invalid_request&error_description={}&state={state}",
                form_encode("AADSTS50058: no user of this organization is signed in (login_hint).")
            )
        };
        redirect(&format!("{redirect_uri}#{fragment}"))
    }

    fn admin_consent(
        &self,
        tenant: &str,
        method: &warp::http::Method,
        query: &HashMap<String, String>,
    ) -> Response {
        let client_id = query.get("client_id").map(String::as_str).unwrap_or("");
        if lock(&self.0).client_id.as_deref() != Some(client_id) {
            return page(
                StatusCode::BAD_REQUEST,
                "Admin consent error",
                "<p>AADSTS700016: unknown application.</p>",
                None,
            );
        }
        if method == warp::http::Method::POST {
            self.grant_tenant(tenant);
            return page(
                StatusCode::OK,
                "Consent granted",
                &format!(
                    "<p>Every user of organization <code>{}</code> may now use Remote Expert. Return to the tab and try again.</p>",
                    escape(tenant)
                ),
                None,
            );
        }
        let body = format!(
            r#"<p>An administrator of organization <code>{tenant}</code> grants Remote Expert (<code>{client}</code>) its permissions for every user of the organization.</p>
<form method="post" action="/{tenant}/adminconsent?client_id={client}">
<button type="submit">Grant consent for the organization</button>
</form>"#,
            tenant = escape(tenant),
            client = escape(client_id),
        );
        page(StatusCode::OK, "Admin consent", &body, None)
    }
}

#[derive(Debug, Deserialize)]
struct Decision {
    client_id: String,
    redirect_uri: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    login_hint: String,
    #[serde(default)]
    decision: String,
}

/// `scheme://host[:port]` of a URL, for the page's `form-action` (a form's redirect counts).
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{scheme}://{host}"))
}

/// A page of the emulated Entra ID, marked as an emulation on every screen.
fn page(status: StatusCode, title: &str, body: &str, form_target: Option<String>) -> Response {
    use warp::Reply;
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - emulated Microsoft Entra ID</title></head>
<body>
<p role="note"><strong>SANDBOX: emulated Microsoft Entra ID on this machine, not Microsoft.</strong></p>
<h1>{title}</h1>
{body}
</body></html>"#
    );
    let form_action = match form_target {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    let csp = format!("default-src 'none'; form-action {form_action}; frame-ancestors 'none'");
    let mut response = warp::reply::with_status(warp::reply::html(html), status).into_response();
    if let Ok(value) = warp::http::HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert("content-security-policy", value);
    }
    response
}

fn redirect(location: &str) -> Response {
    use warp::Reply;
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = warp::http::HeaderValue::from_str(location) {
        response.headers_mut().insert("location", value);
    }
    response
}

/// Text into HTML text or an attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one value, for the redirect's fragment.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_user_needs_consent_until_they_or_their_admin_give_it() {
        let consents = Consents::default();
        consents.require("t1", "u1", "ann@t1.example");
        assert!(!consents.allows("t1", "u1"));
        assert!(
            consents.allows("t1", "u2"),
            "unregistered users need nothing"
        );
        assert!(!consents.grant_user("t1", "bob@t1.example"));
        assert!(consents.grant_user("t1", "ANN@t1.example"));
        assert!(consents.allows("t1", "u1"));

        consents.require("t2", "u3", "cy@t2.example");
        consents.grant_tenant("t2");
        assert!(consents.allows("t2", "u3"));
    }

    #[test]
    fn page_text_and_redirect_values_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'"),
            "&lt;a href=&quot;x&quot;&gt;&#39;"
        );
        assert_eq!(form_encode("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(
            origin_of("https://tab.example:8443/auth-end.html?x#y").as_deref(),
            Some("https://tab.example:8443")
        );
    }
}
