//! `stub-upstream`: the benchmark's helpers in one small binary (issue #8).
//!
//! - `serve`: a fast stand-in for the Ory Identities admin API. It answers
//!   `GET /admin/identities/{id}` with a realistic ~1.5 KB identity whose `id` is the
//!   one asked for, and `POST /admin/identities` (a JSON body with `schema_id`) with
//!   `201 Created` and the same identity. Every request must carry `Authorization`
//!   (and, with `--auth`, exactly that value). One thread (`current_thread` runtime),
//!   hyper directly, keep-alive, no logging: the cheapest upstream we can offer, so
//!   the benchmark measures the proxy in front of it.
//! - `wait URL`: polls URL every millisecond until it answers the expected status and
//!   text, then prints `ready_ns=<unix time in ns>` (cold-start and readiness probe).
//! - `free-port [N]`: prints N (default 1) distinct loopback TCP ports that were free a
//!   moment ago.
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// The identity every answer is built from (shared with the criterion benches).
const IDENTITY: &str = include_str!("../../../bench/identity.json");
/// The `id` inside [`IDENTITY`]; `GET` answers replace it with the requested one.
const IDENTITY_ID: &str = "9f425a8d-7efc-4768-8f23-7647a74fdf13";
const PREFIX: &str = "/admin/identities";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("wait") => wait(&args[1..]),
        Some("free-port") => free_port(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stub-upstream: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage:
  stub-upstream serve [--listen 127.0.0.1:0] [--auth 'Bearer x']
  stub-upstream wait URL [--method GET] [--header 'K: V']... [--body-file F]
                         [--status 200] [--contains TEXT] [--timeout-ms 10000]
  stub-upstream free-port [N]";

/// Takes the value after flag `name` at `args[i]`.
fn value<'a>(args: &'a [String], i: &mut usize, name: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
}

// ---------------------------------------------------------------------------------------
// serve

struct Stub {
    /// The identity up to (not including) its id value.
    head: Bytes,
    /// The identity after its id value.
    tail: Bytes,
    /// The whole identity (POST answers).
    whole: Bytes,
    /// `Location` of a created identity.
    location: HeaderValue,
    /// The exact `Authorization` required (`None`: any).
    auth: Option<HeaderValue>,
}

fn serve(args: &[String]) -> Result<(), String> {
    let mut listen = "127.0.0.1:0".to_string();
    let mut auth = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--listen" => listen = value(args, &mut i, "--listen")?.to_string(),
            "--auth" => {
                let v = value(args, &mut i, "--auth")?;
                auth = Some(HeaderValue::from_str(v).map_err(|e| format!("--auth: {e}"))?);
            }
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
        i += 1;
    }
    let identity = IDENTITY.trim_end();
    let at = identity
        .find(IDENTITY_ID)
        .ok_or("bench/identity.json lost its id")?;
    let stub = Arc::new(Stub {
        head: Bytes::from_static(&identity.as_bytes()[..at]),
        tail: Bytes::from_static(&identity.as_bytes()[at + IDENTITY_ID.len()..]),
        whole: Bytes::from_static(identity.as_bytes()),
        location: HeaderValue::from_str(&format!("{PREFIX}/{IDENTITY_ID}"))
            .map_err(|e| e.to_string())?,
        auth,
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| format!("binding {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening on {addr}");
        let _ = std::io::stdout().flush();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let stub = stub.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| answer(stub.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    })
}

fn json(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn error(status: StatusCode, message: &'static str) -> Response<Full<Bytes>> {
    let body = format!(
        r#"{{"error":{{"code":{},"status":"{}","message":"{message}"}}}}"#,
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    json(status, Bytes::from(body))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn answer(
    stub: Arc<Stub>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let authorized = match (req.headers().get(AUTHORIZATION), &stub.auth) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(got), Some(want)) => got == want,
    };
    if !authorized {
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong Authorization header",
        ));
    }
    let Some(rest) = req.uri().path().strip_prefix(PREFIX) else {
        return Ok(error(StatusCode::NOT_FOUND, "no such resource"));
    };
    if rest.is_empty() || rest == "/" {
        if req.method() != Method::POST {
            return Ok(error(StatusCode::METHOD_NOT_ALLOWED, "only POST here"));
        }
        let Ok(body) = req.into_body().collect().await else {
            return Ok(error(StatusCode::BAD_REQUEST, "unreadable body"));
        };
        let body = body.to_bytes();
        if !body.starts_with(b"{") || !contains(&body, b"\"schema_id\"") {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "body must be a JSON object with schema_id",
            ));
        }
        let mut r = json(StatusCode::CREATED, stub.whole.clone());
        r.headers_mut().insert(LOCATION, stub.location.clone());
        return Ok(r);
    }
    let id = rest.strip_prefix('/').unwrap_or(rest);
    if req.method() != Method::GET {
        return Ok(error(StatusCode::METHOD_NOT_ALLOWED, "only GET here"));
    }
    if !valid_id(id) {
        return Ok(error(StatusCode::NOT_FOUND, "no such identity"));
    }
    let mut body = BytesMut::with_capacity(stub.head.len() + id.len() + stub.tail.len());
    body.extend_from_slice(&stub.head);
    body.extend_from_slice(id.as_bytes());
    body.extend_from_slice(&stub.tail);
    Ok(json(StatusCode::OK, body.freeze()))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// wait

struct Probe {
    addr: String,
    host: String,
    path: String,
    method: String,
    headers: Vec<String>,
    body: Vec<u8>,
    status: u16,
    contains: Option<String>,
}

fn wait(args: &[String]) -> Result<(), String> {
    let mut url = None;
    let mut probe = Probe {
        addr: String::new(),
        host: String::new(),
        path: String::new(),
        method: "GET".into(),
        headers: Vec::new(),
        body: Vec::new(),
        status: 200,
        contains: None,
    };
    let mut timeout = Duration::from_secs(10);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--method" => probe.method = value(args, &mut i, "--method")?.to_string(),
            "--header" => probe
                .headers
                .push(value(args, &mut i, "--header")?.to_string()),
            "--body-file" => {
                let f = value(args, &mut i, "--body-file")?;
                probe.body = std::fs::read(f).map_err(|e| format!("{f}: {e}"))?;
            }
            "--status" => {
                probe.status = value(args, &mut i, "--status")?
                    .parse()
                    .map_err(|_| "--status needs a number")?;
            }
            "--contains" => probe.contains = Some(value(args, &mut i, "--contains")?.to_string()),
            "--timeout-ms" => {
                let ms: u64 = value(args, &mut i, "--timeout-ms")?
                    .parse()
                    .map_err(|_| "--timeout-ms needs a number")?;
                timeout = Duration::from_millis(ms);
            }
            u if url.is_none() && u.starts_with("http://") => url = Some(u.to_string()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
        i += 1;
    }
    let url = url.ok_or_else(|| format!("wait needs an http:// URL\n{USAGE}"))?;
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    probe.host = host.to_string();
    probe.addr = host.to_string();
    probe.path = if path.is_empty() {
        "/".into()
    } else {
        path.to_string()
    };
    let start = Instant::now();
    let mut last = String::from("no attempt");
    while start.elapsed() < timeout {
        match probe.once() {
            Ok(()) => {
                let ns = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                println!("ready_ns={ns}");
                return Ok(());
            }
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(format!("{url} not ready after {timeout:?}: {last}"))
}

impl Probe {
    fn once(&self) -> Result<(), String> {
        let addr: SocketAddr = self
            .addr
            .parse()
            .map_err(|_| format!("'{}' is not IP:PORT", self.addr))?;
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))
            .map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut req = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.method,
            self.path,
            self.host,
            self.body.len()
        );
        for h in &self.headers {
            req.push_str(h);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        s.write_all(&self.body).map_err(|e| e.to_string())?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&resp);
        let status: u16 = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("no HTTP status line")?;
        if status != self.status {
            return Err(format!("status {status}, want {}", self.status));
        }
        if let Some(c) = &self.contains
            && !text.contains(c.as_str())
        {
            return Err(format!("answer lacks '{c}'"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// free-port

fn free_port(args: &[String]) -> Result<(), String> {
    let n: usize = match args.first() {
        Some(n) => n
            .parse()
            .map_err(|_| format!("free-port takes a count\n{USAGE}"))?,
        None => 1,
    };
    // All bound at once, so the ports are distinct.
    let listeners = (0..n)
        .map(|_| StdListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    for l in &listeners {
        println!("{}", l.local_addr().map_err(|e| e.to_string())?.port());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_has_its_id_once_at_the_top() {
        let identity = IDENTITY.trim_end();
        assert!(identity.starts_with(&format!("{{\"id\":\"{IDENTITY_ID}\"")));
        assert_eq!(identity.matches(IDENTITY_ID).count(), 1);
        assert!((1400..=1600).contains(&identity.len()), "~1.5 KB");
    }

    #[test]
    fn ids_are_plain() {
        assert!(valid_id("4c2b1a7e-0d9f-4e6a-b3c8-5f1e2d3c4b5a"));
        assert!(!valid_id(""));
        assert!(!valid_id("a\"b"));
        assert!(!valid_id(&"x".repeat(65)));
    }

    #[test]
    fn finds_needles() {
        assert!(contains(b"{\"schema_id\":1}", b"\"schema_id\""));
        assert!(!contains(b"{}", b"\"schema_id\""));
    }
}
