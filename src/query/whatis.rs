//! What whatis-ip and whatis-host show alike: a MAC's switch port as which-switch decides it,
//! EC2 instances, reverse DNS, and the user's subnets file.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::catalog::{Catalog, Ec2InstanceRow};
use crate::clock;
use crate::config::Config;
use crate::dns::ReverseAnswer;
use crate::error::Result;
use crate::model::Mac;
use crate::net::subnets::Subnets;
use crate::query::placement::{Placed, Placer};

/// The subnets file: `--subnets`, else `[whatis] subnets` in the config, else the default
/// path when it exists; no file at all is an empty list, not an error.
pub fn load_subnets(flag: Option<&PathBuf>, config: &Config) -> Result<Subnets> {
    Subnets::load_configured(
        flag.or(config.whatis.subnets.as_ref())
            .map(PathBuf::as_path),
    )
}

/// Where a MAC is plugged in, as one JSON object (which-switch's answer for it), or `None`
/// when no forwarding table has seen it.
pub fn switch_port(
    placer: &Placer,
    catalog: &Catalog,
    mac: &str,
    vendors: &HashMap<Mac, String>,
) -> Result<Option<Value>> {
    let Some(placed) = placer.answer(catalog, mac)? else {
        return Ok(None);
    };
    Ok(Some(placed_json(&placed, vendors)))
}

fn placed_json(placed: &Placed, vendors: &HashMap<Mac, String>) -> Value {
    let s = &placed.sighting;
    let member = s.port_name.clone().or_else(|| s.port_descr.clone());
    let port = s.lag_name.clone().or(member);
    json!({
        "mac": s.mac,
        "switch": s.device_name.clone().unwrap_or_else(|| s.device_address.clone()),
        "port": port,
        "vlan": s.vlan,
        "role": placed.role.name(),
        "current": s.current,
        "last_seen": clock::format(s.last_seen),
        "vendor": s.mac.parse::<Mac>().ok().and_then(|m| vendors.get(&m).cloned()),
        "why": placed.why,
    })
}

/// An EC2 instance as whatis shows it: identity, state, group, addresses and tags.
pub fn ec2_json(r: &Ec2InstanceRow) -> Value {
    json!({
        "id": r.instance_id,
        "name": r.name,
        "state": r.state,
        "asg": r.asg_name,
        "region": r.region,
        "az": r.az,
        "type": r.instance_type,
        "private_ip": r.private_ip,
        "public_ip": r.public_ip,
        "current": r.current,
        "last_seen": clock::format(r.last_seen),
        "tags": r.tags,
    })
}

/// The latest state of each instance, current instances first.
pub fn latest_per_instance(mut rows: Vec<Ec2InstanceRow>) -> Vec<Ec2InstanceRow> {
    rows.sort_by_key(|a| (!a.current, -a.last_seen));
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|r| seen.insert(r.instance_id.clone()))
        .collect()
}

/// The PTR names of an address as JSON objects: name, confirmed, forward addresses.
pub fn ptr_json(answer: &ReverseAnswer) -> Value {
    Value::Array(
        answer
            .names
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "confirmed": p.confirmed,
                    "forward": p.forward.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "error": p.forward_error,
                })
            })
            .collect(),
    )
}

/// The disagreements reverse DNS shows on its own: PTR names that do not resolve back.
pub fn ptr_disagreements(address: &str, answer: &ReverseAnswer) -> Vec<String> {
    answer
        .names
        .iter()
        .filter(|p| !p.confirmed)
        .map(|p| {
            let how = match (&p.forward_error, p.forward.is_empty()) {
                (Some(e), _) => format!("its forward lookup failed: {e}"),
                (None, true) => "it has no address record of that family".to_string(),
                (None, false) => format!(
                    "it resolves to {}",
                    p.forward
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!("PTR {} does not resolve back to {address}: {how}", p.name)
        })
        .collect()
}

/// True when `name` (a DNS name) names the host `host` (its hostname or FQDN): equal, or
/// equal in their first labels when one of them is a short name.
pub fn same_host(name: &str, host: &str, fqdn: Option<&str>) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    if name == host || fqdn.is_some_and(|f| f.trim_end_matches('.').eq_ignore_ascii_case(&name)) {
        return true;
    }
    let short = |s: &str| s.split('.').next().unwrap_or("").to_string();
    (!name.contains('.') || !host.contains('.')) && short(&name) == short(&host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_match_by_fqdn_or_short_name() {
        assert!(same_host("web-7.example.com", "web-7", None));
        assert!(same_host("WEB-7.example.com.", "web-7.example.com", None));
        assert!(same_host("web-7", "web-7.example.com", None));
        assert!(same_host("w7.example.com", "web-7", Some("w7.example.com")));
        assert!(!same_host("web-7.example.com", "web-7.other.com", None));
        assert!(!same_host("web-70.example.com", "web-7", None));
    }
}
