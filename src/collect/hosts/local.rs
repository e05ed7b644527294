//! Scanning the machine opskit runs on, without SSH: facts from /etc and /proc, interfaces from
//! the kernel, packages from every package manager present, through their own query commands.

use std::ffi::{CStr, CString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::collect::audit::logread::{self, AuditOptions};
use crate::collect::packages;
use crate::config::FactConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::audit::AuditRead;
use crate::model::package::{Inventory, Manager};

use super::{SystemSources, interfaces};
use crate::model::host::HostSnapshot;

/// Takes a snapshot of this machine, with the custom facts in `facts`.
pub fn scan(custom: &[FactConfig]) -> Result<HostSnapshot> {
    let hostname = nix::unistd::gethostname()
        .map_err(|e| Error::with_source(ErrorKind::Fatal, "reading the hostname", e))?
        .to_string_lossy()
        .into_owned();
    let fqdn = canonical_name(&hostname).filter(|f| f != &hostname);
    let facts = super::system_facts(&system_sources());
    let interfaces = interfaces::local()?;
    let mut inventories = Vec::new();
    let mut failed_managers = Vec::new();
    for manager in Manager::ALL {
        match local_inventory(manager) {
            Ok(Some(inv)) => inventories.push(inv),
            Ok(None) => {}
            Err(e) => failed_managers.push((manager, e)),
        }
    }
    let mut custom_facts = Vec::new();
    let mut failed_facts = Vec::new();
    for fact in custom {
        match custom_fact(fact) {
            Ok(v) => custom_facts.push((fact.name.clone(), v)),
            Err(e) => failed_facts.push((fact.name.clone(), e)),
        }
    }
    Ok(HostSnapshot {
        hostname,
        fqdn,
        facts,
        custom_facts,
        failed_facts,
        interfaces,
        inventories,
        failed_managers,
        host_key: None,
        audit: None,
    })
}

/// Reads this machine's audit log from its checkpoint with the same script as over SSH, run
/// by the local `sh` (through `sudo -n` when configured and not root). Never fails the scan.
pub fn read_audit(audit: &AuditOptions, hostname: &str) -> AuditRead {
    let first = audit.for_host(hostname);
    let mut options = first.clone();
    // A second round only when the checkpoint's file was rewritten (truncated in place).
    for _ in 0..2 {
        let marker = super::remote::new_marker();
        match read_audit_once(audit, &marker, &options) {
            Ok(out) => match logread::parse(&marker, &out, &options) {
                logread::Parsed::Read(mut read) => {
                    read.started_from = first.checkpoint.clone();
                    return *read;
                }
                logread::Parsed::Rewritten => options = logread::from_start(&options),
            },
            Err(problem) => return logread::failed(&first, problem),
        }
    }
    logread::failed(
        &first,
        format!("{} keeps changing under the read", first.log),
    )
}

/// Runs the read script once; its stdout, or what went wrong.
fn read_audit_once(
    audit: &AuditOptions,
    marker: &str,
    options: &logread::ReadOptions,
) -> std::result::Result<Vec<u8>, String> {
    let script = logread::script(marker, options, super::remote::sh_quote);
    logread::run_locally(audit.sudo, &script)
}

fn read(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn read_trimmed(path: &str) -> Option<String> {
    read(path)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// What this machine's files say about it, for [`super::system_facts`].
fn system_sources() -> SystemSources {
    let uname = nix::sys::utsname::uname().ok();
    let uname_field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uname.as_ref().map(|u| f(u).to_string_lossy().into_owned())
    };
    SystemSources {
        os_release: read("/etc/os-release").or_else(|| read("/usr/lib/os-release")),
        kernel_release: uname_field(|u| u.release()),
        kernel_build: uname_field(|u| u.version()),
        arch: uname_field(|u| u.machine()),
        cpuinfo: read("/proc/cpuinfo"),
        online_cpus: std::thread::available_parallelism().ok().map(usize::from),
        meminfo: read("/proc/meminfo"),
        proc_stat: read("/proc/stat"),
        // product_serial is readable by root only: absent rather than an error for others.
        dmi: super::DMI_FILES
            .iter()
            .filter_map(|(_, file)| {
                read_trimmed(&format!("/sys/class/dmi/id/{file}")).map(|v| (file.to_string(), v))
            })
            .collect(),
        machine_id: read_trimmed("/etc/machine-id"),
        container: Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists(),
    }
}

/// The canonical name `getaddrinfo(3)` gives for `host`, as `hostname --fqdn` does it: through
/// the system's name service switch (/etc/hosts, DNS, …).
fn canonical_name(host: &str) -> Option<String> {
    let c_host = CString::new(host).ok()?;
    // SAFETY: zeroed addrinfo is the documented way to build hints; every pointer we read from
    // the result is checked for null and the list is freed once, after the name was copied.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_flags = libc::AI_CANONNAME;
        hints.ai_family = libc::AF_UNSPEC;
        hints.ai_socktype = libc::SOCK_STREAM;
        let mut res: *mut libc::addrinfo = std::ptr::null_mut();
        if libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) != 0
            || res.is_null()
        {
            return None;
        }
        let canon = (*res).ai_canonname;
        let name = (!canon.is_null()).then(|| CStr::from_ptr(canon).to_string_lossy().into_owned());
        libc::freeaddrinfo(res);
        name.filter(|n| !n.is_empty())
    }
}

/// Runs a custom fact's command (argv, no shell) and reads its value.
fn custom_fact(fact: &FactConfig) -> Result<Value> {
    let (program, args) = fact
        .command
        .split_first()
        .ok_or_else(|| Error::new(ErrorKind::Config, "empty command"))?;
    let output = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| Error::with_source(ErrorKind::Source, format!("running {program}"), e))?;
    if !output.status.success() {
        return Err(Error::new(
            ErrorKind::Source,
            format!(
                "{}: {}",
                output.status,
                packages::summarize_stderr(&String::from_utf8_lossy(&output.stderr))
            ),
        ));
    }
    super::custom_fact_value(fact, &String::from_utf8_lossy(&output.stdout))
}

/// Finds a program in `$PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The packages `manager` has installed here: `None` if the manager is absent or manages
/// nothing (rpm installed on a Debian machine to build packages has an empty database).
fn local_inventory(manager: Manager) -> Result<Option<Inventory>> {
    let (program, args) = manager.query_command();
    let Some(path) = find_program(program) else {
        return Ok(None);
    };
    if let Some(databases) = manager.database_paths()
        && !databases.iter().any(|p| Path::new(p).exists())
    {
        return Ok(None);
    }
    let output = Command::new(&path)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| Error::with_source(ErrorKind::Source, format!("running {program}"), e))?;
    let status = (!output.status.success()).then(|| output.status.to_string());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut inventory = packages::inventory_from_output(manager, status, &stdout, &stderr)?;
    if let Some(inv) = inventory.as_mut()
        && packages::needs_dpkg_times(inv)
    {
        add_dpkg_install_times(&mut inv.packages);
    }
    Ok(inventory)
}

/// For a dpkg too old to give `${db-fsys:Last-Modified}`: the modification time of each
/// package's file list in `<admindir>/info/`, read here instead, as newer dpkg reads it.
fn add_dpkg_install_times(packages: &mut [crate::model::package::Package]) {
    let admindir = std::env::var_os("DPKG_ADMINDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/dpkg"));
    let info = admindir.join("info");
    for p in packages {
        let mtime = [&p.qualified_name, &p.name]
            .iter()
            .find_map(|n| fs::metadata(info.join(format!("{n}.list"))).ok())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        p.install_time = mtime;
    }
}
