//! Consumes authentication (semantics §8.2 items 26–30, §8.1 item 7): apikey in query and
//! header, bearer and basic, values from binds or request inputs, `in: environment`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Gateway, Setup, start};
use naftiko_testkit::{Recorded, RecordingUpstream};

/// One consumes namespace per authentication kind, all pointed at the same upstream.
const AUTH: &str = r#"
naftiko: 1.0.0-alpha2
info:
  label: Auth
  description: Consumes authentication kinds.
binds:
- namespace: env
  keys:
    API_TOKEN: API_TOKEN
    NOTION_KEY: NOTION_KEY
    TOKEN: TOKEN
capability:
  consumes:
  - type: http
    namespace: q-auth
    baseUri: https://q.example.com
    authentication:
      type: apikey
      key: api_key
      value: '{{token}}'
      placement: query
    resources:
    - name: r
      path: /q
      operations:
      - name: get
        method: GET
        inputParameters:
        - name: token
          in: environment
        - name: page
          in: query
  - type: http
    namespace: h-auth
    baseUri: https://h.example.com
    authentication:
      type: apikey
      key: X-API-Key
      value: '{{API_TOKEN}}'
    resources:
    - name: r
      path: /h
      operations:
      - name: get
        method: GET
  - type: http
    namespace: bearer-auth
    baseUri: https://b.example.com
    authentication:
      type: bearer
      token: '{{NOTION_KEY}}'
    resources:
    - name: r
      path: /b
      operations:
      - name: get
        method: GET
  - type: http
    namespace: basic-auth
    baseUri: https://basic.example.com
    authentication:
      type: basic
      username: alice
      password: secret
    resources:
    - name: r
      path: /basic
      operations:
      - name: get
        method: GET
  - type: http
    namespace: env-auth
    baseUri: https://e.example.com
    authentication:
      type: bearer
      token: '{{TOKEN}}'
    resources:
    - name: r
      path: /e
      operations:
      - name: get
        method: GET
        inputParameters:
        - name: TOKEN
          in: environment
  exposes:
  - type: rest
    namespace: auth-rest
    port: 8080
    resources:
    - path: /q
      name: q
      operations:
      - method: GET
        call: q-auth.get
        with:
          token: rest.token
          page: rest.page
    - path: /h
      name: h
      operations:
      - method: GET
        call: h-auth.get
    - path: /b
      name: b
      operations:
      - method: GET
        call: bearer-auth.get
    - path: /basic
      name: basic
      operations:
      - method: GET
        call: basic-auth.get
    - path: /e
      name: e
      operations:
      - method: GET
        call: env-auth.get
"#;

/// Like [`AUTH`]'s `env-auth`, but `TOKEN` is not a bind: only `in: environment`.
const ENV_ONLY: &str = r#"
naftiko: 1.0.0-alpha2
info:
  label: Env
  description: in environment without binds.
capability:
  consumes:
  - type: http
    namespace: env-auth
    baseUri: https://e.example.com
    authentication:
      type: bearer
      token: '{{TOKEN}}'
    resources:
    - name: r
      path: /e
      operations:
      - name: get
        method: GET
        inputParameters:
        - name: TOKEN
          in: environment
  exposes:
  - type: rest
    namespace: env-rest
    port: 8080
    resources:
    - path: /e
      name: e
      operations:
      - method: GET
        call: env-auth.get
"#;

fn vars() -> Vec<(String, String)> {
    [
        ("API_TOKEN", "key-123"),
        ("NOTION_KEY", "ntn_test_abc123"),
        ("TOKEN", "x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn gateway() -> (RecordingUpstream, Gateway) {
    let up = RecordingUpstream::start().await;
    let overrides: Vec<(&str, String)> =
        ["q-auth", "h-auth", "bearer-auth", "basic-auth", "env-auth"]
            .into_iter()
            .map(|ns| (ns, up.base_url()))
            .collect();
    let setup = Setup {
        vars: vars(),
        ..Setup::default()
    };
    let gw = start(AUTH, &overrides, &setup).await;
    (up, gw)
}

async fn call(path: &str) -> Recorded {
    let (up, gw) = gateway().await;
    let resp = gw.get(path).await;
    assert_eq!(resp.status, 200, "{path}: {}", resp.text());
    let reqs = up.wait_for_requests(1, Duration::from_secs(5)).await;
    assert_eq!(reqs.len(), 1);
    reqs.into_iter().next().unwrap()
}

#[tokio::test]
async fn apikey_in_query_from_a_request_input() {
    let r = call("/q?token=abc123").await;
    assert_eq!(r.path, "/q");
    assert_eq!(r.query.as_deref(), Some("api_key=abc123"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("token"), None);
}

#[tokio::test]
async fn apikey_in_query_is_encoded_and_follows_other_parameters() {
    let r = call("/q?token=a%20b%26c%3D&page=2").await;
    assert_eq!(
        r.query_pairs(),
        [
            ("page".to_string(), "2".to_string()),
            ("api_key".into(), "a b&c=".into())
        ]
    );
}

#[tokio::test]
async fn apikey_in_query_without_its_input_is_400_and_nothing_is_sent() {
    let (up, gw) = gateway().await;
    let resp = gw.get("/q").await;
    let p = resp.problem(400, "missing_input");
    assert!(p["detail"].as_str().unwrap().contains("token"), "{p}");
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn apikey_without_placement_goes_in_a_header() {
    let r = call("/h").await;
    assert_eq!(r.header_all("x-api-key"), vec!["key-123"]);
    assert_eq!(r.query, None);
}

#[tokio::test]
async fn bearer_token_from_a_bind() {
    let r = call("/b").await;
    assert_eq!(
        r.header_all("authorization"),
        vec!["Bearer ntn_test_abc123"]
    );
}

#[tokio::test]
async fn basic_credentials_are_base64_encoded() {
    let r = call("/basic").await;
    assert_eq!(
        r.header_all("authorization"),
        vec!["Basic YWxpY2U6c2VjcmV0"]
    );
}

#[tokio::test]
async fn environment_parameter_bound_by_binds_feeds_bearer_and_is_not_sent() {
    let r = call("/e").await;
    assert_eq!(r.header_all("authorization"), vec!["Bearer x"]);
    assert_eq!(r.header("token"), None);
    assert_eq!(r.query, None);
}

#[tokio::test]
async fn environment_parameter_without_a_bind_is_read_from_vars() {
    let up = RecordingUpstream::start().await;
    let setup = Setup {
        vars: vec![("TOKEN".into(), "x".into())],
        ..Setup::default()
    };
    let gw = start(ENV_ONLY, &[("env-auth", up.base_url())], &setup).await;
    let resp = gw.get("/e").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = up.requests().into_iter().next().unwrap();
    assert_eq!(r.header_all("authorization"), vec!["Bearer x"]);
}

#[tokio::test]
async fn seed_auth_value_in_flat_form_also_resolves() {
    let up = RecordingUpstream::start().await;
    let yaml = common::seed_yaml().replace("'{{env.ORY_API_KEY}}'", "'{{ORY_API_KEY}}'");
    assert!(yaml.contains("'{{ORY_API_KEY}}'"));
    let gw = start(
        &yaml,
        &[(common::SEED_NS, up.base_url())],
        &Setup::default(),
    )
    .await;
    assert_eq!(gw.get("/v1/schemas").await.status, 200);
    let r = up.requests().into_iter().next().unwrap();
    assert_eq!(r.header_all("authorization"), vec![common::SECRET]);
}

#[tokio::test]
async fn base_uri_path_prefix_is_joined_with_one_slash() {
    let up = RecordingUpstream::start().await;
    let setup = Setup {
        vars: vars(),
        ..Setup::default()
    };
    let base = format!("{}/api/v2/", up.base_url());
    let overrides: Vec<(&str, String)> =
        ["q-auth", "h-auth", "bearer-auth", "basic-auth", "env-auth"]
            .into_iter()
            .map(|ns| (ns, base.clone()))
            .collect();
    let gw = start(AUTH, &overrides, &setup).await;
    assert_eq!(gw.get("/h").await.status, 200);
    assert_eq!(up.requests()[0].path, "/api/v2/h");
}
