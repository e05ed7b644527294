//! The fuzz targets' entry points: one function per target, each feeding one input to a group
//! of parsers that read what a peer (a host over SSH, a switch over SNMP) or a user (config
//! files, flags) sends, and checking what must hold whatever the input.
//!
//! The functions live here, not in the targets, so that the committed corpus is replayed
//! through exactly the same code by an ordinary test (`tests/it/fuzz_corpus.rs` includes this
//! file): every `cargo test` re-checks every input the fuzzer ever kept, without libFuzzer.
//!
//! Where a target groups several parsers, the first byte of the input picks one; the rest is
//! the text (lossy UTF-8, as the collectors read what peers print). Every function must return
//! normally for any input: a panic, an endless loop or a failed check here is a bug to fix.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

use opskit::collect::hosts::remote::{self, ScriptOptions};
use opskit::collect::hosts::{self, SystemSources};
use opskit::collect::packages::{self, report};
use opskit::config::{self, FactConfig};
use opskit::model::Manager;
use opskit::model::version::{self, Constraint};
use opskit::net::subnets::Subnets;
use opskit::query::expect;
use opskit::query::facts::order;
use opskit::query::facts::path::Path as FactPath;
use opskit::query::facts::term::Term;

/// A target's entry point: one input, checked.
pub type Entry = fn(&[u8]);

/// The targets, by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/` name them.
pub const TARGETS: [(&str, Entry); 7] = [
    ("audit_logs", audit_logs),
    ("scan_output", scan_output),
    ("packages", packages),
    ("known_hosts", known_hosts),
    ("versions", versions),
    ("config_files", config_files),
    ("snmp_values", snmp_values),
];

/// The first byte (the parser to use) and the rest as text.
fn split(data: &[u8]) -> (u8, String) {
    match data.split_first() {
        Some((&selector, rest)) => (selector, String::from_utf8_lossy(rest).into_owned()),
        None => (0, String::new()),
    }
}

/// The section marker the scan output uses in the corpus (a real scan uses a random one).
pub const MARKER: &str = "OPSKIT-x";

/// What a host prints back to scan-hosts: the whole scan script's output (files, /proc lines,
/// `ip -o addr`, four package managers' listings with their exit statuses, custom facts in
/// text and JSON), the old-dpkg file list times, and the /proc and os-release parsers alone.
pub fn scan_output(data: &[u8]) {
    let (selector, text) = split(data);
    let facts = vec![
        FactConfig {
            name: "text".into(),
            command: vec!["true".into()],
            format: None,
        },
        FactConfig {
            name: "json".into(),
            command: vec!["true".into()],
            format: Some("json".into()),
        },
    ];
    match selector % 4 {
        0 => {
            let options = ScriptOptions {
                packages: true,
                facts,
                audit: None,
            };
            if let Ok(mut snapshot) = remote::parse(MARKER, &text, &options) {
                // The same output read again as the old-dpkg times, so both halves see it.
                remote::add_dpkg_times(&mut snapshot, &text);
            }
        }
        1 => {
            let fixed = format!(
                "\n{MARKER} files\n/proc/sys/kernel/hostname:h\n\
                 \n{MARKER} pkg.dpkg\nii \tbash\t5.2-1\tamd64\tbash\t\n\
                 \n{MARKER} pkg.dpkg.status\n0\n\n\n{MARKER} end\n"
            );
            let mut snapshot = remote::parse(MARKER, &fixed, &ScriptOptions::default())
                .expect("the fixed scan output parses");
            remote::add_dpkg_times(&mut snapshot, &text);
        }
        2 => {
            let sources = SystemSources {
                os_release: Some(text.clone()),
                kernel_release: Some(text.clone()),
                kernel_build: Some(text.clone()),
                arch: Some(text.clone()),
                cpuinfo: Some(text.clone()),
                online_cpus: None,
                meminfo: Some(text.clone()),
                proc_stat: Some(text.clone()),
                dmi: Vec::new(),
                machine_id: Some(text.clone()),
                container: false,
            };
            hosts::system_facts(&sources);
            hosts::parse_os_release(&text);
            hosts::parse_mem_total(&text);
            hosts::parse_cpuinfo(&text);
            hosts::parse_boot_time(&text);
            hosts::cpuinfo_has_hypervisor_flag(&text);
        }
        _ => {
            for fact in &facts {
                let _ = hosts::custom_fact_value(fact, &text);
            }
        }
    }
}

/// What package managers print (dpkg-query, rpm, apk, pacman), as a scan reads it, and the
/// pre-made reports (`/var/log/rpmpkgs`, a copy of dpkg's status file).
pub fn packages(data: &[u8]) {
    let (selector, text) = split(data);
    match selector % 6 {
        n @ 0..=3 => {
            let manager = Manager::ALL[usize::from(n)];
            let _ = packages::parse(manager, &text);
            let _ = packages::inventory_from_output(manager, None, &text, "");
            let _ = packages::inventory_from_output(manager, Some("exit 1".into()), "", &text);
        }
        4 => {
            let _ = report::parse(report::ReportFormat::RpmPkgs, &text);
        }
        _ => {
            let _ = report::parse(report::ReportFormat::DpkgStatus, &text);
            for line in text.lines() {
                packages::split_dpkg_version(line);
                packages::split_name_version_release(line);
            }
        }
    }
}

/// A `known_hosts` file as the user (or a previous `--accept-new`) wrote it, looked up for a
/// host: the first line is the host name (the first byte picks port 22 or another), the rest
/// is the file.
pub fn known_hosts(data: &[u8]) {
    let (selector, text) = split(data);
    let (host, file) = text.split_once('\n').unwrap_or((&text, ""));
    let port = if selector % 2 == 0 { 22 } else { 2224 };
    // The parser reads a file; one per process, rewritten for every input.
    let path = std::env::temp_dir().join(format!("opskit-fuzz-known_hosts.{}", std::process::id()));
    std::fs::write(&path, file).expect("write the known_hosts file");
    if let Ok(known) = opskit::ssh::KnownHosts::load(&path, selector & 2 != 0) {
        known.host_key_preferences(host, port);
    }
    let _ = std::fs::remove_file(&path);
}

/// Version strings and constraints: three versions (lines) compared by every package
/// manager's order and by host-where's fact order, which must be total orders (a sort given
/// anything less panics); the first line as a constraint, which must print back to itself and
/// judge all three; and as a host-where term and fact path.
pub fn versions(data: &[u8]) {
    let (_, text) = split(data);
    let mut lines = text.splitn(3, '\n');
    let v = [(); 3].map(|_| lines.next().unwrap_or_default());
    for manager in Manager::ALL {
        check_total(
            &format!("{manager}"),
            |a, b| version::compare(manager, a, b),
            v,
        );
    }
    check_total("host-where", order::sort_cmp, v);
    if let Ok(c) = Constraint::parse(v[0]) {
        let again = Constraint::parse(&c.to_string())
            .unwrap_or_else(|e| panic!("{c} (from {:?}) does not parse back: {e}", v[0]));
        assert_eq!(again, c, "{:?} prints as {c}", v[0]);
        for manager in Manager::ALL {
            for installed in &v {
                c.verdict(manager, installed);
            }
        }
    }
    let _ = Term::parse(1, v[0]);
    let _ = FactPath::parse(v[0]);
}

/// Fails unless `cmp` is consistent with equality, antisymmetric and transitive on `v`.
fn check_total(name: &str, cmp: impl Fn(&str, &str) -> Ordering, v: [&str; 3]) {
    for a in v {
        assert_eq!(cmp(a, a), Ordering::Equal, "{name}: {a:?} vs itself");
        for b in v {
            assert_eq!(cmp(a, b), cmp(b, a).reverse(), "{name}: {a:?} vs {b:?}");
            for c in v {
                let (ab, bc, ac) = (cmp(a, b), cmp(b, c), cmp(a, c));
                if ab != Ordering::Greater && bc != Ordering::Greater {
                    assert_ne!(ac, Ordering::Greater, "{name}: {a:?} <= {b:?} <= {c:?}");
                }
                if ab == Ordering::Equal && bc == Ordering::Equal {
                    assert_eq!(ac, Ordering::Equal, "{name}: {a:?} = {b:?} = {c:?}");
                }
            }
        }
    }
}

/// Files a user writes: the config (TOML, with groups expanded as the tools expand them), the
/// subnets file as CSV, as TOML and sniffed, and the expectations file.
pub fn config_files(data: &[u8]) {
    let (selector, text) = split(data);
    match selector % 5 {
        0 => {
            for mode in [0o600, 0o644] {
                if let Ok(config) = config::parse(&text, Path::new("config.toml"), mode) {
                    for group in config.groups.keys() {
                        let _ = config.group_members(group);
                    }
                }
            }
        }
        1 => {
            let _ = Subnets::parse(&text, Path::new("subnets.csv"));
        }
        2 => {
            let _ = Subnets::parse(&text, Path::new("subnets.toml"));
        }
        3 => {
            if let Ok(subnets) = Subnets::parse(&text, Path::new("subnets")) {
                for s in subnets.iter() {
                    subnets.containing(s.prefix.addr());
                    subnets.overlapping(s.prefix);
                }
            }
        }
        _ => {
            let groups = BTreeMap::from([("web".to_string(), vec!["web-*".to_string()])]);
            if let Ok(expectations) = expect::parse(&text, Path::new("expected.toml"), &groups) {
                for e in &expectations {
                    e.covers("web-1", &Manager::ALL);
                    for manager in Manager::ALL {
                        e.judge(manager, Some("1.0-1"));
                        e.judge(manager, None);
                    }
                }
            }
        }
    }
}

/// What a switch answers: an SNMP value of any type (the first byte picks it) turned into the
/// strings and numbers the crawler stores: text, printable text or hex, integers, MACs from
/// octet strings and from index arcs, LLDP chassis and port ids of every subtype.
pub fn snmp_values(data: &[u8]) {
    use async_snmp::Value;
    let (&selector, rest) = data.split_first().unwrap_or((&0, &[]));
    let word = |n: usize| {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(rest.iter().skip(n * 8)) {
            *d = *s;
        }
        u64::from_le_bytes(b)
    };
    let value = match selector % 8 {
        0 | 1 => Value::OctetString(rest.to_vec().into()),
        2 => Value::Integer(word(0) as i32),
        3 => Value::Counter32(word(0) as u32),
        4 => Value::Counter64(word(0)),
        5 => Value::TimeTicks(word(0) as u32),
        6 => Value::Null,
        _ => Value::Opaque(rest.to_vec().into()),
    };
    opskit::snmp::text(&value);
    opskit::snmp::int(&value);
    opskit::snmp::bytes(&value);
    opskit::collect::switches::crawl::printable(&value);
    for subtype in [
        None,
        Some(3),
        Some(4),
        Some(5),
        Some(7),
        Some(i64::from(selector)),
    ] {
        for mac_subtype in [3, 4] {
            opskit::collect::switches::crawl::lldp_id(subtype, &value, mac_subtype);
        }
    }
    opskit::collect::switches::crawl::mac_from_bytes(rest);
    let arcs: Vec<u32> = rest
        .chunks(4)
        .map(|c| c.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)))
        .collect();
    opskit::collect::switches::crawl::mac_from_arcs(&arcs);
}

/// `audit_logs`: an audit log as `who-did --input` reads it (0), as the scan's read script
/// prints it, from the start (1) or resumed from a checkpoint (2), an auth-log line (3) and a
/// journal entry (4). Checks: every event's text is bounded, a read's checkpoint never points
/// past what was read, and a log is grouped into no more events than it has records.
pub fn audit_logs(data: &[u8]) {
    use opskit::collect::audit::{self as audit, authlog, logread};
    use opskit::model::audit::{Checkpoint, RAW_LIMIT, WHAT_LIMIT};
    let (&selector, rest) = data.split_first().unwrap_or((&0, &[]));
    let bounded = |e: &opskit::model::audit::Event| {
        assert!(e.raw.len() <= RAW_LIMIT + 4, "raw {}", e.raw.len());
        assert!(e.what.as_ref().is_none_or(|w| w.len() <= WHAT_LIMIT + 4));
    };
    match selector % 5 {
        0 => {
            let mut n = 0u64;
            let stats = audit::read_all(
                &mut std::io::Cursor::new(rest),
                audit::Names::from_passwd("root:x:0:0::/:/bin/sh\n"),
                &mut |e| {
                    bounded(&e);
                    n += 1;
                },
            )
            .unwrap();
            assert_eq!(n, stats.events);
            assert!(stats.events <= stats.records);
        }
        1 | 2 => {
            let marker = "OPSKIT-f";
            let mut out = format!(
                "\n{marker} now\n1796230800\n{marker} zone\n+0000\n{marker} source audit /l\n\
                 {marker} stat 1 2 {len}\n{marker} file 1 2 {len} 0\n",
                len = rest.len()
            )
            .into_bytes();
            out.extend_from_slice(rest);
            out.extend_from_slice(format!("\n{marker} end\n").as_bytes());
            let checkpoint = (selector % 5 == 2).then(|| Checkpoint {
                device: 1,
                inode: 2,
                offset: (rest.len() / 2) as u64,
                tail: rest[..rest.len() / 2]
                    .iter()
                    .rev()
                    .take(64)
                    .rev()
                    .copied()
                    .collect(),
                ..Checkpoint::default()
            });
            let options = logread::ReadOptions {
                log: "/l".into(),
                checkpoint,
                max_bytes: 1 << 20,
            };
            if let logread::Parsed::Read(read) = logread::parse(marker, &out, &options) {
                read.events.iter().for_each(bounded);
                if let Some(c) = &read.checkpoint {
                    assert!(
                        c.offset <= rest.len() as u64,
                        "{} > {}",
                        c.offset,
                        rest.len()
                    );
                }
            }
        }
        3 => {
            let clock = authlog::HostClock {
                now: 1_796_230_800,
                offset: i64::from(rest.first().copied().unwrap_or(0)) * 900 - 43_200,
            };
            if let Some(e) = authlog::parse_line(rest, clock) {
                bounded(&e);
            }
        }
        _ => {
            if let Some((_, Some(e))) = authlog::parse_journal(rest) {
                bounded(&e);
            }
        }
    }
}
