//! The 2026-07-28 revision's requests (and `server/discover` probes): no session, the
//! method and tool name mirrored in headers and checked against the body.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderName;
use naftiko_plan::{Field, Fields};

use super::{Answer, App, reply_response};
use crate::catalog::Catalog;
use crate::dispatch::{Ctx, meta_version, only_member};
use crate::error::HttpError;
use crate::jsonrpc::{HEADER_MISMATCH, Params, RpcError, Version, string_or_null};

const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

impl App {
    /// A 2026-07-28 request (or a `server/discover` probe): checks the mirrored headers
    /// against the body, then answers without a session.
    pub(super) async fn post_stateless(
        &self,
        h: &Fields,
        header: Option<Version>,
        catalog: &Catalog,
        id: &str,
        method: &str,
        params: Option<Params<'_>>,
    ) -> Result<Answer, HttpError> {
        let mismatch = |what: String| HttpError::Rpc {
            id: Some(id.to_owned()),
            error: RpcError::new(HEADER_MISMATCH, format!("Header mismatch: {what}")),
        };
        if let Some(m) = h.get(MCP_METHOD).filter(|m| m.value() != method.as_bytes()) {
            return Err(mismatch(format!(
                "Mcp-Method header value '{}' does not match body value '{method}'",
                String::from_utf8_lossy(m.value())
            )));
        }
        let meta = meta_version(params);
        if let (Some(m), Some(hv)) = (&meta, header)
            && m != hv.as_str()
        {
            return Err(mismatch(format!(
                "MCP-Protocol-Version header value '{}' does not match body value '{m}'",
                hv.as_str()
            )));
        }
        if method == "tools/call"
            && let (Some(header_name), Some(body_name)) = (h.get(MCP_NAME), tool_name(params))
            && decode_header(&header_name).as_deref() != Some(body_name.as_str())
        {
            return Err(mismatch(format!(
                "Mcp-Name header does not match body value '{body_name}'"
            )));
        }
        let version = match (meta.as_deref(), header) {
            (Some(m), _) => Version::parse(m).ok_or_else(|| HttpError::Rpc {
                id: Some(id.to_owned()),
                error: RpcError::unsupported_version(m),
            })?,
            (None, Some(v)) => v,
            (None, None) => Version::V2026_07_28,
        };
        let ctx = Ctx {
            version,
            inflight: None,
            catalog,
        };
        let reply = self.core.request(ctx, id, method, params).await;
        Ok(reply_response(h, reply, id, !version.has_handshake()))
    }
}

fn tool_name(params: Option<Params<'_>>) -> Option<String> {
    let name = only_member(params?.members(), "name")?;
    string_or_null(name.value).ok()?.map(Cow::into_owned)
}

/// A mirrored header value, decoding the `=?base64?...?=` form.
fn decode_header(v: &Field<'_>) -> Option<String> {
    let text = v.to_str()?;
    match text
        .strip_prefix("=?base64?")
        .and_then(|t| t.strip_suffix("?="))
    {
        Some(b64) => String::from_utf8(STANDARD.decode(b64).ok()?).ok(),
        None => Some(text.to_owned()),
    }
}
