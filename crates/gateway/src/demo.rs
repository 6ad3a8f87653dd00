//! `naftiko-gateway demo`: the seed capability against a bundled, in-memory Ory fake.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::gateway::{Gateway, Source};
use crate::serve::{self, ServeArgs};

/// The seed capability, bundled so the demo runs from anywhere.
const SEED: &str = include_str!("../../../capabilities/ory-identities.yml");
/// The fake's API key; the demo injects it as the seed's ORY_API_KEY bind.
const DEMO_KEY: &str = "Bearer demo-token";

pub(crate) async fn run() -> anyhow::Result<()> {
    let fake = naftiko_testkit::OryFake::start(DEMO_KEY).await;
    let args = ServeArgs {
        upstreams: vec![format!("kratos-identity={}", fake.base_url())],
        upstream_timeout: Duration::from_secs(30),
        upstream_max_body: 16 * 1024 * 1024,
        max_body: 1024 * 1024,
        bind: std::net::Ipv4Addr::LOCALHOST.into(),
        no_watch: true,
        threads: None,
        mcp_stateless: false,
        allowed_origins: Vec::new(),
        allowed_hosts: Vec::new(),
        stdio: false,
        admin: None,
        drain: Duration::from_secs(5),
        header_timeout: Duration::from_secs(30),
        paths: Vec::new(),
    };
    let binds = HashMap::from([("ORY_API_KEY".to_string(), DEMO_KEY.to_string())]);
    let sources = vec![Source::Inline(
        PathBuf::from("capabilities/ory-identities.yml"),
        SEED.to_string(),
    )];
    let mut gateway = Gateway::new(serve::settings(&args, sources, binds)?);
    gateway.reload().await;
    if gateway.listeners().is_empty() {
        anyhow::bail!("the demo could not start its listeners (is port 8080 or 9090 busy?)");
    }
    println!("naftiko-gateway demo: the Ory Identities seed served against an in-memory Ory fake");
    println!("  upstream (fake Ory admin API): {}", fake.base_url());
    for (kind, addr) in gateway.listeners() {
        let path = if kind == "mcp" { "/mcp" } else { "" };
        println!("  {kind}: http://{addr}{path}");
    }
    if let Some((_, addr)) = gateway.listeners().into_iter().find(|(k, _)| *k == "rest") {
        let base = format!("http://{addr}/v1/admin/identities");
        println!("\nTry:");
        println!(
            "  curl -s -X POST {base} -H 'Content-Type: application/json' \\\n    -d '{{\"schema_id\":\"default\",\"traits\":{{\"email\":\"ada@example.com\"}}}}'"
        );
        println!("  curl -s {base}");
        println!("  curl -s {base}/<id from the create answer>");
    }
    println!("\nCtrl-C to stop.");
    serve::serve_until_stopped(gateway, &args).await
}
