//! Turning create / update request bodies into validated identity input:
//! required fields, credentials to import (never a plaintext password) and
//! verifiable / recovery addresses.

use serde_json::{Map, Value, json};

use super::wire::OryError;
use crate::util::uuid_v4;

/// A validated create / update payload (`createIdentityBody`, `updateIdentityBody`).
#[derive(Debug)]
pub(crate) struct IdentityInput {
    pub(crate) schema_id: String,
    pub(crate) traits: Value,
    pub(crate) state: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) metadata_public: Value,
    pub(crate) metadata_admin: Value,
    pub(crate) verifiable_addresses: Option<Vec<Value>>,
    pub(crate) recovery_addresses: Option<Vec<Value>>,
    /// Credentials to import: type → (identifiers, stored config).
    pub(crate) credentials: Vec<(String, Vec<String>, Value)>,
}

fn opt_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, OryError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(OryError::bad_request(format!("'{key}' must be a string"))),
    }
}

fn opt_objects(body: &Map<String, Value>, key: &str) -> Result<Option<Vec<Value>>, OryError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            for item in items {
                let ok = item.get("value").is_some_and(Value::is_string)
                    && item.get("via").is_some_and(Value::is_string);
                if !ok {
                    return Err(OryError::bad_request(format!(
                        "every entry of '{key}' needs string 'value' and 'via'"
                    )));
                }
            }
            Ok(Some(items.clone()))
        }
        Some(_) => Err(OryError::bad_request(format!("'{key}' must be an array"))),
    }
}

/// Identifiers the default schema would extract from traits.
pub(crate) fn trait_identifiers(traits: &Value) -> Vec<String> {
    ["email", "username", "phone"]
        .iter()
        .filter_map(|k| traits.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn parse_credentials(
    body: &Map<String, Value>,
    traits: &Value,
) -> Result<Vec<(String, Vec<String>, Value)>, OryError> {
    let creds = match body.get("credentials") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(OryError::bad_request("'credentials' must be an object")),
    };
    let mut out = Vec::new();
    if let Some(pw) = creds.get("password") {
        let config = pw.get("config").cloned().unwrap_or(Value::Null);
        let hashed = config.get("hashed_password").and_then(Value::as_str);
        let plain = config.get("password").and_then(Value::as_str);
        if hashed.is_none() && plain.is_none() {
            return Err(OryError::bad_request(
                "credentials.password.config needs 'password' or 'hashed_password'",
            ));
        }
        let stored = json!({
            // The fake never stores (or echoes) a plaintext password.
            "hashed_password": hashed.unwrap_or("$fake$plaintext-password-not-stored"),
            "use_password_migration_hook": config
                .get("use_password_migration_hook")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
        out.push(("password".to_owned(), trait_identifiers(traits), stored));
    }
    for kind in ["oidc", "saml"] {
        let Some(c) = creds.get(kind) else { continue };
        let providers = c
            .get("config")
            .and_then(|cfg| cfg.get("providers"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                OryError::bad_request(format!("credentials.{kind}.config.providers is required"))
            })?;
        let mut identifiers = Vec::new();
        for p in providers {
            match (
                p.get("provider").and_then(Value::as_str),
                p.get("subject").and_then(Value::as_str),
            ) {
                (Some(provider), Some(subject)) => {
                    identifiers.push(format!("{provider}:{subject}"))
                }
                _ => {
                    return Err(OryError::bad_request(format!(
                        "every credentials.{kind} provider needs 'provider' and 'subject'"
                    )));
                }
            }
        }
        out.push((
            kind.to_owned(),
            identifiers,
            json!({ "providers": providers }),
        ));
    }
    Ok(out)
}

impl IdentityInput {
    /// Validates a create/update body. `schema_id` and an object `traits` are
    /// required; `state` is required when `require_state` (PUT).
    pub(crate) fn parse(body: &Value, require_state: bool) -> Result<Self, OryError> {
        let Value::Object(body) = body else {
            return Err(OryError::bad_request("the identity must be a JSON object"));
        };
        let schema_id = opt_string(body, "schema_id")?
            .ok_or_else(|| OryError::bad_request("'schema_id' is required"))?;
        let traits = match body.get("traits") {
            Some(t @ Value::Object(_)) => t.clone(),
            _ => return Err(OryError::bad_request("'traits' must be a JSON object")),
        };
        let state = opt_string(body, "state")?;
        match state.as_deref() {
            Some("active" | "inactive") => {}
            Some(other) => {
                return Err(OryError::bad_request(format!(
                    "'state' must be 'active' or 'inactive', got '{other}'"
                )));
            }
            None if require_state => return Err(OryError::bad_request("'state' is required")),
            None => {}
        }
        let credentials = parse_credentials(body, &traits)?;
        Ok(Self {
            schema_id,
            state,
            external_id: opt_string(body, "external_id")?,
            organization_id: opt_string(body, "organization_id")?,
            metadata_public: body.get("metadata_public").cloned().unwrap_or(Value::Null),
            metadata_admin: body.get("metadata_admin").cloned().unwrap_or(Value::Null),
            verifiable_addresses: opt_objects(body, "verifiable_addresses")?,
            recovery_addresses: opt_objects(body, "recovery_addresses")?,
            credentials,
            traits,
        })
    }
}

/// Fills `id`/timestamps (and for verifiable addresses `verified`/`status`).
pub(crate) fn normalize_address(mut addr: Value, verifiable: bool, now: &str) -> Value {
    if let Value::Object(map) = &mut addr {
        if !map.get("id").is_some_and(Value::is_string) {
            map.insert("id".into(), Value::String(uuid_v4()));
        }
        for key in ["created_at", "updated_at"] {
            if !map.get(key).is_some_and(Value::is_string) {
                map.insert(key.into(), Value::String(now.to_owned()));
            }
        }
        if verifiable {
            let verified = map
                .get("verified")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            map.insert("verified".into(), Value::Bool(verified));
            if !map.get("status").is_some_and(Value::is_string) {
                let status = if verified { "completed" } else { "pending" };
                map.insert("status".into(), Value::String(status.into()));
            }
        }
    }
    addr
}

/// Addresses derived from `traits.email` (keeping existing entries for the same value).
pub(crate) fn derive_addresses(
    traits: &Value,
    existing: &[Value],
    verifiable: bool,
    now: &str,
) -> Vec<Value> {
    let Some(email) = traits.get("email").and_then(Value::as_str) else {
        return Vec::new();
    };
    if let Some(keep) = existing
        .iter()
        .find(|a| a.get("value").and_then(Value::as_str) == Some(email))
    {
        return vec![keep.clone()];
    }
    let fresh = json!({ "value": email, "via": "email" });
    vec![normalize_address(fresh, verifiable, now)]
}
