//! `pkg-where`: which hosts have a package installed, at which version; which hosts lack it;
//! how many hosts run each version; where the fleet differs from what should be installed
//! (`--drift`); and what changed since yesterday (`--changes`).

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use crate::catalog::{Catalog, InventoryHost, PackageChange, PackageLocation};
use crate::clock;
use crate::error::{Error, ErrorKind, Outcome, Result};
use crate::input::{self, glob_match};
use crate::model::Manager;
use crate::model::version::{Constraint, compare};
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::expect::{self, Drift, Expectation};

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
            return self.missing(&catalog, &names);
        }
        let mut outcome = Outcome::Success;
        let mut found_all = Vec::new();
        for name in &names {
            let mut found = catalog.package_locations(name)?;
            let installed = !found.is_empty();
            if let Some(c) = &constraint {
                found.retain(|p| c.matches(p.manager, &p.full_version()));
            }
            if found.is_empty() {
                let why = if installed {
                    format!(
                        "no host has a version matching {}",
                        constraint
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    )
                } else {
                    "not installed on any host in the catalog".to_string()
                };
                warn(NAME, format!("{name}: {why}"));
                outcome = Outcome::NothingFound;
            }
            found_all.push(found);
        }
        if self.summary {
            let mut printer = Printer::new::<SummaryRow>(&self.output)?;
            let records: Vec<Record<SummaryRow>> =
                found_all.iter().flat_map(|f| summary(f)).collect();
            printer.print(&records, Shape::Table)?;
        } else {
            let mut printer = Printer::new::<Row>(&self.output)?;
            let records: Vec<Record<Row>> = found_all.iter().flatten().map(record).collect();
            printer.print(&records, Shape::Table)?;
        }
        Ok(outcome)
    }
}

impl Args {
    /// `--missing`: hosts with an inventory of a manager the package is installed under
    /// somewhere, that do not have it. A package seen only on dpkg hosts is not "missing" on
    /// rpm hosts: its name there is likely another.
    fn missing(&self, catalog: &Catalog, names: &[String]) -> Result<Outcome> {
        let mut printer = Printer::new::<MissingRow>(&self.output)?;
        let hosts = catalog.inventory_hosts()?;
        let mut records = Vec::new();
        let mut outcome = Outcome::Success;
        for name in names {
            let found = catalog.package_locations(name)?;
            if found.is_empty() {
                warn(
                    NAME,
                    format!(
                        "{name}: not installed on any host in the catalog, so no manager to judge hosts by"
                    ),
                );
                outcome = Outcome::NothingFound;
                continue;
            }
            let managers: BTreeSet<Manager> = found.iter().map(|p| p.manager).collect();
            let having: HashSet<&str> = found.iter().map(|p| p.host.as_str()).collect();
            let before = records.len();
            for h in &hosts {
                let shared: Vec<&str> = h
                    .managers
                    .iter()
                    .filter(|m| managers.contains(m))
                    .map(|m| m.name())
                    .collect();
                if shared.is_empty() || having.contains(h.name.as_str()) {
                    continue;
                }
                let mut r = MissingRow::record();
                r.set(MissingRow::HOST, h.name.as_str())
                    .set(MissingRow::PACKAGE, name.as_str())
                    .set(MissingRow::MANAGERS, shared.join(","))
                    .set(MissingRow::LAST_SEEN, clock::format(h.last_seen));
                records.push(r);
            }
            if records.len() == before {
                warn(NAME, format!("{name}: no host lacks it"));
                outcome = Outcome::NothingFound;
            }
        }
        printer.print(&records, Shape::Table)?;
        Ok(outcome)
    }

    /// `--drift`: judge hosts against an expectations file or a golden host.
    fn drift(&self, config: &crate::config::Config) -> Result<Outcome> {
        if self.summary || self.missing || self.version_constraint.is_some() {
            return Err(Error::usage(
                "--drift and --expect-from cannot be combined with --summary, --missing or --version",
            ));
        }
        let mut printer = Printer::new::<DriftRow>(&self.output)?;
        let expectations = match &self.expect_from {
            Some(_) => Vec::new(),
            None => {
                let path = self
                    .expectations
                    .clone()
                    .or_else(|| config.packages.expectations.clone())
                    .or_else(expect::default_path)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::Config,
                            "no expectations file: pass --expectations FILE or set [packages] expectations",
                        )
                    })?;
                expect::load(&path, &config.groups)?
            }
        };
        let catalog = self.common.open_catalog(config)?;
        let globs: Vec<String> = self.host_globs.iter().map(|g| g.to_lowercase()).collect();
        let hosts: Vec<InventoryHost> = catalog
            .inventory_hosts()?
            .into_iter()
            .filter(|h| {
                let name = h.name.to_lowercase();
                globs.is_empty() || globs.iter().any(|g| glob_match(g, &name))
            })
            .collect();
        let mut records = match &self.expect_from {
            Some(golden) => drift_from(&catalog, golden, &hosts)?,
            None => {
                let names = &self.names;
                let wanted = |e: &Expectation| {
                    names.is_empty()
                        || names
                            .iter()
                            .any(|n| n == &e.package || glob_match(n, &e.package))
                };
                let mut records = Vec::new();
                for e in expectations.iter().filter(|e| wanted(e)) {
                    drift_file(&catalog, e, &hosts, &mut records)?;
                }
                records
            }
        };
        records.sort_by(|a, b| {
            let key = |r: &Record<DriftRow>| {
                (
                    r.get(DriftRow::HOST).as_str().unwrap_or("").to_string(),
                    r.get(DriftRow::PACKAGE).as_str().unwrap_or("").to_string(),
                    r.get(DriftRow::ARCH).as_str().unwrap_or("").to_string(),
                )
            };
            key(a).cmp(&key(b))
        });
        printer.print(&records, Shape::Table)?;
        Ok(if records.is_empty() {
            Outcome::Success
        } else {
            Outcome::NothingFound
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
        let mut changes = Vec::new();
        if self.names.is_empty() {
            changes = catalog.package_changes(since, None)?;
        } else {
            for name in &self.names {
                changes.extend(catalog.package_changes(since, Some(name))?);
            }
        }
        changes.sort_by(|a, b| {
            (a.when, &a.host, &a.package, &a.arch).cmp(&(b.when, &b.host, &b.package, &b.arch))
        });
        let records: Vec<Record<ChangeRow>> = changes.iter().map(change_record).collect();
        printer.print(&records, Shape::Table)?;
        Ok(if records.is_empty() {
            Outcome::NothingFound
        } else {
            Outcome::Success
        })
    }
}

/// Hosts per package, manager and version, sorted by the manager's own order.
fn summary(found: &[PackageLocation]) -> Vec<Record<SummaryRow>> {
    let mut counts: HashMap<(String, Manager, String), HashSet<&str>> = HashMap::new();
    for p in found {
        counts
            .entry((p.package.clone(), p.manager, p.full_version()))
            .or_default()
            .insert(p.host.as_str());
    }
    let mut rows: Vec<((String, Manager, String), usize)> =
        counts.into_iter().map(|(k, v)| (k, v.len())).collect();
    rows.sort_by(|((pa, ma, va), _), ((pb, mb, vb), _)| {
        pa.cmp(pb)
            .then_with(|| ma.name().cmp(mb.name()))
            .then_with(|| compare(*ma, va, vb).then_with(|| va.cmp(vb)))
    });
    rows.into_iter()
        .map(|((package, manager, version), hosts)| {
            let mut r = SummaryRow::record();
            r.set(SummaryRow::PACKAGE, package)
                .set(SummaryRow::VERSION, version)
                .set(SummaryRow::MANAGER, manager.name())
                .set(SummaryRow::HOSTS, hosts);
            r
        })
        .collect()
}

/// Judges every host an expectation covers; appends a record per drift.
fn drift_file(
    catalog: &Catalog,
    e: &Expectation,
    hosts: &[InventoryHost],
    records: &mut Vec<Record<DriftRow>>,
) -> Result<()> {
    let covered: Vec<&InventoryHost> = hosts
        .iter()
        .filter(|h| e.covers(&h.name, &h.managers))
        .collect();
    if covered.is_empty() {
        return Ok(());
    }
    let found = catalog.package_locations(&e.package)?;
    let mut by_host: HashMap<&str, Vec<&PackageLocation>> = HashMap::new();
    for p in &found {
        if e.manager.is_none_or(|m| m == p.manager) {
            by_host.entry(p.host.as_str()).or_default().push(p);
        }
    }
    let expected = e.expected_text();
    for h in covered {
        match by_host.get(h.name.as_str()) {
            None => {
                let any = e.manager.or(h.managers.first().copied());
                if let Some(status) = any.and_then(|m| e.judge(m, None)) {
                    let managers: Vec<&str> = h.managers.iter().map(|m| m.name()).collect();
                    records.push(drift_record(
                        h,
                        &e.package,
                        status,
                        "",
                        &expected,
                        &managers.join(","),
                        "",
                        &e.source,
                    ));
                }
            }
            Some(list) => {
                for p in list {
                    let installed = p.full_version();
                    if let Some(status) = e.judge(p.manager, Some(&installed)) {
                        records.push(drift_record(
                            h,
                            &p.package,
                            status,
                            &installed,
                            &expected,
                            p.manager.name(),
                            &p.arch,
                            &e.source,
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Compares every host that shares a manager with `golden` against its packages.
fn drift_from(
    catalog: &Catalog,
    golden: &str,
    hosts: &[InventoryHost],
) -> Result<Vec<Record<DriftRow>>> {
    let (golden_id, packages) = catalog.host_packages(golden)?.ok_or_else(|| {
        Error::usage(format!(
            "--expect-from {golden}: no such host in the catalog"
        ))
    })?;
    if packages.is_empty() {
        return Err(Error::usage(format!(
            "--expect-from {golden}: the catalog has no packages for it"
        )));
    }
    let rule = format!("expect-from:{golden}");
    let mut records = Vec::new();
    let managers: BTreeSet<Manager> = packages.iter().map(|(_, p)| p.manager).collect();
    for m in managers {
        // (name_id, arch) → (name, full version) on the golden host.
        let expected: HashMap<(i64, &str), (&str, String)> = packages
            .iter()
            .filter(|(_, p)| p.manager == m)
            .map(|(name, p)| {
                (
                    (p.name_id, p.arch.as_str()),
                    (
                        name.as_str(),
                        m.full_version(&p.epoch, &p.version, &p.release),
                    ),
                )
            })
            .collect();
        let considered: HashMap<i64, &InventoryHost> = hosts
            .iter()
            .filter(|h| h.id != golden_id && h.managers.contains(&m))
            .map(|h| (h.id, h))
            .collect();
        let diff = catalog.differences_from(golden_id, m)?;
        let extra_names = catalog.package_names(
            diff.differing
                .iter()
                .filter(|p| !expected.contains_key(&(p.name_id, p.arch.as_str())))
                .map(|p| p.name_id),
        )?;
        for p in &diff.differing {
            let Some(h) = considered.get(&p.host_id) else {
                continue;
            };
            let installed = m.full_version(&p.epoch, &p.version, &p.release);
            match expected.get(&(p.name_id, p.arch.as_str())) {
                Some((name, want)) => {
                    let status = match compare(m, &installed, want) {
                        Ordering::Less => Drift::Behind,
                        Ordering::Greater => Drift::Ahead,
                        // Spelled differently, ordered the same (1.01 and 1.1): no drift.
                        Ordering::Equal => continue,
                    };
                    records.push(drift_record(
                        h,
                        name,
                        status,
                        &installed,
                        &format!("={want}"),
                        m.name(),
                        &p.arch,
                        &rule,
                    ));
                }
                None => {
                    let name = extra_names.get(&p.name_id).map_or("", String::as_str);
                    records.push(drift_record(
                        h,
                        name,
                        Drift::Extra,
                        &installed,
                        "absent",
                        m.name(),
                        &p.arch,
                        &rule,
                    ));
                }
            }
        }
        // Golden packages a host lacks.
        for (host_id, lacking) in &diff.lacking {
            let Some(h) = considered.get(host_id) else {
                continue;
            };
            for (name_id, arch) in lacking {
                if let Some((name, want)) = expected.get(&(*name_id, arch.as_str())) {
                    records.push(drift_record(
                        h,
                        name,
                        Drift::Missing,
                        "",
                        &format!("={want}"),
                        m.name(),
                        arch,
                        &rule,
                    ));
                }
            }
        }
    }
    Ok(records)
}

#[allow(clippy::too_many_arguments)] // one record's fields, named at each call
fn drift_record(
    h: &InventoryHost,
    package: &str,
    status: Drift,
    installed: &str,
    expected: &str,
    manager: &str,
    arch: &str,
    rule: &str,
) -> Record<DriftRow> {
    let mut r = DriftRow::record();
    r.set(DriftRow::HOST, h.name.as_str())
        .set(DriftRow::PACKAGE, package)
        .set(DriftRow::STATUS, status.name())
        .set(DriftRow::INSTALLED, installed)
        .set(DriftRow::EXPECTED, expected)
        .set(DriftRow::MANAGER, manager)
        .set(DriftRow::ARCH, arch)
        .set(DriftRow::RULE, rule)
        .set(DriftRow::LAST_SEEN, clock::format(h.last_seen));
    r
}

fn change_record(c: &PackageChange) -> Record<ChangeRow> {
    let manager = c.manager;
    let text = |v: &Option<(String, String, String)>| {
        v.as_ref()
            .map(|(e, ver, rel)| manager.full_version(e, ver, rel))
    };
    let (from, to) = (text(&c.from), text(&c.to));
    let change = match (&from, &to) {
        (None, _) => "installed",
        (_, None) => "removed",
        (Some(a), Some(b)) => match compare(manager, a, b) {
            Ordering::Less => "upgraded",
            Ordering::Greater => "downgraded",
            Ordering::Equal => "changed",
        },
    };
    let mut r = ChangeRow::record();
    r.set(ChangeRow::WHEN, clock::format(c.when))
        .set(ChangeRow::HOST, c.host.as_str())
        .set(ChangeRow::PACKAGE, c.package.as_str())
        .set(ChangeRow::CHANGE, change)
        .set(ChangeRow::FROM, from.unwrap_or_default())
        .set(ChangeRow::TO, to.unwrap_or_default())
        .set(ChangeRow::MANAGER, c.manager.name())
        .set(ChangeRow::ARCH, c.arch.as_str());
    r
}

fn record(p: &PackageLocation) -> Record<Row> {
    let version = p.full_version();
    let mut r = Row::record();
    r.set(Row::HOST, p.host.as_str())
        .set(Row::PACKAGE, p.package.as_str())
        .set(Row::VERSION, version)
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
