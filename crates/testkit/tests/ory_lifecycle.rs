//! OryFake over real HTTP: the full identity / session / recovery lifecycle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ory::{assert_ory_error, call, create, person};
use naftiko_testkit::OryFake;
use serde_json::json;

const KEY: &str = common::ory::KEY;

#[tokio::test]
async fn identity_lifecycle() {
    let fake = OryFake::start(KEY).await;

    // Validation errors.
    assert_ory_error(
        &call(&fake, "POST", "/admin/identities", "{not json").await,
        400,
    );
    assert_ory_error(&call(&fake, "POST", "/admin/identities", "").await, 400);
    let no_traits = json!({"schema_id": "default"}).to_string();
    assert_ory_error(
        &call(&fake, "POST", "/admin/identities", &no_traits).await,
        400,
    );
    let no_schema = json!({"traits": {"email": "x@example.com"}}).to_string();
    assert_ory_error(
        &call(&fake, "POST", "/admin/identities", &no_schema).await,
        400,
    );
    assert_eq!(fake.identity_count(), 0);

    // Create.
    let mut body = person("Alice@Example.com");
    body["external_id"] = json!("ext-alice");
    body["credentials"] = json!({"password": {"config": {"password": "hunter2-plain"}}});
    let resp = call(&fake, "POST", "/admin/identities", &body.to_string()).await;
    assert_eq!(resp.status, 201);
    let alice = resp.json();
    let id = alice["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(
        resp.header("location"),
        Some(format!("{}/admin/identities/{id}", fake.base_url()).as_str())
    );
    assert_eq!(alice["state"], "active");
    assert_eq!(alice["schema_id"], "default");
    assert_eq!(alice["external_id"], "ext-alice");
    assert_eq!(alice["traits"], json!({"email": "Alice@Example.com"}));
    assert!(alice["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        alice["verifiable_addresses"][0]["value"],
        "Alice@Example.com"
    );
    assert_eq!(
        alice["credentials"]["password"]["identifiers"],
        json!(["alice@example.com"])
    );
    assert!(!resp.text().contains("hunter2-plain"));
    // A duplicate external id conflicts.
    let resp = call(&fake, "POST", "/admin/identities", &body.to_string()).await;
    assert_ory_error(&resp, 409);

    let bob = create(&fake, &person("bob@example.com")).await;
    let carol = create(&fake, &person("carol@example.com")).await;
    assert_eq!(fake.identity_count(), 3);

    // Get; the schema_url resolves.
    let got = call(&fake, "GET", &format!("/admin/identities/{id}"), "").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["traits"], alice["traits"]);
    let schema_path = got.json()["schema_url"]
        .as_str()
        .unwrap()
        .trim_start_matches(&fake.base_url())
        .to_owned();
    let schema = call(&fake, "GET", &schema_path, "").await;
    assert_eq!(schema.status, 200);
    assert_eq!(schema.json()["type"], "object");

    // List filtered by repeated ids.
    let list = call(
        &fake,
        "GET",
        &format!(
            "/admin/identities?ids={id}&ids={}",
            carol["id"].as_str().unwrap()
        ),
        "",
    )
    .await
    .json();
    let mut ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want = vec![id.as_str(), carol["id"].as_str().unwrap()];
    want.sort_unstable();
    assert_eq!(ids, want);
    // ...and by credentials identifier.
    let list = call(
        &fake,
        "GET",
        "/admin/identities?credentials_identifier=bob%40example.com",
        "",
    )
    .await;
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    assert_eq!(list.json()[0]["id"], bob["id"]);

    // JSON Patch.
    let patch = json!([
        {"op": "replace", "path": "/traits/email", "value": "alice@new.example"},
        {"op": "add", "path": "/metadata_public", "value": {"plan": "pro"}},
        {"op": "replace", "path": "/state", "value": "inactive"},
    ]);
    let resp = call(
        &fake,
        "PATCH",
        &format!("/admin/identities/{id}"),
        &patch.to_string(),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let patched = resp.json();
    assert_eq!(patched["traits"]["email"], "alice@new.example");
    assert_eq!(patched["metadata_public"], json!({"plan": "pro"}));
    assert_eq!(patched["state"], "inactive");
    assert_eq!(patched["external_id"], "ext-alice");
    for bad in [
        json!({"op": "replace"}),
        json!([{"op": "replace", "path": "/nope/deeper", "value": 1}]),
        json!([{"op": "test", "path": "/state", "value": "active"}]),
        json!([{"op": "replace", "path": "/id", "value": "other"}]),
        json!([{"op": "remove", "path": "/traits"}]),
        json!([{"op": "frobnicate", "path": "/traits"}]),
    ] {
        let resp = call(
            &fake,
            "PATCH",
            &format!("/admin/identities/{id}"),
            &bad.to_string(),
        )
        .await;
        assert_ory_error(&resp, 400);
    }
    assert_ory_error(
        &call(&fake, "PATCH", "/admin/identities/unknown-id", "[]").await,
        404,
    );

    // Get by external id.
    let resp = call(&fake, "GET", "/admin/identities/by/external/ext-alice", "").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["id"], id.as_str());
    assert_ory_error(
        &call(&fake, "GET", "/admin/identities/by/external/nobody", "").await,
        404,
    );

    // PUT needs state.
    let put = json!({"schema_id": "default", "traits": {"email": "alice@put.example"}});
    assert_ory_error(
        &call(
            &fake,
            "PUT",
            &format!("/admin/identities/{id}"),
            &put.to_string(),
        )
        .await,
        400,
    );
    let mut put = put;
    put["state"] = json!("active");
    let resp = call(
        &fake,
        "PUT",
        &format!("/admin/identities/{id}"),
        &put.to_string(),
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["state"], "active");
    assert_eq!(resp.json()["external_id"], "ext-alice");

    // Sessions: one per created identity; they reference the identity.
    let resp = call(
        &fake,
        "GET",
        &format!("/admin/identities/{id}/sessions"),
        "",
    )
    .await;
    let sessions = resp.json();
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(sessions[0]["identity"]["id"], id.as_str());
    assert_eq!(sessions[0]["active"], true);
    let sid = sessions[0]["id"].as_str().unwrap().to_owned();
    let one = call(
        &fake,
        "GET",
        &format!("/admin/sessions/{sid}?expand=identity"),
        "",
    )
    .await;
    assert_eq!(one.json()["identity"]["id"], id.as_str());
    let extended = call(&fake, "PATCH", &format!("/admin/sessions/{sid}/extend"), "").await;
    assert_eq!(extended.status, 200);
    assert_eq!(extended.json()["id"], sid.as_str());
    assert_eq!(
        call(&fake, "DELETE", &format!("/admin/sessions/{sid}"), "")
            .await
            .status,
        204
    );
    let one = call(&fake, "GET", &format!("/admin/sessions/{sid}"), "").await;
    assert_eq!(one.json()["active"], false);
    assert!(one.json().get("identity").is_none());
    assert_ory_error(
        &call(&fake, "PATCH", &format!("/admin/sessions/{sid}/extend"), "").await,
        404,
    );
    let active = call(&fake, "GET", "/admin/sessions?active=true", "")
        .await
        .json();
    assert_eq!(active.as_array().unwrap().len(), 2);
    let inactive = call(&fake, "GET", "/admin/sessions?active=false", "")
        .await
        .json();
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    assert_ory_error(
        &call(&fake, "GET", "/admin/sessions?active=maybe", "").await,
        400,
    );
    assert_ory_error(
        &call(&fake, "GET", "/admin/sessions/unknown", "").await,
        404,
    );

    // Recovery.
    let rec = json!({"identity_id": id, "expires_in": "15m"}).to_string();
    let resp = call(&fake, "POST", "/admin/recovery/code", &rec).await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.json()["recovery_code"].as_str().unwrap().len(), 6);
    assert!(resp.json()["recovery_link"].is_string());
    let resp = call(
        &fake,
        "POST",
        "/admin/recovery/link?return_to=https%3A%2F%2Fapp.example%2F",
        &rec,
    )
    .await;
    assert_eq!(resp.status, 200);
    assert!(
        resp.json()["recovery_link"]
            .as_str()
            .unwrap()
            .contains("token=")
    );
    let unknown = json!({"identity_id": "nope"}).to_string();
    assert_ory_error(
        &call(&fake, "POST", "/admin/recovery/link", &unknown).await,
        404,
    );
    assert_ory_error(
        &call(&fake, "POST", "/admin/recovery/code", "{}").await,
        400,
    );
    let bad_expiry = json!({"identity_id": id, "expires_in": "soon"}).to_string();
    assert_ory_error(
        &call(&fake, "POST", "/admin/recovery/code", &bad_expiry).await,
        400,
    );

    // Credentials.
    let path = format!("/admin/identities/{id}/credentials/password");
    assert_eq!(call(&fake, "DELETE", &path, "").await.status, 204);
    assert_ory_error(&call(&fake, "DELETE", &path, "").await, 404);

    // Delete identity sessions, then the identity.
    let bob_id = bob["id"].as_str().unwrap();
    let path = format!("/admin/identities/{bob_id}/sessions");
    assert_eq!(call(&fake, "DELETE", &path, "").await.status, 204);
    assert_eq!(call(&fake, "GET", &path, "").await.json(), json!([]));

    assert_eq!(
        call(&fake, "DELETE", &format!("/admin/identities/{id}"), "")
            .await
            .status,
        204
    );
    assert_eq!(fake.identity_count(), 2);
    assert_ory_error(
        &call(&fake, "GET", &format!("/admin/identities/{id}"), "").await,
        404,
    );
    assert_ory_error(
        &call(&fake, "DELETE", &format!("/admin/identities/{id}"), "").await,
        404,
    );
    assert_ory_error(
        &call(
            &fake,
            "GET",
            &format!("/admin/identities/{id}/sessions"),
            "",
        )
        .await,
        404,
    );
}
