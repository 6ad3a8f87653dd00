//! Identity schema endpoints: `GET /schemas` and `GET /schemas/{id}`.
//! The fake knows one schema, `default` (Ory's email/password preset).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header;
use serde_json::{Value, json};

use super::wire::{Ctx, OryError, PageReq, Reply};

/// Id of the only schema the fake serves.
pub(crate) const DEFAULT_SCHEMA_ID: &str = "default";

/// The `default` identity JSON schema (email identifier, recovery and verification via email).
pub(crate) fn default_schema() -> Value {
    json!({
        "$id": "https://schemas.ory.sh/presets/kratos/identity.email.schema.json",
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Person",
        "type": "object",
        "properties": {
            "traits": {
                "type": "object",
                "properties": {
                    "email": {
                        "type": "string",
                        "format": "email",
                        "title": "E-Mail",
                        "minLength": 3,
                        "ory.sh/kratos": {
                            "credentials": { "password": { "identifier": true } },
                            "recovery": { "via": "email" },
                            "verification": { "via": "email" }
                        }
                    },
                    "name": {
                        "type": "object",
                        "properties": {
                            "first": { "type": "string", "title": "First name" },
                            "last": { "type": "string", "title": "Last name" }
                        }
                    }
                },
                "required": ["email"],
                "additionalProperties": false
            }
        }
    })
}

/// `GET /schemas` → `[{"id": "default", "schema": {...}}]`.
pub(crate) fn list(ctx: &Ctx) -> Result<Reply, OryError> {
    let page = PageReq::from_ctx(ctx)?;
    let all = [(1u64, DEFAULT_SCHEMA_ID)];
    let (items, link) = page.page(ctx, all.iter().collect(), |(seq, _)| *seq);
    let body: Vec<Value> = items
        .into_iter()
        .map(|(_, id)| json!({ "id": id, "schema": default_schema() }))
        .collect();
    let reply = Reply::ok(Value::Array(body));
    Ok(match link {
        Some(link) => reply.with_header(header::LINK, link),
        None => reply,
    })
}

/// `GET /schemas/{id}`: accepts the plain id or its base64url form (as used in `schema_url`).
pub(crate) fn get(id: &str) -> Result<Reply, OryError> {
    let decoded = URL_SAFE_NO_PAD
        .decode(id.trim_end_matches('='))
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok());
    if id == DEFAULT_SCHEMA_ID || decoded.as_deref() == Some(DEFAULT_SCHEMA_ID) {
        Ok(Reply::ok(default_schema()))
    } else {
        Err(OryError::not_found(format!(
            "identity schema {id} does not exist"
        )))
    }
}
