//! Shared harness for the REST integration tests: compiles a capability, serves it on
//! `127.0.0.1:0` with real sockets, and talks to it with a plain HTTP/1.1 client.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use naftiko_testkit::Recorded;
use naftiko_upstream::{CallOptions, HttpUpstream, Upstream};
use serde_json::Value;

/// The bound secret every test capability authenticates with.
pub const SECRET: &str = "Bearer t0k";
/// The consumes namespace of the seed.
pub const SEED_NS: &str = "kratos-identity";

/// Deploy-time knobs of a test gateway.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Upstream call timeout.
    pub timeout: Duration,
    /// Largest upstream response body.
    pub upstream_max_body: usize,
    /// Largest REST request body.
    pub rest_max_body: usize,
    /// Bind variables (source key → value).
    pub vars: Vec<(String, String)>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            upstream_max_body: 1 << 20,
            rest_max_body: 1 << 20,
            vars: vec![("ORY_API_KEY".into(), SECRET.into())],
        }
    }
}

/// The seed capability's text.
pub fn seed_yaml() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../capabilities/ory-identities.yml"
    );
    std::fs::read_to_string(path).expect("read the seed capability")
}

/// Compiles `yaml` with the given upstream overrides; panics with the diagnostics.
pub fn compile(yaml: &str, overrides: &[(&str, String)], setup: &Setup) -> naftiko_plan::Plan {
    let loaded = naftiko_spec::load(yaml, naftiko_spec::LoadOptions::default(), &mut |_| {
        Err("no imports".into())
    });
    let doc = loaded
        .servable()
        .unwrap_or_else(|| panic!("capability has errors: {:#?}", loaded.diagnostics));
    let opts = naftiko_plan::CompileOptions {
        upstream_overrides: overrides
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect::<HashMap<_, _>>(),
        call: CallOptions {
            timeout: setup.timeout,
            max_body: setup.upstream_max_body,
        },
    };
    let client: Arc<dyn Upstream> = Arc::new(HttpUpstream::new().unwrap());
    let vars = naftiko_plan::MapVars::new(setup.vars.iter().cloned());
    naftiko_plan::compile(doc, &vars, &|_| client.clone(), &opts)
        .unwrap_or_else(|d| panic!("compile failed: {d:#?}"))
}

/// A running gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// Serves every REST adapter of `yaml` on one fresh loopback port.
pub async fn start(yaml: &str, overrides: &[(&str, String)], setup: &Setup) -> Gateway {
    let plan = compile(yaml, overrides, setup);
    let routes = naftiko_rest::RestRoutes::new(plan.rest.iter()).unwrap();
    let service = naftiko_rest::service(
        Arc::new(Arc::new(routes)),
        naftiko_rest::RestConfig {
            max_body: setup.rest_max_body,
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    naftiko_testkit::serve_http1(listener, service);
    Gateway {
        base: format!("http://{addr}"),
    }
}

/// The seed gateway with `kratos-identity` pointed at `upstream`.
pub async fn start_seed(upstream: &str) -> Gateway {
    start_seed_with(upstream, &Setup::default()).await
}

/// The seed gateway with custom settings.
pub async fn start_seed_with(upstream: &str, setup: &Setup) -> Gateway {
    start(&seed_yaml(), &[(SEED_NS, upstream.to_string())], setup).await
}

impl Gateway {
    /// Sends a request to `path_and_query` (sent verbatim, no normalisation).
    pub async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Resp {
        send(
            method,
            &format!("{}{path_and_query}", self.base),
            headers,
            body,
        )
        .await
    }

    /// `GET path`.
    pub async fn get(&self, path_and_query: &str) -> Resp {
        self.send("GET", path_and_query, &[], Bytes::new()).await
    }

    /// A request with a JSON body (`Content-Type: application/json`).
    pub async fn json(&self, method: &str, path_and_query: &str, body: &str) -> Resp {
        self.send(
            method,
            path_and_query,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }
}

/// A fully read response.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Resp {
    /// The body as JSON; panics (showing the body) if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}); status {}: {}",
                self.status,
                self.text()
            )
        })
    }

    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an RFC 9457 problem with `status` and `code`; returns the problem object.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem content type; body: {}",
            self.text()
        );
        let p = self.json();
        assert_eq!(p["status"], status, "problem status: {p}");
        assert_eq!(p["code"], code, "problem code: {p}");
        assert!(p["title"].is_string(), "problem title: {p}");
        assert!(p["detail"].is_string(), "problem detail: {p}");
        p
    }

    /// The problem's `detail` text.
    pub fn detail(&self) -> String {
        self.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Sends one request with a fresh client; the URI is used exactly as given.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Resp {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let req = builder.body(Full::new(body.into())).unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

/// Query pairs sorted, for multiset comparison.
pub fn query_multiset(r: &Recorded) -> Vec<(String, String)> {
    let mut q = r.query_pairs();
    q.sort();
    q
}

/// Sorted owned pairs from literals.
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = p
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    v.sort();
    v
}
