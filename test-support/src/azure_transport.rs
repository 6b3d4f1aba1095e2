//! An Azure SDK transport that sends requests for `*.vault.azure.net` to a local fake.
//!
//! The SDK insists on https for authorized requests and checks that the vault's challenge
//! matches the vault's host, so the handler is configured with a real-looking vault URL and only
//! the connection is redirected, after all of the SDK's own checks have run.

use std::net::SocketAddr;
use std::sync::Arc;

use azure_core::http::{AsyncRawResponse, HttpClient, Request, Transport};

#[derive(Debug)]
pub struct VaultRedirect {
    vault: SocketAddr,
    http: reqwest::Client,
}

impl VaultRedirect {
    /// A transport that sends vault traffic to `vault` and everything else where it was going.
    pub fn transport(vault: SocketAddr) -> Transport {
        Transport::new(Arc::new(VaultRedirect {
            vault,
            http: reqwest::Client::new(),
        }))
    }
}

#[async_trait::async_trait]
impl HttpClient for VaultRedirect {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut request = request.clone();
        let is_vault = request
            .url()
            .host_str()
            .is_some_and(|host| host.ends_with(".vault.azure.net"));
        if is_vault {
            let url = request.url_mut();
            let _ = url.set_scheme("http");
            let _ = url.set_host(Some(&self.vault.ip().to_string()));
            let _ = url.set_port(Some(self.vault.port()));
        }
        self.http.execute_request(&request).await
    }
}
