//! Session endpoints: `/admin/sessions[...]` and `/admin/identities/{id}/sessions`.

use std::time::SystemTime;

use http::header;
use serde_json::Value;

use super::model::{SESSION_LIFESPAN, Session, Store};
use super::wire::{Ctx, OryError, PageReq, Reply};

/// What `expand=` asked for (`identity`, `devices`; case-insensitive).
#[derive(Debug, Clone, Copy)]
struct Expand {
    identity: bool,
    devices: bool,
}

impl Expand {
    const EVERYTHING: Self = Self {
        identity: true,
        devices: true,
    };

    fn from_ctx(ctx: &Ctx) -> Result<Self, OryError> {
        let mut out = Self {
            identity: false,
            devices: false,
        };
        for value in ctx.params("expand") {
            match value.to_ascii_lowercase().as_str() {
                "identity" => out.identity = true,
                "devices" => out.devices = true,
                "" => {}
                other => {
                    return Err(OryError::bad_request(format!(
                        "'{other}' is not a valid expand option (identity, devices)"
                    )));
                }
            }
        }
        Ok(out)
    }
}

fn render(store: &Store, ctx: &Ctx, session: &Session, expand: Expand) -> Value {
    let identity = if expand.identity {
        store.identity(&session.identity_id).ok()
    } else {
        None
    };
    session.render(identity, expand.devices, &ctx.base)
}

/// Filters by `active`, paginates and renders a session list.
fn list_of<'a>(
    store: &Store,
    ctx: &Ctx,
    sessions: impl Iterator<Item = &'a Session>,
    expand: Expand,
) -> Result<Reply, OryError> {
    let page = PageReq::from_ctx(ctx)?;
    let active = ctx.bool_param("active")?;
    let now = SystemTime::now();
    let matching: Vec<&Session> = sessions
        .filter(|s| active.is_none_or(|a| s.is_active(now) == a))
        .collect();
    let (items, link) = page.page(ctx, matching, |s| s.seq);
    let body: Vec<Value> = items
        .into_iter()
        .map(|s| render(store, ctx, s, expand))
        .collect();
    let reply = Reply::ok(Value::Array(body));
    Ok(match link {
        Some(link) => reply.with_header(header::LINK, link),
        None => reply,
    })
}

/// `GET /admin/sessions[?active=&expand=&page_size=&page_token=]`
pub(crate) fn list(store: &Store, ctx: &Ctx) -> Result<Reply, OryError> {
    let expand = Expand::from_ctx(ctx)?;
    list_of(store, ctx, store.sessions.iter(), expand)
}

/// `GET /admin/identities/{id}/sessions` (sessions come fully expanded, as in Ory).
pub(crate) fn list_for_identity(store: &Store, ctx: &Ctx, id: &str) -> Result<Reply, OryError> {
    store.identity(id)?;
    let sessions = store.sessions.iter().filter(|s| s.identity_id == id);
    list_of(store, ctx, sessions, Expand::EVERYTHING)
}

/// `DELETE /admin/identities/{id}/sessions` → 204.
pub(crate) fn delete_for_identity(store: &mut Store, id: &str) -> Result<Reply, OryError> {
    store.identity(id)?;
    store.sessions.retain(|s| s.identity_id != id);
    Ok(Reply::no_content())
}

/// `GET /admin/sessions/{id}[?expand=]`
pub(crate) fn get(store: &Store, ctx: &Ctx, id: &str) -> Result<Reply, OryError> {
    let expand = Expand::from_ctx(ctx)?;
    let session = store
        .sessions
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| OryError::not_found(format!("session {id} does not exist")))?;
    Ok(Reply::ok(render(store, ctx, session, expand)))
}

/// `DELETE /admin/sessions/{id}`: deactivates (keeps the data) → 204.
pub(crate) fn disable(store: &mut Store, id: &str) -> Result<Reply, OryError> {
    store.session_mut(id)?.active = false;
    Ok(Reply::no_content())
}

/// `PATCH /admin/sessions/{id}/extend` → 200 with the session (the older Ory
/// Network behaviour); 404 when the session is unknown or no longer active.
pub(crate) fn extend(store: &mut Store, ctx: &Ctx, id: &str) -> Result<Reply, OryError> {
    let now = SystemTime::now();
    let session = store.session_mut(id)?;
    if !session.is_active(now) {
        return Err(OryError::not_found(format!(
            "session {id} is not active and can not be extended"
        )));
    }
    session.expires_at = now + SESSION_LIFESPAN;
    let session = session.clone();
    Ok(Reply::ok(render(store, ctx, &session, Expand::EVERYTHING)))
}
