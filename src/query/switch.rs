//! which-switch's questions: the MACs an input stands for (a MAC, an address through ARP and
//! host interfaces, a name through scanned hosts or DNS), where each is plugged in (now, on
//! every switch, or over time), what one switch port has learned, and which MACs moved between
//! ports of a switch.

use std::cell::OnceCell;
use std::fmt;
use std::net::IpAddr;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::dns::{DnsOptions, Resolver};
use crate::error::Result;
use crate::model::Mac;

use super::placement::{self, Placed, Placer};

/// One answer row: a placement, the input it answers and how the MAC was found.
#[derive(Debug, Clone)]
pub struct Located {
    pub query: String,
    /// mac, arp, host, dns+arp…, port or moves.
    pub via: String,
    pub placed: Placed,
    /// With [`moves`]: the port of the same switch the MAC was on before.
    pub moved_from: Option<String>,
}

/// An input (or a MAC of it) that could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// Nothing ties the input to a MAC.
    NoMac { item: String },
    /// The input's MAC is known but no switch has learned it.
    NotForwarded { item: String, mac: Mac, via: String },
    /// `--port`: the switch has no such port, or the port learned nothing.
    EmptyPort { switch: String, port: String },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::NoMac { item } => write!(
                f,
                "{item}: no MAC known for it (not in any ARP table, host interface or forwarding table)"
            ),
            Miss::NotForwarded { item, mac, via } => {
                write!(f, "{item}: {mac} ({via}) is in no forwarding table")
            }
            Miss::EmptyPort { switch, port } => write!(
                f,
                "{switch} {port}: nothing learned on that port (or no such switch or port)"
            ),
        }
    }
}

/// The answer to a question: rows, what could not be placed, and whether every input was
/// answered.
#[derive(Debug, Default)]
pub struct Answer {
    pub rows: Vec<Located>,
    pub misses: Vec<Miss>,
    /// False when an input got no row at all.
    pub complete: bool,
}

/// Each input with the MACs it stands for, and how each was found.
pub type Resolved = Vec<(String, Vec<(Mac, String)>)>;

/// Turns inputs into MACs. DNS is asked only for a name no scanned host answers to, and the
/// resolver is made on first use: most inputs are MACs or addresses that need no DNS.
pub async fn resolve(
    catalog: &Catalog,
    items: &[String],
    dns: Option<&DnsOptions>,
) -> Result<Resolved> {
    let resolver = OnceCell::new();
    let mut resolved = Vec::new();
    for item in items {
        resolved.push((item.clone(), macs_for(catalog, item, dns, &resolver).await?));
    }
    Ok(resolved)
}

/// The MACs an input stands for, and how each was found.
async fn macs_for(
    catalog: &Catalog,
    item: &str,
    dns: Option<&DnsOptions>,
    resolver: &OnceCell<Resolver>,
) -> Result<Vec<(Mac, String)>> {
    if let Ok(mac) = item.parse::<Mac>() {
        return Ok(vec![(mac, "mac".into())]);
    }
    if let Ok(ip) = item.trim_matches(['[', ']']).parse::<IpAddr>() {
        return macs_of_address(catalog, ip, "ip");
    }
    let mut out = Vec::new();
    for host in catalog.find_hosts(item)? {
        for (_, mac) in catalog.host_macs(host.id)? {
            if !out.iter().any(|(m, _)| m == &mac) {
                out.push((mac, "host".to_string()));
            }
        }
    }
    if out.is_empty()
        && let Some(options) = dns
    {
        if resolver.get().is_none() {
            let _ = resolver.set(Resolver::new(options)?);
        }
        if let Some(resolver) = resolver.get() {
            for ip in resolver.addresses(item).await.addresses {
                for found in macs_of_address(catalog, ip, "dns")? {
                    if !out.iter().any(|(m, _)| m == &found.0) {
                        out.push(found);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The MACs bound to an address: the current bindings if there are any, else the most recent
/// ones (an address that has gone quiet is still worth an answer about where it was).
fn macs_of_address(catalog: &Catalog, ip: IpAddr, via: &str) -> Result<Vec<(Mac, String)>> {
    let bindings = catalog.macs_of_address(&ip.to_string())?;
    let newest_current = bindings.iter().any(|b| b.current);
    let mut out: Vec<(Mac, String)> = Vec::new();
    for b in bindings.iter().filter(|b| b.current || !newest_current) {
        if !out.iter().any(|(m, _)| *m == b.mac) {
            let how = if via == "dns" {
                format!("dns+{}", b.source)
            } else {
                b.source.clone()
            };
            out.push((b.mac, how));
        }
    }
    Ok(out)
}

/// Where each resolved MAC is plugged in: the access port (`all`: every switch it is seen on;
/// `history`: every port over time), placed from one state of the catalog.
pub fn locate(catalog: &Catalog, resolved: Resolved, all: bool, history: bool) -> Result<Answer> {
    // Every MAC placed from one state of the catalog (a crawl may be committing alongside),
    // and SQLite's read lock taken once rather than per statement.
    let _snapshot = catalog.read_snapshot()?;
    let placer = Placer::new(catalog)?;
    let mut answer = Answer {
        complete: true,
        ..Answer::default()
    };
    for (item, macs) in resolved {
        if macs.is_empty() {
            answer.misses.push(Miss::NoMac { item });
            answer.complete = false;
            continue;
        }
        let mut any = false;
        for (mac, via) in macs {
            let sightings = catalog.sightings(mac, true)?;
            if sightings.is_empty() {
                answer.misses.push(Miss::NotForwarded {
                    item: item.clone(),
                    mac,
                    via,
                });
                continue;
            }
            any = true;
            let placed = placer.classify(catalog, sightings)?;
            answer.rows.extend(
                placement::select(placed, all, history)
                    .into_iter()
                    .map(|placed| Located {
                        query: item.clone(),
                        via: via.clone(),
                        placed,
                        moved_from: None,
                    }),
            );
        }
        answer.complete &= any;
    }
    Ok(answer)
}

/// Every MAC a switch port has learned, each placed with its own evidence (its owner differs).
pub fn on_port(catalog: &Catalog, switch: &str, port: &str) -> Result<Answer> {
    let placer = Placer::new(catalog)?;
    let mut placed = Vec::new();
    for sighting in catalog.port_sightings(switch, port)? {
        placed.extend(placer.classify(catalog, vec![sighting])?);
    }
    if placed.is_empty() {
        return Ok(Answer {
            misses: vec![Miss::EmptyPort {
                switch: switch.to_string(),
                port: port.to_string(),
            }],
            ..Answer::default()
        });
    }
    let query = format!("{switch} {port}");
    Ok(Answer {
        rows: placed
            .into_iter()
            .map(|placed| Located {
                query: query.clone(),
                via: "port".into(),
                placed,
                moved_from: None,
            })
            .collect(),
        misses: Vec::new(),
        complete: true,
    })
}

/// Every MAC that moved to another port of the same switch since `since`, where it is now and
/// the port it came from. Nothing moved: an empty, incomplete answer.
pub fn moves(catalog: &Catalog, since: i64) -> Result<Answer> {
    let moves = catalog.moves_since(since)?;
    let placer = Placer::new(catalog)?;
    let mut answer = Answer {
        complete: !moves.is_empty(),
        ..Answer::default()
    };
    for (old, new) in moves {
        if let Some(placed) = placer.classify(catalog, vec![new])?.into_iter().next() {
            answer.rows.push(Located {
                query: placed.sighting.mac.to_string(),
                via: "moves".into(),
                moved_from: old.member_port(),
                placed,
            });
        }
    }
    Ok(answer)
}

/// `--live`: the devices to recrawl before answering: every switch the MACs were seen on, and
/// the configured routers (for ARP); every configured device when a MAC was seen nowhere.
pub fn live_devices(
    catalog: &Catalog,
    config: &Config,
    resolved: &Resolved,
) -> Result<Vec<String>> {
    let mut addresses: Vec<String> = Vec::new();
    let mut unseen = false;
    for (mac, _) in resolved.iter().flat_map(|(_, macs)| macs) {
        let sightings = catalog.sightings(*mac, true)?;
        unseen |= sightings.is_empty();
        addresses.extend(sightings.into_iter().map(|s| s.device_address));
    }
    addresses.extend(
        config
            .switches
            .iter()
            .filter(|s| unseen || s.role.as_deref() == Some("router"))
            .map(|s| s.address.clone()),
    );
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}
