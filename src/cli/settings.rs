//! Settings resolved once per concern (SSH, SNMP, AWS, DNS): the flag, then the environment,
//! then the configuration file, then the default, in one function each, so that every tool
//! that talks SSH, SNMP, AWS or DNS resolves them the same way. Also the one async runtime,
//! made here at the edge and handed down to the collectors and queries that wait on the
//! network; tools with no network work never start one.

use std::future::Future;
use std::path::PathBuf;

use futures_util::FutureExt;
use std::time::Duration;

use crate::aws;
use crate::collect::audit::logread::{self, AuditOptions};
use crate::config::{Config, SnmpConfig};
use crate::dns::{self, DnsOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::ssh::Limits;

/// The one async runtime of a run. Single-threaded: the work is waiting on sockets, and one
/// thread keeps a run's cost low while hundreds of requests are in flight.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))
}

/// Runs a query step on the runtime. Without one (the command asks no network) the step waits
/// on nothing and is done at its first poll; should it ever wait after all, a runtime is made
/// for it rather than the command failing.
pub fn wait<T>(
    runtime: Option<&tokio::runtime::Runtime>,
    step: impl Future<Output = Result<T>>,
) -> Result<T> {
    if let Some(runtime) = runtime {
        return runtime.block_on(step);
    }
    let mut step = std::pin::pin!(step);
    match step.as_mut().now_or_never() {
        Some(done) => done,
        None => self::runtime()?.block_on(step),
    }
}

/// The AWS SDK's environment variables that the tools asking AWS (sshec2, sync-ec2) honour.
pub const AWS_ENVIRONMENT: &[(&str, &str)] = &[
    (
        "AWS_PROFILE",
        "The profile in ~/.aws/config and ~/.aws/credentials, when --profile is not given.",
    ),
    (
        "AWS_REGION, AWS_DEFAULT_REGION",
        "The region, when neither --region nor the configuration names one.",
    ),
    (
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
        "Credentials, first in the standard chain (then profiles, SSO, the instance role).",
    ),
    (
        "AWS_ENDPOINT_URL",
        "Another endpoint for every AWS service (a test server, a VPC endpoint).",
    ),
];

/// A `SECONDS` flag: a positive, finite number, at most a day (clap's parser for every timeout
/// flag, so that `--timeout nan` is a usage error, not a panic).
pub fn parse_seconds(text: &str) -> std::result::Result<f64, String> {
    let v: f64 = text.trim().parse().map_err(|e| format!("{e}"))?;
    crate::config::check_seconds(v)
}

/// An `N` flag for how many sources at once: 1 to 4096.
pub fn parse_concurrency(text: &str) -> std::result::Result<usize, String> {
    let v: usize = text.trim().parse().map_err(|e| format!("{e}"))?;
    crate::config::check_concurrency(v)
}

/// A number of seconds from a flag, else the configuration, else `default`, bounded so that a
/// typo can neither spin nor make a run wait for days.
fn seconds(flag: Option<f64>, configured: Option<f64>, default: f64) -> Duration {
    Duration::from_secs_f64(flag.or(configured).unwrap_or(default).clamp(0.1, 86_400.0))
}

/// How scan-hosts reaches hosts over SSH.
#[derive(Debug, Clone)]
pub struct Ssh {
    pub known_hosts: PathBuf,
    pub limits: Limits,
    /// Hosts scanned at once.
    pub concurrency: usize,
}

/// The SSH flags as given on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct SshFlags<'a> {
    pub known_hosts: Option<&'a std::path::Path>,
    pub connect_timeout: Option<f64>,
    pub command_timeout: Option<f64>,
    pub concurrency: Option<usize>,
}

/// SSH settings: flags, then `[ssh]`, then `$HOME/.ssh/known_hosts`, 10 s to connect, 120 s
/// per host, 64 hosts at once.
pub fn ssh(config: &Config, flags: SshFlags<'_>) -> Result<Ssh> {
    let known_hosts = flags
        .known_hosts
        .map(PathBuf::from)
        .or_else(|| config.ssh.known_hosts.clone())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".ssh/known_hosts"))
        })
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "no known_hosts file: set $HOME or --known-hosts",
            )
        })?;
    Ok(Ssh {
        known_hosts,
        limits: Limits {
            connect_timeout: seconds(flags.connect_timeout, config.ssh.connect_timeout, 10.0),
            command_timeout: seconds(flags.command_timeout, config.ssh.command_timeout, 120.0),
            max_output: config
                .ssh
                .max_output_mib
                .map_or(Limits::default().max_output, |m| m.clamp(1, 1 << 20) << 20),
            max_total_output: config
                .ssh
                .max_total_output_mib
                .map_or(Limits::default().max_total_output, |m| {
                    m.clamp(1, 1 << 30) << 20
                }),
        },
        concurrency: flags
            .concurrency
            .or(config.ssh.concurrency)
            .unwrap_or(64)
            .max(1),
    })
}

/// How audit logs are read, from `[audit]` or the defaults (read /var/log/audit/audit.log,
/// 16 MiB per host and read, no sudo), with no checkpoints (`who-did --follow` keeps its own).
pub fn audit_options(config: &Config) -> AuditOptions {
    let mib = config
        .audit
        .max_read_mib
        .unwrap_or(logread::DEFAULT_MAX_MIB) as u64;
    AuditOptions {
        log: config
            .audit
            .log
            .clone()
            .unwrap_or_else(|| logread::DEFAULT_LOG.to_string()),
        sudo: config.audit.sudo.unwrap_or(false),
        max_bytes: mib << 20,
        checkpoints: Default::default(),
    }
}

/// How scan-hosts reads audit logs: none with `--no-audit` or `[audit] enabled = false`, else
/// [`audit_options`] with each host's checkpoint from the catalog.
pub fn audit(
    config: &Config,
    no_audit: bool,
    catalog: &crate::catalog::Catalog,
) -> Result<Option<AuditOptions>> {
    if no_audit || config.audit.enabled == Some(false) {
        return Ok(None);
    }
    Ok(Some(AuditOptions {
        checkpoints: std::sync::Arc::new(catalog.audit_checkpoints()?),
        ..audit_options(config)
    }))
}

/// SNMP settings that apply to every device of a run: the command line's, which win over each
/// `[[switch]]`'s and the `[snmp]` defaults (merged per device by the crawl), and how many
/// devices are crawled at once (flag, then `[snmp] concurrency`, then 32).
pub fn snmp(
    config: &Config,
    timeout: Option<f64>,
    retries: Option<u32>,
    concurrency: Option<usize>,
) -> (SnmpConfig, usize) {
    let overrides = SnmpConfig {
        timeout,
        retries,
        concurrency,
        ..SnmpConfig::default()
    };
    let concurrency = overrides.or(&config.snmp).concurrency.unwrap_or(32).max(1);
    (overrides, concurrency)
}

/// Where AWS is read: the profiles given, else `[ec2] profiles`, else the SDK's default chain
/// (one `None`); the regions given, else `[ec2] regions`, else the SDK's (`AWS_REGION`, the
/// profile's); the connection timeout given (at most 60 s), else `[ec2] timeout`, else 3 s.
pub fn aws(
    config: &Config,
    profiles: &[String],
    regions: &[String],
    timeout: Option<f64>,
) -> Result<aws::Options> {
    let profiles = if profiles.is_empty() {
        &config.ec2.profiles
    } else {
        profiles
    };
    Ok(aws::Options {
        profiles: profiles.iter().cloned().map(Some).collect(),
        regions: if regions.is_empty() {
            config.ec2.regions.clone()
        } else {
            regions.to_vec()
        },
        timeout: match timeout {
            Some(t) if t.is_finite() && t > 0.0 => Duration::from_secs_f64(t.min(60.0)),
            Some(t) => return Err(Error::usage(format!("bad --timeout {t}"))),
            None => config.ec2.timeout(),
        },
    })
}

/// Where and how to ask DNS: `--no-dns` asks nothing (`None`); else the server given, else
/// `[dns] server`, else the system's resolver; the timeout given, else `[dns] timeout`, else 2 s.
pub fn dns(
    config: &Config,
    no_dns: bool,
    server: Option<&str>,
    timeout: Option<f64>,
) -> Result<Option<DnsOptions>> {
    if no_dns {
        return Ok(None);
    }
    let server = match server.or(config.dns.server.as_deref()) {
        Some(s) => Some(dns::parse_server(s)?),
        None => None,
    };
    let mut settings = config.dns.clone();
    settings.timeout = timeout.or(settings.timeout);
    Ok(Some(DnsOptions {
        server,
        timeout: settings.timeout(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        crate::config::parse(text, std::path::Path::new("test.toml"), 0o600).unwrap()
    }

    #[test]
    fn flags_win_over_the_config_which_wins_over_defaults() {
        let c = config("[ssh]\nconnect_timeout = 4\nconcurrency = 8\n");
        let s = ssh(
            &c,
            SshFlags {
                known_hosts: Some(std::path::Path::new("/k")),
                connect_timeout: Some(1.5),
                ..SshFlags::default()
            },
        )
        .unwrap();
        assert_eq!(s.known_hosts, PathBuf::from("/k"));
        assert_eq!(s.limits.connect_timeout, Duration::from_secs_f64(1.5));
        assert_eq!(s.limits.command_timeout, Duration::from_secs(120));
        assert_eq!(s.concurrency, 8);

        let c = config("[snmp]\nconcurrency = 5\n");
        assert_eq!(snmp(&c, None, None, None).1, 5);
        assert_eq!(snmp(&c, None, None, Some(0)).1, 1);

        let c = config("[ec2]\nregions = [\"eu-west-1\"]\nprofiles = [\"p\"]\n");
        let a = aws(&c, &[], &["us-east-1".into()], None).unwrap();
        assert_eq!(a.regions, ["us-east-1"]);
        assert_eq!(a.profiles, [Some("p".to_string())]);
        assert_eq!(a.timeout, Duration::from_secs(3));
        assert!(aws(&c, &[], &[], Some(f64::NAN)).is_err());

        let c = config("[dns]\nserver = \"127.0.0.1:53\"\ntimeout = 5\n");
        assert!(dns(&c, true, None, None).unwrap().is_none());
        let d = dns(&c, false, Some("127.0.0.2:5353"), None)
            .unwrap()
            .unwrap();
        assert_eq!(d.server, Some("127.0.0.2:5353".parse().unwrap()));
    }
}
