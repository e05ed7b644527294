//! What a host says about itself: a snapshot of its facts, interfaces and packages, and the
//! parsers that turn the files a Linux host exposes (/etc/os-release, /proc/…) into facts.
//!
//! The parsers take text, not paths, so that the same code reads a file locally or the output
//! of `cat` over SSH.

pub mod collector;
pub mod fleet;
pub mod interfaces;
pub mod local;
pub mod remote;
pub mod targets;

use serde_json::Value;

use crate::config::FactConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::host::{SystemFacts, Virtualization};

/// The raw text a Linux host exposes about itself, read from local files or over SSH; turned
/// into facts by [`system_facts`], so that both ways of scanning report the same facts.
#[derive(Debug, Default, Clone)]
pub struct SystemSources {
    pub os_release: Option<String>,
    /// `uname -r`, `uname -v`, `uname -m`.
    pub kernel_release: Option<String>,
    pub kernel_build: Option<String>,
    pub arch: Option<String>,
    pub cpuinfo: Option<String>,
    /// CPUs available, for when /proc/cpuinfo lists none (some ARM kernels, sandboxes).
    pub online_cpus: Option<usize>,
    pub meminfo: Option<String>,
    pub proc_stat: Option<String>,
    /// `/sys/class/dmi/id/<file>` → its trimmed contents, for the files in [`DMI_FILES`].
    pub dmi: Vec<(String, String)>,
    pub machine_id: Option<String>,
    /// Whether a container runtime marker (/.dockerenv, /run/.containerenv) exists.
    pub container: bool,
}

/// The DMI facts, as `(fact name, file under /sys/class/dmi/id/)`: the files to read.
pub const DMI_FILES: [(&str, &str); 5] = [
    ("hw_vendor", "sys_vendor"),
    ("hw_product", "product_name"),
    ("hw_serial", "product_serial"),
    ("board_serial", "board_serial"),
    ("bios_version", "bios_version"),
];

/// The system facts the sources hold.
pub fn system_facts(src: &SystemSources) -> SystemFacts {
    let os = src
        .os_release
        .as_deref()
        .map(parse_os_release)
        .unwrap_or_default();
    let os_field = |k: &str| os.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let cpuinfo = src.cpuinfo.as_deref().unwrap_or_default();
    let (cpu_model, count) = parse_cpuinfo(cpuinfo);
    let dmi = |file: &str| {
        src.dmi
            .iter()
            .find(|(f, v)| f == file && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    SystemFacts {
        os: os_field("PRETTY_NAME").or_else(|| os_field("NAME")),
        os_id: os_field("ID"),
        os_version: os_field("VERSION_ID"),
        kernel: text(&src.kernel_release),
        kernel_build: text(&src.kernel_build),
        arch: text(&src.arch),
        cpu_model,
        cpu_count: if count > 0 {
            Some(count)
        } else {
            src.online_cpus
        }
        .map(|n| n as u64),
        memory_bytes: src.meminfo.as_deref().and_then(parse_mem_total),
        hw_vendor: dmi("sys_vendor"),
        hw_product: dmi("product_name"),
        hw_serial: dmi("product_serial"),
        board_serial: dmi("board_serial"),
        bios_version: dmi("bios_version"),
        boot_time: src.proc_stat.as_deref().and_then(parse_boot_time),
        machine_id: text(&src.machine_id),
        virtualization: if src.container {
            Some(Virtualization::Container)
        } else if cpuinfo_has_hypervisor_flag(cpuinfo) {
            Some(Virtualization::Vm)
        } else {
            None
        },
    }
}

/// A custom fact's value from its command's output: the trimmed text, or with `format = "json"`
/// the parsed JSON.
pub fn custom_fact_value(fact: &FactConfig, stdout: &str) -> Result<Value> {
    match fact.format.as_deref().unwrap_or("text") {
        "text" => Ok(Value::from(stdout.trim())),
        "json" => serde_json::from_str(stdout)
            .map_err(|e| Error::with_source(ErrorKind::Source, "output is not JSON", e)),
        other => Err(Error::new(
            ErrorKind::Config,
            format!(
                "fact {:?}: unknown format {other:?} (text or json)",
                fact.name
            ),
        )),
    }
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
        kib.checked_mul(1024)
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
        // A host may claim any number; one past what bytes can count is unknown, not a panic
        // (or, in a release build, a wrapped-around size).
        assert_eq!(parse_mem_total("MemTotal: 18014398509481984 kB\n"), None);
    }
}
