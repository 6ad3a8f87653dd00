//! JSON-RPC 2.0 framing: protocol versions and a borrowed message parser (ids and params
//! stay raw text, and one pass locates the members of a request down to its arguments);
//! error objects and response writers, which write straight into the output, are in
//! [`reply`].

use std::borrow::Cow;

use naftiko_plan::jsontext::{self, Listing, Member};

mod reply;

pub(crate) use reply::*;

/// An MCP protocol revision this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Version {
    V2024_11_05,
    V2025_03_26,
    V2025_06_18,
    V2025_11_25,
    /// Stateless revision: no `initialize`, per-request `_meta`, `server/discover`.
    V2026_07_28,
}

impl Version {
    /// What `initialize` counter-offers when the client's version is unknown.
    pub(crate) const LATEST_HANDSHAKE: Self = Self::V2025_11_25;
    /// Every revision, newest first (`server/discover`'s `supportedVersions`).
    pub(crate) const ALL: [Self; 5] = [
        Self::V2026_07_28,
        Self::V2025_11_25,
        Self::V2025_06_18,
        Self::V2025_03_26,
        Self::V2024_11_05,
    ];

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::parse_bytes(s.as_bytes())
    }

    /// [`Version::parse`] of a header value's bytes (read on every request: one match,
    /// no text conversion).
    pub(crate) fn parse_bytes(s: &[u8]) -> Option<Self> {
        Some(match s {
            b"2024-11-05" => Self::V2024_11_05,
            b"2025-03-26" => Self::V2025_03_26,
            b"2025-06-18" => Self::V2025_06_18,
            b"2025-11-25" => Self::V2025_11_25,
            b"2026-07-28" => Self::V2026_07_28,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// 2025-03-26 made receiving batches a MUST; 2025-06-18 removed them.
    pub(crate) fn allows_batches(self) -> bool {
        self <= Self::V2025_03_26
    }

    /// Whether this revision negotiates with `initialize` (the 2026 one does not).
    pub(crate) fn has_handshake(self) -> bool {
        self < Self::V2026_07_28
    }
}

/// One JSON-RPC message as sent, fields borrowed from the request bytes. Ids and params
/// stay JSON text (`"null"` for an explicit null: `"id": null` is not the same as no id).
#[derive(Debug)]
pub(crate) struct Message<'a> {
    jsonrpc: Option<Cow<'a, str>>,
    id: Option<&'a str>,
    method: Option<Cow<'a, str>>,
    /// Index of the `params` member in `members`.
    params: Option<usize>,
    result: Option<&'a str>,
    error: Option<&'a str>,
    /// The members read (see [`read_for`]), located by the one pass that checked the text.
    members: Vec<Member<'a>>,
}

/// A request's `params`: its JSON text, and the members located in it by the message's pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params<'m> {
    member: &'m Member<'m>,
    all: &'m [Member<'m>],
}

impl<'m> Params<'m> {
    /// The JSON text.
    pub(crate) fn get(&self) -> &'m str {
        self.member.value
    }

    /// Its members, when it is an object (keys in document order).
    pub(crate) fn members(&self) -> impl Iterator<Item = &'m Member<'m>> + use<'m> {
        self.member.children(self.all)
    }

    /// The members of one of its members' value, when that is an object.
    pub(crate) fn members_of(
        &self,
        m: &Member<'m>,
    ) -> impl Iterator<Item = &'m Member<'m>> + use<'m> {
        m.children(self.all)
    }
}

/// What a well-formed message is.
#[derive(Debug)]
pub(crate) enum Kind<'m> {
    Request {
        id: &'m str,
        method: &'m str,
        params: Option<Params<'m>>,
    },
    Notification {
        method: &'m str,
        params: Option<Params<'m>>,
    },
    /// A response to a request we never send; accepted and ignored.
    Response,
}

/// A JSON string member's text, or `None` for `null`; `Err` for any other JSON type.
pub(crate) fn string_or_null(value: &str) -> Result<Option<Cow<'_, str>>, ()> {
    if value == "null" {
        return Ok(None);
    }
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .ok_or(())?;
    if !inner.contains('\\') {
        return Ok(Some(Cow::Borrowed(inner)));
    }
    serde_json::from_str::<String>(value)
        .map(|s| Some(Cow::Owned(s)))
        .map_err(|_| ())
}

/// The members a message is read for: the envelope's, those of `params` that requests
/// here look at, the tool arguments and the `_meta` protocol version. Nothing else is
/// listed, so junk members cost no memory.
fn read_for(depth: u32, parent: Option<&str>, key: &str) -> Listing {
    match (depth, parent, key) {
        (1, _, "params") | (2, Some("params"), "arguments" | "_meta") => Listing::Members,
        (1, _, "jsonrpc" | "id" | "method" | "result" | "error")
        | (2, Some("params"), "name")
        | (3, Some("arguments"), _)
        | (3, Some("_meta"), "io.modelcontextprotocol/protocolVersion") => Listing::Member,
        _ => Listing::Skip,
    }
}

impl<'a> Message<'a> {
    /// Parses one message; the error tells a syntax error (-32700) from a wrong shape (-32600).
    ///
    /// One validating pass over the text locates every member down to the tool arguments'
    /// own, so nothing of a request is scanned twice. The rules are serde's for the
    /// struct this was: unknown members are ignored, a known one twice or of the wrong
    /// type makes the message invalid, `null` is as good as absent for strings.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, RpcError> {
        let not_json = || RpcError::parse("Parse error: the body is not valid JSON");
        let text = std::str::from_utf8(bytes).map_err(|_| not_json())?;
        let members = jsontext::members(text, &read_for).ok_or_else(not_json)?;
        let wrong = || RpcError::invalid_request("Invalid Request: not a JSON-RPC message");
        if !text
            .trim_start_matches([' ', '\n', '\r', '\t'])
            .starts_with('{')
        {
            return Err(wrong());
        }
        let mut msg = Message {
            jsonrpc: None,
            id: None,
            method: None,
            params: None,
            result: None,
            error: None,
            members: Vec::new(),
        };
        let mut seen = [false; 6];
        for (k, m) in members.iter().enumerate().filter(|(_, m)| m.depth == 1) {
            let slot = match m.key().as_ref() {
                "jsonrpc" => 0,
                "id" => 1,
                "method" => 2,
                "params" => 3,
                "result" => 4,
                "error" => 5,
                _ => continue,
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(wrong());
            }
            match slot {
                0 => msg.jsonrpc = string_or_null(m.value).map_err(|()| wrong())?,
                1 => msg.id = Some(m.value),
                2 => msg.method = string_or_null(m.value).map_err(|()| wrong())?,
                3 => msg.params = Some(k),
                4 => msg.result = Some(m.value),
                _ => msg.error = Some(m.value),
            }
        }
        msg.members = members;
        Ok(msg)
    }

    /// The id, when it is usable for an error answer (a string or a number).
    pub(crate) fn id(&self) -> Option<&'a str> {
        self.id.filter(|id| valid_id(id))
    }

    /// Checks the envelope.
    pub(crate) fn kind(&self) -> Result<Kind<'_>, RpcError> {
        if self.jsonrpc.as_deref() != Some("2.0") {
            return Err(RpcError::invalid_request(
                "Invalid Request: jsonrpc must be \"2.0\"",
            ));
        }
        let params = self
            .params
            .and_then(|k| self.members.get(k))
            .filter(|p| p.value != "null")
            .map(|member| Params {
                member,
                all: &self.members,
            });
        match (&self.method, self.id) {
            (Some(method), Some(id)) if valid_id(id) => Ok(Kind::Request { id, method, params }),
            (Some(_), Some(_)) => Err(RpcError::invalid_request(
                "Invalid Request: id must be a string or a number",
            )),
            (Some(method), None) => Ok(Kind::Notification { method, params }),
            (None, Some(_)) if self.result.is_some() || self.error.is_some() => Ok(Kind::Response),
            (None, _) => Err(RpcError::invalid_request("Invalid Request: missing method")),
        }
    }
}

fn valid_id(id: &str) -> bool {
    matches!(id.as_bytes().first(), Some(b'"' | b'-' | b'0'..=b'9'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_they_are_written() {
        for v in Version::ALL {
            assert_eq!(Version::parse(v.as_str()), Some(v));
        }
        for bad in ["", "2025-11-2", "2025-11-25 ", "2099-01-01", "latest"] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn escapes_like_serde() {
        for s in ["plain", "q\"b\\s", "nl\nt\tc\u{1}é€😀", ""] {
            let mut out = String::new();
            push_str_json(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn classifies() {
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#).unwrap();
        assert!(matches!(
            m.kind().unwrap(),
            Kind::Request { method: "ping", .. }
        ));
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).unwrap();
        assert_eq!(m.kind().unwrap_err().code, INVALID_REQUEST);
        let m = Message::parse(
            br#"{"jsonrpc":"2.0","method":"notifications/initialized","params":null}"#,
        )
        .unwrap();
        assert!(matches!(
            m.kind().unwrap(),
            Kind::Notification { params: None, .. }
        ));
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":"x","result":{}}"#).unwrap();
        assert!(matches!(m.kind().unwrap(), Kind::Response));
        let m = Message::parse(br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#).unwrap();
        assert_eq!(m.kind().unwrap_err().code, INVALID_REQUEST);
        assert_eq!(Message::parse(b"{").unwrap_err().code, PARSE_ERROR);
        assert_eq!(
            Message::parse(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}")
                .unwrap_err()
                .code,
            PARSE_ERROR
        );
        assert_eq!(
            Message::parse(br#"{"method":5}"#).unwrap_err().code,
            INVALID_REQUEST
        );
    }

    #[test]
    fn reads_members_as_serde_read_the_struct() {
        let invalid = |body: &str| {
            Message::parse(body.as_bytes())
                .map(|_| ())
                .unwrap_err()
                .code
        };
        // A known member twice, or of the wrong type, or not an object at all.
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"ping"}"#,
            r#"{"jsonrpc":2,"id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":["ping"]}"#,
            "[1]",
            "\"ping\"",
            "null",
        ] {
            assert_eq!(invalid(body), INVALID_REQUEST, "{body}");
        }
        // Unknown members are ignored, escapes resolved, null strings are absent.
        let m = Message::parse(
            br#" {"x":{"y":1},"jsonrpc":"2.0","id":"a\"b","method":"tools\/call","params":{"name":"t","arguments":{"k":[1,2],"s":"v"}}} "#,
        )
        .unwrap();
        let Kind::Request { id, method, params } = m.kind().unwrap() else {
            panic!("not a request");
        };
        assert_eq!((id, method), (r#""a\"b""#, "tools/call"));
        let params = params.unwrap();
        assert_eq!(
            params.get(),
            r#"{"name":"t","arguments":{"k":[1,2],"s":"v"}}"#
        );
        let keys: Vec<String> = params.members().map(|m| m.key().into_owned()).collect();
        assert_eq!(keys, ["name", "arguments"]);
        let arguments = params.members().find(|m| m.key() == "arguments").unwrap();
        let inner: Vec<(String, &str)> = params
            .members_of(arguments)
            .map(|m| (m.key().into_owned(), m.value))
            .collect();
        assert_eq!(
            inner,
            [("k".to_owned(), "[1,2]"), ("s".to_owned(), r#""v""#)]
        );
        // Members nobody reads are checked but not listed.
        let junk = format!(
            r#"{{{}"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"other":{{"x":1}},"name":"t"}}}}"#,
            r#""pad":[1,{"a":2}],"#.repeat(10_000)
        );
        let m = Message::parse(junk.as_bytes()).unwrap();
        assert_eq!(m.members.len(), 5, "jsonrpc, id, method, params, name");
        let Kind::Request { params, .. } = m.kind().unwrap() else {
            panic!("not a request");
        };
        let keys: Vec<String> = params
            .unwrap()
            .members()
            .map(|m| m.key().into_owned())
            .collect();
        assert_eq!(keys, ["name"]);
        let m = Message::parse(br#"{"jsonrpc":"2.0","id":1,"method":null}"#).unwrap();
        assert_eq!(
            m.kind().unwrap_err().message,
            "Invalid Request: missing method"
        );
    }
}
