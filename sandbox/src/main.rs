//! `cargo run -p sandbox`: the real handler, configured through its normal settings, against
//! an in-process emulation of the Microsoft cloud on loopback: Entra ID (metadata, signing keys,
//! token endpoint), Microsoft Graph over a seeded two-tenant directory, Azure Communication
//! Services, Key Vault and the managed-identity endpoint.
//!
//! It also serves the Teams tab (`tab/`) and an emulated Teams host page that frames it and
//! answers TeamsJS for a persona picked on the page; the tab is on its own origin, so the API
//! answers CORS as the Functions host does. Beside the API, `/docs/` renders its OpenAPI
//! description (`/api/openapi.json`) as a readable reference. It prints the host page's URL
//! first, then ready-to-use SSO tokens of a field worker and of an expert from another tenant,
//! and curl lines that walk through a remote-assist session. Nothing leaves the machine.
//!
//! Flags: `--port N` (default 7071, 0 for any; the tab and host page take N+1 and N+2),
//! `--tokens-json` (one JSON line for scripts instead of the banner), `--token-hours N`
//! (default 8), `--tab-origin URL` (another origin the tab is served from).

use std::process::ExitCode;

mod banner;
mod cors;
mod emulation;
mod options;
mod personas;
mod tab_build;
mod web;

fn main() -> ExitCode {
    let options = match options::Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // The managed-identity endpoint must be in the environment before any thread starts: the
    // Azure SDK reads it there, and setting it later would race with other threads.
    let identity = match emulation::IdentityEndpoint::bind_and_publish() {
        Ok(identity) => identity,
        Err(error) => {
            eprintln!("cannot start the emulated managed-identity endpoint: {error}");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(emulation::run(options, identity)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sandbox failed: {error}");
            ExitCode::from(1)
        }
    }
}
