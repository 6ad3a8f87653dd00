//! Consumed `body:` kinds beyond JSON: form-urlencoded and multipart (semantics §1.10 [REC]).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Setup, start};
use naftiko_testkit::RecordingUpstream;

const FORMS: &str = r#"
naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: sms
    baseUri: https://sms.example.com
    resources:
    - name: messages
      path: /messages
      operations:
      - name: send-form
        method: POST
        body:
          type: formUrlEncoded
          data:
            To: '{{to}}'
            Body: '{{text}}'
      - name: send-multipart
        method: PUT
        body:
          type: multipartForm
          data:
            prompt: '{{text}}'
            seed: 7
  exposes:
  - type: rest
    namespace: sms-rest
    port: 8080
    resources:
    - path: /send
      name: send
      operations:
      - method: POST
        name: form
        call: sms.send-form
        with:
          to: rest.to
          text: rest.text
      - method: PUT
        name: multipart
        call: sms.send-multipart
        with:
          text: rest.text
"#;

#[tokio::test]
async fn form_urlencoded_body_is_really_form_encoded() {
    let up = RecordingUpstream::start().await;
    let gw = start(FORMS, &[("sms", up.base_url())], &Setup::default()).await;
    let r = gw
        .json("POST", "/send", r#"{"to":"+1 555","text":"a&b=c é"}"#)
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let got = up
        .wait_for_requests(1, Duration::from_secs(5))
        .await
        .pop()
        .unwrap();
    assert_eq!(
        got.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let body = String::from_utf8(got.body.to_vec()).unwrap();
    let mut pairs: Vec<&str> = body.split('&').collect();
    pairs.sort_unstable();
    assert_eq!(pairs, ["Body=a%26b%3Dc%20%C3%A9", "To=%2B1%20555"]);
}

#[tokio::test]
async fn multipart_body_has_one_part_per_field() {
    let up = RecordingUpstream::start().await;
    let gw = start(FORMS, &[("sms", up.base_url())], &Setup::default()).await;
    let r = gw.json("PUT", "/send", r#"{"text":"a cat"}"#).await;
    assert_eq!(r.status, 200, "{r:?}");
    let got = up
        .wait_for_requests(1, Duration::from_secs(5))
        .await
        .pop()
        .unwrap();
    let ct = got.header("content-type").unwrap();
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect(ct);
    let body = String::from_utf8(got.body.to_vec()).unwrap();
    let part = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    assert!(body.contains(&part("prompt", "a cat")), "{body}");
    assert!(body.contains(&part("seed", "7")), "{body}");
    assert!(body.ends_with(&format!("--{boundary}--\r\n")), "{body}");
}
