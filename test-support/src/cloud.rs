//! The emulated cloud the handler talks to, started one way for every user of the fakes: the
//! API tests, the Key Vault harness, the host contract test, the load target and the sandbox.

use crate::acs::FakeAcs;
use crate::entra::FakeEntra;
use crate::graph::FakeGraph;
use crate::managed_identity::IssuedTokens;

/// Entra with the app registered, and Graph and ACS accepting the tokens its token endpoint
/// issues on behalf of users.
#[derive(Debug)]
pub struct Cloud {
    pub entra: FakeEntra,
    pub graph: FakeGraph,
    pub acs: FakeAcs,
}

impl Cloud {
    /// Everything on random loopback ports; the app `client_id` authenticates with
    /// `client_secret`.
    pub async fn start(client_id: &str, client_secret: &str) -> std::io::Result<Cloud> {
        Cloud::around(FakeEntra::start().await?, client_id, client_secret).await
    }

    /// The same around an authority started by the caller (over https, on a fixed port, or
    /// already taken down).
    pub async fn around(
        entra: FakeEntra,
        client_id: &str,
        client_secret: &str,
    ) -> std::io::Result<Cloud> {
        let tokens = entra.token_endpoint();
        tokens.register_client(client_id, &[client_secret]);
        let graph = FakeGraph::start(tokens.grants()).await?;
        let acs = FakeAcs::start(tokens.grants()).await?;
        Ok(Cloud { entra, graph, acs })
    }

    /// Lets the app use its managed identity: as the federated credential at the token endpoint,
    /// and instead of an access key at ACS.
    pub fn trust_managed_identity(&self, identity: IssuedTokens) {
        self.entra
            .token_endpoint()
            .trust_federated_identity(identity.clone());
        self.acs.trust_managed_identity(identity);
    }
}
