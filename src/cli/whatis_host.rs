//! `whatis-host`: everything known about a host name, from the catalog and from DNS.

use serde_json::{Value, json};

use crate::catalog::HostDetails;
use crate::clock;
use crate::dns::{AddressAnswer, Resolver};
use crate::error::{Outcome, Result};
use crate::input;
use crate::output::{Field, OutputArgs, Printer, Record, Shape};

use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, warn};

const NAME: &str = "whatis-host";

/// Everything known about a host: facts, interfaces and addresses, packages, DNS.
///
/// Looks each NAME up in the catalog by hostname, FQDN or short name (case-insensitively) and
/// asks DNS for its A and AAAA records. Shows one card per matching host: OS, kernel, hardware,
/// every interface with its MAC and addresses, package counts, and when and how it was last
/// scanned. With no NAME, reads names from stdin, one per line.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// Host names (hostname, FQDN or short name); read from stdin when absent or "-"
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

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
        name: "dns_error",
        about: "Why DNS gave no answer, when it failed (timeout, refused, …).",
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
        about: "EC2 instances (from sync-ec2) whose Name tag or id is the name, or that have one of its addresses: id, Name, state, region, availability zone, type, private and public IPv4, Auto Scaling group, whether current, last seen.",
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
        let config = self.common.config()?;
        let resolver = match self.dns.options(&config)? {
            Some(options) => Some(Resolver::new(&options)?),
            None => None,
        };
        let catalog = self.common.open_catalog(&config)?;

        let mut records = Vec::new();
        let mut outcome = Outcome::Success;
        for name in &names {
            let dns = resolver.as_ref().map(|r| r.addresses(name));
            let hosts = catalog.find_hosts(name)?;
            let ec2 = ec2_instances(&catalog, name, &hosts, dns.as_ref())?;
            if hosts.is_empty()
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
            if hosts.is_empty() {
                let mut r = card(name, None, dns.as_ref());
                r.set("ec2", json!(ec2));
                records.push(r);
            }
            for host in hosts {
                let details = catalog.host_details(host)?;
                let mut r = card(name, Some(&details), dns.as_ref());
                r.set("ec2", json!(ec2));
                records.push(r);
            }
        }
        printer.print(&records, Shape::Card)?;
        Ok(outcome)
    }
}

/// The EC2 instances behind a name: by Name tag or id, and by any address DNS or the
/// catalog's hosts give for it; the latest known state of each, current ones first.
fn ec2_instances(
    catalog: &crate::catalog::Catalog,
    name: &str,
    hosts: &[crate::catalog::HostRow],
    dns: Option<&AddressAnswer>,
) -> Result<Vec<Value>> {
    let mut rows = catalog.ec2_instances_by_name(name)?;
    let mut addresses: Vec<String> = dns
        .map(|d| d.addresses.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    for host in hosts {
        for interface in catalog.host_details(host.clone())?.interfaces {
            addresses.extend(interface.addresses.into_iter().map(|a| a.address));
        }
    }
    for a in &addresses {
        rows.extend(catalog.ec2_instances_by_address(a)?);
    }
    rows.sort_by_key(|a| (!a.current, -a.last_seen));
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|r| seen.insert(r.instance_id.clone()))
        .map(|r| {
            json!({
                "id": r.instance_id,
                "name": r.name,
                "state": r.state,
                "region": r.region,
                "az": r.az,
                "type": r.instance_type,
                "private_ip": r.private_ip,
                "public_ip": r.public_ip,
                "asg": r.asg_name,
                "current": r.current,
                "last_seen": clock::format(r.last_seen),
            })
        })
        .collect())
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
