//! The configuration file: where it is, how it is read, and why it may be refused.
//!
//! Lookup order: `--config`, else `$OPSKIT_CONFIG`, else `$XDG_CONFIG_HOME/opskit/config.toml`
//! (`~/.config/opskit/config.toml`). A missing default file is not an error (every setting has a
//! default); a missing file that was named explicitly is. A file that holds secrets (SNMP
//! communities, keys, passwords) and is readable by group or others is refused, as ssh refuses
//! such a private key, because anyone on the machine could read the credentials of every switch.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};

/// The whole configuration; every section is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[catalog]`: where the catalog lives.
    #[serde(default)]
    pub catalog: CatalogConfig,
    /// `[dns]`: which server to ask and how long to wait.
    #[serde(default)]
    pub dns: DnsConfig,
    /// `[snmp]`: defaults for every switch (credentials, timeout, concurrency).
    #[serde(default)]
    pub snmp: SnmpConfig,
    /// `[[switch]]`: the switches and routers crawl-switches polls.
    #[serde(default, rename = "switch")]
    pub switches: Vec<SwitchConfig>,
    /// `[ssh]`: defaults for every host scan-hosts reaches over SSH.
    #[serde(default)]
    pub ssh: SshConfig,
    /// `[[host]]`: hosts scan-hosts knows by name, with settings that differ from `[ssh]`.
    #[serde(default, rename = "host")]
    pub hosts: Vec<HostConfig>,
    /// `[groups]`: named lists of hosts (`[user@]host[:port]` or hostname globs), for
    /// `scan-hosts GROUP` and for the hosts an expectation applies to.
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
    /// `[packages]`: where pkg-where finds what should be installed.
    #[serde(default)]
    pub packages: PackagesConfig,
    /// `[[fact]]`: custom facts scan-hosts gathers on every host it scans over SSH.
    #[serde(default, rename = "fact")]
    pub facts: Vec<FactConfig>,
    /// `[ec2]`: where sync-ec2 and sshec2 look, and how sshec2 connects.
    #[serde(default)]
    pub ec2: Ec2Config,
    /// `[whatis]`: what whatis-ip reads besides the catalog.
    #[serde(default)]
    pub whatis: WhatisConfig,
    /// `[audit]`: how scan-hosts reads each host's audit log.
    #[serde(default)]
    pub audit: AuditConfig,
    /// `[[alert]]`: which events `who-did --follow` prints (default: root logins, failed root
    /// logins, watched programs, deletes where they hurt, sudoers and account files, auditing).
    #[serde(default, rename = "alert")]
    pub alerts: Vec<AlertConfig>,
    /// Where the configuration was read from, if a file was read.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[catalog]` section.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// Path of the SQLite catalog, used when neither `--catalog` nor `$OPSKIT_CATALOG` is set.
    pub path: Option<PathBuf>,
    /// A PostgreSQL catalog instead: a `postgres://` URL or libpq `key=value` string. A
    /// password in it makes this file a secret (mode 0600); PGPASSWORD or ~/.pgpass are
    /// better places.
    pub url: Option<String>,
}

/// `[audit]` section.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Whether scan-hosts reads audit logs (default true; `scan-hosts --no-audit` skips them).
    pub enabled: Option<bool>,
    /// The audit log (default /var/log/audit/audit.log); auditd's rotated files are LOG.1,
    /// LOG.2, … (LOG.1 the newest of them).
    pub log: Option<String>,
    /// Read the log through `sudo -n` (no password prompt) when it is not readable as the SSH
    /// user: the log is root's, and logging in as root is what the audit trail is for.
    pub sudo: Option<bool>,
    /// The most MiB read from one host's audit log per scan (default 16): a first scan of a
    /// big log is bounded, and the rest is read by the next scans. Memory: each host in flight
    /// holds its read and its parsed events, about three times this.
    pub max_read_mib: Option<usize>,
}

/// `[[alert]]`: one alert rule of `who-did --follow`; every condition given must hold, and a
/// list holds when any of its items does.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    pub name: String,
    /// Kinds of event (login, failed-login, sudo, exec, delete, …).
    #[serde(default)]
    pub kind: Vec<String>,
    /// Globs on the person.
    #[serde(default)]
    pub user: Vec<String>,
    /// Globs on whom it ran as.
    #[serde(default, rename = "as")]
    pub acting_as: Vec<String>,
    /// Globs on the file path.
    #[serde(default)]
    pub path: Vec<String>,
    /// Globs on the command line.
    #[serde(default)]
    pub command: Vec<String>,
    /// Globs on the host.
    #[serde(default)]
    pub host: Vec<String>,
    /// Rule keys (globs).
    #[serde(default)]
    pub key: Vec<String>,
    /// "success" or "failed".
    pub result: Option<String>,
}

impl Config {
    /// The alert rules: the `[[alert]]`s, or the defaults when there is none.
    pub fn alerts(&self) -> Result<Vec<crate::model::audit::Alert>> {
        use crate::model::audit::{Alert, Kind};
        if self.alerts.is_empty() {
            return Ok(Alert::defaults());
        }
        self.alerts
            .iter()
            .map(|a| {
                let bad = |why: String| {
                    Error::new(ErrorKind::Config, format!("[[alert]] {:?}: {why}", a.name))
                };
                let kinds = a
                    .kind
                    .iter()
                    .map(|k| k.parse::<Kind>().map_err(bad))
                    .collect::<Result<Vec<_>>>()?;
                let success = match a.result.as_deref() {
                    None => None,
                    Some("success") => Some(true),
                    Some("failed") => Some(false),
                    Some(other) => {
                        return Err(bad(format!("result {other:?} (success or failed)")));
                    }
                };
                Ok(Alert {
                    name: a.name.clone(),
                    kinds,
                    users: a.user.clone(),
                    acting_as: a.acting_as.clone(),
                    what: a.path.iter().chain(&a.command).cloned().collect(),
                    hosts: a.host.clone(),
                    keys: a.key.clone(),
                    success,
                })
            })
            .collect()
    }
}

/// `[packages]` section.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesConfig {
    /// The expectations file `pkg-where --drift` reads when `--expectations` is not given
    /// (default `$XDG_CONFIG_HOME/opskit/expected.toml`).
    pub expectations: Option<PathBuf>,
}

/// `[dns]` section.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// `ADDR[:PORT]` of a DNS server to ask instead of the system's resolvers.
    pub server: Option<String>,
    /// Seconds to wait for one DNS answer (default 2).
    pub timeout: Option<f64>,
}

impl DnsConfig {
    /// The per-query timeout, defaulting to two seconds: long enough for a slow resolver,
    /// short enough that a dead one does not stall an interactive answer.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout.unwrap_or(2.0).clamp(0.05, 60.0))
    }
}

/// SNMP settings: the `[snmp]` defaults, and each `[[switch]]`'s overrides of them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpConfig {
    /// `1`, `2c` or `3` (default `2c`).
    pub version: Option<String>,
    /// v1/v2c community (default: `$OPSKIT_SNMP_COMMUNITY`, else `public`).
    pub community: Option<String>,
    /// v3 user name.
    pub user: Option<String>,
    /// v3 authentication protocol: md5, sha (sha1), sha224, sha256, sha384, sha512.
    pub auth_protocol: Option<String>,
    /// v3 authentication pass phrase.
    pub auth_key: Option<String>,
    /// v3 privacy protocol: des, aes (aes128), aes192, aes256 (net-snmp's key extension), or
    /// aes192c, aes256c (Cisco's key extension).
    pub priv_protocol: Option<String>,
    /// v3 privacy pass phrase.
    pub priv_key: Option<String>,
    /// v3 context name.
    pub context: Option<String>,
    /// Seconds to wait for one answer (default 2).
    pub timeout: Option<f64>,
    /// Retries after a timeout (default 1).
    pub retries: Option<u32>,
    /// How many devices are crawled at once (default 32); only read from `[snmp]`.
    pub concurrency: Option<usize>,
    /// GETBULK max-repetitions (default 25).
    pub max_repetitions: Option<u32>,
    /// Seconds one device's whole crawl may take before it fails (default 600).
    pub deadline: Option<f64>,
}

impl SnmpConfig {
    /// These settings with every unset one taken from `defaults`.
    pub fn or(&self, defaults: &SnmpConfig) -> SnmpConfig {
        SnmpConfig {
            version: self.version.clone().or_else(|| defaults.version.clone()),
            community: self
                .community
                .clone()
                .or_else(|| defaults.community.clone()),
            user: self.user.clone().or_else(|| defaults.user.clone()),
            auth_protocol: self
                .auth_protocol
                .clone()
                .or_else(|| defaults.auth_protocol.clone()),
            auth_key: self.auth_key.clone().or_else(|| defaults.auth_key.clone()),
            priv_protocol: self
                .priv_protocol
                .clone()
                .or_else(|| defaults.priv_protocol.clone()),
            priv_key: self.priv_key.clone().or_else(|| defaults.priv_key.clone()),
            context: self.context.clone().or_else(|| defaults.context.clone()),
            timeout: self.timeout.or(defaults.timeout),
            retries: self.retries.or(defaults.retries),
            concurrency: self.concurrency.or(defaults.concurrency),
            max_repetitions: self.max_repetitions.or(defaults.max_repetitions),
            deadline: self.deadline.or(defaults.deadline),
        }
    }
}

/// One `[[switch]]`: where it is, what it is, and any settings that differ from `[snmp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchConfig {
    /// `host[:port]` (port 161 by default); IPv6 as `[addr]:port`.
    pub address: String,
    /// A name to show when the device does not report a sysName.
    pub name: Option<String>,
    /// `switch` (default) or `router`: routers are also read for ARP and neighbours.
    pub role: Option<String>,
    /// Per-switch overrides of `[snmp]`.
    #[serde(flatten)]
    pub snmp: SnmpConfig,
}

/// `[ssh]` section: how scan-hosts connects, unless `~/.ssh/config` or a `[[host]]` says otherwise.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshConfig {
    /// Remote user (default: `~/.ssh/config`'s User, else the local user name).
    pub user: Option<String>,
    /// Port (default: `~/.ssh/config`'s Port, else 22).
    pub port: Option<u16>,
    /// Private key files to try after the agent (default: `~/.ssh/config`'s IdentityFile, else
    /// `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`).
    #[serde(default)]
    pub identity_files: Vec<PathBuf>,
    /// The known_hosts file host keys are checked against (default `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// Seconds to wait for a connection and the SSH handshake (default 10).
    pub connect_timeout: Option<f64>,
    /// Seconds one host may take to answer once connected (default 120).
    pub command_timeout: Option<f64>,
    /// How many hosts are scanned at once (default 64).
    pub concurrency: Option<usize>,
    /// MiB of output one host may send (default 256).
    pub max_output_mib: Option<usize>,
    /// MiB of output all the hosts scanned at once may hold together (default 1024).
    pub max_total_output_mib: Option<usize>,
}

/// One `[[host]]`: a host scan-hosts reaches by this name, and how.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The name used on the command line and in groups (`web-7`, or a glob: `web-*`).
    pub name: String,
    /// Address or DNS name to connect to (default: the name itself).
    pub address: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_file: Option<PathBuf>,
    /// Read a pre-made package report over SFTP instead of running the package manager.
    pub package_report: Option<PackageReportConfig>,
}

/// Where a host's pre-made package report is and what format it is in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageReportConfig {
    /// Remote path (`/var/log/rpmpkgs`, or a copy of `/var/lib/dpkg/status`).
    pub path: String,
    /// `rpmpkgs` (CentOS's daily `name-version-release.arch.rpm` list) or `dpkg-status`.
    pub format: String,
}

/// One `[[fact]]`: a custom fact and the command that prints it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactConfig {
    /// The fact's name in the catalog and in whatis-host.
    pub name: String,
    /// The program and its arguments, run on the host without a shell's interpretation of them.
    pub command: Vec<String>,
    /// `text` (default: the output, trimmed) or `json` (the output parsed as JSON).
    pub format: Option<String>,
}

/// The default AWS connection timeout: AWS endpoints answer in milliseconds, so three seconds
/// without a connection means the network or the endpoint is down.
pub const EC2_DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// `[ec2]` section. Credentials are never here: they come from the AWS chain (environment,
/// `~/.aws`, SSO, instance role), which has its own protections.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2Config {
    /// Regions to read (default: the AWS default region, from `AWS_REGION` or the profile).
    #[serde(default)]
    pub regions: Vec<String>,
    /// AWS profiles (accounts) to read (default: the default credential chain).
    #[serde(default)]
    pub profiles: Vec<String>,
    /// sshec2's remote user when neither `user@` nor `-l` gives one (default: ssh's own).
    pub user: Option<String>,
    /// sshec2's address preference: `auto` (default), `public`, `private` or `ipv6`.
    pub address: Option<crate::model::ec2::AddressKind>,
    /// Seconds to wait for a connection to AWS (default 3).
    pub timeout: Option<f64>,
}

impl Ec2Config {
    /// The connection timeout, bounded so a typo cannot make a run wait forever.
    pub fn timeout(&self) -> Duration {
        self.timeout.map_or(EC2_DEFAULT_TIMEOUT, |t| {
            Duration::from_secs_f64(t.clamp(0.1, 60.0))
        })
    }
}

/// `[whatis]` section.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatisConfig {
    /// The subnets file whatis-ip names addresses with (CSV or TOML, see
    /// [`crate::net::subnets`]); default `$XDG_CONFIG_HOME/opskit/subnets.toml`, else
    /// `subnets.csv` there, whichever exists.
    pub subnets: Option<PathBuf>,
}

/// Key names (or suffixes) that mark a value as a secret.
const SECRET_KEYS: &[&str] = &[
    "community",
    "password",
    "passphrase",
    "secret",
    "auth_key",
    "priv_key",
    "token",
];

/// Finds the configuration file to read: explicit path, `$OPSKIT_CONFIG`, or the XDG default.
/// The boolean says whether the file was named explicitly (and so must exist).
pub fn locate(explicit: Option<&Path>) -> Option<(PathBuf, bool)> {
    if let Some(p) = explicit {
        return Some((p.to_path_buf(), true));
    }
    if let Some(p) = std::env::var_os("OPSKIT_CONFIG").filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|d| (d.join("opskit/config.toml"), false))
}

/// `$VAR` if it is set to an absolute path, else `$HOME/<fallback>`, as the XDG spec says.
pub fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(p) if p.is_absolute() => Some(p),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(fallback)),
    }
}

impl Config {
    /// The members of group `name`, with the groups it names expanded in turn (in order, each
    /// member once); `None` when there is no such group. Each group is expanded once however
    /// often it is named, so nesting costs linear time, and a group that contains itself,
    /// directly or through others, is an error naming the cycle.
    pub fn group_members(&self, name: &str) -> Result<Option<Vec<String>>> {
        if !self.groups.contains_key(name) {
            return Ok(None);
        }
        let mut done: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut path: Vec<&str> = Vec::new();
        self.expand_group(name, &mut done, &mut path)?;
        Ok(done.remove(name))
    }

    fn expand_group<'a>(
        &'a self,
        name: &'a str,
        done: &mut BTreeMap<&'a str, Vec<String>>,
        path: &mut Vec<&'a str>,
    ) -> Result<()> {
        if done.contains_key(name) {
            return Ok(());
        }
        if path.contains(&name) {
            path.push(name);
            return Err(Error::new(
                ErrorKind::Config,
                format!("[groups] has a cycle: {}", path.join(" -> ")),
            ));
        }
        path.push(name);
        let mut members: Vec<String> = Vec::new();
        for member in &self.groups[name] {
            if self.groups.contains_key(member.as_str()) {
                self.expand_group(member, done, path)?;
                for m in &done[member.as_str()] {
                    if !members.contains(m) {
                        members.push(m.clone());
                    }
                }
            } else if !members.contains(member) {
                members.push(member.clone());
            }
        }
        path.pop();
        done.insert(name, members);
        Ok(())
    }
}

/// A group member (`[user@]host[:port]` or a hostname glob) as a lower-case hostname glob:
/// what the catalog can match it against.
pub fn member_hostname(member: &str) -> String {
    let host = member.rsplit_once('@').map_or(member, |(_, h)| h);
    // `host:22` and `[2001:db8::1]:22` carry a port; a bare IPv6 address has colons but none.
    let host = match host.rsplit_once(':') {
        Some((h, port))
            if port.bytes().all(|b| b.is_ascii_digit())
                && (!h.contains(':') || (h.starts_with('[') && h.ends_with(']'))) =>
        {
            h
        }
        _ => host,
    };
    // `[2001:db8::1]` is an address in brackets; `web-[5-9]` is a glob class.
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) if inner.contains(':') => inner,
        _ => host,
    };
    host.to_lowercase()
}

/// Loads the configuration (see the module documentation for the lookup order).
pub fn load(explicit: Option<&Path>) -> Result<Config> {
    let Some((path, named)) = locate(explicit) else {
        return Ok(Config::default());
    };
    // The mode is read from the file that was opened, not looked up again by name: a failed or
    // raced second lookup must not pass for a private file.
    let opened = fs::File::open(&path).and_then(|mut f| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut f, &mut text)?;
        Ok((text, f.metadata()?.permissions().mode()))
    });
    let (text, mode) = match opened {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
            return Ok(Config::default());
        }
        Err(e) => {
            return Err(Error::with_source(
                ErrorKind::Config,
                format!("config {}", path.display()),
                e,
            ));
        }
    };
    parse(&text, &path, mode)
}

/// Parses configuration text; `mode` is the file's permission bits, for the secrets check.
pub fn parse(text: &str, path: &Path, mode: u32) -> Result<Config> {
    let what = || format!("config {}", path.display());
    // Parse untyped first: the secrets check must not depend on the file otherwise being valid.
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| toml_error(&what(), text, &e))?;
    if mode & 0o077 != 0
        && let Some(key) = find_secret(&table, "")
    {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "{}: holds a secret ({key}) but is readable by group or others (mode {:03o}); \
                 run: chmod 600 {}",
                what(),
                mode & 0o777,
                path.display()
            ),
        ));
    }
    let mut config: Config = toml::from_str(text).map_err(|e| toml_error(&what(), text, &e))?;
    config.check_numbers().map_err(|e| e.context(what()))?;
    config.source = Some(path.to_path_buf());
    Ok(config)
}

/// A TOML error as its message and where, never the text around it: toml's own rendering
/// quotes the offending line, which may hold a community string or a password (and a syntax
/// error comes before the file's permissions are checked).
fn toml_error(what: &str, text: &str, e: &toml::de::Error) -> Error {
    let at = match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            format!("line {line}, column {column}: ")
        }
        None => String::new(),
    };
    let message = e.message().lines().next().unwrap_or("").trim_end();
    Error::new(ErrorKind::Config, format!("{what}: {at}{message}"))
}

impl Config {
    /// Refuses numbers no setting can mean: a timeout that is not a positive number of seconds
    /// up to a day (TOML has `nan` and `inf`), a concurrency of 0 or in the thousands.
    fn check_numbers(&self) -> Result<()> {
        let mut timeouts = vec![
            ("[dns] timeout", self.dns.timeout),
            ("[snmp] timeout", self.snmp.timeout),
            ("[ssh] connect_timeout", self.ssh.connect_timeout),
            ("[ssh] command_timeout", self.ssh.command_timeout),
            ("[ec2] timeout", self.ec2.timeout),
        ];
        timeouts.extend(
            self.switches
                .iter()
                .map(|s| ("[[switch]] timeout", s.snmp.timeout)),
        );
        for (key, value) in timeouts {
            if let Some(v) = value {
                check_seconds(v)
                    .map_err(|why| Error::new(ErrorKind::Config, format!("{key}: {why}")))?;
            }
        }
        let mut counts = vec![
            ("[ssh] concurrency", self.ssh.concurrency),
            ("[snmp] concurrency", self.snmp.concurrency),
        ];
        counts.extend(
            self.switches
                .iter()
                .map(|s| ("[[switch]] concurrency", s.snmp.concurrency)),
        );
        for (key, value) in counts {
            if let Some(v) = value {
                check_concurrency(v)
                    .map_err(|why| Error::new(ErrorKind::Config, format!("{key}: {why}")))?;
            }
        }
        if let Some(m) = self.audit.max_read_mib
            && !(1..=MAX_AUDIT_READ_MIB).contains(&m)
        {
            return Err(Error::new(
                ErrorKind::Config,
                format!("[audit] max_read_mib: {m} is not 1 to {MAX_AUDIT_READ_MIB}"),
            ));
        }
        if let Some(log) = &self.audit.log
            && (!log.starts_with('/')
                || log.contains(|c: char| c.is_whitespace() || c.is_control()))
        {
            return Err(Error::new(
                ErrorKind::Config,
                format!("[audit] log: {log:?} is not an absolute path without spaces"),
            ));
        }
        Ok(())
    }
}

/// The most MiB `[audit] max_read_mib` may ask of one host per scan.
pub const MAX_AUDIT_READ_MIB: usize = 1024;

/// The most seconds any timeout may be: a day.
pub const MAX_SECONDS: f64 = 86_400.0;
/// The most sources any collector reads at once.
pub const MAX_CONCURRENCY: usize = 4096;

/// A timeout must be a positive, finite number of seconds, at most [`MAX_SECONDS`].
pub fn check_seconds(v: f64) -> std::result::Result<f64, String> {
    if v.is_finite() && v > 0.0 && v <= MAX_SECONDS {
        Ok(v)
    } else {
        Err(format!(
            "{v} is not a number of seconds (more than 0, at most {MAX_SECONDS})"
        ))
    }
}

/// A concurrency must be 1 to [`MAX_CONCURRENCY`].
pub fn check_concurrency(v: usize) -> std::result::Result<usize, String> {
    if (1..=MAX_CONCURRENCY).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not a concurrency (1 to {MAX_CONCURRENCY})"))
    }
}

/// Whether a string value carries a password of its own: a URL with `user:password@`, or a
/// libpq `key=value` string with `password=`. Such a value is a secret whatever its key is
/// called.
fn embeds_password(s: &str) -> bool {
    if let Some((_, rest)) = s.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        return authority
            .rsplit_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    }
    // libpq allows spaces around '=': `password = x`.
    let lower = s.to_ascii_lowercase();
    lower.match_indices("password").any(|(at, word)| {
        let starts_word = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace());
        let after = lower[at + word.len()..].trim_start();
        starts_word && after.starts_with('=') && !after[1..].trim_start().is_empty()
    })
}

/// The dotted path of the first secret-looking key with a non-empty value, if any.
fn find_secret(table: &toml::Table, prefix: &str) -> Option<String> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let lower = key.to_ascii_lowercase();
        let secret_name = SECRET_KEYS.iter().any(|s| lower.ends_with(s));
        match value {
            toml::Value::String(s) if secret_name && !s.is_empty() => return Some(path),
            toml::Value::String(s) if embeds_password(s) => return Some(path),
            toml::Value::Table(t) => {
                if let Some(found) = find_secret(t, &path) {
                    return Some(found);
                }
            }
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let toml::Value::Table(t) = item
                        && let Some(found) = find_secret(t, &format!("{path}[{i}]"))
                    {
                        return Some(found);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_the_line() {
        let err = parse("[catalog]\npath = \n", Path::new("c.toml"), 0o600).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("line 2, column 8"), "{err}");
    }

    #[test]
    fn syntax_errors_do_not_quote_the_line_and_its_secret() {
        // An unclosed string: toml's own message prints the line, community and all.
        let text = "[snmp]\ncommunity = \"Sup3rS3cret\n";
        for mode in [0o600, 0o644] {
            let err = parse(text, Path::new("c.toml"), mode)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("Sup3r"), "{err}");
            assert!(err.contains("line 2, column"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }

    #[test]
    fn numbers_no_setting_can_mean_are_refused() {
        for text in [
            "[dns]\ntimeout = nan\n",
            "[ssh]\nconnect_timeout = inf\n",
            "[ssh]\ncommand_timeout = -1\n",
            "[snmp]\ntimeout = 0.0\n",
            "[ec2]\ntimeout = nan\n",
            "[[switch]]\naddress = \"a\"\ntimeout = nan\n",
            "[ssh]\nconcurrency = 0\n",
            "[snmp]\nconcurrency = 100000\n",
        ] {
            let err = parse(text, Path::new("c.toml"), 0o600).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{text}");
        }
        assert!(parse("[dns]\ntimeout = 0.5\n", Path::new("c.toml"), 0o600).is_ok());
    }

    #[test]
    fn secrets_in_a_readable_file_are_refused() {
        let text = "[[switch]]\naddress = \"10.0.0.1\"\ncommunity = \"s3cret\"\n";
        let err = parse(text, Path::new("c.toml"), 0o644).unwrap_err();
        assert!(err.to_string().contains("switch[0].community"), "{err}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_catalog_url_with_a_password_is_a_secret() {
        for url in [
            "postgres://opskit:pw@db.example/opskit",
            "postgresql://opskit:pw@[::1]:5433/x?sslmode=require",
            "host=db user=opskit password=pw",
            "host=db password = 'p w' user=x",
        ] {
            let text = format!("[catalog]\nurl = \"{url}\"\n");
            let err = parse(&text, Path::new("c.toml"), 0o644).unwrap_err();
            assert!(err.to_string().contains("catalog.url"), "{url}: {err}");
            parse(&text, Path::new("c.toml"), 0o600).unwrap();
        }
        for url in [
            "postgres://opskit@db.example/opskit",
            "postgres://db/x?passfile=/etc/opskit/pgpass",
            "host=db user=opskit passfile=/x",
        ] {
            let text = format!("[catalog]\nurl = \"{url}\"\n");
            let config = parse(&text, Path::new("c.toml"), 0o644).unwrap();
            assert_eq!(config.catalog.url.as_deref(), Some(url));
        }
    }

    #[test]
    fn readable_files_without_secrets_are_fine() {
        let config = parse("[catalog]\npath = \"/x.db\"\n", Path::new("c"), 0o644).unwrap();
        assert_eq!(config.catalog.path.as_deref(), Some(Path::new("/x.db")));
    }

    #[test]
    fn switches_inherit_the_snmp_defaults() {
        let text = "[snmp]\ncommunity = \"c\"\ntimeout = 3\n\n[[switch]]\naddress = \"192.0.2.1\"\nversion = \"3\"\nuser = \"u\"\n";
        let config = parse(text, Path::new("c"), 0o600).unwrap();
        let merged = config.switches[0].snmp.or(&config.snmp);
        assert_eq!(merged.community.as_deref(), Some("c"));
        assert_eq!(merged.version.as_deref(), Some("3"));
        assert_eq!(merged.timeout, Some(3.0));
        let err = parse("[[switch]]\naddres = \"x\"\n", Path::new("c"), 0o600).unwrap_err();
        assert!(err.to_string().contains("addres"), "{err}");
    }

    #[test]
    fn ec2_section() {
        let text = "[ec2]\nregions = [\"eu-west-1\", \"us-east-1\"]\nprofiles = [\"prod\"]\nuser = \"ec2-user\"\naddress = \"private\"\n";
        let config = parse(text, Path::new("c"), 0o644).unwrap();
        assert_eq!(config.ec2.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(
            config.ec2.address,
            Some(crate::model::ec2::AddressKind::Private)
        );
        assert!(parse("[ec2]\naddress = \"lan\"\n", Path::new("c"), 0o600).is_err());
    }

    #[test]
    fn whatis_section() {
        let text = "[whatis]\nsubnets = \"/etc/opskit/subnets.csv\"\n";
        let config = parse(text, Path::new("c"), 0o644).unwrap();
        assert_eq!(
            config.whatis.subnets.as_deref(),
            Some(Path::new("/etc/opskit/subnets.csv"))
        );
        assert!(
            parse("", Path::new("c"), 0o644)
                .unwrap()
                .whatis
                .subnets
                .is_none()
        );
        let err = parse("[whatis]\nsubnet = \"x\"\n", Path::new("c"), 0o600).unwrap_err();
        assert!(err.to_string().contains("subnet"), "{err}");
    }

    #[test]
    fn groups_expand_in_order_once_each_and_cycles_are_named() {
        let c = parse(
            "[groups]\nweb = [\"web-1\", \"web-2\"]\nall = [\"db-1\", \"web\", \"web-1\", \"edge\"]\n\
             edge = [\"web\", \"lb-1\"]\nloop = [\"x\", \"back\"]\nback = [\"loop\"]\n",
            Path::new("c.toml"),
            0o600,
        )
        .unwrap();
        assert_eq!(
            c.group_members("all").unwrap().unwrap(),
            ["db-1", "web-1", "web-2", "lb-1"]
        );
        assert_eq!(c.group_members("nope").unwrap(), None);
        let err = c.group_members("loop").unwrap_err().to_string();
        assert!(err.contains("cycle: loop -> back -> loop"), "{err}");
        assert_eq!(member_hostname("root@WEB-1:2222"), "web-1");
        assert_eq!(member_hostname("[2001:db8::1]:22"), "2001:db8::1");
        assert_eq!(member_hostname("web-[5-9]"), "web-[5-9]");
        assert_eq!(member_hostname("2001:db8::1"), "2001:db8::1");
        assert_eq!(member_hostname("[2001:db8::1]"), "2001:db8::1");
    }

    #[test]
    fn unknown_sections_are_rejected() {
        let err = parse("[catalgo]\n", Path::new("c"), 0o600).unwrap_err();
        assert!(err.to_string().contains("catalgo"), "{err}");
    }
}
