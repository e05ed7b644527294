//! What the package catalog says about a fleet: where packages are installed, how many hosts
//! run each version, which hosts lack a package, where hosts drift from what is expected of
//! them (an expectations file, or a golden host), and what changed in their inventories.
//!
//! Versions are always compared in the order of the package manager that installed them, so
//! every answer here is per manager.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use crate::catalog::{Catalog, InventoryHost, PackageChange, PackageLocation};
use crate::error::{Error, Result};
use crate::input::glob_match;
use crate::model::Manager;
use crate::model::version::{Constraint, compare};
use crate::query::expect::{DriftStatus, Expectation, Want};

/// The answer for one name or glob asked for.
#[derive(Debug, Clone)]
pub struct Lookup<T> {
    /// The name or glob, as asked.
    pub name: String,
    pub rows: Vec<T>,
    /// Why `rows` is empty; `None` when it is not.
    pub miss: Option<Miss>,
}

/// Why a lookup found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// No host in the catalog has it installed.
    NotInstalled,
    /// Some hosts have it, none at a version the constraint accepts.
    NoVersionMatches,
    /// Asking which hosts lack it: installed nowhere, so no manager says which hosts could.
    NoManager,
    /// Asking which hosts lack it: every host that could lack it has it.
    NoneLacking,
}

/// How many hosts run one version of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCount {
    pub package: String,
    pub manager: Manager,
    /// The full version as the manager prints it.
    pub version: String,
    /// Hosts with this version; a host with two architectures of it counts once.
    pub hosts: usize,
}

/// A host that lacks a package others with the same manager have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingHost {
    pub host: String,
    /// The name or glob asked for.
    pub package: String,
    /// The host's managers under which the package is installed elsewhere.
    pub managers: Vec<Manager>,
    /// When the host was last scanned.
    pub last_seen: i64,
}

/// What a drift was judged against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A version the constraint accepts.
    Version(Constraint),
    /// Any version.
    Any,
    /// Not installed.
    Absent,
    /// The golden host's version, exactly.
    Exactly(String),
}

impl From<&Want> for Expected {
    fn from(want: &Want) -> Expected {
        match want {
            Want::Version(c) => Expected::Version(c.clone()),
            Want::Present => Expected::Any,
            Want::Absent => Expected::Absent,
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Version(c) => c.fmt(f),
            Expected::Any => f.write_str("any"),
            Expected::Absent => f.write_str("absent"),
            Expected::Exactly(v) => write!(f, "={v}"),
        }
    }
}

/// Where an expectation comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// An `[[expect]]` entry, as `FILE:LINE`.
    Entry(String),
    /// `--expect-from HOST`, the host as it was named.
    Golden(String),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Entry(source) => f.write_str(source),
            Rule::Golden(host) => write!(f, "expect-from:{host}"),
        }
    }
}

/// One package on one host that differs from what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub host: String,
    /// The installed package's name; for a missing one, the name or glob expected.
    pub package: String,
    pub status: DriftStatus,
    /// The installed full version; `None` when missing.
    pub installed: Option<String>,
    pub expected: Expected,
    /// The installed package's manager; for a package missing against an expectations file,
    /// every manager of the host.
    pub managers: Vec<Manager>,
    /// Architecture of the installed (or, against a golden host, expected) package; empty for
    /// a package missing against an expectations file.
    pub arch: String,
    pub rule: Rule,
    /// When the host was last scanned.
    pub last_seen: i64,
}

/// What `--drift` judges hosts against.
#[derive(Debug, Clone)]
pub enum Reference {
    /// The entries of an expectations file.
    Expectations(Vec<Expectation>),
    /// Every package of this host, at its version.
    Golden(String),
}

/// How a package changed on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Installed,
    /// To a version later in the manager's order.
    Upgraded,
    /// To a version earlier in the manager's order.
    Downgraded,
    /// To a version the manager orders the same, spelled differently.
    Changed,
    Removed,
}

impl ChangeKind {
    /// The word shown to users.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Installed => "installed",
            ChangeKind::Upgraded => "upgraded",
            ChangeKind::Downgraded => "downgraded",
            ChangeKind::Changed => "changed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One package change on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// When the new version was first seen; for a removal, when the package was last seen.
    pub when: i64,
    pub host: String,
    pub package: String,
    pub kind: ChangeKind,
    /// Full version before; `None` for an install.
    pub from: Option<String>,
    /// Full version after; `None` for a removal.
    pub to: Option<String>,
    pub manager: Manager,
    pub arch: String,
}

/// Every host with each package named (a name or a glob), keeping only versions `constraint`
/// accepts by each host's manager order.
pub fn locate(
    catalog: &Catalog,
    names: &[String],
    constraint: Option<&Constraint>,
) -> Result<Vec<Lookup<PackageLocation>>> {
    names
        .iter()
        .map(|name| {
            let mut found = catalog.package_locations(name)?;
            let installed = !found.is_empty();
            if let Some(c) = constraint {
                found.retain(|p| c.matches(p.manager, &p.full_version()));
            }
            let miss = match (found.is_empty(), installed) {
                (false, _) => None,
                (true, true) => Some(Miss::NoVersionMatches),
                (true, false) => Some(Miss::NotInstalled),
            };
            Ok(Lookup {
                name: name.clone(),
                rows: found,
                miss,
            })
        })
        .collect()
}

/// What [`locate`] finds, counted per package, manager and version, in the manager's order.
pub fn summary(
    catalog: &Catalog,
    names: &[String],
    constraint: Option<&Constraint>,
) -> Result<Vec<Lookup<VersionCount>>> {
    Ok(locate(catalog, names, constraint)?
        .into_iter()
        .map(|l| Lookup {
            rows: count_versions(&l.rows),
            name: l.name,
            miss: l.miss,
        })
        .collect())
}

fn count_versions(found: &[PackageLocation]) -> Vec<VersionCount> {
    let mut counts: HashMap<(&str, Manager, String), HashSet<&str>> = HashMap::new();
    for p in found {
        counts
            .entry((p.package.as_str(), p.manager, p.full_version()))
            .or_default()
            .insert(p.host.as_str());
    }
    let mut rows: Vec<VersionCount> = counts
        .into_iter()
        .map(|((package, manager, version), hosts)| VersionCount {
            package: package.to_string(),
            manager,
            version,
            hosts: hosts.len(),
        })
        .collect();
    // Managers by name, as users read them; versions by the manager's order, and versions it
    // orders the same (1.01 and 1.1) by spelling, so that the output is stable.
    rows.sort_by(|a, b| {
        a.package
            .cmp(&b.package)
            .then_with(|| a.manager.name().cmp(b.manager.name()))
            .then_with(|| compare(a.manager, &a.version, &b.version))
            .then_with(|| a.version.cmp(&b.version))
    });
    rows
}

/// For each package named, the hosts that lack it among those with an inventory of a manager
/// it is installed under somewhere. A package seen only on dpkg hosts is not "missing" on rpm
/// hosts: its name there is likely another.
pub fn missing(catalog: &Catalog, names: &[String]) -> Result<Vec<Lookup<MissingHost>>> {
    let hosts = catalog.inventory_hosts()?;
    let mut lookups = Vec::new();
    for name in names {
        let found = catalog.package_locations(name)?;
        if found.is_empty() {
            lookups.push(Lookup {
                name: name.clone(),
                rows: Vec::new(),
                miss: Some(Miss::NoManager),
            });
            continue;
        }
        let managers: BTreeSet<Manager> = found.iter().map(|p| p.manager).collect();
        let having: HashSet<&str> = found.iter().map(|p| p.host.as_str()).collect();
        let rows: Vec<MissingHost> = hosts
            .iter()
            .filter(|h| !having.contains(h.name.as_str()))
            .filter_map(|h| {
                let shared: Vec<Manager> = h
                    .managers
                    .iter()
                    .copied()
                    .filter(|m| managers.contains(m))
                    .collect();
                (!shared.is_empty()).then(|| MissingHost {
                    host: h.name.clone(),
                    package: name.clone(),
                    managers: shared,
                    last_seen: h.last_seen,
                })
            })
            .collect();
        lookups.push(Lookup {
            name: name.clone(),
            miss: rows.is_empty().then_some(Miss::NoneLacking),
            rows,
        });
    }
    Ok(lookups)
}

/// Every drift from `reference` on the hosts with a package inventory whose name matches one
/// of `host_globs` (all when empty), ordered by host, package and arch. Against an expectations
/// file, `names` (names or globs; all when empty) limits the entries judged.
pub fn drift(
    catalog: &Catalog,
    reference: &Reference,
    names: &[String],
    host_globs: &[String],
) -> Result<Vec<Drift>> {
    let globs: Vec<String> = host_globs.iter().map(|g| g.to_lowercase()).collect();
    let hosts: Vec<InventoryHost> = catalog
        .inventory_hosts()?
        .into_iter()
        .filter(|h| {
            let name = h.name.to_lowercase();
            globs.is_empty() || globs.iter().any(|g| glob_match(g, &name))
        })
        .collect();
    let mut drifts = match reference {
        Reference::Golden(golden) => drift_from(catalog, golden, &hosts)?,
        Reference::Expectations(expectations) => {
            let wanted = |e: &&Expectation| {
                names.is_empty()
                    || names
                        .iter()
                        .any(|n| n == &e.package || glob_match(n, &e.package))
            };
            let mut drifts = Vec::new();
            for e in expectations.iter().filter(wanted) {
                drift_file(catalog, e, &hosts, &mut drifts)?;
            }
            drifts
        }
    };
    drifts.sort_by(|a, b| (&a.host, &a.package, &a.arch).cmp(&(&b.host, &b.package, &b.arch)));
    Ok(drifts)
}

/// Judges every host an expectation covers; appends a drift per package that differs.
fn drift_file(
    catalog: &Catalog,
    e: &Expectation,
    hosts: &[InventoryHost],
    drifts: &mut Vec<Drift>,
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
    let expected = Expected::from(&e.want);
    let rule = Rule::Entry(e.source.clone());
    for h in covered {
        match by_host.get(h.name.as_str()) {
            None => {
                let any = e.manager.or(h.managers.first().copied());
                if let Some(status) = any.and_then(|m| e.judge(m, None)) {
                    drifts.push(Drift {
                        host: h.name.clone(),
                        package: e.package.clone(),
                        status,
                        installed: None,
                        expected: expected.clone(),
                        managers: h.managers.clone(),
                        arch: String::new(),
                        rule: rule.clone(),
                        last_seen: h.last_seen,
                    });
                }
            }
            Some(list) => {
                for p in list {
                    let installed = p.full_version();
                    if let Some(status) = e.judge(p.manager, Some(&installed)) {
                        drifts.push(Drift {
                            host: h.name.clone(),
                            package: p.package.clone(),
                            status,
                            installed: Some(installed),
                            expected: expected.clone(),
                            managers: vec![p.manager],
                            arch: p.arch.clone(),
                            rule: rule.clone(),
                            last_seen: h.last_seen,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

/// Compares every host that shares a manager with `golden` against its packages.
fn drift_from(catalog: &Catalog, golden: &str, hosts: &[InventoryHost]) -> Result<Vec<Drift>> {
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
    let rule = Rule::Golden(golden.to_string());
    let mut drifts = Vec::new();
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
        let drift =
            |h: &InventoryHost, package: &str, status, installed, expected, arch: &str| Drift {
                host: h.name.clone(),
                package: package.to_string(),
                status,
                installed,
                expected,
                managers: vec![m],
                arch: arch.to_string(),
                rule: rule.clone(),
                last_seen: h.last_seen,
            };
        for p in &diff.differing {
            let Some(h) = considered.get(&p.host_id) else {
                continue;
            };
            let installed = m.full_version(&p.epoch, &p.version, &p.release);
            match expected.get(&(p.name_id, p.arch.as_str())) {
                Some((name, want)) => {
                    let status = match compare(m, &installed, want) {
                        Ordering::Less => DriftStatus::Behind,
                        Ordering::Greater => DriftStatus::Ahead,
                        // Spelled differently, ordered the same (1.01 and 1.1): no drift.
                        Ordering::Equal => continue,
                    };
                    let want = Expected::Exactly(want.clone());
                    drifts.push(drift(h, name, status, Some(installed), want, &p.arch));
                }
                None => {
                    let name = extra_names.get(&p.name_id).map_or("", String::as_str);
                    drifts.push(drift(
                        h,
                        name,
                        DriftStatus::Extra,
                        Some(installed),
                        Expected::Absent,
                        &p.arch,
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
                    let want = Expected::Exactly(want.clone());
                    drifts.push(drift(h, name, DriftStatus::Missing, None, want, arch));
                }
            }
        }
    }
    Ok(drifts)
}

/// What the inventories' history says changed since `since` (Unix seconds), for the packages
/// named (names or globs; all when empty), oldest first.
pub fn changes(catalog: &Catalog, since: i64, names: &[String]) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    if names.is_empty() {
        changes = catalog.package_changes(since, None)?;
    } else {
        for name in names {
            changes.extend(catalog.package_changes(since, Some(name))?);
        }
    }
    changes.sort_by(|a, b| {
        (a.when, &a.host, &a.package, &a.arch).cmp(&(b.when, &b.host, &b.package, &b.arch))
    });
    Ok(changes.into_iter().map(classify).collect())
}

/// Names a history row's change by the manager's version order.
fn classify(c: PackageChange) -> Change {
    let m = c.manager;
    let text = |v: Option<(String, String, String)>| {
        v.map(|(epoch, version, release)| m.full_version(&epoch, &version, &release))
    };
    let (from, to) = (text(c.from), text(c.to));
    let kind = match (&from, &to) {
        (None, _) => ChangeKind::Installed,
        (_, None) => ChangeKind::Removed,
        (Some(a), Some(b)) => match compare(m, a, b) {
            Ordering::Less => ChangeKind::Upgraded,
            Ordering::Greater => ChangeKind::Downgraded,
            Ordering::Equal => ChangeKind::Changed,
        },
    };
    Change {
        when: c.when,
        host: c.host,
        package: c.package,
        kind,
        from,
        to,
        manager: m,
        arch: c.arch,
    }
}
