//! Throughput of `tools/call` against a REST-style handler calling the same unit, over the
//! same upstream. Ignored by default; run with
//! `cargo test --release -p naftiko-mcp --test bench -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use common::*;
use naftiko_mcp::McpConfig;
use naftiko_plan::{AnswerBody, JsonArgs, UnitPlan};
use serde_json::json;
use tokio::net::TcpListener;
use tower::ServiceExt;

const CONCURRENCY: usize = 8;
const RUN: Duration = Duration::from_secs(1);
/// Alternating rounds, so load from other processes hits both sides alike.
const ROUNDS: usize = 5;

async fn spawn(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// An upstream answering a realistic identity object.
async fn upstream() -> String {
    let identity = json!({"id":"9f425a8d-7efc-4768-8f23-7647a74fdf13","schema_id":"default","schema_url":"http://127.0.0.1/schemas/ZGVmYXVsdA","state":"active","state_changed_at":"2026-05-19T10:00:00Z","traits":{"email":"ada@example.com","name":{"first":"Ada","last":"Lovelace"}},"verifiable_addresses":[{"id":"a1","value":"ada@example.com","verified":false,"via":"email","status":"sent"}],"recovery_addresses":[{"id":"r1","value":"ada@example.com","via":"email"}],"metadata_public":null,"created_at":"2026-05-19T10:00:00Z","updated_at":"2026-05-19T10:00:00Z","organization_id":null}).to_string();
    spawn(Router::new().fallback(move || {
        let body = identity.clone();
        async move { ([("content-type", "application/json")], body) }
    }))
    .await
}

async fn rest_like(
    State(unit): State<Arc<UnitPlan>>,
    Path(id): Path<String>,
) -> axum::response::Response {
    let args = JsonArgs(json!({"id": id}).as_object().unwrap().clone());
    match unit.invoke(&args).await {
        Ok(a) => match a.body {
            AnswerBody::Bytes { bytes, .. } => {
                ([("content-type", "application/json")], bytes).into_response()
            }
            AnswerBody::Json(v) => axum::Json(v).into_response(),
            AnswerBody::Empty => http::StatusCode::NO_CONTENT.into_response(),
        },
        Err(e) => (e.status(), e.to_string()).into_response(),
    }
}

async fn measure<F, Fut>(label: &str, make: F) -> f64
where
    F: Fn(reqwest::Client, u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = ()> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (make, done) = (make.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0;
            while start.elapsed() < RUN {
                make(client.clone(), i).await;
                i += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    println!("{label}: {rate:.0} req/s");
    rate
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark"]
async fn tools_call_throughput_vs_rest_style() {
    let up = upstream().await;
    let plan = seed_plan(&up);
    let unit = plan
        .tools
        .iter()
        .find(|t| t.name == "get-identity")
        .unwrap()
        .unit
        .clone();
    let rest = spawn(
        Router::new()
            .route("/v1/admin/identities/{id}", get(rest_like))
            .with_state(unit),
    )
    .await;
    let mcp = serve_source(Arc::new(plan), McpConfig::default())
        .await
        .url();
    let session = initialize(&mcp, "2025-11-25").await;

    let rest_url = Arc::new(format!("{rest}/v1/admin/identities/"));
    let rest_call = move |c: reqwest::Client, i: u64| {
        let url = rest_url.clone();
        async move {
            let r = c.get(format!("{url}id-{i}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
        }
    };
    let (mcp, session) = (Arc::new(mcp), Arc::new(session));
    let mcp_call = move |c: reqwest::Client, i: u64| {
        let (url, session) = (mcp.clone(), session.clone());
        async move {
            let body =
                call_body(i as i64, "get-identity", json!({"id": format!("id-{i}")})).to_string();
            let r = c
                .post(url.as_str())
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("mcp-session-id", session.as_str())
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
        }
    };
    let (mut rest_total, mut mcp_total) = (0.0, 0.0);
    for _ in 0..ROUNDS {
        rest_total += measure("REST-style", rest_call.clone()).await;
        mcp_total += measure("MCP tools/call", mcp_call.clone()).await;
    }
    println!("MCP / REST-style = {:.2}", mcp_total / rest_total);
}

const IDENTITY: &str = r#"{"id":"9f425a8d-7efc-4768-8f23-7647a74fdf13","schema_id":"default","state":"active","traits":{"email":"ada@example.com","name":{"first":"Ada","last":"Lovelace"}},"verifiable_addresses":[{"id":"a1","value":"ada@example.com","verified":false,"via":"email","status":"sent"}],"recovery_addresses":[{"id":"r1","value":"ada@example.com","via":"email"}],"metadata_public":null,"created_at":"2026-05-19T10:00:00Z","updated_at":"2026-05-19T10:00:00Z"}"#;

/// An upstream that answers at once, so only adapter work is measured.
struct Canned;

impl naftiko_upstream::Upstream for Canned {
    fn send(
        &self,
        _req: naftiko_upstream::UpstreamRequest,
        _opts: &naftiko_upstream::CallOptions,
    ) -> naftiko_upstream::UpstreamFuture<'_> {
        Box::pin(async {
            let resp = http::Response::builder()
                .header("content-type", "application/json")
                .body(bytes::Bytes::from_static(IDENTITY.as_bytes()))
                .unwrap();
            Ok(naftiko_upstream::UpstreamResponse::from_http(resp))
        })
    }
}

async fn time_calls<F, Fut>(
    label: &str,
    call: F,
    make: impl Fn(u64) -> http::Request<axum::body::Body>,
) -> f64
where
    F: Fn(http::Request<axum::body::Body>) -> Fut,
    Fut: std::future::Future<Output = axum::response::Response>,
{
    const N: u64 = 20_000;
    let start = Instant::now();
    for i in 0..N {
        let resp = call(make(i)).await;
        assert_eq!(resp.status(), 200);
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
    }
    let per = start.elapsed().as_secs_f64() * 1e9 / N as f64;
    println!("{label}: {per:.0} ns/request");
    per
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "benchmark"]
async fn in_process_adapter_overhead() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../capabilities/ory-identities.yml"
    );
    let src = std::fs::read_to_string(path).unwrap();
    let loaded = naftiko_spec::load(&src, naftiko_spec::LoadOptions::default(), &mut |_| {
        Err("no imports".into())
    });
    let opts = naftiko_plan::CompileOptions {
        upstream_overrides: [(
            "kratos-identity".to_owned(),
            "http://upstream.invalid".to_owned(),
        )]
        .into(),
        ..Default::default()
    };
    let upstreams = |_ns: &str| Arc::new(Canned) as Arc<dyn naftiko_upstream::Upstream>;
    let plan = naftiko_plan::compile(
        loaded.servable().unwrap(),
        &naftiko_plan::MapVars::new([("ORY_API_KEY", "Bearer t0k")]),
        &upstreams,
        &opts,
    )
    .unwrap();
    let plan = Arc::new(plan.mcp.into_iter().next().unwrap());
    let unit = plan
        .tools
        .iter()
        .find(|t| t.name == "get-identity")
        .unwrap()
        .unit
        .clone();
    let rest = Router::new()
        .route("/v1/admin/identities/{id}", get(rest_like))
        .with_state(unit);
    let mcp = naftiko_mcp::service(Arc::new(plan), McpConfig::default()).service;
    let init = initialize_body("2025-11-25").to_string();
    let post = |body: String, session: Option<&str>| {
        let mut b = http::Request::post("/mcp")
            .header("host", "127.0.0.1:9090")
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
        if let Some(s) = session {
            b = b.header("mcp-session-id", s);
        }
        b.body(axum::body::Body::from(body)).unwrap()
    };
    let call_mcp = |req| {
        let mcp = mcp.clone();
        async move { hyper::service::Service::call(&mcp, req).await.unwrap() }
    };
    let call_rest = |req| {
        let rest = rest.clone();
        async move { rest.oneshot(req).await.unwrap() }
    };
    let resp = call_mcp(post(init, None)).await;
    let session = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (mut rest_ns, mut mcp_ns) = (0.0, 0.0);
    for _ in 0..3 {
        rest_ns += time_calls("REST-style in process", call_rest, |i| {
            http::Request::get(format!("/v1/admin/identities/id-{i}"))
                .body(axum::body::Body::empty())
                .unwrap()
        })
        .await;
        mcp_ns += time_calls("MCP tools/call in process", call_mcp, |i| post(format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"get-identity","arguments":{{"id":"id-{i}"}}}}}}"#), Some(&session))).await;
    }
    println!(
        "MCP adapter overhead over REST-style: {:.0} ns/request",
        (mcp_ns - rest_ns) / 3.0
    );
}
