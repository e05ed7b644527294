//! What whatis-ip and whatis-host share: a MAC's switch port as which-switch decides it, EC2
//! instances, reverse DNS and the PTR names that do not resolve back, and the user's subnets
//! file; and the JSON both show these as.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
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

/// Where a MAC is plugged in, as which-switch decides it.
#[derive(Debug, Clone)]
pub struct SwitchPort {
    pub placed: Placed,
    /// The MAC's vendor (IEEE registry).
    pub vendor: Option<String>,
    /// The host interface that has the MAC, when the MAC was asked about for an interface.
    pub interface: Option<String>,
}

/// Where each of `macs` is plugged in, in their order; `None` for a MAC no forwarding table
/// has seen. One question to the catalog for all of them (see [`Placer::answers`]).
pub fn switch_ports(
    placer: &Placer,
    catalog: &Catalog,
    macs: &[Mac],
    vendors: &HashMap<Mac, String>,
) -> Result<Vec<Option<SwitchPort>>> {
    Ok(placer
        .answers(catalog, macs)?
        .into_iter()
        .map(|placed| {
            placed.map(|placed| SwitchPort {
                vendor: vendors.get(&placed.sighting.mac).cloned(),
                placed,
                interface: None,
            })
        })
        .collect())
}

impl SwitchPort {
    /// The switch: its name, else the address it was polled at.
    pub fn switch(&self) -> String {
        let s = &self.placed.sighting;
        s.device_name
            .clone()
            .unwrap_or_else(|| s.device_address.clone())
    }

    /// The port: the aggregate for LAG members, else its name, else its description.
    pub fn port(&self) -> Option<String> {
        let s = &self.placed.sighting;
        s.port()
    }

    /// As whatis shows it; `interface` last, and only when there is one.
    pub fn to_json(&self) -> Value {
        let s = &self.placed.sighting;
        let mut v = json!({
            "mac": s.mac.to_string(),
            "switch": self.switch(),
            "port": self.port(),
            "vlan": s.vlan,
            "role": self.placed.role.name(),
            "current": s.current,
            "last_seen": clock::format(s.last_seen),
            "vendor": self.vendor,
            "why": self.placed.why,
        });
        if let Some(i) = &self.interface {
            v["interface"] = json!(i);
        }
        v
    }
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

/// A PTR name of an address that does not resolve back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconfirmed {
    pub name: String,
    pub address: IpAddr,
    pub why: Forward,
}

/// What the forward lookup of an unconfirmed PTR name gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forward {
    Failed(String),
    /// No address record of the address's family.
    Nothing,
    /// Other addresses than the one asked about.
    Elsewhere(Vec<IpAddr>),
}

impl fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PTR {} does not resolve back to {}: ",
            self.name, self.address
        )?;
        match &self.why {
            Forward::Failed(e) => write!(f, "its forward lookup failed: {e}"),
            Forward::Nothing => write!(f, "it has no address record of that family"),
            Forward::Elsewhere(ips) => write!(f, "it resolves to {}", join(ips)),
        }
    }
}

/// Addresses (or anything shown) as a comma-separated list.
pub fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The disagreements reverse DNS shows on its own: PTR names that do not resolve back.
pub fn unconfirmed(address: IpAddr, answer: &ReverseAnswer) -> Vec<Unconfirmed> {
    answer
        .names
        .iter()
        .filter(|p| !p.confirmed)
        .map(|p| Unconfirmed {
            name: p.name.clone(),
            address,
            why: match (&p.forward_error, p.forward.is_empty()) {
                (Some(e), _) => Forward::Failed(e.clone()),
                (None, true) => Forward::Nothing,
                (None, false) => Forward::Elsewhere(p.forward.clone()),
            },
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
