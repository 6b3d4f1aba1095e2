//! `OpenApi`: the OpenAPI 3.1 description of every function, served anonymously and committed
//! as `docs/openapi.json`.
//!
//! It is generated from the code, so it cannot drift from it: the request and answer types
//! derive their schemas (`utoipa::ToSchema`, validation limits next to the fields), each route's
//! `#[utoipa::path]` sits on its filter, and the problems an operation can answer come from its
//! `FunctionSpec`, whose groups are defined by the filters that answer them. What holds for
//! every answer (the correlation id, `nosniff`) is added here once, as the server adds it.
//! Tests hold the committed file to this output and every operation to `FUNCTIONS`.
//!
//! The document is the same for every deployment: no setting, URL or id of this instance is in
//! it, so it is built once and served as it is.

mod build;
mod every_answer;
mod problems;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use utoipa::openapi::security::{AuthorizationCode, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};
use warp::http::{HeaderValue, Method, header};
use warp::reply::Response as Reply;
use warp::{Filter, Rejection};

use super::filters::function;
use super::spec::{FunctionSpec, boxed, function_spec};
use crate::domain::UserRef;
use crate::error::Problem;
use every_answer::EveryAnswer;
use problems::Problems;
pub use problems::problems_by_status;

function_spec! {
    name: "OpenApi",
    route: "openapi.json",
    methods: &[Method::GET],
    allow: "GET",
    problems: &[],
    filter: |_, functions| boxed(route(functions)),
}

/// The name of the security scheme: Entra ID's OAuth 2.0, as a Teams tab's SSO token is.
pub const SECURITY_SCHEME: &str = "entraId";
/// The delegated scope every protected function requires.
pub const SCOPE: &str = "access_as_user";

/// How long a browser or a gateway may keep the document: it changes only with a deployment.
const CACHE_CONTROL: &str = "public, max-age=3600";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Remote Expert Functions",
        description = "The backend of the Teams remote-expert app: a field worker and a remote \
            expert, often in different organizations (Entra ID tenants), meet in a Teams meeting. \
            Every operation but `Health` and `OpenApi` needs the Teams SSO token of the app, as \
            TeamsJS's `authentication.getAuthToken()` returns it, in `Authorization: Bearer`; \
            the Graph and ACS operations act as the signed-in user (on-behalf-of).\n\n\
            Every error is `application/problem+json` (RFC 9457) with a `code` to branch on; \
            each operation lists the codes it can answer. Every answer carries \
            `x-ms-client-request-id` (quote it when reporting a problem) and \
            `X-Content-Type-Options: nosniff`. A method a path does not serve is answered 405 \
            `method_not_allowed` with `Allow` (the `MethodNotAllowed` response); behind the \
            Functions host, a path or method no function declares gets the host's own empty 404.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "The Function App (or local host) serving this document")),
    components(schemas(Problem, UserRef)),
    tags(
        (name = "health", description = "Liveness and readiness."),
        (name = "identity", description = "Who the caller is."),
        (name = "meetings", description = "The Teams meeting of a remote-assist session."),
        (name = "chats", description = "Notifications in Teams chats."),
        (name = "people", description = "Finding experts: contacts, profiles, photos."),
        (name = "calling", description = "Azure Communication Services as the Teams user."),
        (name = "description", description = "This document."),
    ),
)]
struct Description;

/// GET /api/openapi.json, no auth → 200 this document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "OpenApi",
    tag = "description",
    summary = "This OpenAPI description",
    description = "The OpenAPI 3.1 description of every operation, the same for every deployment \
        (it holds no setting). No authentication.",
    responses(
        (status = 200, description = "The document.", content_type = "application/json",
            body = Object,
            headers(("Cache-Control" = String, description = "`public, max-age=3600`"))),
    ),
)]
pub fn route(
    functions: &'static [FunctionSpec],
) -> impl Filter<Extract = (Reply,), Error = Rejection> + Clone {
    // Built on the first request rather than at start-up, which it need not slow down.
    let document = Arc::new(OnceLock::new());
    function(SPEC).map(move || {
        let body = document.get_or_init(|| Bytes::from(document_json(functions)));
        let mut response = Reply::new(body.clone().into());
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
        response
    })
}

/// The description of `functions`: each one's operation and schemas, then what the document
/// adds to all of them (the security scheme, the problem answers, the headers of every answer).
pub fn document(functions: &[FunctionSpec]) -> Document {
    let mut document = Description::openapi();
    for function in functions {
        document.merge((function.describe)());
    }
    let modifiers: [&dyn Modify; 3] = [&EntraId, &Problems(functions), &EveryAnswer(functions)];
    for modifier in modifiers {
        modifier.modify(&mut document);
    }
    document
}

/// The document as served and as committed in `docs/openapi.json`: pretty-printed JSON with a
/// final newline.
pub fn document_json(functions: &[FunctionSpec]) -> String {
    let mut text = document(functions)
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    text.push('\n');
    text
}

/// The security scheme: the Teams SSO token is an Entra ID access token for the app's
/// `access_as_user` scope.
struct EntraId;

impl Modify for EntraId {
    fn modify(&self, openapi: &mut Document) {
        let scopes = Scopes::one(
            SCOPE,
            "Act as the signed-in user. Requested as the app's application ID URI followed by \
             `/access_as_user`, e.g. `api://tab.contoso.example/{client id}/access_as_user`.",
        );
        let flow = AuthorizationCode::new(
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
            scopes,
        );
        let scheme = OAuth2::with_description(
            [Flow::AuthorizationCode(flow)],
            "Microsoft Entra ID, multitenant: the Teams SSO token of the app (TeamsJS \
             `authentication.getAuthToken()`), sent as `Authorization: Bearer <token>`. It must \
             be signed by Entra ID for this app (`aud`), from an allowed tenant (`tid`) and \
             client app (`azp`/`appid`), and carry `access_as_user` in `scp`.",
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .security_schemes
            .insert(
                SECURITY_SCHEME.to_owned(),
                RefOr::T(SecurityScheme::OAuth2(scheme)),
            );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limits written next to the fields are the ones the validation code uses.
    #[test]
    fn the_documented_limits_are_the_code_s() {
        use crate::routes::{
            FUNCTIONS, create_meeting as meeting, notify_chat::body as chat, search_contacts,
        };
        let document: serde_json::Value = serde_json::from_str(&document_json(FUNCTIONS)).unwrap();
        let schema = |name: &str| document["components"]["schemas"][name].clone();
        let contacts = &document["paths"]["/api/contacts"]["get"]["parameters"];
        let parameter = |name: &str| {
            contacts
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap()["schema"]
                .clone()
        };
        let cases = [
            (
                schema("CreateMeeting")["properties"]["subject"]["maxLength"].clone(),
                crate::domain::MAX_SUBJECT_CHARS,
            ),
            (
                schema("CreateMeeting")["properties"]["participants"]["maxItems"].clone(),
                meeting::body::MAX_PARTICIPANTS,
            ),
            (
                schema("NotifyChat")["properties"]["recipients"]["maxItems"].clone(),
                chat::MAX_RECIPIENTS,
            ),
            (
                schema("NotifyChat")["properties"]["message"]["maxLength"].clone(),
                crate::domain::MAX_MESSAGE_CHARS,
            ),
            (
                schema("Link")["properties"]["title"]["maxLength"].clone(),
                chat::MAX_LINK_TITLE_CHARS,
            ),
            (
                schema("Link")["properties"]["url"]["maxLength"].clone(),
                chat::MAX_URL_LEN,
            ),
            (
                schema("ChatId")["maxLength"].clone(),
                crate::domain::MAX_CHAT_ID_LEN,
            ),
            (
                parameter("q")["maxLength"].clone(),
                crate::domain::MAX_SEARCH_CHARS,
            ),
            (
                parameter("top")["maximum"].clone(),
                search_contacts::MAX_TOP,
            ),
            (
                parameter("top")["default"].clone(),
                search_contacts::DEFAULT_TOP,
            ),
            (
                schema("Contacts")["properties"]["value"]["maxItems"].clone(),
                search_contacts::MAX_TOP,
            ),
        ];
        for (documented, code) in cases {
            assert_eq!(documented, serde_json::json!(code));
        }
    }

    #[test]
    fn the_document_holds_no_setting() {
        let text = document_json(crate::routes::FUNCTIONS);
        // The schema is the same whatever the deployment: nothing of a configuration.
        for setting in [
            "127.0.0.1",
            "localhost:",
            "vault.azure.net",
            "communication.azure",
        ] {
            assert!(!text.contains(setting), "{setting}");
        }
    }
}
