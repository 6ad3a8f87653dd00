//! Driving one started case: its REST requests, MCP messages (over HTTP, with a session
//! opened on demand, or stdio) and what the upstream saw, each checked against the step's
//! expectations.

use super::*;

/// One case's connections and MCP state while its steps run.
pub(super) struct Driver {
    pub(super) client: HttpClient,
    pub(super) exposes: Vec<Exposed>,
    pub(super) up: Option<Upstream>,
    pub(super) session: Option<String>,
    pub(super) protocol: Option<String>,
    pub(super) next_id: i64,
    pub(super) initialized: HashSet<String>,
    pub(super) auto_init: bool,
    pub(super) step_timeout: Duration,
}

impl Driver {
    fn adapter_base(&self, kind: &str, namespace: Option<&str>) -> Result<String, String> {
        let found = self.exposes.iter().find(|e| {
            e.kind == kind
                && !e.stdio
                && e.port.is_some()
                && namespace.is_none_or(|n| n == e.namespace)
        });
        match found {
            Some(e) => Ok(format!("http://{}:{}", e.host, e.port.unwrap_or_default())),
            None => Err(format!(
                "malformed case: the capability has no {kind} adapter{} with a port",
                namespace.map(|n| format!(" '{n}'")).unwrap_or_default()
            )),
        }
    }

    fn take_upstream(&self) -> Vec<upstream::Seen> {
        self.up.as_ref().map(Upstream::take).unwrap_or_default()
    }

    pub(super) async fn step(&mut self, step: &Step, rt: &mut Runtime, p: &mut Problems) {
        let timeout = step
            .timeout_ms
            .map_or(self.step_timeout, Duration::from_millis);
        if let Some(stdio) = &step.stdio {
            self.take_upstream();
            self.stdio_step(stdio, step, rt, timeout, p).await;
            if let Some(e) = &step.expect.upstream {
                check::upstream(e, &self.take_upstream(), p);
            }
            return;
        }
        let resp = if let Some(r) = &step.rest {
            self.take_upstream();
            self.rest(r, timeout).await
        } else {
            let m = match (&step.mcp, &step.tool_call) {
                (Some(m), _) => m.clone(),
                (None, Some(t)) => {
                    let mut params = serde_json::Map::new();
                    params.insert("name".into(), Value::String(t.name.clone()));
                    if let Some(a) = &t.arguments {
                        params.insert("arguments".into(), a.clone());
                    }
                    McpStep {
                        request: Some(crate::case::RpcCall {
                            method: "tools/call".into(),
                            params: Some(Value::Object(params)),
                        }),
                        adapter: t.adapter.clone(),
                        ..McpStep::default()
                    }
                }
                (None, None) => {
                    p.push("malformed case: step has no action");
                    return;
                }
            };
            let base = match self.adapter_base("mcp", m.adapter.as_deref()) {
                Ok(b) => b,
                Err(e) => {
                    p.push(e);
                    return;
                }
            };
            if self.auto_init && !self.initialized.contains(&base) {
                if let Err(e) = self.initialize(&base, timeout).await {
                    p.push(format!("the runner's MCP initialize failed: {e}"));
                    return;
                }
                self.initialized.insert(base.clone());
            }
            self.take_upstream();
            self.mcp(&base, &m, timeout).await
        };
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                p.push(e);
                return;
            }
        };
        let seen = self.take_upstream();
        let ex = &step.expect;
        if let Some(e) = &ex.upstream {
            check::upstream(e, &seen, p);
        }
        if let Some(e) = &ex.response {
            check::response(e, &resp, p);
        }
        if ex.result.is_some() || ex.error.is_some() {
            match check::body_json(&resp) {
                Ok(env) => {
                    if let Some(e) = &ex.result {
                        check::result(e, &env, p);
                    }
                    if let Some(e) = &ex.error {
                        check::rpc_error(e, &env, p);
                    }
                }
                Err(err) => p.push(format!(
                    "expected a JSON-RPC {} but the HTTP {} body is not JSON ({err}): `{}`",
                    if ex.result.is_some() {
                        "result"
                    } else {
                        "error"
                    },
                    resp.status,
                    clip(&String::from_utf8_lossy(&resp.body), 300)
                )),
            }
        }
    }

    async fn rest(&mut self, r: &RestRequest, timeout: Duration) -> Result<HttpResponse, String> {
        let base = self.adapter_base("rest", r.adapter.as_deref())?;
        let mut headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let has_ct = r
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("content-type"));
        let body = if let Some(v) = &r.body {
            if !has_ct {
                headers.push(("content-type".into(), "application/json".into()));
            }
            Bytes::from(v.to_string())
        } else if let Some(t) = &r.body_text {
            Bytes::from(t.clone())
        } else if let Some(n) = r.body_size {
            if !has_ct {
                headers.push(("content-type".into(), "application/json".into()));
            }
            let mut s = String::with_capacity(n + 16);
            s.push_str("{\"filler\":\"");
            while s.len() + 2 < n {
                s.push('x');
            }
            s.push_str("\"}");
            Bytes::from(s)
        } else {
            Bytes::new()
        };
        self.client
            .send(
                &r.method,
                &format!("{base}{}", r.path),
                &headers,
                body,
                timeout,
            )
            .await
    }

    fn fresh_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    async fn initialize(&mut self, base: &str, timeout: Duration) -> Result<(), String> {
        let id = self.fresh_id();
        let msg = json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "initialize",
            "params": {
                "protocolVersion": CLIENT_PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "naftiko-conformance", "version": env!("CARGO_PKG_VERSION")}
            }
        });
        let url = format!("{base}/mcp");
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            (
                "accept".to_string(),
                "application/json, text/event-stream".to_string(),
            ),
        ];
        let r = self
            .client
            .send(
                "POST",
                &url,
                &headers,
                Bytes::from(msg.to_string()),
                timeout,
            )
            .await?;
        if r.status != 200 {
            return Err(format!(
                "HTTP {} `{}`",
                r.status,
                clip(&String::from_utf8_lossy(&r.body), 300)
            ));
        }
        let env = check::body_json(&r)?;
        let Some(version) = env
            .get("result")
            .and_then(|res| res.get("protocolVersion"))
            .and_then(Value::as_str)
        else {
            return Err(format!(
                "no result.protocolVersion in {}",
                clip(&env.to_string(), 300)
            ));
        };
        self.protocol = Some(version.to_owned());
        self.session = r.header("mcp-session-id").map(str::to_owned);
        let mut headers = headers;
        if let Some(s) = &self.session {
            headers.push(("mcp-session-id".into(), s.clone()));
        }
        headers.push(("mcp-protocol-version".into(), version.to_owned()));
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let r = self
            .client
            .send(
                "POST",
                &url,
                &headers,
                Bytes::from(note.to_string()),
                timeout,
            )
            .await?;
        if !(200..300).contains(&r.status) {
            return Err(format!(
                "notifications/initialized answered HTTP {} `{}`",
                r.status,
                clip(&String::from_utf8_lossy(&r.body), 300)
            ));
        }
        Ok(())
    }

    async fn mcp(
        &mut self,
        base: &str,
        m: &McpStep,
        timeout: Duration,
    ) -> Result<HttpResponse, String> {
        let http_method = m.http_method.clone().unwrap_or_else(|| "POST".into());
        let url = format!("{base}{}", m.path.as_deref().unwrap_or("/mcp"));
        let mut sent_method: Option<String> = None;
        let body: Option<Bytes> = if let Some(msg) = &m.message {
            sent_method = msg.get("method").and_then(Value::as_str).map(str::to_owned);
            Some(Bytes::from(msg.to_string()))
        } else if let Some(r) = &m.request {
            sent_method = Some(r.method.clone());
            let id = self.fresh_id();
            let mut obj = json!({"jsonrpc": "2.0", "id": id, "method": r.method});
            if let (Some(params), Some(o)) = (&r.params, obj.as_object_mut()) {
                o.insert("params".into(), params.clone());
            }
            Some(Bytes::from(obj.to_string()))
        } else if let Some(n) = &m.notification {
            let mut obj = json!({"jsonrpc": "2.0", "method": n.method});
            if let (Some(params), Some(o)) = (&n.params, obj.as_object_mut()) {
                o.insert("params".into(), params.clone());
            }
            Some(Bytes::from(obj.to_string()))
        } else {
            m.body_text.as_ref().map(|t| Bytes::from(t.clone()))
        };
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        if body.is_some() {
            headers.insert("content-type".into(), "application/json".into());
        }
        headers.insert(
            "accept".into(),
            if http_method == "GET" {
                "text/event-stream".into()
            } else {
                "application/json, text/event-stream".into()
            },
        );
        let session_mode = m.session.as_deref().unwrap_or("auto");
        match session_mode {
            "auto" => {
                if let Some(s) = &self.session {
                    headers.insert("mcp-session-id".into(), s.clone());
                }
            }
            "none" => {}
            literal => {
                headers.insert("mcp-session-id".into(), literal.to_owned());
            }
        }
        if let Some(v) = &self.protocol {
            headers.insert("mcp-protocol-version".into(), v.clone());
        }
        for (k, v) in &m.headers {
            let k = k.to_ascii_lowercase();
            match v {
                Some(v) => {
                    headers.insert(k, v.clone());
                }
                None => {
                    headers.remove(&k);
                }
            }
        }
        let headers: Vec<(String, String)> = headers.into_iter().collect();
        let window = (http_method == "GET").then_some(Duration::from_secs(1));
        let r = self
            .client
            .send_with(
                &http_method,
                &url,
                &headers,
                body.unwrap_or_default(),
                timeout,
                window,
            )
            .await?;
        if session_mode == "auto"
            && let Some(s) = r.header("mcp-session-id")
        {
            self.session = Some(s.to_owned());
        }
        if sent_method.as_deref() == Some("initialize") {
            if let Ok(env) = check::body_json(&r)
                && let Some(v) = env
                    .get("result")
                    .and_then(|x| x.get("protocolVersion"))
                    .and_then(Value::as_str)
            {
                self.protocol = Some(v.to_owned());
            }
            self.initialized.insert(base.to_owned());
        }
        Ok(r)
    }

    async fn stdio_step(
        &mut self,
        s: &StdioStep,
        step: &Step,
        rt: &mut Runtime,
        timeout: Duration,
        p: &mut Problems,
    ) {
        let line = match (&s.line, &s.message) {
            (Some(l), _) => l.clone(),
            (None, Some(m)) => m.to_string(),
            (None, None) => {
                p.push("malformed case: stdio step needs `line` or `message`");
                return;
            }
        };
        if let Err(e) = rt.write_line(&line).await {
            p.push(e);
            return;
        }
        let ex = step.expect.stdio.clone().unwrap_or_default();
        if let Some(ms) = ex.silent_ms {
            if let Some(l) = rt.next_line(Duration::from_millis(ms)).await {
                p.push(format!("expected no output line, got `{}`", clip(&l, 300)));
            }
            return;
        }
        let Some(out) = rt.next_line(timeout).await else {
            p.push(format!(
                "no line on stdout within {} ms",
                timeout.as_millis()
            ));
            return;
        };
        let doc = match serde_json::from_str::<Value>(&out) {
            Ok(v) => v,
            Err(e) => {
                p.push(format!(
                    "stdout line is not JSON ({e}): `{}`",
                    clip(&out, 300)
                ));
                return;
            }
        };
        check::json_asserts("stdout line", &doc, &ex.json, p);
        if let Some(e) = &step.expect.result {
            check::result(e, &doc, p);
        }
        if let Some(e) = &step.expect.error {
            check::rpc_error(e, &doc, p);
        }
    }
}
