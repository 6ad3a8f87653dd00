//! The answer of a tool's unit rendered as the whole JSON-RPC response: a
//! `CallToolResult` whose text block holds the upstream's JSON escaped and whose
//! `structuredContent` holds it as is (checked once, by the JSON scan), media as base64,
//! anything else as text. Knows nothing of how the answer was obtained.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use naftiko_plan::jsontext;
use naftiko_plan::{Answer, AnswerBody};

use crate::jsonrpc::{RESULT_HEAD, push_str_json, to_json, write_str_json};

/// `isError: true` with one text block.
pub(crate) fn tool_error(text: &str, extra: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str("{\"content\":[{\"type\":\"text\",\"text\":");
    push_str_json(&mut out, text);
    out.push_str("}],\"isError\":true");
    out.push_str(extra);
    out.push('}');
    out
}

/// Renders an answer as the whole JSON-RPC response to `id`: upstream status >= 400 is a
/// tool error carrying the upstream body; a JSON body becomes compact text (and
/// `structuredContent` when it is an object); no body is an empty, successful result.
/// Bytes, not a `String`: the upstream's text is checked once, by the JSON scan.
pub(crate) fn render_answer(answer: &Answer, extra: &str, id: &str) -> Vec<u8> {
    let failed = answer.status.as_u16() >= 400;
    let mapped;
    let (body, content_type) = match &answer.body {
        AnswerBody::Empty => (None, ""),
        AnswerBody::Json(v) => {
            mapped = to_json(v);
            (Some(mapped.as_bytes()), "application/json")
        }
        AnswerBody::Bytes {
            bytes,
            content_type,
        } => (
            Some(&bytes[..]),
            content_type
                .as_ref()
                .and_then(|c| c.to_str().ok())
                .unwrap_or(""),
        ),
    };
    // The text block (escaping at most doubles a body), `structuredContent`, the envelope.
    let size = body.map_or(0, |b| 3 * b.len() + 16);
    let mut out = Vec::with_capacity(size + id.len() + extra.len() + 128);
    out.extend_from_slice(RESULT_HEAD.0.as_bytes());
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(RESULT_HEAD.1.as_bytes());
    out.extend_from_slice(b"{\"content\":[");
    let mut structured = None;
    match body {
        None if failed => push_text(
            &mut out,
            &format!("upstream answered HTTP {}", answer.status),
        ),
        None => {}
        Some(bytes) => structured = push_body(&mut out, bytes, content_type, failed),
    }
    out.push(b']');
    if let Some(json) = structured {
        out.extend_from_slice(b",\"structuredContent\":");
        out.extend_from_slice(&json);
    }
    out.extend_from_slice(if failed {
        b",\"isError\":true"
    } else {
        b",\"isError\":false"
    });
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(b"}}");
    out
}

/// Writes the content block of an upstream body: JSON as compact text, else media or
/// text. Returns the body for `structuredContent` when it is a successful JSON object.
fn push_body<'b>(
    out: &mut Vec<u8>,
    bytes: &'b [u8],
    content_type: &str,
    failed: bool,
) -> Option<Cow<'b, [u8]>> {
    const HEAD: &[u8] = b"{\"type\":\"text\",\"text\":\"";
    let block = out.len();
    out.extend_from_slice(HEAD);
    let at = out.len();
    if let Some(found) = jsontext::escape_into(bytes, out) {
        let written = at..out.len();
        out.extend_from_slice(b"\"}");
        if failed || bytes.get(found.value.start) != Some(&b'{') {
            return None;
        }
        return if found.compact {
            bytes.get(found.value).map(Cow::Borrowed)
        } else {
            jsontext::unescape(out.get(written)?).map(Cow::Owned)
        };
    }
    out.truncate(block);
    match media_kind(content_type) {
        Some(kind) => {
            out.extend_from_slice(b"{\"type\":\"");
            out.extend_from_slice(kind.as_bytes());
            out.extend_from_slice(b"\",\"data\":");
            write_str_json(out, &STANDARD.encode(bytes));
            out.extend_from_slice(b",\"mimeType\":");
            write_str_json(out, content_type);
            out.push(b'}');
        }
        None => push_text(out, &String::from_utf8_lossy(bytes)),
    }
    None
}

fn push_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
    write_str_json(out, text);
    out.push(b'}');
}

/// Binary bodies MCP has a content type for.
fn media_kind(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.starts_with("image/") {
        Some("image")
    } else if essence.starts_with("audio/") {
        Some("audio")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue, StatusCode};
    use serde_json::{Value, json};

    use super::*;

    fn answer(status: u16, body: AnswerBody) -> Value {
        let a = Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body,
        };
        let response: Value = serde_json::from_slice(&render_answer(&a, "", "7")).unwrap();
        assert_eq!(response["jsonrpc"], "2.0");
        assert_eq!(response["id"], 7);
        response["result"].clone()
    }

    fn bytes(s: &str, ct: &'static str) -> AnswerBody {
        AnswerBody::Bytes {
            bytes: Bytes::from(s.to_owned()),
            content_type: Some(HeaderValue::from_static(ct)),
        }
    }

    #[test]
    fn renders() {
        assert_eq!(
            answer(
                200,
                bytes("{ \"a\" : [1, \"x y\\\" z\"] }", "application/json")
            ),
            json!({"content":[{"type":"text","text":"{\"a\":[1,\"x y\\\" z\"]}"}],"structuredContent":{"a":[1,"x y\" z"]},"isError":false})
        );
        assert_eq!(
            answer(200, bytes("[1, 2]", "application/json")),
            json!({"content":[{"type":"text","text":"[1,2]"}],"isError":false})
        );
        assert_eq!(
            answer(204, AnswerBody::Empty),
            json!({"content":[],"isError":false})
        );
        assert_eq!(
            answer(404, bytes("{\"error\":{}}", "application/json")),
            json!({"content":[{"type":"text","text":"{\"error\":{}}"}],"isError":true})
        );
        assert_eq!(
            answer(500, AnswerBody::Empty),
            json!({"content":[{"type":"text","text":"upstream answered HTTP 500 Internal Server Error"}],"isError":true})
        );
        assert_eq!(
            answer(200, bytes("hello\n", "text/plain")),
            json!({"content":[{"type":"text","text":"hello\n"}],"isError":false})
        );
        assert_eq!(
            answer(200, AnswerBody::Json(json!({"k":"v"}))),
            json!({"content":[{"type":"text","text":"{\"k\":\"v\"}"}],"structuredContent":{"k":"v"},"isError":false})
        );
        assert_eq!(
            answer(200, bytes("\u{89}PNG", "image/png"))["content"][0]["type"],
            "image"
        );
        // Compact JSON with a final newline is embedded from the source as it is.
        assert_eq!(
            answer(200, bytes("{\"é\":[true]}\n", "application/json")),
            json!({"content":[{"type":"text","text":"{\"é\":[true]}"}],"structuredContent":{"é":[true]},"isError":false})
        );
        // Not UTF-8, so not JSON whatever its label: text, never raw bytes in the response.
        let broken = AnswerBody::Bytes {
            bytes: Bytes::from_static(b"{\"a\":\"\xff\"}"),
            content_type: Some(HeaderValue::from_static("application/json")),
        };
        assert_eq!(
            answer(200, broken),
            json!({"content":[{"type":"text","text":"{\"a\":\"\u{fffd}\"}"}],"isError":false})
        );
    }
}
