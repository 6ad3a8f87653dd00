//! Request context, replies, Ory-style errors and keyset-like pagination for
//! the Ory fake. Nothing here touches the store.

use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::util;

/// Default `page_size` (Ory: 250).
pub(crate) const DEFAULT_PAGE_SIZE: usize = 250;
/// Largest accepted `page_size`; bigger values are clamped.
pub(crate) const MAX_PAGE_SIZE: usize = 1000;

/// What a handler needs from the request, already decoded.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// `http://host[:port]` taken from the `Host` header.
    pub(crate) base: String,
    /// Raw request path (percent-encoded), used for `Link` headers.
    pub(crate) path: String,
    /// Decoded query pairs in order.
    pub(crate) query: Vec<(String, String)>,
    /// Raw request body.
    pub(crate) body: Bytes,
}

impl Ctx {
    /// First value of query parameter `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of (repeated) query parameter `name`.
    pub(crate) fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Optional boolean query parameter; anything but `true`/`false` is a 400.
    pub(crate) fn bool_param(&self, name: &str) -> Result<Option<bool>, OryError> {
        match self.param(name) {
            None | Some("") => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(Some(false)),
            Some(_) => Err(OryError::bad_request(format!(
                "query parameter '{name}' must be a boolean"
            ))),
        }
    }

    /// The body parsed as JSON; empty or malformed bodies are a 400.
    pub(crate) fn json_body(&self) -> Result<Value, OryError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(OryError::bad_request(
                "Unable to decode JSON payload: the request body is empty",
            ));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| OryError::bad_request(format!("Unable to decode JSON payload: {e}")))
    }

    /// The body as a JSON object; anything else is a 400.
    pub(crate) fn json_object(&self) -> Result<serde_json::Map<String, Value>, OryError> {
        match self.json_body()? {
            Value::Object(map) => Ok(map),
            _ => Err(OryError::bad_request(
                "Unable to decode JSON payload: expected a JSON object",
            )),
        }
    }
}

/// An Ory JSON API error (`{"error":{...}}`).
#[derive(Debug, Clone)]
pub(crate) struct OryError {
    pub(crate) code: StatusCode,
    pub(crate) message: &'static str,
    pub(crate) reason: String,
}

impl OryError {
    pub(crate) fn new(code: StatusCode, message: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            message,
            reason: reason.into(),
        }
    }

    pub(crate) fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "The request was malformed or contained invalid parameters",
            reason,
        )
    }

    pub(crate) fn not_found(reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Unable to locate the resource",
            reason,
        )
    }

    pub(crate) fn conflict(reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "The resource could not be created due to a conflict",
            reason,
        )
    }

    pub(crate) fn unauthorized(reason: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "The request could not be authorized",
            reason,
        )
    }

    /// The inner error object (`code`, `status`, `message`, `reason`).
    pub(crate) fn inner_json(&self) -> Value {
        json!({
            "code": self.code.as_u16(),
            "status": self.code.canonical_reason().unwrap_or(""),
            "message": self.message,
            "reason": self.reason,
        })
    }

    pub(crate) fn into_reply(self) -> Reply {
        Reply::json(self.code, json!({ "error": self.inner_json() }))
    }
}

/// A response about to be sent: status, extra headers and an optional JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    body: Option<Value>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub(crate) fn ok(body: Value) -> Self {
        Self::json(StatusCode::OK, body)
    }

    pub(crate) fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn into_response(self) -> Response {
        let mut resp = match &self.body {
            Some(v) => Response::new(Body::from(v.to_string())),
            None => Response::new(Body::empty()),
        };
        *resp.status_mut() = self.status;
        if self.body.is_some() {
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                resp.headers_mut().append(name, value);
            }
        }
        resp
    }
}

/// A parsed `page_size` / `page_token` pair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageReq {
    pub(crate) size: usize,
    /// Only items with a sequence number greater than this are returned.
    pub(crate) after: u64,
}

impl PageReq {
    /// Reads `page_size` (or deprecated `per_page`) and `page_token`.
    pub(crate) fn from_ctx(ctx: &Ctx) -> Result<Self, OryError> {
        let raw_size = ctx
            .param("page_size")
            .filter(|s| !s.is_empty())
            .or_else(|| ctx.param("per_page").filter(|s| !s.is_empty()));
        let size = match raw_size {
            None => DEFAULT_PAGE_SIZE,
            Some(s) => {
                let n: i64 = s.parse().map_err(|_| {
                    OryError::bad_request(format!("page_size must be an integer, got '{s}'"))
                })?;
                usize::try_from(n.clamp(1, MAX_PAGE_SIZE as i64)).unwrap_or(DEFAULT_PAGE_SIZE)
            }
        };
        let after = match ctx.param("page_token").filter(|s| !s.is_empty()) {
            None => 0,
            Some(token) => decode_token(token)
                .ok_or_else(|| OryError::bad_request("the page_token is invalid"))?,
        };
        Ok(Self { size, after })
    }

    /// Cuts one page out of `items` (sorted by sequence number) and builds the
    /// `Link` header value when another page follows.
    pub(crate) fn page<'a, T>(
        &self,
        ctx: &Ctx,
        items: Vec<&'a T>,
        seq: impl Fn(&T) -> u64,
    ) -> (Vec<&'a T>, Option<String>) {
        let mut rest = items.into_iter().filter(|it| seq(it) > self.after);
        let page: Vec<&T> = rest.by_ref().take(self.size).collect();
        let more = rest.next().is_some();
        let link = match (more, page.last()) {
            (true, Some(last)) => Some(self.link(ctx, &encode_token(seq(last)))),
            _ => None,
        };
        (page, link)
    }

    fn link(&self, ctx: &Ctx, next_token: &str) -> String {
        let others: String = ctx
            .query
            .iter()
            .filter(|(k, _)| {
                !matches!(k.as_str(), "page_size" | "page_token" | "per_page" | "page")
            })
            .map(|(k, v)| format!("&{}={}", util::query_encode(k), util::query_encode(v)))
            .collect();
        let base = format!("{}{}?page_size={}", ctx.base, ctx.path, self.size);
        format!(
            "<{base}{others}>; rel=\"first\",<{base}&page_token={next_token}{others}>; rel=\"next\""
        )
    }
}

fn encode_token(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

fn decode_token(token: &str) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("seq:")?
        .parse()
        .ok()
}

/// Parses a Go duration such as `1h30m` or `15m` (units ns, us, µs, ms, s, m, h).
pub(crate) fn parse_go_duration(s: &str) -> Option<std::time::Duration> {
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * factor;
    }
    std::time::Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("not a token"), None);
        assert_eq!(decode_token(""), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m").map(|d| d.as_secs()), Some(5400));
        assert_eq!(parse_go_duration("15m").map(|d| d.as_secs()), Some(900));
        assert_eq!(parse_go_duration("1.5s").map(|d| d.as_millis()), Some(1500));
        assert!(parse_go_duration("").is_none());
        assert!(parse_go_duration("10").is_none());
        assert!(parse_go_duration("h").is_none());
        assert!(parse_go_duration("1e400h").is_none());
        assert!(parse_go_duration("99999999999999999999999h").is_none());
    }
}
