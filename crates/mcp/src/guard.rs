//! Request checks that come before any JSON-RPC: `Origin` and `Host` (DNS rebinding),
//! and `Accept` negotiation.

use std::net::IpAddr;

use http::header::{ACCEPT, HOST, HeaderValue, ORIGIN};
use naftiko_plan::Fields;

use crate::McpConfig;
use crate::error::HttpError;

/// Allowed origins and hosts, from [`McpConfig`].
#[derive(Debug)]
pub(crate) struct Guard {
    any_origin: bool,
    origins: Vec<String>,
    any_host: bool,
    hosts: Vec<String>,
}

impl Guard {
    pub(crate) fn new(config: &McpConfig) -> Self {
        let lower = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().trim_end_matches('/').to_ascii_lowercase())
                .collect::<Vec<_>>()
        };
        Self {
            any_origin: config.allowed_origins.iter().any(|o| o == "*"),
            origins: lower(&config.allowed_origins),
            any_host: config.allowed_hosts.iter().any(|h| h == "*"),
            hosts: lower(&config.allowed_hosts),
        }
    }

    /// Checks `Host` and `Origin`; returns the origin to echo in CORS headers, if any.
    pub(crate) fn check(&self, headers: &Fields) -> Result<Option<HeaderValue>, HttpError> {
        if let Some(host) = headers.get(HOST) {
            let host = host.to_str().ok_or(HttpError::ForbiddenHost)?;
            if !self.host_allowed(host) {
                return Err(HttpError::ForbiddenHost);
            }
        }
        let Some(origin) = headers.get(ORIGIN) else {
            return Ok(None);
        };
        let text = origin.to_str().ok_or(HttpError::ForbiddenOrigin)?;
        if self.origin_allowed(text) {
            origin
                .header_value()
                .map(Some)
                .ok_or(HttpError::ForbiddenOrigin)
        } else {
            Err(HttpError::ForbiddenOrigin)
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        if self.any_host {
            return true;
        }
        let name = host_name(host);
        // An IP literal cannot be a rebinding attack (the page's origin would be that IP),
        // and it covers whatever address the listener is bound to.
        if is_loopback_name(name) || strip_brackets(name).parse::<IpAddr>().is_ok() {
            return true;
        }
        let host = host.to_ascii_lowercase();
        self.hosts
            .iter()
            .any(|h| *h == host || (!has_port(h) && h.as_str() == host_name(&host)))
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        if self.any_origin {
            return true;
        }
        let lower = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&lower) {
            return true;
        }
        let Some(authority) = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"))
        else {
            return false;
        };
        is_loopback_name(host_name(authority)) && !authority.contains(['/', '@'])
    }
}

/// `localhost`, `*.localhost`, `127.x.x.x`, `[::1]`.
fn is_loopback_name(name: &str) -> bool {
    const SUFFIX: &[u8] = b".localhost";
    let name = strip_brackets(name);
    // What local clients send, answered before any parsing.
    if matches!(name, "127.0.0.1" | "::1") {
        return true;
    }
    let b = name.as_bytes();
    name.eq_ignore_ascii_case("localhost")
        || b.len()
            .checked_sub(SUFFIX.len())
            .is_some_and(|at| b[at..].eq_ignore_ascii_case(SUFFIX))
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn strip_brackets(name: &str) -> &str {
    name.strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name)
}

/// The host part of `host[:port]` (`[v6]` keeps its brackets).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn has_port(host: &str) -> bool {
    host_name(host).len() != host.len()
}

/// Whether `Accept` allows `media` (`type/subtype`). A missing header allows anything;
/// `*/*` and `type/*` count. Quality values are not weighed: clients that list a type at
/// all can read it.
pub(crate) fn accepts(headers: &Fields, media: &str) -> bool {
    let mut values = headers
        .get_all(ACCEPT.as_str())
        .map(|f| f.value())
        .peekable();
    if values.peek().is_none() {
        return true;
    }
    let media = media.as_bytes();
    let major = media.split(|&c| c == b'/').next().unwrap_or(media);
    // Bytes, not `str` patterns: this runs on every request.
    values.any(|v| {
        // What MCP clients send (`application/json, text/event-stream`), matched
        // without splitting the list.
        if v.strip_prefix(media)
            .is_some_and(|rest| matches!(rest.first(), None | Some(b',' | b';' | b' ' | b'\t')))
        {
            return true;
        }
        v.split(|&c| c == b',').any(|range| {
            let range = range
                .split(|&c| c == b';')
                .next()
                .unwrap_or(b"")
                .trim_ascii();
            range.eq_ignore_ascii_case(media)
                || range == b"*/*"
                || range
                    .strip_suffix(b"/*")
                    .is_some_and(|m| m.eq_ignore_ascii_case(major))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(origins: &[&str], hosts: &[&str]) -> Guard {
        Guard::new(&McpConfig {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            ..McpConfig::default()
        })
    }

    #[test]
    fn hosts() {
        let g = guard(&[], &["mcp.internal", "Other.Example:8080"]);
        for ok in [
            "localhost",
            "localhost:9090",
            "127.0.0.1:1",
            "[::1]:9090",
            "10.1.2.3:80",
            "app.localhost",
            "mcp.internal:443",
            "other.example:8080",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:9090",
            "localhost.evil.example",
            "other.example:9090",
        ] {
            assert!(!g.host_allowed(bad), "{bad}");
        }
        assert!(guard(&[], &["*"]).host_allowed("anything.example"));
    }

    #[test]
    fn origins() {
        let g = guard(&["https://app.example"], &[]);
        for ok in [
            "http://localhost:6274",
            "http://127.0.0.1",
            "https://[::1]:3000",
            "https://app.example",
            "https://APP.example/",
        ] {
            assert!(g.origin_allowed(ok), "{ok}");
        }
        for bad in [
            "http://evil.example",
            "null",
            "http://localhost.evil.example",
            "http://10.0.0.1",
            "file://localhost",
        ] {
            assert!(!g.origin_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn accept() {
        let h = |v: &str| Fields::from_pairs([(&b"Accept"[..], v.as_bytes())]);
        assert!(accepts(&Fields::default(), "application/json"));
        assert!(accepts(
            &h("application/json, text/event-stream"),
            "application/json"
        ));
        assert!(accepts(&h("*/*"), "text/event-stream"));
        assert!(accepts(&h("application/*;q=0.5"), "application/json"));
        assert!(!accepts(&h("text/event-stream"), "application/json"));
        assert!(!accepts(&h("text/html"), "text/event-stream"));
        assert!(accepts(&h(" Application/JSON ; q=1"), "application/json"));
        assert!(accepts(&h("text/html,TEXT/*"), "text/event-stream"));
        assert!(!accepts(&h("application/jsonx, */x"), "application/json"));
        assert!(!accepts(&h("application/jsonx"), "application/json"));
        assert!(!accepts(
            &h("application/json-seq,text/html"),
            "application/json"
        ));
        assert!(accepts(
            &h("application/json;q=0.9,x/y"),
            "application/json"
        ));
        assert!(accepts(
            &h("text/html, application/json"),
            "application/json"
        ));
        // Every Accept header counts; bytes outside ASCII spoil only their own range.
        let pairs: [(&[u8], &[u8]); 2] = [
            (b"accept", b"text/html"),
            (b"ACCEPT", b"x/\xff, application/json"),
        ];
        let m = Fields::from_pairs(pairs);
        assert!(accepts(&m, "application/json"));
        assert!(!accepts(&m, "text/event-stream"));
    }

    #[test]
    fn loopback_names() {
        for yes in [
            "localhost",
            "LocalHost",
            "app.LOCALHOST",
            "127.0.0.1",
            "[::1]",
            "127.9.9.9",
        ] {
            assert!(is_loopback_name(yes), "{yes}");
        }
        for no in [
            "localhost.evil",
            "xlocalhost",
            "localhos",
            "10.0.0.1",
            "",
            "[::2]",
            "é.localhos",
        ] {
            assert!(!is_loopback_name(no), "{no}");
        }
    }
}
