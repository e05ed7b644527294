//! What one scan learned about one host: its facts, interfaces, packages and custom facts.

use std::net::IpAddr;

use serde_json::Value;

use crate::error::Error;

use super::Mac;
use super::package::{Inventory, Manager};

/// Everything one scan learned about one host.
#[derive(Debug)]
pub struct HostSnapshot {
    /// The hostname as the host reports it; the host's identity in the catalog.
    pub hostname: String,
    /// The canonical name the host resolves itself to, if it differs from the hostname.
    pub fqdn: Option<String>,
    /// What the host's own files say about its system.
    pub facts: SystemFacts,
    /// Custom facts (the config's `[[fact]]`s) that were gathered.
    pub custom_facts: Vec<(String, Value)>,
    /// Custom facts whose command failed: their previous values are kept.
    pub failed_facts: Vec<(String, Error)>,
    pub interfaces: Vec<Interface>,
    /// One inventory per package manager that answered.
    pub inventories: Vec<Inventory>,
    /// Package managers that are present but failed: their previous packages are kept.
    pub failed_managers: Vec<(Manager, Error)>,
    /// The SSH host key the host showed (`SHA256:…`), when it was scanned over SSH: with its
    /// machine id, what tells this machine from another that reports the same hostname.
    pub host_key: Option<String>,
    /// What was read from the host's audit log, when the scan reads it.
    pub audit: Option<super::audit::AuditRead>,
}

/// What a host's files say about its system (/etc/os-release, uname, /proc, DMI); each fact
/// is absent when the host did not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemFacts {
    /// os-release PRETTY_NAME, else NAME.
    pub os: Option<String>,
    pub os_id: Option<String>,
    pub os_version: Option<String>,
    /// `uname -r`, `uname -v`, `uname -m`.
    pub kernel: Option<String>,
    pub kernel_build: Option<String>,
    pub arch: Option<String>,
    pub cpu_model: Option<String>,
    pub cpu_count: Option<u64>,
    pub memory_bytes: Option<u64>,
    /// DMI system vendor, product name and serial, board serial, BIOS version.
    pub hw_vendor: Option<String>,
    pub hw_product: Option<String>,
    pub hw_serial: Option<String>,
    pub board_serial: Option<String>,
    pub bios_version: Option<String>,
    /// Unix time the host booted.
    pub boot_time: Option<i64>,
    pub machine_id: Option<String>,
    pub virtualization: Option<Virtualization>,
}

/// What a host runs on, when it is not bare metal (or that is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Virtualization {
    Vm,
    Container,
}

impl Virtualization {
    pub fn name(self) -> &'static str {
        match self {
            Virtualization::Vm => "vm",
            Virtualization::Container => "container",
        }
    }

    pub fn from_name(name: &str) -> Option<Virtualization> {
        match name {
            "vm" => Some(Virtualization::Vm),
            "container" => Some(Virtualization::Container),
            _ => None,
        }
    }
}

impl SystemFacts {
    /// The facts the host gave, as (name, JSON value) pairs in the catalog's stable order: the
    /// names and values the catalog stores, one row each.
    pub fn entries(&self) -> Vec<(&'static str, Value)> {
        let text = |v: &Option<String>| v.as_deref().map(Value::from);
        [
            ("os", text(&self.os)),
            ("os_id", text(&self.os_id)),
            ("os_version", text(&self.os_version)),
            ("kernel", text(&self.kernel)),
            ("kernel_build", text(&self.kernel_build)),
            ("arch", text(&self.arch)),
            ("cpu_model", text(&self.cpu_model)),
            ("cpu_count", self.cpu_count.map(Value::from)),
            ("memory_bytes", self.memory_bytes.map(Value::from)),
            ("hw_vendor", text(&self.hw_vendor)),
            ("hw_product", text(&self.hw_product)),
            ("hw_serial", text(&self.hw_serial)),
            ("board_serial", text(&self.board_serial)),
            ("bios_version", text(&self.bios_version)),
            ("boot_time", self.boot_time.map(Value::from)),
            ("machine_id", text(&self.machine_id)),
            (
                "virtualization",
                self.virtualization.map(|v| Value::from(v.name())),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
    }

    /// The facts back from stored (name, JSON value) pairs; the first value of a name wins, and
    /// a value of the wrong type or an unknown name is no fact.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Self {
        let mut f = SystemFacts::default();
        for (name, value) in entries {
            let text = || value.as_str().map(str::to_string);
            let slot_text = match name {
                "os" => &mut f.os,
                "os_id" => &mut f.os_id,
                "os_version" => &mut f.os_version,
                "kernel" => &mut f.kernel,
                "kernel_build" => &mut f.kernel_build,
                "arch" => &mut f.arch,
                "cpu_model" => &mut f.cpu_model,
                "hw_vendor" => &mut f.hw_vendor,
                "hw_product" => &mut f.hw_product,
                "hw_serial" => &mut f.hw_serial,
                "board_serial" => &mut f.board_serial,
                "bios_version" => &mut f.bios_version,
                "machine_id" => &mut f.machine_id,
                "cpu_count" => {
                    f.cpu_count = f.cpu_count.or(value.as_u64());
                    continue;
                }
                "memory_bytes" => {
                    f.memory_bytes = f.memory_bytes.or(value.as_u64());
                    continue;
                }
                "boot_time" => {
                    f.boot_time = f.boot_time.or(value.as_i64());
                    continue;
                }
                "virtualization" => {
                    f.virtualization = f
                        .virtualization
                        .or_else(|| Virtualization::from_name(value.as_str()?));
                    continue;
                }
                _ => continue,
            };
            if slot_text.is_none() {
                *slot_text = text();
            }
        }
        f
    }
}

/// An interface and everything the kernel says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub mac: Option<Mac>,
    pub mtu: Option<i64>,
    /// `up`, `down`, `unknown`, … as /sys/class/net/*/operstate says.
    pub oper_state: Option<String>,
    pub speed_mbps: Option<i64>,
    pub addresses: Vec<Address>,
}

/// An address on an interface, with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub ip: IpAddr,
    pub prefix_len: Option<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_back_as_they_are_stored() {
        let facts = SystemFacts {
            os: Some("Debian GNU/Linux 12 (bookworm)".into()),
            arch: Some("x86_64".into()),
            cpu_count: Some(4),
            memory_bytes: Some(1 << 33),
            boot_time: Some(1_700_000_000),
            virtualization: Some(Virtualization::Vm),
            ..SystemFacts::default()
        };
        let entries = facts.entries();
        let names: Vec<&str> = entries.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "os",
                "arch",
                "cpu_count",
                "memory_bytes",
                "boot_time",
                "virtualization"
            ]
        );
        let back = SystemFacts::from_entries(entries.iter().map(|(n, v)| (*n, v)));
        assert_eq!(back, facts);
    }
}
