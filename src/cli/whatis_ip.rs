//! `whatis-ip`: everything known about an IP address (or every known address in a CIDR prefix),
//! joined from DNS, the subnets file and every collector's part of the catalog, with the places
//! where the sources disagree pointed out.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde_json::{Value, json};

use crate::catalog::{AddressHolder, ArpObservation, Catalog, Ec2InstanceRow};
use crate::clock;
use crate::dns::{Resolver, ReverseAnswer};
use crate::error::{Outcome, Result};
use crate::input;
use crate::model::{Mac, address as kind};
use crate::net::oui;
use crate::net::subnets::Subnets;
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::placement::Placer;

use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, warn};
use crate::query::whatis::{self, ec2_json, ptr_disagreements, ptr_json};

const NAME: &str = "whatis-ip";

/// Addresses answered per batch: DNS for a batch is asked concurrently, then the batch is
/// joined with the catalog and printed, so output starts flowing and memory stays flat however
/// long stdin is.
const BATCH: usize = 2000;

/// Everything known about an IP address: DNS, subnet, host, MAC, switch port, cloud, history.
///
/// For each ADDRESS (IPv4, IPv6, or IPv4-mapped IPv6 such as ::ffff:10.0.0.1): what kind of
/// address it is; which of your subnets contain it (from the subnets file, most specific
/// first); its PTR names and whether each resolves back to it; the host that has it on an
/// interface, with the interface and MAC; routers' ARP and neighbour entries for it; the switch
/// port of its MAC as which-switch decides it, and the MAC's vendor; the EC2 instance that has
/// it; and which MACs and hosts held it over time. Disagreements between sources are listed:
/// a PTR that does not resolve back, two MACs at once (an address conflict), a PTR naming
/// another host than the one that has the address, DNS naming an address nothing has been seen
/// on.
///
/// A CIDR prefix (10.0.10.0/24, 2001:db8::/64) lists every address in it that anything knows
/// of, one record each. With no ADDRESS, reads them from stdin, one per line, and resolves
/// them concurrently.
///
/// The subnets file is CSV with a header row (prefix,name,vlan,site,description; only prefix
/// is required) or TOML ([[subnet]] tables with the same keys), e.g. the CSV line
/// `10.20.30.0/24,paris-servers,30,PAR,racks 1-4`.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// IP addresses or CIDR prefixes; read from stdin when absent or "-"
    #[arg(value_name = "ADDRESS")]
    pub items: Vec<String>,

    /// Subnets file, CSV or TOML (prefix, name, vlan, site, description) [default: [whatis]
    /// subnets in the config, else subnets.toml or subnets.csv in $XDG_CONFIG_HOME/opskit]
    #[arg(long, value_name = "FILE")]
    pub subnets: Option<PathBuf>,

    /// In a CIDR prefix of at most this many addresses, ask reverse DNS about every address,
    /// not only the ones the catalog knows (0: never)
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub ptr_sweep: u64,

    #[command(flatten)]
    pub dns: DnsArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The output fields of whatis-ip.
    pub Row {
        QUERY = "query", shown,
            "The address or prefix as given.";
        ADDRESS = "address", shown,
            "The address in canonical form (RFC 5952 for IPv6; an IPv4-mapped IPv6 address as its IPv4 address).";
        KIND = "kind", shown,
            "What kind of address: private, public, loopback, link-local, cgnat, multicast, documentation, unique-local, … (see kind_description).";
        DNS_NAMES = "dns_names", shown,
            "PTR names of the address; a name that does not resolve back to it is marked with a trailing \"(unconfirmed)\".";
        HOST = "host", shown,
            "Hosts that report the address on an interface now (else the ones that did last).";
        MAC = "mac", shown,
            "MACs the address is bound to now: hosts' interfaces and routers' ARP/neighbour tables (else the latest ones).";
        VENDOR = "vendor", shown,
            "Vendors of those MACs (IEEE registry).";
        SWITCH = "switch", shown,
            "Switch each MAC is plugged into, as which-switch decides it.";
        PORT = "port", shown,
            "Its port (the aggregate for LAG members).";
        VLAN = "vlan", shown,
            "VLAN the MAC was learned in.";
        SUBNET = "subnet", shown,
            "The most specific subnet from the subnets file containing it: name and prefix.";
        EC2_INSTANCE = "ec2_instance", shown,
            "The EC2 instance that has the address (the current one, else the latest).";
        LAST_SEEN = "last_seen", shown,
            "When any collector last saw the address (RFC 3339, UTC).";
        DISAGREEMENTS = "disagreements", shown,
            "Where sources disagree: a PTR that does not resolve back, two MACs at once, a PTR naming another host, DNS naming an address nothing has been seen on.";
        VERSION = "version", hidden,
            "4 or 6.";
        KIND_DESCRIPTION = "kind_description", hidden,
            "The kind for people, with its range and RFC.";
        GLOBAL = "global", hidden,
            "Whether the address is globally reachable (IANA special-purpose registries).";
        EMBEDDED_IPV4 = "embedded_ipv4", hidden,
            "The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address.";
        PTR = "ptr", hidden,
            "PTR names as objects: name, confirmed (forward-confirmed reverse DNS), forward (the name's addresses of the same family), error.";
        DNS_ERROR = "dns_error", hidden,
            "Why reverse DNS gave no answer, when it failed (timeout, refused, …).";
        SUBNETS = "subnets", hidden,
            "Every subnet containing the address, most specific first: prefix, name, vlan, site, description.";
        INTERFACES = "interfaces", hidden,
            "Host interfaces that have or had the address: host, interface, mac, prefix_len, current, first_seen, last_seen.";
        ARP = "arp", hidden,
            "Routers' ARP and neighbour entries for it: router, interface, mac, current, first_seen, last_seen.";
        SWITCH_PORTS = "switch_ports", hidden,
            "For each MAC, where it is plugged in, as which-switch decides it: mac, switch, port, vlan, role, current, last_seen, vendor, why.";
        EC2 = "ec2", hidden,
            "EC2 instances that have or had the address (from sync-ec2), latest state of each: id, name, state, asg, region, az, type, private_ip, public_ip, current, last_seen, tags.";
        HISTORY = "history", hidden,
            "Who held the address over time (IP reuse), oldest first: mac, held_by, source, first_seen, last_seen, current.";
        FIRST_SEEN = "first_seen", hidden,
            "When any collector first saw the address (RFC 3339, UTC).";
    }
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            ("whatis-ip 10.0.10.5", "Everything known about 10.0.10.5."),
            (
                "whatis-ip 10.0.10.0/24",
                "Every address in 10.0.10.0/24 that anything knows of, one line each.",
            ),
            (
                "whatis-ip --json 2001:db8::5 | jq .disagreements",
                "Where the sources disagree about an address, for a script.",
            ),
            (
                "ss -Htn | awk '{print $5}' | sed 's/:[0-9]*$//; s/^\\[//; s/]$//' | sort -u | whatis-ip -f address,host,dns_names",
                "Who this machine is talking to.",
            ),
            (
                "whatis-ip --subnets subnets.csv --dns-server 10.0.0.53 < addresses.txt",
                "Thousands of addresses at once, with your subnets file and another DNS server.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: QUERY_EXIT_STATUS,
        views: &[],
        environment: &[],
    };

    fn run(self) -> Result<Outcome> {
        let mut printer = Printer::new::<Row>(&self.output)?;
        let items = input::items(&self.items, "addresses")?;
        let config = self.common.config()?;
        let subnets = whatis::load_subnets(self.subnets.as_ref(), &config)?;
        let resolver = match self.dns.options(&config)? {
            Some(options) => Some(Resolver::new(&options)?),
            None => None,
        };
        let catalog = self.common.open_catalog(&config)?;
        let context = Context {
            catalog: &catalog,
            placer: Placer::new(&catalog)?,
            subnets: &subnets,
            resolver: resolver.as_ref(),
            known: std::cell::OnceCell::new(),
        };

        let mut outcome = Outcome::Success;
        let mut singles: Vec<(String, IpAddr)> = Vec::new();
        for item in &items {
            match parse(item) {
                Some(Query::Address(ip)) => singles.push((item.clone(), ip)),
                Some(Query::Prefix(net)) => {
                    // Addresses before this prefix are printed first, to keep input order.
                    if !singles.is_empty() {
                        outcome = outcome.max(context.answer(&mut printer, &singles, false)?);
                        singles.clear();
                    }
                    let addresses = context.inventory(net, self.ptr_sweep)?;
                    if addresses.is_empty() {
                        warn(NAME, format!("{item}: nothing known in this prefix"));
                        outcome = Outcome::NothingFound;
                        continue;
                    }
                    let queries: Vec<(String, IpAddr)> =
                        addresses.into_iter().map(|ip| (item.clone(), ip)).collect();
                    // Nothing-known addresses of a sweep were never listed, so no warnings.
                    context.answer(&mut printer, &queries, true)?;
                }
                None => {
                    warn(
                        NAME,
                        format!(
                            "{}: not an IP address or CIDR prefix",
                            crate::output::escape::for_terminal(item)
                        ),
                    );
                    outcome = Outcome::NothingFound;
                }
            }
            if singles.len() >= BATCH {
                outcome = outcome.max(context.answer(&mut printer, &singles, false)?);
                singles.clear();
            }
        }
        if !singles.is_empty() {
            outcome = outcome.max(context.answer(&mut printer, &singles, false)?);
        }
        Ok(outcome)
    }
}

/// One input: an address or a prefix.
enum Query {
    Address(IpAddr),
    Prefix(IpNet),
}

/// Parses an address (brackets and an IPv6 zone allowed) or a CIDR prefix. A prefix with host
/// bits set (10.0.10.7/24) means the network it is in, as `ip route` reads it.
fn parse(text: &str) -> Option<Query> {
    let t = text.trim();
    if t.contains('/') {
        let net: IpNet = t.parse().ok()?;
        return Some(Query::Prefix(net.trunc()));
    }
    let t = t.trim_start_matches('[').trim_end_matches(']');
    // fe80::1%eth0: the zone names an interface of the asking machine, not part of the address.
    let t = t.split_once('%').map_or(t, |(a, _)| a);
    t.parse::<IpAddr>().ok().map(Query::Address)
}

/// What answering needs, shared by every batch.
struct Context<'a> {
    catalog: &'a Catalog,
    placer: Placer,
    subnets: &'a Subnets,
    resolver: Option<&'a Resolver>,
    /// Every address the catalog knows, read once when a prefix is first asked about.
    known: std::cell::OnceCell<Vec<IpAddr>>,
}

impl Context<'_> {
    /// The addresses of `net` worth a line: every one the catalog knows, and, in a prefix of at
    /// most `sweep` addresses, every one with a PTR record.
    fn inventory(&self, net: IpNet, sweep: u64) -> Result<Vec<IpAddr>> {
        if self.known.get().is_none() {
            let known = self
                .catalog
                .known_addresses()?
                .iter()
                .filter_map(|a| a.parse::<IpAddr>().ok())
                .collect();
            let _ = self.known.set(known);
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
            let answers = resolver.reverse_many(&all);
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

    /// Answers a batch of (query, address) pairs and prints them. In a prefix inventory
    /// (`listing`), every address is known to something, so none counts as nothing found.
    fn answer(
        &self,
        printer: &mut Printer,
        queries: &[(String, IpAddr)],
        listing: bool,
    ) -> Result<Outcome> {
        let canonical: Vec<IpAddr> = queries.iter().map(|(_, ip)| kind::canonical(*ip)).collect();
        let reverse: Vec<Option<ReverseAnswer>> = match self.resolver {
            Some(r) => r.reverse_many(&canonical).into_iter().map(Some).collect(),
            None => vec![None; queries.len()],
        };
        // The batch's catalog reads, after its DNS questions: one consistent state, one lock.
        let snapshot = self.catalog.read_snapshot()?;
        let mut facts = Vec::with_capacity(queries.len());
        let mut macs: Vec<Mac> = Vec::new();
        for ip in &canonical {
            let address = ip.to_string();
            let holders = self.catalog.address_holders(&address)?;
            let arp = self.catalog.arp_observations(&address)?;
            let ec2 = self.catalog.ec2_instances_by_address(&address)?;
            let fact = Facts { holders, arp, ec2 };
            macs.extend(
                fact.bound_macs()
                    .iter()
                    .filter_map(|m| m.parse::<Mac>().ok()),
            );
            facts.push(fact);
        }
        let vendors = if macs.is_empty() {
            HashMap::new()
        } else {
            oui::vendors(std::path::Path::new(oui::REGISTRY_DIR), &macs)
        };
        let mut outcome = Outcome::Success;
        let mut records = Vec::with_capacity(queries.len());
        for (((query, original), ip), (fact, dns)) in queries
            .iter()
            .zip(&canonical)
            .zip(facts.into_iter().zip(reverse))
        {
            let (record, known) =
                self.record(query, *original, *ip, fact, dns.as_ref(), &vendors)?;
            if !known && !listing {
                warn(NAME, format!("{query}: nothing known about it"));
                outcome = Outcome::NothingFound;
            }
            records.push(record);
        }
        // Not held while a slow reader of our output keeps us waiting.
        drop(snapshot);
        printer.print(&records, Shape::Card)?;
        Ok(outcome)
    }

    /// Builds one address's record; the flag says whether anything at all is known of it.
    fn record(
        &self,
        query: &str,
        original: IpAddr,
        ip: IpAddr,
        fact: Facts,
        dns: Option<&ReverseAnswer>,
        vendors: &HashMap<Mac, String>,
    ) -> Result<(Record<Row>, bool)> {
        let address = ip.to_string();
        let class = kind::classify(original);
        let containing = self.subnets.containing(ip);
        let mut r = Row::record();
        r.set(Row::QUERY, query)
            .set(Row::ADDRESS, address.as_str())
            .set(Row::VERSION, if ip.is_ipv4() { 4 } else { 6 })
            .set(Row::KIND, class.kind)
            .set(Row::KIND_DESCRIPTION, class.description.as_str())
            .set(Row::GLOBAL, class.global)
            .set(Row::EMBEDDED_IPV4, class.embedded_v4.map(|v| v.to_string()));

        if let Some(d) = dns {
            r.set(
                Row::DNS_NAMES,
                d.names
                    .iter()
                    .map(|p| {
                        if p.confirmed {
                            p.name.clone()
                        } else {
                            format!("{} (unconfirmed)", p.name)
                        }
                    })
                    .collect::<Vec<_>>(),
            )
            .set(Row::PTR, ptr_json(d))
            .set(Row::DNS_ERROR, d.error.clone());
        }

        r.set(
            Row::SUBNET,
            containing.first().map(|s| match &s.name {
                Some(name) => format!("{name} ({})", s.prefix),
                None => s.prefix.to_string(),
            }),
        )
        .set(
            Row::SUBNETS,
            containing
                .iter()
                .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
                .collect::<Vec<_>>(),
        );

        // Hosts and MACs now, else the latest ones seen.
        let holders_now: Vec<&AddressHolder> = prefer_current(&fact.holders, |h| h.current);
        let mut hosts: Vec<String> = Vec::new();
        for h in &holders_now {
            if !hosts.contains(&h.host) {
                hosts.push(h.host.clone());
            }
        }
        r.set(Row::HOST, hosts.clone());
        r.set(
            Row::INTERFACES,
            fact.holders
                .iter()
                .map(|h| {
                    json!({
                        "host": h.host,
                        "interface": h.interface,
                        "mac": h.mac,
                        "prefix_len": h.prefix_len,
                        "current": h.current,
                        "first_seen": clock::format(h.first_seen),
                        "last_seen": clock::format(h.last_seen),
                    })
                })
                .collect::<Vec<_>>(),
        );
        r.set(
            Row::ARP,
            fact.arp
                .iter()
                .map(|a| {
                    json!({
                        "router": a.router,
                        "interface": a.interface,
                        "mac": a.mac,
                        "current": a.current,
                        "first_seen": clock::format(a.first_seen),
                        "last_seen": clock::format(a.last_seen),
                    })
                })
                .collect::<Vec<_>>(),
        );
        let macs = fact.bound_macs();
        r.set(Row::MAC, macs.clone());
        r.set(
            Row::VENDOR,
            macs.iter()
                .filter_map(|m| m.parse::<Mac>().ok())
                .filter_map(|m| vendors.get(&m).cloned())
                .collect::<Vec<_>>(),
        );
        let mut ports = Vec::new();
        for mac in &macs {
            if let Some(p) = whatis::switch_port(&self.placer, self.catalog, mac, vendors)? {
                ports.push(p);
            }
        }
        let column = |key: &str| -> Vec<Value> {
            ports
                .iter()
                .map(|p| p[key].clone())
                .filter(|v| !v.is_null())
                .collect()
        };
        r.set(Row::SWITCH, column("switch"))
            .set(Row::PORT, column("port"))
            .set(Row::VLAN, column("vlan"));
        r.set(Row::SWITCH_PORTS, ports);

        let instances = whatis::latest_per_instance(fact.ec2.clone());
        r.set(
            Row::EC2_INSTANCE,
            instances.first().map(|i| i.instance_id.clone()),
        )
        .set(Row::EC2, instances.iter().map(ec2_json).collect::<Vec<_>>());

        let history = fact.history();
        let first_seen = history.iter().map(|h| h.first_seen).min();
        let last_seen = history.iter().map(|h| h.last_seen).max();
        r.set(Row::FIRST_SEEN, first_seen.map(clock::format))
            .set(Row::LAST_SEEN, last_seen.map(clock::format))
            .set(
                Row::HISTORY,
                history
                    .iter()
                    .map(|h| {
                        json!({
                            "mac": h.mac,
                            "held_by": h.held_by,
                            "source": h.source,
                            "first_seen": clock::format(h.first_seen),
                            "last_seen": clock::format(h.last_seen),
                            "current": h.current,
                        })
                    })
                    .collect::<Vec<_>>(),
            );

        let mut disagreements = Vec::new();
        if let Some(d) = dns {
            disagreements.extend(ptr_disagreements(&address, d));
            for p in d.names.iter().filter(|p| p.confirmed) {
                if !holders_now.is_empty()
                    && !holders_now
                        .iter()
                        .any(|h| whatis::same_host(&p.name, &h.host, None))
                {
                    disagreements.push(format!(
                        "PTR {} names another host than the one that has the address ({})",
                        p.name,
                        hosts.join(", ")
                    ));
                }
            }
            if history.is_empty() && !d.names.is_empty() {
                disagreements.push(format!(
                    "DNS names it ({}) but no collector has seen it: no host, ARP table or EC2 instance has it",
                    d.names
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        disagreements.extend(conflicts(&history));
        r.set(Row::DISAGREEMENTS, disagreements);

        // A subnet says what the range is for, not that the address is in use: it does not
        // count as knowing the address.
        let known = !history.is_empty() || dns.is_some_and(|d| !d.names.is_empty());
        Ok((r, known))
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

/// One holder of an address over one period.
#[derive(Debug, Clone)]
struct Held {
    mac: Option<String>,
    held_by: String,
    source: &'static str,
    first_seen: i64,
    last_seen: i64,
    current: bool,
}

impl Facts {
    /// The MACs the address is bound to now, else the latest binding's; hosts' own word first.
    fn bound_macs(&self) -> Vec<String> {
        let any_current =
            self.holders.iter().any(|h| h.current) || self.arp.iter().any(|a| a.current);
        let mut macs: Vec<(i64, String)> = Vec::new();
        for (mac, current, seen) in self
            .holders
            .iter()
            .filter_map(|h| h.mac.clone().map(|m| (m, h.current, h.last_seen)))
            .chain(
                self.arp
                    .iter()
                    .map(|a| (a.mac.clone(), a.current, a.last_seen)),
            )
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
        let mut merged: BTreeMap<(Option<String>, String, &'static str), Held> = BTreeMap::new();
        let mut add = |h: Held| {
            merged
                .entry((h.mac.clone(), h.held_by.clone(), h.source))
                .and_modify(|m| {
                    m.first_seen = m.first_seen.min(h.first_seen);
                    m.last_seen = m.last_seen.max(h.last_seen);
                    m.current |= h.current;
                })
                .or_insert(h);
        };
        for h in &self.holders {
            add(Held {
                mac: h.mac.clone(),
                held_by: format!("{} {}", h.host, h.interface),
                source: "host",
                first_seen: h.first_seen,
                last_seen: h.last_seen,
                current: h.current,
            });
        }
        for a in &self.arp {
            add(Held {
                mac: Some(a.mac.clone()),
                held_by: format!("{} ARP", a.router),
                source: "arp",
                first_seen: a.first_seen,
                last_seen: a.last_seen,
                current: a.current,
            });
        }
        for e in &self.ec2 {
            add(Held {
                mac: None,
                held_by: e.instance_id.clone(),
                source: "ec2",
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
fn conflicts(history: &[Held]) -> Vec<String> {
    let mut out = Vec::new();
    let with_mac: Vec<&Held> = history.iter().filter(|h| h.mac.is_some()).collect();
    for (i, a) in with_mac.iter().enumerate() {
        for b in &with_mac[i + 1..] {
            if a.mac == b.mac || a.mac.is_none() {
                continue;
            }
            let from = a.first_seen.max(b.first_seen);
            let to = a.last_seen.min(b.last_seen);
            let when = if a.current && b.current {
                "now (the latest scans of both sources see it)".to_string()
            } else if from <= to {
                format!("from {} to {}", clock::format(from), clock::format(to))
            } else {
                continue;
            };
            {
                let line = format!(
                    "address conflict: {} ({}) and {} ({}) hold it at once, {when}",
                    a.mac.as_deref().unwrap_or_default(),
                    a.held_by,
                    b.mac.as_deref().unwrap_or_default(),
                    b.held_by,
                );
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(mac: &str, by: &str, first: i64, last: i64) -> Held {
        Held {
            mac: Some(mac.into()),
            held_by: by.into(),
            source: "arp",
            first_seen: first,
            last_seen: last,
            current: false,
        }
    }

    #[test]
    fn overlapping_periods_with_two_macs_are_a_conflict() {
        let reuse = [held("aa", "r1 ARP", 0, 10), held("bb", "r1 ARP", 11, 20)];
        assert!(conflicts(&reuse).is_empty());
        let mut both_current = reuse.clone();
        both_current[0].current = true;
        both_current[1].current = true;
        assert!(
            conflicts(&both_current)[0]
                .ends_with("at once, now (the latest scans of both sources see it)")
        );
        let same_mac = [held("aa", "r1 ARP", 0, 10), held("aa", "web eth0", 5, 20)];
        assert!(conflicts(&same_mac).is_empty());
        let clash = [held("aa", "r1 ARP", 0, 10), held("bb", "db eth0", 10, 20)];
        let found = conflicts(&clash);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("aa (r1 ARP) and bb (db eth0)"),
            "{found:?}"
        );
    }

    #[test]
    fn inputs_parse_as_addresses_or_prefixes() {
        assert!(matches!(parse("10.0.0.1"), Some(Query::Address(_))));
        assert!(matches!(parse("[2001:db8::1]"), Some(Query::Address(_))));
        assert!(matches!(parse("fe80::1%eth0"), Some(Query::Address(_))));
        match parse("10.0.10.7/24") {
            Some(Query::Prefix(net)) => assert_eq!(net.to_string(), "10.0.10.0/24"),
            _ => panic!("not a prefix"),
        }
        for bad in ["10.0.0.256", "10.0.0.0/33", "web-7", "", "1.2.3", "::g"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
