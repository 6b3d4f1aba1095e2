//! Starting the sandbox binary as a person would, for the sandbox's test files.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running sandbox and the JSON line it printed (`--tokens-json`); killed when dropped.
pub struct Sandbox {
    pub child: Child,
    pub info: Value,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo run -p sandbox -- ARGS…` with its stdout piped, and nothing from the developer's shell
/// that could point the emulation elsewhere.
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .args(args)
        .env_clear()
        // The sandbox runs `node` to build the tab.
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `cargo run -p sandbox -- --port 0 --tokens-json EXTRA…`, read up to its JSON line.
pub fn start(extra: &[&str]) -> Sandbox {
    let mut child = spawn(&[&["--port", "0", "--tokens-json"], extra].concat());
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    Sandbox { child, info }
}

/// Reads a JSON answer of an anonymous GET (the sandbox's own pages and state).
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Starts `cargo run -p sandbox -- --port 0` as a person would (the banner, not the JSON
/// line), reads its banner until `enough` says so, and stops it.
pub fn banner_until(enough: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut child = spawn(&["--port", "0"]);
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut line = String::new();
    while !enough(&lines) && reader.read_line(&mut line).unwrap() > 0 {
        lines.push(std::mem::take(&mut line));
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}
