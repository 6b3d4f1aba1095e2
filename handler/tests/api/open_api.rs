//! The OpenAPI description: the committed `docs/openapi.json` is what the code generates, it
//! describes exactly the functions the router serves, and `GET /api/openapi.json` serves it
//! anonymously, with nothing of the deployment in it.
//!
//! After changing a route, a request or answer type, or a problem list, regenerate the file:
//! `OPENAPI_UPDATE=1 cargo test -p handler --test api open_api`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use handler::routes::FUNCTIONS;
use handler::routes::open_api::{document_json, problems_by_status};
use serde_json::Value;

use crate::helpers::*;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

fn generated() -> Value {
    serde_json::from_str(&document_json(FUNCTIONS)).unwrap()
}

#[test]
fn the_committed_document_is_what_the_code_generates() {
    let generated = document_json(FUNCTIONS);
    let path = committed_path();
    if std::env::var_os("OPENAPI_UPDATE").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from what the code generates; regenerate it with \
         `OPENAPI_UPDATE=1 cargo test -p handler --test api open_api` and commit it"
    );
}

#[test]
fn every_function_is_one_operation_and_every_operation_a_function() {
    let document = generated();
    assert_eq!(document["openapi"], "3.1.0");
    let mut described = BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if ["parameters", "summary", "description", "servers"].contains(&method.as_str()) {
                continue;
            }
            described.insert(
                operation["operationId"].as_str().unwrap().to_owned(),
                (path.clone(), method.to_ascii_uppercase()),
            );
        }
    }
    let served: BTreeMap<String, (String, String)> = FUNCTIONS
        .iter()
        .flat_map(|f| {
            f.methods.iter().map(move |m| {
                (
                    f.name.to_owned(),
                    (format!("/api/{}", f.route), m.to_string()),
                )
            })
        })
        .collect();
    assert_eq!(described, served);
}

#[test]
fn every_operation_lists_the_problems_of_its_function() {
    let document = generated();
    for function in FUNCTIONS {
        let path = format!("/api/{}", function.route);
        for method in function.methods {
            let operation = &document["paths"][&path][method.as_str().to_ascii_lowercase()];
            let responses = operation["responses"].as_object().unwrap();
            for (status, codes) in problems_by_status(function) {
                let reference = responses[&status.to_string()]["$ref"].as_str().unwrap();
                let name = reference.strip_prefix("#/components/responses/").unwrap();
                let response = &document["components"]["responses"][name];
                let schema = &response["content"]["application/problem+json"]["schema"];
                let listed: Vec<&str> = schema["allOf"][1]["properties"]["code"]["enum"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect();
                let expected: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
                assert_eq!(listed, expected, "{} {status}", function.name);
            }
            // Every answer, success or problem, names its correlation id.
            for (status, response) in responses {
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.rsplit('/').next().unwrap();
                        &document["components"]["responses"][name]
                    }
                    None => response,
                };
                assert_eq!(
                    response["headers"]["x-ms-client-request-id"]["required"], true,
                    "{} {status}",
                    function.name
                );
            }
        }
    }
}

#[tokio::test]
async fn the_document_is_served_anonymously_as_committed() {
    let app = spawn_app().await;

    let response = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=3600");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().contains_key("x-ms-client-request-id"));
    let body = response.text().await.unwrap();
    assert_eq!(body, document_json(FUNCTIONS));
    // Nothing of this deployment: no client id, tenant, secret or endpoint.
    for setting in [
        CLIENT_ID,
        APP_ID_URI,
        CLIENT_SECRET,
        FIELD_TENANT,
        &app.entra.authority(),
        &app.graph.endpoint(),
        &app.addr.to_string(),
    ] {
        assert!(!body.contains(setting), "the document contains {setting}");
    }
}

#[tokio::test]
async fn a_token_changes_nothing_and_a_wrong_method_is_405() {
    let app = spawn_app().await;
    let token = app.field_worker_token().sign();

    let with_token = app.get("/api/openapi.json", &token).await;
    let post = app
        .http
        .post(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();

    assert_eq!(with_token.status(), 200);
    assert_eq!(with_token.text().await.unwrap(), document_json(FUNCTIONS));
    assert_eq!(post.headers()["allow"], "GET");
    problem(post, 405, "method_not_allowed").await;
}

/// docs/api.md, the page tab developers read, names every operation of the document in a
/// heading and every problem code in its error table, with the document's status, and nothing
/// more.
#[test]
fn docs_api_md_agrees_with_the_document() {
    let page =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md"))
            .unwrap();
    let headings: Vec<&str> = page
        .lines()
        .filter_map(|line| line.strip_prefix("## `"))
        .collect();
    for function in FUNCTIONS {
        for method in function.methods {
            let route = format!("{method} /api/{}", function.route);
            assert!(
                headings
                    .iter()
                    .any(|h| h.trim_end_matches('`').split('?').next() == Some(route.as_str())),
                "docs/api.md has no section `## \\`{route}\\``"
            );
        }
    }
    assert_eq!(
        headings.len(),
        FUNCTIONS.iter().map(|f| f.methods.len()).sum::<usize>(),
        "docs/api.md has a route section the document does not: {headings:?}"
    );

    let document = generated();
    let codes: Vec<&str> = document["components"]["schemas"]["ProblemCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let rows: Vec<(u16, String)> = page
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let status = cells.get(1)?.parse::<u16>().ok()?;
            let code = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((status, code.to_owned()))
        })
        .collect();
    let documented: Vec<&str> = rows.iter().map(|(_, code)| code.as_str()).collect();
    for code in &codes {
        assert!(
            documented.contains(code),
            "docs/api.md's error table lacks `{code}`"
        );
    }
    for (status, code) in &rows {
        assert!(
            codes.contains(&code.as_str()),
            "`{code}` is no code of the document"
        );
        let example = &document["components"]["responses"]
            .as_object()
            .unwrap()
            .values()
            .find_map(|r| r["content"]["application/problem+json"]["examples"].get(code))
            .unwrap_or_else(|| panic!("no example of `{code}`"))["value"];
        assert_eq!(example["status"], *status, "`{code}`");
    }
}
