//! `which-switch`: the switch, port and VLAN a MAC, IP or host is plugged into, with history.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::clock;
use crate::collect;
use crate::collect::switches::{self as switches, Switches};

use crate::dns::{DnsOptions, Resolver};
use crate::error::{Outcome, Result};
use crate::input;
use crate::model::Mac;
use crate::net::oui;
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::placement::{self, Placed, Placer};

use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, warn};

const NAME: &str = "which-switch";

/// What switch, port and VLAN a MAC, IP address or host is plugged into.
///
/// A MAC is looked up in the forwarding tables crawl-switches stored; an IP address becomes
/// MACs through routers' ARP and neighbour tables and hosts' own interfaces; a host name
/// becomes MACs through its scanned interfaces, or through DNS and then ARP. A MAC is seen on
/// every switch between it and the core: the answer is the port with no uplink evidence (an
/// LLDP/CDP neighbour that is a crawled device, or another device's own MAC learned there),
/// LAG members rolled up, and the evidence is shown in `why`.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// MAC addresses (any notation), IP addresses or host names; read from stdin when absent
    #[arg(value_name = "MAC|IP|HOST")]
    pub items: Vec<String>,

    /// List every place the MAC is seen, uplinks included, each with its role
    #[arg(long, conflicts_with = "history")]
    pub all: bool,

    /// The timeline of every port the MAC has been seen on, current and past
    #[arg(long)]
    pub history: bool,

    /// What is, and was, plugged into a port: SWITCH (sysName or address) and PORT (ifName,
    /// ifDescr, ifAlias or ifIndex)
    #[arg(long, num_args = 2, value_names = ["SWITCH", "PORT"], conflicts_with_all = ["items", "all", "moves"])]
    pub port: Option<Vec<String>>,

    /// Every MAC that moved to another port of the same switch (see --since): a cron report
    #[arg(long, conflicts_with_all = ["items", "all", "history"])]
    pub moves: bool,

    /// With --moves: how far back, as an age (30m, 12h, 1d, 2w) or an RFC 3339 time
    #[arg(long, value_name = "WHEN", default_value = "1d", requires = "moves")]
    pub since: String,

    /// Crawl the switches concerned first (where the MACs were last seen, and routers), then
    /// answer; every configured switch when a MAC was never seen
    #[arg(long, conflicts_with_all = ["port", "moves"])]
    pub live: bool,

    #[command(flatten)]
    pub dns: DnsArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The output fields of which-switch.
    pub Row {
        QUERY = "query", shown,
            "The input as given.";
        MAC = "mac", shown,
            "The MAC address (aa:bb:cc:dd:ee:ff).";
        SWITCH = "switch", shown,
            "The switch's sysName (its address when it reports none).";
        PORT = "port", shown,
            "The port's ifName (ifDescr when there is no ifName); a LAG member shows its aggregate.";
        VLAN = "vlan", shown,
            "The VLAN (Q-BRIDGE FDB id mapped through dot1qVlanFdbId).";
        ROLE = "role", shown,
            "access, shared (many MACs behind the port), uplink, or self (the switch's own MAC).";
        WHY = "why", shown,
            "The evidence for the role, or why no access port was found.";
        LAST_SEEN = "last_seen", shown,
            "When a crawl last saw the MAC there (RFC 3339, UTC).";
        VENDOR = "vendor", hidden,
            "The MAC's vendor from the IEEE registry (ieee-data).";
        SWITCH_ADDRESS = "switch_address", hidden,
            "The address the switch is crawled at.";
        PORT_ALIAS = "port_alias", hidden,
            "ifAlias: the port's description as configured on the switch.";
        PORT_DESCR = "port_descr", hidden,
            "ifDescr.";
        IF_INDEX = "if_index", hidden,
            "The port's ifIndex.";
        MEMBER_PORT = "member_port", hidden,
            "The LAG member port the MAC was learned on, when rolled up to an aggregate.";
        PORT_STATUS = "port_status", hidden,
            "ifOperStatus: up, down, …";
        SPEED_MBPS = "speed_mbps", hidden,
            "ifHighSpeed in Mbit/s.";
        MACS_ON_PORT = "macs_on_port", hidden,
            "How many MACs the port has learned now.";
        CURRENT = "current", hidden,
            "Whether the latest crawl of the switch still sees it there.";
        FIRST_SEEN = "first_seen", hidden,
            "When a crawl first saw the MAC there (RFC 3339, UTC).";
        VIA = "via", hidden,
            "How the query led to the MAC: mac, arp (router), host (its interface) or dns.";
        MOVED_FROM = "moved_from", hidden,
            "With --moves: the port of the same switch the MAC was on before.";
    }
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "which-switch 00:1b:21:3a:4f:10",
                "The switch port of a MAC (any notation works).",
            ),
            (
                "which-switch web-7",
                "Every interface of a scanned host, and where each is plugged in.",
            ),
            (
                "which-switch --all 10.1.2.3",
                "Every switch the address's MAC is seen on, uplinks included.",
            ),
            (
                "which-switch --history aabb.cc00.0100",
                "Where this MAC has been, over time.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: QUERY_EXIT_STATUS,
        views: &[],
        environment: &[(
            "OPSKIT_SNMP_COMMUNITY",
            "SNMP community for --live crawls of devices whose configuration names none.",
        )],
    };

    fn run(self) -> Result<Outcome> {
        let mut printer = Printer::new::<Row>(&self.output)?;
        let config = self.common.config()?;
        if let Some(port) = &self.port {
            let catalog = self.common.open_catalog(&config)?;
            let placer = Placer::new(&catalog)?;
            let (switch, port) = (&port[0], &port[1]);
            // Each MAC on the port is placed with its own evidence (its owner differs).
            let mut placed = Vec::new();
            for sighting in catalog.port_sightings(switch, port)? {
                placed.extend(placer.classify(&catalog, vec![sighting])?);
            }
            if placed.is_empty() {
                warn(
                    NAME,
                    format!(
                        "{switch} {port}: nothing learned on that port (or no such switch or port)"
                    ),
                );
                return Ok(Outcome::NothingFound);
            }
            let query = format!("{switch} {port}");
            return print_rows(
                &mut printer,
                placed
                    .into_iter()
                    .map(|p| (query.clone(), "port".into(), p))
                    .collect(),
                None,
            );
        }
        if self.moves {
            let catalog = self.common.open_catalog(&config)?;
            let since = clock::parse_since(&self.since, clock::now())?;
            let moves = catalog.moves_since(since)?;
            let placer = Placer::new(&catalog)?;
            if moves.is_empty() {
                return Ok(Outcome::NothingFound);
            }
            let mut from = Vec::new();
            let mut rows = Vec::new();
            for (old, new) in moves {
                let placed = placer.classify(&catalog, vec![new])?.remove(0);
                from.push(old.port_name.or(old.port_descr));
                rows.push((placed.sighting.mac.clone(), "moves".to_string(), placed));
            }
            return print_rows(&mut printer, rows, Some(from));
        }
        let items = input::items(&self.items, "MACs, addresses or host names")?;
        let mut catalog = self.common.open_catalog(&config)?;
        // Built on first use: most inputs are MACs or addresses that need no DNS.
        let dns = self.dns.options(&config)?;
        let resolver = Lazy {
            options: dns,
            resolver: std::cell::OnceCell::new(),
        };
        let resolved: Vec<(String, Vec<(String, String)>)> = items
            .iter()
            .map(|item| Ok((item.clone(), macs_for(&catalog, item, &resolver)?)))
            .collect::<Result<_>>()?;
        if self.live {
            live_crawl(&mut catalog, &config, &resolved)?;
        }
        // Every MAC placed from one state of the catalog (a crawl may be committing
        // alongside), and SQLite's read lock taken once rather than per statement.
        let snapshot = catalog.read_snapshot()?;
        let placer = Placer::new(&catalog)?;
        let mut outcome = Outcome::Success;
        let mut rows: Vec<(String, String, Placed)> = Vec::new();
        for (item, macs) in resolved {
            let item = &item;
            if macs.is_empty() {
                warn(
                    NAME,
                    format!(
                        "{item}: no MAC known for it (not in any ARP table, host interface or forwarding table)"
                    ),
                );
                outcome = Outcome::NothingFound;
                continue;
            }
            let mut any = false;
            for (mac, via) in macs {
                let sightings = catalog.sightings(&mac, true)?;
                if sightings.is_empty() {
                    warn(
                        NAME,
                        format!("{item}: {mac} ({via}) is in no forwarding table"),
                    );
                    continue;
                }
                any = true;
                let placed = placer.classify(&catalog, sightings)?;
                rows.extend(
                    placement::select(placed, self.all, self.history)
                        .into_iter()
                        .map(|p| (item.clone(), via.clone(), p)),
                );
            }
            if !any {
                outcome = Outcome::NothingFound;
            }
        }
        drop(snapshot);
        print_rows(&mut printer, rows, None)?;
        Ok(outcome)
    }
}

/// Prints (query, via, placed) rows, with vendors looked up in one pass over the registry.
fn print_rows(
    printer: &mut Printer,
    rows: Vec<(String, String, Placed)>,
    moved_from: Option<Vec<Option<String>>>,
) -> Result<Outcome> {
    let macs: Vec<Mac> = rows
        .iter()
        .filter_map(|(_, _, p)| p.sighting.mac.parse().ok())
        .collect();
    let vendors = oui::vendors(Path::new(oui::REGISTRY_DIR), &macs);
    let records: Vec<Record<Row>> = rows
        .iter()
        .enumerate()
        .map(|(i, (query, via, placed))| {
            let mut r = record(query, via, placed, &vendors);
            if let Some(from) = &moved_from {
                r.set(Row::MOVED_FROM, from[i].clone());
            }
            r
        })
        .collect();
    printer.print(&records, Shape::Table)?;
    Ok(Outcome::Success)
}

/// --live: recrawls the devices the MACs were seen on, and the configured routers (for ARP).
fn live_crawl(
    catalog: &mut Catalog,
    config: &crate::config::Config,
    resolved: &[(String, Vec<(String, String)>)],
) -> Result<()> {
    let mut addresses: Vec<String> = Vec::new();
    let mut unseen = false;
    for (mac, _) in resolved.iter().flat_map(|(_, macs)| macs) {
        let sightings = catalog.sightings(mac, true)?;
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
    if addresses.is_empty() {
        return Ok(());
    }
    let (overrides, concurrency) = super::settings::snmp(config, None, None, None);
    let targets = switches::targets(config, &addresses, &overrides)?;
    let runtime = super::settings::runtime()?;
    runtime.block_on(async {
        let collector = Switches::new(NAME, "--live: ", &targets, catalog.path()).await?;
        collect::run(Arc::new(collector), catalog, targets, concurrency).await
    })?;
    Ok(())
}

/// A resolver, and the runtime its lookups run on, made when first needed (`None` options: DNS
/// is off).
struct Lazy {
    options: Option<DnsOptions>,
    resolver: std::cell::OnceCell<(tokio::runtime::Runtime, Resolver)>,
}

impl Lazy {
    fn get(&self) -> Result<Option<&(tokio::runtime::Runtime, Resolver)>> {
        let Some(options) = &self.options else {
            return Ok(None);
        };
        if self.resolver.get().is_none() {
            let _ = self
                .resolver
                .set((super::settings::runtime()?, Resolver::new(options)?));
        }
        Ok(self.resolver.get())
    }
}

/// The MACs an input stands for, and how each was found.
fn macs_for(catalog: &Catalog, item: &str, resolver: &Lazy) -> Result<Vec<(String, String)>> {
    if let Ok(mac) = item.parse::<Mac>() {
        return Ok(vec![(mac.to_string(), "mac".into())]);
    }
    let from_address = |ip: IpAddr, via: &str| -> Result<Vec<(String, String)>> {
        let bindings = catalog.macs_of_address(&ip.to_string())?;
        // Current bindings if there are any, else the most recent ones: an address that has
        // gone quiet is still worth an answer about where it was.
        let newest_current = bindings.iter().any(|b| b.current);
        let mut out: Vec<(String, String)> = Vec::new();
        for b in bindings.iter().filter(|b| b.current || !newest_current) {
            if !out.iter().any(|(m, _)| m == &b.mac) {
                let how = if via == "dns" {
                    format!("dns+{}", b.source)
                } else {
                    b.source.clone()
                };
                out.push((b.mac.clone(), how));
            }
        }
        Ok(out)
    };
    if let Ok(ip) = item.trim_matches(['[', ']']).parse::<IpAddr>() {
        return from_address(ip, "ip");
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
        && let Some((runtime, resolver)) = resolver.get()?
    {
        for ip in runtime.block_on(resolver.addresses(item)).addresses {
            for found in from_address(ip, "dns")? {
                if !out.iter().any(|(m, _)| m == &found.0) {
                    out.push(found);
                }
            }
        }
    }
    Ok(out)
}

fn record(query: &str, via: &str, placed: &Placed, vendors: &HashMap<Mac, String>) -> Record<Row> {
    let s = &placed.sighting;
    let member = s.port_name.clone().or_else(|| s.port_descr.clone());
    let (port, member_port) = match &s.lag_name {
        Some(lag) => (Some(lag.clone()), member),
        None => (member, None),
    };
    let vendor = s
        .mac
        .parse::<Mac>()
        .ok()
        .and_then(|m| vendors.get(&m).cloned());
    let mut r = Row::record();
    r.set(Row::QUERY, query)
        .set(Row::MAC, s.mac.as_str())
        .set(
            Row::SWITCH,
            s.device_name
                .clone()
                .unwrap_or_else(|| s.device_address.clone()),
        )
        .set(Row::PORT, port)
        .set(Row::VLAN, s.vlan)
        .set(Row::ROLE, placed.role.name())
        .set(Row::WHY, placed.why.as_str())
        .set(Row::LAST_SEEN, clock::format(s.last_seen))
        .set(Row::VENDOR, vendor)
        .set(Row::SWITCH_ADDRESS, s.device_address.as_str())
        .set(Row::PORT_ALIAS, s.port_alias.clone())
        .set(Row::PORT_DESCR, s.port_descr.clone())
        .set(Row::IF_INDEX, s.if_index)
        .set(Row::MEMBER_PORT, member_port)
        .set(Row::PORT_STATUS, s.oper_status.clone())
        .set(Row::SPEED_MBPS, s.speed_mbps)
        .set(Row::MACS_ON_PORT, s.macs_on_port)
        .set(Row::CURRENT, s.current)
        .set(Row::FIRST_SEEN, clock::format(s.first_seen))
        .set(Row::VIA, via);
    r
}
