//! What every answer carries and every operation reads, added once for all.

use utoipa::Modify;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi as Document, RefOr, Required};

use super::build::{described, operation_mut, string};
use crate::auth::CONSENT_RETRY_HEADER;
use crate::correlation::RESPONSE_HEADER;
use crate::error::ProblemCode;
use crate::routes::spec::FunctionSpec;

/// What every answer carries, and the request headers every operation reads: added to each
/// operation and response, the shared ones included. Every header the document lists is sent
/// every time, so each is `required`.
pub struct EveryAnswer<'a>(pub &'a [FunctionSpec]);

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
