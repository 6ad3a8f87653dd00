//! Recovery endpoints: `POST /admin/recovery/code` and `POST /admin/recovery/link`.

use std::time::{Duration, SystemTime};

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::model::Store;
use super::wire::{Ctx, OryError, Reply, parse_go_duration};
use crate::util::{random_u64, rfc3339, uuid_v4};

/// Lifespan when the body has no `expires_in` (Ory's default is one hour).
const DEFAULT_LIFESPAN: Duration = Duration::from_secs(3600);

/// Validates `identity_id` (400 when missing, 404 when unknown) and `expires_in`.
fn target(store: &Store, body: &Map<String, Value>) -> Result<SystemTime, OryError> {
    let id = body
        .get("identity_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OryError::bad_request("'identity_id' is required"))?;
    store.identity(id)?;
    let lifespan = match body.get("expires_in") {
        None | Some(Value::Null) => DEFAULT_LIFESPAN,
        Some(Value::String(s)) if s.is_empty() => DEFAULT_LIFESPAN,
        Some(Value::String(s)) => parse_go_duration(s).ok_or_else(|| {
            OryError::bad_request(format!("'expires_in' is not a valid duration: {s}"))
        })?,
        Some(_) => return Err(OryError::bad_request("'expires_in' must be a string")),
    };
    SystemTime::now()
        .checked_add(lifespan)
        .ok_or_else(|| OryError::bad_request("'expires_in' is too large"))
}

/// `POST /admin/recovery/code` → 201 `recoveryCodeForIdentity`.
pub(crate) fn code(store: &Store, ctx: &Ctx) -> Result<Reply, OryError> {
    let body = ctx.json_object()?;
    let expires_at = target(store, &body)?;
    match body.get("flow_type").and_then(Value::as_str) {
        None | Some("browser" | "api") => {}
        Some(other) => {
            return Err(OryError::bad_request(format!(
                "'flow_type' must be 'browser' or 'api', got '{other}'"
            )));
        }
    }
    let flow = uuid_v4();
    Ok(Reply::json(
        StatusCode::CREATED,
        json!({
            "recovery_link": format!("{}/self-service/recovery?flow={flow}", ctx.base),
            "recovery_code": format!("{:06}", random_u64() % 1_000_000),
            "expires_at": rfc3339(expires_at),
        }),
    ))
}

/// `POST /admin/recovery/link[?return_to=]` → 200 `recoveryLinkForIdentity`.
pub(crate) fn link(store: &Store, ctx: &Ctx) -> Result<Reply, OryError> {
    if let Some(return_to) = ctx.param("return_to").filter(|s| !s.is_empty())
        && !(return_to.starts_with("http://") || return_to.starts_with("https://"))
    {
        return Err(OryError::bad_request(
            "'return_to' must be an absolute http(s) URL",
        ));
    }
    let body = ctx.json_object()?;
    let expires_at = target(store, &body)?;
    let flow = uuid_v4();
    let token = format!("{:016x}{:016x}", random_u64(), random_u64());
    Ok(Reply::ok(json!({
        "recovery_link": format!(
            "{}/self-service/recovery?flow={flow}&token={token}",
            ctx.base
        ),
        "expires_at": rfc3339(expires_at),
    })))
}
