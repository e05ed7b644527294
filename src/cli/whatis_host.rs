//! `whatis-host`: everything known about a host name, joined from DNS and every collector's
//! part of the catalog, with the places where the sources disagree pointed out.

use serde_json::{Map, Value, json};

use crate::clock;
use crate::dns::Resolver;
use crate::error::{Outcome, Result};
use crate::input;
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::host::{Found, HostCard, HostQuery, NameAnswer, valid_name};
use crate::query::whatis;

use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, settings, warn};

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
        // The one runtime, started only when there is DNS to wait on.
        let runtime = resolver.as_ref().map(|_| settings::runtime()).transpose()?;
        let catalog = self.common.open_catalog(&config)?;
        let query = HostQuery::new(&catalog, resolver.as_ref(), stale_before)?;

        let mut outcome = Outcome::Success;
        for batch in names.chunks(BATCH) {
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
            let mut records = Vec::new();
            for answer in super::settings::wait(runtime.as_ref(), query.answer(&valid))? {
                match answer {
                    NameAnswer::Unknown { name, why } => {
                        warn(NAME, format!("{name}: {why}"));
                        outcome = Outcome::NothingFound;
                    }
                    NameAnswer::Found(f) => records.extend(f.cards.iter().map(|c| card(&f, c))),
                }
            }
            printer.print(&records, Shape::Card)?;
        }
        Ok(outcome)
    }
}

/// Names answered per batch (DNS for a batch is asked concurrently).
const BATCH: usize = 2000;

/// The card of one host matching a name (or of a name only DNS or EC2 knows).
fn card(found: &Found, card: &HostCard) -> Record<Row> {
    let mut r = Row::record();
    let d = card.host.as_ref();
    let facts = d.map(|d| d.system.clone()).unwrap_or_default();
    r.set(Row::QUERY, found.name.as_str())
        .set(Row::HOST, d.map(|d| d.host.name.clone()))
        .set(Row::FQDN, d.and_then(|d| d.host.fqdn.clone()))
        .set(Row::OS, facts.os)
        .set(Row::OS_ID, facts.os_id)
        .set(Row::OS_VERSION, facts.os_version)
        .set(Row::KERNEL, facts.kernel)
        .set(Row::ARCH, facts.arch)
        .set(Row::CPU_MODEL, facts.cpu_model)
        .set(Row::CPU_COUNT, facts.cpu_count)
        .set(
            Row::MEMORY,
            facts
                .memory_bytes
                .map(|b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)),
        )
        .set(Row::MEMORY_BYTES, facts.memory_bytes);
    let hardware: Vec<String> = [facts.hw_vendor, facts.hw_product]
        .into_iter()
        .flatten()
        .collect();
    r.set(
        Row::HARDWARE,
        (!hardware.is_empty()).then(|| hardware.join(" ")),
    )
    .set(Row::SERIAL, facts.hw_serial)
    .set(Row::BIOS_VERSION, facts.bios_version)
    .set(Row::VIRTUALIZATION, facts.virtualization.map(|v| v.name()))
    .set(Row::MACHINE_ID, facts.machine_id)
    .set(Row::BOOT_TIME, facts.boot_time.map(clock::format));

    let interfaces = d.map(|d| &d.interfaces[..]).unwrap_or(&[]);
    let addresses = |i: &crate::catalog::InterfaceRow| -> Vec<String> {
        let text = |a: &crate::catalog::AddressRow| match a.prefix_len {
            Some(p) => format!("{}/{p}", a.address),
            None => a.address.to_string(),
        };
        i.addresses.iter().map(text).collect()
    };
    let described = interfaces.iter().map(|i| {
        json!({
            "name": i.name,
            "mac": i.mac.map(|m| m.to_string()),
            "state": i.oper_state,
            "mtu": i.mtu,
            "speed_mbps": i.speed_mbps,
            "addresses": addresses(i),
        })
    });
    r.set(Row::INTERFACES, described.collect::<Vec<_>>())
        .set(
            Row::ADDRESSES,
            interfaces.iter().flat_map(addresses).collect::<Vec<_>>(),
        )
        .set(
            Row::MACS,
            interfaces
                .iter()
                .filter_map(|i| i.mac.map(|m| m.to_string()))
                .collect::<Vec<_>>(),
        );

    let dns = found.dns.as_ref();
    r.set(
        Row::DNS_ADDRESSES,
        dns.map(|d| {
            d.addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        }),
    )
    .set(Row::DNS_ERROR, dns.and_then(|d| d.error.clone()))
    .set(Row::CNAMES, dns.map(|d| d.cnames.clone()));
    let ptr = card.ptr.iter().map(
        |p| json!({"address": p.address.to_string(), "name": p.name, "confirmed": p.confirmed}),
    );
    r.set(Row::PTR, ptr.collect::<Vec<_>>());

    let counts = d.map(|d| &d.package_counts[..]).unwrap_or(&[]);
    let custom = d.map(|d| &d.custom_facts[..]).unwrap_or(&[]);
    r.set(
        Row::PACKAGES,
        Value::Object(counts.iter().map(|(m, n)| (m.clone(), json!(n))).collect()),
    )
    .set(
        Row::PACKAGE_COUNT,
        d.map(|_| counts.iter().map(|(_, n)| n).sum::<i64>()),
    )
    .set(
        Row::CUSTOM_FACTS,
        Value::Object(
            custom
                .iter()
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect(),
        ),
    )
    .set(Row::FIRST_SEEN, d.map(|d| clock::format(d.host.first_seen)))
    .set(Row::LAST_SEEN, d.map(|d| clock::format(d.host.last_seen)));
    let scan = d.and_then(|d| d.last_scan.as_ref());
    r.set(
        Row::LAST_SCAN,
        scan.map(|s| format!("{} {}", s.collector, s.method)),
    )
    .set(Row::LAST_SCAN_ERROR, scan.and_then(|s| s.error.clone()))
    .set(
        Row::EC2,
        found.ec2.iter().map(whatis::ec2_json).collect::<Vec<_>>(),
    )
    .set(
        Row::DISAGREEMENTS,
        card.disagreements
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    );
    if d.is_some() {
        let ports = card.switch_ports.iter().map(|p| p.to_json());
        let seen: Map<String, Value> = card
            .last_seen_by
            .iter()
            .map(|(source, t)| (source.clone(), json!(clock::format(*t))))
            .collect();
        r.set(Row::SWITCH_PORTS, ports.collect::<Vec<_>>())
            .set(Row::LAST_SEEN_BY, Value::Object(seen));
    }
    r
}
