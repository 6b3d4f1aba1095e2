//! The exporter's HTTP client: the handler's own reqwest stack, plus an Entra bearer token
//! from the managed identity when the resource refuses local (instrumentation key) auth.
//!
//! `opentelemetry-application-insights` has no Entra support of its own; its `HttpClient` trait
//! is the documented place to bring one. The SDK's batch thread drives uploads with a plain
//! executor, so each upload is spawned onto the Tokio runtime the handler already runs, where
//! reqwest and the Azure SDK's credential work, and the thread only waits for its answer.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError};
use secrecy::ExposeSecret;

use crate::error::error_chain;
use crate::secrets::Secrets;

/// The token scope Application Insights ingestion accepts (Azure Monitor's documented audience;
/// the double slash is what its SDKs send).
pub const INGESTION_SCOPE: &str = "https://monitor.azure.com//.default";

/// An upload that takes longer is abandoned; the exporter retries it within its own budget.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Ingestion answers are small JSON documents; nothing larger is read.
const MAX_ANSWER: usize = 64 * 1024;

#[derive(Clone)]
pub struct IngestionClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
    with_identity: bool,
    identity: Arc<OnceLock<Arc<Secrets>>>,
}

impl std::fmt::Debug for IngestionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestionClient")
            .field("with_identity", &self.with_identity)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
enum UploadError {
    #[error("the managed identity is not ready yet")]
    IdentityNotReady,
    #[error("no ingestion token: {0}")]
    Token(String),
    #[error("ingestion unreachable: {0}")]
    Transport(String),
    #[error("ingestion answer larger than {MAX_ANSWER} bytes")]
    TooLarge,
    #[error("the upload task ended early")]
    Aborted,
}

impl IngestionClient {
    /// Must be called inside the Tokio runtime. `http` is a client of its own (uploads must not
    /// compete with requests for pooled connections), built like every outbound client: no
    /// redirects, the same trusted roots.
    pub fn new(
        http: reqwest::Client,
        with_identity: bool,
        identity: Arc<OnceLock<Arc<Secrets>>>,
    ) -> IngestionClient {
        IngestionClient {
            http,
            runtime: tokio::runtime::Handle::current(),
            with_identity,
            identity,
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for IngestionClient {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let client = self.clone();
        let upload = self.runtime.spawn(super::dependency::untraced(async move {
            client.upload(request).await
        }));
        let result = upload.await.unwrap_or(Err(UploadError::Aborted));
        match &result {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::debug!(
                    status = response.status().as_u16(),
                    "telemetry upload refused"
                );
            }
            Err(error) => tracing::debug!(error = %error, "telemetry upload failed"),
        }
        result.map_err(|e| Box::new(e) as HttpError)
    }
}

impl IngestionClient {
    async fn upload(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, UploadError> {
        let (parts, body) = request.into_parts();
        let mut builder = self
            .http
            .request(parts.method, parts.uri.to_string())
            .timeout(UPLOAD_TIMEOUT)
            .headers(parts.headers)
            .body(body);
        if self.with_identity {
            let secrets = self.identity.get().ok_or(UploadError::IdentityNotReady)?;
            let token = secrets
                .identity_token(INGESTION_SCOPE)
                .await
                .map_err(|e| UploadError::Token(e.to_string()))?;
            builder = builder.bearer_auth(token.expose_secret());
        }
        // The error's text names the host at most; reqwest never prints headers.
        let mut response = builder
            .send()
            .await
            .map_err(|e| UploadError::Transport(error_chain(&e.without_url())))?;
        let mut answer = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| UploadError::Transport(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(UploadError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        answer
            .body(body.freeze())
            .map_err(|e| UploadError::Transport(e.to_string()))
    }
}
