//! Adapter-neutral inputs of an invocation.

use serde_json::Value;

/// A value an adapter found for an input.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// Untyped text from a URL or header (one entry per repeated query key); coerced by the
    /// consumed parameter's `type`.
    Text(Vec<String>),
    /// One untyped text (a path parameter, a header): [`ArgValue::Text`] without a list
    /// to allocate.
    One(String),
    /// A typed JSON value (MCP arguments, JSON body fields).
    Json(Value),
}

/// Where `rest.X` / `tools.X` / `<namespace>.X` values come from.
pub trait Args: Send + Sync {
    /// The value of input `name`, if the caller gave one.
    fn get(&self, name: &str) -> Option<ArgValue>;
    /// The whole request body (`rest.body` / `tools.body`), if any.
    fn body(&self) -> Result<Option<Value>, crate::InvokeError>;

    /// The request body as the caller sent it, checked to be JSON, when the adapter has
    /// it as bytes: forwarded byte for byte (key order, numbers and spacing kept).
    fn raw_body(&self) -> Result<Option<bytes::Bytes>, crate::InvokeError> {
        Ok(None)
    }

    /// Input `name` as the JSON text the caller sent, when it is an object or an array and
    /// the adapter has it as text: it can then become a whole request body unparsed.
    fn raw_json(&self, _name: &str) -> Option<bytes::Bytes> {
        None
    }
}

/// Inputs from a JSON object (MCP `arguments`, tests).
#[derive(Debug, Clone, Default)]
pub struct JsonArgs(pub serde_json::Map<String, Value>);

impl Args for JsonArgs {
    fn get(&self, name: &str) -> Option<ArgValue> {
        self.0
            .get(name)
            .filter(|v| !v.is_null())
            .cloned()
            .map(ArgValue::Json)
    }

    fn body(&self) -> Result<Option<Value>, crate::InvokeError> {
        Ok(self.0.get("body").cloned())
    }
}

/// Inputs from a JSON object kept as the text the caller sent (MCP `arguments`).
///
/// Members are located once; a value is parsed only when an input asks for it, and a
/// `body` member that becomes the whole upstream body is forwarded as its original
/// bytes — no tree is built for the largest argument of a write.
#[derive(Debug, Clone, Default)]
pub struct RawJsonArgs {
    text: bytes::Bytes,
    /// Each distinct key with the byte range of its value (the last one written wins, as
    /// in any JSON object reader), in document order.
    members: Vec<(String, std::ops::Range<usize>)>,
}

impl RawJsonArgs {
    /// Locates the members of a JSON object; `None` when `text` is not one JSON object.
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim_matches([' ', '\n', '\r', '\t']);
        if !trimmed.starts_with('{') {
            return None;
        }
        let all = crate::jsontext::members(trimmed, &|_, _, _| crate::jsontext::Listing::Member)?;
        Some(Self::from_members(
            trimmed,
            all.iter().map(|m| (m.key(), m.value)),
        ))
    }

    /// Builds the arguments from members already located in `text` (keys, and values as
    /// slices of `text`) — typically by [`crate::jsontext::members`] reading a whole
    /// message, so the object is scanned once.
    ///
    /// Values that are not slices of `text` are dropped.
    pub fn from_members<'t>(
        text: &'t str,
        members: impl IntoIterator<Item = (std::borrow::Cow<'t, str>, &'t str)>,
    ) -> Self {
        let base = text.as_ptr() as usize;
        let members = members.into_iter();
        let mut out: Vec<(String, std::ops::Range<usize>)> =
            Vec::with_capacity(members.size_hint().0);
        let mut index = std::collections::HashMap::new();
        for (key, raw) in members {
            let Some(start) = (raw.as_ptr() as usize).checked_sub(base) else {
                continue;
            };
            let range = start..start + raw.len();
            if range.end > text.len() {
                continue;
            }
            let key = key.into_owned();
            // Few members (the usual case) are deduplicated by scanning.
            let seen = if out.len() < 16 {
                out.iter().position(|(k, _)| *k == key)
            } else {
                if index.is_empty() {
                    index.extend(out.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)));
                }
                index.get(&key).copied()
            };
            match seen {
                Some(i) => out[i].1 = range,
                None => {
                    if !index.is_empty() {
                        index.insert(key.clone(), out.len());
                    }
                    out.push((key, range));
                }
            }
        }
        Self {
            text: bytes::Bytes::copy_from_slice(text.as_bytes()),
            members: out,
        }
    }

    /// The members as `(key, raw JSON text of the value)`, in document order.
    pub fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members
            .iter()
            .map(|(k, r)| (k.as_str(), self.slice(r.clone())))
    }

    /// The raw JSON text of member `name`.
    pub fn get_raw(&self, name: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, r)| self.slice(r.clone()))
    }

    fn slice(&self, range: std::ops::Range<usize>) -> &str {
        // The ranges were taken from this very text, at value boundaries.
        std::str::from_utf8(self.text.get(range).unwrap_or_default()).unwrap_or_default()
    }

    fn value(&self, name: &str) -> Option<Value> {
        let raw = self.get_raw(name)?;
        // The usual argument, a string without escapes, is its own text (already
        // checked as JSON): no parser needed.
        if let Some(text) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
            && !text.contains('\\')
        {
            return Some(Value::String(text.to_owned()));
        }
        serde_json::from_str(raw).ok()
    }
}

impl Args for RawJsonArgs {
    fn get(&self, name: &str) -> Option<ArgValue> {
        self.value(name)
            .filter(|v| !v.is_null())
            .map(ArgValue::Json)
    }

    fn body(&self) -> Result<Option<Value>, crate::InvokeError> {
        Ok(self.value("body"))
    }

    fn raw_body(&self) -> Result<Option<bytes::Bytes>, crate::InvokeError> {
        let Some((_, range)) = self.members.iter().find(|(k, _)| k == "body") else {
            return Ok(None);
        };
        let raw = self.text.slice(range.clone());
        Ok((raw.as_ref() != b"null").then_some(raw))
    }

    fn raw_json(&self, name: &str) -> Option<bytes::Bytes> {
        let (_, range) = self.members.iter().find(|(k, _)| k == name)?;
        let raw = self.text.slice(range.clone());
        matches!(raw.first(), Some(b'{' | b'[')).then_some(raw)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn string_arguments_read_like_serde() {
        for value in [
            r#""""#,
            r#""plain""#,
            r#""é ü 😀""#,
            r#""a\u0062""#,
            r#""q\"q""#,
            r#""back\\slash""#,
            r#""\n""#,
            r#""\\""#,
        ] {
            let text = format!(r#"{{"s": {value}}}"#);
            let raw = RawJsonArgs::parse(&text).unwrap();
            let json = JsonArgs(serde_json::from_str(&text).unwrap());
            assert_eq!(raw.get("s"), json.get("s"), "{value}");
        }
    }

    #[test]
    fn raw_args_read_like_json_args() {
        let text =
            r#"{ "id" : "a\u0062", "n": 2, "none": null, "body": {"k": [1, 2.50]}, "id": "last" }"#;
        let raw = RawJsonArgs::parse(text).unwrap();
        let json = JsonArgs(serde_json::from_str(text).unwrap());
        for name in ["id", "n", "none", "body", "missing"] {
            assert_eq!(raw.get(name), json.get(name), "{name}");
        }
        assert_eq!(raw.body().unwrap(), json.body().unwrap());
        assert_eq!(
            raw.raw_body().unwrap().unwrap().as_ref(),
            br#"{"k": [1, 2.50]}"#,
            "forwarded as written"
        );
        let keys: Vec<&str> = raw.members().map(|(k, _)| k).collect();
        assert_eq!(keys, ["id", "n", "none", "body"]);
        assert_eq!(raw.get_raw("id"), Some(r#""last""#));
        assert_eq!(
            raw.raw_json("body").unwrap().as_ref(),
            br#"{"k": [1, 2.50]}"#
        );
        assert!(
            raw.raw_json("n").is_none(),
            "scalars go through typed coercion"
        );
    }

    #[test]
    fn raw_args_refuse_non_objects_and_dedup_many_keys() {
        for text in ["[1]", "\"s\"", "1", "null", "true", "{", "{\"a\":}", ""] {
            assert!(RawJsonArgs::parse(text).is_none(), "{text}");
        }
        assert!(
            RawJsonArgs::parse(r#"{"body":null}"#)
                .unwrap()
                .raw_body()
                .unwrap()
                .is_none()
        );
        let mut obj = String::from("{");
        for i in 0..40 {
            obj.push_str(&format!("\"k{}\":{i},", i % 20));
        }
        obj.push_str("\"end\":true}");
        let raw = RawJsonArgs::parse(&obj).unwrap();
        assert_eq!(raw.members().count(), 21);
        assert_eq!(raw.get("k3"), Some(ArgValue::Json(json!(23))));
    }
}
