//! The input values of one invocation, and template rendering against them.

use std::borrow::Cow;

use naftiko_spec::template::{Template, VarRef};
use serde_json::Value;

use crate::secret::Binds;

/// Named values for one upstream call (declared inputs, `with` results), remembering the
/// name the caller used for each so errors speak the caller's language.
///
/// Names are borrowed from the compiled plan (`'p`) for the length of the call: setting a
/// value copies no name.
#[derive(Debug, Default)]
pub(crate) struct Values<'p> {
    entries: Vec<(Cow<'p, str>, Value, Cow<'p, str>)>,
    /// A body forwarded byte for byte, under its key.
    raw: Option<(Cow<'p, str>, bytes::Bytes)>,
}

impl<'p> Values<'p> {
    /// Room for `n` values.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
            raw: None,
        }
    }

    /// Sets `key` (replacing an earlier value); `caller` is the name the caller knows it by.
    pub(crate) fn set(
        &mut self,
        key: impl Into<Cow<'p, str>>,
        value: Value,
        caller: impl Into<Cow<'p, str>>,
    ) {
        let key = key.into();
        if let Some(e) = self.entries.iter_mut().find(|e| e.0 == key) {
            e.1 = value;
            e.2 = caller.into();
        } else {
            self.entries.push((key, value, caller.into()));
        }
    }

    /// Sets `key` to a raw JSON body (its value reads as `null` to templates).
    pub(crate) fn set_raw(&mut self, key: &'p str, raw: bytes::Bytes, caller: &'p str) {
        self.set(key, Value::Null, caller);
        self.raw = Some((Cow::Borrowed(key), raw));
    }

    /// The raw body stored under `key`.
    pub(crate) fn raw(&self, key: &str) -> Option<&bytes::Bytes> {
        self.raw.as_ref().filter(|(k, _)| k == key).map(|(_, b)| b)
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|e| e.0 == key).map(|e| &e.1)
    }

    /// The value of `key`, falling back to a case-insensitive match (`{externalid}`).
    pub(crate) fn get_ci(&self, key: &str) -> Option<&Value> {
        self.get(key).or_else(|| {
            self.entries
                .iter()
                .find(|e| e.0.eq_ignore_ascii_case(key))
                .map(|e| &e.1)
        })
    }

    /// The caller's name for `key`.
    pub(crate) fn caller_name(&self, key: &str) -> String {
        self.entries
            .iter()
            .find(|e| e.0.eq_ignore_ascii_case(key))
            .map_or_else(|| key.to_string(), |e| e.2.to_string())
    }
}

/// A value as text: strings raw, numbers and booleans printed, null empty, others as JSON.
pub(crate) fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Number(n) => Cow::Owned(n.to_string()),
        other => Cow::Owned(other.to_string()),
    }
}

/// Looks up a template variable: inputs first, then binds (`{{X}}`, `{{env.X}}`);
/// `{{rest.x}}` / `{{tools.x}}` name inputs; `{{step.field}}` walks into an input.
pub(crate) fn lookup(v: &VarRef, values: &Values, binds: &Binds) -> Option<Value> {
    let full = v.to_string();
    if let Some(s) = binds.get(&full) {
        return Some(Value::String(s.expose().to_string()));
    }
    let mut parts = v.parts.iter();
    let head = parts.next()?;
    let mut cur = match values.get(head) {
        Some(val) => val,
        None if v.parts.len() == 2 => return values.get(&v.parts[1]).cloned(),
        None => return None,
    };
    for p in parts {
        cur = match cur {
            Value::Object(o) => o.get(p)?,
            Value::Array(a) => a.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur.clone())
}

/// Renders a template to text; a missing variable is an error carrying its name.
pub(crate) fn render_text(t: &Template, values: &Values, binds: &Binds) -> Result<String, String> {
    let mut out = String::new();
    t.render_into(&mut out, |v, out| match lookup(v, values, binds) {
        Some(val) if !val.is_null() => {
            out.push_str(&value_text(&val));
            Ok(())
        }
        _ => Err(v.to_string()),
    })?;
    Ok(out)
}
