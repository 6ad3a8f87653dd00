//! Helpers for the OryFake tests: an authorized client and Ory error checks.

use naftiko_testkit::OryFake;
use serde_json::{Value, json};

use super::{Resp, send};

pub(crate) const KEY: &str = "Bearer secret-key-123";
pub(crate) const AUTH: &[(&str, &str)] =
    &[("authorization", KEY), ("content-type", "application/json")];

pub(crate) async fn call(fake: &OryFake, method: &str, path: &str, body: &str) -> Resp {
    let resp = send(
        method,
        &format!("{}{path}", fake.base_url()),
        AUTH,
        body.to_owned(),
    )
    .await;
    if resp.status != 204 {
        assert_eq!(
            resp.header("content-type"),
            Some("application/json"),
            "{method} {path}"
        );
    }
    assert!(
        !resp.text().contains("secret-key-123"),
        "key leaked: {}",
        resp.text()
    );
    resp
}

pub(crate) fn assert_ory_error(resp: &Resp, code: u16) {
    assert_eq!(resp.status, code, "{}", resp.text());
    let body = resp.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["status"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["reason"].is_string(), "{body}");
}

pub(crate) fn person(email: &str) -> Value {
    json!({"schema_id": "default", "traits": {"email": email}})
}

pub(crate) async fn create(fake: &OryFake, body: &Value) -> Value {
    let resp = call(fake, "POST", "/admin/identities", &body.to_string()).await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    resp.json()
}
