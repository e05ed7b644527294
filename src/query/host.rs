//! whatis-host's answers: everything known about a host name, joined from DNS (addresses,
//! CNAMEs, reverse DNS of every address) and every collector's part of the catalog (the host's
//! own scan, switch ports of its MACs, EC2 instances), with where the sources disagree.

use crate::model::ec2::InstanceState::{ShuttingDown, Stopped, Terminated};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use crate::catalog::{Catalog, Ec2InstanceRow, HostDetails};
use crate::clock;
use crate::dns::{AddressAnswer, Resolver, ReverseAnswer};
use crate::error::Result;
use crate::model::Mac;
use crate::model::address::{self as kind, Kind};
use crate::net::oui;

use super::placement::Placer;
use super::whatis::{self, SwitchPort, Unconfirmed, join};

/// What is known of one name.
#[derive(Debug, Clone)]
pub enum NameAnswer {
    /// Neither the catalog, EC2 nor DNS knows the name.
    Unknown {
        name: String,
        why: Unknown,
    },
    Found(Found),
}

/// Why nothing is known of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// DNS was not asked.
    NotInCatalog,
    NotInCatalogOrDns,
    /// DNS was asked and failed.
    DnsFailed(String),
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unknown::NotInCatalog => write!(f, "not in the catalog"),
            Unknown::NotInCatalogOrDns => write!(f, "not in the catalog or DNS"),
            Unknown::DnsFailed(e) => write!(f, "not in the catalog, and DNS failed: {e}"),
        }
    }
}

/// A name something knows: DNS's answer, the EC2 instances behind it, and one card per host
/// of the catalog it matches (one card with no host when only DNS or EC2 knows it).
#[derive(Debug, Clone)]
pub struct Found {
    pub name: String,
    /// DNS's answer, unless DNS is off.
    pub dns: Option<AddressAnswer>,
    /// By Name tag or id, or by any of the name's addresses; latest state of each, current first.
    pub ec2: Vec<Ec2InstanceRow>,
    pub cards: Vec<HostCard>,
}

/// One host matching a name, and what the sources say about it.
#[derive(Debug, Clone)]
pub struct HostCard {
    /// `None`: only DNS or EC2 knows the name.
    pub host: Option<HostDetails>,
    /// Reverse DNS of DNS's addresses, then of the host's own.
    pub ptr: Vec<Ptr>,
    pub disagreements: Vec<Disagreement>,
    /// Where each interface's MAC is plugged in (empty with no host).
    pub switch_ports: Vec<SwitchPort>,
    /// When each source last saw the host (Unix time), newest first, then EC2's.
    pub last_seen_by: Vec<(String, i64)>,
}

/// One PTR name of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ptr {
    pub address: IpAddr,
    pub name: String,
    /// The name resolves back to the address.
    pub confirmed: bool,
}

/// Where the sources disagree about a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disagreement {
    /// DNS gives addresses the host reports on no interface.
    NotOnHost {
        host: String,
        addresses: Vec<IpAddr>,
    },
    /// The host reports addresses DNS does not give for the name.
    NotInDns {
        host: String,
        addresses: Vec<IpAddr>,
    },
    Unconfirmed(Unconfirmed),
    /// A confirmed PTR of one of its addresses names another host.
    OtherName {
        address: IpAddr,
        ptr: String,
        host: String,
    },
    /// Not scanned for longer than --stale.
    Stale {
        host: String,
        last_seen: i64,
    },
    /// DNS gives the address of an EC2 instance that is stopped or gone.
    DeadInstance {
        address: String,
        instance: String,
        state: String,
    },
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disagreement::NotOnHost { host, addresses } => write!(
                f,
                "DNS gives {}, which {host} does not report on any interface",
                join(addresses)
            ),
            Disagreement::NotInDns { host, addresses } => write!(
                f,
                "{host} reports {}, which DNS does not give for the name",
                join(addresses)
            ),
            Disagreement::Unconfirmed(u) => u.fmt(f),
            Disagreement::OtherName { address, ptr, host } => {
                write!(f, "PTR of {address} is {ptr}, not {host}")
            }
            Disagreement::Stale { host, last_seen } => write!(
                f,
                "{host} was last scanned at {}, longer ago than --stale",
                clock::format(*last_seen)
            ),
            Disagreement::DeadInstance {
                address,
                instance,
                state,
            } => write!(
                f,
                "DNS gives {address}, the address of EC2 instance {instance}, which is {state}"
            ),
        }
    }
}

/// A host name worth asking about: no control characters or whitespace (which no DNS name or
/// hostname has, and which would garble a terminal if echoed back).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Answers questions about host names from one catalog and resolver.
pub struct HostQuery<'a> {
    catalog: &'a Catalog,
    placer: Placer,
    /// `None`: DNS is off, and nothing here waits on the network.
    resolver: Option<&'a Resolver>,
    /// Hosts last scanned before this (Unix time) are stale.
    stale_before: i64,
}

impl<'a> HostQuery<'a> {
    pub fn new(
        catalog: &'a Catalog,
        resolver: Option<&'a Resolver>,
        stale_before: i64,
    ) -> Result<Self> {
        Ok(HostQuery {
            catalog,
            placer: Placer::new(catalog)?,
            resolver,
            stale_before,
        })
    }

    /// Everything known of each name, in order: DNS for all of them at once, then the catalog
    /// from one state of it (even across a rescan), then reverse DNS of all their addresses.
    pub async fn answer(&self, names: &[String]) -> Result<Vec<NameAnswer>> {
        let catalog = self.catalog;
        let answers: Vec<Option<AddressAnswer>> = match self.resolver {
            Some(r) => r
                .addresses_many(names)
                .await
                .into_iter()
                .map(Some)
                .collect(),
            None => vec![None; names.len()],
        };
        let _snapshot = catalog.read_snapshot()?;
        let mut out = Vec::with_capacity(names.len());
        for (name, dns) in names.iter().zip(answers) {
            let mut hosts = catalog.find_hosts(name)?;
            // An alias: the host is known by the name the CNAME chain ends at.
            if hosts.is_empty()
                && let Some(canonical) = dns.as_ref().and_then(|d| d.cnames.last())
            {
                hosts = catalog.find_hosts(canonical)?;
            }
            let details: Vec<HostDetails> = hosts
                .into_iter()
                .map(|h| catalog.host_details(h))
                .collect::<Result<_>>()?;
            let ec2 = ec2_instances(catalog, name, &details, dns.as_ref())?;
            if details.is_empty()
                && ec2.is_empty()
                && dns.as_ref().is_none_or(|d| d.addresses.is_empty())
            {
                let why = match dns.as_ref().and_then(|d| d.error.clone()) {
                    Some(e) => Unknown::DnsFailed(e),
                    None if dns.is_some() => Unknown::NotInCatalogOrDns,
                    None => Unknown::NotInCatalog,
                };
                out.push(NameAnswer::Unknown {
                    name: name.clone(),
                    why,
                });
                continue;
            }
            out.push(NameAnswer::Found(Found {
                name: name.clone(),
                dns,
                ec2,
                // Filled in below, once reverse DNS is in.
                cards: details.into_iter().map(|d| HostCard::of(Some(d))).collect(),
            }));
        }
        let found = || {
            out.iter().filter_map(|a| match a {
                NameAnswer::Found(f) => Some(f),
                NameAnswer::Unknown { .. } => None,
            })
        };
        let mut to_reverse: Vec<IpAddr> = Vec::new();
        for f in found() {
            to_reverse.extend(f.dns.iter().flat_map(|d| d.addresses.iter().copied()));
            for c in &f.cards {
                to_reverse.extend(c.host.iter().flat_map(reverse_worthy));
            }
        }
        to_reverse.sort();
        to_reverse.dedup();
        let reverse: HashMap<IpAddr, ReverseAnswer> = match self.resolver {
            Some(r) => to_reverse
                .iter()
                .copied()
                .zip(r.reverse_many(&to_reverse).await)
                .collect(),
            None => HashMap::new(),
        };
        let macs: Vec<Mac> = found()
            .flat_map(|f| f.cards.iter())
            .flat_map(|c| c.host.iter())
            .flat_map(|d| d.interfaces.iter())
            .filter_map(|i| i.mac)
            .collect();
        let vendors = if macs.is_empty() {
            HashMap::new()
        } else {
            oui::vendors(Path::new(oui::REGISTRY_DIR), &macs)
        };
        for answer in &mut out {
            let NameAnswer::Found(f) = answer else {
                continue;
            };
            // A name only DNS or EC2 knows gets one card too.
            if f.cards.is_empty() {
                f.cards.push(HostCard::of(None));
            }
            let joined = Joined {
                dns: f.dns.as_ref(),
                reverse: &reverse,
                ec2: &f.ec2,
                stale_before: self.stale_before,
            };
            for card in &mut f.cards {
                card.ptr = joined.ptr(card.host.as_ref());
                card.disagreements = joined.disagreements(card.host.as_ref());
                if let Some(d) = &card.host {
                    card.switch_ports = self.switch_ports(d, &vendors)?;
                    card.last_seen_by = catalog.host_last_seen_by_source(d.host.id)?;
                    if let Some(t) = f.ec2.iter().map(|e| e.last_seen).max() {
                        card.last_seen_by.push(("ec2".into(), t));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Where each interface's MAC is plugged in.
    fn switch_ports(
        &self,
        d: &HostDetails,
        vendors: &HashMap<Mac, String>,
    ) -> Result<Vec<SwitchPort>> {
        let with_mac: Vec<(&str, Mac)> = d
            .interfaces
            .iter()
            .filter_map(|i| Some((i.name.as_str(), i.mac?)))
            .collect();
        let macs: Vec<Mac> = with_mac.iter().map(|(_, mac)| *mac).collect();
        let found = whatis::switch_ports(&self.placer, self.catalog, &macs, vendors)?;
        Ok(with_mac
            .iter()
            .zip(found)
            .filter_map(|((name, _), p)| {
                p.map(|mut p| {
                    p.interface = Some(name.to_string());
                    p
                })
            })
            .collect())
    }
}

impl HostCard {
    fn of(host: Option<HostDetails>) -> HostCard {
        HostCard {
            host,
            ptr: Vec::new(),
            disagreements: Vec::new(),
            switch_ports: Vec::new(),
            last_seen_by: Vec::new(),
        }
    }
}

/// A host's own addresses worth a reverse lookup: not loopback, link-local or multicast.
fn reverse_worthy(d: &HostDetails) -> Vec<IpAddr> {
    d.interfaces
        .iter()
        .flat_map(|i| i.addresses.iter())
        .map(|a| a.address)
        .filter(|ip| dns_worthy(*ip))
        .collect()
}

/// Whether DNS is expected to know an address: loopback, link-local, multicast and
/// unspecified addresses are never in it.
fn dns_worthy(ip: IpAddr) -> bool {
    !matches!(
        kind::classify(ip).kind,
        Kind::Loopback | Kind::LinkLocal | Kind::Multicast | Kind::Unspecified
    )
}

/// What DNS and the catalog said about one name, for the fields that join them.
struct Joined<'a> {
    dns: Option<&'a AddressAnswer>,
    reverse: &'a HashMap<IpAddr, ReverseAnswer>,
    ec2: &'a [Ec2InstanceRow],
    stale_before: i64,
}

impl Joined<'_> {
    /// The addresses to show reverse DNS for: DNS's, then the host's own.
    fn addresses(&self, host: Option<&HostDetails>) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = self.dns.map(|d| d.addresses.clone()).unwrap_or_default();
        if let Some(h) = host {
            for ip in reverse_worthy(h) {
                if !all.contains(&ip) {
                    all.push(ip);
                }
            }
        }
        all
    }

    fn ptr(&self, host: Option<&HostDetails>) -> Vec<Ptr> {
        let mut rows = Vec::new();
        for ip in self.addresses(host) {
            let Some(answer) = self.reverse.get(&ip) else {
                continue;
            };
            for p in &answer.names {
                rows.push(Ptr {
                    address: ip,
                    name: p.name.clone(),
                    confirmed: p.confirmed,
                });
            }
        }
        rows
    }

    fn disagreements(&self, host: Option<&HostDetails>) -> Vec<Disagreement> {
        let mut out = Vec::new();
        let mut reported: Vec<IpAddr> = host
            .map(|h| {
                h.interfaces
                    .iter()
                    .flat_map(|i| i.addresses.iter())
                    .map(|a| a.address)
                    .collect()
            })
            .unwrap_or_default();
        reported.sort();
        if let (Some(dns), Some(h)) = (self.dns, host) {
            let name = &h.host.name;
            let missing: Vec<IpAddr> = dns
                .addresses
                .iter()
                .filter(|a| !reported.contains(a))
                .copied()
                .collect();
            if !missing.is_empty() && !reported.is_empty() {
                out.push(Disagreement::NotOnHost {
                    host: name.clone(),
                    addresses: missing,
                });
            }
            if dns.error.is_none() {
                let unlisted: Vec<IpAddr> = reported
                    .iter()
                    .filter(|a| dns_worthy(**a) && !dns.addresses.contains(a))
                    .copied()
                    .collect();
                if !unlisted.is_empty() {
                    out.push(Disagreement::NotInDns {
                        host: name.clone(),
                        addresses: unlisted,
                    });
                }
            }
        }
        for ip in self.addresses(host) {
            let Some(answer) = self.reverse.get(&ip) else {
                continue;
            };
            out.extend(
                whatis::unconfirmed(ip, answer)
                    .into_iter()
                    .map(Disagreement::Unconfirmed),
            );
            if let Some(h) = host {
                for p in answer.names.iter().filter(|p| p.confirmed) {
                    if !whatis::same_host(&p.name, &h.host.name, h.host.fqdn.as_deref()) {
                        out.push(Disagreement::OtherName {
                            address: ip,
                            ptr: p.name.clone(),
                            host: h.host.name.clone(),
                        });
                    }
                }
            }
        }
        if let Some(h) = host
            && h.host.last_seen < self.stale_before
        {
            out.push(Disagreement::Stale {
                host: h.host.name.clone(),
                last_seen: h.host.last_seen,
            });
        }
        if let Some(dns) = self.dns {
            for e in self
                .ec2
                .iter()
                .filter(|e| matches!(e.state, Some(Terminated | Stopped | ShuttingDown)))
            {
                for ip in [&e.private_ip, &e.public_ip].into_iter().flatten() {
                    if dns.addresses.iter().any(|a| a.to_string() == *ip) {
                        out.push(Disagreement::DeadInstance {
                            address: ip.clone(),
                            instance: e.instance_id.clone(),
                            state: e.state.as_ref().map_or("", |s| s.as_str()).to_string(),
                        });
                    }
                }
            }
        }
        out
    }
}

/// The EC2 instances behind a name: by Name tag or id, and by any address DNS or the
/// catalog's hosts give for it; the latest known state of each, current ones first.
fn ec2_instances(
    catalog: &Catalog,
    name: &str,
    hosts: &[HostDetails],
    dns: Option<&AddressAnswer>,
) -> Result<Vec<Ec2InstanceRow>> {
    let mut names = vec![name.to_string()];
    names.extend(hosts.iter().map(|h| h.host.name.clone()));
    names.sort();
    names.dedup();
    let mut rows = catalog.ec2_instances_by_names(&names)?;
    let mut addresses: Vec<String> = dns
        .map(|d| d.addresses.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    for host in hosts {
        for interface in &host.interfaces {
            addresses.extend(interface.addresses.iter().map(|a| a.address.to_string()));
        }
    }
    addresses.sort();
    addresses.dedup();
    rows.extend(catalog.ec2_instances_by_addresses(&addresses)?);
    Ok(whatis::latest_per_instance(rows))
}
