//! Adapter-neutral inputs of an invocation.

use serde_json::Value;

/// A value an adapter found for an input.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// Untyped text from a URL or header (one entry per repeated query key); coerced by the
    /// consumed parameter's `type`.
    Text(Vec<String>),
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
