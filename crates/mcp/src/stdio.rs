//! The stdio transport: newline-delimited JSON-RPC. Requests run concurrently (so a
//! `notifications/cancelled` line can reach a call in flight); answers are written one per
//! line as they complete; nothing but JSON-RPC is ever written.

use std::io;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::value::RawValue;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::call::Inflight;
use crate::dispatch::{Core, Ctx, meta_version};
use crate::jsonrpc::{INTERNAL_ERROR, Kind, Message, RpcError, Version, error_response};
use crate::{McpSource, Notifier};

const LIST_CHANGED: &str = r#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#;

/// Serves MCP over a reader/writer pair (the process's stdin/stdout) until the input ends;
/// calls still running then are answered before returning. Advertises
/// `tools.listChanged: false`.
pub async fn serve_stdio<R, W>(source: Arc<dyn McpSource>, input: R, output: W) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    serve(source, input, output, None).await
}

/// Like [`serve_stdio`], and writes `notifications/tools/list_changed` (after
/// initialization) whenever `notifier` fires; advertises `tools.listChanged: true`.
pub async fn serve_stdio_notified<R, W>(
    source: Arc<dyn McpSource>,
    input: R,
    output: W,
    notifier: &Notifier,
) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    serve(source, input, output, Some(notifier)).await
}

async fn serve<R, W>(
    source: Arc<dyn McpSource>,
    input: R,
    mut output: W,
    notifier: Option<&Notifier>,
) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let core = Core::new(source);
    let inflight = Inflight::default();
    let list_changed = notifier.is_some();
    let mut changes = notifier.map(Notifier::subscribe);
    let mut negotiated: Option<Version> = None;
    let mut lines = input.lines();
    let mut pending = FuturesUnordered::new();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { break };
                if line.trim().is_empty() {
                    continue;
                }
                let conn = Conn { core: &core, inflight: &inflight, negotiated, list_changed };
                match conn.step(line) {
                    Step::Write(text) => write_line(&mut output, &text).await?,
                    Step::Initialized(version, text) => {
                        negotiated = Some(version);
                        write_line(&mut output, &text).await?;
                    }
                    Step::Run(line) => pending.push(conn.run(line)),
                    Step::Nothing => {}
                }
            }
            Some(answer) = pending.next(), if !pending.is_empty() => {
                if let Some(text) = answer {
                    write_line(&mut output, &text).await?;
                }
            }
            changed = next_change(&mut changes) => {
                if changed && negotiated.is_some() {
                    write_line(&mut output, LIST_CHANGED).await?;
                }
            }
        }
    }
    while let Some(answer) = pending.next().await {
        if let Some(text) = answer {
            write_line(&mut output, &text).await?;
        }
    }
    output.flush().await
}

/// Waits for the next notification; never resolves without a notifier.
async fn next_change(rx: &mut Option<watch::Receiver<u64>>) -> bool {
    let Some(r) = rx.as_mut() else {
        return std::future::pending().await;
    };
    if r.changed().await.is_ok() {
        return true;
    }
    // The notifier is gone: stop listening instead of waking forever.
    *rx = None;
    false
}

async fn write_line<W: AsyncWrite + Unpin>(out: &mut W, text: impl AsRef<[u8]>) -> io::Result<()> {
    out.write_all(text.as_ref()).await?;
    out.write_all(b"\n").await?;
    out.flush().await
}

enum Step {
    Write(String),
    Initialized(Version, String),
    /// Answer asynchronously (the line is parsed again inside the future, which owns it).
    Run(String),
    Nothing,
}

#[derive(Clone, Copy)]
struct Conn<'a> {
    core: &'a Core,
    inflight: &'a Inflight,
    negotiated: Option<Version>,
    list_changed: bool,
}

impl<'a> Conn<'a> {
    /// Handles what needs no waiting: parse errors, notifications, `initialize`.
    fn step(self, line: String) -> Step {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            return match serde_json::from_str::<Vec<&RawValue>>(trimmed) {
                Err(e) => Step::Write(error_response(None, &crate::jsonrpc::from_serde(&e))),
                Ok(items) if items.is_empty() => Step::Write(error_response(
                    None,
                    &RpcError::invalid_request("Invalid Request: empty batch"),
                )),
                Ok(_)
                    if !self
                        .negotiated
                        .unwrap_or(Version::V2025_03_26)
                        .allows_batches() =>
                {
                    Step::Write(error_response(
                        None,
                        &RpcError::invalid_request(
                            "Invalid Request: JSON-RPC batches are not supported in this protocol version",
                        ),
                    ))
                }
                Ok(_) => Step::Run(line),
            };
        }
        let decided = match Message::parse(line.as_bytes()) {
            Err(e) => Some(Step::Write(error_response(None, &e))),
            Ok(msg) => match msg.kind() {
                Err(e) => Some(Step::Write(error_response(msg.id(), &e))),
                Ok(Kind::Response) => Some(Step::Nothing),
                Ok(Kind::Notification { method, params }) => {
                    self.core.notification(Some(self.inflight), method, params);
                    Some(Step::Nothing)
                }
                Ok(Kind::Request {
                    id,
                    method: "initialize",
                    params,
                }) => Some(match self.core.catalog() {
                    Some(catalog) => {
                        let (version, text) =
                            self.core
                                .initialize(&catalog, id, params, self.list_changed);
                        Step::Initialized(version, text)
                    }
                    None => Step::Write(error_response(
                        Some(id),
                        &RpcError::new(INTERNAL_ERROR, "this MCP adapter is no longer served"),
                    )),
                }),
                Ok(Kind::Request { .. }) => None,
            },
        };
        decided.unwrap_or(Step::Run(line))
    }

    /// Answers a request or a batch; `None` when nothing is to be written.
    async fn run(self, line: String) -> Option<Vec<u8>> {
        let base = self.negotiated.unwrap_or(Version::V2025_03_26);
        let Some(catalog) = self.core.catalog() else {
            let id = Message::parse(line.as_bytes())
                .ok()
                .and_then(|m| m.id().map(str::to_owned));
            return Some(
                error_response(
                    id.as_deref(),
                    &RpcError::new(INTERNAL_ERROR, "this MCP adapter is no longer served"),
                )
                .into_bytes(),
            );
        };
        let ctx = Ctx {
            version: base,
            inflight: Some(self.inflight),
            catalog: &catalog,
        };
        if line.trim_start().starts_with('[') {
            let items: Vec<&RawValue> = serde_json::from_str(&line).ok()?;
            return self.core.batch(ctx, &items).await;
        }
        let msg = Message::parse(line.as_bytes()).ok()?;
        let Ok(Kind::Request { id, method, params }) = msg.kind() else {
            return None;
        };
        // A 2026-07-28 request names its version in `_meta` (stdio has no headers).
        let version = match meta_version(params) {
            Some(v) => match Version::parse(&v) {
                Some(v) => v,
                None => {
                    let e = RpcError::unsupported_version(&v);
                    return Some(error_response(Some(id), &e).into_bytes());
                }
            },
            None => base,
        };
        let ctx = Ctx { version, ..ctx };
        self.core
            .request(ctx, id, method, params)
            .await
            .into_text(id)
    }
}
