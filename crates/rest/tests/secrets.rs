//! The bound secret (`t0k`) never reaches a caller or a log line (semantics §8.1 item 8,
//! item 45): a whole request log, successes and every kind of failure, is replayed with
//! a TRACE-level subscriber capturing every event and span into a buffer.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{Gateway, Resp, SECRET, Setup, start, start_seed, start_seed_with};
use naftiko_testkit::{Answer, OryFake, RecordingUpstream, closed_port_url};
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

/// What must never be seen.
const NEEDLE: &str = "t0k";

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

/// The process-wide log capture (each test file is its own process).
fn logs() -> &'static Buf {
    static LOGS: OnceLock<Buf> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Buf::default();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(buf.clone())
            .try_init()
            .expect("install the capturing subscriber");
        buf
    })
}

fn captured() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

/// Every response the client saw, checked in one place.
#[derive(Default)]
struct Seen(Vec<(String, Resp)>);

impl Seen {
    fn push(&mut self, what: &str, r: Resp) -> Resp {
        self.0.push((what.to_string(), r.clone()));
        r
    }

    fn assert_clean(&self) {
        for (what, r) in &self.0 {
            assert!(
                !r.text().contains(NEEDLE),
                "{what}: body leaks: {}",
                r.text()
            );
            for (k, v) in &r.headers {
                let v = String::from_utf8_lossy(v.as_bytes());
                assert!(!v.contains(NEEDLE), "{what}: header {k} leaks: {v}");
            }
        }
    }
}

async fn seed_log(seen: &mut Seen) {
    let up = RecordingUpstream::start().await;
    up.answer(
        "GET",
        "/admin/identities/missing",
        Answer::json(404, json!({"error": {"code": 404}})),
    );
    up.answer(
        "GET",
        "/admin/identities/html",
        Answer::text(502, "text/html", "<h1>bad</h1>"),
    );
    up.answer(
        "GET",
        "/schemas/text",
        Answer::text(200, "text/plain", "nope"),
    );
    up.answer("DELETE", "/admin/identities/abc", Answer::empty(204));
    let gw = start_seed_with(
        &up.base_url(),
        &Setup {
            rest_max_body: 1024,
            ..Setup::default()
        },
    )
    .await;
    let body = r#"{"schema_id":"default","traits":{"email":"a@b.c"}}"#;
    let requests: &[(&str, &str, Option<&str>)] = &[
        ("GET", "/v1/admin/identities?ids=a&ids=b&page_size=2", None),
        ("POST", "/v1/admin/identities", Some(body)),
        (
            "PATCH",
            "/v1/admin/identities",
            Some(r#"{"identities":[]}"#),
        ),
        ("GET", "/v1/admin/identities/by/external/ext-9", None),
        (
            "GET",
            "/v1/admin/identities/a%20b?include_credential=password",
            None,
        ),
        ("PUT", "/v1/admin/identities/abc", Some(body)),
        (
            "PATCH",
            "/v1/admin/identities/abc",
            Some(r#"[{"op":"remove","path":"/x"}]"#),
        ),
        ("DELETE", "/v1/admin/identities/abc", None),
        (
            "DELETE",
            "/v1/admin/identities/abc/credentials/oidc?identifier=x",
            None,
        ),
        ("GET", "/v1/admin/identities/abc/sessions?active=true", None),
        ("DELETE", "/v1/admin/identities/abc/sessions", None),
        (
            "POST",
            "/v1/admin/recovery/code",
            Some(r#"{"identity_id":"abc"}"#),
        ),
        (
            "POST",
            "/v1/admin/recovery/link?return_to=https%3A%2F%2Fx",
            Some(r#"{"identity_id":"abc"}"#),
        ),
        ("GET", "/v1/admin/sessions?expand=identity", None),
        ("GET", "/v1/admin/sessions/s", None),
        ("DELETE", "/v1/admin/sessions/s", None),
        ("PATCH", "/v1/admin/sessions/s/extend", None),
        ("GET", "/v1/schemas", None),
        ("GET", "/v1/schemas/default", None),
        ("HEAD", "/v1/schemas/default", None),
        ("GET", "/v1/admin/identities/missing", None),
        ("GET", "/v1/admin/identities/html", None),
        ("GET", "/v1/schemas/text", None),
        ("GET", "/v1/admin/identities?page_size=abc", None),
        ("GET", "/v1/admin/sessions?active=maybe", None),
        ("POST", "/v1/admin/identities", Some("{broken")),
        ("GET", "/v1/nope", None),
        ("POST", "/v1/schemas", None),
        ("GET", "/v1/schemas/", None),
    ];
    for (method, path, body) in requests {
        let r = match body {
            Some(b) => gw.json(method, path, b).await,
            None => gw.send(method, path, &[], "").await,
        };
        seen.push(&format!("{method} {path}"), r);
    }
    let r = gw
        .send(
            "PUT",
            "/v1/admin/identities/abc",
            &[("content-type", "text/plain")],
            body,
        )
        .await;
    seen.push("text/plain body", r);
    let big = format!(r#"{{"schema_id":"{}"}}"#, "x".repeat(4096));
    let r = gw.json("POST", "/v1/admin/identities", &big).await;
    assert_eq!(seen.push("too large", r).status, 413);
    // Every upstream request carried the secret, so it really was in play.
    assert!(
        up.requests()
            .iter()
            .all(|r| r.header("authorization") == Some(SECRET))
    );
}

async fn fault_log(seen: &mut Seen) {
    let gw = start_seed(&closed_port_url()).await;
    let r = gw.get("/v1/admin/identities/abc").await;
    assert_eq!(seen.push("closed port", r).status, 502);

    let up = RecordingUpstream::start().await;
    up.answer(
        "GET",
        "/schemas",
        Answer::json(200, json!([])).with_delay(Duration::from_secs(2)),
    );
    up.answer(
        "GET",
        "/admin/identities",
        Answer::json(200, json!({"x": "y".repeat(4096)})),
    );
    let setup = Setup {
        timeout: Duration::from_millis(200),
        upstream_max_body: 1024,
        ..Setup::default()
    };
    let gw = start_seed_with(&up.base_url(), &setup).await;
    let r = gw.get("/v1/schemas").await;
    assert_eq!(seen.push("timeout", r).status, 504);
    let r = gw.get("/v1/admin/identities").await;
    assert_eq!(seen.push("too large upstream", r).status, 502);
}

async fn ory_log(seen: &mut Seen) {
    let ory = OryFake::start(SECRET).await;
    let gw: Gateway = start_seed(&ory.base_url()).await;
    let r = gw
        .json(
            "POST",
            "/v1/admin/identities",
            r#"{"schema_id":"default","traits":{"email":"o@example.com"}}"#,
        )
        .await;
    let id = seen.push("ory create", r).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = gw.get(&format!("/v1/admin/identities/{id}")).await;
    assert_eq!(seen.push("ory get", r).status, 200);
    let r = gw.get("/v1/admin/identities/none").await;
    assert_eq!(seen.push("ory 404", r).status, 404);
}

/// A secret placed in the query string, the riskiest place for error messages.
const QUERY_KEY: &str = r#"
naftiko: 1.0.0-alpha2
info:
  label: Query key
  description: apikey in the query from a bind.
binds:
- namespace: env
  keys:
    API_KEY: API_KEY
capability:
  consumes:
  - type: http
    namespace: q
    baseUri: https://q.example.com
    authentication:
      type: apikey
      key: key
      value: '{{env.API_KEY}}'
      placement: query
    resources:
    - name: r
      path: /items/{id}
      operations:
      - name: get
        method: GET
        inputParameters:
        - name: id
          in: path
  exposes:
  - type: rest
    namespace: q-rest
    port: 8080
    resources:
    - path: /items/{id}
      name: items
      operations:
      - method: GET
        call: q.get
        with:
          id: rest.id
        outputParameters:
        - type: object
          mapping: $.
"#;

async fn query_key_log(seen: &mut Seen) {
    let setup = Setup {
        vars: vec![("API_KEY".into(), "qs-t0k-q".into())],
        timeout: Duration::from_millis(200),
        ..Setup::default()
    };
    let up = RecordingUpstream::start().await;
    up.answer("GET", "/items/ok", Answer::json(200, json!({"id": "ok"})));
    up.answer("GET", "/items/html", Answer::text(500, "text/html", "<p/>"));
    up.answer(
        "GET",
        "/items/slow",
        Answer::json(200, json!({})).with_delay(Duration::from_secs(2)),
    );
    let gw = start(QUERY_KEY, &[("q", up.base_url())], &setup).await;
    for id in ["ok", "html", "slow"] {
        let r = gw.get(&format!("/items/{id}")).await;
        seen.push(&format!("query key {id}"), r);
    }
    let sent = up.requests();
    assert_eq!(sent[0].query.as_deref(), Some("key=qs-t0k-q"));

    let gw = start(QUERY_KEY, &[("q", closed_port_url())], &setup).await;
    let r = gw.get("/items/x").await;
    assert_eq!(seen.push("query key closed port", r).status, 502);
}

#[tokio::test]
async fn the_secret_never_reaches_callers_or_logs() {
    logs();
    let mut seen = Seen::default();
    seed_log(&mut seen).await;
    fault_log(&mut seen).await;
    ory_log(&mut seen).await;
    query_key_log(&mut seen).await;
    seen.assert_clean();

    let log = captured();
    // The capture works and saw the failures (so an empty buffer cannot pass).
    for expected in [
        "request failed",
        "upstream_unreachable",
        "upstream_timeout",
        "upstream response",
    ] {
        assert!(log.contains(expected), "log lacks {expected:?}:\n{log}");
    }
    for line in log.lines() {
        assert!(!line.contains(NEEDLE), "log line leaks the secret: {line}");
    }
}

#[tokio::test]
async fn debug_output_of_a_compiled_plan_hides_the_secret() {
    let up = RecordingUpstream::start().await;
    let plan = common::compile(
        &common::seed_yaml(),
        &[(common::SEED_NS, up.base_url())],
        &Setup::default(),
    );
    let dump = format!("{plan:?} {plan:#?}");
    assert!(dump.contains("kratos-identity"), "the dump is real");
    assert!(!dump.contains(NEEDLE), "Debug of the plan leaks the secret");
}
