//! Scanning a host through one remote shell: a fixed POSIX `sh` script that prints everything
//! `scan-hosts` gathers in marked sections, and the parser that turns its output into a
//! [`HostSnapshot`].
//!
//! One script per host means one SSH channel and one round trip, which is most of why a fleet
//! scan is fast. The script is fixed text: the only things put into it are a random section
//! marker and the configured custom-fact commands, each argument single-quoted so the remote
//! shell passes it through as one word and never interprets it. It runs under `sh -s` with the
//! script on stdin, so it works whatever the user's login shell is.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::collect::packages;
use crate::config::FactConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::Mac;
use crate::model::Manager;
use crate::model::host::{Address, Interface};

use super::{DMI_FILES, SystemSources};
use crate::model::host::HostSnapshot;

/// The remote command that runs the script read from stdin: the login shell execs `sh` itself,
/// with no `env` in between; the script sets `LC_ALL` (see [`SCRIPT_PROLOGUE`]).
pub const REMOTE_COMMAND: &str = "sh -s";

/// The first line of every script: `LC_ALL=C` keeps the package managers' output in the form
/// the parsers read.
const SCRIPT_PROLOGUE: &str = "LC_ALL=C; export LC_ALL\n";

/// A fresh section marker: long and random enough that no file or command output contains it.
pub fn new_marker() -> String {
    let mut bytes = [0u8; 12];
    // /dev/urandom is always there on Linux; the clock is a fallback that is still unique enough
    // per run, since the marker only has to differ from the text it delimits.
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_err()
    {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("OPSKIT-{hex}")
}

/// Quotes one word for a POSIX shell: inside single quotes nothing is special, and a single quote
/// itself is written as `'\''`.
pub fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// What the script should gather besides the system facts and interfaces.
#[derive(Debug, Clone, Default)]
pub struct ScriptOptions {
    /// Run the package managers (false when a pre-made package report is read instead).
    pub packages: bool,
    /// Custom facts to gather.
    pub facts: Vec<FactConfig>,
    /// How to read the audit log, in a second command on the same connection.
    pub audit: Option<crate::collect::audit::logread::AuditOptions>,
}

/// Files read whole (small ones), by one `grep -H ''` so that the whole system part of the scan
/// costs a handful of processes: on a loaded host (or fifty hosts on one machine) forks, not
/// reading, dominate. Globs are expanded by the remote shell.
const WHOLE_FILES: &[&str] = &[
    "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/osrelease",
    "/proc/sys/kernel/version",
    // `uname -m` without a process, on Linux 6.1 and later (older kernels: uname runs).
    "/proc/sys/kernel/arch",
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/machine-id",
    "/sys/devices/system/cpu/online",
    "/sys/class/net/*/address",
    "/sys/class/net/*/mtu",
    "/sys/class/net/*/operstate",
    "/sys/class/net/*/speed",
];

/// The lines wanted from the big /proc files: the CPU model, count and flags, total memory and
/// the boot time (/proc/stat's per-CPU and interrupt lines can run to megabytes).
const PROC_LINES: &str = "^(processor|model name|Hardware|cpu model|cpu|Processor|flags)[[:space:]]*:|^MemTotal:|^btime ";

/// The script for one host.
///
/// The FQDN is what `hostname -f` resolves through the host's own name service, DNS included
/// unless /etc/hosts names the host. glibc waits 5 s before it resends a lost query; resolvers
/// drop queries under bursts (50 hosts asking one resolver at once lose about half), and a
/// fleet scan waits for its slowest host, so a query is resent after 1 s instead
/// (`RES_OPTIONS`, which the host's own options can still override): the same answer, sooner.
pub fn script(marker: &str, options: &ScriptOptions) -> String {
    let mut s = String::with_capacity(4096);
    s.push_str(SCRIPT_PROLOGUE);
    let mut whole: Vec<String> = WHOLE_FILES.iter().map(|f| f.to_string()).collect();
    whole.extend(
        DMI_FILES
            .iter()
            .map(|(_, f)| format!("/sys/class/dmi/id/{f}")),
    );
    s.push_str(&format!(
        r#"m={marker}
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; export PATH
s() {{ printf '\n%s %s\n' "$m" "$1"; }}
run() {{ n=$1; shift; s "$n"; {{ e=$("$@" 2>&1 1>&3 3>&-); c=$?; }} 3>&1; s "$n.status"; printf '%s\n%s\n' "$c" "$e"; }}
has() {{ command -v "$1" >/dev/null 2>&1; }}
s files; grep -H '' {whole} 2>/dev/null
s proc; grep -H -E '{PROC_LINES}' /proc/cpuinfo /proc/meminfo /proc/stat 2>/dev/null
s fqdn; RES_OPTIONS="timeout:1 attempts:2 ${{RES_OPTIONS:-}}" hostname -f 2>/dev/null
if [ ! -e /proc/sys/kernel/arch ]; then s arch; uname -m; fi
s container; if [ -e /.dockerenv ] || [ -e /run/.containerenv ]; then echo yes; fi
s addresses; ip -o addr show 2>/dev/null
"#,
        whole = whole.join(" ")
    ));
    if options.packages {
        for manager in Manager::ALL {
            let (program, args) = manager.query_command();
            let words: Vec<String> = std::iter::once(program)
                .chain(args.iter().copied())
                .map(sh_quote)
                .collect();
            // `[ -e … ]` is a shell builtin: a manager without a database costs no process.
            let database = manager
                .database_paths()
                .map(|paths| {
                    let tests: Vec<String> = paths
                        .iter()
                        .map(|p| format!("[ -e {} ]", sh_quote(p)))
                        .collect();
                    format!(" && {{ {}; }}", tests.join(" || "))
                })
                .unwrap_or_default();
            s.push_str(&format!(
                "if has {program}{database}; then run pkg.{name} {cmd}; fi\n",
                name = manager.name(),
                cmd = words.join(" ")
            ));
        }
    }
    for (i, fact) in options.facts.iter().enumerate() {
        let words: Vec<String> = fact.command.iter().map(|w| sh_quote(w)).collect();
        s.push_str(&format!("run fact.{i} {}\n", words.join(" ")));
    }
    s.push_str("s end\n");
    s
}

/// The script's output cut into sections, by name.
fn sections<'a>(marker: &str, stdout: &'a str) -> BTreeMap<&'a str, &'a str> {
    let mut out = BTreeMap::new();
    let delimiter = format!("\n{marker} ");
    // Whatever comes before the first marker (a login banner printed by a shell rc file) is
    // not ours.
    for chunk in stdout.split(&delimiter).skip(1) {
        let (name, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        out.insert(name, body);
    }
    out
}

/// A command the script ran: its exit status and what it printed on stderr.
struct Ran<'a> {
    stdout: &'a str,
    status: i32,
    stderr: &'a str,
}

fn ran<'a>(sections: &BTreeMap<&'a str, &'a str>, name: &str) -> Option<Ran<'a>> {
    let stdout = sections.get(name)?;
    let status_section = sections.get(format!("{name}.status").as_str())?;
    let (status, stderr) = status_section
        .split_once('\n')
        .unwrap_or((status_section, ""));
    Some(Ran {
        stdout,
        status: status.trim().parse().unwrap_or(-1),
        stderr,
    })
}

/// Parses the script's output into a snapshot. `options` must be the ones the script was built
/// with, so that custom facts are matched to their names.
pub fn parse(marker: &str, stdout: &str, options: &ScriptOptions) -> Result<HostSnapshot> {
    let sec = sections(marker, stdout);
    if !sec.contains_key("end") {
        return Err(Error::new(
            ErrorKind::Source,
            "the scan script did not run to its end (is /bin/sh a POSIX shell?)",
        ));
    }
    let text = |name: &str| {
        sec.get(name)
            .map(|t| t.trim_end_matches('\n'))
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string)
    };
    let files = grep_files(sec.get("files").copied().unwrap_or_default());
    let procs = grep_files(sec.get("proc").copied().unwrap_or_default());
    let file = |path: &str| {
        files
            .get(path)
            .map(|t| t.trim_end().to_string())
            .filter(|t| !t.is_empty())
    };
    let hostname = file("/proc/sys/kernel/hostname")
        .ok_or_else(|| Error::new(ErrorKind::Source, "the host reported no hostname"))?;
    let fqdn = text("fqdn")
        .map(|f| f.trim().to_string())
        .filter(|f| f != &hostname && !f.contains(char::is_whitespace));
    let sources = SystemSources {
        os_release: file("/etc/os-release").or_else(|| file("/usr/lib/os-release")),
        kernel_release: file("/proc/sys/kernel/osrelease"),
        kernel_build: file("/proc/sys/kernel/version"),
        arch: text("arch").or_else(|| file("/proc/sys/kernel/arch")),
        cpuinfo: procs.get("/proc/cpuinfo").cloned(),
        online_cpus: file("/sys/devices/system/cpu/online").and_then(|l| count_cpu_list(&l)),
        meminfo: procs.get("/proc/meminfo").cloned(),
        proc_stat: procs.get("/proc/stat").cloned(),
        dmi: DMI_FILES
            .iter()
            .filter_map(|(_, f)| {
                file(&format!("/sys/class/dmi/id/{f}")).map(|v| (f.to_string(), v))
            })
            .collect(),
        machine_id: file("/etc/machine-id"),
        container: text("container").is_some(),
    };
    let interfaces = parse_interfaces(&files, sec.get("addresses").copied().unwrap_or_default());

    let mut inventories = Vec::new();
    let mut failed_managers = Vec::new();
    for manager in Manager::ALL {
        let Some(r) = ran(&sec, &format!("pkg.{}", manager.name())) else {
            continue;
        };
        let failure = (r.status != 0).then(|| format!("exit status {}", r.status));
        match packages::inventory_from_output(manager, failure, r.stdout, r.stderr) {
            Ok(Some(inv)) => inventories.push(inv),
            Ok(None) => {}
            Err(e) => failed_managers.push((manager, e)),
        }
    }

    let mut custom_facts = Vec::new();
    let mut failed_facts = Vec::new();
    for (i, fact) in options.facts.iter().enumerate() {
        let Some(r) = ran(&sec, &format!("fact.{i}")) else {
            failed_facts.push((fact.name.clone(), Error::new(ErrorKind::Source, "not run")));
            continue;
        };
        match fact_value(fact, &r) {
            Ok(v) => custom_facts.push((fact.name.clone(), v)),
            Err(e) => failed_facts.push((fact.name.clone(), e)),
        }
    }

    Ok(HostSnapshot {
        hostname,
        fqdn,
        facts: super::system_facts(&sources),
        custom_facts,
        failed_facts,
        interfaces,
        inventories,
        failed_managers,
        host_key: None,
        audit: None,
    })
}

/// A custom fact's value from what its command printed.
fn fact_value(fact: &FactConfig, r: &Ran<'_>) -> Result<Value> {
    if r.status != 0 {
        let said = packages::summarize_stderr(r.stderr);
        return Err(Error::new(
            ErrorKind::Source,
            format!("exit status {}: {said}", r.status),
        ));
    }
    super::custom_fact_value(fact, r.stdout)
}

/// For a dpkg older than 1.19.3, which dates no package (see [`packages::needs_dpkg_times`]):
/// the modification times of its file lists, as newer dpkg reports them. A second command on
/// the same connection, run only for such hosts, under [`REMOTE_COMMAND`].
pub fn dpkg_times_script() -> String {
    format!(
        "{SCRIPT_PROLOGUE}find \"${{DPKG_ADMINDIR:-/var/lib/dpkg}}/info\" -name '*.list' \
         -printf '%f %T@\\n' 2>/dev/null\n"
    )
}

/// Dates `snapshot`'s dpkg packages from what [`dpkg_times_script`] printed.
pub fn add_dpkg_times(snapshot: &mut HostSnapshot, output: &str) {
    let times = parse_dpkg_times(output);
    let dpkg = snapshot
        .inventories
        .iter_mut()
        .filter(|inv| inv.manager == Manager::Dpkg);
    for p in dpkg.flat_map(|inv| inv.packages.iter_mut()) {
        p.install_time = times
            .get(p.qualified_name.as_str())
            .or_else(|| times.get(p.name.as_str()))
            .copied();
    }
}

/// `name mtime` lines of `find … -printf '%f %T@\n'` over dpkg's info directory, keyed by the
/// package's (possibly `name:arch`) name.
fn parse_dpkg_times(text: &str) -> BTreeMap<&str, i64> {
    text.lines()
        .filter_map(|l| {
            let (file, time) = l.rsplit_once(' ')?;
            let name = file.strip_suffix(".list")?;
            let secs = time.split('.').next()?.parse().ok()?;
            Some((name, secs))
        })
        .collect()
}

/// `grep -H` output (`path:line` per line) gathered back into each file's text.
fn grep_files(text: &str) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        // Paths we ask for hold no ':'; contents may.
        let Some((path, content)) = line.split_once(':') else {
            continue;
        };
        let body = files.entry(path.to_string()).or_default();
        body.push_str(content);
        body.push('\n');
    }
    files
}

/// The number of CPUs in a kernel CPU list (`0-3,8,10-11`), as /sys/devices/system/cpu/online
/// writes it.
fn count_cpu_list(list: &str) -> Option<usize> {
    let mut n = 0;
    for part in list.trim().split(',') {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => part.parse::<usize>().map(|_| 1).ok()?,
        };
    }
    (n > 0).then_some(n)
}

/// Interfaces from sysfs (`/sys/class/net/NAME/{address,mtu,operstate,speed}` among `files`)
/// and from `ip -o addr show`.
fn parse_interfaces(files: &BTreeMap<String, String>, addresses: &str) -> Vec<Interface> {
    let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
    for (path, body) in files {
        let Some(rest) = path.strip_prefix("/sys/class/net/") else {
            continue;
        };
        let Some((name, attr)) = rest.split_once('/') else {
            continue;
        };
        let iface = by_name
            .entry(name.to_string())
            .or_insert_with(|| new_interface(name));
        let value = body.trim();
        match attr {
            "address" => iface.mac = value.parse::<Mac>().ok().filter(|m| !m.is_zero()),
            "mtu" => iface.mtu = value.parse().ok(),
            "operstate" => iface.oper_state = Some(value.to_string()).filter(|v| !v.is_empty()),
            // -1 or unreadable (EINVAL) for interfaces that are down or virtual.
            "speed" => iface.speed_mbps = value.parse().ok().filter(|&s: &i64| s > 0),
            _ => {}
        }
    }
    // `2: eth0    inet 192.0.2.5/24 brd … scope global eth0\       valid_lft …`
    for line in addresses.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, name, family, cidr, ..] = words[..] else {
            continue;
        };
        if family != "inet" && family != "inet6" {
            continue;
        }
        // `ip` shows VLAN and veth interfaces as `eth0.10@eth0`; sysfs knows them as `eth0.10`.
        let name = name.split('@').next().unwrap_or(name);
        let (ip, prefix) = cidr.split_once('/').unwrap_or((cidr, ""));
        let Ok(ip) = ip.parse::<IpAddr>() else {
            continue;
        };
        let iface = by_name
            .entry(name.to_string())
            .or_insert_with(|| new_interface(name));
        let address = Address {
            ip,
            prefix_len: prefix.parse().ok(),
        };
        if !iface.addresses.contains(&address) {
            iface.addresses.push(address);
        }
    }
    for iface in by_name.values_mut() {
        iface.addresses.sort_by_key(|a| (a.ip.is_ipv6(), a.ip));
    }
    by_name.into_values().collect()
}

fn new_interface(name: &str) -> Interface {
    Interface {
        name: name.to_string(),
        mac: None,
        mtu: None,
        oper_state: None,
        speed_mbps: None,
        addresses: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(marker: &str, sections: &[(&str, &str)]) -> String {
        let mut s = String::from("motd junk\n");
        for (name, body) in sections {
            s.push_str(&format!("\n{marker} {name}\n{body}"));
        }
        s
    }

    #[test]
    fn quoting_keeps_every_word_whole() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's $(x)"), r"'it'\''s $(x)'");
    }

    #[test]
    fn the_script_runs_in_a_real_shell_and_parses_back() {
        let marker = new_marker();
        let options = ScriptOptions {
            packages: false,
            facts: vec![
                FactConfig {
                    name: "echo".into(),
                    command: vec!["printf".into(), "%s".into(), "it's $(not run)".into()],
                    format: None,
                },
                FactConfig {
                    name: "json".into(),
                    command: vec!["echo".into(), r#"{"a": [1, 2]}"#.into()],
                    format: Some("json".into()),
                },
                FactConfig {
                    name: "fails".into(),
                    command: vec!["sh".into(), "-c".into(), "echo why >&2; exit 3".into()],
                    format: None,
                },
            ],
            audit: None,
        };
        let mut child = std::process::Command::new("sh")
            .args(["-c", REMOTE_COMMAND])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script(&marker, &options).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let snap = parse(&marker, &text, &options).unwrap();
        assert_eq!(
            snap.hostname,
            nix::unistd::gethostname().unwrap().to_string_lossy()
        );
        assert!(snap.interfaces.iter().any(|i| i.name == "lo"));
        // From /proc/sys/kernel/arch where the kernel has it, else from uname: the same.
        let uname = nix::sys::utsname::uname().unwrap();
        let arch = snap.facts.arch.as_deref().unwrap();
        assert_eq!(arch, uname.machine().to_str().unwrap());
        assert_eq!(snap.custom_facts[0].1, Value::from("it's $(not run)"));
        assert_eq!(snap.custom_facts[1].1, serde_json::json!({"a": [1, 2]}));
        let (name, err) = &snap.failed_facts[0];
        assert_eq!(name, "fails");
        assert!(err.to_string().contains("exit status 3: why"), "{err}");
    }

    #[test]
    fn a_cut_off_output_is_an_error() {
        let m = "OPSKIT-x";
        let text = output(m, &[("files", "/proc/sys/kernel/hostname:h1\n")]);
        assert!(parse(m, &text, &ScriptOptions::default()).is_err());
    }

    #[test]
    fn package_sections_become_inventories_or_failures() {
        let m = "OPSKIT-x";
        let text = output(
            m,
            &[
                ("files", "/proc/sys/kernel/hostname:web-1\n"),
                (
                    "pkg.dpkg",
                    "ii \tbash\t5.2.15-2\tamd64\tbash\t1700000000\n\
                     ii \tlibc6\t2.36-9\tamd64\tlibc6:amd64\t1600000000\n",
                ),
                ("pkg.dpkg.status", "0\n\n"),
                ("pkg.rpm", ""),
                (
                    "pkg.rpm.status",
                    "1\nerror: cannot open Packages database\n",
                ),
                ("end", ""),
            ],
        );
        let snap = parse(m, &text, &ScriptOptions::default()).unwrap();
        assert_eq!(snap.inventories.len(), 1);
        let p = &snap.inventories[0].packages;
        assert_eq!(p[0].install_time, Some(1_700_000_000));
        assert_eq!(p[1].install_time, Some(1_600_000_000));
        let (manager, err) = &snap.failed_managers[0];
        assert_eq!(*manager, Manager::Rpm);
        assert!(err.to_string().contains("cannot open"), "{err}");
    }

    #[test]
    fn an_old_dpkg_is_dated_from_its_file_lists() {
        let m = "OPSKIT-x";
        let text = output(
            m,
            &[
                ("files", "/proc/sys/kernel/hostname:web-1\n"),
                (
                    "pkg.dpkg",
                    "ii \tbash\t5.2.15-2\tamd64\tbash\t\n\
                     ii \tlibc6\t2.36-9\tamd64\tlibc6:amd64\t\n",
                ),
                ("pkg.dpkg.status", "0\n\n"),
                ("end", ""),
            ],
        );
        let mut snap = parse(m, &text, &ScriptOptions::default()).unwrap();
        assert!(packages::needs_dpkg_times(&snap.inventories[0]));
        // What the fallback prints, from a real shell over a real directory.
        let admin = tempfile::tempdir().unwrap();
        std::fs::create_dir(admin.path().join("info")).unwrap();
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        for list in ["bash.list", "libc6:amd64.list"] {
            let file = std::fs::File::create(admin.path().join("info").join(list)).unwrap();
            file.set_modified(when).unwrap();
        }
        let out = std::process::Command::new("sh")
            .args(["-c", &dpkg_times_script()])
            .env("DPKG_ADMINDIR", admin.path())
            .output()
            .unwrap();
        add_dpkg_times(&mut snap, &String::from_utf8(out.stdout).unwrap());
        let p = &snap.inventories[0].packages;
        assert_eq!(p[0].install_time, Some(1_700_000_000));
        assert_eq!(p[1].install_time, Some(1_700_000_000));
    }

    #[test]
    fn interfaces_join_sysfs_and_ip() {
        let files = grep_files(
            "/sys/class/net/lo/address:00:00:00:00:00:00\n/sys/class/net/lo/mtu:65536\n\
             /sys/class/net/eth0/address:52:54:00:12:34:56\n/sys/class/net/eth0/mtu:1500\n\
             /sys/class/net/eth0/operstate:up\n/sys/class/net/eth0/speed:1000\n\
             /sys/class/net/bond0.10/address:52:54:00:12:34:57\n/sys/class/net/bond0.10/speed:-1\n",
        );
        let addrs = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n\
                     2: eth0    inet 192.0.2.5/24 brd 192.0.2.255 scope global eth0\\ x\n\
                     2: eth0    inet6 2001:db8::5/64 scope global \\ x\n\
                     4: bond0.10@bond0    inet 198.51.100.1/25 scope global bond0.10\n\
                     garbage\n";
        let ifaces = parse_interfaces(&files, addrs);
        let eth0 = ifaces.iter().find(|i| i.name == "eth0").unwrap();
        assert_eq!(eth0.mac.unwrap().to_string(), "52:54:00:12:34:56");
        assert_eq!(eth0.speed_mbps, Some(1000));
        assert_eq!(eth0.oper_state.as_deref(), Some("up"));
        assert_eq!(eth0.addresses.len(), 2);
        assert_eq!(eth0.addresses[1].prefix_len, Some(64));
        let lo = ifaces.iter().find(|i| i.name == "lo").unwrap();
        assert!(lo.mac.is_none());
        assert_eq!(lo.mtu, Some(65536));
        let vlan = ifaces.iter().find(|i| i.name == "bond0.10").unwrap();
        assert_eq!(vlan.speed_mbps, None);
        assert_eq!(vlan.addresses[0].ip.to_string(), "198.51.100.1");
    }

    #[test]
    fn cpu_lists_count() {
        assert_eq!(count_cpu_list("0-1\n"), Some(2));
        assert_eq!(count_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(count_cpu_list("3-1"), None);
        assert_eq!(count_cpu_list("x"), None);
    }

    #[test]
    fn markers_are_random_and_never_empty() {
        let a = new_marker();
        let b = new_marker();
        assert_ne!(a, b);
        for m in [&a, &b] {
            let hex = m.strip_prefix("OPSKIT-").unwrap();
            assert_eq!(hex.len(), 24, "{m}");
            assert!(hex.bytes().all(|c| c.is_ascii_hexdigit()), "{m}");
        }
    }

    /// What the script prints on a Debian 12 VM with two vCPUs, section by section.
    fn debian_vm() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "files",
                "/proc/sys/kernel/hostname:web-1\n\
                 /proc/sys/kernel/osrelease:6.1.0-18-amd64\n\
                 /proc/sys/kernel/version:#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n\
                 /proc/sys/kernel/arch:x86_64\n\
                 /etc/os-release:PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n\
                 /etc/os-release:NAME=\"Debian GNU/Linux\"\n\
                 /etc/os-release:VERSION_ID=\"12\"\n\
                 /etc/os-release:ID=debian\n\
                 /usr/lib/os-release:PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n\
                 /etc/machine-id:4c4c4544004d3510804bc4c04f4d4433\n\
                 /sys/devices/system/cpu/online:0-1\n\
                 /sys/class/net/eth0/address:52:54:00:12:34:56\n\
                 /sys/class/net/eth0/mtu:1500\n\
                 /sys/class/net/eth0/operstate:up\n\
                 /sys/class/net/eth0/speed:-1\n\
                 /sys/class/net/lo/address:00:00:00:00:00:00\n\
                 /sys/class/net/lo/mtu:65536\n\
                 /sys/class/net/lo/operstate:unknown\n\
                 /sys/class/dmi/id/sys_vendor:QEMU\n\
                 /sys/class/dmi/id/product_name:Standard PC (Q35 + ICH9, 2009)\n\
                 /sys/class/dmi/id/bios_version:1.16.2-debian-1.16.2-1\n",
            ),
            (
                "proc",
                "/proc/cpuinfo:processor\t: 0\n\
                 /proc/cpuinfo:model name\t: Intel Xeon Processor (Icelake)\n\
                 /proc/cpuinfo:flags\t\t: fpu vme de pse tsc msr pae hypervisor lahf_lm\n\
                 /proc/cpuinfo:processor\t: 1\n\
                 /proc/cpuinfo:model name\t: Intel Xeon Processor (Icelake)\n\
                 /proc/cpuinfo:flags\t\t: fpu vme de pse tsc msr pae hypervisor lahf_lm\n\
                 /proc/meminfo:MemTotal:        4025236 kB\n\
                 /proc/stat:btime 1700000000\n",
            ),
            ("fqdn", "web-1.example.com\n"),
            ("container", ""),
            (
                "addresses",
                "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n\
                 2: eth0    inet 192.0.2.5/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever\n",
            ),
            ("end", ""),
        ]
    }

    /// The VM's output with `name`'s section replaced (or added at the end's place).
    fn vm_with(name: &str, body: &'static str) -> HostSnapshot {
        let mut sections: Vec<(&str, &str)> = debian_vm()
            .into_iter()
            .filter(|(n, _)| *n != name)
            .collect();
        sections.insert(sections.len() - 1, (name, body));
        let m = "OPSKIT-0123456789abcdef01234567";
        parse(m, &output(m, &sections), &ScriptOptions::default()).unwrap()
    }

    #[test]
    fn a_debian_vm_parses_into_its_facts_and_interfaces() {
        let m = "OPSKIT-0123456789abcdef01234567";
        let snap = parse(m, &output(m, &debian_vm()), &ScriptOptions::default()).unwrap();
        assert_eq!(snap.hostname, "web-1");
        assert_eq!(snap.fqdn.as_deref(), Some("web-1.example.com"));
        let f = &snap.facts;
        assert_eq!(f.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(f.os_id.as_deref(), Some("debian"));
        assert_eq!(f.kernel.as_deref(), Some("6.1.0-18-amd64"));
        assert_eq!(f.arch.as_deref(), Some("x86_64"));
        assert_eq!(
            f.cpu_model.as_deref(),
            Some("Intel Xeon Processor (Icelake)")
        );
        assert_eq!(f.cpu_count, Some(2));
        assert_eq!(f.memory_bytes, Some(4_025_236 * 1024));
        assert_eq!(f.boot_time, Some(1_700_000_000));
        assert_eq!(
            f.machine_id.as_deref(),
            Some("4c4c4544004d3510804bc4c04f4d4433")
        );
        assert_eq!(f.hw_vendor.as_deref(), Some("QEMU"));
        assert_eq!(
            f.virtualization,
            Some(crate::model::host::Virtualization::Vm)
        );
        let names: Vec<&str> = snap.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["eth0", "lo"]);
        let eth0 = &snap.interfaces[0];
        assert_eq!(eth0.mtu, Some(1500));
        assert_eq!(eth0.speed_mbps, None, "-1: a virtio NIC has no speed");
        assert_eq!(eth0.addresses[0].ip.to_string(), "192.0.2.5");
        assert_eq!(eth0.addresses[0].prefix_len, Some(24));
        assert!(snap.inventories.is_empty() && snap.failed_managers.is_empty());
    }

    #[test]
    fn the_fqdn_is_kept_only_when_it_is_one_other_name() {
        assert_eq!(vm_with("fqdn", "web-1\n").fqdn, None, "the hostname itself");
        assert_eq!(vm_with("fqdn", "\n").fqdn, None, "no name service answer");
        assert_eq!(
            vm_with("fqdn", "web-1.example.com web-1.local\n").fqdn,
            None,
            "not one name"
        );
        assert_eq!(
            vm_with("fqdn", "  web-1.example.com  \n").fqdn.as_deref(),
            Some("web-1.example.com")
        );
    }

    #[test]
    fn a_container_marker_and_an_arch_from_uname() {
        let snap = vm_with("container", "yes\n");
        assert_eq!(
            snap.facts.virtualization,
            Some(crate::model::host::Virtualization::Container)
        );
        // A kernel older than 6.1 has no /proc/sys/kernel/arch: the script ran uname -m.
        let snap = vm_with("arch", "aarch64\n");
        assert_eq!(snap.facts.arch.as_deref(), Some("aarch64"));
        assert_eq!(vm_with("arch", "\n").facts.arch.as_deref(), Some("x86_64"));
    }

    #[test]
    fn an_unreadable_exit_status_is_a_failure() {
        // A status line cut or garbled in transit: not a success, and not a made-up status.
        let m = "OPSKIT-x";
        let options = ScriptOptions {
            facts: vec![FactConfig {
                name: "rack".into(),
                command: vec!["cat".into(), "/etc/rack".into()],
                format: None,
            }],
            ..ScriptOptions::default()
        };
        let text = output(
            m,
            &[
                ("files", "/proc/sys/kernel/hostname:web-1\n"),
                ("fact.0", "B12\n"),
                ("fact.0.status", "\n"),
                ("pkg.dpkg", ""),
                ("pkg.dpkg.status", "\n"),
                ("end", ""),
            ],
        );
        let snap = parse(m, &text, &options).unwrap();
        let (name, err) = &snap.failed_facts[0];
        assert_eq!(name, "rack");
        assert!(err.to_string().contains("exit status -1"), "{err}");
        let (manager, err) = &snap.failed_managers[0];
        assert_eq!(*manager, Manager::Dpkg);
        assert!(err.to_string().contains("exit status -1"), "{err}");
        // A fact the output has no section for was not run.
        let text = output(
            m,
            &[("files", "/proc/sys/kernel/hostname:web-1\n"), ("end", "")],
        );
        let snap = parse(m, &text, &options).unwrap();
        assert!(snap.custom_facts.is_empty());
        assert!(snap.failed_facts[0].1.to_string().contains("not run"));
    }

    #[test]
    fn a_link_speed_of_zero_is_no_speed() {
        let files = grep_files(
            "/sys/class/net/wlan0/speed:0\n/sys/class/net/eth1/speed:10000\n\
             /sys/class/net/eth1/operstate:\n",
        );
        let ifaces = parse_interfaces(&files, "");
        assert_eq!(ifaces[0].name, "eth1");
        assert_eq!(ifaces[0].speed_mbps, Some(10_000));
        assert_eq!(
            ifaces[0].oper_state, None,
            "an empty operstate says nothing"
        );
        assert_eq!(ifaces[1].name, "wlan0");
        assert_eq!(ifaces[1].speed_mbps, None);
    }
}
