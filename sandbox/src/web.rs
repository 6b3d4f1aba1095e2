//! The two web origins a browser sees besides the API: the tab (`tab/`, as Azure Static Web Apps
//! serves it, with its `config.json` and Content-Security-Policy) and the emulated Teams host page
//! (`sandbox/host/`), which frames the tab and answers TeamsJS with tokens minted here. On the
//! API's own origin, `/docs/` is the API reference (`sandbox/reference/`), rendered in the
//! browser from the handler's `/api/openapi.json`, and `/telemetry/` (`sandbox/telemetry/`) a
//! waterfall of what the handler exported to the emulated Application Insights.
//!
//! The host page and the reference are read from the source tree on every request; the tab is
//! served from its build (`tab_build`), redone when `tab/` changed, so editing either and
//! reloading the page is enough. Nothing is installed or fetched at run time.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use test_support::tokens::{TokenBuilder, unix_now};
use warp::Filter;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use crate::personas::{self, PERSONAS};
use crate::tab_build::TabBuild;

/// Failures a person can ask the emulation for from the host page, to see how the tab copes.
pub trait Failures: Send + Sync + std::fmt::Debug {
    /// Microsoft Graph answers the next searches with 429 and `Retry-After`, past the handler's
    /// retries.
    fn throttle_next_search(&self);
    /// Entra answers the next on-behalf-of exchange with a Conditional Access claims challenge.
    fn challenge_next_exchange(&self);
}

/// `tab/` and `sandbox/host/` in the source tree.
pub fn tab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tab")
}

/// `scripts/tab/build-tab.mjs`, which builds `tab/` for serving.
pub fn tab_build_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/tab/build-tab.mjs")
}

pub fn host_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("host")
}

/// `sandbox/reference/` in the source tree.
pub fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reference")
}

/// The policy of the sandbox's own pages on the API's origin (`/docs/`, `/telemetry/`): their
/// scripts and styles, calls to that origin only, and framed by nothing.
const API_PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                            connect-src 'self'; base-uri 'none'; form-action 'none'; \
                            frame-ancestors 'none'";

/// `GET /docs/…` on the API's origin: the API reference page, which reads `/api/openapi.json`
/// from the same origin. Sandbox only: the Functions host serves no such path. Anything else
/// is left to the handler.
pub fn reference_routes() -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::get()
        .and(warp::path("docs"))
        .and(warp::path::tail())
        .map(|tail: warp::path::Tail| serve_file(&reference_dir(), tail.as_str(), API_PAGE_CSP))
}

/// `sandbox/telemetry/` in the source tree.
pub fn telemetry_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("telemetry")
}

/// What the telemetry page shows: every envelope the emulated ingestion accepted, after the
/// handler's exporter has flushed what it holds.
pub trait TelemetrySource: Send + Sync {
    fn envelopes(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = Value> + Send + '_>>;
}

/// `GET /telemetry/…` on the API's origin: a waterfall of each request the handler answered
/// with its dependency calls, from what the emulated Application Insights received. Sandbox
/// only, like `/docs/`.
pub fn telemetry_routes(
    source: Arc<dyn TelemetrySource>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let envelopes = warp::get()
        .and(warp::path!("telemetry" / "envelopes.json"))
        .then(move || {
            let source = source.clone();
            async move {
                let mut response =
                    warp::Reply::into_response(warp::reply::json(&source.envelopes().await));
                response
                    .headers_mut()
                    .insert("cache-control", HeaderValue::from_static("no-store"));
                response
            }
        });
    let files = warp::get()
        .and(warp::path("telemetry"))
        .and(warp::path::tail())
        .map(|tail: warp::path::Tail| serve_file(&telemetry_dir(), tail.as_str(), API_PAGE_CSP));
    envelopes.or(files).unify()
}

/// What the tab server needs to know about the rest of the emulation.
#[derive(Debug, Clone)]
pub struct TabSite {
    pub build: Arc<TabBuild>,
    /// The generated `config.json`.
    pub config: Value,
    /// The tab pages' Content-Security-Policy.
    pub csp: String,
}

/// The emulated Teams host page.
#[derive(Debug, Clone)]
pub struct HostSite {
    pub dir: PathBuf,
    /// Where the host frames the tab.
    pub tab_url: String,
    /// Issuer authority and audience of the SSO tokens it hands out.
    pub authority: String,
    pub client_id: String,
    pub graph_state_url: String,
    /// The handler's telemetry page (`telemetry_routes`).
    pub telemetry_url: String,
    pub failures: Arc<dyn Failures>,
    /// The emulated Graph's meeting that a meeting side panel is opened in.
    pub meeting: Value,
    /// The `Host` values the page answers: the loopback names it was printed with.
    pub host_names: Vec<String>,
}

/// `127.0.0.1:PORT` and `localhost:PORT`, the names a page on `port` is reached by here.
pub fn loopback_host_names(port: u16) -> Vec<String> {
    vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")]
}

/// The tab's policy, the same as a deployment's: `tab/content-security-policy.json`, the one copy
/// that `scripts/deploy/stage_tab.py` fills in too, with its slots filled here: `$API_ORIGIN` with
/// the API and `$FRAMING_HOSTS` with the emulated host, which frames the tab besides Teams. It
/// allows the tab's own scripts and styles, the API, photos as blobs, TeamsJS's list of host
/// domains on Microsoft's CDN, and framing by those hosts. Offline, TeamsJS's fetch of that list
/// fails like any network fetch and TeamsJS uses the list it ships with; leaving the CDN out
/// instead made the browser report a policy violation on every start.
pub fn tab_csp(api_origin: &str, framing_hosts: &[String]) -> String {
    let policy: Value =
        serde_json::from_str(include_str!("../../tab/content-security-policy.json"))
            .unwrap_or(Value::Null);
    let directives = policy["directives"].as_array().map(Vec::as_slice);
    directives
        .unwrap_or_default()
        .iter()
        .map(|directive| {
            let mut words = vec![directive["name"].as_str().unwrap_or_default().to_owned()];
            let sources = directive["sources"].as_array().map(Vec::as_slice);
            for source in sources.unwrap_or_default().iter().filter_map(Value::as_str) {
                match source {
                    "$API_ORIGIN" => words.push(api_origin.to_owned()),
                    "$FRAMING_HOSTS" => words.extend(framing_hosts.iter().cloned()),
                    fixed => words.push(fixed.to_owned()),
                }
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn tab_routes(site: TabSite) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let site = Arc::new(site);
    warp::get()
        .and(warp::path::full())
        .map(move |path: warp::path::FullPath| {
            let relative = path.as_str().trim_start_matches('/');
            if relative == "config.json" {
                let mut response = json_reply(&site.config);
                no_cache(&mut response);
                return response;
            }
            let page = relative.is_empty() || relative.ends_with(".html");
            match site.build.current(page) {
                Ok(dir) => serve_file(&dir, relative, &site.csp),
                Err(reason) => not_built(&reason),
            }
        })
        .or(warp::any().map(|| status(StatusCode::METHOD_NOT_ALLOWED)))
        .unify()
}

pub fn host_routes(
    site: HostSite,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let site = Arc::new(site);
    // A web page can have a browser reach 127.0.0.1 under a name of its own (DNS rebinding)
    // and read the answers as same-origin: this page hands out SSO tokens, so it answers only
    // the loopback names it was printed with, and 421 Misdirected Request otherwise.
    let names = site.host_names.clone();
    let misdirected =
        warp::header::optional::<String>("host").and_then(move |host: Option<String>| {
            let known = host.is_some_and(|h| names.iter().any(|n| n.eq_ignore_ascii_case(&h)));
            let names = names.clone();
            async move {
                if known {
                    Err(warp::reject::not_found())
                } else {
                    Ok(misdirected(&names))
                }
            }
        });
    // The host frames its tab, or another copy of it given as ?tab= (https, or http on this
    // machine), as Teams frames whatever the manifest names.
    let csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
               frame-src http://127.0.0.1:* http://localhost:* https:; base-uri 'none'; \
               form-action 'none'; frame-ancestors 'none'"
        .to_owned();
    let for_config = site.clone();
    let config = warp::get()
        .and(warp::path!("host-config.json"))
        .map(move || {
            let personas: Vec<Value> = PERSONAS
                .iter()
                .map(|p| {
                    json!({
                        "id": p.id, "label": p.label, "name": p.name, "upn": p.upn,
                        "tenantId": p.tenant_id, "objectId": p.object_id,
                        "organization": p.organization,
                    })
                })
                .collect();
            let meeting = &for_config.meeting;
            json_reply(&json!({
                "tabUrl": for_config.tab_url,
                "graphStateUrl": for_config.graph_state_url,
                "telemetryUrl": for_config.telemetry_url,
                "personas": personas,
                "meeting": {
                    "id": meeting["id"],
                    "chatId": meeting["chatInfo"]["threadId"],
                    "subject": meeting["subject"],
                    "joinUrl": meeting["joinWebUrl"],
                    "startDateTime": meeting["startDateTime"],
                    "endDateTime": meeting["endDateTime"],
                    "organizer": meeting["participants"]["organizer"]["identity"]["user"],
                },
            }))
        });
    let for_tokens = site.clone();
    let token = warp::post()
        .and(warp::path!("personas" / String / "token"))
        .and(warp::query::<HashMap<String, String>>())
        .map(
            move |id: String, query: HashMap<String, String>| match personas::find(&id) {
                Some(persona) => {
                    // Every Entra token has an id of its own (`uti`), so two tokens are never the
                    // same bytes; one asked for with a claims challenge comes from a sign-in that
                    // satisfied it (here: multi-factor).
                    let methods = if query.contains_key("claims") {
                        json!(["pwd", "mfa"])
                    } else {
                        json!(["pwd"])
                    };
                    let token = TokenBuilder::v2(
                        &for_tokens.authority,
                        &for_tokens.client_id,
                        persona.tenant_id,
                        persona.object_id,
                    )
                    .claim("name", persona.name)
                    .claim("preferred_username", persona.upn)
                    .claim("exp", unix_now() + 3600)
                    .claim("uti", uuid::Uuid::new_v4().simple().to_string())
                    .claim("amr", methods)
                    .sign();
                    let mut response = json_reply(&json!({"token": token}));
                    no_cache(&mut response);
                    response
                }
                None => status(StatusCode::NOT_FOUND),
            },
        );
    let failures = site.failures.clone();
    let throttle = warp::post()
        .and(warp::path!("emulation" / "throttle-next-search"))
        .map(move || {
            failures.throttle_next_search();
            status(StatusCode::NO_CONTENT)
        });
    let failures = site.failures.clone();
    let challenge = warp::post()
        .and(warp::path!("emulation" / "challenge-next-exchange"))
        .map(move || {
            failures.challenge_next_exchange();
            status(StatusCode::NO_CONTENT)
        });
    let files = warp::get()
        .and(warp::path::full())
        .map(move |path: warp::path::FullPath| {
            let relative = path.as_str().trim_start_matches('/');
            serve_file(&site.dir, relative, &csp)
        });
    misdirected
        .or(config)
        .unify()
        .or(token)
        .unify()
        .or(throttle)
        .unify()
        .or(challenge)
        .unify()
        .or(files)
        .unify()
        .or(warp::any().map(|| status(StatusCode::METHOD_NOT_ALLOWED)))
        .unify()
}

/// A file below `dir`: plain names only (no `..`, no hidden files), a known type, `index.html`
/// for `/`. HTML pages carry the policy.
fn serve_file(dir: &Path, relative: &str, csp: &str) -> Response {
    let relative = if relative.is_empty() {
        "index.html"
    } else {
        relative
    };
    let safe = relative.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    });
    let content_type = match relative.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => return status(StatusCode::NOT_FOUND),
    };
    if !safe {
        return status(StatusCode::NOT_FOUND);
    }
    let Ok(bytes) = std::fs::read(dir.join(relative)) else {
        return status(StatusCode::NOT_FOUND);
    };
    let mut response = Response::new(bytes.into());
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if content_type.starts_with("text/html")
        && let Ok(value) = HeaderValue::from_str(csp)
    {
        headers.insert("content-security-policy", value);
    }
    no_cache(&mut response);
    response
}

/// The refusal of a request for a name the host page was not printed with.
fn misdirected(names: &[String]) -> Response {
    let mut response = Response::new(
        format!(
            "SANDBOX: this emulated Teams host answers only as http://{} (the names it printed), \
             so that no other web page can reach it under a name of its own.\n",
            names.join(" or http://")
        )
        .into(),
    );
    *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// What the browser shows instead of the tab when it could not be built.
fn not_built(reason: &str) -> Response {
    let mut response = Response::new(
        format!("SANDBOX: the Remote Expert tab could not be built: {reason}\n").into(),
    );
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    no_cache(&mut response);
    response
}

fn no_cache(response: &mut Response) {
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-cache"));
}

fn json_reply(value: &Value) -> Response {
    use warp::Reply;
    warp::reply::json(value).into_response()
}

fn status(code: StatusCode) -> Response {
    use warp::Reply;
    code.into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_reference_page_and_its_assets_are_served() {
        let dir = reference_dir();
        for (file, content_type) in [
            ("", "text/html; charset=utf-8"),
            ("reference.js", "text/javascript; charset=utf-8"),
            ("reference.css", "text/css; charset=utf-8"),
        ] {
            let response = serve_file(&dir, file, "csp");
            assert_eq!(response.status(), 200, "{file}");
            assert_eq!(response.headers()["content-type"], content_type, "{file}");
        }
    }

    #[test]
    fn only_plain_files_of_known_types_are_served() {
        let dir = tab_dir();
        assert_eq!(serve_file(&dir, "", "csp").status(), 200);
        assert_eq!(
            serve_file(&dir, "index.html", "csp").headers()["content-security-policy"],
            "csp"
        );
        for refused in [
            "../Cargo.toml",
            "vendor/../../README.md",
            ".gitignore",
            "README.md",
            "nope.html",
        ] {
            assert_eq!(serve_file(&dir, refused, "csp").status(), 404, "{refused}");
        }
    }

    #[test]
    fn the_tab_may_be_framed_by_the_host_and_by_teams_and_talk_only_to_the_api_and_teams_js_cdn() {
        let csp = tab_csp(
            "http://127.0.0.1:7071",
            &["http://127.0.0.1:7073".to_owned()],
        );
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:7071 https://res.cdn.office.net;"),
            "{csp}"
        );
        assert!(
            csp.contains("frame-ancestors http://127.0.0.1:7073 https://teams.microsoft.com"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(!csp.contains('$'), "every slot is filled: {csp}");
    }
}
