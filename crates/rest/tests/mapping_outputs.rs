//! Output mappings (semantics §8.4 items 47, 49–54): object properties, first non-null
//! output, missing properties, raw fallback, `maxLength`, `values`, arrays, no outputs,
//! and mock operations that never call the upstream.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, Setup, start};
use naftiko_testkit::{Answer, RecordingUpstream};
use serde_json::{Value, json};

const DOCS: &str = r#"
naftiko: 1.0.0-alpha2
info:
  label: Docs
  description: Output shapes.
capability:
  consumes:
  - type: http
    namespace: docs
    baseUri: https://docs.example.com
    resources:
    - name: doc
      path: /doc
      operations:
      - name: get-doc
        method: GET
  exposes:
  - type: rest
    namespace: docs-rest
    port: 8080
    resources:
    - path: /object
      name: object
      operations:
      - method: GET
        call: docs.get-doc
        outputParameters:
        - type: object
          properties:
            id:
              type: string
              mapping: $.user.id
            name:
              type: string
              mapping: $.user.name
    - path: /partial
      name: partial
      operations:
      - method: GET
        call: docs.get-doc
        outputParameters:
        - type: object
          properties:
            id:
              type: string
              mapping: $.user.id
            email:
              type: string
              mapping: $.user.email
    - path: /first
      name: first
      operations:
      - method: GET
        call: docs.get-doc
        outputParameters:
        - name: missing
          type: string
          mapping: $.missing
        - name: id
          type: string
          mapping: $.user.id
    - path: /none
      name: none
      operations:
      - method: GET
        call: docs.get-doc
        outputParameters:
        - type: string
          mapping: $.missing
        - type: string
          mapping: $.also.missing
    - path: /short
      name: short
      operations:
      - method: GET
        call: docs.get-doc
        outputParameters:
        - type: string
          mapping: $.long
          maxLength: 5
    - path: /values
      name: values
      operations:
      - method: GET
        call: docs.get-doc
        outputParameters:
        - type: object
          mapping: $.data
          values:
            mapping: $.id
    - path: /array
      name: array
      operations:
      - method: GET
        call: docs.get-doc
        outputParameters:
        - type: array
          mapping: $.vessels
          items:
            type: object
            properties:
              code:
                type: string
                mapping: $.vesselCode
    - path: /raw
      name: raw
      operations:
      - method: GET
        call: docs.get-doc
    - path: /mock
      name: mock
      operations:
      - method: GET
        outputParameters:
        - type: string
          value: ok
    - path: /greet
      name: greet
      inputParameters:
      - name: name
        in: query
      operations:
      - method: GET
        outputParameters:
        - name: greeting
          type: string
          value: 'Hello, {{name}}!'
"#;

fn doc() -> Value {
    json!({
        "user": {"id": "u-1", "name": "Alice"},
        "long": "abcdefghijkl",
        "data": {"a": {"id": 1, "v": "x"}, "b": {"id": 2}},
        "vessels": [{"vesselCode": "V1", "x": 1}, {"vesselCode": "V2"}, {"other": true}],
    })
}

async fn docs(answer: Answer) -> (RecordingUpstream, Gateway) {
    let up = RecordingUpstream::start().await;
    up.answer("GET", "/doc", answer);
    let gw = start(DOCS, &[("docs", up.base_url())], &Setup::default()).await;
    (up, gw)
}

async fn mapped(path: &str) -> Value {
    let (up, gw) = docs(Answer::json(200, doc())).await;
    let resp = gw.get(path).await;
    assert_eq!(resp.status, 200, "{path}: {}", resp.text());
    assert_eq!(
        resp.header("content-type"),
        Some("application/json"),
        "{path}"
    );
    assert_eq!(up.request_count(), 1);
    resp.json()
}

#[tokio::test]
async fn object_properties_are_mapped_from_the_root() {
    assert_eq!(
        mapped("/object").await,
        json!({"id": "u-1", "name": "Alice"})
    );
}

#[tokio::test]
async fn missing_property_is_null() {
    assert_eq!(
        mapped("/partial").await,
        json!({"id": "u-1", "email": null})
    );
}

#[tokio::test]
async fn first_non_null_output_wins_unwrapped() {
    assert_eq!(mapped("/first").await, json!("u-1"));
}

#[tokio::test]
async fn max_length_truncates_strings() {
    assert_eq!(mapped("/short").await, json!("abcde"));
}

#[tokio::test]
async fn values_map_each_entry() {
    assert_eq!(mapped("/values").await, json!({"a": 1, "b": 2}));
}

#[tokio::test]
async fn array_items_are_mapped_relative_to_each_element() {
    assert_eq!(
        mapped("/array").await,
        json!([{"code": "V1"}, {"code": "V2"}, {"code": null}])
    );
}

#[tokio::test]
async fn all_null_outputs_fall_back_to_the_raw_body() {
    let raw = r#"{"user":{"id":"u-1"},  "untouched": [1, 2.50]}"#;
    let (_, gw) = docs(Answer::text(200, "application/json", raw)).await;
    let resp = gw.get("/none").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), raw, "unchanged bytes");
    assert_eq!(resp.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn no_outputs_pass_the_raw_body_and_content_type() {
    let csv = "a,b\n1,2\n";
    let (_, gw) = docs(Answer::text(200, "text/csv; charset=utf-8", csv)).await;
    let resp = gw.get("/raw").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), csv);
    assert_eq!(resp.header("content-type"), Some("text/csv; charset=utf-8"));
}

#[tokio::test]
async fn no_outputs_pass_upstream_errors_raw() {
    let (_, gw) = docs(Answer::text(503, "text/html", "<p>down</p>")).await;
    let resp = gw.get("/raw").await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.text(), "<p>down</p>");
    assert_eq!(resp.header("content-type"), Some("text/html"));
}

#[tokio::test]
async fn mapped_operation_passes_an_upstream_json_error_unmapped() {
    let err = json!({"error": {"message": "no such user"}});
    let (_, gw) = docs(Answer::json(404, err.clone())).await;
    let resp = gw.get("/object").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json(), err);
}

#[tokio::test]
async fn mapped_operation_rejects_a_non_json_success_body() {
    let (_, gw) = docs(Answer::text(200, "text/html", "<html/>")).await;
    let resp = gw.get("/object").await;
    resp.problem(502, "upstream_bad_body");
}

#[tokio::test]
async fn mock_constant_answers_without_calling_the_upstream() {
    let (up, gw) = docs(Answer::json(200, doc())).await;
    let resp = gw.get("/mock").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.json(), json!({"value": "ok"}));
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn mock_template_sees_the_inputs() {
    let (up, gw) = docs(Answer::json(200, doc())).await;
    let resp = gw.get("/greet?name=Alice").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"greeting": "Hello, Alice!"}));
    let resp = gw.get("/greet?name=%22Bob%22%20%26%20co").await;
    assert_eq!(resp.json(), json!({"greeting": "Hello, \"Bob\" & co!"}));
    assert_eq!(up.request_count(), 0);
}
