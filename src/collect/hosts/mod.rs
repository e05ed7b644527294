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

    fn sources() -> SystemSources {
        SystemSources {
            os_release: Some("NAME=\"Rocky Linux\"\nID=rocky\nVERSION_ID=\"9.4\"\n".into()),
            kernel_release: Some(" 6.1.0-18-amd64\n".into()),
            kernel_build: Some("#1 SMP Debian 6.1.76-1\n".into()),
            arch: Some("x86_64\n".into()),
            cpuinfo: Some("processor\t: 0\nmodel name\t: Xeon\nflags\t: fpu\n".into()),
            online_cpus: Some(8),
            meminfo: Some("MemTotal: 2048 kB\n".into()),
            proc_stat: Some("cpu 1\nbtime 1700000001\n".into()),
            dmi: vec![
                ("sys_vendor".into(), "QEMU".into()),
                ("product_name".into(), "Standard PC".into()),
                ("product_serial".into(), String::new()),
                ("board_serial".into(), "B-1".into()),
                ("bios_version".into(), "1.16".into()),
            ],
            machine_id: Some("  \n".into()),
            container: false,
        }
    }

    #[test]
    fn system_facts_from_every_source() {
        let f = system_facts(&sources());
        assert_eq!(
            f,
            SystemFacts {
                // No PRETTY_NAME: NAME stands in.
                os: Some("Rocky Linux".into()),
                os_id: Some("rocky".into()),
                os_version: Some("9.4".into()),
                kernel: Some("6.1.0-18-amd64".into()),
                kernel_build: Some("#1 SMP Debian 6.1.76-1".into()),
                arch: Some("x86_64".into()),
                cpu_model: Some("Xeon".into()),
                // cpuinfo's count wins over the online CPUs when it has one.
                cpu_count: Some(1),
                memory_bytes: Some(2048 * 1024),
                hw_vendor: Some("QEMU".into()),
                hw_product: Some("Standard PC".into()),
                // An empty DMI file says nothing; a blank machine-id neither.
                hw_serial: None,
                board_serial: Some("B-1".into()),
                bios_version: Some("1.16".into()),
                boot_time: Some(1_700_000_001),
                machine_id: None,
                virtualization: None,
            }
        );
        let pretty = SystemSources {
            os_release: Some("NAME=Debian\nPRETTY_NAME=\"Debian 12\"\n".into()),
            ..sources()
        };
        assert_eq!(system_facts(&pretty).os.as_deref(), Some("Debian 12"));
    }

    #[test]
    fn system_facts_fallbacks_and_virtualization() {
        // No processor lines (some ARM kernels): the online CPU count stands in.
        let arm = SystemSources {
            cpuinfo: Some("Hardware\t: BCM2835\nflags : hypervisor\n".into()),
            ..sources()
        };
        let f = system_facts(&arm);
        assert_eq!(f.cpu_count, Some(8));
        assert_eq!(f.cpu_model.as_deref(), Some("BCM2835"));
        assert_eq!(f.virtualization, Some(Virtualization::Vm));
        // A container marker wins over the hypervisor flag: the container is what runs it.
        let boxed = SystemSources {
            container: true,
            ..arm
        };
        assert_eq!(
            system_facts(&boxed).virtualization,
            Some(Virtualization::Container)
        );
        let bare = SystemSources {
            cpuinfo: None,
            online_cpus: None,
            ..sources()
        };
        let f = system_facts(&bare);
        assert_eq!((f.cpu_count, f.cpu_model), (None, None));
        assert_eq!(
            system_facts(&SystemSources::default()),
            SystemFacts::default()
        );
    }

    #[test]
    fn custom_fact_values_by_format() {
        let fact = |format: Option<&str>| FactConfig {
            name: "rack".into(),
            command: vec!["cat".into()],
            format: format.map(str::to_string),
        };
        assert_eq!(
            custom_fact_value(&fact(None), "  r12 \n").unwrap(),
            Value::from("r12")
        );
        assert_eq!(
            custom_fact_value(&fact(Some("text")), "{\"a\": 1}\n").unwrap(),
            Value::from("{\"a\": 1}")
        );
        assert_eq!(
            custom_fact_value(&fact(Some("json")), "{\"a\": [1, 2]}\n").unwrap(),
            serde_json::json!({"a": [1, 2]})
        );
        let err = custom_fact_value(&fact(Some("json")), "r12").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Source, "{err}");
        let err = custom_fact_value(&fact(Some("yaml")), "a: 1").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains("\"rack\""), "{err}");
        assert!(err.to_string().contains("\"yaml\""), "{err}");
    }

    #[test]
    fn os_release_comments_blanks_and_escapes() {
        let kv = parse_os_release(
            "  # NAME=commented\n\nNAME = \"Say \\\"hi\\\"\"\nVERSION_CODENAME=\nID='alpine'\nBAD\"quote=\"x\n",
        );
        assert_eq!(
            kv,
            [
                ("NAME".to_string(), "Say \"hi\"".to_string()),
                ("VERSION_CODENAME".to_string(), String::new()),
                ("ID".to_string(), "alpine".to_string()),
                ("BAD\"quote".to_string(), "\"x".to_string()),
            ]
        );
    }

    #[test]
    fn cpuinfo_models_by_architecture_and_flags() {
        assert_eq!(
            parse_cpuinfo("processor : 0\ncpu model : R4000\n"),
            (Some("R4000".to_string()), 1)
        );
        assert_eq!(
            parse_cpuinfo("cpu : POWER9\nprocessor : 0\nprocessor : 1\nprocessor : 2\n"),
            (Some("POWER9".to_string()), 3)
        );
        // An empty model is no model; a line that merely mentions "processor" is no CPU.
        assert_eq!(parse_cpuinfo("model name :\nprocessors : 4\n"), (None, 0));
        assert!(!cpuinfo_has_hypervisor_flag("flags : fpu vme\n"));
        assert!(!cpuinfo_has_hypervisor_flag(
            "bugs : hypervisor_x\nflags : fpu\n"
        ));
        assert!(!cpuinfo_has_hypervisor_flag("model : hypervisor\n"));
        assert_eq!(parse_boot_time("btime x\n"), None);
        assert_eq!(parse_mem_total("MemTotal: 7 kB\n"), Some(7168));
    }
}
