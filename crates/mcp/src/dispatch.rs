//! The transport-neutral MCP server: one function per method, shared by HTTP and stdio.
//! Transports decide sessions and versions; this module answers messages.

use std::borrow::Cow;
use std::sync::Arc;

use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::McpSource;
use crate::call::{CallOutcome, Inflight, call};
use crate::catalog::{Catalog, CatalogCache};
use crate::jsonrpc::{
    Kind, Message, Params, RpcError, Version, error_response, push_str_json, string_or_null,
    write_result,
};
use naftiko_plan::jsontext::Member;

/// The server behind every transport of one adapter.
pub(crate) struct Core {
    pub(crate) source: Arc<dyn McpSource>,
    catalogs: CatalogCache,
}

/// What one request is answered in the context of.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The revision the request is served under.
    pub(crate) version: Version,
    /// Where in-flight calls are registered for cancellation (`None`: not cancellable).
    pub(crate) inflight: Option<&'a Inflight>,
    /// The tools, read from the source once per HTTP request or stdio line.
    pub(crate) catalog: &'a Catalog,
}

/// How a request was answered.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A full JSON-RPC success response (UTF-8 JSON text).
    Ok(Vec<u8>),
    /// A JSON-RPC error, not yet written (transports pick the HTTP status from it).
    Err(RpcError),
    /// Cancelled by the client: nothing may be sent.
    Cancelled,
}

impl Reply {
    /// The JSON-RPC response text, if anything is to be sent.
    pub(crate) fn into_text(self, id: &str) -> Option<Vec<u8>> {
        match self {
            Self::Ok(s) => Some(s),
            Self::Err(e) => Some(error_response(Some(id), &e).into_bytes()),
            Self::Cancelled => None,
        }
    }
}

#[derive(Deserialize)]
struct InitParams<'a> {
    #[serde(default, borrow, rename = "protocolVersion")]
    protocol_version: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ListParams<'a> {
    #[serde(default, borrow)]
    cursor: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CancelParams<'a> {
    #[serde(default, borrow, rename = "requestId")]
    request_id: Option<&'a RawValue>,
}

/// The only member of `params` named `key`; `None` when absent or given twice (serde
/// refused duplicate fields when these were read into structs).
pub(crate) fn only_member<'m>(
    members: impl Iterator<Item = &'m Member<'m>>,
    key: &str,
) -> Option<&'m Member<'m>> {
    let mut found = members.filter(|m| m.key() == key);
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// The 2026-07-28 `_meta` protocol version of a request, if it names one.
pub(crate) fn meta_version(params: Option<Params<'_>>) -> Option<String> {
    let params = params?;
    let meta = only_member(params.members(), "_meta")?;
    let version = only_member(
        params.members_of(meta),
        "io.modelcontextprotocol/protocolVersion",
    )?;
    string_or_null(version.value).ok()?.map(Cow::into_owned)
}

impl Core {
    pub(crate) fn new(source: Arc<dyn McpSource>) -> Self {
        Self {
            source,
            catalogs: CatalogCache::default(),
        }
    }

    /// The current catalog; `None` when the adapter was removed.
    pub(crate) fn catalog(&self) -> Option<Arc<Catalog>> {
        self.source.adapter().map(|plan| self.catalogs.get(plan))
    }

    /// Answers `initialize`: echo a supported version, otherwise counter-offer the latest.
    pub(crate) fn initialize(
        &self,
        catalog: &Catalog,
        id: &str,
        params: Option<Params<'_>>,
        list_changed: bool,
    ) -> (Version, String) {
        let requested = params
            .and_then(|p| serde_json::from_str::<InitParams<'_>>(p.get()).ok())
            .and_then(|p| p.protocol_version.and_then(|v| Version::parse(&v)));
        let version = requested
            .filter(|v| v.has_handshake())
            .unwrap_or(Version::LATEST_HANDSHAKE);
        let mut result = String::with_capacity(256);
        result.push_str("{\"protocolVersion\":\"");
        result.push_str(version.as_str());
        result.push_str("\",\"capabilities\":{\"tools\":{\"listChanged\":");
        result.push_str(if list_changed { "true" } else { "false" });
        result.push_str("}},\"serverInfo\":");
        result.push_str(&catalog.server_info);
        if let Some(d) = &catalog.plan.description {
            result.push_str(",\"instructions\":");
            push_str_json(&mut result, d);
        }
        result.push('}');
        let mut out = String::with_capacity(result.len() + 40);
        write_result(&mut out, id, &result);
        (version, out)
    }

    /// Answers one request (not `initialize`, which transports handle).
    pub(crate) async fn request(
        &self,
        ctx: Ctx<'_>,
        id: &str,
        method: &str,
        params: Option<Params<'_>>,
    ) -> Reply {
        let catalog = ctx.catalog;
        let extra = extras(ctx.version, catalog);
        let result = match method {
            "tools/call" => match call(catalog, id, params, ctx.inflight, &extra).await {
                CallOutcome::Result(r) => Ok(r),
                CallOutcome::Response(whole) => return Reply::Ok(whole),
                CallOutcome::Error(e) => Err(e),
                CallOutcome::Cancelled => return Reply::Cancelled,
            },
            "tools/list" => {
                let cursor = match params.map(|p| serde_json::from_str::<ListParams<'_>>(p.get())) {
                    Some(Err(e)) => {
                        return Reply::Err(RpcError::invalid_params(format!(
                            "Invalid params: {e}"
                        )));
                    }
                    Some(Ok(p)) => p.cursor,
                    None => None,
                };
                // 2026 list results are cacheable; the list changes on reload, so never cache.
                let list_extra = if ctx.version.has_handshake() {
                    Cow::Borrowed(extra.as_str())
                } else {
                    Cow::Owned(format!(",\"ttlMs\":0,\"cacheScope\":\"public\"{extra}"))
                };
                catalog.list_page(cursor.as_deref(), &list_extra)
            }
            "ping" => Ok(format!("{{{}}}", extra.strip_prefix(',').unwrap_or(""))),
            "server/discover" => Ok(discover(catalog, &extra)),
            "initialize" => Err(RpcError::invalid_request(
                "Invalid Request: initialize must be sent alone, first",
            )),
            // Capabilities this server does not declare are "method not found" (resources,
            // prompts, logging, completion), which clients expect.
            other => Err(RpcError::method_not_found(other)),
        };
        match result {
            Ok(r) => {
                let mut out = String::with_capacity(r.len() + 48);
                write_result(&mut out, id, &r);
                Reply::Ok(out.into_bytes())
            }
            Err(e) => Reply::Err(e),
        }
    }

    /// Handles a notification (never answered).
    pub(crate) fn notification(
        &self,
        inflight: Option<&Inflight>,
        method: &str,
        params: Option<Params<'_>>,
    ) {
        if method == "notifications/cancelled" {
            let request_id = params
                .and_then(|p| serde_json::from_str::<CancelParams<'_>>(p.get()).ok())
                .and_then(|p| p.request_id);
            if let (Some(inflight), Some(rid)) = (inflight, request_id) {
                inflight.cancel(rid.get());
            }
        }
        // `notifications/initialized` and anything else: nothing to do.
    }

    /// Answers a batch (2025-03-26 and older): one answer per request, in order; `None`
    /// when the batch held only notifications and responses. The caller checked that
    /// batches are allowed and that the array is not empty.
    pub(crate) async fn batch(&self, ctx: Ctx<'_>, items: &[&RawValue]) -> Option<Vec<u8>> {
        let answers = join_all(items.iter().map(|item| async move {
            let msg = match Message::parse(item.get().as_bytes()) {
                Ok(m) => m,
                Err(e) => return Some(error_response(None, &e).into_bytes()),
            };
            match msg.kind() {
                Err(e) => Some(error_response(msg.id(), &e).into_bytes()),
                Ok(Kind::Response) => None,
                Ok(Kind::Notification { method, params }) => {
                    self.notification(ctx.inflight, method, params);
                    None
                }
                Ok(Kind::Request { id, method, params }) => {
                    self.request(ctx, id, method, params).await.into_text(id)
                }
            }
        }))
        .await;
        let answers: Vec<Vec<u8>> = answers.into_iter().flatten().collect();
        if answers.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(answers.iter().map(|a| a.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        out.extend_from_slice(&answers.join(&b','));
        out.push(b']');
        Some(out)
    }
}

/// Fields every 2026-07-28 result carries; nothing for the handshake revisions.
fn extras(version: Version, catalog: &Catalog) -> String {
    if version.has_handshake() {
        return String::new();
    }
    format!(
        ",\"resultType\":\"complete\",\"_meta\":{{\"io.modelcontextprotocol/serverInfo\":{}}}",
        catalog.server_info
    )
}

/// `server/discover` (2026-07-28): versions, capabilities, instructions. Served without a
/// session so 2026-era clients connect without falling back to `initialize`. No
/// `subscriptions/listen` here, so `listChanged` is false.
fn discover(catalog: &Catalog, extra: &str) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"supportedVersions\":[");
    for (i, v) in Version::ALL.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(v.as_str());
        out.push('"');
    }
    out.push_str("],\"capabilities\":{\"tools\":{\"listChanged\":false}}");
    if let Some(d) = &catalog.plan.description {
        out.push_str(",\"instructions\":");
        push_str_json(&mut out, d);
    }
    out.push_str(",\"ttlMs\":0,\"cacheScope\":\"public\"");
    // A discover result always has the 2026 fields, whatever version the probe named.
    if extra.is_empty() {
        out.push_str(
            ",\"resultType\":\"complete\",\"_meta\":{\"io.modelcontextprotocol/serverInfo\":",
        );
        out.push_str(&catalog.server_info);
        out.push('}');
    } else {
        out.push_str(extra);
    }
    out.push('}');
    out
}
