//! Scanning the machine opskit runs on, without SSH: facts from /etc and /proc, interfaces from
//! the kernel, packages from every package manager present, through their own query commands.

use std::ffi::{CStr, CString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::error::{Error, ErrorKind, Result};
use crate::net::interfaces;
use crate::packages::{self, Inventory, Manager};

use super::HostSnapshot;

/// Takes a snapshot of this machine.
pub fn scan() -> Result<HostSnapshot> {
    let hostname = nix::unistd::gethostname()
        .map_err(|e| Error::with_source(ErrorKind::Fatal, "reading the hostname", e))?
        .to_string_lossy()
        .into_owned();
    let fqdn = canonical_name(&hostname).filter(|f| f != &hostname);
    let facts = system_facts();
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
    Ok(HostSnapshot {
        hostname,
        fqdn,
        facts,
        interfaces,
        inventories,
        failed_managers,
    })
}

fn read(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn read_trimmed(path: &str) -> Option<String> {
    read(path)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The system facts, in the order whatis-host shows them.
fn system_facts() -> Vec<(String, Value)> {
    let mut facts: Vec<(String, Value)> = Vec::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(v) = value {
            facts.push((name.to_string(), v));
        }
    };
    let os = read("/etc/os-release")
        .or_else(|| read("/usr/lib/os-release"))
        .map(|t| super::parse_os_release(&t))
        .unwrap_or_default();
    let os_field = |k: &str| os.iter().find(|(key, _)| key == k).map(|(_, v)| json!(v));
    put("os", os_field("PRETTY_NAME").or_else(|| os_field("NAME")));
    put("os_id", os_field("ID"));
    put("os_version", os_field("VERSION_ID"));
    let uname = nix::sys::utsname::uname().ok();
    let uname_field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uname.as_ref().map(|u| json!(f(u).to_string_lossy()))
    };
    put("kernel", uname_field(|u| u.release()));
    put("kernel_build", uname_field(|u| u.version()));
    put("arch", uname_field(|u| u.machine()));
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    let (model, count) = super::parse_cpuinfo(&cpuinfo);
    put("cpu_model", model.map(Value::from));
    let count = if count > 0 {
        Some(count)
    } else {
        std::thread::available_parallelism().ok().map(usize::from)
    };
    put("cpu_count", count.map(Value::from));
    put(
        "memory_bytes",
        read("/proc/meminfo")
            .and_then(|m| super::parse_mem_total(&m))
            .map(Value::from),
    );
    for (fact, file) in [
        ("hw_vendor", "sys_vendor"),
        ("hw_product", "product_name"),
        ("hw_serial", "product_serial"),
        ("board_serial", "board_serial"),
        ("bios_version", "bios_version"),
    ] {
        // product_serial is readable by root only: absent rather than an error for others.
        put(
            fact,
            read_trimmed(&format!("/sys/class/dmi/id/{file}")).map(Value::from),
        );
    }
    put(
        "boot_time",
        read("/proc/stat")
            .and_then(|s| super::parse_boot_time(&s))
            .map(Value::from),
    );
    put(
        "machine_id",
        read_trimmed("/etc/machine-id").map(Value::from),
    );
    let virt = if Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists() {
        Some("container")
    } else if super::cpuinfo_has_hypervisor_flag(&cpuinfo) {
        Some("vm")
    } else {
        None
    };
    put("virtualization", virt.map(Value::from));
    facts
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
    let output = Command::new(&path)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| Error::with_source(ErrorKind::Source, format!("running {program}"), e))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut said = said.join(" ");
        if said.len() > 400 {
            let cut = (0..=400)
                .rev()
                .find(|&i| said.is_char_boundary(i))
                .unwrap_or(0);
            said.truncate(cut);
            said.push('…');
        }
        return Err(Error::new(
            ErrorKind::Source,
            format!("{program} failed ({}): {said}", output.status),
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut packages = packages::parse(manager, &text)?;
    if packages.is_empty() {
        return Ok(None);
    }
    if manager == Manager::Dpkg {
        add_dpkg_install_times(&mut packages);
    }
    Ok(Some(Inventory { manager, packages }))
}

/// dpkg keeps no install time; the modification time of the package's file list in
/// `<admindir>/info/` is when it was last unpacked, which is what `ls -lt` users go by.
fn add_dpkg_install_times(packages: &mut [packages::Package]) {
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
