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

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{AuthorizationCode, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi, ToSchema};
use warp::http::{HeaderValue, Method, header};
use warp::reply::Response as Reply;
use warp::{Filter, Rejection};

use super::filters::{MAX_BODY_BYTES, function};
use super::problems::ANY_PROBLEMS;
use super::spec::{FunctionSpec, boxed};
use crate::auth::CONSENT_RETRY_HEADER;
use crate::correlation::RESPONSE_HEADER;
use crate::domain::UserRef;
use crate::error::{ApiError, Problem, ProblemCode};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "OpenApi",
    route: "openapi.json",
    methods: &[Method::GET],
    allow: "GET",
    problems: &[],
    filter: |_, functions| boxed(route(functions)),
    describe: <Described as utoipa::OpenApi>::openapi,
};

/// The operation of `route`, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(route))]
struct Described;

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

/// Each operation's problem answers, from its `FunctionSpec`: one response per status, shared
/// as a component named after its codes (`InvalidTokenOrInteractionRequired`), with the
/// headers those codes send and an example of each.
struct Problems<'a>(&'a [FunctionSpec]);

impl Modify for Problems<'_> {
    fn modify(&self, openapi: &mut Document) {
        let mut responses = BTreeMap::new();
        for spec in self.0 {
            let path = format!("/api/{}", spec.route);
            let Some(item) = openapi.paths.paths.get_mut(&path) else {
                continue;
            };
            for method in spec.methods {
                let Some(operation) = operation_mut(item, method) else {
                    continue;
                };
                for (status, codes) in problems_by_status(spec) {
                    let name = response_name(&codes);
                    responses
                        .entry(name.clone())
                        .or_insert_with(|| problem_response(&codes));
                    operation.responses.responses.insert(
                        status.to_string(),
                        RefOr::Ref(Ref::from_response_name(name)),
                    );
                }
            }
        }
        // Not an answer of any operation's own method, so no operation lists it.
        responses.insert(
            response_name(&[ProblemCode::MethodNotAllowed]),
            problem_response(&[ProblemCode::MethodNotAllowed]),
        );
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .responses
            .extend(responses.into_iter().map(|(name, r)| (name, RefOr::T(r))));
    }
}

/// The operation of `item` for `method`.
fn operation_mut<'a>(
    item: &'a mut utoipa::openapi::PathItem,
    method: &Method,
) -> Option<&'a mut Operation> {
    match *method {
        Method::GET => item.get.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        Method::PATCH => item.patch.as_mut(),
        _ => None,
    }
}

/// The codes a function can answer, `ANY_PROBLEMS` included, grouped by status in the order
/// of `ProblemCode::ALL`.
pub fn problems_by_status(spec: &FunctionSpec) -> BTreeMap<u16, Vec<ProblemCode>> {
    let listed: Vec<ProblemCode> = spec
        .problems
        .iter()
        .flat_map(|group| group.iter())
        .chain(ANY_PROBLEMS)
        .copied()
        .collect();
    let mut by_status: BTreeMap<u16, Vec<ProblemCode>> = BTreeMap::new();
    for code in ProblemCode::ALL.into_iter().filter(|c| listed.contains(c)) {
        by_status
            .entry(code.status().as_u16())
            .or_default()
            .push(code);
    }
    by_status
}

/// `InvalidTokenOrInteractionRequired` for `invalid_token` and `interaction_required`.
fn response_name(codes: &[ProblemCode]) -> String {
    codes
        .iter()
        .map(|code| {
            code.as_str()
                .split('_')
                .map(|word| {
                    let mut chars = word.chars();
                    chars
                        .next()
                        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("Or")
}

/// The response for `codes`, all of one status.
fn problem_response(codes: &[ProblemCode]) -> Response {
    let status = codes.first().map_or(500, |c| c.status().as_u16());
    let description = codes
        .iter()
        .map(|code| format!("`{}`: {}.", code.as_str(), code.meaning()))
        .collect::<Vec<_>>()
        .join("\n\n");
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name(<Problem as ToSchema>::name()))
        .item(
            ObjectBuilder::new()
                .property(
                    "status",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .enum_values(Some([status])),
                )
                .property(
                    "code",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(codes.iter().map(|c| c.as_str()))),
                ),
        );
    let mut content = ContentBuilder::new().schema(Some(schema));
    for code in codes {
        let example = serde_json::to_value(example(*code).problem()).unwrap_or_default();
        content = content.examples_from_iter([(
            code.as_str(),
            utoipa::openapi::example::ExampleBuilder::new().value(Some(example)),
        )]);
    }
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content.build())
        .header("Cache-Control", described("`no-store`", string()));
    for (name, header) in problem_headers(codes) {
        response = response.header(name, header);
    }
    response.build()
}

/// The headers the codes send (`ApiError::to_response`).
fn problem_headers(codes: &[ProblemCode]) -> Vec<(&'static str, Header)> {
    let has = |code| codes.contains(&code);
    let mut headers = Vec::new();
    let challenges: Vec<&str> = [
        (
            ProblemCode::InvalidToken,
            "`Bearer error=\"invalid_token\"` with `invalid_token`",
        ),
        (
            ProblemCode::InteractionRequired,
            "`Bearer error=\"insufficient_claims\", claims=\"<base64>\"` with \
             `interaction_required` (RFC 6750, the claims challenge base64-encoded)",
        ),
    ]
    .into_iter()
    .filter(|(code, _)| has(*code))
    .map(|(_, text)| text)
    .collect();
    if !challenges.is_empty() {
        headers.push((
            "WWW-Authenticate",
            described(
                &challenges.join("; "),
                ObjectBuilder::new().schema_type(Type::String).pattern(Some(
                    "^Bearer error=\"(invalid_token|insufficient_claims)\"",
                )),
            ),
        ));
    }
    if has(ProblemCode::MethodNotAllowed) {
        headers.push((
            "Allow",
            described("The methods the path serves, e.g. `POST`.", string()),
        ));
    }
    if has(ProblemCode::RequestTimeout) {
        headers.push((
            "Connection",
            described("`close`: the rest of the body is not read.", string()),
        ));
    }
    if has(ProblemCode::Throttled) || has(ProblemCode::Unavailable) {
        headers.push((
            "Retry-After",
            described(
                "Seconds to wait before retrying.",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            ),
        ));
    }
    headers
}

/// A representative error of each code, whose problem body is the document's example.
fn example(code: ProblemCode) -> ApiError {
    let service = crate::graph::SERVICE;
    match code {
        ProblemCode::BadRequest => {
            ApiError::BadRequest("Field `subject` must be 1 to 255 characters.".to_owned())
        }
        ProblemCode::InvalidToken => ApiError::InvalidToken(String::new()),
        ProblemCode::InteractionRequired => ApiError::InteractionRequired {
            claims: Some(
                r#"{"access_token":{"capolids":{"essential":true,"values":["9ab03e19-ed42-4168-b6b7-7001fb3e933a"]}}}"#
                    .to_owned(),
            ),
        },
        ProblemCode::TenantNotAllowed => ApiError::TenantNotAllowed,
        ProblemCode::InsufficientScope => ApiError::InsufficientScope,
        ProblemCode::ConsentRequired => ApiError::ConsentRequired {
            scopes: vec![
                "https://graph.microsoft.com/OnlineMeetings.ReadWrite".to_owned(),
                "https://graph.microsoft.com/Calendars.ReadWrite".to_owned(),
            ],
        },
        ProblemCode::ServicePrincipalMissing => ApiError::ServicePrincipalMissing {
            resource: crate::acs::SERVICE,
            app_id: "1fd5118e-2576-4263-8130-9503064c837a",
        },
        ProblemCode::NotFound => ApiError::NotFound("The user was not found.".to_owned()),
        ProblemCode::MethodNotAllowed => ApiError::MethodNotAllowed { allow: "POST" },
        ProblemCode::RequestTimeout => ApiError::RequestTimeout {
            limit: Duration::from_secs(15),
        },
        ProblemCode::PayloadTooLarge => ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        },
        ProblemCode::Throttled => ApiError::Throttled {
            service,
            retry_after: Duration::from_secs(4),
        },
        ProblemCode::Internal => ApiError::Internal("example".into()),
        ProblemCode::UpstreamError => ApiError::Upstream {
            service,
            status: 403,
            code: "Authorization_RequestDenied".to_owned(),
        },
        ProblemCode::Unavailable => ApiError::Unavailable {
            dependency: "signing key service",
            reason: String::new(),
            retry_after: Duration::from_secs(10),
        },
        ProblemCode::UpstreamTimeout => ApiError::UpstreamTimeout { service },
    }
}

/// What every answer carries, and the request headers every operation reads: added to each
/// operation and response, the shared ones included. Every header the document lists is sent
/// every time, so each is `required`.
struct EveryAnswer<'a>(&'a [FunctionSpec]);

impl Modify for EveryAnswer<'_> {
    fn modify(&self, openapi: &mut Document) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let spec = self
                .0
                .iter()
                .find(|spec| format!("/api/{}", spec.route) == *path);
            for method in spec.map_or(&[][..], |s| s.methods) {
                let Some(operation) = operation_mut(item, method) else {
                    continue;
                };
                let upstream = spec.is_some_and(|s| {
                    s.problems
                        .iter()
                        .any(|group| group.contains(&ProblemCode::ConsentRequired))
                });
                add_request_headers(operation, upstream);
                if operation.security.is_none() {
                    // Anonymous, said explicitly.
                    operation.security = Some(Vec::new());
                }
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        add_answer_headers(response);
                    }
                }
            }
        }
        if let Some(components) = openapi.components.as_mut() {
            for response in components.responses.values_mut() {
                if let RefOr::T(response) = response {
                    add_answer_headers(response);
                }
            }
        }
    }
}

/// The request headers an operation reads. The backend takes any value and ignores one it
/// cannot use (a malformed correlation id is replaced, not refused), so their schemas are plain
/// strings and the descriptions say what is used.
fn add_request_headers(operation: &mut Operation, upstream: bool) {
    let header = |name: &str, description: &str| {
        RefOr::T(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(string()))
                .build(),
        )
    };
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters.push(header(
        RESPONSE_HEADER,
        "Your correlation id, to tie your logs to ours: 1 to 64 letters, digits and `-_.:` \
         (anything else is ignored, and a new id is used).",
    ));
    parameters.push(header(
        "traceparent",
        "A W3C Trace Context `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`): without \
         `x-ms-client-request-id`, its trace id is the correlation id.",
    ));
    if upstream {
        parameters.push(header(
            CONSENT_RETRY_HEADER,
            "`1` right after the user completed consent: the backend then retries Entra ID's \
             refusal (after 1, 2 and 4 s, within the deadline), which can lag behind a fresh \
             consent. Any other value, or none, and a refusal is answered at once.",
        ));
    }
}

fn add_answer_headers(response: &mut Response) {
    response.headers.insert(
        RESPONSE_HEADER.to_owned(),
        RefOr::T(described(
            "The correlation id the backend used: yours, the trace id of your `traceparent`, \
             or a new GUID. Quote it when reporting a problem.",
            correlation_id(),
        )),
    );
    response.headers.insert(
        "X-Content-Type-Options".to_owned(),
        RefOr::T(described(
            "`nosniff`: a browser never guesses another type than the one declared.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["nosniff"])),
        )),
    );
    for header in response.headers.values_mut() {
        if let RefOr::T(header) = header {
            require(header);
        }
    }
}

/// `required: true`, which utoipa's `Header` has no field for; as an extension it is written
/// where the field belongs.
fn require(header: &mut Header) {
    header
        .extensions
        .get_or_insert_with(Extensions::default)
        .insert("required".to_owned(), serde_json::Value::Bool(true));
}

fn correlation_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Za-z0-9._:-]{1,64}$"))
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn described(description: &str, schema: ObjectBuilder) -> Header {
    HeaderBuilder::new()
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_names_say_their_codes() {
        assert_eq!(
            response_name(&[ProblemCode::InvalidToken, ProblemCode::InteractionRequired]),
            "InvalidTokenOrInteractionRequired"
        );
        assert_eq!(response_name(&[ProblemCode::Internal]), "Internal");
    }

    #[test]
    fn every_example_is_of_its_own_code() {
        for code in ProblemCode::ALL {
            assert_eq!(example(code).kind(), code);
        }
    }

    /// The limits written next to the fields are the ones the validation code uses.
    #[test]
    fn the_documented_limits_are_the_code_s() {
        use crate::routes::{
            FUNCTIONS, create_meeting as meeting, notify_chat as chat, search_contacts,
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
                meeting::MAX_SUBJECT_CHARS,
            ),
            (
                schema("CreateMeeting")["properties"]["participants"]["maxItems"].clone(),
                meeting::MAX_PARTICIPANTS,
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
            (schema("ChatId")["maxLength"].clone(), chat::MAX_CHAT_ID_LEN),
            (
                parameter("q")["maxLength"].clone(),
                search_contacts::MAX_QUERY_CHARS,
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
    fn every_problem_code_serializes_as_its_name() {
        for code in ProblemCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
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
