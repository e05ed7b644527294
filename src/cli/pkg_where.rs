//! `pkg-where`: which hosts have a package installed, at which version; which hosts lack it;
//! how many hosts run each version; where the fleet differs from what should be installed
//! (`--drift`); and what changed since yesterday (`--changes`).

use std::path::PathBuf;

use crate::catalog::PackageLocation;
use crate::clock;
use crate::error::{Error, Outcome, Result};
use crate::input;
use crate::model::Manager;
use crate::model::version::Constraint;
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::expect;
use crate::query::packages::{
    self, Change, Drift, Lookup, Miss, MissingHost, Reference, VersionCount,
};

use super::{CommonArgs, Tool, ToolDoc, View, warn};

const NAME: &str = "pkg-where";

/// Which hosts have a package installed, at which version, and where that differs from what
/// should be installed.
///
/// Lists every host in the catalog that currently has the package, with its version (in the
/// package manager's own notation), architecture, package manager, install time and when the
/// host was last scanned. NAME may be a glob (`openssl*`, `lib?ssl[0-9]*`); quote it so the
/// shell does not expand it. With no NAME, reads names from stdin, one per line.
///
/// Versions are compared as each host's package manager compares them: dpkg's order on dpkg
/// hosts, rpm's on rpm hosts (epochs, `~`, `^`, letters and digit runs of any length), pacman's
/// on pacman hosts, and an approximation of apk-tools' on apk hosts.
///
/// --drift reads an expectations file (--expectations, else `[packages] expectations` in the
/// config, else $XDG_CONFIG_HOME/opskit/expected.toml) of entries like these:
///
///     [[expect]]
///     package = "openssl"
///     version = ">=3.0.11"        # constraint or exact; omitted: any
///     hosts = ["web-*", "db-1"]   # hostname globs (default: every host)
///     groups = ["web"]            # names from the config's [groups]
///     manager = "dpkg"            # only hosts with dpkg packages
///
///     [[expect]]
///     package = "telnetd"         # a name or a glob
///     absent = true               # must not be installed
///
/// Only hosts with a package inventory in the catalog are judged. A host is `behind` or `ahead`
/// of a version constraint, `missing` an expected package, or has one that is `unexpected`
/// (expected absent, or at a version a `!=` term excludes). With --expect-from HOST, every
/// other host with the same package manager (or those matching --hosts) is compared with HOST's
/// packages: same name and architecture at the same version, nothing `missing`, and nothing
/// `extra` (installed there but not on HOST). --drift exits 1 when it finds drift and 0 when
/// there is none, so that cron mails only when it matters.
///
/// --changes lists what the catalog's history says changed since --since: packages
/// `installed`, `upgraded`, `downgraded` (by the manager's order) and `removed`, per host. A
/// host's first scan is its baseline and is not reported as installs.
#[derive(Debug, clap::Parser)]
// --version takes a constraint here (the question people ask of this tool), so the program's
// own version is -V only.
#[command(version, disable_version_flag = true, verbatim_doc_comment)]
pub struct Args {
    /// Print version
    #[arg(short = 'V', action = clap::ArgAction::Version)]
    pub print_version: Option<bool>,

    /// Package names or globs; read from stdin when absent or "-" (optional filters with --drift and --changes)
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Only versions satisfying CONSTRAINT: =V, !=V, <V, <=V, >V, >=V, bare V, or several joined by commas (>=1.0,<2.0)
    #[arg(
        long = "version",
        value_name = "CONSTRAINT",
        allow_hyphen_values = true
    )]
    pub version_constraint: Option<String>,

    /// List the hosts that lack the package: hosts with an inventory of a package manager under which the package is installed somewhere
    #[arg(long, conflicts_with_all = ["version_constraint", "summary", "drift", "changes"])]
    pub missing: bool,

    /// Count hosts per package, manager and version, in the manager's version order
    #[arg(long, conflicts_with_all = ["drift", "changes"])]
    pub summary: bool,

    /// List hosts whose packages differ from the expectations (see above); exit 1 when any do
    #[arg(long, conflicts_with = "changes")]
    pub drift: bool,

    /// Expectations file for --drift [default: [packages] expectations in the config, else $XDG_CONFIG_HOME/opskit/expected.toml]
    #[arg(long, value_name = "FILE", conflicts_with = "expect_from")]
    pub expectations: Option<PathBuf>,

    /// Expect every host to have HOST's packages at HOST's versions (implies --drift)
    #[arg(long, value_name = "HOST", conflicts_with = "changes")]
    pub expect_from: Option<String>,

    /// With --drift: only judge hosts whose name matches GLOB (repeatable)
    #[arg(long = "hosts", value_name = "GLOB")]
    pub host_globs: Vec<String>,

    /// List package installs, upgrades, downgrades and removals per host since --since
    #[arg(long)]
    pub changes: bool,

    /// With --changes: how far back, as an age (30m, 12h, 1d, 2w) or an RFC 3339 time
    #[arg(long, value_name = "WHEN", default_value = "1d", requires = "changes")]
    pub since: String,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The output fields of pkg-where.
    pub Row {
        HOST = "host", shown,
            "Hostname as the host reports it.";
        PACKAGE = "package", shown,
            "Package name.";
        VERSION = "version", shown,
            "Full version as the package manager prints it ([epoch:]version[-release]).";
        ARCH = "arch", shown,
            "Package architecture.";
        MANAGER = "manager", shown,
            "Package manager: dpkg, rpm, apk or pacman.";
        INSTALLED = "installed", shown,
            "Install time as the package manager records it (RFC 3339, UTC); for dpkg, when its file list was last written.";
        LAST_SEEN = "last_seen", shown,
            "When a scan last saw this version on this host (RFC 3339, UTC).";
        FIRST_SEEN = "first_seen", hidden,
            "When a scan first saw this version on this host (RFC 3339, UTC).";
        EPOCH = "epoch", hidden,
            "Version epoch, empty when none.";
        UPSTREAM_VERSION = "upstream_version", hidden,
            "Version without epoch and release.";
        RELEASE = "release", hidden,
            "Debian revision, rpm release, apk -rN or pacman pkgrel.";
    }
}

crate::fields! {
    /// The fields of `--missing`.
    pub MissingRow {
        HOST = "host", shown,
            "A host with a package inventory that lacks the package.";
        PACKAGE = "package", shown,
            "The name or glob asked for.";
        MANAGERS = "managers", shown,
            "The host's package managers under which the package is installed elsewhere.";
        LAST_SEEN = "last_seen", shown,
            "When the host was last scanned (RFC 3339, UTC).";
    }
}

crate::fields! {
    /// The fields of `--summary`.
    pub SummaryRow {
        PACKAGE = "package", shown,
            "Package name.";
        VERSION = "version", shown,
            "Full version as the package manager prints it.";
        MANAGER = "manager", shown,
            "Package manager whose version order sorts the rows.";
        HOSTS = "hosts", shown,
            "How many hosts have this version (a host with two architectures of it counts once).";
    }
}

crate::fields! {
    /// The fields of `--drift`.
    pub DriftRow {
        HOST = "host", shown,
            "Hostname.";
        PACKAGE = "package", shown,
            "Package name (for a missing package, the name or glob expected).";
        STATUS = "status", shown,
            "behind, ahead, missing, unexpected (installed but expected absent, or a version a != excludes), or extra (with --expect-from: installed but not on the golden host).";
        INSTALLED = "installed", shown,
            "Installed version; empty when missing.";
        EXPECTED = "expected", shown,
            "The constraint (=V for an exact version), any, or absent.";
        MANAGER = "manager", shown,
            "Package manager of the installed package; for a missing one, the host's managers.";
        ARCH = "arch", shown,
            "Architecture of the installed (or, with --expect-from, expected) package.";
        RULE = "rule", hidden,
            "Where the expectation comes from: FILE:LINE of its [[expect]] entry, or expect-from:HOST.";
        LAST_SEEN = "last_seen", hidden,
            "When the host was last scanned (RFC 3339, UTC).";
    }
}

crate::fields! {
    /// The fields of `--changes`.
    pub ChangeRow {
        WHEN = "when", shown,
            "When the new version was first seen; for a removal, when the package was last seen (it was gone by the host's next scan).";
        HOST = "host", shown,
            "Hostname.";
        PACKAGE = "package", shown,
            "Package name.";
        CHANGE = "change", shown,
            "installed, upgraded, downgraded (by the manager's version order), changed (same order, other spelling) or removed.";
        FROM = "from", shown,
            "Version before; empty for an install.";
        TO = "to", shown,
            "Version after; empty for a removal.";
        MANAGER = "manager", shown,
            "Package manager.";
        ARCH = "arch", hidden,
            "Package architecture.";
    }
}

/// The other views of pkg-where, for the man page.
const VIEWS: &[View] = &[
    View {
        flag: "--missing",
        about: "One row per host that lacks a package.",
        fields: MissingRow::FIELDS,
    },
    View {
        flag: "--summary",
        about: "One row per package, manager and version.",
        fields: SummaryRow::FIELDS,
    },
    View {
        flag: "--drift",
        about: "One row per host and package that differs from what is expected.",
        fields: DriftRow::FIELDS,
    },
    View {
        flag: "--changes",
        about: "One row per package change on a host, oldest first.",
        fields: ChangeRow::FIELDS,
    },
];

/// The exit statuses of pkg-where.
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Every input was answered; with --drift, no drift; with --missing, some host lacks the package; with --changes, something changed.",
    ),
    (
        "1",
        "Nothing was found for at least one input (named on stderr); with --drift, some host drifts; with --missing, no host lacks it; with --changes, nothing changed.",
    ),
    (
        "2",
        "Usage, configuration, expectations file or catalog error.",
    ),
];

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "pkg-where openssl",
                "Every host with openssl, and its version.",
            ),
            (
                "pkg-where 'linux-image-*'",
                "Every installed kernel package on every host.",
            ),
            (
                "pkg-where -f host,version bash | sort -k2 -V",
                "Hosts ordered by their bash version.",
            ),
            (
                "pkg-where --json openssl | jq -r 'select(.version | startswith(\"3.0\")) | .host'",
                "Hosts on OpenSSL 3.0.x.",
            ),
            (
                "pkg-where --version '<3.0.11' openssl",
                "Hosts with an openssl older than 3.0.11, by each host's own version order.",
            ),
            ("pkg-where --missing auditd", "Hosts that have no auditd."),
            (
                "pkg-where --summary 'linux-image-*'",
                "How many hosts run each kernel package version.",
            ),
            (
                "pkg-where --drift --expectations /etc/opskit/expected.toml",
                "What differs from the expectations; exit 1 (a cron mail) only when something does.",
            ),
            (
                "pkg-where --drift --expect-from web-1 --hosts 'web-*'",
                "Which web servers differ from web-1, package by package.",
            ),
            (
                "pkg-where --changes --since 1d",
                "The daily report: installs, upgrades, downgrades and removals per host.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: EXIT_STATUS,
        views: VIEWS,
        environment: &[],
    };

    fn run(self) -> Result<Outcome> {
        let config = self.common.config()?;
        if self.drift || self.expect_from.is_some() {
            return self.drift(&config);
        }
        if self.changes {
            return self.changes(&config);
        }
        let constraint = self
            .version_constraint
            .as_deref()
            .map(Constraint::parse)
            .transpose()?;
        let names = input::items(&self.names, "package names")?;
        let catalog = self.common.open_catalog(&config)?;
        if self.missing {
            let mut printer = Printer::new::<MissingRow>(&self.output)?;
            let lookups = packages::missing(&catalog, &names)?;
            let outcome = report(&lookups, None);
            let records: Vec<_> = rows(&lookups).map(missing_record).collect();
            printer.print(&records, Shape::Table)?;
            return Ok(outcome);
        }
        if self.summary {
            let lookups = packages::summary(&catalog, &names, constraint.as_ref())?;
            let outcome = report(&lookups, constraint.as_ref());
            let mut printer = Printer::new::<SummaryRow>(&self.output)?;
            let records: Vec<_> = rows(&lookups).map(summary_record).collect();
            printer.print(&records, Shape::Table)?;
            return Ok(outcome);
        }
        let lookups = packages::locate(&catalog, &names, constraint.as_ref())?;
        let outcome = report(&lookups, constraint.as_ref());
        let mut printer = Printer::new::<Row>(&self.output)?;
        let records: Vec<_> = rows(&lookups).map(record).collect();
        printer.print(&records, Shape::Table)?;
        Ok(outcome)
    }
}

impl Args {
    /// `--drift`: judge hosts against an expectations file or a golden host.
    fn drift(&self, config: &crate::config::Config) -> Result<Outcome> {
        if self.summary || self.missing || self.version_constraint.is_some() {
            return Err(Error::usage(
                "--drift and --expect-from cannot be combined with --summary, --missing or --version",
            ));
        }
        let mut printer = Printer::new::<DriftRow>(&self.output)?;
        let reference = match &self.expect_from {
            Some(golden) => Reference::Golden(golden.clone()),
            None => Reference::Expectations(expect::load_configured(
                self.expectations.as_deref(),
                config,
            )?),
        };
        let catalog = self.common.open_catalog(config)?;
        let drifts = packages::drift(&catalog, &reference, &self.names, &self.host_globs)?;
        let records: Vec<_> = drifts.iter().map(drift_record).collect();
        printer.print(&records, Shape::Table)?;
        Ok(if records.is_empty() {
            Outcome::Success
        } else {
            Outcome::Differs
        })
    }

    /// `--changes`: the history of the inventories since --since.
    fn changes(&self, config: &crate::config::Config) -> Result<Outcome> {
        if self.summary || self.missing || self.version_constraint.is_some() {
            return Err(Error::usage(
                "--changes cannot be combined with --summary, --missing or --version",
            ));
        }
        let since = clock::parse_since(&self.since, clock::now())?;
        let mut printer = Printer::new::<ChangeRow>(&self.output)?;
        let catalog = self.common.open_catalog(config)?;
        let changes = packages::changes(&catalog, since, &self.names)?;
        let records: Vec<_> = changes.iter().map(change_record).collect();
        printer.print(&records, Shape::Table)?;
        Ok(if records.is_empty() {
            Outcome::NothingFound
        } else {
            Outcome::Success
        })
    }
}

/// Names on stderr each input that found nothing, and says whether any did.
fn report<T>(lookups: &[Lookup<T>], constraint: Option<&Constraint>) -> Outcome {
    let mut outcome = Outcome::Success;
    for l in lookups {
        let why = match l.miss {
            None => continue,
            Some(Miss::NotInstalled) => "not installed on any host in the catalog".to_string(),
            Some(Miss::NoVersionMatches) => format!(
                "no host has a version matching {}",
                constraint.map(ToString::to_string).unwrap_or_default()
            ),
            Some(Miss::NoManager) => {
                "not installed on any host in the catalog, so no manager to judge hosts by".into()
            }
            Some(Miss::NoneLacking) => "no host lacks it".to_string(),
        };
        warn(NAME, format!("{}: {why}", l.name));
        outcome = Outcome::NothingFound;
    }
    outcome
}

fn rows<T>(lookups: &[Lookup<T>]) -> impl Iterator<Item = &T> {
    lookups.iter().flat_map(|l| &l.rows)
}

fn manager_names(managers: &[Manager]) -> String {
    let names: Vec<&str> = managers.iter().map(|m| m.name()).collect();
    names.join(",")
}

fn record(p: &PackageLocation) -> Record<Row> {
    let mut r = Row::record();
    r.set(Row::HOST, p.host.as_str())
        .set(Row::PACKAGE, p.package.as_str())
        .set(Row::VERSION, p.full_version())
        .set(Row::ARCH, p.arch.as_str())
        .set(Row::MANAGER, p.manager.name())
        .set(Row::INSTALLED, p.install_time.map(clock::format))
        .set(Row::LAST_SEEN, clock::format(p.last_seen))
        .set(Row::FIRST_SEEN, clock::format(p.first_seen))
        .set(Row::EPOCH, p.epoch.as_str())
        .set(Row::UPSTREAM_VERSION, p.version.as_str())
        .set(Row::RELEASE, p.release.as_str());
    r
}

fn summary_record(v: &VersionCount) -> Record<SummaryRow> {
    let mut r = SummaryRow::record();
    r.set(SummaryRow::PACKAGE, v.package.as_str())
        .set(SummaryRow::VERSION, v.version.as_str())
        .set(SummaryRow::MANAGER, v.manager.name())
        .set(SummaryRow::HOSTS, v.hosts);
    r
}

fn missing_record(m: &MissingHost) -> Record<MissingRow> {
    let mut r = MissingRow::record();
    r.set(MissingRow::HOST, m.host.as_str())
        .set(MissingRow::PACKAGE, m.package.as_str())
        .set(MissingRow::MANAGERS, manager_names(&m.managers))
        .set(MissingRow::LAST_SEEN, clock::format(m.last_seen));
    r
}

fn drift_record(d: &Drift) -> Record<DriftRow> {
    let mut r = DriftRow::record();
    r.set(DriftRow::HOST, d.host.as_str())
        .set(DriftRow::PACKAGE, d.package.as_str())
        .set(DriftRow::STATUS, d.status.name())
        .set(DriftRow::INSTALLED, d.installed.as_deref().unwrap_or(""))
        .set(DriftRow::EXPECTED, d.expected.to_string())
        .set(DriftRow::MANAGER, manager_names(&d.managers))
        .set(DriftRow::ARCH, d.arch.as_str())
        .set(DriftRow::RULE, d.rule.to_string())
        .set(DriftRow::LAST_SEEN, clock::format(d.last_seen));
    r
}

fn change_record(c: &Change) -> Record<ChangeRow> {
    let mut r = ChangeRow::record();
    r.set(ChangeRow::WHEN, clock::format(c.when))
        .set(ChangeRow::HOST, c.host.as_str())
        .set(ChangeRow::PACKAGE, c.package.as_str())
        .set(ChangeRow::CHANGE, c.kind.name())
        .set(ChangeRow::FROM, c.from.as_deref().unwrap_or(""))
        .set(ChangeRow::TO, c.to.as_deref().unwrap_or(""))
        .set(ChangeRow::MANAGER, c.manager.name())
        .set(ChangeRow::ARCH, c.arch.as_str());
    r
}
