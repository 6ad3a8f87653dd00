//! An HTTP request seen as adapter-neutral inputs.

use std::borrow::Cow;
use std::sync::OnceLock;

use bytes::Bytes;
use naftiko_plan::{ArgValue, Args, Fields, InvokeError, is_json_media_type};
use percent_encoding::percent_decode_str;
use serde_json::Value;

/// `rest.X` lookups over one request: path variable → query → header → body field.
pub(crate) struct RestArgs<'a> {
    pub(crate) path: Vec<(&'a str, Cow<'a, str>)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: &'a Fields,
    pub(crate) body: Bytes,
    parsed: OnceLock<Result<Option<Value>, String>>,
}

impl<'a> RestArgs<'a> {
    pub(crate) fn new(
        path: impl IntoIterator<Item = (&'a str, &'a str)>,
        query: Option<&str>,
        headers: &'a Fields,
        body: Bytes,
    ) -> Result<Self, InvokeError> {
        let path = path
            .into_iter()
            .map(|(k, v)| {
                // Most values have no escape: borrowed as they are, without the decoder.
                if !v.as_bytes().contains(&b'%') {
                    return Ok((k, Cow::Borrowed(v)));
                }
                percent_decode_str(v)
                    .decode_utf8()
                    .map(|v| (k, v))
                    .map_err(|_| bad_utf8(k))
            })
            .collect::<Result<_, _>>()?;
        let query = query.map(parse_query).transpose()?.unwrap_or_default();
        Ok(Self {
            path,
            query,
            headers,
            body,
            parsed: OnceLock::new(),
        })
    }

    fn check_content_type(&self) -> Result<(), InvokeError> {
        match not_json_problem(self.headers) {
            None => Ok(()),
            Some(reason) => Err(InvokeError::InvalidBody { reason }),
        }
    }

    fn parsed(&self) -> Result<Option<&Value>, InvokeError> {
        let r = self.parsed.get_or_init(|| {
            if self.body.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            if let Some(problem) = not_json_problem(self.headers) {
                return Err(problem);
            }
            serde_json::from_slice(&self.body)
                .map(Some)
                .map_err(|e| e.to_string())
        });
        match r {
            Ok(v) => Ok(v.as_ref()),
            Err(reason) => Err(InvokeError::InvalidBody {
                reason: reason.clone(),
            }),
        }
    }
}

impl Args for RestArgs<'_> {
    fn get(&self, name: &str) -> Option<ArgValue> {
        let path = self
            .path
            .iter()
            .find(|(k, _)| *k == name)
            .or_else(|| self.path.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)));
        if let Some((_, v)) = path {
            return Some(ArgValue::One(v.to_string()));
        }
        let q: Vec<String> = self
            .query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect();
        if !q.is_empty() {
            return Some(ArgValue::Text(q));
        }
        // Names compared in any case on both sides (`rest.X` need not be lowercase);
        // the first value of a name comes first, as with `HeaderMap::get`.
        let field = self
            .headers
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.as_bytes()));
        if let Some(v) = field.and_then(|f| f.to_str()) {
            return Some(ArgValue::One(v.to_string()));
        }
        // A body that cannot be read has no fields; `rest.body` reports why.
        match self.parsed() {
            Ok(Some(Value::Object(o))) => o
                .get(name)
                .filter(|v| !v.is_null())
                .cloned()
                .map(ArgValue::Json),
            _ => None,
        }
    }

    fn body(&self) -> Result<Option<Value>, InvokeError> {
        self.parsed().map(|v| v.cloned())
    }

    fn raw_body(&self) -> Result<Option<Bytes>, InvokeError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        self.check_content_type()?;
        // Validate without building a tree: the bytes are forwarded as they are. Only a
        // refused body pays for serde_json, for its line/column message.
        if !naftiko_plan::jsontext::is_json(&self.body)
            && let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&self.body)
        {
            return Err(InvokeError::InvalidBody {
                reason: e.to_string(),
            });
        }
        Ok(Some(self.body.clone()))
    }
}

fn bad_utf8(name: &str) -> InvokeError {
    InvokeError::BadInput {
        name: name.to_string(),
        reason: "percent-encoded bytes are not valid UTF-8".into(),
    }
}

/// Percent-decodes once; bytes that are not UTF-8 are refused rather than replaced, so two
/// different ids can never reach the same upstream resource.
fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    let spaced;
    let s = if plus_is_space && s.contains('+') {
        spaced = s.replace('+', " ");
        spaced.as_str()
    } else {
        s
    };
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// `a=1&b=x%20y&a=2` → pairs, decoded, order kept.
/// Why a request's `Content-Type` does not announce JSON; `None` when it does or there
/// is none.
fn not_json_problem(headers: &Fields) -> Option<String> {
    let ct = headers.get(http::header::CONTENT_TYPE)?.value();
    if is_json_media_type(ct) {
        return None;
    }
    let essence = ct.split(|&c| c == b';').next().unwrap_or_default();
    let essence = String::from_utf8_lossy(essence.trim_ascii()).to_ascii_lowercase();
    Some(format!(
        "Content-Type must be application/json, not '{essence}'"
    ))
}

pub(crate) fn parse_query(q: &str) -> Result<Vec<(String, String)>, InvokeError> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let key = decode(k, true).ok_or_else(|| bad_utf8(k))?;
            let value = decode(v, true).ok_or_else(|| bad_utf8(&key))?;
            Ok((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn with_type(ct: &[u8]) -> Fields {
        Fields::from_pairs([(&b"Content-Type"[..], ct)])
    }

    #[test]
    fn json_content_types() {
        assert_eq!(not_json_problem(&Fields::default()), None);
        for ok in [
            &b"application/json"[..],
            b"Application/JSON; charset=utf-8",
            b" application/merge-patch+json ",
            b"application/problem+JSON;x=1",
        ] {
            assert_eq!(not_json_problem(&with_type(ok)), None, "{ok:?}");
        }
        assert_eq!(
            not_json_problem(&with_type(b"Text/Plain; charset=utf-8")).unwrap(),
            "Content-Type must be application/json, not 'text/plain'"
        );
        assert!(not_json_problem(&with_type(b"application/jsonx")).is_some());
        assert!(not_json_problem(&with_type(b"json")).is_some());
    }

    #[test]
    fn path_values_are_decoded_only_when_escaped() {
        let h = Fields::default();
        let args = RestArgs::new(
            vec![("id", "plain-1"), ("name", "a%20b%2Fc"), ("bad", "%FF")],
            None,
            &h,
            Bytes::new(),
        );
        assert!(args.is_err(), "an escape that is not UTF-8 is refused");
        let args = RestArgs::new(
            vec![("id", "plain-1"), ("name", "a%20b%2Fc")],
            None,
            &h,
            Bytes::new(),
        )
        .unwrap();
        assert!(matches!(args.path[0].1, Cow::Borrowed("plain-1")));
        assert_eq!(args.path[1].1, "a b/c");
    }

    #[test]
    fn header_inputs_match_any_case_and_take_the_first_value() {
        let pairs: [(&[u8], &[u8]); 3] = [
            (b"X-Req", b"first"),
            (b"x-other", b"o"),
            (b"x-req", b"second"),
        ];
        let h = Fields::from_pairs(pairs);
        let args = RestArgs::new(vec![], Some("q=1"), &h, Bytes::new()).unwrap();
        let one = |name: &str| match args.get(name) {
            Some(ArgValue::One(v)) => Some(v),
            _ => None,
        };
        assert_eq!(one("X-Req").as_deref(), Some("first"));
        assert_eq!(one("x-other").as_deref(), Some("o"));
        assert_eq!(one("x-re"), None, "a prefix is not the name");
        assert_eq!(one("x-req "), None);
        assert!(args.get("missing").is_none());
    }
}
