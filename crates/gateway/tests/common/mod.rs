//! Running the real gateway binary against files in a temp directory.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use naftiko_upstream::{CallOptions, HttpUpstream, Upstream};

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh directory under the system temp dir, named after this process.
pub fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "naftiko-gateway-test-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes like an editor: a temp file, then an atomic rename over the target.
pub fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("yml.tmp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A capability whose REST adapter on `port` has `GET /v1/<op>` for each op.
pub fn capability(ns: &str, upstream: &str, port: u16, ops: &[&str]) -> String {
    let mut consumed = String::new();
    let mut exposed = String::new();
    for op in ops {
        consumed.push_str(&format!("    - name: r-{op}\n      path: /{op}\n      operations:\n      - name: {op}\n        method: GET\n"));
        exposed.push_str(&format!("    - path: /v1/{op}\n      name: {op}\n      operations:\n      - method: GET\n        name: {op}\n        call: {ns}-up.{op}\n        outputParameters:\n        - type: object\n          mapping: $.\n"));
    }
    format!(
        "naftiko: 1.0.0-alpha2\ninfo:\n  label: {ns}\ncapability:\n  consumes:\n  - type: http\n    namespace: {ns}-up\n    baseUri: {upstream}\n    resources:\n{consumed}  exposes:\n  - type: rest\n    namespace: {ns}-rest\n    port: {port}\n    resources:\n{exposed}"
    )
}

/// The gateway process; killed on drop.
pub struct Running {
    child: Child,
    pub admin: SocketAddr,
}

impl Running {
    /// Starts `serve PATHS --admin ...` and waits until the admin endpoint answers.
    pub async fn start(paths: &[&Path], extra: &[&str]) -> Self {
        let admin: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_naftiko-gateway"))
            .arg("serve")
            .args(paths)
            .args(["--admin", &admin.to_string(), "--drain", "1s"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let running = Self { child, admin };
        assert!(
            wait_until(Duration::from_secs(10), || async {
                status_json(admin).await.is_some()
            })
            .await,
            "gateway did not become ready"
        );
        running
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Open file descriptors of the process.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Sends a signal (`HUP`, `TERM`).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits for the process to exit, returning its code.
    pub fn wait(mut self, timeout: Duration) -> Option<i32> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> &'static HttpUpstream {
    static CLIENT: std::sync::OnceLock<HttpUpstream> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| HttpUpstream::new().unwrap())
}

/// GET `url`: the status, or `None` when nothing answers.
pub async fn get_status(url: &str) -> Option<u16> {
    let req = http::Request::get(url).body(Bytes::new()).unwrap();
    let opts = CallOptions {
        timeout: Duration::from_secs(5),
        max_body: 1 << 20,
    };
    client()
        .send_http(req, &opts)
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// The admin status JSON.
pub async fn status_json(admin: SocketAddr) -> Option<serde_json::Value> {
    let req = http::Request::get(format!("http://{admin}/status"))
        .body(Bytes::new())
        .unwrap();
    let opts = CallOptions {
        timeout: Duration::from_secs(2),
        max_body: 1 << 20,
    };
    let resp = client().send_http(req, &opts).await.ok()?;
    serde_json::from_slice(resp.body()).ok()
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes.
pub async fn wait_until<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
