//! The tool catalog of one adapter plan, rendered once: each tool's JSON, a name index and
//! the server identity. Cached per plan (by pointer), so a reload is picked up on the next
//! request and `tools/list` / `tools/call` never re-serialise schemas.

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use naftiko_plan::{McpAdapterPlan, ToolPlan};
use serde::Serialize;
use serde_json::{Value, json};

use crate::jsonrpc::{RpcError, push_str_json, to_json};
use crate::keyhash::OwnKeyMap;
use crate::schema::ArgsCheck;

/// Tools per `tools/list` page.
pub(crate) const PAGE_SIZE: usize = 50;

/// One plan's tools, ready to serve.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub(crate) plan: Arc<McpAdapterPlan>,
    tools_json: Vec<String>,
    /// Each tool's argument check, in the plan's order.
    checks: Vec<ArgsCheck>,
    by_name: OwnKeyMap<String, usize>,
    /// `{"name":..,"version":..}`.
    pub(crate) server_info: String,
}

#[derive(Serialize)]
struct ToolJson<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    description: &'a str,
    #[serde(rename = "inputSchema")]
    input_schema: &'a Value,
    annotations: Annotations<'a>,
}

/// All four hints explicit: absent hints mean "destructive, not idempotent, open world".
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotations<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    read_only_hint: bool,
    destructive_hint: bool,
    idempotent_hint: bool,
    open_world_hint: bool,
}

impl Catalog {
    fn build(plan: Arc<McpAdapterPlan>) -> Self {
        let fallback = json!({"type": "object"});
        let tools_json = plan
            .tools
            .iter()
            .map(|t| to_json(&tool_json(t, &fallback)))
            .collect();
        let checks = plan
            .tools
            .iter()
            .map(|t| ArgsCheck::new(&t.input_schema))
            .collect();
        let mut by_name = OwnKeyMap::with_capacity_and_hasher(plan.tools.len(), Default::default());
        for (i, t) in plan.tools.iter().enumerate() {
            // The first declaration wins, as in the listing order.
            by_name.entry(t.name.clone()).or_insert(i);
        }
        let server_info =
            to_json(&json!({"name": plan.namespace, "version": env!("CARGO_PKG_VERSION")}));
        Self {
            plan,
            tools_json,
            checks,
            by_name,
            server_info,
        }
    }

    /// The tool called `name`.
    pub(crate) fn tool(&self, name: &str) -> Option<(&Arc<ToolPlan>, &ArgsCheck)> {
        let &i = self.by_name.get(name)?;
        Some((self.plan.tools.get(i)?, self.checks.get(i)?))
    }

    /// The `tools/list` result for `cursor`; `extra` is appended inside the result object
    /// (`,"key":value` pairs, empty for the handshake revisions).
    pub(crate) fn list_page(&self, cursor: Option<&str>, extra: &str) -> Result<String, RpcError> {
        let start = match cursor {
            None => 0,
            Some(c) => decode_cursor(c)
                .filter(|&o| o <= self.tools_json.len())
                .ok_or_else(|| RpcError::invalid_params("Invalid params: invalid cursor"))?,
        };
        let end = (start + PAGE_SIZE).min(self.tools_json.len());
        let page = &self.tools_json[start..end];
        let mut out = String::with_capacity(page.iter().map(|t| t.len() + 1).sum::<usize>() + 64);
        out.push_str("{\"tools\":[");
        for (i, t) in page.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(t);
        }
        out.push(']');
        if end < self.tools_json.len() {
            out.push_str(",\"nextCursor\":");
            push_str_json(&mut out, &encode_cursor(end));
        }
        out.push_str(extra);
        out.push('}');
        Ok(out)
    }
}

fn tool_json<'a>(t: &'a ToolPlan, fallback: &'a Value) -> ToolJson<'a> {
    // `inputSchema` is required and must be an object schema; never send null.
    let schema = if t.input_schema.is_object() {
        &t.input_schema
    } else {
        fallback
    };
    ToolJson {
        name: &t.name,
        title: t.title.as_deref(),
        description: &t.description,
        input_schema: schema,
        annotations: Annotations {
            title: t.title.as_deref(),
            read_only_hint: t.hints.read_only,
            destructive_hint: t.hints.destructive,
            idempotent_hint: t.hints.idempotent,
            open_world_hint: t.hints.open_world,
        },
    }
}

/// Cursors are opaque to clients; inside they are the offset of the next tool.
fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(c.as_bytes()).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

/// The catalog of the plan seen last; rebuilt when the source hands out another plan.
#[derive(Debug, Default)]
pub(crate) struct CatalogCache {
    slot: Mutex<Option<Arc<Catalog>>>,
}

impl CatalogCache {
    pub(crate) fn get(&self, plan: Arc<McpAdapterPlan>) -> Arc<Catalog> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = slot.as_ref().filter(|c| Arc::ptr_eq(&c.plan, &plan)) {
            return Arc::clone(c);
        }
        let c = Arc::new(Catalog::build(plan));
        *slot = Some(Arc::clone(&c));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(50)), Some(50));
        assert_eq!(decode_cursor("nope"), None);
        assert_eq!(decode_cursor(""), None);
    }
}
