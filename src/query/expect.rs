//! Expectations: which packages should be installed where, at which versions (the file
//! `pkg-where --drift` reads), and how one host's installed version is judged against them.
//!
//! ```toml
//! [[expect]]
//! package = "openssl"
//! version = ">=3.0.11"        # a constraint, or an exact version; absent: any version
//! hosts = ["web-*", "db-1"]   # hostname globs (default: every host)
//! groups = ["web"]            # names from the config's [groups]
//! manager = "dpkg"            # only hosts with dpkg packages (default: any manager)
//!
//! [[expect]]
//! package = "telnetd"
//! absent = true               # must not be installed
//! ```
//!
//! Errors name the file and the line of the entry, because a cron job's mail is all the
//! context its reader gets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::input::glob_match;

use crate::model::Manager;
use crate::model::version::{Constraint, Verdict};

/// What an expectation wants of its hosts.
#[derive(Debug, Clone)]
pub enum Want {
    /// Installed, at a version that satisfies the constraint.
    Version(Constraint),
    /// Installed, at any version.
    Present,
    /// Not installed.
    Absent,
}

/// One `[[expect]]` entry, checked.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// A package name or glob.
    pub package: String,
    pub want: Want,
    /// Hostname globs (lower case); empty with no groups means every host.
    pub hosts: Vec<String>,
    /// Only hosts with packages of this manager.
    pub manager: Option<Manager>,
    /// `FILE:LINE` of the entry, shown with each drift it finds.
    pub source: String,
}

/// How a host stands against an expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftStatus {
    /// Older than expected.
    Behind,
    /// Newer than expected.
    Ahead,
    /// Not installed but expected.
    Missing,
    /// Installed but expected absent, or at a version a `!=` excludes.
    Unexpected,
    /// Installed on the host but not on the golden host (`--expect-from`).
    Extra,
}

impl DriftStatus {
    /// The status word shown to users.
    pub fn name(self) -> &'static str {
        match self {
            DriftStatus::Behind => "behind",
            DriftStatus::Ahead => "ahead",
            DriftStatus::Missing => "missing",
            DriftStatus::Unexpected => "unexpected",
            DriftStatus::Extra => "extra",
        }
    }
}

impl Expectation {
    /// True when the expectation covers a host named `host` (compared in lower case).
    pub fn covers(&self, host: &str, managers: &[Manager]) -> bool {
        if self.manager.is_some_and(|m| !managers.contains(&m)) {
            return false;
        }
        if self.hosts.is_empty() {
            return true;
        }
        let host = host.to_lowercase();
        let short = host.split('.').next().unwrap_or(&host);
        self.hosts
            .iter()
            .any(|g| glob_match(g, &host) || glob_match(g, short))
    }

    /// Judges one installed version (`None`: not installed); `None` when it is as expected.
    pub fn judge(&self, manager: Manager, installed: Option<&str>) -> Option<DriftStatus> {
        match (&self.want, installed) {
            (Want::Absent, None) => None,
            (Want::Absent, Some(_)) => Some(DriftStatus::Unexpected),
            (_, None) => Some(DriftStatus::Missing),
            (Want::Present, Some(_)) => None,
            (Want::Version(c), Some(v)) => match c.verdict(manager, v) {
                Verdict::Satisfied => None,
                Verdict::Behind => Some(DriftStatus::Behind),
                Verdict::Ahead => Some(DriftStatus::Ahead),
                Verdict::Excluded => Some(DriftStatus::Unexpected),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    package: String,
    version: Option<String>,
    #[serde(default)]
    absent: bool,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    manager: Option<String>,
}

/// The default expectations file: `$XDG_CONFIG_HOME/opskit/expected.toml`.
pub fn default_path() -> Option<PathBuf> {
    crate::config::xdg_dir("XDG_CONFIG_HOME", ".config").map(|d| d.join("opskit/expected.toml"))
}

/// The expectations `--drift` judges by: from `explicit` (`--expectations`), else the config's
/// `[packages] expectations`, else the default path.
pub fn load_configured(explicit: Option<&Path>, config: &Config) -> Result<Vec<Expectation>> {
    let path = explicit
        .map(Path::to_path_buf)
        .or_else(|| config.packages.expectations.clone())
        .or_else(default_path)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "no expectations file: pass --expectations FILE or set [packages] expectations",
            )
        })?;
    load(&path, &config.groups)
}

/// Reads and checks an expectations file; `groups` is the config's `[groups]`.
pub fn load(path: &Path, groups: &BTreeMap<String, Vec<String>>) -> Result<Vec<Expectation>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::with_source(
            ErrorKind::Config,
            format!("expectations {}", path.display()),
            e,
        )
    })?;
    parse(&text, path, groups)
}

/// Parses expectations text read from `path`.
pub fn parse(
    text: &str,
    path: &Path,
    groups: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Expectation>> {
    let file: RawFile = toml::from_str(text).map_err(|e| {
        Error::with_source(
            ErrorKind::Config,
            format!("expectations {}", path.display()),
            e,
        )
    })?;
    let mut out = Vec::new();
    for entry in file.expect {
        let line = text[..entry.span().start.min(text.len())]
            .matches('\n')
            .count()
            + 1;
        let source = format!("{}:{line}", path.display());
        let fail = |why: String| {
            Error::new(
                ErrorKind::Config,
                format!("expectations {} line {line}: {why}", path.display()),
            )
        };
        let raw = entry.into_inner();
        if raw.package.trim().is_empty() {
            return Err(fail("package is empty".into()));
        }
        let want = match (raw.version, raw.absent) {
            (Some(_), true) => {
                return Err(fail(format!(
                    "{}: a version and absent = true cannot both hold",
                    raw.package
                )));
            }
            (Some(v), false) => {
                Want::Version(Constraint::parse(&v).map_err(|e| fail(e.to_string()))?)
            }
            (None, true) => Want::Absent,
            (None, false) => Want::Present,
        };
        let manager = match raw.manager.as_deref() {
            None => None,
            Some(m) => Some(Manager::from_name(m).ok_or_else(|| {
                fail(format!(
                    "unknown manager {m:?} (known: dpkg, rpm, apk, pacman)"
                ))
            })?),
        };
        let mut hosts: Vec<String> = raw.hosts.iter().map(|h| h.to_lowercase()).collect();
        for g in &raw.groups {
            let members = groups.get(g).ok_or_else(|| {
                let known: Vec<&str> = groups.keys().map(String::as_str).collect();
                fail(format!(
                    "unknown group {g:?} (the config's [groups] has: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            })?;
            hosts.extend(members.iter().map(|m| crate::config::member_hostname(m)));
        }
        if hosts.is_empty() && !raw.groups.is_empty() {
            // Groups that are all empty select no host, not every host.
            hosts.push(String::new());
        }
        out.push(Expectation {
            package: raw.package,
            want,
            hosts,
            manager,
            source,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([(
            "web".to_string(),
            vec!["root@web-1:2222".to_string(), "web-[5-9]".to_string()],
        )])
    }

    #[test]
    fn parses_the_documented_example() {
        let text = "[[expect]]\npackage = \"openssl\"\nversion = \">=3.0.11\"\nhosts = [\"db-*\"]\ngroups = [\"web\"]\n\n[[expect]]\npackage = \"telnetd\"\nabsent = true\n";
        let e = parse(text, Path::new("e.toml"), &groups()).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].hosts, ["db-*", "web-1", "web-[5-9]"]);
        assert_eq!(e[0].source, "e.toml:1");
        assert_eq!(e[1].source, "e.toml:7");
        assert!(e[0].covers("web-1.example.com", &[Manager::Dpkg]));
        assert!(e[0].covers("WEB-7", &[Manager::Rpm]));
        assert!(!e[0].covers("web-2", &[Manager::Dpkg]));
        assert!(e[1].covers("anything", &[]));
        assert_eq!(
            e[0].judge(Manager::Dpkg, Some("3.0.9-1")),
            Some(DriftStatus::Behind)
        );
        assert_eq!(e[0].judge(Manager::Dpkg, None), Some(DriftStatus::Missing));
        assert_eq!(
            e[1].judge(Manager::Dpkg, Some("1")),
            Some(DriftStatus::Unexpected)
        );
        assert_eq!(e[1].judge(Manager::Dpkg, None), None);
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            (
                "[[expect]]\npackage = \"a\"\n\n[[expect]]\npackage = \"b\"\nversion = \">=\"\n",
                "e.toml line 4: bad version constraint",
            ),
            (
                "[[expect]]\npackage = \"a\"\ngroups = [\"nope\"]\n",
                "line 1: unknown group \"nope\"",
            ),
            (
                "[[expect]]\npackage = \"a\"\nversion = \"1\"\nabsent = true\n",
                "line 1: a: a version and absent",
            ),
            ("[[expect]]\npackage = \"a\"\nversoin = \"1\"\n", "versoin"),
            ("[[expect]\n", "line 1"),
        ];
        for (text, want) in cases {
            let err = parse(text, Path::new("e.toml"), &groups()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(want), "{msg}");
            assert!(msg.contains("e.toml"), "{msg}");
        }
    }

    #[test]
    fn status_words_are_the_documented_ones() {
        let words: Vec<&str> = [
            DriftStatus::Behind,
            DriftStatus::Ahead,
            DriftStatus::Missing,
            DriftStatus::Unexpected,
            DriftStatus::Extra,
        ]
        .iter()
        .map(|s| s.name())
        .collect();
        assert_eq!(words, ["behind", "ahead", "missing", "unexpected", "extra"]);
    }

    #[test]
    fn judging_every_verdict() {
        let text = "[[expect]]\npackage = \"a\"\nversion = \">=1.0,<2.0\"\n\n\
                    [[expect]]\npackage = \"b\"\nversion = \"!=1.5\"\n\n\
                    [[expect]]\npackage = \"c\"\n";
        let e = parse(text, Path::new("e.toml"), &groups()).unwrap();
        let d = Manager::Dpkg;
        assert_eq!(e[0].judge(d, Some("1.5")), None);
        assert_eq!(e[0].judge(d, Some("0.9")), Some(DriftStatus::Behind));
        assert_eq!(e[0].judge(d, Some("2.0")), Some(DriftStatus::Ahead));
        assert_eq!(e[1].judge(d, Some("1.5")), Some(DriftStatus::Unexpected));
        assert_eq!(e[1].judge(d, Some("1.6")), None);
        // Any version will do; none will not.
        assert_eq!(e[2].judge(d, Some("0~anything")), None);
        assert_eq!(e[2].judge(d, None), Some(DriftStatus::Missing));
    }

    #[test]
    fn manager_and_empty_groups_narrow_the_hosts() {
        let text = "[[expect]]\npackage = \"a\"\nmanager = \"rpm\"\n\n\
                    [[expect]]\npackage = \"b\"\ngroups = [\"empty\"]\n";
        let mut g = groups();
        g.insert("empty".into(), vec![]);
        let e = parse(text, Path::new("e.toml"), &g).unwrap();
        assert_eq!(e[0].manager, Some(Manager::Rpm));
        assert!(e[0].covers("web-1", &[Manager::Dpkg, Manager::Rpm]));
        assert!(!e[0].covers("web-1", &[Manager::Dpkg]));
        assert!(!e[0].covers("web-1", &[]));
        // Groups that are all empty select no host, not every host.
        assert!(!e[1].covers("web-1", &[Manager::Dpkg]));
        let err = parse(
            "[[expect]]\npackage = \"a\"\nmanager = \"brew\"\n",
            Path::new("e.toml"),
            &g,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown manager \"brew\""),
            "{err}"
        );
        let err = parse("[[expect]]\npackage = \" \"\n", Path::new("e.toml"), &g).unwrap_err();
        assert!(
            err.to_string().contains("line 1: package is empty"),
            "{err}"
        );
    }

    #[test]
    fn files_are_read_from_the_flag_then_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("flag.toml");
        let configured = dir.path().join("configured.toml");
        std::fs::write(&flag, "[[expect]]\npackage = \"from-flag\"\n").unwrap();
        std::fs::write(&configured, "[[expect]]\npackage = \"from-config\"\n").unwrap();
        let mut config = Config::default();
        config.packages.expectations = Some(configured.clone());
        let got = load_configured(Some(&flag), &config).unwrap();
        assert_eq!(got[0].package, "from-flag");
        assert_eq!(got[0].source, format!("{}:1", flag.display()));
        let got = load_configured(None, &config).unwrap();
        assert_eq!(got[0].package, "from-config");
        let missing = dir.path().join("missing.toml");
        let err = load(&missing, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("missing.toml"), "{err}");
        // The default lives in the user's configuration directory.
        if let Some(base) = crate::config::xdg_dir("XDG_CONFIG_HOME", ".config") {
            assert_eq!(default_path(), Some(base.join("opskit/expected.toml")));
        }
    }
}
