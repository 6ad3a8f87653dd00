//! Generic request building with small capabilities (semantics §8.2 items 10, 16–22,
//! §8.3 items 34–36, 39): templated paths and headers, exposed body inputs, body
//! templates, namespace references and unbound path variables.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Gateway, Setup, start};
use naftiko_testkit::{Answer, Recorded, RecordingUpstream};
use serde_json::{Value, json};

const SHIPS: &str = r#"
naftiko: 1.0.0-alpha2
info:
  label: Ships
  description: Templated paths and headers.
capability:
  consumes:
  - type: http
    namespace: ships
    baseUri: https://ships.example.com
    inputParameters:
    - name: X-API-Key
      in: header
      value: ABC123
    resources:
    - name: ship
      path: /ships/{{imo_number}}
      operations:
      - name: get-ship
        method: GET
        inputParameters:
        - name: imo_number
          in: path
        - name: requestId
          in: environment
        - name: X-Trace
          in: header
          value: 'trace-{{requestId}}'
    - name: crew
      path: /ships/{id}/crew
      operations:
      - name: get-crew
        method: GET
        inputParameters:
        - name: id
          in: path
  exposes:
  - type: rest
    namespace: ships-rest
    port: 8080
    resources:
    - path: /ships/{{imo}}
      name: ship
      inputParameters:
      - name: imo
        in: path
      - name: X-Req
        in: header
      operations:
      - method: GET
        name: get-ship
        call: ships.get-ship
        with:
          imo_number: '{{imo}}'
          requestId: '{{X-Req}}'
    - path: /fleet/{id}/crew
      name: crew
      operations:
      - method: GET
        name: get-crew
        call: ships.get-crew
        with:
          id: rest.id
    - path: /crew
      name: crew-without-id
      operations:
      - method: GET
        name: get-crew-unbound
        call: ships.get-crew
        with:
          id: rest.id
"#;

const USERS: &str = r#"
naftiko: 1.0.0-alpha2
info:
  label: Users
  description: Exposed body inputs and body templates.
capability:
  consumes:
  - type: http
    namespace: users
    baseUri: https://users.example.com
    resources:
    - name: search
      path: /search
      operations:
      - name: search
        method: POST
        inputParameters:
        - name: userId
          in: environment
        - name: q
          in: query
          value: '{{userId}}'
    - name: users
      path: /users
      operations:
      - name: create-text
        method: POST
        body: '{"id":"{{userId}}","name":"{{userName}}"}'
      - name: create-json
        method: PUT
        body:
          type: json
          data:
            id: '{{userId}}'
            name: '{{userName}}'
            greeting: 'Hello {{userName}}!'
    - name: ship-body
      path: /shipyard
      operations:
      - name: order
        method: POST
        body: |
          {"shipImo": "{{shipImo}}"}
      - name: crew
        method: PUT
        body: '{"crewIds": {{crewIds}}}'
      - name: whole
        method: PATCH
        body:
          type: json
          data:
            ship: '{{shipImo}}'
  exposes:
  - type: rest
    namespace: shipyard-api
    port: 8080
    resources:
    - path: /search
      name: search
      operations:
      - method: POST
        name: search
        call: users.search
        inputParameters:
        - name: userId
          in: body
          value: $.user.id
    - path: /users
      name: users
      inputParameters:
      - name: userId
        in: body
        value: $.user.id
      - name: userName
        in: body
        value: $.user.name
      operations:
      - method: POST
        name: create-text
        call: users.create-text
      - method: PUT
        name: create-json
        call: users.create-json
    - path: /orders
      name: orders
      operations:
      - method: POST
        name: order
        call: users.order
        with:
          shipImo: shipyard-api.shipImo
      - method: PUT
        name: crew
        call: users.crew
        with:
          crewIds: rest.crewIds
      - method: PATCH
        name: whole
        call: users.whole
        inputParameters:
        - name: shipImo
          in: body
"#;

async fn ships() -> (RecordingUpstream, Gateway) {
    let up = RecordingUpstream::start().await;
    let gw = start(SHIPS, &[("ships", up.base_url())], &Setup::default()).await;
    (up, gw)
}

async fn users() -> (RecordingUpstream, Gateway) {
    let up = RecordingUpstream::start().await;
    let gw = start(USERS, &[("users", up.base_url())], &Setup::default()).await;
    (up, gw)
}

async fn last(up: &RecordingUpstream, n: usize) -> Recorded {
    let reqs = up.wait_for_requests(n, Duration::from_secs(5)).await;
    assert_eq!(reqs.len(), n, "{reqs:#?}");
    reqs.into_iter().last().unwrap()
}

#[tokio::test]
async fn templated_path_and_static_consumes_header() {
    let (up, gw) = ships().await;
    let resp = gw.get("/ships/IMO-9321483").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = last(&up, 1).await;
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/ships/IMO-9321483")
    );
    assert_eq!(r.header_all("x-api-key"), vec!["ABC123"]);
    assert_eq!(r.header("x-trace"), None, "no X-Req, so no X-Trace");

    gw.get("/fleet/F-1/crew").await;
    let r = last(&up, 2).await;
    assert_eq!(r.path, "/ships/F-1/crew");
    assert_eq!(r.header_all("x-api-key"), vec!["ABC123"]);
}

#[tokio::test]
async fn header_input_is_case_insensitive_and_feeds_a_header_template() {
    let (up, gw) = ships().await;
    gw.send("GET", "/ships/IMO-1", &[("x-req", "abc-123")], "")
        .await;
    let r = last(&up, 1).await;
    assert_eq!(r.header("x-trace"), Some("trace-abc-123"));
    assert_eq!(
        r.header("x-req"),
        None,
        "inputs are not forwarded as headers"
    );
    assert_eq!(
        r.header("requestid"),
        None,
        "environment params only feed templates"
    );

    gw.send("GET", "/ships/IMO-1", &[("X-REQ", "7")], "").await;
    assert_eq!(last(&up, 2).await.header("x-trace"), Some("trace-7"));
}

#[tokio::test]
async fn double_and_single_brace_routes_are_the_same_route() {
    let (_, gw) = ships().await;
    assert_eq!(gw.get("/ships/a").await.status, 200);
    assert_eq!(gw.get("/fleet/a/crew").await.status, 200);

    let both = SHIPS.replace("path: /fleet/{id}/crew", "path: /ships/{imo}");
    let loaded = naftiko_spec::load(&both, naftiko_spec::LoadOptions::default(), &mut |_| {
        Err("no imports".into())
    });
    let conflict = match loaded.servable() {
        None => true,
        Some(_) => {
            let plan = common::compile(&both, &[], &Setup::default());
            naftiko_rest::RestRoutes::new(plan.rest.iter()).is_err()
        }
    };
    assert!(
        conflict,
        "/ships/{{imo}} and /ships/{{{{imo}}}} must collide"
    );
}

#[tokio::test]
async fn unbound_path_variable_is_400_naming_it_and_nothing_is_sent() {
    let (up, gw) = ships().await;
    let resp = gw.get("/crew").await;
    let p = resp.problem(400, "missing_input");
    assert!(p["detail"].as_str().unwrap().contains("'id'"), "{p}");
    assert_eq!(up.request_count(), 0);
    // Supplied another way (query), the same operation works.
    let resp = gw.get("/crew?id=c%2F1").await;
    assert_eq!(resp.status, 200);
    assert_eq!(last(&up, 1).await.path, "/ships/c%2F1/crew");
}

#[tokio::test]
async fn body_jsonpath_input_feeds_a_query_value_unquoted() {
    let (up, gw) = users().await;
    let resp = gw.json("POST", "/search", r#"{"user":{"id":"999"}}"#).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = last(&up, 1).await;
    assert_eq!(r.path, "/search");
    assert_eq!(r.query.as_deref(), Some("q=999"));
    assert!(r.body.is_empty(), "no body template, no body: {}", r.text());
}

#[tokio::test]
async fn body_text_template_from_body_inputs() {
    let (up, gw) = users().await;
    let resp = gw
        .json("POST", "/users", r#"{"user":{"id":"123","name":"Alice"}}"#)
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = last(&up, 1).await;
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), Some(json!({"id": "123", "name": "Alice"})));
}

#[tokio::test]
async fn body_json_template_keeps_types_and_escapes() {
    let (up, gw) = users().await;
    let resp = gw
        .json(
            "PUT",
            "/users",
            r#"{"user":{"id":123,"name":"He said \"hi\""}}"#,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = last(&up, 1).await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        Some(json!({"id": 123, "name": "He said \"hi\"", "greeting": "Hello He said \"hi\"!"})),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn body_text_template_escapes_quotes() {
    let (up, gw) = users().await;
    let resp = gw
        .json(
            "POST",
            "/users",
            r#"{"user":{"id":"1","name":"He said \"hi\"\\"}}"#,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = last(&up, 1).await;
    let body: Value = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("upstream body is not JSON ({e}): {}", r.text()));
    assert_eq!(body, json!({"id": "1", "name": "He said \"hi\"\\"}));
}

#[tokio::test]
async fn namespace_reference_and_block_scalar_body_and_201() {
    let (up, gw) = users().await;
    up.answer(
        "POST",
        "/shipyard",
        Answer::json(201, json!({"ordered": true})),
    );
    let resp = gw
        .json("POST", "/orders", r#"{"shipImo":"IMO-9321483"}"#)
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.json(), json!({"ordered": true}));
    let r = last(&up, 1).await;
    assert_eq!(r.text(), "{\"shipImo\": \"IMO-9321483\"}\n");
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn list_value_renders_as_json_array_in_a_text_body() {
    let (up, gw) = users().await;
    let resp = gw
        .json("PUT", "/orders", r#"{"crewIds":["CREW-001","CREW-003"]}"#)
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let r = last(&up, 1).await;
    assert_eq!(r.json(), Some(json!({"crewIds": ["CREW-001", "CREW-003"]})));
}

#[tokio::test]
async fn body_input_without_value_takes_the_field() {
    let (up, gw) = users().await;
    gw.json("PATCH", "/orders", r#"{"shipImo":"IMO-1"}"#).await;
    assert_eq!(last(&up, 1).await.json(), Some(json!({"ship": "IMO-1"})));
}

#[tokio::test]
async fn body_input_without_value_falls_back_to_the_whole_body() {
    let (up, gw) = users().await;
    let resp = gw.json("PATCH", "/orders", r#"{"other":1}"#).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        last(&up, 1).await.json(),
        Some(json!({"ship": {"other": 1}}))
    );
}

#[tokio::test]
async fn missing_body_input_is_400_and_nothing_is_sent() {
    let (up, gw) = users().await;
    let resp = gw.json("POST", "/users", r#"{"user":{"id":"1"}}"#).await;
    let p = resp.problem(400, "missing_input");
    assert!(p["detail"].as_str().unwrap().contains("userName"), "{p}");
    let resp = gw.json("POST", "/users", "{broken").await;
    resp.problem(400, "invalid_body");
    assert_eq!(up.request_count(), 0);
}
