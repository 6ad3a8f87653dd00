//! [`OryFake`]: an in-memory, stateful fake of the Ory Identities (Kratos)
//! admin API — the 19 endpoints the seed capability consumes — served over
//! real HTTP. Every request must carry the configured `Authorization` value;
//! errors use Ory's JSON shape (`{"error":{"code","status","message","reason"}}`)
//! and bad input is always a 4xx, never a panic.

mod identities;
mod input;
mod model;
mod recovery;
mod schemas;
mod sessions;
mod wire;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode, header};
use serde_json::Value;
use tokio::net::TcpListener;

use self::input::IdentityInput;
use self::model::{CredView, Store};
use self::wire::{Ctx, OryError, Reply};
use crate::util;

/// Largest request body the fake reads (bigger bodies get a 413 error JSON).
const MAX_BODY: usize = 8 * 1024 * 1024;

struct FakeState {
    api_key: String,
    store: Mutex<Store>,
}

impl FakeState {
    fn new(api_key: &str) -> Arc<Self> {
        Arc::new(Self {
            api_key: api_key.to_owned(),
            store: Mutex::new(Store::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running Ory Identities admin API fake.
///
/// Cheap to clone; clones share the server and its data. The server runs on
/// the tokio runtime that started it until that runtime shuts down. Its
/// `Debug` output never contains the API key.
#[derive(Clone)]
pub struct OryFake {
    addr: SocketAddr,
    state: Arc<FakeState>,
}

impl fmt::Debug for OryFake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OryFake")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl OryFake {
    /// Binds `127.0.0.1:0` and serves in a background task. Requests must send
    /// `Authorization: <api_key>` exactly (e.g. `"Bearer secret"`).
    ///
    /// # Panics
    /// Only if the loopback interface cannot be bound (a broken test environment).
    #[allow(clippy::expect_used)] // harness failure, not request data
    pub async fn start(api_key: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for OryFake");
        Self::serve(listener, api_key).await
    }

    /// Serves on a caller-chosen listener in a background task (the demo
    /// command binds its own port) and returns the handle.
    ///
    /// # Panics
    /// Only if the listener has no local address.
    #[allow(clippy::expect_used)] // harness failure, not request data
    pub async fn serve(listener: TcpListener, api_key: &str) -> Self {
        let addr = listener.local_addr().expect("OryFake listener address");
        let state = FakeState::new(api_key);
        let app = app(Arc::clone(&state));
        tokio::spawn(async move {
            // The server only stops with the runtime; errors there are not actionable.
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state }
    }

    /// A router over a fresh, empty fake, for callers that run their own
    /// server (`axum::serve(listener, OryFake::router(key))`).
    pub fn router(api_key: &str) -> Router {
        app(FakeState::new(api_key))
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Number of identities currently stored.
    pub fn identity_count(&self) -> usize {
        self.state.lock().identities.len()
    }

    /// Number of sessions currently stored (active or not).
    pub fn session_count(&self) -> usize {
        self.state.lock().sessions.len()
    }

    /// Creates an identity without HTTP (same rules as `POST /admin/identities`,
    /// including its session). Returns the new id, or the Ory error JSON.
    pub fn create_identity(&self, body: &Value) -> Result<String, Value> {
        let input = IdentityInput::parse(body, false).map_err(error_json)?;
        self.state.lock().create_identity(input).map_err(error_json)
    }

    /// The stored identity as `GET /admin/identities/{id}` would render it.
    pub fn identity(&self, id: &str) -> Option<Value> {
        let store = self.state.lock();
        let identity = store.identity(id).ok()?;
        Some(identity.render(&self.base_url(), CredView::Summary(&[])))
    }
}

fn error_json(err: OryError) -> Value {
    serde_json::json!({ "error": err.inner_json() })
}

fn app(state: Arc<FakeState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Byte comparison that does not stop at the first difference.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(headers: &HeaderMap, api_key: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| same_secret(v.as_bytes(), api_key.as_bytes()))
}

async fn handle(State(state): State<Arc<FakeState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if !authorized(&parts.headers, &state.api_key) {
        let reason = "the request needs a valid Authorization header (API key)";
        return OryError::unauthorized(reason).into_reply().into_response();
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let err = OryError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large",
            format!("request bodies are limited to {MAX_BODY} bytes"),
        );
        return err.into_reply().into_response();
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let ctx = Ctx {
        base: format!("http://{host}"),
        path: parts.uri.path().to_owned(),
        query: util::parse_query(parts.uri.query()),
        body,
    };
    let segments: Vec<String> = ctx.path.split('/').skip(1).map(util::path_decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let reply = {
        let mut store = state.lock();
        dispatch(&mut store, parts.method.as_str(), &segments, &ctx)
    };
    reply.unwrap_or_else(OryError::into_reply).into_response()
}

/// The fake's URL space (path parameters already percent-decoded).
#[derive(Debug, Clone, Copy)]
enum Route<'a> {
    Identities,
    IdentityByExternal(&'a str),
    Identity(&'a str),
    IdentityCredentials(&'a str, &'a str),
    IdentitySessions(&'a str),
    RecoveryCode,
    RecoveryLink,
    Sessions,
    Session(&'a str),
    SessionExtend(&'a str),
    Schemas,
    Schema(&'a str),
}

impl<'a> Route<'a> {
    fn parse(segments: &[&'a str]) -> Option<Self> {
        Some(match *segments {
            ["admin", "identities"] => Self::Identities,
            ["admin", "identities", "by", "external", ext] => Self::IdentityByExternal(ext),
            ["admin", "identities", id] => Self::Identity(id),
            ["admin", "identities", id, "credentials", kind] => Self::IdentityCredentials(id, kind),
            ["admin", "identities", id, "sessions"] => Self::IdentitySessions(id),
            ["admin", "recovery", "code"] => Self::RecoveryCode,
            ["admin", "recovery", "link"] => Self::RecoveryLink,
            ["admin", "sessions"] => Self::Sessions,
            ["admin", "sessions", id] => Self::Session(id),
            ["admin", "sessions", id, "extend"] => Self::SessionExtend(id),
            ["schemas"] => Self::Schemas,
            ["schemas", id] => Self::Schema(id),
            _ => return None,
        })
    }

    fn allowed(self) -> &'static str {
        match self {
            Self::Identities => "GET, PATCH, POST",
            Self::Identity(_) => "GET, PUT, PATCH, DELETE",
            Self::IdentitySessions(_) | Self::Session(_) => "GET, DELETE",
            Self::IdentityCredentials(..) => "DELETE",
            Self::RecoveryCode | Self::RecoveryLink => "POST",
            Self::SessionExtend(_) => "PATCH",
            Self::IdentityByExternal(_) | Self::Sessions | Self::Schemas | Self::Schema(_) => "GET",
        }
    }
}

fn dispatch(
    store: &mut Store,
    method: &str,
    segments: &[&str],
    ctx: &Ctx,
) -> Result<Reply, OryError> {
    let Some(route) = Route::parse(segments) else {
        return Err(OryError::not_found(format!(
            "no route for {method} {}",
            ctx.path
        )));
    };
    match (route, method) {
        (Route::Identities, "GET") => identities::list(store, ctx),
        (Route::Identities, "PATCH") => identities::batch(store, ctx),
        (Route::Identities, "POST") => identities::create(store, ctx),
        (Route::IdentityByExternal(ext), "GET") => identities::get_by_external(store, ctx, ext),
        (Route::Identity(id), "GET") => identities::get(store, ctx, id),
        (Route::Identity(id), "PUT") => identities::update(store, ctx, id),
        (Route::Identity(id), "PATCH") => identities::patch(store, ctx, id),
        (Route::Identity(id), "DELETE") => identities::delete(store, id),
        (Route::IdentityCredentials(id, kind), "DELETE") => {
            identities::delete_credential(store, ctx, id, kind)
        }
        (Route::IdentitySessions(id), "GET") => sessions::list_for_identity(store, ctx, id),
        (Route::IdentitySessions(id), "DELETE") => sessions::delete_for_identity(store, id),
        (Route::RecoveryCode, "POST") => recovery::code(store, ctx),
        (Route::RecoveryLink, "POST") => recovery::link(store, ctx),
        (Route::Sessions, "GET") => sessions::list(store, ctx),
        (Route::Session(id), "GET") => sessions::get(store, ctx, id),
        (Route::Session(id), "DELETE") => sessions::disable(store, id),
        (Route::SessionExtend(id), "PATCH") => sessions::extend(store, ctx, id),
        (Route::Schemas, "GET") => schemas::list(ctx),
        (Route::Schema(id), "GET") => schemas::get(id),
        (route, _) => {
            let err = OryError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "The requested method is not allowed",
                format!("{method} is not allowed on {}", ctx.path),
            );
            Ok(err.into_reply().with_header(header::ALLOW, route.allowed()))
        }
    }
}
