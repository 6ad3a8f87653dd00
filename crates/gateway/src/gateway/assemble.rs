//! Merging the plans of many files into what each listening address serves, refusing
//! collisions (same route, same tool name, one port claimed by REST and MCP).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use naftiko_plan::{McpAdapterPlan, Plan, RestAdapterPlan};
use naftiko_rest::RestRoutes;

/// What one address serves, with the file each adapter came from.
#[derive(Debug, Clone)]
pub(crate) enum Served {
    Rest(Vec<(PathBuf, RestAdapterPlan)>),
    Mcp(Vec<(PathBuf, McpAdapterPlan)>),
}

/// Every address and what it serves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Assembly {
    pub(crate) by_addr: BTreeMap<SocketAddr, Served>,
}

/// An adapter's address: its own `address` or the default bind address.
pub(crate) fn adapter_addr(
    address: Option<&str>,
    port: u16,
    bind: IpAddr,
) -> Result<SocketAddr, String> {
    let ip = match address {
        None => bind,
        Some("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(a) => a
            .parse()
            .map_err(|_| format!("adapter address '{a}' is not an IP address"))?,
    };
    Ok(SocketAddr::new(ip, port))
}

fn at(file: &Path, pos: naftiko_spec::Pos) -> String {
    format!("{}:{}", file.display(), pos)
}

impl Assembly {
    /// Adds every adapter of `plan`, or nothing if any of them collides.
    pub(crate) fn try_add(&mut self, file: &Path, plan: &Plan, bind: IpAddr) -> Result<(), String> {
        let mut next = self.by_addr.clone();
        for r in &plan.rest {
            let addr = adapter_addr(r.address.as_deref(), r.port, bind)?;
            match next.entry(addr).or_insert_with(|| Served::Rest(Vec::new())) {
                Served::Rest(list) => {
                    list.push((file.to_path_buf(), r.clone()));
                    if let Err(e) = RestRoutes::new(list.iter().map(|(_, a)| a)) {
                        let others: Vec<String> = list[..list.len() - 1]
                            .iter()
                            .map(|(f, a)| at(f, a.pos))
                            .collect();
                        return Err(format!(
                            "REST adapter '{}' at {} collides on {addr} with {}: {e}",
                            r.namespace,
                            at(file, r.pos),
                            others.join(", ")
                        ));
                    }
                }
                Served::Mcp(list) => {
                    return Err(format!(
                        "REST adapter '{}' at {} wants {addr}, already served by MCP adapter at {}",
                        r.namespace,
                        at(file, r.pos),
                        list.first().map(|(f, a)| at(f, a.pos)).unwrap_or_default()
                    ));
                }
            }
        }
        for m in plan.mcp.iter().filter(|m| !m.stdio) {
            let Some(port) = m.port else { continue };
            let addr = adapter_addr(m.address.as_deref(), port, bind)?;
            match next.entry(addr).or_insert_with(|| Served::Mcp(Vec::new())) {
                Served::Mcp(list) => {
                    for t in &m.tools {
                        if let Some((f, a)) = list
                            .iter()
                            .find(|(_, a)| a.tools.iter().any(|o| o.name == t.name))
                        {
                            return Err(format!(
                                "MCP tool '{}' of {} collides on {addr} with the tool of the same name at {}",
                                t.name,
                                at(file, m.pos),
                                at(f, a.pos)
                            ));
                        }
                    }
                    list.push((file.to_path_buf(), m.clone()));
                }
                Served::Rest(list) => {
                    return Err(format!(
                        "MCP adapter '{}' at {} wants {addr}, already served by REST adapter at {}",
                        m.namespace,
                        at(file, m.pos),
                        list.first().map(|(f, a)| at(f, a.pos)).unwrap_or_default()
                    ));
                }
            }
        }
        self.by_addr = next;
        Ok(())
    }
}

/// The MCP adapters of one address merged into one server (tools concatenated).
pub(crate) fn merge_mcp(list: &[(PathBuf, McpAdapterPlan)]) -> Option<McpAdapterPlan> {
    let mut iter = list.iter().map(|(_, a)| a);
    let mut merged = iter.next()?.clone();
    for a in iter {
        merged.tools.extend(a.tools.iter().cloned());
    }
    Some(merged)
}
