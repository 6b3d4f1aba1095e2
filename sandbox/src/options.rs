//! Command-line flags.

pub struct Options {
    pub port: u16,
    pub tokens_json: bool,
    pub token_hours: i64,
    /// More origins the tab is served from (e.g. through an https proxy): allowed by CORS and
    /// registered as consent redirect URIs, like a deployment's tab origin.
    pub tab_origins: Vec<String>,
    /// The API's address as the tab should call it, when a proxy puts it elsewhere (e.g. https).
    pub api_url: Option<String>,
}

const USAGE: &str = "usage: sandbox [--port N] [--tokens-json] [--token-hours N] [--tab-origin URL]... [--api-url URL]
  --port N         port of the handler on 127.0.0.1 (default 7071; 0 picks free ports); the tab
                   and the emulated Teams host page take N+1 and N+2
  --tab-origin URL another origin the tab is served from (e.g. https://tab.example through a
                   proxy): allowed by CORS and as consent redirect, like Host.CORS
  --api-url URL    the API's address as the tab calls it, when a proxy serves it elsewhere
                   (written into the tab's config.json and Content-Security-Policy)
  --tokens-json    print one JSON line (url, tokens, ids) for scripts instead of the banner
  --token-hours N  lifetime of the printed SSO tokens in hours (default 8, at most 24)";

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            port: 7071,
            tokens_json: false,
            token_hours: 8,
            tab_origins: Vec::new(),
            api_url: None,
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
                "--api-url" => {
                    let url = args.next().filter(|u| is_origin(u)).ok_or(format!(
                        "--api-url needs an origin such as https://api.example\n{USAGE}"
                    ))?;
                    options.api_url = Some(url);
                }
                "--tab-origin" => {
                    let origin = args
                        .next()
                        .filter(|o| is_origin(o))
                        .ok_or(format!("--tab-origin needs an origin such as https://tab.example (scheme, host, optional port; no path)\n{USAGE}"))?;
                    options.tab_origins.push(origin);
                }
                "--help" | "-h" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

/// `http(s)://host[:port]`, nothing after it.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn tab_origins_are_origins_only() {
        let options = parse(&[
            "--tab-origin",
            "https://tab.sandbox.test",
            "--tab-origin",
            "http://localhost:9",
        ]);
        assert_eq!(
            options.map(|o| o.tab_origins).unwrap_or_default(),
            ["https://tab.sandbox.test", "http://localhost:9"]
        );
        for bad in [
            "https://tab.example/",
            "tab.example",
            "https://",
            "javascript:alert(1)",
        ] {
            assert!(parse(&["--tab-origin", bad]).is_err(), "{bad}");
        }
    }
}
