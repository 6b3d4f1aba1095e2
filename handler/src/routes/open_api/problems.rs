//! The problem answers of each operation, from its `FunctionSpec`.

use std::collections::BTreeMap;
use std::time::Duration;

use utoipa::openapi::header::Header;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, ToSchema};

use super::build::{described, operation_mut, string};
use crate::error::{ApiError, Problem, ProblemCode};
use crate::routes::filters::MAX_BODY_BYTES;
use crate::routes::problems::ANY_PROBLEMS;
use crate::routes::spec::FunctionSpec;

/// Each operation's problem answers, from its `FunctionSpec`: one response per status, shared
/// as a component named after its codes (`InvalidTokenOrInteractionRequired`), with the
/// headers those codes send and an example of each.
pub struct Problems<'a>(pub &'a [FunctionSpec]);

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

    #[test]
    fn every_problem_code_serializes_as_its_name() {
        for code in ProblemCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
