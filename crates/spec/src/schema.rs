//! STUB — to be replaced by the JSON Schema checker (helper-4 overwrites this file).
#![allow(dead_code, missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaIssue {
    pub(crate) pointer: String,
    pub(crate) message: String,
    pub(crate) unknown_key: bool,
}
pub(crate) fn check(_doc: &serde_json::Value) -> Vec<SchemaIssue> {
    Vec::new()
}
