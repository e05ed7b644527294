//! `whatis-ip`: everything known about an IP address (or every known address in a CIDR prefix),
//! joined from DNS, the subnets file and every collector's part of the catalog, with the places
//! where the sources disagree pointed out.

use std::net::IpAddr;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::clock;
use crate::dns::Resolver;
use crate::error::{Outcome, Result};
use crate::input;
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::address::{AddressQuery, AddressReport, Target, parse};
use crate::query::whatis::{self, ec2_json, ptr_json};

use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, settings, warn};

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
        // The one runtime, started only when there is DNS to wait on.
        let runtime = resolver.as_ref().map(|_| settings::runtime()).transpose()?;
        let catalog = self.common.open_catalog(&config)?;
        let query = AddressQuery::new(&catalog, &subnets, resolver.as_ref())?;
        // In a prefix inventory (`listing`), every address is known to something, so none
        // counts as nothing found.
        let mut answer = |batch: &[(String, IpAddr)], listing: bool| -> Result<Outcome> {
            let addresses: Vec<IpAddr> = batch.iter().map(|(_, ip)| *ip).collect();
            let reports = super::settings::wait(runtime.as_ref(), query.answer(&addresses))?;
            let mut outcome = Outcome::Success;
            let mut records = Vec::with_capacity(batch.len());
            for ((item, _), report) in batch.iter().zip(&reports) {
                if !report.known && !listing {
                    warn(NAME, format!("{item}: nothing known about it"));
                    outcome = Outcome::NothingFound;
                }
                records.push(record(item, report));
            }
            printer.print(&records, Shape::Card)?;
            Ok(outcome)
        };

        let mut outcome = Outcome::Success;
        let mut singles: Vec<(String, IpAddr)> = Vec::new();
        for item in &items {
            match parse(item) {
                Some(Target::Address(ip)) => singles.push((item.clone(), ip)),
                Some(Target::Prefix(net)) => {
                    // Addresses before this prefix are printed first, to keep input order.
                    if !singles.is_empty() {
                        outcome = outcome.max(answer(&singles, false)?);
                        singles.clear();
                    }
                    let addresses = super::settings::wait(
                        runtime.as_ref(),
                        query.inventory(net, self.ptr_sweep),
                    )?;
                    if addresses.is_empty() {
                        warn(NAME, format!("{item}: nothing known in this prefix"));
                        outcome = Outcome::NothingFound;
                        continue;
                    }
                    let queries: Vec<(String, IpAddr)> =
                        addresses.into_iter().map(|ip| (item.clone(), ip)).collect();
                    // Nothing-known addresses of a sweep were never listed, so no warnings.
                    answer(&queries, true)?;
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
                outcome = outcome.max(answer(&singles, false)?);
                singles.clear();
            }
        }
        if !singles.is_empty() {
            outcome = outcome.max(answer(&singles, false)?);
        }
        Ok(outcome)
    }
}

/// One address's record.
fn record(query: &str, a: &AddressReport) -> Record<Row> {
    let mut r = Row::record();
    r.set(Row::QUERY, query)
        .set(Row::ADDRESS, a.address.to_string())
        .set(Row::VERSION, if a.address.is_ipv4() { 4 } else { 6 })
        .set(Row::KIND, a.kind.kind.name())
        .set(Row::KIND_DESCRIPTION, a.kind.description.as_str())
        .set(Row::GLOBAL, a.kind.global)
        .set(
            Row::EMBEDDED_IPV4,
            a.kind.embedded_v4.map(|v| v.to_string()),
        );
    if let Some(d) = &a.dns {
        let names = d.names.iter().map(|p| match p.confirmed {
            true => p.name.clone(),
            false => format!("{} (unconfirmed)", p.name),
        });
        r.set(Row::DNS_NAMES, names.collect::<Vec<_>>())
            .set(Row::PTR, ptr_json(d))
            .set(Row::DNS_ERROR, d.error.clone());
    }
    let subnet = a.subnets.first().map(|s| match &s.name {
        Some(name) => format!("{name} ({})", s.prefix),
        None => s.prefix.to_string(),
    });
    let subnets = a
        .subnets
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null));
    r.set(Row::SUBNET, subnet)
        .set(Row::SUBNETS, subnets.collect::<Vec<_>>());
    let interfaces = a.interfaces.iter().map(|h| {
        json!({
            "host": h.host,
            "interface": h.interface,
            "mac": h.mac.map(|m| m.to_string()),
            "prefix_len": h.prefix_len,
            "current": h.current,
            "first_seen": clock::format(h.first_seen),
            "last_seen": clock::format(h.last_seen),
        })
    });
    let arp = a.arp.iter().map(|e| {
        json!({
            "router": e.router,
            "interface": e.interface,
            "mac": e.mac.to_string(),
            "current": e.current,
            "first_seen": clock::format(e.first_seen),
            "last_seen": clock::format(e.last_seen),
        })
    });
    r.set(Row::HOST, a.hosts.clone())
        .set(Row::INTERFACES, interfaces.collect::<Vec<_>>())
        .set(Row::ARP, arp.collect::<Vec<_>>())
        .set(
            Row::MAC,
            a.macs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        )
        .set(Row::VENDOR, a.vendors.clone());
    let ports = &a.switch_ports;
    r.set(
        Row::SWITCH,
        ports.iter().map(|p| p.switch()).collect::<Vec<_>>(),
    )
    .set(
        Row::PORT,
        ports.iter().filter_map(|p| p.port()).collect::<Vec<_>>(),
    )
    .set(
        Row::VLAN,
        ports
            .iter()
            .filter_map(|p| p.placed.sighting.vlan)
            .collect::<Vec<_>>(),
    )
    .set(
        Row::SWITCH_PORTS,
        ports.iter().map(|p| p.to_json()).collect::<Vec<_>>(),
    );
    r.set(
        Row::EC2_INSTANCE,
        a.ec2.first().map(|i| i.instance_id.clone()),
    )
    .set(Row::EC2, a.ec2.iter().map(ec2_json).collect::<Vec<_>>());
    let history = a.history.iter().map(|h| {
        json!({
            "mac": h.mac.map(|m| m.to_string()),
            "held_by": h.held_by,
            "source": h.source.name(),
            "first_seen": clock::format(h.first_seen),
            "last_seen": clock::format(h.last_seen),
            "current": h.current,
        })
    });
    r.set(Row::FIRST_SEEN, a.first_seen().map(clock::format))
        .set(Row::LAST_SEEN, a.last_seen().map(clock::format))
        .set(Row::HISTORY, history.collect::<Vec<_>>())
        .set(
            Row::DISAGREEMENTS,
            a.disagreements
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        );
    r
}
