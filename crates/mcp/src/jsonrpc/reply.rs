//! JSON-RPC error objects and the writers of whole responses (results and errors),
//! which write straight into the output instead of serialising a response struct.

use std::borrow::Cow;

use serde_json::Value;

use super::Version;

/// Maps a serde failure to -32700 (not JSON) or -32600 (JSON of the wrong shape).
pub(crate) fn from_serde(e: &serde_json::Error) -> RpcError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            RpcError::parse("Parse error: the body is not valid JSON")
        }
        Category::Data => RpcError::invalid_request("Invalid Request: not a JSON-RPC message"),
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone)]
pub(crate) struct RpcError {
    pub(crate) code: i32,
    pub(crate) message: Cow<'static, str>,
    pub(crate) data: Option<Value>,
}

pub(crate) const PARSE_ERROR: i32 = -32700;
pub(crate) const INVALID_REQUEST: i32 = -32600;
pub(crate) const METHOD_NOT_FOUND: i32 = -32601;
pub(crate) const INVALID_PARAMS: i32 = -32602;
pub(crate) const INTERNAL_ERROR: i32 = -32603;
/// 2026-07-28: a mirrored header disagrees with the body.
pub(crate) const HEADER_MISMATCH: i32 = -32020;
/// 2026-07-28: the requested protocol version is not supported.
pub(crate) const UNSUPPORTED_VERSION: i32 = -32022;
/// Implementation-defined transport refusals (session, origin, accept), as the SDKs do.
pub(crate) const SERVER_ERROR: i32 = -32000;
/// Implementation-defined: the session id is unknown or expired.
pub(crate) const SESSION_NOT_FOUND: i32 = -32001;

impl RpcError {
    pub(crate) fn new(code: i32, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }
    pub(crate) fn parse(message: &'static str) -> Self {
        Self::new(PARSE_ERROR, message)
    }
    pub(crate) fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(INVALID_REQUEST, message)
    }
    pub(crate) fn invalid_params(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }
    pub(crate) fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }
    pub(crate) fn unsupported_version(requested: &str) -> Self {
        let supported: Vec<&str> = Version::ALL.iter().map(|v| v.as_str()).collect();
        let mut e = Self::new(
            UNSUPPORTED_VERSION,
            format!("Unsupported protocol version: {requested}"),
        );
        e.data = Some(serde_json::json!({ "supported": supported, "requested": requested }));
        e
    }
}

/// Appends `{"jsonrpc":"2.0","id":ID,"result":RESULT}`; `result` is already JSON.
pub(crate) fn write_result(out: &mut String, id: &str, result: &str) {
    write_result_head(out, id);
    out.push_str(result);
    out.push('}');
}

/// What a success response is written between: `HEAD.0`, the id, `HEAD.1`, the result,
/// and a closing `}`.
pub(crate) const RESULT_HEAD: (&str, &str) = ("{\"jsonrpc\":\"2.0\",\"id\":", ",\"result\":");

/// Appends a success response up to its result, which the caller writes and follows
/// with the closing `}`.
pub(crate) fn write_result_head(out: &mut String, id: &str) {
    out.push_str(RESULT_HEAD.0);
    out.push_str(id);
    out.push_str(RESULT_HEAD.1);
}

/// Appends an error response; without a usable id the id is `null`.
pub(crate) fn write_error(out: &mut String, id: Option<&str>, e: &RpcError) {
    out.push_str("{\"jsonrpc\":\"2.0\",\"id\":");
    out.push_str(id.unwrap_or("null"));
    out.push_str(",\"error\":{\"code\":");
    out.push_str(&e.code.to_string());
    out.push_str(",\"message\":");
    push_str_json(out, &e.message);
    if let Some(data) = &e.data {
        out.push_str(",\"data\":");
        out.push_str(&to_json(data));
    }
    out.push_str("}}");
}

/// An error response as a new string.
pub(crate) fn error_response(id: Option<&str>, e: &RpcError) -> String {
    let mut out = String::with_capacity(96 + e.message.len());
    write_error(&mut out, id, e);
    out
}

/// Appends `s` as a JSON string literal to bytes.
pub(crate) fn write_str_json(buf: &mut Vec<u8>, s: &str) {
    // What each byte needs: 0 = copy, `u` = \u00XX, else the letter after a backslash.
    const ESC: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 0x20 {
            t[i] = b'u';
            i += 1;
        }
        t[b'"' as usize] = b'"';
        t[b'\\' as usize] = b'\\';
        t[b'\n' as usize] = b'n';
        t[b'\r' as usize] = b'r';
        t[b'\t' as usize] = b't';
        t
    };
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Byte by byte into a byte buffer: JSON text is mostly short strings, where copying
    // runs between quotes costs a call per quote; this is one predictable loop.
    buf.reserve(s.len() + s.len() / 4 + 2);
    buf.push(b'"');
    for &c in s.as_bytes() {
        match ESC[c as usize] {
            0 => buf.push(c),
            b'u' => buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 0xf) as usize],
            ]),
            e => buf.extend_from_slice(&[b'\\', e]),
        }
    }
    buf.push(b'"');
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_str_json(out: &mut String, s: &str) {
    let mut buf = Vec::new();
    write_str_json(&mut buf, s);
    // Only ASCII bytes were inserted, next to whole UTF-8 sequences copied as they were.
    match String::from_utf8(buf) {
        Ok(escaped) => out.push_str(&escaped),
        Err(_) => out.push_str("\"\""),
    }
}

/// Serialises a value; serialising a `Value` or a plain struct of strings cannot fail
/// (serde_json only fails on non-string map keys), so the fallback is never used.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}
