//! Packages in the catalog: which hosts have a package (or any matching a glob) installed,
//! which hosts have package inventories at all, how a fleet differs from one host, and what
//! changed in the inventories' history.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, Result};
use crate::model::Manager;

use super::Catalog;
use super::db::{FromCol, Row, params};

/// The catalog stores a manager by name; a name opskit does not know can only come from a
/// damaged or foreign catalog, and is reported rather than guessed at.
impl FromCol<'_> for Manager {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        manager_named(&row.get::<String>(i)?)
    }
}

/// The manager the catalog names `name`.
fn manager_named(name: &str) -> Result<Manager> {
    Manager::from_name(name).ok_or_else(|| {
        Error::new(
            ErrorKind::Catalog,
            format!("catalog query failed: unknown package manager {name:?}"),
        )
    })
}

/// One package installed on one host, as currently known.
#[derive(Debug, Clone)]
pub struct PackageLocation {
    pub host: String,
    pub package: String,
    pub manager: Manager,
    pub epoch: String,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub install_time: Option<i64>,
    /// When this version was first seen on this host.
    pub first_seen: i64,
    /// When the host's latest scan that saw it ran.
    pub last_seen: i64,
}

impl PackageLocation {
    /// The version as the host's package manager prints it.
    pub fn full_version(&self) -> String {
        self.manager
            .full_version(&self.epoch, &self.version, &self.release)
    }
}

/// True when `pattern` uses glob syntax (`*`, `?`, `[…]`), as the shell would expand it.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

impl Catalog {
    /// Every host that currently has a package named `pattern` (a name or a glob), ordered by
    /// package then host.
    pub fn package_locations(&self, pattern: &str) -> Result<Vec<PackageLocation>> {
        // The name table is small (thousands of names for the whole fleet), so matching a glob
        // there first and then following the (name_id, current) index stays fast on big fleets.
        let dialect = self.db.dialect();
        let (condition, bound) = if is_glob(pattern) {
            (dialect.glob("n.name", 1), dialect.glob_param(pattern))
        } else {
            ("n.name = ?1".to_string(), pattern.to_string())
        };
        let sql = format!(
            "SELECT h.name, n.name, p.manager, p.epoch, p.version, p.release, p.arch, \
                    p.install_time, p.first_seen, p.last_seen \
             FROM package_names n \
             JOIN host_packages p ON p.name_id = n.id AND p.current = 1 \
             JOIN hosts h ON h.id = p.host_id \
             WHERE {condition} \
             ORDER BY n.name, h.name, p.arch, p.id"
        );
        self.db.query_map(&sql, params![bound], |r| {
            Ok(PackageLocation {
                host: r.get(0)?,
                package: r.get(1)?,
                manager: r.get(2)?,
                epoch: r.get(3)?,
                version: r.get(4)?,
                release: r.get(5)?,
                arch: r.get(6)?,
                install_time: r.get(7)?,
                first_seen: r.get(8)?,
                last_seen: r.get(9)?,
            })
        })
    }
}

/// A host with a current package inventory: its name and the managers that reported packages.
#[derive(Debug, Clone)]
pub struct InventoryHost {
    pub id: i64,
    pub name: String,
    /// Managers with at least one current package on this host, in [`Manager::ALL`] order.
    pub managers: Vec<Manager>,
    /// When the host was last scanned.
    pub last_seen: i64,
}

/// One package on one host, keyed by ids, for fleet-wide comparisons that must not allocate a
/// host name per row.
#[derive(Debug, Clone)]
pub struct PackageRow {
    pub host_id: i64,
    pub name_id: i64,
    pub manager: Manager,
    pub epoch: String,
    pub version: String,
    pub release: String,
    pub arch: String,
}

/// A host's id and its current packages, each with its name.
pub type HostPackages = (i64, Vec<(String, PackageRow)>);

/// How a fleet differs from a golden host.
#[derive(Debug, Clone, Default)]
pub struct Differences {
    /// Rows that differ from the golden host's, or that it does not have.
    pub differing: Vec<PackageRow>,
    /// Hosts (by id) that lack some of the golden host's packages, each with the
    /// `(name_id, arch)` pairs it lacks. A host with no packages of the manager at all does not
    /// appear: callers compare against the hosts they consider.
    pub lacking: Vec<(i64, Vec<(i64, String)>)>,
}

/// Column `i` of `r` as the bytes SQLite holds, without copying them (NULL reads as empty).
fn text_at<'a>(r: &'a Row<'_>, i: usize) -> Result<&'a [u8]> {
    Ok(r.bytes(i)?.unwrap_or(b""))
}

/// One of the golden host's packages, as `differences_from` compares against it.
struct GoldenPackage {
    name_id: i64,
    arch: String,
    /// `(epoch, version, release)` of each installed version.
    versions: Vec<(String, String, String)>,
}

/// A package version that appeared, or disappeared, on a host: one history row and, for a new
/// version, the row it replaced.
#[derive(Debug, Clone)]
pub struct PackageChange {
    pub host: String,
    pub package: String,
    pub manager: Manager,
    pub arch: String,
    /// The version before, as `(epoch, version, release)`; `None` for an install.
    pub from: Option<(String, String, String)>,
    /// The version after; `None` for a removal.
    pub to: Option<(String, String, String)>,
    /// For a new version, when it was first seen; for a removal, when the package was last seen.
    pub when: i64,
}

impl Catalog {
    /// Every host with at least one current package, with the managers it has, by name.
    pub fn inventory_hosts(&self) -> Result<Vec<InventoryHost>> {
        // Per host, the first and the last manager name on the (host_id, current, manager)
        // index: two index seeks a host, not a read of every package row. Written as scalar
        // subqueries because as EXISTS over a list of managers PostgreSQL turned it into a
        // join against all hundred million rows (11 s on 10,000 hosts). A host with more than
        // two managers (rare: a container host with apk beside dpkg) has the rest looked up
        // afterwards.
        let mut hosts: Vec<InventoryHost> = Vec::new();
        let mut between: Vec<(usize, String, String)> = Vec::new();
        self.db.query_each(
            // Hosts without packages come back with NULLs and are skipped here: filtering
            // on `lo` in SQL made PostgreSQL evaluate its subquery a second time.
            "SELECT h.id, h.name, h.last_seen, \
                    (SELECT min(p.manager) FROM host_packages p \
                      WHERE p.host_id = h.id AND p.current = 1), \
                    (SELECT max(p.manager) FROM host_packages p \
                      WHERE p.host_id = h.id AND p.current = 1) \
             FROM hosts h ORDER BY h.name, h.id",
            params![],
            |r| {
                let (Some(lo), Some(hi)) =
                    (r.get::<Option<String>>(3)?, r.get::<Option<String>>(4)?)
                else {
                    return Ok(());
                };
                let mut managers = vec![manager_named(&lo)?];
                if hi != lo {
                    managers.push(manager_named(&hi)?);
                    between.push((hosts.len(), lo, hi));
                }
                hosts.push(InventoryHost {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    managers,
                    last_seen: r.get(2)?,
                });
                Ok(())
            },
        )?;
        for (i, lo, hi) in between {
            let more: Vec<Manager> = self.db.query_map(
                "SELECT DISTINCT manager FROM host_packages \
                 WHERE host_id = ?1 AND current = 1 AND manager > ?2 AND manager < ?3",
                params![hosts[i].id, lo, hi],
                |r| r.get(0),
            )?;
            hosts[i].managers.extend(more);
        }
        for h in &mut hosts {
            h.managers.sort();
        }
        Ok(hosts)
    }

    /// The current packages of one host (by exact name, case-insensitively), with their ids.
    pub fn host_packages(&self, host: &str) -> Result<Option<HostPackages>> {
        let id: Option<i64> = self.db.query_opt(
            "SELECT id FROM hosts WHERE lower(name) = lower(CAST(?1 AS TEXT)) \
             ORDER BY name = ?1 DESC, name LIMIT 1",
            params![host],
            |r| r.get(0),
        )?;
        let Some(id) = id else { return Ok(None) };
        let rows = self.db.query_map(
            "SELECT n.name, p.name_id, p.manager, p.epoch, p.version, p.release, p.arch \
                 FROM host_packages p JOIN package_names n ON n.id = p.name_id \
                 WHERE p.host_id = ?1 AND p.current = 1 ORDER BY n.name, p.arch, p.id",
            params![id],
            |r| {
                Ok((
                    r.get(0)?,
                    PackageRow {
                        host_id: id,
                        name_id: r.get(1)?,
                        manager: r.get(2)?,
                        epoch: r.get(3)?,
                        version: r.get(4)?,
                        release: r.get(5)?,
                        arch: r.get(6)?,
                    },
                ))
            },
        )?;
        Ok(Some((id, rows)))
    }

    /// The current packages of `manager` on every host other than `golden` that differ from
    /// `golden`'s (another version, or a name/arch `golden` does not have), and for each host
    /// which of `golden`'s packages it lacks.
    ///
    /// One pass over the fleet's rows, compared here rather than in SQL: SQLite spent four
    /// times as long evaluating a join and aggregate per row as reading the rows (10,000 hosts
    /// x 1,000 packages: 14 s against 3.5 s). Only differences are copied out of SQLite's
    /// buffers; on a homogeneous fleet that is a few rows out of millions.
    pub fn differences_from(&self, golden: i64, manager: Manager) -> Result<Differences> {
        let m = manager.name();
        // One entry per (name_id, arch), with every version the golden host has of it (rpm
        // hosts keep several kernels installed at once).
        let mut reference: Vec<GoldenPackage> = Vec::new();
        // name_id → indexes into `reference`: one per arch the golden host has it for.
        let mut by_name: HashMap<i64, Vec<usize>> = HashMap::new();
        self.db.query_each(
            "SELECT name_id, arch, epoch, version, release FROM host_packages \
             WHERE host_id = ?1 AND current = 1 AND manager = ?2 ORDER BY id",
            params![golden, m],
            |r| {
                let name_id: i64 = r.get(0)?;
                let arch: String = r.get(1)?;
                let version = (r.get(2)?, r.get(3)?, r.get(4)?);
                let idxs = by_name.entry(name_id).or_default();
                match idxs.iter().find(|&&i| reference[i].arch == arch) {
                    Some(&i) => reference[i].versions.push(version),
                    None => {
                        idxs.push(reference.len());
                        reference.push(GoldenPackage {
                            name_id,
                            arch,
                            versions: vec![version],
                        });
                    }
                }
                Ok(())
            },
        )?;

        let mut diff = Differences::default();
        // Per host, which of the golden packages it has been seen with: one bit per entry of
        // `reference` (10,000 hosts x 1,000 packages: 1.3 MB).
        let words = reference.len().div_ceil(64);
        let mut seen: HashMap<i64, Vec<u64>> = HashMap::new();
        // No ORDER BY: read in table order, SQLite scans the table front to back. Sorted by host
        // it walks the (host_id, current, manager) index and seeks into the table once per row,
        // four times slower (and a rescanned host's new rows are at the end of the table anyway).
        let text = text_at;
        self.db.query_each(
            "SELECT host_id, name_id, arch, epoch, version, release FROM host_packages \
             WHERE current = 1 AND manager = ?2 AND host_id != ?1",
            params![golden, m],
            |r| {
                let host: i64 = r.get(0)?;
                let bits = seen.entry(host).or_insert_with(|| vec![0; words]);
                let name_id: i64 = r.get(1)?;
                let arch = text(r, 2)?;
                let matching = by_name
                    .get(&name_id)
                    .and_then(|idxs| idxs.iter().find(|&&i| reference[i].arch.as_bytes() == arch));
                let same_version = match matching {
                    Some(&i) => {
                        bits[i / 64] |= 1 << (i % 64);
                        let (epoch, version, release) = (text(r, 3)?, text(r, 4)?, text(r, 5)?);
                        reference[i].versions.iter().any(|(e, v, rel)| {
                            v.as_bytes() == version
                                && rel.as_bytes() == release
                                && e.as_bytes() == epoch
                        })
                    }
                    None => false,
                };
                if !same_version {
                    let owned = |i: usize| -> Result<String> {
                        Ok(String::from_utf8_lossy(text(r, i)?).into_owned())
                    };
                    diff.differing.push(PackageRow {
                        host_id: host,
                        name_id,
                        manager,
                        epoch: owned(3)?,
                        version: owned(4)?,
                        release: owned(5)?,
                        arch: owned(2)?,
                    });
                }
                Ok(())
            },
        )?;
        // Table order differs between backends (and between a catalog and its copy): the
        // differences come out in one order whatever the scan's.
        diff.differing.sort_by(|a, b| {
            (
                a.host_id, a.name_id, &a.arch, &a.epoch, &a.version, &a.release,
            )
                .cmp(&(
                    b.host_id, b.name_id, &b.arch, &b.epoch, &b.version, &b.release,
                ))
        });
        for (host, bits) in seen {
            let lacking: Vec<(i64, String)> = reference
                .iter()
                .enumerate()
                .filter(|(i, _)| bits[i / 64] & (1 << (i % 64)) == 0)
                .map(|(_, g)| (g.name_id, g.arch.clone()))
                .collect();
            if !lacking.is_empty() {
                diff.lacking.push((host, lacking));
            }
        }
        diff.lacking.sort_unstable_by_key(|(host, _)| *host);
        Ok(diff)
    }

    /// Package names by id, for the ids in `ids`.
    pub fn package_names(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<HashMap<i64, String>> {
        let mut names = HashMap::new();
        for id in ids {
            if names.contains_key(&id) {
                continue;
            }
            let name: Option<String> = self.db.query_opt(
                "SELECT name FROM package_names WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            if let Some(n) = name {
                names.insert(id, n);
            }
        }
        Ok(names)
    }

    /// What changed in the package inventories since `since` (Unix seconds): every version
    /// first seen since then (with the version it replaced, if any), and every package that is
    /// gone and was retired since then. A host's first scan is its baseline, not a list of
    /// installs. `pattern` limits the answer to package names matching it (a name or a glob).
    pub fn package_changes(&self, since: i64, pattern: Option<&str>) -> Result<Vec<PackageChange>> {
        let dialect = self.db.dialect();
        let (name_filter, bound) = match pattern {
            Some(p) if is_glob(p) => (
                format!("AND {}", dialect.glob("n.name", 2)),
                Some(dialect.glob_param(p)),
            ),
            Some(p) => ("AND n.name = ?2".to_string(), Some(p.to_string())),
            None => ("AND CAST(?2 AS TEXT) IS NULL".to_string(), None),
        };
        let version = |r: &Row<'_>, i: usize| -> Result<(String, String, String)> {
            Ok((r.get(i)?, r.get(i + 1)?, r.get(i + 2)?))
        };
        // New versions, each with the row of the same package and arch it replaced: the latest
        // one retired before it appeared.
        let sql = format!(
            "SELECT h.name, n.name, p.manager, p.arch, p.epoch, p.version, p.release, p.first_seen, \
                    o.epoch, o.version, o.release \
             FROM host_packages p \
             JOIN hosts h ON h.id = p.host_id \
             JOIN package_names n ON n.id = p.name_id \
             LEFT JOIN host_packages o ON o.id = ( \
                 SELECT x.id FROM host_packages x \
                 WHERE x.name_id = p.name_id AND x.host_id = p.host_id AND x.arch = p.arch \
                   AND x.manager = p.manager AND x.current = 0 AND x.last_seen < p.first_seen \
                 ORDER BY x.last_seen DESC, x.id DESC LIMIT 1) \
             WHERE p.first_seen >= ?1 AND p.first_seen > h.first_seen {name_filter} \
             ORDER BY p.first_seen, h.name, n.name, p.arch, p.id"
        );
        let mut changes = self.db.query_map(&sql, params![since, bound], |r| {
            let from = match r.get::<Option<String>>(8)? {
                Some(_) => Some(version(r, 8)?),
                None => None,
            };
            Ok(PackageChange {
                host: r.get(0)?,
                package: r.get(1)?,
                manager: r.get(2)?,
                arch: r.get(3)?,
                from,
                to: Some(version(r, 4)?),
                when: r.get(7)?,
            })
        })?;
        // Removals: retired rows with no current row of the same package and arch. When the
        // package went is not stored; the earliest later timestamp among the host's rows is
        // the first scan known to have missed it, which decides whether it falls in the window.
        let sql = format!(
            "SELECT h.name, n.name, p.manager, p.arch, p.epoch, p.version, p.release, p.last_seen, \
                    (SELECT min(t) FROM ( \
                        SELECT min(x.first_seen) AS t FROM host_packages x \
                          WHERE x.host_id = p.host_id AND x.first_seen > p.last_seen \
                        UNION ALL SELECT min(x.last_seen) FROM host_packages x \
                          WHERE x.host_id = p.host_id AND x.last_seen > p.last_seen \
                        UNION ALL SELECT h.last_seen WHERE h.last_seen > p.last_seen) AS u) AS gone \
             FROM host_packages p \
             JOIN hosts h ON h.id = p.host_id \
             JOIN package_names n ON n.id = p.name_id \
             WHERE p.current = 0 AND h.last_seen >= ?1 {name_filter} \
               AND NOT EXISTS (SELECT 1 FROM host_packages c \
                   WHERE c.name_id = p.name_id AND c.current = 1 AND c.host_id = p.host_id \
                     AND c.arch = p.arch AND c.manager = p.manager) \
               AND NOT EXISTS (SELECT 1 FROM host_packages l \
                   WHERE l.name_id = p.name_id AND l.host_id = p.host_id AND l.arch = p.arch \
                     AND l.manager = p.manager AND l.last_seen > p.last_seen) \
             ORDER BY p.last_seen, h.name, n.name, p.arch, p.id"
        );
        self.db.query_each(&sql, params![since, bound], |r| {
            let gone: Option<i64> = r.get(8)?;
            if gone.is_none_or(|g| g < since) {
                return Ok(());
            }
            changes.push(PackageChange {
                host: r.get(0)?,
                package: r.get(1)?,
                manager: r.get(2)?,
                arch: r.get(3)?,
                from: Some(version(r, 4)?),
                to: None,
                when: r.get(7)?,
            });
            Ok(())
        })?;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::host::HostSnapshot;
    use crate::model::package::{Inventory, Package};

    /// A snapshot of `host` with one package under each of `managers`.
    fn snapshot(host: &str, managers: &[Manager]) -> HostSnapshot {
        HostSnapshot {
            hostname: host.to_string(),
            fqdn: None,
            facts: Default::default(),
            custom_facts: Vec::new(),
            failed_facts: Vec::new(),
            interfaces: Vec::new(),
            inventories: managers
                .iter()
                .map(|&m| Inventory {
                    manager: m,
                    packages: vec![Package::unqualified("zlib", "1.3", "1", "x86_64")],
                })
                .collect(),
            failed_managers: Vec::new(),
            host_key: None,
            audit: None,
        }
    }

    #[test]
    fn inventory_hosts_lists_every_manager_of_every_host_with_packages() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::open(&dir.path().join("c.db")).unwrap();
        let scan = catalog.begin_scan("test", "local", "all", 100).unwrap();
        use Manager::{Apk, Dpkg, Pacman, Rpm};
        for (host, managers) in [
            ("four", &[Apk, Dpkg, Pacman, Rpm][..]),
            ("three", &[Rpm, Apk, Dpkg][..]),
            ("two", &[Pacman, Dpkg][..]),
            ("one", &[Rpm][..]),
            ("none", &[][..]),
        ] {
            catalog
                .store_host(scan, 100, &snapshot(host, managers), false)
                .unwrap();
        }
        let found: Vec<(String, Vec<Manager>)> = catalog
            .inventory_hosts()
            .unwrap()
            .into_iter()
            .map(|h| (h.name, h.managers))
            .collect();
        // By name; managers in Manager::ALL order; a host without packages is not listed.
        assert_eq!(
            found,
            [
                ("four".to_string(), vec![Dpkg, Rpm, Apk, Pacman]),
                ("one".to_string(), vec![Rpm]),
                ("three".to_string(), vec![Dpkg, Rpm, Apk]),
                ("two".to_string(), vec![Dpkg, Pacman]),
            ]
        );
    }
}
