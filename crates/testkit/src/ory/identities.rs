//! Identity endpoints: `/admin/identities[...]`.

use http::{StatusCode, header};
use serde_json::{Value, json};

use super::input::IdentityInput;
use super::model::{CredView, Identity, Store};
use super::wire::{Ctx, OryError, PageReq, Reply};

/// `ids` filter limit (Ory: 500).
const MAX_IDS: usize = 500;
/// Batch size limit of `PATCH /admin/identities`.
const MAX_BATCH: usize = 1000;
/// Limits that keep a hostile JSON Patch from exhausting memory or stack.
const MAX_PATCH_OPS: usize = 1000;
const MAX_PATCHED_DEPTH: usize = 200;
const MAX_PATCHED_BYTES: usize = 512 * 1024;

fn include_credentials(ctx: &Ctx) -> Vec<&str> {
    ctx.params("include_credential")
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect()
}

/// `GET /admin/identities`
pub(crate) fn list(store: &Store, ctx: &Ctx) -> Result<Reply, OryError> {
    let page = PageReq::from_ctx(ctx)?;
    let include = include_credentials(ctx);
    let view = if include.is_empty() {
        CredView::Omit
    } else {
        CredView::Summary(&include)
    };
    let ids: Vec<&str> = ctx
        .params("ids")
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() > MAX_IDS {
        return Err(OryError::bad_request(format!(
            "at most {MAX_IDS} ids can be requested at once"
        )));
    }
    let exact = ctx
        .param("credentials_identifier")
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let similar = ctx
        .param("preview_credentials_identifier_similar")
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    if exact.is_some() && similar.is_some() {
        return Err(OryError::bad_request(
            "only one of credentials_identifier and preview_credentials_identifier_similar can be used",
        ));
    }
    let org = ctx.param("organization_id").filter(|s| !s.is_empty());
    let matching: Vec<&Identity> = store
        .identities
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.id.as_str()))
        .filter(|i| {
            exact
                .as_ref()
                .is_none_or(|e| i.identifiers().any(|x| x == *e))
        })
        .filter(|i| {
            similar
                .as_ref()
                .is_none_or(|s| i.identifiers().any(|x| x.contains(s.as_str())))
        })
        .filter(|i| org.is_none_or(|o| i.organization_id.as_deref() == Some(o)))
        .collect();
    // Like Ory, the `ids` filter is not paginated.
    let (items, link) = if ids.is_empty() {
        page.page(ctx, matching, |i| i.seq)
    } else {
        (matching, None)
    };
    let body: Vec<Value> = items
        .into_iter()
        .map(|i| i.render(&ctx.base, view))
        .collect();
    let reply = Reply::ok(Value::Array(body));
    Ok(match link {
        Some(link) => reply.with_header(header::LINK, link),
        None => reply,
    })
}

/// `POST /admin/identities` → 201 with the identity and a `Location` header.
pub(crate) fn create(store: &mut Store, ctx: &Ctx) -> Result<Reply, OryError> {
    let input = IdentityInput::parse(&ctx.json_body()?, false)?;
    let id = store.create_identity(input)?;
    let identity = store.identity(&id)?;
    Ok(Reply::json(
        StatusCode::CREATED,
        identity.render(&ctx.base, CredView::Summary(&[])),
    )
    .with_header(
        header::LOCATION,
        format!("{}/admin/identities/{id}", ctx.base),
    ))
}

/// `PATCH /admin/identities`: batch create.
pub(crate) fn batch(store: &mut Store, ctx: &Ctx) -> Result<Reply, OryError> {
    let body = ctx.json_object()?;
    let entries = body
        .get("identities")
        .and_then(Value::as_array)
        .ok_or_else(|| OryError::bad_request("'identities' must be an array"))?;
    if entries.len() > MAX_BATCH {
        return Err(OryError::bad_request(format!(
            "at most {MAX_BATCH} identities can be imported at once"
        )));
    }
    let mut results = Vec::with_capacity(entries.len());
    let mut first_error = None;
    for entry in entries {
        let outcome = match entry.get("create") {
            Some(create) => {
                IdentityInput::parse(create, false).and_then(|input| store.create_identity(input))
            }
            None => Err(OryError::bad_request("the patch has no 'create' payload")),
        };
        let mut result = match outcome {
            Ok(id) => json!({ "action": "create", "identity": id }),
            Err(err) => {
                let inner = err.inner_json();
                first_error.get_or_insert(err);
                json!({ "action": "error", "error": inner })
            }
        };
        if let (Some(pid), Value::Object(map)) = (entry.get("patch_id"), &mut result) {
            map.insert("patch_id".into(), pid.clone());
        }
        results.push(result);
    }
    // Ory answers 4xx only when every import failed.
    if let Some(err) = first_error
        && results.iter().all(|r| r["action"] == "error")
    {
        return Err(err);
    }
    Ok(Reply::ok(json!({ "identities": results })))
}

/// `GET /admin/identities/{id}`
pub(crate) fn get(store: &Store, ctx: &Ctx, id: &str) -> Result<Reply, OryError> {
    let include = include_credentials(ctx);
    let identity = store.identity(id)?;
    Ok(Reply::ok(
        identity.render(&ctx.base, CredView::Summary(&include)),
    ))
}

/// `GET /admin/identities/by/external/{externalID}`
pub(crate) fn get_by_external(store: &Store, ctx: &Ctx, external: &str) -> Result<Reply, OryError> {
    let include = include_credentials(ctx);
    let identity = store
        .identities
        .iter()
        .find(|i| i.external_id.as_deref() == Some(external))
        .ok_or_else(|| {
            OryError::not_found(format!("no identity with external id {external} exists"))
        })?;
    Ok(Reply::ok(
        identity.render(&ctx.base, CredView::Summary(&include)),
    ))
}

/// `PUT /admin/identities/{id}`: full update (`schema_id`, `traits`, `state` required).
pub(crate) fn update(store: &mut Store, ctx: &Ctx, id: &str) -> Result<Reply, OryError> {
    store.identity(id)?;
    let input = IdentityInput::parse(&ctx.json_body()?, true)?;
    let identity = store.update_identity(id, input, true)?;
    Ok(Reply::ok(
        identity.render(&ctx.base, CredView::Summary(&[])),
    ))
}

/// `PATCH /admin/identities/{id}`: RFC 6902 JSON Patch over the identity JSON.
pub(crate) fn patch(store: &mut Store, ctx: &Ctx, id: &str) -> Result<Reply, OryError> {
    let body = ctx.json_body()?;
    let ops: json_patch::Patch = serde_json::from_value(body)
        .map_err(|e| OryError::bad_request(format!("the JSON Patch is invalid: {e}")))?;
    if ops.0.len() > MAX_PATCH_OPS {
        return Err(OryError::bad_request(format!(
            "a JSON Patch may hold at most {MAX_PATCH_OPS} operations"
        )));
    }
    let mut doc = store.identity(id)?.render(&ctx.base, CredView::Omit);
    for op in &ops.0 {
        json_patch::patch_unsafe(&mut doc, std::slice::from_ref(op))
            .map_err(|e| OryError::bad_request(format!("could not apply the JSON Patch: {e}")))?;
        if deeper_than(&doc, MAX_PATCHED_DEPTH)
            || serde_json::to_vec(&doc).map_or(true, |b| b.len() > MAX_PATCHED_BYTES)
        {
            return Err(OryError::bad_request("the patched identity is too large"));
        }
    }
    if doc.get("id").and_then(Value::as_str) != Some(id) {
        return Err(OryError::bad_request("the identity id can not be changed"));
    }
    if doc.get("credentials").is_some() {
        return Err(OryError::bad_request(
            "credentials can not be updated with JSON Patch",
        ));
    }
    let input = IdentityInput::parse(&doc, false)?;
    let identity = store.update_identity(id, input, false)?;
    Ok(Reply::ok(
        identity.render(&ctx.base, CredView::Summary(&[])),
    ))
}

/// True when `v` nests containers deeper than `limit` levels (stops early).
fn deeper_than(v: &Value, limit: usize) -> bool {
    let mut children: Box<dyn Iterator<Item = &Value>> = match v {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(map) => Box::new(map.values()),
        _ => return false,
    };
    limit == 0 || children.any(|c| deeper_than(c, limit - 1))
}

/// `DELETE /admin/identities/{id}` → 204; its sessions go too.
pub(crate) fn delete(store: &mut Store, id: &str) -> Result<Reply, OryError> {
    store.delete_identity(id)?;
    Ok(Reply::no_content())
}

/// `DELETE /admin/identities/{id}/credentials/{type}[?identifier=...]` → 204.
pub(crate) fn delete_credential(
    store: &mut Store,
    ctx: &Ctx,
    id: &str,
    kind: &str,
) -> Result<Reply, OryError> {
    let identifier = ctx.param("identifier").filter(|s| !s.is_empty());
    let identity = store.identity_mut(id)?;
    if matches!(kind, "passkey" | "code") {
        return Err(OryError::bad_request(format!(
            "{kind} credentials can not be deleted through this API"
        )));
    }
    let cred = identity
        .credentials
        .get_mut(kind)
        .ok_or_else(|| OryError::not_found(format!("identity {id} has no {kind} credentials")))?;
    match (kind, identifier) {
        ("oidc" | "saml", Some(identifier)) => {
            if !cred.identifiers.iter().any(|x| x == identifier) {
                return Err(OryError::not_found(format!(
                    "identity {id} has no {kind} credential with identifier {identifier}"
                )));
            }
            cred.identifiers.retain(|x| x != identifier);
            if let Some(Value::Array(providers)) = cred.config.get_mut("providers") {
                providers.retain(|p| {
                    let provider = p.get("provider").and_then(Value::as_str).unwrap_or("");
                    let subject = p.get("subject").and_then(Value::as_str).unwrap_or("");
                    format!("{provider}:{subject}") != identifier
                });
            }
            if cred.identifiers.is_empty() {
                identity.credentials.remove(kind);
            }
        }
        _ => {
            identity.credentials.remove(kind);
        }
    }
    identity.updated_at = std::time::SystemTime::now();
    Ok(Reply::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_check_stops_at_the_limit() {
        assert!(!deeper_than(&json!({"a": [1, {"b": 2}]}), 3));
        assert!(deeper_than(&json!({"a": [1, {"b": {}}]}), 2));
        assert!(!deeper_than(&json!(1), 0));
    }
}
