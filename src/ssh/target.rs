//! Where an SSH target points: `[user@]host[:port]` as typed, resolved through opskit's
//! `[[host]]` entries, the user's `~/.ssh/config` and opskit's `[ssh]` defaults.
//!
//! Precedence, first wins: what the target itself says (user, port); the matching `[[host]]`;
//! `~/.ssh/config` (HostName, User, Port, IdentityFile, read by the `ssh2-config` crate with
//! Include and Match host support); `[ssh]`; then OpenSSH's own defaults (port 22, the local user
//! name, `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`). This is the order `ssh` itself applies,
//! with opskit's own settings slotted where a user would look for them.

use std::fmt;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ssh2_config::{ParseRule, SshConfig as OpenSshConfig};

use crate::config::{Config, HostConfig, PackageReportConfig, SshConfig};
use crate::error::{Error, ErrorKind, Result};

/// A target as typed: `[user@]host[:port]`, IPv6 as `[addr]:port` or bare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl FromStr for Target {
    type Err = Error;

    fn from_str(text: &str) -> Result<Target> {
        let bad = |why: &str| Error::usage(format!("bad host {text:?}: {why}"));
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("contains spaces or control characters"));
        }
        // A leading dash would read as an option to anything the name is handed to.
        if text.starts_with('-') {
            return Err(bad("starts with '-'"));
        }
        let (user, rest) = match text.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => return Err(bad("empty user")),
            None => (None, text),
        };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (addr, after) = inner.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (addr, port)
        } else if rest.matches(':').count() > 1 {
            (rest, None) // a bare IPv6 address
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .ok()
                    .filter(|&p| p > 0)
                    .ok_or_else(|| bad("port is not a number from 1 to 65535"))
            })
            .transpose()?;
        Ok(Target {
            user,
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(p)) => write!(f, "[{}]:{p}", self.host),
            (false, Some(p)) => write!(f, "{}:{p}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

/// Everything needed to reach one host.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The target as the user gave it, for messages and for the catalog's record of the scan.
    pub label: String,
    /// The name or address to connect to, and to look up in known_hosts.
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Key files to try after the agent's keys, in order.
    pub identity_files: Vec<PathBuf>,
    /// A pre-made package report to read instead of running the package manager.
    pub package_report: Option<PackageReportConfig>,
}

/// Resolves targets against the configuration and the user's `~/.ssh/config`.
pub struct Resolver {
    openssh: OpenSshConfig,
    defaults: SshConfig,
    hosts: Vec<HostConfig>,
    home: Option<PathBuf>,
    /// `-i` files from the command line, tried before any other.
    extra_identities: Vec<PathBuf>,
    /// `-l` from the command line: a user for targets that name none.
    user_override: Option<String>,
}

impl Resolver {
    /// Reads `ssh_config` (default `~/.ssh/config`; a missing default file is fine).
    pub fn new(
        config: &Config,
        ssh_config: Option<&Path>,
        extra_identities: Vec<PathBuf>,
        user_override: Option<String>,
    ) -> Result<Resolver> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let (path, named) = match ssh_config {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (home.as_ref().map(|h| h.join(".ssh/config")), false),
        };
        let mut openssh = OpenSshConfig::default();
        if let Some(path) = path {
            match std::fs::File::open(&path) {
                Ok(file) => {
                    let mut parser = OpenSshConfig::default();
                    if let Some(h) = &home {
                        parser = parser.home_dir(h);
                    }
                    openssh = parser
                        .parse(&mut BufReader::new(file), ParseRule::ALLOW_UNKNOWN_FIELDS)
                        .map_err(|e| {
                            Error::with_source(
                                ErrorKind::Config,
                                format!("ssh config {}", path.display()),
                                e,
                            )
                        })?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {}
                Err(e) => {
                    return Err(Error::with_source(
                        ErrorKind::Config,
                        format!("ssh config {}", path.display()),
                        e,
                    ));
                }
            }
        }
        Ok(Resolver {
            openssh,
            defaults: config.ssh.clone(),
            hosts: config.hosts.clone(),
            home,
            extra_identities,
            user_override,
        })
    }

    /// The `[[host]]` entry for a name: an exact name first, then the first matching glob.
    fn host_entry(&self, name: &str) -> Option<&HostConfig> {
        self.hosts.iter().find(|h| h.name == name).or_else(|| {
            self.hosts
                .iter()
                .find(|h| super::known_hosts::wildcard(h.name.as_bytes(), name.as_bytes()))
        })
    }

    /// Where `target` points.
    pub fn resolve(&self, target: &Target) -> Endpoint {
        let entry = self.host_entry(&target.host);
        let params = self.openssh.query(&target.host);
        let host = entry
            .and_then(|e| e.address.clone())
            .or_else(|| {
                params
                    .host_name
                    .as_ref()
                    .map(|h| expand_tokens(h, &target.host))
            })
            .unwrap_or_else(|| target.host.clone());
        let port = target
            .port
            .or(entry.and_then(|e| e.port))
            .or(params.port)
            .or(self.defaults.port)
            .unwrap_or(22);
        let user = target
            .user
            .clone()
            .or_else(|| self.user_override.clone())
            .or_else(|| entry.and_then(|e| e.user.clone()))
            .or_else(|| params.user.clone())
            .or_else(|| self.defaults.user.clone())
            .or_else(local_user)
            .unwrap_or_else(|| "root".to_string());
        let mut identity_files = self.extra_identities.clone();
        let configured: Vec<PathBuf> = entry
            .and_then(|e| e.identity_file.clone())
            .into_iter()
            .chain(params.identity_file.clone().unwrap_or_default())
            .chain(self.defaults.identity_files.iter().cloned())
            .map(|p| self.expand_home(&p))
            .collect();
        if configured.is_empty() {
            if let Some(h) = &self.home {
                for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                    identity_files.push(h.join(".ssh").join(name));
                }
            }
        } else {
            identity_files.extend(configured);
        }
        Endpoint {
            label: target.to_string(),
            host,
            port,
            user,
            identity_files,
            package_report: entry.and_then(|e| e.package_report.clone()),
        }
    }

    fn expand_home(&self, path: &Path) -> PathBuf {
        match (path.strip_prefix("~"), &self.home) {
            (Ok(rest), Some(home)) => home.join(rest),
            _ => path.to_path_buf(),
        }
    }
}

/// `%h` (the host as typed) and `%%` in a HostName, the tokens ssh expands there.
fn expand_tokens(value: &str, host: &str) -> String {
    value
        .replace("%%", "\0")
        .replace("%h", host)
        .replace('\0', "%")
}

/// The local user name, as ssh defaults to it.
fn local_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        s.parse().unwrap()
    }

    #[test]
    fn targets_parse_like_ssh_destinations() {
        assert_eq!(
            t("root@web-1:2222"),
            Target {
                user: Some("root".into()),
                host: "web-1".into(),
                port: Some(2222)
            }
        );
        assert_eq!(t("[2001:db8::1]:22").host, "2001:db8::1");
        assert_eq!(t("2001:db8::1").port, None);
        assert_eq!(t("a@[::1]:2200").to_string(), "a@[::1]:2200");
        for bad in [
            "",
            "@h",
            "h:0",
            "h:99999",
            "h:x",
            "-oProxyCommand=x",
            "a b",
            "[::1",
            "h\x1b",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn precedence_target_then_host_entry_then_ssh_config_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let ssh_config = dir.path().join("config");
        std::fs::write(
            &ssh_config,
            "Host web-*\n  HostName %h.example.net\n  User admin\n  Port 2200\n  IdentityFile ~/.ssh/web_key\n\nHost *\n  ServerAliveInterval 5\n",
        )
        .unwrap();
        let config: Config = toml::from_str(
            "[ssh]\nuser = \"ops\"\nport = 2022\n\n[[host]]\nname = \"db-1\"\naddress = \"192.0.2.7\"\nuser = \"dba\"\n",
        )
        .unwrap();
        let r = Resolver::new(&config, Some(&ssh_config), vec![], None).unwrap();
        let web = r.resolve(&t("web-3"));
        assert_eq!(
            (web.host.as_str(), web.port, web.user.as_str()),
            ("web-3.example.net", 2200, "admin")
        );
        assert!(web.identity_files[0].ends_with(".ssh/web_key"));
        let web = r.resolve(&t("root@web-3:22"));
        assert_eq!((web.port, web.user.as_str()), (22, "root"));
        let db = r.resolve(&t("db-1"));
        assert_eq!(
            (db.host.as_str(), db.port, db.user.as_str()),
            ("192.0.2.7", 2022, "dba")
        );
        let other = r.resolve(&t("cache-1"));
        assert_eq!(
            (other.host.as_str(), other.user.as_str()),
            ("cache-1", "ops")
        );
        assert!(Resolver::new(&config, Some(&dir.path().join("missing")), vec![], None).is_err());
    }
}
