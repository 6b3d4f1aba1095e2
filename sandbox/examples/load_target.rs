//! A load-test target: the release `handler` binary as its own process, configured through its
//! settings against fakes that answer at once (Entra, Graph, ACS) in this process.
//!
//! Prints one JSON line with the URLs and tokens a load tool needs:
//! `handler` (the handler's URL), `graph` (the fake Graph, to measure it alone), `ssoToken` (a
//! field worker's SSO token), `oboToken` (a Graph token of the same user, for calling the fake
//! Graph directly) and `tokensFile` (when `--distinct N` is given: N distinct valid SSO tokens,
//! one per line, of N different users).
//!
//! Run: `cargo build --release -p handler && cargo run --release -p sandbox --example load_target -- [--distinct N]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use test_support::cloud::Cloud;
use test_support::directory::{EXPERT_TENANT, FIELD_TENANT, FIELD_WORKER_OID};
use test_support::entra::FakeEntra;
use test_support::tokens::{TokenBuilder, unix_now};

const CLIENT_ID: &str = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01";
const CLIENT_SECRET: &str = "load-target-secret-Qx81";
/// How long the distinct tokens are valid, and how old their file may be before it is signed
/// again (an hour's margin for the runs that read it).
const TOKEN_LIFETIME_SECONDS: i64 = 6 * 3600;
const TOKEN_REUSE_SECONDS: u64 = 5 * 3600;

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let distinct: usize = args
        .iter()
        .position(|a| a == "--distinct")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);

    // A fixed port keeps the issuer, so a token file written by an earlier run stays valid.
    let entra_port: u16 = args
        .iter()
        .position(|a| a == "--entra-port")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(47_470);
    let entra =
        FakeEntra::start_on(std::net::TcpListener::bind(("127.0.0.1", entra_port)).unwrap())
            .await
            .unwrap();
    let Cloud { entra, graph, acs } = Cloud::around(entra, CLIENT_ID, CLIENT_SECRET)
        .await
        .unwrap();

    let binary = std::env::var("HANDLER_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/handler").to_owned()
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut handler = Command::new(&binary)
        .env_clear()
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
        .env("ENTRA_CLIENT_ID", CLIENT_ID)
        .env("ENTRA_ALLOWED_TENANTS", "*")
        .env("ENTRA_AUTHORITY_HOST", entra.authority())
        .env("ENTRA_CLIENT_SECRET", CLIENT_SECRET)
        .env("GRAPH_ENDPOINT", graph.endpoint())
        .env("ACS_CONNECTION_STRING", acs.connection_string())
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
        )
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {binary}: {e} (build it with cargo build --release -p handler)")
        });

    let sso = entra
        .token_v2(CLIENT_ID, FIELD_TENANT, FIELD_WORKER_OID)
        .sign();
    let http = reqwest::Client::new();
    // One exchange through the token endpoint, as the handler makes it, for direct Graph calls.
    let obo: serde_json::Value = http
        .post(format!(
            "{}/{FIELD_TENANT}/oauth2/v2.0/token",
            entra.authority()
        ))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("assertion", sso.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("requested_token_use", "on_behalf_of"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let tokens_file = if distinct > 0 {
        let path =
            std::env::temp_dir().join(format!("distinct-tokens-{entra_port}-{distinct}.txt"));
        // Tokens are signed for six hours; a file older than five is signed again, or a
        // benchmark would measure refusals of expired tokens.
        let fresh = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|written| {
                written
                    .elapsed()
                    .is_ok_and(|age| age < Duration::from_secs(TOKEN_REUSE_SECONDS))
            });
        if !fresh {
            // RSA signing is the slow part: one thread per core, then one file.
            let authority = entra.authority();
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
            let chunks: Vec<Vec<String>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..workers)
                    .map(|worker| {
                        let authority = authority.clone();
                        scope.spawn(move || {
                            (worker..distinct)
                                .step_by(workers)
                                .map(|i| {
                                    let tenant = if i % 2 == 0 {
                                        FIELD_TENANT
                                    } else {
                                        EXPERT_TENANT
                                    };
                                    let oid = format!("0b1d9000-0000-4000-8000-{i:012}");
                                    TokenBuilder::v2(&authority, CLIENT_ID, tenant, &oid)
                                        .claim("exp", unix_now() + TOKEN_LIFETIME_SECONDS)
                                        .sign()
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            // Back in index order: line i is user i, of tenant i % 2.
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let mut iterators: Vec<_> = chunks.into_iter().map(Vec::into_iter).collect();
            for i in 0..distinct {
                if let Some(token) = iterators[i % workers].next() {
                    writeln!(file, "{token}").unwrap();
                }
            }
        }
        Some(path.display().to_string())
    } else {
        None
    };

    println!(
        "{}",
        json!({
            "handler": format!("http://127.0.0.1:{port}"),
            "handlerPid": handler.id(),
            "graph": graph.endpoint(),
            "ssoToken": sso,
            "oboToken": obo["access_token"],
            "tokensFile": tokens_file,
        })
    );
    std::io::stdout().flush().unwrap();

    tokio::signal::ctrl_c().await.unwrap();
    let _ = handler.kill();
    let _ = handler.wait();
}
