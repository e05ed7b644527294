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

use serde_json::{Value, json};

use crate::config::FactConfig;
use crate::error::{Error, ErrorKind, Result};

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

/// The DMI facts, as `(fact name, file under /sys/class/dmi/id/)`.
pub const DMI_FILES: [(&str, &str); 5] = [
    ("hw_vendor", "sys_vendor"),
    ("hw_product", "product_name"),
    ("hw_serial", "product_serial"),
    ("board_serial", "board_serial"),
    ("bios_version", "bios_version"),
];

/// The system facts, in the order whatis-host shows them.
pub fn system_facts(src: &SystemSources) -> Vec<(String, Value)> {
    let mut facts: Vec<(String, Value)> = Vec::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(v) = value {
            facts.push((name.to_string(), v));
        }
    };
    let os = src
        .os_release
        .as_deref()
        .map(parse_os_release)
        .unwrap_or_default();
    let os_field = |k: &str| os.iter().find(|(key, _)| key == k).map(|(_, v)| json!(v));
    put("os", os_field("PRETTY_NAME").or_else(|| os_field("NAME")));
    put("os_id", os_field("ID"));
    put("os_version", os_field("VERSION_ID"));
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Value::from)
    };
    put("kernel", text(&src.kernel_release));
    put("kernel_build", text(&src.kernel_build));
    put("arch", text(&src.arch));
    let cpuinfo = src.cpuinfo.as_deref().unwrap_or_default();
    let (model, count) = parse_cpuinfo(cpuinfo);
    put("cpu_model", model.map(Value::from));
    let count = if count > 0 {
        Some(count)
    } else {
        src.online_cpus
    };
    put("cpu_count", count.map(Value::from));
    put(
        "memory_bytes",
        src.meminfo
            .as_deref()
            .and_then(parse_mem_total)
            .map(Value::from),
    );
    for (fact, file) in DMI_FILES {
        put(
            fact,
            src.dmi
                .iter()
                .find(|(f, v)| f == file && !v.is_empty())
                .map(|(_, v)| Value::from(v.as_str())),
        );
    }
    put(
        "boot_time",
        src.proc_stat
            .as_deref()
            .and_then(parse_boot_time)
            .map(Value::from),
    );
    put("machine_id", text(&src.machine_id));
    let virt = if src.container {
        Some("container")
    } else if cpuinfo_has_hypervisor_flag(cpuinfo) {
        Some("vm")
    } else {
        None
    };
    put("virtualization", virt.map(Value::from));
    facts
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
