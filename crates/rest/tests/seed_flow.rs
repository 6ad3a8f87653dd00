//! The seed against the stateful Ory fake: the identity lifecycle through the gateway,
//! pagination links passed through, sessions, recovery and schemas.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, SECRET, Setup, start_seed, start_seed_with};
use naftiko_testkit::OryFake;
use serde_json::{Value, json};

async fn gateway() -> (OryFake, Gateway) {
    let ory = OryFake::start(SECRET).await;
    let gw = start_seed(&ory.base_url()).await;
    (ory, gw)
}

async fn create(gw: &Gateway, email: &str, external: Option<&str>) -> String {
    let mut body = json!({"schema_id": "default", "traits": {"email": email}});
    if let Some(e) = external {
        body["external_id"] = json!(e);
    }
    let resp = gw
        .json("POST", "/v1/admin/identities", &body.to_string())
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    let id = resp.json()["id"].as_str().unwrap().to_string();
    let location = resp.header("location").expect("Location passes through");
    assert!(
        location.ends_with(&format!("/admin/identities/{id}")),
        "{location}"
    );
    id
}

fn ids_of(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("expected an array: {v}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn identity_lifecycle() {
    let (ory, gw) = gateway().await;

    let id = create(&gw, "alice@example.com", Some("ext-9")).await;
    let other = create(&gw, "bob@example.com", None).await;
    assert_eq!(ory.identity_count(), 2);

    let got = gw.get(&format!("/v1/admin/identities/{id}")).await;
    assert_eq!(got.status, 200);
    let got = got.json();
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["traits"]["email"], "alice@example.com");
    assert_eq!(got["state"], "active");

    let listed = gw
        .get(&format!("/v1/admin/identities?ids={id}&ids={other}"))
        .await;
    assert_eq!(listed.status, 200);
    let mut both = vec![id.clone(), other.clone()];
    both.sort();
    assert_eq!(ids_of(&listed.json()), both);
    let one = gw.get(&format!("/v1/admin/identities?ids={other}")).await;
    assert_eq!(ids_of(&one.json()), vec![other.clone()]);

    let patch = r#"[{"op":"replace","path":"/state","value":"inactive"}]"#;
    let patched = gw
        .json("PATCH", &format!("/v1/admin/identities/{id}"), patch)
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.json()["state"], "inactive");

    let by_ext = gw.get("/v1/admin/identities/by/external/ext-9").await;
    assert_eq!(by_ext.status, 200, "{}", by_ext.text());
    assert_eq!(by_ext.json()["id"], id.as_str());
    assert_eq!(by_ext.json()["state"], "inactive");

    let put =
        json!({"schema_id": "default", "state": "active", "traits": {"email": "al@example.com"}});
    let updated = gw
        .json(
            "PUT",
            &format!("/v1/admin/identities/{id}"),
            &put.to_string(),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["traits"]["email"], "al@example.com");

    let deleted = gw
        .send("DELETE", &format!("/v1/admin/identities/{id}"), &[], "")
        .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert_eq!(ory.identity_count(), 1);

    let gone = gw.get(&format!("/v1/admin/identities/{id}")).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.header("content-type"), Some("application/json"));
    assert_eq!(gone.json()["error"]["code"], 404);

    let gone = gw.get("/v1/admin/identities/by/external/ext-9").await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn pagination_link_passes_through_and_pages_follow() {
    let (_ory, gw) = gateway().await;
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(create(&gw, &format!("u{i}@example.com"), None).await);
    }
    created.sort();

    let first = gw.get("/v1/admin/identities?page_size=2").await;
    assert_eq!(first.status, 200);
    let page1 = ids_of(&first.json());
    assert_eq!(page1.len(), 2);
    let link = first
        .header("link")
        .expect("Link passes through")
        .to_string();
    assert!(link.contains("rel=\"next\""), "{link}");
    let token = link
        .split(',')
        .find(|l| l.contains("rel=\"next\""))
        .and_then(|l| l.split("page_token=").nth(1))
        .and_then(|t| t.split(['&', '>']).next())
        .unwrap()
        .to_string();

    let second = gw
        .get(&format!(
            "/v1/admin/identities?page_size=2&page_token={token}"
        ))
        .await;
    assert_eq!(second.status, 200, "{}", second.text());
    let page2 = ids_of(&second.json());
    assert_eq!(page2.len(), 1);
    assert_eq!(second.header("link"), None, "last page has no next link");

    let mut all: Vec<String> = page1.into_iter().chain(page2).collect();
    all.sort();
    assert_eq!(all, created);
}

#[tokio::test]
async fn sessions_of_an_identity() {
    let (ory, gw) = gateway().await;
    let id = create(&gw, "s@example.com", None).await;
    assert_eq!(ory.session_count(), 1);

    let list = gw
        .get(&format!("/v1/admin/identities/{id}/sessions?active=true"))
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    let sessions = list.json();
    let sid = sessions[0]["id"].as_str().unwrap().to_string();

    let all = gw
        .get("/v1/admin/sessions?expand=identity&active=true")
        .await;
    assert_eq!(all.status, 200, "{}", all.text());
    assert_eq!(all.json()[0]["identity"]["id"], id.as_str());

    let one = gw
        .get(&format!("/v1/admin/sessions/{sid}?expand=identity"))
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["id"], sid.as_str());

    let extended = gw
        .send(
            "PATCH",
            &format!("/v1/admin/sessions/{sid}/extend"),
            &[],
            "",
        )
        .await;
    assert_eq!(extended.status, 200, "{}", extended.text());

    let disabled = gw
        .send("DELETE", &format!("/v1/admin/sessions/{sid}"), &[], "")
        .await;
    assert_eq!(disabled.status, 204);
    let one = gw.get(&format!("/v1/admin/sessions/{sid}")).await;
    assert_eq!(one.json()["active"], false);

    let removed = gw
        .send(
            "DELETE",
            &format!("/v1/admin/identities/{id}/sessions"),
            &[],
            "",
        )
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(ory.session_count(), 0);
}

#[tokio::test]
async fn recovery_and_schemas() {
    let (_ory, gw) = gateway().await;
    let id = create(&gw, "r@example.com", None).await;

    let body = json!({"identity_id": id, "expires_in": "1h"}).to_string();
    let code = gw.json("POST", "/v1/admin/recovery/code", &body).await;
    assert_eq!(code.status, 201, "{}", code.text());
    assert!(code.json()["recovery_code"].is_string());

    let link = gw
        .json(
            "POST",
            "/v1/admin/recovery/link?return_to=https%3A%2F%2Fapp.example.com%2Fdone",
            &body,
        )
        .await;
    assert_eq!(link.status, 200, "{}", link.text());
    assert!(link.json()["recovery_link"].is_string());

    let bad = gw
        .json(
            "POST",
            "/v1/admin/recovery/link?return_to=ftp%3A%2F%2Fx",
            &body,
        )
        .await;
    assert_eq!(
        bad.status,
        400,
        "the fake saw return_to decoded: {}",
        bad.text()
    );

    let schemas = gw.get("/v1/schemas").await;
    assert_eq!(schemas.status, 200);
    assert_eq!(schemas.json()[0]["id"], "default");
    let schema = gw.get("/v1/schemas/default").await;
    assert_eq!(schema.status, 200);
    assert!(schema.json().is_object());
}

#[tokio::test]
async fn batch_import_and_credential_delete() {
    let (ory, gw) = gateway().await;
    let batch = json!({"identities": [
        {"create": {"schema_id": "default", "traits": {"email": "b1@example.com"}}, "patch_id": "p1"},
        {"create": {"schema_id": "default", "traits": {"email": "b2@example.com"}}, "patch_id": "p2"},
    ]});
    let resp = gw
        .json("PATCH", "/v1/admin/identities", &batch.to_string())
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["identities"][1]["patch_id"], "p2");
    assert_eq!(ory.identity_count(), 2);

    let id = resp.json()["identities"][0]["identity"]
        .as_str()
        .unwrap()
        .to_string();
    // The fake has no oidc credential for it: the Ory 404 passes through.
    let del = gw
        .send(
            "DELETE",
            &format!("/v1/admin/identities/{id}/credentials/oidc?identifier=github%3A1"),
            &[],
            "",
        )
        .await;
    assert_eq!(del.status, 404, "{}", del.text());
    assert_eq!(del.json()["error"]["code"], 404);
}

#[tokio::test]
async fn wrong_api_key_gets_the_upstream_401() {
    let ory = OryFake::start(SECRET).await;
    let setup = Setup {
        vars: vec![("ORY_API_KEY".into(), "Bearer wrong".into())],
        ..Setup::default()
    };
    let gw = start_seed_with(&ory.base_url(), &setup).await;
    let resp = gw.get("/v1/admin/identities").await;
    assert_eq!(resp.status, 401);
    assert!(resp.json()["error"].is_object());
    assert!(!resp.text().contains("wrong"));
}
