//! A fleet of real OpenSSH hosts on loopback for the SSH scanner's tests.
//!
//! Each simulated host is a real `/usr/sbin/sshd` on its own address `127.0.1.N` and port,
//! started inside its own UTS and mount namespaces (`unshare --uts --mount`): it has its own
//! hostname, and its own `/etc/hostname`, `/etc/machine-id`, `/etc/os-release`, `/var/lib/dpkg`,
//! rpm database, `/root`, `/var/log` and `/var/backups` bind-mounted over the machine's. Everything
//! else is the machine's and the same on every host: kernel, /proc, /sys, network interfaces
//! (there is no network namespace: every host sees every 127.0.1.N). So the real `hostname`, `dpkg-query` and
//! `rpm` that a scanner runs over SSH answer with that host's data, and SFTP reads its files.
//! rpm databases are made by the real rpm from tiny packages built with `rpmbuild`
//! ([`RpmDb::create`], as every rpm database of the tests).
//! A dpkg host can also run the machine's dpkg-query as a dpkg older than 1.19.3 answers
//! ([`HostSpec::old_dpkg`]).
//!
//! The fleet also writes the client side a user would have: a key, `known_hosts` (plain or
//! hashed) and an `~/.ssh/config` with one alias per host. Some hosts misbehave on purpose
//! ([`Behaviour`]): a changed host key, a server that accepts TCP and then says nothing, one that
//! refuses our key, and an address where nothing listens.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tempfile::TempDir;

use super::packages::{DpkgDb, Package, Pkg, RpmDb, rpm_file};
use super::peer::Peer;
use super::{require, require_root};

/// The operating system a simulated host claims to run: its `/etc/os-release` and which
/// package manager's database it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Debian11,
    Debian12,
    Ubuntu2204,
    Ubuntu2404,
    Rhel8,
    Rocky9,
    Centos7,
    Fedora40,
}

/// The package database a host carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Dpkg,
    Rpm,
}

impl Os {
    /// `ID` in os-release.
    pub fn id(self) -> &'static str {
        match self {
            Os::Debian11 | Os::Debian12 => "debian",
            Os::Ubuntu2204 | Os::Ubuntu2404 => "ubuntu",
            Os::Rhel8 => "rhel",
            Os::Rocky9 => "rocky",
            Os::Centos7 => "centos",
            Os::Fedora40 => "fedora",
        }
    }

    /// `VERSION_ID` in os-release.
    pub fn version_id(self) -> &'static str {
        match self {
            Os::Debian11 => "11",
            Os::Debian12 => "12",
            Os::Ubuntu2204 => "22.04",
            Os::Ubuntu2404 => "24.04",
            Os::Rhel8 => "8.9",
            Os::Rocky9 => "9.4",
            Os::Centos7 => "7",
            Os::Fedora40 => "40",
        }
    }

    /// `PRETTY_NAME` in os-release.
    pub fn pretty_name(self) -> &'static str {
        match self {
            Os::Debian11 => "Debian GNU/Linux 11 (bullseye)",
            Os::Debian12 => "Debian GNU/Linux 12 (bookworm)",
            Os::Ubuntu2204 => "Ubuntu 22.04.4 LTS",
            Os::Ubuntu2404 => "Ubuntu 24.04.1 LTS",
            Os::Rhel8 => "Red Hat Enterprise Linux 8.9 (Ootpa)",
            Os::Rocky9 => "Rocky Linux 9.4 (Blue Onyx)",
            Os::Centos7 => "CentOS Linux 7 (Core)",
            Os::Fedora40 => "Fedora Linux 40 (Server Edition)",
        }
    }

    pub fn manager(self) -> Manager {
        match self {
            Os::Debian11 | Os::Debian12 | Os::Ubuntu2204 | Os::Ubuntu2404 => Manager::Dpkg,
            _ => Manager::Rpm,
        }
    }

    /// The machine architecture as this OS's package manager spells it.
    pub fn arch(self) -> &'static str {
        match self.manager() {
            Manager::Dpkg => "amd64",
            Manager::Rpm => "x86_64",
        }
    }

    /// An `/etc/os-release` in the shape the distribution ships (quoting differs between them,
    /// which a parser has to cope with).
    pub fn os_release(self) -> String {
        let (name, version, codename, like) = match self {
            Os::Debian11 => ("Debian GNU/Linux", "11 (bullseye)", "bullseye", ""),
            Os::Debian12 => ("Debian GNU/Linux", "12 (bookworm)", "bookworm", ""),
            Os::Ubuntu2204 => ("Ubuntu", "22.04.4 LTS (Jammy Jellyfish)", "jammy", "debian"),
            Os::Ubuntu2404 => ("Ubuntu", "24.04.1 LTS (Noble Numbat)", "noble", "debian"),
            Os::Rhel8 => ("Red Hat Enterprise Linux", "8.9 (Ootpa)", "", "fedora"),
            Os::Rocky9 => ("Rocky Linux", "9.4 (Blue Onyx)", "", "rhel centos fedora"),
            Os::Centos7 => ("CentOS Linux", "7 (Core)", "", "rhel fedora"),
            Os::Fedora40 => ("Fedora Linux", "40 (Server Edition)", "", ""),
        };
        let mut text = String::new();
        match self.manager() {
            // Debian and Ubuntu quote only what needs it; Red Hat's family quotes everything.
            Manager::Dpkg => {
                text += &format!("PRETTY_NAME=\"{}\"\nNAME=\"{name}\"\n", self.pretty_name());
                text += &format!(
                    "VERSION_ID=\"{}\"\nVERSION=\"{version}\"\n",
                    self.version_id()
                );
                text += &format!("VERSION_CODENAME={codename}\nID={}\n", self.id());
                if !like.is_empty() {
                    text += &format!("ID_LIKE={like}\n");
                }
                text += "HOME_URL=\"https://www.example.org/\"\n";
            }
            Manager::Rpm => {
                text += &format!(
                    "NAME=\"{name}\"\nVERSION=\"{version}\"\nID=\"{}\"\n",
                    self.id()
                );
                if !like.is_empty() {
                    text += &format!("ID_LIKE=\"{like}\"\n");
                }
                text += &format!(
                    "VERSION_ID=\"{}\"\nPLATFORM_ID=\"platform:x\"\nPRETTY_NAME=\"{}\"\n",
                    self.version_id(),
                    self.pretty_name()
                );
                text += "ANSI_COLOR=\"0;32\"\nHOME_URL=\"https://www.example.org/\"\n";
            }
        }
        text
    }
}

/// How a host misbehaves, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A working host.
    Normal,
    /// Serves a host key other than the one `known_hosts` holds for it (reinstalled host,
    /// or a man in the middle): a client must refuse it.
    ChangedKey,
    /// A real sshd that is stopped (SIGSTOP) after it started: the kernel still completes the
    /// TCP handshake, but no banner ever comes. A client needs a timeout on the banner.
    Hangs,
    /// Answers, but its authorized_keys does not hold our key: "Permission denied".
    RefusesKey,
    /// Nothing listens at its address and port (a socket holds the port, bound but not
    /// listening, so connections are refused and nobody else takes it).
    NotListening,
}

/// A host to simulate.
#[derive(Debug, Clone)]
pub struct HostSpec {
    /// Its hostname, as `hostname` prints it (any bytes but NUL and newline).
    pub name: String,
    /// Its name in `~/.ssh/config` (`Host ALIAS`); the hostname when that is a plain name.
    pub alias: String,
    pub os: Os,
    /// Installed packages, in its manager's database.
    pub packages: Vec<Package>,
    /// dpkg packages removed but not purged (`rc`: config files left): listed by
    /// `dpkg-query -W`, but not installed.
    pub removed: Vec<Package>,
    /// Instead of `packages`, this many generated dpkg packages `pkg-NNNNNN` at version 1.0-1.
    pub generated: Option<usize>,
    /// Extra files, by absolute path under `/root`, `/var/log` or `/var/backups`.
    pub files: Vec<(String, Vec<u8>)>,
    pub behaviour: Behaviour,
    /// Its dpkg-query answers as one older than 1.19.3 (see [`HostSpec::old_dpkg`]).
    pub old_dpkg: bool,
}

impl HostSpec {
    pub fn new(name: &str, os: Os) -> HostSpec {
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        HostSpec {
            name: name.to_string(),
            alias: if plain { name } else { "oddly-named" }.to_string(),
            os,
            packages: Vec::new(),
            removed: Vec::new(),
            generated: None,
            files: Vec::new(),
            behaviour: Behaviour::Normal,
            old_dpkg: false,
        }
    }

    /// Adds an installed package for the OS's machine architecture.
    pub fn pkg(self, name: &str, version: &str) -> HostSpec {
        let arch = self.os.arch();
        self.pkg_arch(name, version, arch)
    }

    /// Adds an installed package for an architecture (`all`, `noarch`, `i386`, ...).
    pub fn pkg_arch(mut self, name: &str, version: &str, arch: &str) -> HostSpec {
        self.packages.push(Package::new(name, version, arch));
        self
    }

    /// Adds a removed-but-not-purged dpkg package.
    pub fn removed(mut self, name: &str, version: &str) -> HostSpec {
        assert_eq!(
            self.os.manager(),
            Manager::Dpkg,
            "only dpkg keeps config files"
        );
        let arch = self.os.arch();
        self.removed.push(Package::new(name, version, arch));
        self
    }

    pub fn alias(mut self, alias: &str) -> HostSpec {
        self.alias = alias.to_string();
        self
    }

    pub fn behaviour(mut self, behaviour: Behaviour) -> HostSpec {
        self.behaviour = behaviour;
        self
    }

    /// Makes its dpkg-query answer as a dpkg older than 1.19.3 does: with no
    /// `${db-fsys:Last-Modified}`, printed empty like any field that dpkg does not know. Inside
    /// its mount namespace a wrapper is mounted over the machine's dpkg-query; the wrapper asks
    /// the real one for a field no dpkg has instead, so everything else is the real answer.
    pub fn old_dpkg(mut self) -> HostSpec {
        assert_eq!(self.os.manager(), Manager::Dpkg);
        self.old_dpkg = true;
        self
    }

    /// A dpkg host with `count` generated packages (200,000 makes a 40 MB status file).
    pub fn huge(name: &str, count: usize) -> HostSpec {
        let mut spec = HostSpec::new(name, Os::Debian12);
        spec.generated = Some(count);
        spec
    }

    pub fn file(mut self, path: &str, contents: impl Into<Vec<u8>>) -> HostSpec {
        assert!(
            ["/root/", "/var/log/", "/var/backups/"]
                .iter()
                .any(|d| path.starts_with(d)),
            "{path}: a host's own files live under /root, /var/log or /var/backups"
        );
        self.files.push((path.to_string(), contents.into()));
        self
    }

    /// `/var/log/rpmpkgs` listing its packages, as CentOS's `/etc/cron.daily/rpm` writes it
    /// (`rpm -qa --qf '%{name}-%{version}-%{release}.%{arch}.rpm\n' | sort`). Call after
    /// adding the packages.
    pub fn with_rpmpkgs_report(self) -> HostSpec {
        let mut lines: Vec<String> = self.packages.iter().map(Package::rpmpkgs_line).collect();
        lines.sort();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.file("/var/log/rpmpkgs", text)
    }

    /// A copy of its dpkg status file at `/var/backups/dpkg.status.0`, where Debian's daily
    /// `/etc/cron.daily/dpkg` keeps one. Call after adding the packages.
    pub fn with_dpkg_status_copy(self) -> HostSpec {
        assert_eq!(self.os.manager(), Manager::Dpkg);
        let text = dpkg_status(&self.packages, &self.removed);
        self.file("/var/backups/dpkg.status.0", text)
    }

    /// The packages its manager reports as installed, sorted.
    pub fn installed(&self) -> Vec<Package> {
        let mut all = match self.generated {
            Some(count) => generated_names(count)
                .map(|n| Package::new(&n, "1.0-1", "amd64"))
                .collect(),
            None => self.packages.clone(),
        };
        all.sort();
        all
    }
}

fn generated_names(count: usize) -> impl Iterator<Item = String> {
    (0..count).map(|i| format!("pkg-{i:06}"))
}

/// A dpkg status file: the installed packages as DpkgDb writes them, then the removed ones.
fn dpkg_status(installed: &[Package], removed: &[Package]) -> String {
    let mut status = DpkgDb::status(pkgs(installed).into_iter());
    for p in removed {
        status.push_str(&format!(
            "Package: {}\nStatus: deinstall ok config-files\nPriority: optional\nSection: misc\n\
             Maintainer: Test <test@example.com>\nArchitecture: {}\nVersion: {}\n\
             Conffiles:\n /etc/{}/config 0123456789abcdef0123456789abcdef\n\
             Description: test package\n\n",
            p.name, p.arch, p.version, p.name
        ));
    }
    status
}

fn pkgs(packages: &[Package]) -> Vec<Pkg<'_>> {
    packages
        .iter()
        .map(|p| Pkg {
            name: &p.name,
            version: &p.version,
            arch: &p.arch,
        })
        .collect()
}

/// One running (or deliberately broken) host of a fleet.
#[derive(Debug)]
pub struct Host {
    pub spec: HostSpec,
    /// `127.0.1.N`.
    pub address: Ipv4Addr,
    pub port: u16,
    /// Its `ssh-ed25519 AAAA…` public host key, as sshd serves it.
    pub host_key: String,
    /// Its directory: sshd_config, host key and what is mounted over the system's.
    pub dir: PathBuf,
    /// Its sshd, unless nothing is to listen.
    peer: Option<Peer>,
    /// Holds the port of a NotListening host.
    _reserved: Option<OwnedFd>,
    /// Its `/var/lib/dpkg`.
    dpkg: Option<DpkgDb>,
}

impl Host {
    /// What the old-dpkg wrapper ([`HostSpec::old_dpkg`]) was asked, a line per run; empty
    /// when it never ran.
    pub fn old_dpkg_calls(&self) -> String {
        std::fs::read_to_string(self.dir.join("dpkg-query.calls")).unwrap_or_default()
    }

    /// Its hostname.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// `root@127.0.1.N:PORT`, as a hosts file lists it.
    pub fn target(&self) -> String {
        format!("root@{}:{}", self.address, self.port)
    }

    /// `127.0.1.N:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, self.port))
    }

    /// Its installed packages, sorted.
    pub fn installed(&self) -> Vec<Package> {
        self.spec.installed()
    }

    /// The directory mounted over its `/var/lib/dpkg`, if it runs.
    pub fn dpkg_admindir(&self) -> Option<&Path> {
        self.dpkg.as_ref().map(|db| db.dir.path())
    }
}

/// Which form `known_hosts` takes: `[127.0.1.N]:PORT ssh-ed25519 …` or, as Debian's default
/// `HashKnownHosts yes` leaves it, `|1|salt|hash ssh-ed25519 …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownHosts {
    Plain,
    Hashed,
}

/// Running hosts and the client files that reach them. Dropping it kills every sshd.
pub struct Fleet {
    pub hosts: Vec<Host>,
    dir: TempDir,
}

/// Addresses handed out in this process: successive fleets (and tests running in parallel)
/// take successive `127.0.1.N`. Ports come from the kernel, so an address reused by another
/// test process still never clashes.
static NEXT_ADDRESS: AtomicU32 = AtomicU32::new(0);

fn next_address() -> Ipv4Addr {
    let n = NEXT_ADDRESS.fetch_add(1, Ordering::Relaxed) % 254 + 1;
    Ipv4Addr::new(127, 0, 1, n as u8)
}

impl Fleet {
    /// Starts every host in parallel and returns once each working one has sent its SSH
    /// banner (and the hanging one has been stopped after sending it).
    pub fn start(specs: Vec<HostSpec>) -> Fleet {
        require_root();
        require("sshd", "openssh-server");
        require("ssh-keygen", "openssh-client");
        require("unshare", "util-linux");
        let names: BTreeSet<&str> = specs.iter().map(|s| s.alias.as_str()).collect();
        assert_eq!(names.len(), specs.len(), "host aliases must be unique");

        // rpm syncs its sqlite database to disk at every package, which costs a second or more
        // per host on a disk; on tmpfs the syncs are free.
        let shm = Path::new("/dev/shm");
        let dir = tempfile::Builder::new()
            .prefix("opskit-fleet")
            .tempdir_in(if shm.is_dir() { shm } else { Path::new("/tmp") })
            .unwrap();
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let client = dir.path().join("client");
        std::fs::create_dir_all(&client).unwrap();
        keygen(&client.join("id_ed25519"));
        let ours = std::fs::read_to_string(client.join("id_ed25519.pub")).unwrap();
        std::fs::write(dir.path().join("authorized_keys"), &ours).unwrap();
        // A key that is not ours, for the host that refuses us.
        keygen(&client.join("stranger"));
        std::fs::copy(
            client.join("stranger.pub"),
            dir.path().join("authorized_keys.stranger"),
        )
        .unwrap();

        // Build every rpm once, before the hosts race for them.
        let wanted: BTreeSet<&Package> = specs
            .iter()
            .filter(|s| s.os.manager() == Manager::Rpm)
            .flat_map(|s| &s.packages)
            .collect();
        let wanted: Vec<&Package> = wanted.into_iter().collect();
        std::thread::scope(|scope| {
            for half in wanted.chunks(wanted.len().div_ceil(2).max(1)) {
                scope.spawn(move || half.iter().for_each(|p| drop(rpm_file(p))));
            }
        });

        let root = dir.path();
        let hosts: Vec<Host> = std::thread::scope(|scope| {
            let handles: Vec<_> = specs
                .into_iter()
                .map(|spec| {
                    let address = next_address();
                    scope.spawn(move || start_host(root, spec, address))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let fleet = Fleet { hosts, dir };
        fleet.write_known_hosts();
        fleet
    }

    pub fn host(&self, alias: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.spec.alias == alias)
            .unwrap_or_else(|| panic!("no host {alias} in the fleet"))
    }

    /// The hosts that behave.
    pub fn normal(&self) -> impl Iterator<Item = &Host> {
        self.hosts
            .iter()
            .filter(|h| h.spec.behaviour == Behaviour::Normal)
    }

    /// The client's private key (its public half is in every host's authorized_keys but the
    /// refusing one's).
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("client/id_ed25519")
    }

    /// A known_hosts file with every host's key (the changed-key host's old one).
    pub fn known_hosts(&self, form: KnownHosts) -> PathBuf {
        self.dir.path().join(match form {
            KnownHosts::Plain => "client/known_hosts",
            KnownHosts::Hashed => "client/known_hosts.hashed",
        })
    }

    fn write_known_hosts(&self) {
        let mut text = String::new();
        for h in &self.hosts {
            let key = match h.spec.behaviour {
                Behaviour::NotListening => continue,
                Behaviour::ChangedKey => {
                    // The key the host had before it was "reinstalled".
                    let old = h.dir.join("old_host_key");
                    keygen(&old);
                    pubkey(&old.with_extension("pub"))
                }
                _ => h.host_key.clone(),
            };
            text.push_str(&format!("[{}]:{} {key}\n", h.address, h.port));
        }
        let plain = self.known_hosts(KnownHosts::Plain);
        std::fs::write(&plain, &text).unwrap();
        let hashed = self.known_hosts(KnownHosts::Hashed);
        std::fs::write(&hashed, &text).unwrap();
        let out = Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(&hashed)
            .output()
            .unwrap();
        assert!(out.status.success(), "ssh-keygen -H: {out:?}");
        let _ = std::fs::remove_file(hashed.with_extension("hashed.old"));
    }

    /// `Host ALIAS / HostName / Port / User root / IdentityFile` for every host. The key path
    /// is absolute: OpenSSH expands `~` from the password database, not from `$HOME`.
    pub fn ssh_config(&self, home: &Path) -> String {
        let key = home.join(".ssh/id_ed25519");
        self.hosts
            .iter()
            .map(|h| {
                format!(
                    "Host {}\n    HostName {}\n    Port {}\n    User root\n    IdentityFile {}\n\n",
                    h.spec.alias,
                    h.address,
                    h.port,
                    key.display()
                )
            })
            .collect()
    }

    /// Gives `home` what a user who reaches the fleet has: `~/.ssh/id_ed25519` (+ `.pub`) and
    /// `~/.ssh/known_hosts` in the given form. No `~/.ssh/config`: see [`Fleet::install_ssh_config`].
    pub fn install_client(&self, home: &Path, form: KnownHosts) {
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::copy(self.key(), ssh.join("id_ed25519")).unwrap();
        std::fs::copy(self.key().with_extension("pub"), ssh.join("id_ed25519.pub")).unwrap();
        std::fs::copy(self.known_hosts(form), ssh.join("known_hosts")).unwrap();
    }

    /// Writes `~/.ssh/config` with one alias per host.
    pub fn install_ssh_config(&self, home: &Path) {
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::write(ssh.join("config"), self.ssh_config(home)).unwrap();
    }

    /// A hosts file for the scanner: one `root@127.0.1.N:PORT` per line, for these hosts.
    pub fn hosts_file<'a>(&self, hosts: impl IntoIterator<Item = &'a Host>) -> PathBuf {
        let path = unique(self.dir.path().join("hosts"));
        let text: String = hosts
            .into_iter()
            .map(|h| format!("{}\n", h.target()))
            .collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The OpenSSH client, strict about host keys, never prompting, ready for a remote command.
    /// No ConnectTimeout: OpenSSH keeps the first value given, so callers add their own (ssh
    /// takes options after the destination too).
    pub fn ssh(&self, host: &Host, form: KnownHosts) -> Command {
        require("ssh", "openssh-client");
        let mut cmd = Command::new("ssh");
        cmd.args(["-F", "none", "-o", "BatchMode=yes", "-o"])
            .arg("StrictHostKeyChecking=yes")
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.known_hosts(form).display()
            ))
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .arg("-i")
            .arg(self.key())
            .arg("-p")
            .arg(host.port.to_string())
            .arg(format!("root@{}", host.address))
            .stdin(Stdio::null());
        cmd
    }
}

/// `path`, or `path.N` if that is taken.
fn unique(path: PathBuf) -> PathBuf {
    let mut candidate = path.clone();
    let mut n = 0;
    while candidate.exists() {
        n += 1;
        candidate = path.with_extension(n.to_string());
    }
    candidate
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for h in &mut self.hosts {
            if let Some(peer) = h.peer.take() {
                // Connections still open (a client that leaked a session) are served by the
                // listener's children, which live on after it (each is its own session):
                // end them first, while they are still known by their parent.
                for pid in children_of(peer.pid()) {
                    // SAFETY: signalling a process by id; the worst case is a stale id.
                    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                }
                // Then the listener itself.
                drop(peer);
            }
        }
    }
}

/// A machine id (32 hex digits) of its own for each host, derived from its fresh host key, so
/// that a scanner keying hosts on /etc/machine-id does not see one machine.
fn machine_id(host_key: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let halves: Vec<u64> = (0..2)
        .map(|i| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write(host_key.as_bytes());
            h.write_u8(i);
            h.finish()
        })
        .collect();
    format!("{:016x}{:016x}", halves[0], halves[1])
}

/// The pids whose parent is `parent`, from /proc.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // The parent pid is the second field after the command, which is in parentheses
            // and may itself hold spaces and parentheses.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let rest = &stat[stat.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

/// A new ed25519 key pair without passphrase at `path` and `path.pub`.
fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "opskit-test", "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
}

/// `ssh-ed25519 AAAA…` from a .pub file, without its comment.
fn pubkey(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A TCP socket bound to a port on `address` but not listening: connections to it are
/// refused, and nobody else can bind the port while it is held.
fn reserve_port(address: Ipv4Addr) -> (OwnedFd, u16) {
    // SAFETY: plain socket calls on a descriptor we own; sockaddr_in is fully initialised.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let fd = OwnedFd::from_raw_fd(fd);
        let mut sin: libc::sockaddr_in = std::mem::zeroed();
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from(address).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        assert_eq!(
            libc::bind(raw, &sin as *const _ as *const libc::sockaddr, len),
            0,
            "bind: {}",
            std::io::Error::last_os_error()
        );
        let mut len = len;
        assert_eq!(
            libc::getsockname(raw, &mut sin as *mut _ as *mut libc::sockaddr, &mut len),
            0
        );
        (fd, u16::from_be(sin.sin_port))
    }
}

/// Lays out one host's files and starts its sshd (unless nothing is to listen).
fn start_host(root: &Path, spec: HostSpec, address: Ipv4Addr) -> Host {
    let dir = root.join(format!("host-{}", address));
    let dir = unique(dir);
    for sub in ["root/.rpmdb", "log", "backups"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    if spec.behaviour == Behaviour::NotListening {
        let (fd, port) = reserve_port(address);
        return Host {
            spec,
            address,
            port,
            host_key: String::new(),
            dir,
            peer: None,
            _reserved: Some(fd),
            dpkg: None,
        };
    }
    keygen(&dir.join("host_key"));
    let host_key = pubkey(&dir.join("host_key.pub"));
    std::fs::write(dir.join("os-release"), spec.os.os_release()).unwrap();
    std::fs::write(dir.join("hostname"), format!("{}\n", spec.name)).unwrap();
    std::fs::write(
        dir.join("machine-id"),
        format!("{}\n", machine_id(&host_key)),
    )
    .unwrap();
    for (path, contents) in &spec.files {
        let local = if let Some(rest) = path.strip_prefix("/root/") {
            dir.join("root").join(rest)
        } else if let Some(rest) = path.strip_prefix("/var/log/") {
            dir.join("log").join(rest)
        } else {
            dir.join("backups")
                .join(path.strip_prefix("/var/backups/").unwrap())
        };
        std::fs::create_dir_all(local.parent().unwrap()).unwrap();
        std::fs::write(local, contents).unwrap();
    }
    if spec.old_dpkg {
        // NAMESPACE_SCRIPT mounts the real dpkg-query on dpkg-query.real, then this over it.
        std::fs::write(dir.join("dpkg-query.real"), "").unwrap();
        super::packages::write_old_dpkg_query(
            &dir.join("dpkg-query.old"),
            &dir.join("dpkg-query.real"),
        );
    }

    // Each host has both databases, like a machine with both tools installed: the one of its
    // OS holds its packages, the other is empty (lists nothing, exits 0).
    let dpkg = match (spec.generated, spec.os.manager()) {
        (Some(count), _) => DpkgDb::generated(count, "1.0-1"),
        (None, Manager::Dpkg) => {
            let db = DpkgDb::new(&[]);
            std::fs::write(
                db.dir.path().join("status"),
                dpkg_status(&spec.packages, &spec.removed),
            )
            .unwrap();
            db.write_lists(pkgs(&spec.packages).into_iter());
            db
        }
        (None, Manager::Rpm) => DpkgDb::new(&[]),
    };
    let rpm_packages: Vec<&Package> = match spec.os.manager() {
        Manager::Rpm => spec.packages.iter().collect(),
        Manager::Dpkg => Vec::new(),
    };
    RpmDb::create(&dir.join("root/.rpmdb"), rpm_packages);

    let authorized = root.join(match spec.behaviour {
        Behaviour::RefusesKey => "authorized_keys.stranger",
        _ => "authorized_keys",
    });
    let peer = Peer::tcp(address).patience(Duration::from_secs(20)).start(
        |port| {
            std::fs::write(
                dir.join("sshd_config"),
                sshd_config(&dir, address, port, &authorized),
            )
            .unwrap();
            let mut cmd = Command::new("unshare");
            cmd.args(["--uts", "--mount", "--propagation", "private", "--"])
                .args(["sh", "-c", NAMESPACE_SCRIPT, "sh"])
                .arg(&spec.name)
                .arg(&dir)
                .arg(dpkg.dir.path());
            cmd
        },
        |probe| sends_banner(address, probe.port),
    );
    if spec.behaviour == Behaviour::Hangs {
        // SAFETY: signalling our own child, which the peer has not reaped.
        unsafe { libc::kill(peer.pid() as i32, libc::SIGSTOP) };
    }
    Host {
        port: peer.port(),
        spec,
        address,
        host_key,
        dir,
        peer: Some(peer),
        _reserved: None,
        dpkg: Some(dpkg),
    }
}

/// Runs inside the host's new UTS and mount namespaces (private propagation, so nothing leaks
/// to the machine): names the host, mounts its files over the system's, becomes sshd.
/// `$1` hostname, `$2` host directory, `$3` dpkg admin directory. The hostname goes through
/// /proc because hostname(1) rejects the odd names the tests want.
const NAMESPACE_SCRIPT: &str = r#"set -e
printf '%s' "$1" > /proc/sys/kernel/hostname
mount --bind "$2/hostname" /etc/hostname
mount --bind "$2/machine-id" /etc/machine-id
mount --bind "$2/os-release" /etc/os-release
mount --bind "$3" /var/lib/dpkg
mount --bind "$2/root" /root
mkdir -p /var/lib/rpm
mount --bind "$2/root/.rpmdb" /var/lib/rpm
mount --bind "$2/log" /var/log
mkdir -p /var/backups
mount --bind "$2/backups" /var/backups
if [ -e "$2/dpkg-query.old" ]; then
    q=$(command -v dpkg-query)
    mount --bind "$q" "$2/dpkg-query.real"
    mount --bind "$2/dpkg-query.old" "$q"
fi
exec /usr/sbin/sshd -D -e -f "$2/sshd_config"
"#;

fn sshd_config(dir: &Path, address: Ipv4Addr, port: u16, authorized: &Path) -> String {
    format!(
        "ListenAddress {address}:{port}\n\
         HostKey {}\n\
         AuthorizedKeysFile {}\n\
         PermitRootLogin prohibit-password\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         # The authorized_keys and keys live in a temporary directory, not in ~/.ssh.\n\
         StrictModes no\n\
         UsePAM no\n\
         # Several sshds run at once; none writes the machine's /run/sshd.pid.\n\
         PidFile none\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         UseDNS no\n\
         # A scanner opens many connections and channels at once.\n\
         MaxStartups 200\n\
         MaxSessions 100\n\
         LogLevel VERBOSE\n\
         Subsystem sftp internal-sftp\n",
        dir.join("host_key").display(),
        authorized.display()
    )
}

/// Whether sshd answers at `address:port` with an SSH banner.
fn sends_banner(address: Ipv4Addr, port: u16) -> bool {
    let Ok(stream) =
        TcpStream::connect_timeout(&SocketAddr::from((address, port)), Duration::from_secs(2))
    else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("SSH-2.0-")
}

/// The standard fleet: 22 hosts of six distributions, dpkg and rpm, whose versions differ from
/// host to host (openssl at several versions, with epochs, tildes and carets), with packages
/// common to all, two kernels installed side by side, a multi-arch library, a removed package
/// with config files left, and daily package reports on two hosts.
pub fn standard_fleet() -> Vec<HostSpec> {
    let mut specs = Vec::new();
    let debian = |name: &str, os: Os, openssl: &str, agent: &str| {
        let (ssh, libc, tz) = match os {
            Os::Debian11 => ("1:8.4p1-5+deb11u3", "2.31-13+deb11u11", "2024a-0+deb11u1"),
            Os::Debian12 => ("1:9.2p1-2+deb12u3", "2.36-9+deb12u7", "2024a-0+deb12u1"),
            Os::Ubuntu2204 => (
                "1:8.9p1-3ubuntu0.10",
                "2.35-0ubuntu3.8",
                "2024a-0ubuntu0.22.04",
            ),
            _ => ("1:9.6p1-3ubuntu13.5", "2.39-0ubuntu8.3", "2024a-3ubuntu1.1"),
        };
        HostSpec::new(name, os)
            .pkg("openssl", openssl)
            .pkg("libssl3", openssl)
            .pkg("openssh-server", ssh)
            .pkg("libc6", libc)
            .pkg_arch("tzdata", tz, "all")
            .pkg_arch("ca-certificates", "20230311", "all")
            .pkg("bash", "5.2.15-2+b2")
            .pkg("coreutils", "9.1-1")
            .pkg("opskit-agent", agent)
    };
    let redhat = |name: &str, os: Os, openssl: &str, agent: &str| {
        let (ssh, glibc, kernel) = match os {
            Os::Centos7 => ("7.4p1-23.el7_9", "2.17-326.el7_9", "3.10.0-1160.119.1.el7"),
            Os::Rhel8 => (
                "8.0p1-19.el8_9.2",
                "2.28-236.el8_9.13",
                "4.18.0-513.24.1.el8_9",
            ),
            Os::Fedora40 => ("9.6p1-1.fc40.4", "2.39-22.fc40", "6.10.6-200.fc40"),
            _ => (
                "8.7p1-38.el9_4.4",
                "2.34-100.el9_4.2",
                "5.14.0-427.13.1.el9_4",
            ),
        };
        HostSpec::new(name, os)
            .pkg("openssl", openssl)
            .pkg("openssl-libs", openssl)
            .pkg("openssh-server", ssh)
            .pkg("glibc", glibc)
            .pkg("kernel", kernel)
            .pkg_arch("tzdata", "2024a-1.el9", "noarch")
            .pkg_arch("ca-certificates", "2023.2.60_v7.0.306-90.1.el9_2", "noarch")
            .pkg("bash", "5.1.8-9.el9")
            .pkg("coreutils", "8.32-35.el9")
            .pkg("opskit-agent", agent)
    };

    // Debian 12: two openssl point releases (tilde revisions), the agent at an rc (tilde), a
    // release, and a git snapshot (plus).
    for (i, openssl, agent) in [
        (1, "3.0.11-1~deb12u2", "2.0~rc1-1"),
        (2, "3.0.11-1~deb12u2", "2.0-1"),
        (3, "3.0.11-1~deb12u2", "2.0-1"),
        (4, "3.0.15-1~deb12u1", "2.0-1"),
        (5, "3.0.15-1~deb12u1", "2.0+git20240101-1"),
        (6, "3.0.15-1~deb12u1", "2.0-1"),
    ] {
        specs.push(debian(&format!("web-{i}"), Os::Debian12, openssl, agent));
    }
    // A multi-arch library (the same package for amd64 and i386), and a removed package.
    specs[1] = specs[1]
        .clone()
        .pkg_arch("libc6", "2.36-9+deb12u7", "i386")
        .removed("apache2", "2.4.59-1~deb12u1");
    specs.push(debian("web-7", Os::Debian11, "1.1.1w-0+deb11u1", "1.9-1"));
    specs.push(debian("web-8", Os::Debian11, "1.1.1w-0+deb11u1", "1.9-1").with_dpkg_status_copy());
    for (i, os, openssl) in [
        (1, Os::Ubuntu2204, "3.0.2-0ubuntu1.15"),
        (2, Os::Ubuntu2204, "3.0.2-0ubuntu1.18"),
        (3, Os::Ubuntu2204, "3.0.2-0ubuntu1.18"),
        (4, Os::Ubuntu2404, "3.0.13-0ubuntu3.4"),
        (5, Os::Ubuntu2404, "3.0.13-0ubuntu3.4"),
    ] {
        specs.push(debian(&format!("db-{i}"), os, openssl, "2.0-1").pkg("postgresql-16", "16.4-1"));
    }
    // Rocky 9: openssl with an epoch at two releases; the agent at an rc (tilde), a release and a
    // snapshot (caret).
    for (i, openssl, agent) in [
        (1, "1:3.0.7-27.el9", "2.0~rc1-1.el9"),
        (2, "1:3.0.7-27.el9", "2.0-1.el9"),
        (3, "1:3.0.7-28.el9_4", "2.0^20240101git1a2b3c-1.el9"),
        (4, "1:3.0.7-28.el9_4", "2.0-1.el9"),
    ] {
        specs.push(redhat(&format!("app-{i}"), Os::Rocky9, openssl, agent));
    }
    // Two kernels side by side, as after an update before the reboot.
    specs.last_mut().unwrap().packages.push(Package::new(
        "kernel",
        "5.14.0-362.8.1.el9_3",
        "x86_64",
    ));
    specs.push(redhat("app-5", Os::Rhel8, "1:1.1.1k-12.el8_9", "1.9-1.el8"));
    specs.push(redhat("app-6", Os::Rhel8, "1:1.1.1k-12.el8_9", "1.9-1.el8"));
    specs.push(
        redhat("legacy-1", Os::Centos7, "1:1.0.2k-26.el7_9", "1.0-1.el7").with_rpmpkgs_report(),
    );
    specs.push(redhat(
        "legacy-2",
        Os::Centos7,
        "1:1.0.2k-26.el7_9",
        "1.0-1.el7",
    ));
    specs.push(redhat(
        "dev-1",
        Os::Fedora40,
        "1:3.2.2-3.fc40",
        "2.0^20240101git1a2b3c-1.fc40",
    ));
    specs
}

/// Hosts that go wrong in every way a scan must survive: a changed host key, one that hangs
/// after the TCP handshake, one that refuses our key, one where nothing listens, and one whose
/// hostname is full of terminal escapes.
pub fn troubled_hosts() -> Vec<HostSpec> {
    vec![
        HostSpec::new("stale-key", Os::Debian12)
            .pkg("openssl", "3.0.11-1~deb12u2")
            .behaviour(Behaviour::ChangedKey),
        HostSpec::new("hung", Os::Debian12)
            .pkg("openssl", "3.0.11-1~deb12u2")
            .behaviour(Behaviour::Hangs),
        HostSpec::new("no-entry", Os::Rocky9)
            .pkg("openssl", "1:3.0.7-27.el9")
            .behaviour(Behaviour::RefusesKey),
        HostSpec::new("dead", Os::Debian12).behaviour(Behaviour::NotListening),
        HostSpec::new(ESCAPE_HOSTNAME, Os::Debian12)
            .alias("escapes")
            .pkg("openssl", "3.0.11-1~deb12u2"),
    ]
}

/// A hostname that retitles an xterm, rings its bell and turns text red, if printed raw.
pub const ESCAPE_HOSTNAME: &str = "evil\x1b]0;pwned\x07\x1b[31mred\x1b[0m";
