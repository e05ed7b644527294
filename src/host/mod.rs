//! What a host says about itself: a snapshot of its facts, interfaces and packages, and the
//! parsers that turn the files a Linux host exposes (/etc/os-release, /proc/…) into facts.
//!
//! The parsers take text, not paths, so that the same code reads a file locally or the output
//! of `cat` over SSH.

pub mod local;

use serde_json::Value;

use crate::error::Error;
use crate::net::interfaces::Interface;
use crate::packages::{Inventory, Manager};

/// Everything one scan learned about one host.
#[derive(Debug)]
pub struct HostSnapshot {
    /// The hostname as the host reports it; the host's identity in the catalog.
    pub hostname: String,
    /// The canonical name the host resolves itself to, if it differs from the hostname.
    pub fqdn: Option<String>,
    /// System facts, name → JSON value, in a stable order.
    pub facts: Vec<(String, Value)>,
    pub interfaces: Vec<Interface>,
    /// One inventory per package manager that answered.
    pub inventories: Vec<Inventory>,
    /// Package managers that are present but failed: their previous packages are kept.
    pub failed_managers: Vec<(Manager, Error)>,
}

/// The `KEY=value` pairs of an os-release file, unquoted.
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let unquoted = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), unquoted.replace("\\\"", "\"")))
        })
        .collect()
}

/// MemTotal from /proc/meminfo, in bytes.
pub fn parse_mem_total(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix("MemTotal:")?;
        let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib * 1024)
    })
}

/// The CPU model and the number of logical CPUs from /proc/cpuinfo.
pub fn parse_cpuinfo(cpuinfo: &str) -> (Option<String>, usize) {
    let value = |l: &str, key: &str| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    };
    let count = cpuinfo
        .lines()
        .filter(|l| value(l, "processor").is_some())
        .count();
    // x86 says "model name"; many ARM kernels say "Hardware" or only "CPU part"; s390 "machine".
    let model = ["model name", "Hardware", "cpu model", "cpu", "Processor"]
        .iter()
        .find_map(|key| cpuinfo.lines().find_map(|l| value(l, key)))
        .filter(|m| !m.is_empty());
    (model, count)
}

/// The boot time (Unix seconds) from the `btime` line of /proc/stat.
pub fn parse_boot_time(stat: &str) -> Option<i64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
}

/// Whether /proc/cpuinfo's flags say we run under a hypervisor.
pub fn cpuinfo_has_hypervisor_flag(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "hypervisor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_are_unquoted() {
        let text =
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n# c\nVERSION_ID='12'\n";
        let kv = parse_os_release(text);
        assert_eq!(
            kv[0],
            (
                "PRETTY_NAME".into(),
                "Debian GNU/Linux 12 (bookworm)".into()
            )
        );
        assert_eq!(kv[2], ("VERSION_ID".into(), "12".into()));
    }

    #[test]
    fn proc_files_parse() {
        assert_eq!(
            parse_mem_total("MemTotal:       24579084 kB\nMemFree: 1 kB\n"),
            Some(24_579_084 * 1024)
        );
        let (model, n) = parse_cpuinfo(
            "processor\t: 0\nmodel name\t: AMD EPYC\nflags : fpu hypervisor\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n",
        );
        assert_eq!((model.as_deref(), n), (Some("AMD EPYC"), 2));
        assert_eq!(
            parse_boot_time("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
        assert!(cpuinfo_has_hypervisor_flag("flags : fpu hypervisor\n"));
        assert_eq!(parse_mem_total("garbage"), None);
    }
}
