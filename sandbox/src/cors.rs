//! CORS in front of the handler, as the Functions host does it for `Host.CORS` in
//! `local.settings.json` (and App Service for the site's CORS setting): the handler itself never
//! answers CORS, the platform does.
//!
//! Azure Functions Core Tools applies ASP.NET Core's CORS middleware with
//! `WithOrigins(Host.CORS).AllowAnyHeader().AllowAnyMethod()`, credentials only with
//! `CORSCredentials` (Azure/azure-functions-core-tools, `Actions/HostActions/Startup.cs`). So:
//!
//! - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here,
//!   204, never forwarded; from an allowed origin it echoes the requested method and headers,
//!   from any other origin it carries no CORS header at all, so the browser refuses;
//! - any other request goes to the handler; the answer gets `Access-Control-Allow-Origin` only
//!   when the `Origin` is allowed;
//! - no `Access-Control-Expose-Headers`: a tab on another origin can read the body and the
//!   CORS-safelisted headers, not `Retry-After` or `WWW-Authenticate`. The tab copes with that.

use std::convert::Infallible;
use std::sync::Arc;

use warp::Filter;
use warp::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::Response;

/// The exact origins allowed (`scheme://host[:port]`, no trailing slash), as in `Host.CORS`.
#[derive(Debug, Clone)]
pub struct AllowedOrigins(Arc<Vec<String>>);

impl AllowedOrigins {
    pub fn new(origins: Vec<String>) -> AllowedOrigins {
        AllowedOrigins(Arc::new(origins))
    }

    fn allowed<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let origin = headers.get(ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.0
            .iter()
            .any(|allowed| allowed == text)
            .then_some(origin)
    }
}

/// Wraps the handler's routes.
pub fn layer<F>(
    origins: AllowedOrigins,
    handler: F,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone
where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
    F::Future: Send,
{
    let for_preflight = origins.clone();
    let preflight = warp::method().and(warp::header::headers_cloned()).and_then(
        move |method: Method, headers: HeaderMap| {
            let origins = for_preflight.clone();
            async move {
                if method == Method::OPTIONS
                    && headers.contains_key(ORIGIN)
                    && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
                {
                    Ok(preflight_answer(&origins, &headers))
                } else {
                    Err(warp::reject::not_found())
                }
            }
        },
    );
    let actual = warp::header::headers_cloned().and(handler).map(
        move |headers: HeaderMap, mut response: Response| {
            if let Some(origin) = origins.allowed(&headers) {
                let answer = response.headers_mut();
                answer.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                answer.append(VARY, HeaderValue::from_static("Origin"));
            }
            response
        },
    );
    preflight.or(actual).unify()
}

fn preflight_answer(origins: &AllowedOrigins, headers: &HeaderMap) -> Response {
    use warp::Reply;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = origins.allowed(headers) {
        let answer = response.headers_mut();
        answer.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        if let Some(method) = headers.get(ACCESS_CONTROL_REQUEST_METHOD) {
            answer.insert(ACCESS_CONTROL_ALLOW_METHODS, method.clone());
        }
        if let Some(requested) = headers.get(ACCESS_CONTROL_REQUEST_HEADERS) {
            answer.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
        answer.insert(VARY, HeaderValue::from_static("Origin"));
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn handler() -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
        warp::any().map(|| {
            use warp::Reply;
            warp::reply::json(&"from the handler").into_response()
        })
    }

    fn origins() -> AllowedOrigins {
        AllowedOrigins::new(vec!["http://127.0.0.1:7072".to_owned()])
    }

    #[tokio::test]
    async fn an_allowed_origin_gets_its_preflight_and_reads_the_answer() {
        let filter = layer(origins(), handler());
        let preflight = warp::test::request()
            .method("OPTIONS")
            .path("/api/meetings")
            .header("origin", "http://127.0.0.1:7072")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .reply(&filter)
            .await;
        assert_eq!(preflight.status(), 204);
        assert!(
            preflight.body().is_empty(),
            "answered here, not by the handler"
        );
        let headers = preflight.headers();
        assert_eq!(
            headers["access-control-allow-origin"],
            "http://127.0.0.1:7072"
        );
        assert_eq!(headers["access-control-allow-methods"], "POST");
        assert_eq!(
            headers["access-control-allow-headers"],
            "authorization,content-type"
        );

        let answer = warp::test::request()
            .method("POST")
            .path("/api/meetings")
            .header("origin", "http://127.0.0.1:7072")
            .reply(&filter)
            .await;
        assert_eq!(
            answer.headers()["access-control-allow-origin"],
            "http://127.0.0.1:7072"
        );
        assert!(
            answer
                .headers()
                .get("access-control-expose-headers")
                .is_none()
        );
    }

    #[tokio::test]
    async fn any_other_origin_gets_no_cors_headers() {
        let filter = layer(origins(), handler());
        let preflight = warp::test::request()
            .method("OPTIONS")
            .path("/api/meetings")
            .header("origin", "http://localhost:7072")
            .header("access-control-request-method", "POST")
            .reply(&filter)
            .await;
        assert_eq!(preflight.status(), 204);
        assert!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );

        let answer = warp::test::request()
            .path("/api/health")
            .header("origin", "http://localhost:7072")
            .reply(&filter)
            .await;
        assert_eq!(answer.body().as_ref(), b"\"from the handler\"");
        assert!(
            answer
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_plain_options_request_without_preflight_headers_reaches_the_handler() {
        let filter = layer(origins(), handler());
        let answer = warp::test::request()
            .method("OPTIONS")
            .path("/api/meetings")
            .reply(&filter)
            .await;
        assert_eq!(answer.body().as_ref(), b"\"from the handler\"");
    }
}
