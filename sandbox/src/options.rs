//! Command-line flags.

pub struct Options {
    pub port: u16,
    pub tokens_json: bool,
    pub token_hours: i64,
}

const USAGE: &str = "usage: sandbox [--port N] [--tokens-json] [--token-hours N]
  --port N         port of the handler on 127.0.0.1 (default 7071; 0 picks a free one)
  --tokens-json    print one JSON line (url, tokens, ids) for scripts instead of the banner
  --token-hours N  lifetime of the printed SSO tokens in hours (default 8, at most 24)";

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            port: 7071,
            tokens_json: false,
            token_hours: 8,
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--port" => {
                    options.port = args
                        .next()
                        .and_then(|p| p.parse().ok())
                        .ok_or(format!("--port needs a port number\n{USAGE}"))?;
                }
                "--token-hours" => {
                    options.token_hours = args
                        .next()
                        .and_then(|h| h.parse().ok())
                        .filter(|h| (1..=24).contains(h))
                        .ok_or(format!("--token-hours needs 1 to 24\n{USAGE}"))?;
                }
                "--tokens-json" => options.tokens_json = true,
                "--help" | "-h" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        Ok(options)
    }
}
