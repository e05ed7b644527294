//! `whatis-host`: everything known about a host name, joined from DNS and every collector's
//! part of the catalog, with the places where the sources disagree pointed out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use serde_json::{Value, json};

use crate::catalog::{Ec2InstanceRow, HostDetails};
use crate::clock;
use crate::dns::{AddressAnswer, Resolver, ReverseAnswer};
use crate::error::{Outcome, Result};
use crate::input;
use crate::model::{Mac, address as kind};
use crate::net::oui;
use crate::output::{Key, OutputArgs, Printer, Record, Schema, Shape};
use crate::query::placement::Placer;

use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, warn};
use crate::query::whatis;

const NAME: &str = "whatis-host";

/// Everything known about a host: DNS, facts, interfaces, switch ports, packages, cloud.
///
/// Looks each NAME up in the catalog by hostname, FQDN or short name (case-insensitively) and
/// asks DNS for its A and AAAA records, the CNAME chain to them, and the PTR of each address.
/// Shows one card per matching host: OS, kernel, hardware, every interface with its MAC and
/// addresses, the switch port of each MAC (as which-switch decides it), package counts, custom
/// facts, the EC2 instance with its tags and Auto Scaling group, and when each source last saw
/// it. Disagreements are listed: DNS addresses the host does not report or the reverse, PTRs
/// that do not resolve back or name another host, a host not scanned for a long time. With no
/// NAME, reads names from stdin, one per line, and resolves them concurrently.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// Host names (hostname, FQDN or short name); read from stdin when absent or "-"
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// A host not scanned for longer than this is flagged in `disagreements` (30m, 12h, 7d, 2w)
    #[arg(long, value_name = "AGE", default_value = "7d")]
    pub stale: String,

    #[command(flatten)]
    pub dns: DnsArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The output fields of whatis-host.
    pub Row {
        QUERY = "query", shown,
            "The name as given.";
        HOST = "host", shown,
            "Hostname as the host reports it (null when only DNS knows the name).";
        FQDN = "fqdn", shown,
            "Canonical name the host resolves itself to.";
        OS = "os", shown,
            "Operating system (os-release PRETTY_NAME).";
        OS_ID = "os_id", shown,
            "os-release ID (debian, rhel, alpine, …).";
        OS_VERSION = "os_version", shown,
            "os-release VERSION_ID.";
        KERNEL = "kernel", shown,
            "Kernel release (uname -r).";
        ARCH = "arch", shown,
            "Machine architecture (uname -m).";
        CPU_MODEL = "cpu_model", shown,
            "CPU model name.";
        CPU_COUNT = "cpu_count", shown,
            "Number of logical CPUs.";
        MEMORY = "memory", shown,
            "Total memory, for people (GiB).";
        MEMORY_BYTES = "memory_bytes", shown,
            "Total memory in bytes.";
        HARDWARE = "hardware", shown,
            "DMI system vendor and product name.";
        SERIAL = "serial", shown,
            "DMI product serial number (readable by root only).";
        BIOS_VERSION = "bios_version", shown,
            "DMI BIOS version.";
        VIRTUALIZATION = "virtualization", shown,
            "vm, container, or null for bare metal / unknown.";
        MACHINE_ID = "machine_id", shown,
            "/etc/machine-id.";
        BOOT_TIME = "boot_time", shown,
            "When the host booted (RFC 3339, UTC).";
        INTERFACES = "interfaces", shown,
            "Network interfaces: objects with name, mac, state, mtu, speed_mbps, addresses.";
        ADDRESSES = "addresses", shown,
            "Every address the host reports, as ADDRESS/PREFIX.";
        MACS = "macs", shown,
            "Every MAC address the host reports.";
        DNS_ADDRESSES = "dns_addresses", shown,
            "A and AAAA records of the name.";
        CNAMES = "cnames", shown,
            "The CNAME chain from the name to its canonical name, each hop's target in order.";
        PTR = "ptr", shown,
            "Reverse DNS of each address (DNS's and the host's own): address, name, confirmed (the name resolves back to the address).";
        DNS_ERROR = "dns_error", shown,
            "Why DNS gave no answer, when it failed (timeout, refused, …).";
        SWITCH_PORTS = "switch_ports", shown,
            "Where each interface's MAC is plugged in, as which-switch decides it: interface, mac, switch, port, vlan, role, current, last_seen, vendor, why.";
        PACKAGES = "packages", shown,
            "Number of installed packages per package manager (object).";
        PACKAGE_COUNT = "package_count", shown,
            "Total number of installed packages.";
        CUSTOM_FACTS = "custom_facts", shown,
            "Custom facts gathered by scan-hosts from the config's [[fact]] entries (object: name → value).";
        FIRST_SEEN = "first_seen", shown,
            "When the host was first scanned (RFC 3339, UTC).";
        LAST_SEEN = "last_seen", shown,
            "When the host was last scanned (RFC 3339, UTC).";
        LAST_SCAN = "last_scan", shown,
            "How the last scan ran: collector and method (scan-hosts local, …).";
        LAST_SCAN_ERROR = "last_scan_error", shown,
            "What failed in the last scan, if anything did.";
        EC2 = "ec2", shown,
            "EC2 instances (from sync-ec2) whose Name tag or id is the name, or that have one of its addresses: id, name, state, asg, region, az, type, private_ip, public_ip, current, last_seen, tags.";
        LAST_SEEN_BY = "last_seen_by", shown,
            "When each source last saw the host (object): scan-hosts, switch forwarding tables (its MACs), router ARP/neighbour tables (its addresses), ec2.";
        DISAGREEMENTS = "disagreements", shown,
            "Where sources disagree: DNS addresses the host does not report, host addresses DNS does not give, PTRs that do not resolve back or name another host, a host not scanned for longer than --stale, DNS pointing at a stopped or terminated instance.";
    }
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            ("whatis-host web-7", "Everything known about web-7."),
            (
                "whatis-host --json db1.example.com | jq .addresses",
                "Its addresses, for a script.",
            ),
            (
                "whatis-host -f host,os,kernel --no-dns < hosts.txt",
                "OS and kernel of many hosts, from the catalog only.",
            ),
            (
                "whatis-host --dns-server 10.0.0.53 web-7",
                "Ask a particular DNS server.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: QUERY_EXIT_STATUS,
        views: &[],
        environment: &[],
    };

    fn run(self) -> Result<Outcome> {
        let mut printer = Printer::new::<Row>(&self.output)?;
        let names = input::items(&self.names, "host names")?;
        let now = clock::now();
        let stale_before = clock::parse_since(&self.stale, now)?;
        let config = self.common.config()?;
        let resolver = match self.dns.options(&config)? {
            Some(options) => Some(Resolver::new(&options)?),
            None => None,
        };
        let catalog = self.common.open_catalog(&config)?;
        let placer = Placer::new(&catalog)?;

        let mut outcome = Outcome::Success;
        for batch in names.chunks(BATCH) {
            let mut records = Vec::new();
            let valid: Vec<String> = batch.iter().filter(|n| valid_name(n)).cloned().collect();
            for bad in batch.iter().filter(|n| !valid_name(n)) {
                warn(
                    NAME,
                    format!(
                        "{}: not a host name (control characters or spaces)",
                        crate::output::escape::for_terminal(bad)
                    ),
                );
                outcome = Outcome::NothingFound;
            }
            let answers: Vec<Option<AddressAnswer>> = match &resolver {
                Some(r) => r.addresses_many(&valid).into_iter().map(Some).collect(),
                None => vec![None; valid.len()],
            };
            // Everything known of each name, then reverse DNS of all their addresses at once.
            // The batch's catalog reads see one state of the catalog, even across a rescan.
            let snapshot = catalog.read_snapshot()?;
            let mut found = Vec::new();
            for (name, dns) in valid.iter().zip(answers) {
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
                let ec2 = ec2_instances(&catalog, name, &details, dns.as_ref())?;
                if details.is_empty()
                    && ec2.is_empty()
                    && dns.as_ref().is_none_or(|d| d.addresses.is_empty())
                {
                    let why = match dns.as_ref().and_then(|d| d.error.as_deref()) {
                        Some(e) => format!("not in the catalog, and DNS failed: {e}"),
                        None if dns.is_some() => "not in the catalog or DNS".to_string(),
                        None => "not in the catalog".to_string(),
                    };
                    warn(NAME, format!("{name}: {why}"));
                    outcome = Outcome::NothingFound;
                    continue;
                }
                found.push((name, dns, details, ec2));
            }
            let mut to_reverse: Vec<IpAddr> = Vec::new();
            for (_, dns, details, _) in &found {
                to_reverse.extend(dns.iter().flat_map(|d| d.addresses.iter().copied()));
                to_reverse.extend(details.iter().flat_map(reverse_worthy));
            }
            to_reverse.sort();
            to_reverse.dedup();
            let reverse: HashMap<IpAddr, ReverseAnswer> = match &resolver {
                Some(r) => to_reverse
                    .iter()
                    .copied()
                    .zip(r.reverse_many(&to_reverse))
                    .collect(),
                None => HashMap::new(),
            };
            let macs: Vec<Mac> = found
                .iter()
                .flat_map(|(_, _, details, _)| details.iter())
                .flat_map(|d| d.interfaces.iter())
                .filter_map(|i| i.mac.as_deref()?.parse().ok())
                .collect();
            let vendors = if macs.is_empty() {
                HashMap::new()
            } else {
                oui::vendors(Path::new(oui::REGISTRY_DIR), &macs)
            };
            for (name, dns, details, ec2) in found {
                let ec2_json: Vec<Value> = ec2.iter().map(whatis::ec2_json).collect();
                let context = Joined {
                    dns: dns.as_ref(),
                    reverse: &reverse,
                    ec2: &ec2,
                    stale_before,
                };
                // One card per matching host; a name only DNS or EC2 knows gets one card too.
                let cards: Vec<Option<&HostDetails>> = if details.is_empty() {
                    vec![None]
                } else {
                    details.iter().map(Some).collect()
                };
                for d in cards {
                    let mut r = card(name, d, dns.as_ref());
                    r.set(Row::EC2, json!(ec2_json));
                    r.set(Row::PTR, context.ptr(d));
                    r.set(Row::DISAGREEMENTS, context.disagreements(d));
                    if let Some(d) = d {
                        let mut ports = Vec::new();
                        for i in &d.interfaces {
                            let Some(mac) = &i.mac else { continue };
                            if let Some(mut p) =
                                whatis::switch_port(&placer, &catalog, mac, &vendors)?
                            {
                                p["interface"] = json!(i.name);
                                ports.push(p);
                            }
                        }
                        r.set(Row::SWITCH_PORTS, ports);
                        let mut seen: serde_json::Map<String, Value> = catalog
                            .host_last_seen_by_source(d.host.id)?
                            .into_iter()
                            .map(|(source, t)| (source, json!(clock::format(t))))
                            .collect();
                        if let Some(t) = ec2.iter().map(|e| e.last_seen).max() {
                            seen.insert("ec2".into(), json!(clock::format(t)));
                        }
                        r.set(Row::LAST_SEEN_BY, Value::Object(seen));
                    }
                    records.push(r);
                }
            }
            // Not held while a slow reader of our output keeps us waiting.
            drop(snapshot);
            printer.print(&records, Shape::Card)?;
        }
        Ok(outcome)
    }
}

/// Names answered per batch (DNS for a batch is asked concurrently).
const BATCH: usize = 2000;

/// A host name worth asking about: no control characters or whitespace (which no DNS name or
/// hostname has, and which would garble a terminal if echoed back).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// A host's own addresses worth a reverse lookup: not loopback, link-local or multicast.
fn reverse_worthy(d: &HostDetails) -> Vec<IpAddr> {
    d.interfaces
        .iter()
        .flat_map(|i| i.addresses.iter())
        .filter_map(|a| a.address.parse::<IpAddr>().ok())
        .filter(|ip| dns_worthy(*ip))
        .collect()
}

/// Whether DNS is expected to know an address: loopback, link-local, multicast and
/// unspecified addresses are never in it.
fn dns_worthy(ip: IpAddr) -> bool {
    !matches!(
        kind::classify(ip).kind,
        "loopback" | "link-local" | "multicast" | "unspecified"
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

    fn ptr(&self, host: Option<&HostDetails>) -> Value {
        let mut rows = Vec::new();
        for ip in self.addresses(host) {
            let Some(answer) = self.reverse.get(&ip) else {
                continue;
            };
            for p in &answer.names {
                rows.push(json!({
                    "address": ip.to_string(),
                    "name": p.name,
                    "confirmed": p.confirmed,
                }));
            }
        }
        Value::Array(rows)
    }

    fn disagreements(&self, host: Option<&HostDetails>) -> Vec<String> {
        let mut out = Vec::new();
        let mut reported: Vec<IpAddr> = host
            .map(|h| {
                h.interfaces
                    .iter()
                    .flat_map(|i| i.addresses.iter())
                    .filter_map(|a| a.address.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        reported.sort();
        if let (Some(dns), Some(h)) = (self.dns, host) {
            let name = &h.host.name;
            let missing: Vec<String> = dns
                .addresses
                .iter()
                .filter(|a| !reported.contains(a))
                .map(ToString::to_string)
                .collect();
            if !missing.is_empty() && !reported.is_empty() {
                out.push(format!(
                    "DNS gives {}, which {name} does not report on any interface",
                    missing.join(", ")
                ));
            }
            if dns.error.is_none() {
                let unlisted: Vec<String> = reported
                    .iter()
                    .filter(|a| dns_worthy(**a) && !dns.addresses.contains(a))
                    .map(ToString::to_string)
                    .collect();
                if !unlisted.is_empty() {
                    out.push(format!(
                        "{name} reports {}, which DNS does not give for the name",
                        unlisted.join(", ")
                    ));
                }
            }
        }
        for ip in self.addresses(host) {
            let Some(answer) = self.reverse.get(&ip) else {
                continue;
            };
            out.extend(whatis::ptr_disagreements(&ip.to_string(), answer));
            if let Some(h) = host {
                for p in answer.names.iter().filter(|p| p.confirmed) {
                    if !whatis::same_host(&p.name, &h.host.name, h.host.fqdn.as_deref()) {
                        out.push(format!("PTR of {ip} is {}, not {}", p.name, h.host.name));
                    }
                }
            }
        }
        if let Some(h) = host
            && h.host.last_seen < self.stale_before
        {
            out.push(format!(
                "{} was last scanned at {}, longer ago than --stale",
                h.host.name,
                clock::format(h.host.last_seen)
            ));
        }
        if let Some(dns) = self.dns {
            for e in self.ec2.iter().filter(|e| {
                use crate::model::ec2::InstanceState::{ShuttingDown, Stopped, Terminated};
                matches!(e.state, Some(Terminated | Stopped | ShuttingDown))
            }) {
                for ip in [&e.private_ip, &e.public_ip].into_iter().flatten() {
                    if dns.addresses.iter().any(|a| a.to_string() == *ip) {
                        out.push(format!(
                            "DNS gives {ip}, the address of EC2 instance {}, which is {}",
                            e.instance_id,
                            e.state.as_ref().map_or("", |s| s.as_str())
                        ));
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
    catalog: &crate::catalog::Catalog,
    name: &str,
    hosts: &[HostDetails],
    dns: Option<&AddressAnswer>,
) -> Result<Vec<Ec2InstanceRow>> {
    let mut rows = catalog.ec2_instances_by_name(name)?;
    for host in hosts {
        if host.host.name != name {
            rows.extend(catalog.ec2_instances_by_name(&host.host.name)?);
        }
    }
    let mut addresses: Vec<String> = dns
        .map(|d| d.addresses.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    for host in hosts {
        for interface in &host.interfaces {
            addresses.extend(interface.addresses.iter().map(|a| a.address.clone()));
        }
    }
    addresses.sort();
    addresses.dedup();
    for a in &addresses {
        rows.extend(catalog.ec2_instances_by_address(a)?);
    }
    Ok(whatis::latest_per_instance(rows))
}

/// Builds the card for one matched host (or for a name only DNS knows).
fn card(query: &str, details: Option<&HostDetails>, dns: Option<&AddressAnswer>) -> Record<Row> {
    let mut r = Row::record();
    let mut put = |k: Key<Row>, v: Value| {
        r.set(k, v);
    };
    put(Row::QUERY, json!(query));
    let fact = |name: &str| -> Value {
        details
            .and_then(|d| {
                d.facts
                    .iter()
                    .find(|f| f.kind == "system" && f.name == name)
            })
            .map(|f| f.value.clone())
            .unwrap_or(Value::Null)
    };
    put(Row::HOST, json!(details.map(|d| &d.host.name)));
    put(Row::FQDN, json!(details.and_then(|d| d.host.fqdn.as_ref())));
    for (key, name) in [
        (Row::OS, "os"),
        (Row::OS_ID, "os_id"),
        (Row::OS_VERSION, "os_version"),
        (Row::KERNEL, "kernel"),
        (Row::ARCH, "arch"),
        (Row::CPU_MODEL, "cpu_model"),
        (Row::CPU_COUNT, "cpu_count"),
    ] {
        put(key, fact(name));
    }
    let memory = fact("memory_bytes");
    put(
        Row::MEMORY,
        memory
            .as_f64()
            .map(|b| json!(format!("{:.1} GiB", b / (1u64 << 30) as f64)))
            .unwrap_or(Value::Null),
    );
    put(Row::MEMORY_BYTES, memory);
    let hardware: Vec<String> = ["hw_vendor", "hw_product"]
        .iter()
        .filter_map(|n| fact(n).as_str().map(str::to_string))
        .collect();
    put(
        Row::HARDWARE,
        if hardware.is_empty() {
            Value::Null
        } else {
            json!(hardware.join(" "))
        },
    );
    put(Row::SERIAL, fact("hw_serial"));
    put(Row::BIOS_VERSION, fact("bios_version"));
    put(Row::VIRTUALIZATION, fact("virtualization"));
    put(Row::MACHINE_ID, fact("machine_id"));
    put(
        Row::BOOT_TIME,
        fact("boot_time")
            .as_i64()
            .map(|t| json!(clock::format(t)))
            .unwrap_or(Value::Null),
    );
    let interfaces = details.map(|d| &d.interfaces[..]).unwrap_or(&[]);
    put(
        Row::INTERFACES,
        Value::Array(
            interfaces
                .iter()
                .map(|i| {
                    json!({
                        "name": i.name,
                        "mac": i.mac,
                        "state": i.oper_state,
                        "mtu": i.mtu,
                        "speed_mbps": i.speed_mbps,
                        "addresses": i.addresses.iter().map(address_text).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        ),
    );
    put(
        Row::ADDRESSES,
        json!(
            interfaces
                .iter()
                .flat_map(|i| i.addresses.iter().map(address_text))
                .collect::<Vec<_>>()
        ),
    );
    put(
        Row::MACS,
        json!(
            interfaces
                .iter()
                .filter_map(|i| i.mac.clone())
                .collect::<Vec<_>>()
        ),
    );
    put(
        Row::DNS_ADDRESSES,
        json!(dns.map(|d| {
            d.addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
        })),
    );
    put(Row::DNS_ERROR, json!(dns.and_then(|d| d.error.clone())));
    put(Row::CNAMES, json!(dns.map(|d| &d.cnames)));
    let counts = details.map(|d| &d.package_counts[..]).unwrap_or(&[]);
    put(
        Row::PACKAGES,
        Value::Object(counts.iter().map(|(m, n)| (m.clone(), json!(n))).collect()),
    );
    put(
        Row::PACKAGE_COUNT,
        json!(details.map(|_| counts.iter().map(|(_, n)| n).sum::<i64>())),
    );
    put(
        Row::CUSTOM_FACTS,
        Value::Object(
            details
                .map(|d| &d.facts[..])
                .unwrap_or(&[])
                .iter()
                .filter(|f| f.kind == "custom")
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect(),
        ),
    );
    put(
        Row::FIRST_SEEN,
        json!(details.map(|d| clock::format(d.host.first_seen))),
    );
    put(
        Row::LAST_SEEN,
        json!(details.map(|d| clock::format(d.host.last_seen))),
    );
    let scan = details.and_then(|d| d.last_scan.as_ref());
    put(
        Row::LAST_SCAN,
        json!(scan.map(|s| format!("{} {}", s.collector, s.method))),
    );
    put(
        Row::LAST_SCAN_ERROR,
        json!(scan.and_then(|s| s.error.clone())),
    );
    r
}

fn address_text(a: &crate::catalog::AddressRow) -> String {
    match a.prefix_len {
        Some(p) => format!("{}/{p}", a.address),
        None => a.address.clone(),
    }
}
