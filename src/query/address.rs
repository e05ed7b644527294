//! whatis-ip's answers: everything known about an IP address, joined from reverse DNS, the
//! subnets file and every collector's part of the catalog, with who held it over time and where
//! the sources disagree (PTRs that do not resolve back or name another host, DNS-only names,
//! two MACs at once).

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;

use crate::catalog::{AddressHolder, ArpObservation, Catalog, Ec2InstanceRow};
use crate::clock;
use crate::dns::{Resolver, ReverseAnswer};
use crate::error::Result;
use crate::model::Mac;
use crate::model::address::{self as kind, AddressKind};
use crate::net::oui;
use crate::net::subnets::{Subnet, Subnets};

use super::placement::Placer;
use super::whatis::{self, SwitchPort, Unconfirmed};

/// One input: an address or a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Address(IpAddr),
    Prefix(IpNet),
}

/// Parses an address (brackets and an IPv6 zone allowed) or a CIDR prefix. A prefix with host
/// bits set (10.0.10.7/24) means the network it is in, as `ip route` reads it.
pub fn parse(text: &str) -> Option<Target> {
    let t = text.trim();
    if t.contains('/') {
        let net: IpNet = t.parse().ok()?;
        return Some(Target::Prefix(net.trunc()));
    }
    let t = t.trim_start_matches('[').trim_end_matches(']');
    // fe80::1%eth0: the zone names an interface of the asking machine, not part of the address.
    let t = t.split_once('%').map_or(t, |(a, _)| a);
    t.parse::<IpAddr>().ok().map(Target::Address)
}

/// Everything known about one address.
#[derive(Debug, Clone)]
pub struct AddressReport {
    /// The address in canonical form (an IPv4-mapped IPv6 address as its IPv4 address).
    pub address: IpAddr,
    /// What kind of address was asked about (an IPv4-mapped one says so).
    pub kind: AddressKind,
    /// Reverse DNS, unless DNS is off.
    pub dns: Option<ReverseAnswer>,
    /// Every subnet of the file containing it, most specific first.
    pub subnets: Vec<Subnet>,
    /// Hosts that report it now, else the ones that did last.
    pub hosts: Vec<String>,
    /// Host interfaces that have or had it, current first, newest first.
    pub interfaces: Vec<AddressHolder>,
    /// Routers' ARP and neighbour entries for it, current first, newest first.
    pub arp: Vec<ArpObservation>,
    /// The MACs it is bound to now, else the latest binding's; hosts' own word first.
    pub macs: Vec<Mac>,
    /// The vendors of those MACs that the registry knows, in the same order.
    pub vendors: Vec<String>,
    /// Where each of those MACs is plugged in, for those a forwarding table has seen.
    pub switch_ports: Vec<SwitchPort>,
    /// EC2 instances that have or had it, latest state of each, current first.
    pub ec2: Vec<Ec2InstanceRow>,
    /// Who held it over time, oldest first.
    pub history: Vec<Held>,
    pub disagreements: Vec<Disagreement>,
    /// Whether anything at all knows the address: a subnet says what a range is for, not
    /// that the address is in use, so it does not count.
    pub known: bool,
}

impl AddressReport {
    /// When any collector first saw the address.
    pub fn first_seen(&self) -> Option<i64> {
        self.history.iter().map(|h| h.first_seen).min()
    }

    /// When any collector last saw the address.
    pub fn last_seen(&self) -> Option<i64> {
        self.history.iter().map(|h| h.last_seen).max()
    }
}

/// Which kind of source saw a holder. Ordered as their names sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Arp,
    Ec2,
    Host,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Arp => "arp",
            Source::Ec2 => "ec2",
            Source::Host => "host",
        }
    }
}

/// One holder of an address over one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub mac: Option<Mac>,
    /// "HOST INTERFACE", "ROUTER ARP" or an EC2 instance id.
    pub held_by: String,
    pub source: Source,
    pub first_seen: i64,
    pub last_seen: i64,
    pub current: bool,
}

/// Where the sources disagree about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disagreement {
    /// A PTR name that does not resolve back to the address.
    Unconfirmed(Unconfirmed),
    /// A confirmed PTR name naming another host than the ones that have the address.
    OtherHost { ptr: String, hosts: Vec<String> },
    /// DNS names the address but no collector has seen it.
    DnsOnly { names: Vec<String> },
    /// Two MACs holding the address at once.
    Conflict { a: Held, b: Held, when: Overlap },
}

/// When two holders held an address at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// The latest scans of both sources see it.
    Now,
    /// Their periods overlap, from..to (Unix times).
    Between(i64, i64),
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disagreement::Unconfirmed(u) => u.fmt(f),
            Disagreement::OtherHost { ptr, hosts } => write!(
                f,
                "PTR {ptr} names another host than the one that has the address ({})",
                hosts.join(", ")
            ),
            Disagreement::DnsOnly { names } => write!(
                f,
                "DNS names it ({}) but no collector has seen it: no host, ARP table or EC2 instance has it",
                names.join(", ")
            ),
            Disagreement::Conflict { a, b, when } => {
                let mac = |h: &Held| h.mac.map(|m| m.to_string()).unwrap_or_default();
                write!(
                    f,
                    "address conflict: {} ({}) and {} ({}) hold it at once, ",
                    mac(a),
                    a.held_by,
                    mac(b),
                    b.held_by
                )?;
                match when {
                    Overlap::Now => write!(f, "now (the latest scans of both sources see it)"),
                    Overlap::Between(from, to) => {
                        write!(f, "from {} to {}", clock::format(*from), clock::format(*to))
                    }
                }
            }
        }
    }
}

/// Answers questions about addresses from one catalog, subnets file and resolver.
pub struct AddressQuery<'a> {
    catalog: &'a Catalog,
    placer: Placer,
    subnets: &'a Subnets,
    /// `None`: DNS is off, and nothing here waits on the network.
    resolver: Option<&'a Resolver>,
    /// Every address the catalog knows, read once when a prefix is first asked about.
    known: OnceCell<Vec<IpAddr>>,
}

impl<'a> AddressQuery<'a> {
    pub fn new(
        catalog: &'a Catalog,
        subnets: &'a Subnets,
        resolver: Option<&'a Resolver>,
    ) -> Result<Self> {
        Ok(AddressQuery {
            catalog,
            placer: Placer::new(catalog)?,
            subnets,
            resolver,
            known: OnceCell::new(),
        })
    }

    /// The addresses of `net` worth a line: every one the catalog knows, and, in a prefix of at
    /// most `sweep` addresses, every one with a PTR record.
    pub async fn inventory(&self, net: IpNet, sweep: u64) -> Result<Vec<IpAddr>> {
        if self.known.get().is_none() {
            let _ = self.known.set(self.catalog.known_addresses()?);
        }
        let mut found: Vec<IpAddr> = self
            .known
            .get()
            .into_iter()
            .flatten()
            .filter(|ip| net.contains(*ip))
            .copied()
            .collect();
        let size_bits = u32::from(net.max_prefix_len() - net.prefix_len());
        if let Some(resolver) = self.resolver
            && sweep > 0
            && size_bits < 64
            && (1u64 << size_bits) <= sweep
        {
            let all: Vec<IpAddr> = net.hosts().collect();
            let answers = resolver.reverse_many(&all).await;
            found.extend(
                all.into_iter()
                    .zip(answers)
                    .filter(|(_, a)| !a.names.is_empty())
                    .map(|(ip, _)| ip),
            );
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    /// Everything known about each address, in order: reverse DNS for all of them at once,
    /// then the catalog's part from one consistent state of it.
    pub async fn answer(&self, addresses: &[IpAddr]) -> Result<Vec<AddressReport>> {
        let canonical: Vec<IpAddr> = addresses.iter().map(|ip| kind::canonical(*ip)).collect();
        let reverse: Vec<Option<ReverseAnswer>> = match self.resolver {
            Some(r) => r
                .reverse_many(&canonical)
                .await
                .into_iter()
                .map(Some)
                .collect(),
            None => vec![None; addresses.len()],
        };
        // After the DNS questions: one consistent state, one lock, not held while waiting.
        let _snapshot = self.catalog.read_snapshot()?;
        let mut facts = Vec::with_capacity(addresses.len());
        for ip in &canonical {
            let fact = Facts {
                holders: self.catalog.address_holders(*ip)?,
                arp: self.catalog.arp_observations(*ip)?,
                ec2: self.catalog.ec2_instances_by_address(&ip.to_string())?,
            };
            facts.push(fact);
        }
        let macs: Vec<Mac> = facts.iter().flat_map(Facts::bound_macs).collect();
        let vendors = if macs.is_empty() {
            HashMap::new()
        } else {
            oui::vendors(Path::new(oui::REGISTRY_DIR), &macs)
        };
        let mut reports = Vec::with_capacity(addresses.len());
        for ((original, ip), (fact, dns)) in addresses
            .iter()
            .zip(canonical)
            .zip(facts.into_iter().zip(reverse))
        {
            reports.push(self.report(*original, ip, fact, dns, &vendors)?);
        }
        Ok(reports)
    }

    fn report(
        &self,
        original: IpAddr,
        ip: IpAddr,
        fact: Facts,
        dns: Option<ReverseAnswer>,
        vendors: &HashMap<Mac, String>,
    ) -> Result<AddressReport> {
        // Hosts now, else the latest one seen.
        let holders_now: Vec<&AddressHolder> = prefer_current(&fact.holders, |h| h.current);
        let mut hosts: Vec<String> = Vec::new();
        for h in &holders_now {
            if !hosts.contains(&h.host) {
                hosts.push(h.host.clone());
            }
        }
        let macs = fact.bound_macs();
        let switch_ports: Vec<SwitchPort> =
            whatis::switch_ports(&self.placer, self.catalog, &macs, vendors)?
                .into_iter()
                .flatten()
                .collect();
        let history = fact.history();

        let mut disagreements = Vec::new();
        if let Some(d) = &dns {
            disagreements.extend(
                whatis::unconfirmed(ip, d)
                    .into_iter()
                    .map(Disagreement::Unconfirmed),
            );
            for p in d.names.iter().filter(|p| p.confirmed) {
                if !holders_now.is_empty()
                    && !holders_now
                        .iter()
                        .any(|h| whatis::same_host(&p.name, &h.host, None))
                {
                    disagreements.push(Disagreement::OtherHost {
                        ptr: p.name.clone(),
                        hosts: hosts.clone(),
                    });
                }
            }
            if history.is_empty() && !d.names.is_empty() {
                disagreements.push(Disagreement::DnsOnly {
                    names: d.names.iter().map(|p| p.name.clone()).collect(),
                });
            }
        }
        disagreements.extend(conflicts(&history));

        let known = !history.is_empty() || dns.as_ref().is_some_and(|d| !d.names.is_empty());
        Ok(AddressReport {
            address: ip,
            kind: kind::classify(original),
            subnets: self.subnets.containing(ip).into_iter().cloned().collect(),
            hosts,
            vendors: macs
                .iter()
                .filter_map(|m| vendors.get(m).cloned())
                .collect(),
            macs,
            switch_ports,
            ec2: whatis::latest_per_instance(fact.ec2),
            interfaces: fact.holders,
            arp: fact.arp,
            history,
            disagreements,
            known,
            dns,
        })
    }
}

/// The rows whose `current` is set, or all of them when none is (the latest come first).
fn prefer_current<T>(rows: &[T], current: impl Fn(&T) -> bool) -> Vec<&T> {
    let now: Vec<&T> = rows.iter().filter(|r| current(r)).collect();
    if now.is_empty() {
        rows.iter().take(1).collect()
    } else {
        now
    }
}

/// What the catalog holds about one address.
struct Facts {
    holders: Vec<AddressHolder>,
    arp: Vec<ArpObservation>,
    ec2: Vec<Ec2InstanceRow>,
}

impl Facts {
    /// The MACs the address is bound to now, else the latest binding's; hosts' own word first.
    fn bound_macs(&self) -> Vec<Mac> {
        let any_current =
            self.holders.iter().any(|h| h.current) || self.arp.iter().any(|a| a.current);
        let mut macs: Vec<(i64, Mac)> = Vec::new();
        for (mac, current, seen) in self
            .holders
            .iter()
            .filter_map(|h| h.mac.map(|m| (m, h.current, h.last_seen)))
            .chain(self.arp.iter().map(|a| (a.mac, a.current, a.last_seen)))
        {
            if (current || !any_current) && !macs.iter().any(|(_, m)| *m == mac) {
                macs.push((seen, mac));
            }
        }
        if !any_current {
            // Nothing current: only the latest binding is the answer.
            macs.sort_by_key(|(seen, _)| -seen);
            macs.truncate(1);
        }
        macs.into_iter().map(|(_, m)| m).collect()
    }

    /// Every holder, merged per (MAC, holder): one period from first to last sighting.
    fn history(&self) -> Vec<Held> {
        let mut merged: BTreeMap<(Option<Mac>, String, Source), Held> = BTreeMap::new();
        let mut add = |h: Held| {
            merged
                .entry((h.mac, h.held_by.clone(), h.source))
                .and_modify(|m| {
                    m.first_seen = m.first_seen.min(h.first_seen);
                    m.last_seen = m.last_seen.max(h.last_seen);
                    m.current |= h.current;
                })
                .or_insert(h);
        };
        for h in &self.holders {
            add(Held {
                mac: h.mac,
                held_by: format!("{} {}", h.host, h.interface),
                source: Source::Host,
                first_seen: h.first_seen,
                last_seen: h.last_seen,
                current: h.current,
            });
        }
        for a in &self.arp {
            add(Held {
                mac: Some(a.mac),
                held_by: format!("{} ARP", a.router),
                source: Source::Arp,
                first_seen: a.first_seen,
                last_seen: a.last_seen,
                current: a.current,
            });
        }
        for e in &self.ec2 {
            add(Held {
                mac: None,
                held_by: e.instance_id.clone(),
                source: Source::Ec2,
                first_seen: e.first_seen,
                last_seen: e.last_seen,
                current: e.current,
            });
        }
        let mut all: Vec<Held> = merged.into_values().collect();
        all.sort_by_key(|h| (h.first_seen, h.last_seen));
        all
    }
}

/// Address conflicts: two different MACs holding the address at once. Each source sees the
/// address at the instants it is scanned, so "at once" is either both sources' latest scans
/// still seeing it (both current), or their periods overlapping.
fn conflicts(history: &[Held]) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let with_mac: Vec<&Held> = history.iter().filter(|h| h.mac.is_some()).collect();
    for (i, a) in with_mac.iter().enumerate() {
        for b in &with_mac[i + 1..] {
            if a.mac == b.mac {
                continue;
            }
            let from = a.first_seen.max(b.first_seen);
            let to = a.last_seen.min(b.last_seen);
            let when = if a.current && b.current {
                Overlap::Now
            } else if from <= to {
                Overlap::Between(from, to)
            } else {
                continue;
            };
            let conflict = Disagreement::Conflict {
                a: (*a).clone(),
                b: (*b).clone(),
                when,
            };
            // The same pair over two periods reads the same: say it once.
            let line = conflict.to_string();
            if !out.iter().any(|d: &Disagreement| d.to_string() == line) {
                out.push(conflict);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(mac: u8, by: &str, first: i64, last: i64) -> Held {
        Held {
            mac: Some(Mac([0xaa, 0, 0, 0, 0, mac])),
            held_by: by.into(),
            source: Source::Arp,
            first_seen: first,
            last_seen: last,
            current: false,
        }
    }

    #[test]
    fn overlapping_periods_with_two_macs_are_a_conflict() {
        let reuse = [held(1, "r1 ARP", 0, 10), held(2, "r1 ARP", 11, 20)];
        assert!(conflicts(&reuse).is_empty());
        let mut both_current = reuse.clone();
        both_current[0].current = true;
        both_current[1].current = true;
        assert!(
            conflicts(&both_current)[0]
                .to_string()
                .ends_with("at once, now (the latest scans of both sources see it)")
        );
        let same_mac = [held(1, "r1 ARP", 0, 10), held(1, "web eth0", 5, 20)];
        assert!(conflicts(&same_mac).is_empty());
        let clash = [held(1, "r1 ARP", 0, 10), held(2, "db eth0", 10, 20)];
        let found: Vec<String> = conflicts(&clash).iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("aa:00:00:00:00:01 (r1 ARP) and aa:00:00:00:00:02 (db eth0)"),
            "{found:?}"
        );
    }

    #[test]
    fn inputs_parse_as_addresses_or_prefixes() {
        assert!(matches!(parse("10.0.0.1"), Some(Target::Address(_))));
        assert!(matches!(parse("[2001:db8::1]"), Some(Target::Address(_))));
        assert!(matches!(parse("fe80::1%eth0"), Some(Target::Address(_))));
        match parse("10.0.10.7/24") {
            Some(Target::Prefix(net)) => assert_eq!(net.to_string(), "10.0.10.0/24"),
            _ => panic!("not a prefix"),
        }
        for bad in ["10.0.0.256", "10.0.0.0/33", "web-7", "", "1.2.3", "::g"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
