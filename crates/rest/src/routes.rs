//! The route table of one listener: every REST resource of the adapters on its port.

use std::sync::Arc;

use http::Method;
use naftiko_plan::{RestAdapterPlan, UnitPlan};

/// A resource's operations by method.
#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) operations: Vec<(Method, Arc<UnitPlan>)>,
    /// `GET, POST`, precomputed for 405 answers.
    pub(crate) allow: String,
}

/// Routes compiled for matching; immutable, swapped whole on reload.
#[derive(Debug)]
pub struct RestRoutes {
    router: matchit::Router<usize>,
    resources: Vec<Resource>,
}

/// Two adapters (or resources) claim the same path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConflict {
    /// The path that collides.
    pub path: String,
    /// Why matchit refused it.
    pub reason: String,
}

impl std::fmt::Display for RouteConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "route '{}' conflicts with another route: {}",
            self.path, self.reason
        )
    }
}

impl std::error::Error for RouteConflict {}

impl RestRoutes {
    /// Builds the table for every adapter served on one port.
    pub fn new<'a>(
        adapters: impl IntoIterator<Item = &'a RestAdapterPlan>,
    ) -> Result<Self, RouteConflict> {
        let mut router = matchit::Router::new();
        let mut resources: Vec<Resource> = Vec::new();
        let mut paths: Vec<String> = Vec::new();
        for adapter in adapters {
            for res in &adapter.resources {
                // Resources sharing a path (another adapter on the port) merge their methods.
                if let Some(i) = paths.iter().position(|p| *p == res.path) {
                    for (m, u) in &res.operations {
                        if resources[i].operations.iter().any(|(have, _)| have == m) {
                            return Err(RouteConflict {
                                path: res.path.clone(),
                                reason: format!("{m} is defined twice"),
                            });
                        }
                        resources[i].operations.push((m.clone(), u.clone()));
                    }
                    resources[i].allow = allow(&resources[i].operations);
                    continue;
                }
                router
                    .insert(res.path.clone(), resources.len())
                    .map_err(|e| RouteConflict {
                        path: res.path.clone(),
                        reason: e.to_string(),
                    })?;
                paths.push(res.path.clone());
                resources.push(Resource {
                    allow: allow(&res.operations),
                    operations: res.operations.clone(),
                });
            }
        }
        Ok(Self { router, resources })
    }

    /// Finds the resource for `path` and its path variables (raw, still percent-encoded).
    /// They stay matchit's `Params` (inline up to three): collecting them into a `Vec`
    /// cost an allocation per request.
    pub(crate) fn find<'r, 'p: 'r>(
        &'r self,
        path: &'p str,
    ) -> Option<(&'r Resource, matchit::Params<'r, 'p>)> {
        let m = self.router.at(path).ok()?;
        Some((&self.resources[*m.value], m.params))
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

fn allow(ops: &[(Method, Arc<UnitPlan>)]) -> String {
    let mut names: Vec<&str> = ops.iter().map(|(m, _)| m.as_str()).collect();
    if names.contains(&"GET") && !names.contains(&"HEAD") {
        names.push("HEAD");
    }
    names.join(", ")
}
