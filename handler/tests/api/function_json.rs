//! The Functions configuration and the router cannot drift: every `functions/*/function.json`
//! is one of `routes::FUNCTIONS` with the same route and methods, every function in the code
//! has its folder, and the running router answers each declared route and method.

use std::collections::BTreeMap;
use std::path::PathBuf;

use handler::routes::FUNCTIONS;

use crate::helpers::*;

#[derive(Debug, PartialEq, Eq)]
struct Declared {
    route: String,
    methods: Vec<String>,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn declared_functions() -> BTreeMap<String, Declared> {
    let mut declared = BTreeMap::new();
    for entry in std::fs::read_dir(repo_root().join("functions")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(dir.join("function.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let trigger = json["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "httpTrigger")
            .unwrap_or_else(|| panic!("{name} has no httpTrigger"));
        assert_eq!(
            trigger["authLevel"], "anonymous",
            "{name}: the handler authenticates"
        );
        let mut methods: Vec<String> = trigger["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_ascii_uppercase())
            .collect();
        methods.sort();
        declared.insert(
            name,
            Declared {
                route: trigger["route"].as_str().unwrap().to_owned(),
                methods,
            },
        );
    }
    declared
}

fn served_functions() -> BTreeMap<String, Declared> {
    FUNCTIONS
        .iter()
        .map(|f| {
            let mut methods: Vec<String> = f.methods.iter().map(|m| m.to_string()).collect();
            methods.sort();
            (
                f.name.to_owned(),
                Declared {
                    route: f.route.to_owned(),
                    methods,
                },
            )
        })
        .collect()
}

#[test]
fn every_function_json_matches_a_served_function_and_vice_versa() {
    let declared = declared_functions();
    let served = served_functions();
    let only_declared: Vec<&String> = declared
        .keys()
        .filter(|n| !served.contains_key(*n))
        .collect();
    let only_served: Vec<&String> = served
        .keys()
        .filter(|n| !declared.contains_key(*n))
        .collect();
    assert!(
        only_declared.is_empty(),
        "functions/<Name>/function.json without a `SPEC` in routes::FUNCTIONS: {only_declared:?}"
    );
    assert!(
        only_served.is_empty(),
        "routes::FUNCTIONS entries without a functions/<Name>/function.json: {only_served:?}"
    );
    assert_eq!(declared, served, "a function.json and its `SPEC` differ");
}

/// The list the router is built from has no function twice, so no `function.json` can be
/// shadowed by an earlier route of the same path.
#[test]
fn no_function_is_served_twice() {
    let mut seen = std::collections::BTreeSet::new();
    for function in FUNCTIONS {
        assert!(
            seen.insert(function.name),
            "{} is listed twice",
            function.name
        );
        for method in function.methods {
            assert!(
                function.allow.split(", ").any(|m| m == method.as_str()),
                "{}: {method} is served but not in `allow`",
                function.name
            );
        }
    }
}

#[tokio::test]
async fn the_router_answers_every_declared_route_and_method() {
    let app = spawn_app().await;
    for (name, declared) in declared_functions() {
        // Placeholders get a value the route accepts.
        let path: Vec<&str> = declared
            .route
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "me"
                } else {
                    segment
                }
            })
            .collect();
        let url = app.url(&format!("/api/{}", path.join("/")));
        for method in &declared.methods {
            let method: reqwest::Method = method.parse().unwrap();
            let response = app.http.request(method.clone(), &url).send().await.unwrap();
            let status = response.status().as_u16();
            assert!(
                status != 404 && status != 405,
                "{name}: {method} {url} answered {status}"
            );
        }
        let response = app
            .http
            .request(reqwest::Method::PATCH, &url)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{name}: PATCH is not declared");
    }
}
