//! Per-request CPU of the plan, through its public API (issue #8).
//!
//! Compiling a capability is not per request and is done once, outside the timings.
//! [`UnitPlan::invoke`] runs against a fake [`Upstream`] that answers a canned JSON body
//! at once, so only our own work is measured: resolving inputs, building the upstream
//! request, and shaping the answer (byte passthrough for `$.`, JSONPath mappings that
//! build new JSON otherwise). `Mapping::select` is measured on its own too.
//!
//! Run: `cargo bench -p naftiko-plan` (or `-- --quick`; `-- invoke/` for one group).

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::header::{CONTENT_TYPE, HeaderValue};
use naftiko_jsonpath::Mapping;
use naftiko_plan::{
    AnswerBody, CompileOptions, JsonArgs, MapVars, Plan, UnitPlan, UpstreamFactory, compile,
};
use naftiko_spec::LoadOptions;
use naftiko_upstream::{CallOptions, Upstream, UpstreamFuture, UpstreamRequest, UpstreamResponse};
use serde_json::{Map, Value, json};

/// The ~1.5 KB Ory identity the benchmark stub serves (shared with scripts/bench.sh).
const IDENTITY: &str = include_str!("../../../bench/identity.json");
/// The 1 KB create-identity request body of the REST/MCP POST rows.
const CREATE_BODY: &str = include_str!("../../../bench/create-identity.json");
const SEED: &str = include_str!("../../../capabilities/ory-identities.yml");
const MAPPED: &str = include_str!("mapped-identities.yml");
const GET_ID: &str = "4c2b1a7e-0d9f-4e6a-b3c8-5f1e2d3c4b5a";

/// An upstream that answers every request with the same bytes, immediately.
struct Canned {
    status: u16,
    body: Bytes,
}

impl Upstream for Canned {
    fn send(&self, req: UpstreamRequest, _opts: &CallOptions) -> UpstreamFuture<'_> {
        let status = self.status;
        let body = self.body.clone();
        Box::pin(async move {
            drop(black_box(req));
            let mut resp = http::Response::new(body);
            *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or_default();
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            Ok(UpstreamResponse::from_http(resp))
        })
    }
}

/// Polls a future that must be ready at once (the fake upstream never waits): no
/// runtime in the measurement.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the fake upstream never waits"),
    }
}

fn plan(yaml: &str, vars: &[(&str, &str)], upstream: Arc<dyn Upstream>) -> Plan {
    let loaded = naftiko_spec::load(yaml, LoadOptions::default(), &mut |_| {
        Err("no imports".into())
    });
    let doc = loaded
        .servable()
        .unwrap_or_else(|| panic!("fixture has errors: {:#?}", loaded.diagnostics));
    let factory = move |_: &str| upstream.clone();
    let factory: UpstreamFactory<'_> = &factory;
    // The seed's baseUri is empty (`--upstream` in production); the fake ignores the URL.
    let opts = CompileOptions {
        upstream_overrides: [(
            "kratos-identity".to_string(),
            "http://127.0.0.1:4434".to_string(),
        )]
        .into_iter()
        .collect(),
        ..CompileOptions::default()
    };
    compile(doc, &MapVars::new(vars.iter().copied()), factory, &opts)
        .unwrap_or_else(|d| panic!("compile failed: {d:#?}"))
}

fn rest_unit(plan: &Plan, path: &str, method: http::Method) -> Arc<UnitPlan> {
    plan.rest
        .iter()
        .flat_map(|a| &a.resources)
        .filter(|r| r.path == path)
        .flat_map(|r| &r.operations)
        .find(|(m, _)| *m == method)
        .map(|(_, u)| u.clone())
        .unwrap_or_else(|| panic!("no {method} {path}"))
}

fn tool_unit(plan: &Plan, name: &str) -> Arc<UnitPlan> {
    plan.mcp
        .iter()
        .flat_map(|a| &a.tools)
        .find(|t| t.name == name)
        .map(|t| t.unit.clone())
        .unwrap_or_else(|| panic!("no tool {name}"))
}

fn identity(id: &str) -> Value {
    let mut v: Value = serde_json::from_str(IDENTITY).unwrap_or_else(|e| panic!("{e}"));
    v["id"] = Value::String(id.to_string());
    v
}

/// `{"identities": [...], "next_page_token": ...}` of at least `min_bytes` (one identity
/// at least).
fn identity_list(min_bytes: usize) -> Bytes {
    let mut list = Vec::new();
    let mut size = 0;
    while list.is_empty() || size < min_bytes {
        let id = format!("00000000-0000-4000-8000-{:012x}", list.len());
        let one = identity(&id);
        size += one.to_string().len() + 1;
        list.push(one);
    }
    let doc = json!({"identities": list, "next_page_token": "eyJvZmZzZXQiOjEwMH0"});
    Bytes::from(serde_json::to_vec(&doc).unwrap_or_else(|e| panic!("{e}")))
}

fn args(pairs: Value) -> JsonArgs {
    match pairs {
        Value::Object(m) => JsonArgs(m),
        _ => JsonArgs(Map::new()),
    }
}

fn check(answer: &Result<naftiko_plan::Answer, naftiko_plan::InvokeError>, want: &str) {
    let body = match answer {
        Ok(a) => match &a.body {
            AnswerBody::Bytes { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
            AnswerBody::Json(v) => v.to_string(),
            AnswerBody::Empty => String::new(),
        },
        Err(e) => panic!("invoke failed: {e}"),
    };
    assert!(body.contains(want), "answer lacks {want}: {body:.200}");
}

fn seed(c: &mut Criterion) {
    let identity = Bytes::from(
        IDENTITY
            .trim_end()
            .replace("9f425a8d-7efc-4768-8f23-7647a74fdf13", GET_ID),
    );
    let vars = [("ORY_API_KEY", "Bearer x")];
    let get_plan = plan(
        SEED,
        &vars,
        Arc::new(Canned {
            status: 200,
            body: identity.clone(),
        }),
    );
    let post_plan = plan(
        SEED,
        &vars,
        Arc::new(Canned {
            status: 201,
            body: Bytes::from_static(IDENTITY.trim_end().as_bytes()),
        }),
    );
    let create_body: Value = serde_json::from_str(CREATE_BODY).unwrap_or_else(|e| panic!("{e}"));

    let mut g = c.benchmark_group("invoke/seed");
    g.throughput(Throughput::Elements(1));

    let unit = rest_unit(&get_plan, "/v1/admin/identities/{id}", http::Method::GET);
    let a = args(json!({ "id": GET_ID }));
    check(&ready(unit.invoke(&a)), GET_ID);
    g.bench_function("rest get-identity (passthrough 1.5 KB)", |b| {
        b.iter(|| ready(unit.invoke(black_box(&a))))
    });

    let unit = tool_unit(&get_plan, "get-identity");
    check(&ready(unit.invoke(&a)), GET_ID);
    g.bench_function("mcp get-identity (passthrough 1.5 KB)", |b| {
        b.iter(|| ready(unit.invoke(black_box(&a))))
    });

    let unit = rest_unit(&post_plan, "/v1/admin/identities", http::Method::POST);
    let a = args(json!({ "body": create_body }));
    check(&ready(unit.invoke(&a)), "9f425a8d");
    g.bench_function("rest create-identity (1 KB body in, 1.5 KB out)", |b| {
        b.iter(|| ready(unit.invoke(black_box(&a))))
    });
    g.finish();
}

fn mapped(c: &mut Criterion) {
    let vars = [("IDP_API_KEY", "Bearer x")];
    let mut g = c.benchmark_group("invoke/mapped");
    for (label, min) in [("1.5KB", 0), ("1MB", 1 << 20)] {
        let body = identity_list(min);
        g.throughput(Throughput::Bytes(body.len() as u64));
        let p = plan(
            MAPPED,
            &vars,
            Arc::new(Canned {
                status: 200,
                body: body.clone(),
            }),
        );
        let a = JsonArgs::default();
        let unit = rest_unit(&p, "/v1/first-identity", http::Method::GET);
        check(
            &ready(unit.invoke(&a)),
            "00000000-0000-4000-8000-000000000000",
        );
        g.bench_function(BenchmarkId::new("object properties", label), |b| {
            b.iter(|| ready(unit.invoke(black_box(&a))))
        });
        let unit = rest_unit(&p, "/v1/identity-summaries", http::Method::GET);
        check(&ready(unit.invoke(&a)), "\"firstName\":\"Alice\"");
        g.bench_function(BenchmarkId::new("array items", label), |b| {
            b.iter(|| ready(unit.invoke(black_box(&a))))
        });
        // The floor under both: parsing the upstream body into a serde_json::Value.
        g.bench_function(BenchmarkId::new("parse body only", label), |b| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(&body)))
        });
    }
    g.finish();
}

fn select(c: &mut Criterion) {
    let mut g = c.benchmark_group("jsonpath/select");
    let paths = [
        ("definite", "$.identities[0].traits.email"),
        ("wildcard", "$.identities[*].id"),
        ("filter", "$.identities[?(@.state == 'active')].id"),
    ];
    for (label, min) in [("1.5KB", 0), ("1MB", 1 << 20)] {
        let body = identity_list(min);
        let doc: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        for (name, src) in paths {
            let m = Mapping::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            g.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter(|| black_box(m.select(black_box(&doc))))
            });
        }
        // What OutputNode::Array does today: select the array, then clone it.
        let m = Mapping::parse("$.identities").unwrap_or_else(|e| panic!("{e}"));
        g.bench_function(BenchmarkId::new("array to_value (clone)", label), |b| {
            b.iter(|| m.select(black_box(&doc)).to_value())
        });
    }
    g.finish();
}

/// JSON text work done on every proxied body: validation (answers, REST bodies) and the
/// MCP result preparation (validate + escape in one pass), next to serde_json doing the
/// validation alone.
fn jsontext(c: &mut Criterion) {
    use naftiko_plan::jsontext::{escape_into, is_json};
    let mut g = c.benchmark_group("jsontext");
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<Value>(IDENTITY).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for (label, body) in [
        ("1.5KB", IDENTITY.trim_end().to_owned()),
        ("1.5KB+newline", IDENTITY.to_owned()),
        ("1.5KB pretty", pretty),
        (
            "1MB",
            String::from_utf8(identity_list(1 << 20).to_vec()).unwrap_or_default(),
        ),
    ] {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(BenchmarkId::new("is_json", label), |b| {
            b.iter(|| is_json(black_box(body.as_bytes())))
        });
        g.bench_function(BenchmarkId::new("serde IgnoredAny", label), |b| {
            b.iter(|| serde_json::from_str::<serde::de::IgnoredAny>(black_box(&body)).is_ok())
        });
        // What an MCP answer does: escaped into a response buffer (a new one each call).
        g.bench_function(BenchmarkId::new("escape_into", label), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(3 * body.len() + 200);
                escape_into(black_box(body.as_bytes()), &mut out).map(|e| (e.compact, out.len()))
            })
        });
    }
    // In a server the branch predictor never sees the same document twice in a row (and
    // the kernel and the upstream run in between): 64 identities whose strings differ in
    // length, cycled through, are closer to that than one document repeated.
    let varied = varied_identities(64);
    let bytes: u64 = varied.iter().map(|d| d.len() as u64).sum();
    g.throughput(Throughput::Bytes(bytes / varied.len() as u64));
    let mut k = 0;
    g.bench_function(BenchmarkId::new("is_json", "1.5KB varied"), |b| {
        b.iter(|| {
            k = (k + 1) % varied.len();
            is_json(black_box(varied[k].as_bytes()))
        })
    });
    g.bench_function(BenchmarkId::new("escape_into", "1.5KB varied"), |b| {
        b.iter(|| {
            k = (k + 1) % varied.len();
            let body = &varied[k];
            let mut out = Vec::with_capacity(3 * body.len() + 200);
            escape_into(black_box(body.as_bytes()), &mut out).map(|e| (e.compact, out.len()))
        })
    });
    g.finish();
}

/// `n` compact copies of [`IDENTITY`], each string value cut or padded to a length drawn
/// from a fixed xorshift sequence (0 to 40 bytes): the same set on every run.
fn varied_identities(n: usize) -> Vec<String> {
    fn reshape(v: &mut Value, next: &mut dyn FnMut() -> usize) {
        match v {
            Value::String(s) => {
                let len = next() % 41;
                *s = s.chars().cycle().take(len).collect();
            }
            Value::Array(items) => items.iter_mut().for_each(|i| reshape(i, next)),
            Value::Object(members) => members.values_mut().for_each(|m| reshape(m, next)),
            _ => {}
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    (0..n)
        .map(|_| {
            let mut v: Value = serde_json::from_str(IDENTITY).unwrap_or_else(|e| panic!("{e}"));
            reshape(&mut v, &mut next);
            v.to_string()
        })
        .collect()
}

criterion_group!(benches, seed, mapped, select, jsontext);
criterion_main!(benches);
