//! `scan-hosts`: gather host facts, interfaces, installed packages and custom facts into the
//! catalog, from this machine or from a fleet over SSH.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::catalog::Catalog;
use crate::collect;
use crate::collect::audit::logread::AuditOptions;
use crate::collect::hosts::collector::{self, NAME};
use crate::collect::hosts::remote::ScriptOptions;
use crate::collect::hosts::targets;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Outcome, Result};
use crate::ssh::{KnownHosts, target::Resolver};

use super::{COLLECTOR_EXIT_STATUS, CommonArgs, Tool, ToolDoc};

/// Gather host facts, network interfaces and installed packages into the catalog.
///
/// Scans hosts over SSH (HOSTs given as [user@]host[:port], group names from the config's
/// [groups], names of [[host]] entries, --hosts-file, or --all for every host already in the
/// catalog; with none of these, HOSTs are read from stdin), or with --local the machine it runs
/// on, without SSH. From each host: hostname and FQDN, OS, kernel, architecture, CPU, memory,
/// DMI vendor/product/serial (where readable), boot time, every interface with its MAC, IPv4
/// and IPv6 addresses, the packages of every package manager present (dpkg, rpm, apk, pacman)
/// with epoch, version, release, arch and install time, and the custom facts of the config's
/// [[fact]] entries. A [[host]] with package_report reads a pre-made report over SFTP instead of
/// running the package manager.
///
/// SSH works as ssh does: ~/.ssh/config (HostName, User, Port, IdentityFile), the ssh-agent,
/// then key files; host keys are checked against ~/.ssh/known_hosts (hashed entries too). An
/// unknown host is refused unless --accept-new is given; a changed host key is always refused.
/// Each host is one SSH connection running one fixed script (no user input is ever pasted into
/// a remote shell line); hosts are scanned concurrently, each written in its own transaction,
/// and a host that fails is named on stderr while the others are kept. What a host no longer
/// reports is kept as history, marked not current.
///
/// Prints nothing when all went well and stderr is not a terminal (cron mails only failures).
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// Hosts to scan over SSH ([user@]host[:port], a [groups] name or a [[host]] name); read
    /// from stdin when absent or "-"
    #[arg(value_name = "HOST", conflicts_with = "local")]
    pub hosts: Vec<String>,

    /// Scan this machine, without SSH
    #[arg(long)]
    pub local: bool,

    /// Read hosts from FILE, one per line ('#' starts a comment)
    #[arg(long, value_name = "FILE", conflicts_with = "local")]
    pub hosts_file: Vec<PathBuf>,

    /// Rescan every host in the catalog (over SSH, the way each was last reached)
    #[arg(long, conflicts_with = "local")]
    pub all: bool,

    /// Accept and record the host key of hosts not in known_hosts (as ssh's
    /// StrictHostKeyChecking=accept-new); a changed key is still refused
    #[arg(long)]
    pub accept_new: bool,

    /// Store HOSTNAME although its machine id or SSH host key differs from the one on file
    /// (it was reinstalled); without this such a host is refused, since another machine may be
    /// claiming its name (repeatable)
    #[arg(long, value_name = "HOSTNAME")]
    pub new_identity: Vec<String>,

    /// Remote user for hosts that name none [default: ~/.ssh/config, [ssh] user, or yours]
    #[arg(short = 'l', long = "user", value_name = "USER")]
    pub user: Option<String>,

    /// Private key file to try first (repeatable)
    #[arg(short = 'i', long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,

    /// OpenSSH client config to read [default: ~/.ssh/config]
    #[arg(short = 'F', long = "ssh-config", value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// known_hosts file [default: [ssh] known_hosts, or ~/.ssh/known_hosts]
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,

    /// Hosts scanned at once [default: 64, or [ssh] concurrency]
    #[arg(long, value_name = "N", value_parser = crate::cli::settings::parse_concurrency)]
    pub concurrency: Option<usize>,

    /// Seconds to connect, shake hands and log in [default: 10, or [ssh] connect_timeout]
    #[arg(long, value_name = "SECONDS", value_parser = crate::cli::settings::parse_seconds)]
    pub connect_timeout: Option<f64>,

    /// Seconds one host may take once logged in [default: 120, or [ssh] command_timeout]
    #[arg(long, value_name = "SECONDS", value_parser = crate::cli::settings::parse_seconds)]
    pub command_timeout: Option<f64>,

    /// Do not read the hosts' audit logs this time ([audit] enabled = false: never)
    #[arg(long)]
    pub no_audit: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "scan-hosts --local",
                "Scan this machine into the default catalog.",
            ),
            (
                "scan-hosts web-1 root@db-1:2222 web",
                "Scan two hosts and every host of the config's group \"web\" over SSH.",
            ),
            (
                "scan-hosts --hosts-file /etc/opskit/fleet --accept-new",
                "Scan a fleet, recording the host keys of hosts never connected to before.",
            ),
            ("scan-hosts --all", "Rescan every host in the catalog."),
            (
                "17 * * * * scan-hosts --all",
                "A crontab line: rescan hourly; mail arrives only when a host failed.",
            ),
        ],
        fields: &[],
        exit_status: COLLECTOR_EXIT_STATUS,
        views: &[],
        environment: &[
            (
                "SSH_AUTH_SOCK",
                "The ssh-agent whose keys are tried before key files.",
            ),
            (
                "HOME",
                "Where ~/.ssh/config, ~/.ssh/known_hosts and the default keys are.",
            ),
        ],
    };

    fn run(self) -> Result<Outcome> {
        let config = self.common.config()?;
        for fact in &config.facts {
            if fact.command.is_empty() {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("fact {:?} has an empty command", fact.name),
                ));
            }
        }
        let mut catalog = self.common.open_catalog(&config)?;
        if self.local {
            let audit = super::settings::audit(&config, self.no_audit, &catalog)?;
            return scan_local(&mut catalog, &config, &self.new_identity, audit);
        }
        self.scan_over_ssh(&mut catalog, &config)
    }
}

impl Args {
    fn scan_over_ssh(&self, catalog: &mut Catalog, config: &Config) -> Result<Outcome> {
        let words = self.target_words(catalog)?;
        let targets = targets::expand(config, &words, catalog)?;
        if targets.is_empty() {
            return Err(Error::usage("no hosts to scan"));
        }
        let resolver = Resolver::new(
            config,
            self.ssh_config.as_deref(),
            self.identities.clone(),
            self.user.clone(),
        )?;
        let endpoints: Vec<_> = targets.iter().map(|t| resolver.resolve(t)).collect();
        let ssh = super::settings::ssh(
            config,
            super::settings::SshFlags {
                known_hosts: self.known_hosts.as_deref(),
                connect_timeout: self.connect_timeout,
                command_timeout: self.command_timeout,
                concurrency: self.concurrency,
            },
        )?;
        let known = KnownHosts::load(&ssh.known_hosts, self.accept_new)?;
        let (limits, concurrency) = (ssh.limits, ssh.concurrency);
        let collector = Arc::new(collector::Ssh {
            known,
            limits,
            new_identity: self.new_identity.clone(),
            options: ScriptOptions {
                packages: true,
                facts: config.facts.clone(),
                audit: super::settings::audit(config, self.no_audit, catalog)?,
            },
        });
        let total = endpoints.len();
        let runtime = super::settings::runtime()?;
        let report = runtime.block_on(collect::run(collector, catalog, endpoints, concurrency))?;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "{NAME}: {} of {total} hosts scanned, {} failed, into {}",
                report.stored,
                report.failed,
                catalog.location()
            );
        }
        Ok(report.outcome())
    }

    /// The targets as words: arguments, --hosts-file lines, --all, or stdin.
    fn target_words(&self, catalog: &Catalog) -> Result<Vec<String>> {
        let mut words = Vec::new();
        for file in &self.hosts_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
            words.extend(targets::hosts_file_words(&text));
        }
        if self.all {
            for (name, target) in catalog.host_targets()? {
                words.push(target.unwrap_or(name));
            }
        }
        let from_stdin = self.hosts.is_empty() && self.hosts_file.is_empty() && !self.all;
        if from_stdin || self.hosts.iter().any(|h| h == "-") {
            words.extend(crate::input::items(&[], "hosts")?);
        }
        words.extend(self.hosts.iter().filter(|h| *h != "-").cloned());
        Ok(words)
    }
}

/// Scans this machine.
fn scan_local(
    catalog: &mut Catalog,
    config: &Config,
    new_identity: &[String],
    audit: Option<AuditOptions>,
) -> Result<Outcome> {
    let collector = Arc::new(collector::Local {
        facts: config.facts.clone(),
        new_identity: new_identity.to_vec(),
        audit,
        scanned: Mutex::new(None),
    });
    let runtime = super::settings::runtime()?;
    let report = runtime.block_on(collect::run(
        collector.clone(),
        catalog,
        vec![collector::LOCALHOST],
        1,
    ))?;
    let scanned = collector.scanned.lock().ok().and_then(|s| s.clone());
    if let Some((hostname, interfaces, packages)) = scanned
        && std::io::stderr().is_terminal()
    {
        eprintln!(
            "{NAME}: {}: {interfaces} interfaces, {packages} packages into {}",
            crate::output::escape::for_terminal(&hostname),
            catalog.location()
        );
    }
    Ok(report.outcome())
}
