//! Rewriting a capability for a test run: every consumes `baseUri` points at the scripted
//! upstream and every exposes `port` at a free local port. The YAML is read into an
//! order-preserving tree and written back as JSON (a subset of YAML), so keys keep their
//! order and values their types.

use std::fmt::{self, Write as _};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A YAML node, maps in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            out.push(n);
        }
        Ok(Node::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            out.push((k, v));
        }
        Ok(Node::Map(out))
    }
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m
                .iter()
                .find(|(k, _)| matches!(k, Node::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(m) => m
                .iter_mut()
                .find(|(k, _)| matches!(k, Node::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Writes the node as JSON text.
    fn emit(&self, out: &mut String, indent: usize) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Node::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            Node::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => {
                    let _ = write!(out, "{n}");
                }
                None => out.push_str("null"),
            },
            Node::Str(s) => push_json_str(out, s),
            Node::Seq(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    item.emit(out, indent + 1);
                }
                newline(out, indent);
                out.push(']');
            }
            Node::Map(entries) => {
                if entries.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent + 1);
                    push_json_str(out, &key_text(k));
                    out.push_str(": ");
                    v.emit(out, indent + 1);
                }
                newline(out, indent);
                out.push('}');
            }
        }
    }
}

fn key_text(k: &Node) -> String {
    match k {
        Node::Str(s) => s.clone(),
        Node::Null => "null".into(),
        other => {
            let mut s = String::new();
            other.emit(&mut s, 0);
            s
        }
    }
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json never fails on a &str.
    out.push_str(&serde_json::Value::String(s.to_owned()).to_string());
}

/// A server adapter found in `exposes`, after rewriting.
#[derive(Debug, Clone)]
pub(crate) struct Exposed {
    /// `rest`, `mcp`, `control`, `skill`, …
    pub(crate) kind: String,
    /// The adapter namespace (may be empty).
    pub(crate) namespace: String,
    /// The port the runtime should listen on (`None`: no port, e.g. MCP over stdio).
    pub(crate) port: Option<u16>,
    /// Host to connect to.
    pub(crate) host: String,
    /// MCP over stdio.
    pub(crate) stdio: bool,
}

/// The result of rewriting one capability text.
#[derive(Debug, Clone)]
pub(crate) struct Rewritten {
    /// The text to write (JSON-as-YAML, or the original when it could not be parsed).
    pub(crate) text: String,
    /// Server adapters, in declaration order (empty when the text could not be parsed).
    pub(crate) exposes: Vec<Exposed>,
    /// Whether the text was parsed and rewritten.
    pub(crate) parsed: bool,
}

/// Replaces the scheme and authority of `base_uri` by `upstream` (keeping its path, and a
/// trailing slash); an empty or non-URL value becomes `upstream`.
pub(crate) fn rewrite_base_uri(base_uri: &str, upstream: &str) -> String {
    if let Some(scheme_end) = base_uri.find("://") {
        let scheme = &base_uri[..scheme_end];
        let valid_scheme = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid_scheme {
            let rest = &base_uri[scheme_end + 3..];
            let path_at = rest.find('/').unwrap_or(rest.len());
            return format!("{upstream}{}", &rest[path_at..]);
        }
    }
    upstream.to_owned()
}

/// Rewrites a capability (or a shared consumes file): base URIs → `upstream` (unless
/// `None`), ports → successive values of `ports`.
pub(crate) fn rewrite(
    text: &str,
    upstream: Option<&str>,
    ports: &mut dyn FnMut() -> u16,
) -> Rewritten {
    let Ok(mut root) = serde_saphyr::from_str::<Node>(text) else {
        return Rewritten {
            text: text.to_owned(),
            exposes: Vec::new(),
            parsed: false,
        };
    };
    if !matches!(root, Node::Map(_)) {
        return Rewritten {
            text: text.to_owned(),
            exposes: Vec::new(),
            parsed: false,
        };
    }
    if let Some(up) = upstream {
        if let Some(Node::Seq(list)) = root.get_mut("consumes") {
            rewrite_consumes(list, up);
        }
        if let Some(Node::Seq(list)) = root
            .get_mut("capability")
            .and_then(|c| c.get_mut("consumes"))
        {
            rewrite_consumes(list, up);
        }
    }
    let mut exposes = Vec::new();
    if let Some(Node::Seq(list)) = root
        .get_mut("capability")
        .and_then(|c| c.get_mut("exposes"))
    {
        for entry in list.iter_mut() {
            let kind = entry
                .get("type")
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_owned();
            let namespace = entry
                .get("namespace")
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_owned();
            let stdio =
                kind == "mcp" && entry.get("transport").and_then(Node::as_str) == Some("stdio");
            let host = match entry.get("address").and_then(Node::as_str) {
                Some(a)
                    if a.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| !ip.is_unspecified()) =>
                {
                    if a.contains(':') {
                        format!("[{a}]")
                    } else {
                        a.to_owned()
                    }
                }
                _ => "127.0.0.1".to_owned(),
            };
            let port = match entry.get_mut("port") {
                Some(p) if !stdio => {
                    let new = ports();
                    *p = Node::UInt(u64::from(new));
                    Some(new)
                }
                _ => None,
            };
            exposes.push(Exposed {
                kind,
                namespace,
                port,
                host,
                stdio,
            });
        }
    }
    let mut out = String::new();
    root.emit(&mut out, 0);
    out.push('\n');
    Rewritten {
        text: out,
        exposes,
        parsed: true,
    }
}

fn rewrite_consumes(list: &mut [Node], upstream: &str) {
    for entry in list.iter_mut() {
        if entry.get("location").is_some() && entry.get("baseUri").is_none() {
            continue; // an import: its source file is rewritten on its own
        }
        if let Some(b) = entry.get_mut("baseUri") {
            let old = b.as_str().unwrap_or("").to_owned();
            *b = Node::Str(rewrite_base_uri(&old, upstream));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_uri_keeps_path_and_trailing_slash() {
        let up = "http://127.0.0.1:9";
        assert_eq!(rewrite_base_uri("", up), up);
        assert_eq!(rewrite_base_uri("https://api.x.com", up), up);
        assert_eq!(
            rewrite_base_uri("https://api.x.com/v1/", up),
            "http://127.0.0.1:9/v1/"
        );
        assert_eq!(rewrite_base_uri("{{BASE}}", up), up);
    }

    #[test]
    fn rewrites_ports_and_base_uris_in_order() {
        let text = "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n  - type: http\n    namespace: a\n    baseUri: https://x.io/v2\n  exposes:\n  - type: rest\n    port: 8080\n    namespace: r\n  - {type: mcp, port: 9090, namespace: m}\n  - {type: mcp, transport: stdio, namespace: s}\n";
        let mut next = 40000;
        let r = rewrite(text, Some("http://127.0.0.1:1"), &mut || {
            next += 1;
            next
        });
        assert!(r.parsed);
        assert_eq!(r.exposes.len(), 3);
        assert_eq!(r.exposes[0].port, Some(40001));
        assert_eq!(r.exposes[1].port, Some(40002));
        assert!(r.exposes[2].stdio);
        let v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(
            v["capability"]["consumes"][0]["baseUri"],
            "http://127.0.0.1:1/v2"
        );
        assert_eq!(v["capability"]["exposes"][1]["port"], 40002);
        let keys: Vec<&str> = r.text.lines().filter(|l| l.starts_with("  \"")).collect();
        assert_eq!(
            keys,
            vec!["  \"naftiko\": \"1.0.0-alpha2\",", "  \"capability\": {"]
        );
    }

    #[test]
    fn unparsable_text_is_kept() {
        let r = rewrite("a: [", Some("http://x"), &mut || 1);
        assert!(!r.parsed);
        assert_eq!(r.text, "a: [");
    }
}
