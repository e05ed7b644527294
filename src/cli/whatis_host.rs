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
use crate::net::{Mac, kind, oui};
use crate::output::{Field, OutputArgs, Printer, Record, Shape};
use crate::switches::placement::Placer;

use super::whatis;
use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, warn};

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

/// The output fields of whatis-host.
pub const FIELDS: &[Field] = &[
    Field {
        name: "query",
        about: "The name as given.",
    },
    Field {
        name: "host",
        about: "Hostname as the host reports it (null when only DNS knows the name).",
    },
    Field {
        name: "fqdn",
        about: "Canonical name the host resolves itself to.",
    },
    Field {
        name: "os",
        about: "Operating system (os-release PRETTY_NAME).",
    },
    Field {
        name: "os_id",
        about: "os-release ID (debian, rhel, alpine, …).",
    },
    Field {
        name: "os_version",
        about: "os-release VERSION_ID.",
    },
    Field {
        name: "kernel",
        about: "Kernel release (uname -r).",
    },
    Field {
        name: "arch",
        about: "Machine architecture (uname -m).",
    },
    Field {
        name: "cpu_model",
        about: "CPU model name.",
    },
    Field {
        name: "cpu_count",
        about: "Number of logical CPUs.",
    },
    Field {
        name: "memory",
        about: "Total memory, for people (GiB).",
    },
    Field {
        name: "memory_bytes",
        about: "Total memory in bytes.",
    },
    Field {
        name: "hardware",
        about: "DMI system vendor and product name.",
    },
    Field {
        name: "serial",
        about: "DMI product serial number (readable by root only).",
    },
    Field {
        name: "bios_version",
        about: "DMI BIOS version.",
    },
    Field {
        name: "virtualization",
        about: "vm, container, or null for bare metal / unknown.",
    },
    Field {
        name: "machine_id",
        about: "/etc/machine-id.",
    },
    Field {
        name: "boot_time",
        about: "When the host booted (RFC 3339, UTC).",
    },
    Field {
        name: "interfaces",
        about: "Network interfaces: objects with name, mac, state, mtu, speed_mbps, addresses.",
    },
    Field {
        name: "addresses",
        about: "Every address the host reports, as ADDRESS/PREFIX.",
    },
    Field {
        name: "macs",
        about: "Every MAC address the host reports.",
    },
    Field {
        name: "dns_addresses",
        about: "A and AAAA records of the name.",
    },
    Field {
        name: "cnames",
        about: "The CNAME chain from the name to its canonical name, each hop's target in order.",
    },
    Field {
        name: "ptr",
        about: "Reverse DNS of each address (DNS's and the host's own): address, name, confirmed (the name resolves back to the address).",
    },
    Field {
        name: "dns_error",
        about: "Why DNS gave no answer, when it failed (timeout, refused, …).",
    },
    Field {
        name: "switch_ports",
        about: "Where each interface's MAC is plugged in, as which-switch decides it: interface, mac, switch, port, vlan, role, current, last_seen, vendor, why.",
    },
    Field {
        name: "packages",
        about: "Number of installed packages per package manager (object).",
    },
    Field {
        name: "package_count",
        about: "Total number of installed packages.",
    },
    Field {
        name: "custom_facts",
        about: "Custom facts gathered by scan-hosts from the config's [[fact]] entries (object: name → value).",
    },
    Field {
        name: "first_seen",
        about: "When the host was first scanned (RFC 3339, UTC).",
    },
    Field {
        name: "last_seen",
        about: "When the host was last scanned (RFC 3339, UTC).",
    },
    Field {
        name: "last_scan",
        about: "How the last scan ran: collector and method (scan-hosts local, …).",
    },
    Field {
        name: "last_scan_error",
        about: "What failed in the last scan, if anything did.",
    },
    Field {
        name: "ec2",
        about: "EC2 instances (from sync-ec2) whose Name tag or id is the name, or that have one of its addresses: id, name, state, asg, region, az, type, private_ip, public_ip, current, last_seen, tags.",
    },
    Field {
        name: "last_seen_by",
        about: "When each source last saw the host (object): scan-hosts, switch forwarding tables (its MACs), router ARP/neighbour tables (its addresses), ec2.",
    },
    Field {
        name: "disagreements",
        about: "Where sources disagree: DNS addresses the host does not report, host addresses DNS does not give, PTRs that do not resolve back or name another host, a host not scanned for longer than --stale, DNS pointing at a stopped or terminated instance.",
    },
];

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
        fields: FIELDS,
        text_fields: FIELDS.len(),
        exit_status: QUERY_EXIT_STATUS,
        views: &[],
        environment: &[],
    };

    fn run(self) -> Result<Outcome> {
        let mut printer = Printer::new(&self.output, FIELDS, Self::DOC.text_fields)?;
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
                    r.set("ec2", json!(ec2_json));
                    r.set("ptr", context.ptr(d));
                    r.set("disagreements", context.disagreements(d));
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
                        r.set("switch_ports", ports);
                        let mut seen: serde_json::Map<String, Value> = catalog
                            .host_last_seen_by_source(d.host.id)?
                            .into_iter()
                            .map(|(source, t)| (source, json!(clock::format(t))))
                            .collect();
                        if let Some(t) = ec2.iter().map(|e| e.last_seen).max() {
                            seen.insert("ec2".into(), json!(clock::format(t)));
                        }
                        r.set("last_seen_by", Value::Object(seen));
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
                matches!(
                    e.state.as_deref(),
                    Some("terminated" | "stopped" | "shutting-down")
                )
            }) {
                for ip in [&e.private_ip, &e.public_ip].into_iter().flatten() {
                    if dns.addresses.iter().any(|a| a.to_string() == *ip) {
                        out.push(format!(
                            "DNS gives {ip}, the address of EC2 instance {}, which is {}",
                            e.instance_id,
                            e.state.as_deref().unwrap_or_default()
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
fn card(query: &str, details: Option<&HostDetails>, dns: Option<&AddressAnswer>) -> Record {
    let mut r = Record::new(FIELDS);
    let mut put = |k: &str, v: Value| {
        r.set(k, v);
    };
    put("query", json!(query));
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
    put("host", json!(details.map(|d| &d.host.name)));
    put("fqdn", json!(details.and_then(|d| d.host.fqdn.as_ref())));
    for name in [
        "os",
        "os_id",
        "os_version",
        "kernel",
        "arch",
        "cpu_model",
        "cpu_count",
    ] {
        put(name, fact(name));
    }
    let memory = fact("memory_bytes");
    put(
        "memory",
        memory
            .as_f64()
            .map(|b| json!(format!("{:.1} GiB", b / (1u64 << 30) as f64)))
            .unwrap_or(Value::Null),
    );
    put("memory_bytes", memory);
    let hardware: Vec<String> = ["hw_vendor", "hw_product"]
        .iter()
        .filter_map(|n| fact(n).as_str().map(str::to_string))
        .collect();
    put(
        "hardware",
        if hardware.is_empty() {
            Value::Null
        } else {
            json!(hardware.join(" "))
        },
    );
    put("serial", fact("hw_serial"));
    put("bios_version", fact("bios_version"));
    put("virtualization", fact("virtualization"));
    put("machine_id", fact("machine_id"));
    put(
        "boot_time",
        fact("boot_time")
            .as_i64()
            .map(|t| json!(clock::format(t)))
            .unwrap_or(Value::Null),
    );
    let interfaces = details.map(|d| &d.interfaces[..]).unwrap_or(&[]);
    put(
        "interfaces",
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
        "addresses",
        json!(
            interfaces
                .iter()
                .flat_map(|i| i.addresses.iter().map(address_text))
                .collect::<Vec<_>>()
        ),
    );
    put(
        "macs",
        json!(
            interfaces
                .iter()
                .filter_map(|i| i.mac.clone())
                .collect::<Vec<_>>()
        ),
    );
    put(
        "dns_addresses",
        json!(dns.map(|d| {
            d.addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
        })),
    );
    put("dns_error", json!(dns.and_then(|d| d.error.clone())));
    put("cnames", json!(dns.map(|d| &d.cnames)));
    let counts = details.map(|d| &d.package_counts[..]).unwrap_or(&[]);
    put(
        "packages",
        Value::Object(counts.iter().map(|(m, n)| (m.clone(), json!(n))).collect()),
    );
    put(
        "package_count",
        json!(details.map(|_| counts.iter().map(|(_, n)| n).sum::<i64>())),
    );
    put(
        "custom_facts",
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
        "first_seen",
        json!(details.map(|d| clock::format(d.host.first_seen))),
    );
    put(
        "last_seen",
        json!(details.map(|d| clock::format(d.host.last_seen))),
    );
    let scan = details.and_then(|d| d.last_scan.as_ref());
    put(
        "last_scan",
        json!(scan.map(|s| format!("{} {}", s.collector, s.method))),
    );
    put("last_scan_error", json!(scan.and_then(|s| s.error.clone())));
    r
}

fn address_text(a: &crate::catalog::AddressRow) -> String {
    match a.prefix_len {
        Some(p) => format!("{}/{p}", a.address),
        None => a.address.clone(),
    }
}
