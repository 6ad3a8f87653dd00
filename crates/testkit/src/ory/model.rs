//! The fake's in-memory data: identities, credentials and sessions, the
//! store operations on them, and how both render as Ory JSON.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::input::{IdentityInput, derive_addresses, normalize_address, trait_identifiers};
use super::wire::OryError;
use crate::util::{rfc3339, uuid_v4};

/// How long a session created alongside an identity (or extended) lives.
pub(crate) const SESSION_LIFESPAN: Duration = Duration::from_secs(24 * 3600);

/// Everything the fake knows.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Identities in creation order (ascending `seq`).
    pub(crate) identities: Vec<Identity>,
    /// Sessions in creation order (ascending `seq`).
    pub(crate) sessions: Vec<Session>,
    next_seq: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) seq: u64,
    pub(crate) id: String,
    pub(crate) schema_id: String,
    pub(crate) state: String,
    pub(crate) traits: Value,
    pub(crate) metadata_public: Value,
    pub(crate) metadata_admin: Value,
    pub(crate) external_id: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) verifiable_addresses: Vec<Value>,
    pub(crate) recovery_addresses: Vec<Value>,
    pub(crate) credentials: BTreeMap<String, Credential>,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
    pub(crate) state_changed_at: SystemTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub(crate) identifiers: Vec<String>,
    /// Never holds a plaintext password.
    pub(crate) config: Value,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) seq: u64,
    pub(crate) id: String,
    pub(crate) identity_id: String,
    pub(crate) active: bool,
    pub(crate) device_id: String,
    pub(crate) authenticated_at: SystemTime,
    pub(crate) expires_at: SystemTime,
}

impl Session {
    /// Active and not expired.
    pub(crate) fn is_active(&self, now: SystemTime) -> bool {
        self.active && self.expires_at > now
    }
}

impl Store {
    fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub(crate) fn identity(&self, id: &str) -> Result<&Identity, OryError> {
        self.identities
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(|| OryError::not_found(format!("identity {id} does not exist")))
    }

    pub(crate) fn identity_mut(&mut self, id: &str) -> Result<&mut Identity, OryError> {
        self.identities
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| OryError::not_found(format!("identity {id} does not exist")))
    }

    /// 409 when `external_id` or a credential identifier belongs to another identity.
    fn check_unique(&self, input: &IdentityInput, except: Option<&str>) -> Result<(), OryError> {
        let others = self
            .identities
            .iter()
            .filter(|i| Some(i.id.as_str()) != except);
        for other in others {
            if input.external_id.is_some() && other.external_id == input.external_id {
                return Err(OryError::conflict(
                    "an identity with the same external_id exists already",
                ));
            }
            for (kind, identifiers, _) in &input.credentials {
                let taken = other
                    .credentials
                    .get(kind)
                    .is_some_and(|c| c.identifiers.iter().any(|x| identifiers.contains(x)));
                if taken {
                    return Err(OryError::conflict(
                        "an account with the same identifier exists already",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Creates an identity plus one active session for it; returns its id.
    pub(crate) fn create_identity(&mut self, input: IdentityInput) -> Result<String, OryError> {
        self.check_unique(&input, None)?;
        let now = SystemTime::now();
        let now_s = rfc3339(now);
        let seq = self.next_seq();
        let mut identity = Identity {
            seq,
            id: uuid_v4(),
            schema_id: String::new(),
            state: "active".into(),
            traits: Value::Null,
            metadata_public: Value::Null,
            metadata_admin: Value::Null,
            external_id: None,
            organization_id: None,
            verifiable_addresses: Vec::new(),
            recovery_addresses: Vec::new(),
            credentials: BTreeMap::new(),
            created_at: now,
            updated_at: now,
            state_changed_at: now,
        };
        apply_input(&mut identity, input, true, now, &now_s);
        let session = Session {
            seq: self.next_seq(),
            id: uuid_v4(),
            identity_id: identity.id.clone(),
            active: true,
            device_id: uuid_v4(),
            authenticated_at: now,
            expires_at: now + SESSION_LIFESPAN,
        };
        let id = identity.id.clone();
        self.identities.push(identity);
        self.sessions.push(session);
        Ok(id)
    }

    /// Replaces an identity's data. `keep_absent` (PUT) keeps `external_id`,
    /// `organization_id` and addresses when the body omits them; a patched
    /// document (PATCH) is authoritative instead.
    pub(crate) fn update_identity(
        &mut self,
        id: &str,
        input: IdentityInput,
        keep_absent: bool,
    ) -> Result<&Identity, OryError> {
        self.identity(id)?;
        self.check_unique(&input, Some(id))?;
        let now = SystemTime::now();
        let now_s = rfc3339(now);
        let identity = self.identity_mut(id)?;
        let old_state = identity.state.clone();
        let mut input = input;
        if keep_absent {
            input.external_id = input.external_id.or_else(|| identity.external_id.clone());
            input.organization_id = input
                .organization_id
                .or_else(|| identity.organization_id.clone());
        }
        apply_input(identity, input, keep_absent, now, &now_s);
        identity.updated_at = now;
        if identity.state != old_state {
            identity.state_changed_at = now;
        }
        Ok(identity)
    }

    /// Removes an identity and all of its sessions.
    pub(crate) fn delete_identity(&mut self, id: &str) -> Result<(), OryError> {
        self.identity(id)?;
        self.identities.retain(|i| i.id != id);
        self.sessions.retain(|s| s.identity_id != id);
        Ok(())
    }

    pub(crate) fn session_mut(&mut self, id: &str) -> Result<&mut Session, OryError> {
        self.sessions
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| OryError::not_found(format!("session {id} does not exist")))
    }
}

/// Copies validated input onto an identity. `derive` re-derives omitted addresses from traits.
fn apply_input(
    identity: &mut Identity,
    input: IdentityInput,
    derive: bool,
    now: SystemTime,
    now_s: &str,
) {
    identity.verifiable_addresses = match input.verifiable_addresses {
        Some(list) => list
            .into_iter()
            .map(|a| normalize_address(a, true, now_s))
            .collect(),
        None if derive => {
            derive_addresses(&input.traits, &identity.verifiable_addresses, true, now_s)
        }
        None => Vec::new(),
    };
    identity.recovery_addresses = match input.recovery_addresses {
        Some(list) => list
            .into_iter()
            .map(|a| normalize_address(a, false, now_s))
            .collect(),
        None if derive => {
            derive_addresses(&input.traits, &identity.recovery_addresses, false, now_s)
        }
        None => Vec::new(),
    };
    identity.schema_id = input.schema_id;
    identity.traits = input.traits;
    if let Some(state) = input.state {
        identity.state = state;
    }
    identity.external_id = input.external_id;
    identity.organization_id = input.organization_id;
    identity.metadata_public = input.metadata_public;
    identity.metadata_admin = input.metadata_admin;
    for (kind, identifiers, config) in input.credentials {
        let created_at = identity
            .credentials
            .get(&kind)
            .map_or(now, |c| c.created_at);
        identity.credentials.insert(
            kind,
            Credential {
                identifiers,
                config,
                created_at,
                updated_at: now,
            },
        );
    }
    // Like Kratos, password identifiers follow the identifier traits.
    let from_traits = trait_identifiers(&identity.traits);
    if let Some(pw) = identity.credentials.get_mut("password") {
        pw.identifiers = from_traits;
    }
}

/// Which credentials to render: none, or all (with `config` only for the listed types).
#[derive(Debug, Clone, Copy)]
pub(crate) enum CredView<'a> {
    Omit,
    Summary(&'a [&'a str]),
}

/// The `schema_url` Ory reports: `<base>/schemas/<base64url(schema_id)>`.
pub(crate) fn schema_url(base: &str, schema_id: &str) -> String {
    format!("{base}/schemas/{}", URL_SAFE_NO_PAD.encode(schema_id))
}

impl Identity {
    /// All identifiers the `credentials_identifier` filter can match.
    pub(crate) fn identifiers(&self) -> impl Iterator<Item = String> + '_ {
        self.credentials
            .values()
            .flat_map(|c| c.identifiers.iter().cloned())
            .chain(trait_identifiers(&self.traits))
    }

    /// The identity as Ory's `identity` JSON object.
    pub(crate) fn render(&self, base: &str, creds: CredView<'_>) -> Value {
        let mut out = json!({
            "id": self.id,
            "schema_id": self.schema_id,
            "schema_url": schema_url(base, &self.schema_id),
            "state": self.state,
            "state_changed_at": rfc3339(self.state_changed_at),
            "traits": self.traits,
            "verifiable_addresses": self.verifiable_addresses,
            "recovery_addresses": self.recovery_addresses,
            "metadata_public": self.metadata_public,
            "metadata_admin": self.metadata_admin,
            "organization_id": self.organization_id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        });
        if let (Some(ext), Value::Object(map)) = (&self.external_id, &mut out) {
            map.insert("external_id".into(), Value::String(ext.clone()));
        }
        if let (CredView::Summary(include), Value::Object(map)) = (creds, &mut out) {
            let rendered: Map<String, Value> = self
                .credentials
                .iter()
                .map(|(kind, c)| {
                    let mut v = json!({
                        "type": kind,
                        "identifiers": c.identifiers,
                        "version": 0,
                        "created_at": rfc3339(c.created_at),
                        "updated_at": rfc3339(c.updated_at),
                    });
                    if include.contains(&kind.as_str())
                        && let Value::Object(m) = &mut v
                    {
                        m.insert("config".into(), c.config.clone());
                    }
                    (kind.clone(), v)
                })
                .collect();
            map.insert("credentials".into(), Value::Object(rendered));
        }
        out
    }
}

impl Session {
    /// The session as Ory's `session` JSON object.
    pub(crate) fn render(&self, identity: Option<&Identity>, devices: bool, base: &str) -> Value {
        let mut out = json!({
            "id": self.id,
            "active": self.is_active(SystemTime::now()),
            "expires_at": rfc3339(self.expires_at),
            "authenticated_at": rfc3339(self.authenticated_at),
            "issued_at": rfc3339(self.authenticated_at),
            "authenticator_assurance_level": "aal1",
            "authentication_methods": [{
                "method": "password",
                "aal": "aal1",
                "completed_at": rfc3339(self.authenticated_at),
            }],
        });
        if let Value::Object(map) = &mut out {
            if let Some(identity) = identity {
                map.insert("identity".into(), identity.render(base, CredView::Omit));
            }
            if devices {
                map.insert(
                    "devices".into(),
                    json!([{
                        "id": self.device_id,
                        "ip_address": "127.0.0.1",
                        "user_agent": "naftiko-testkit",
                        "location": "",
                    }]),
                );
            }
        }
        out
    }
}
