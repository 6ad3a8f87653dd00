//! OryFake over real HTTP: auth, pagination with Link headers, batch import,
//! schemas, routing errors and hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ory::{AUTH, KEY, assert_ory_error, call, create, person};
use common::send;
use naftiko_testkit::OryFake;
use serde_json::{Value, json};

#[tokio::test]
async fn requests_without_the_key_get_401() {
    let fake = OryFake::start(KEY).await;
    let url = format!("{}/admin/identities", fake.base_url());
    for headers in [
        &[][..],
        &[("authorization", "Bearer wrong")][..],
        &[("authorization", "secret-key-123")][..],
    ] {
        let resp = send("GET", &url, headers, "").await;
        assert_ory_error(&resp, 401);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert!(!resp.text().contains("secret-key-123"));
    }
    // Auth is checked before routing.
    let resp = send("GET", &format!("{}/nope", fake.base_url()), &[], "").await;
    assert_ory_error(&resp, 401);
    assert!(!format!("{fake:?}").contains("secret"));
    assert_eq!(
        call(&fake, "GET", "/admin/identities", "").await.json(),
        json!([])
    );
}

#[tokio::test]
async fn pagination_uses_page_tokens_and_link_headers() {
    let fake = OryFake::start(KEY).await;
    for n in 0..5 {
        fake.create_identity(&person(&format!("user{n}@example.com")))
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/admin/identities?page_size=2", fake.base_url()));
    let mut pages = 0;
    while let Some(url) = next.take() {
        let resp = send("GET", &url, AUTH, "").await;
        assert_eq!(resp.status, 200);
        pages += 1;
        for identity in resp.json().as_array().unwrap() {
            seen.push(identity["id"].as_str().unwrap().to_owned());
        }
        if let Some(link) = resp.header("link") {
            assert!(link.contains("rel=\"first\""), "{link}");
            assert!(link.contains("page_size=2"), "{link}");
            let next_part = link
                .split(',')
                .find(|p| p.contains("rel=\"next\""))
                .unwrap();
            let start = next_part.find('<').unwrap() + 1;
            let end = next_part.find('>').unwrap();
            let url = &next_part[start..end];
            assert!(
                url.starts_with(&format!("{}/admin/identities?", fake.base_url())),
                "{url}"
            );
            assert!(url.contains("page_token="), "{url}");
            next = Some(url.to_owned());
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);

    // Defaults: one page, no Link header.
    let resp = call(&fake, "GET", "/admin/identities", "").await;
    assert_eq!(resp.json().as_array().unwrap().len(), 5);
    assert!(resp.header("link").is_none());
    assert_ory_error(
        &call(&fake, "GET", "/admin/identities?page_token=garbage", "").await,
        400,
    );
    assert_ory_error(
        &call(&fake, "GET", "/admin/identities?page_size=abc", "").await,
        400,
    );

    // Sessions paginate the same way and keep other filters in the Link.
    let resp = call(&fake, "GET", "/admin/sessions?page_size=3&active=true", "").await;
    assert_eq!(resp.json().as_array().unwrap().len(), 3);
    let link = resp.header("link").unwrap();
    assert!(link.contains("active=true"), "{link}");
}

#[tokio::test]
async fn batch_patch_creates_identities() {
    let fake = OryFake::start(KEY).await;
    let body = json!({"identities": [
        {"create": person("a@example.com"), "patch_id": "00000000-0000-0000-0000-000000000001"},
        {"create": person("b@example.com")},
        {"create": {"schema_id": "default"}},
    ]});
    let resp = call(&fake, "PATCH", "/admin/identities", &body.to_string()).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let out = resp.json();
    let results = out["identities"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["action"], "create");
    assert_eq!(
        results[0]["patch_id"],
        "00000000-0000-0000-0000-000000000001"
    );
    assert_eq!(results[1]["action"], "create");
    assert_eq!(results[2]["action"], "error");
    assert_eq!(results[2]["error"]["code"], 400);
    assert_eq!(fake.identity_count(), 2);
    let id = results[0]["identity"].as_str().unwrap();
    let got = call(&fake, "GET", &format!("/admin/identities/{id}"), "").await;
    assert_eq!(got.json()["traits"]["email"], "a@example.com");
    assert_eq!(fake.session_count(), 2);

    // All entries failing is a 4xx; malformed batches are 400.
    let all_bad = json!({"identities": [{"create": {"traits": {}}}]}).to_string();
    assert_ory_error(
        &call(&fake, "PATCH", "/admin/identities", &all_bad).await,
        400,
    );
    assert_ory_error(&call(&fake, "PATCH", "/admin/identities", "[]").await, 400);
    assert_ory_error(
        &call(&fake, "PATCH", "/admin/identities", "{\"identities\":3}").await,
        400,
    );
    let empty = call(&fake, "PATCH", "/admin/identities", "{\"identities\":[]}").await;
    assert_eq!(empty.json(), json!({"identities": []}));
}

#[tokio::test]
async fn schemas_routes_and_odd_input() {
    let fake = OryFake::start(KEY).await;
    let list = call(&fake, "GET", "/schemas", "").await.json();
    assert_eq!(list[0]["id"], "default");
    assert_eq!(list[0]["schema"]["type"], "object");
    assert_eq!(call(&fake, "GET", "/schemas/default", "").await.status, 200);
    assert_ory_error(&call(&fake, "GET", "/schemas/unknown", "").await, 404);

    assert_ory_error(&call(&fake, "GET", "/no/such/route", "").await, 404);
    assert_ory_error(&call(&fake, "GET", "/", "").await, 404);
    let resp = call(&fake, "POST", "/admin/sessions", "{}").await;
    assert_ory_error(&resp, 405);
    assert_eq!(resp.header("allow"), Some("GET"));

    // Hostile-ish input is a 4xx, never a crash.
    let binary = String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x01]).into_owned();
    for body in [
        "null",
        "[]",
        "\"str\"",
        "123",
        binary.as_str(),
        &"[".repeat(10_000),
    ] {
        let resp = call(&fake, "POST", "/admin/identities", body).await;
        assert_eq!(resp.status, 400, "{body:.20}: {}", resp.text());
    }
    let id = fake.create_identity(&person("deep@example.com")).unwrap();
    // Deep nesting and exponential growth through `copy` are refused.
    let nesting: Vec<Value> = (0..300)
        .map(|_| json!({"op": "copy", "from": "/traits", "path": "/traits/x"}))
        .collect();
    let doubling: Vec<Value> = (0..60)
        .map(|n| json!({"op": "copy", "from": "/traits", "path": format!("/traits/k{}", n % 2)}))
        .collect();
    for bomb in [nesting, doubling] {
        let path = format!("/admin/identities/{id}");
        let resp = call(&fake, "PATCH", &path, &json!(bomb).to_string()).await;
        assert_ory_error(&resp, 400);
    }
    assert_eq!(
        fake.identity(&id).unwrap()["traits"],
        json!({"email": "deep@example.com"})
    );
    let deleted_cred = call(
        &fake,
        "DELETE",
        &format!("/admin/identities/{id}/credentials/passkey"),
        "",
    )
    .await;
    assert_ory_error(&deleted_cred, 400);
    assert!(fake.identity(&id).is_some());
    assert_eq!(
        call(&fake, "GET", "/admin/identities/%20weird%2Fid", "")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn serve_on_a_caller_listener_and_router() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = OryFake::serve(listener, KEY).await;
    assert_eq!(fake.base_url(), format!("http://{addr}"));
    create(&fake, &person("x@example.com")).await;
    assert_eq!(fake.identity_count(), 1);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/schemas", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, OryFake::router(KEY)).await });
    assert_eq!(send("GET", &url, AUTH, "").await.status, 200);
    assert_eq!(send("GET", &url, &[], "").await.status, 401);
}
