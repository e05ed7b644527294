//! Packages in the catalog: which hosts have a package (or any matching a glob) installed,
//! which hosts have package inventories at all, how a fleet differs from one host, and what
//! changed in the inventories' history.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use crate::error::Result;
use crate::packages::Manager;

use super::{Catalog, sql_error};

/// One package installed on one host, as currently known.
#[derive(Debug, Clone)]
pub struct PackageLocation {
    pub host: String,
    pub package: String,
    pub manager: String,
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
        let op = if is_glob(pattern) { "GLOB" } else { "=" };
        let sql = format!(
            "SELECT h.name, n.name, p.manager, p.epoch, p.version, p.release, p.arch, \
                    p.install_time, p.first_seen, p.last_seen \
             FROM package_names n \
             JOIN host_packages p ON p.name_id = n.id AND p.current = 1 \
             JOIN hosts h ON h.id = p.host_id \
             WHERE n.name {op} ?1 \
             ORDER BY n.name, h.name, p.arch"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(sql_error)?;
        let rows = stmt
            .query_map(params![pattern], |r| {
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
            .map_err(sql_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql_error)?;
        Ok(rows)
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
    pub manager: String,
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
    /// Hosts (by id) that lack some of the golden host's packages. A host with none of them
    /// at all does not appear: callers compare against the hosts they consider.
    pub shortfalls: Vec<(i64, Shortfall)>,
    /// The golden packages: `(idx, name_id, arch)`, by idx.
    pub golden: Vec<(i64, i64, String)>,
}

/// Which golden packages a host lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// These golden indexes (one pass's sums identify up to two).
    Known(Vec<i64>),
    /// More than two: ask for the host's packages.
    Unknown,
}

/// A package version that appeared, or disappeared, on a host: one history row and, for a new
/// version, the row it replaced.
#[derive(Debug, Clone)]
pub struct PackageChange {
    pub host: String,
    pub package: String,
    pub manager: String,
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
        // One EXISTS probe per host and manager on the (host_id, current, manager) index: a few
        // tens of thousands of index seeks, instead of reading every package row for DISTINCT.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT h.id, h.name, h.last_seen, m.column1 \
                 FROM hosts h, (VALUES ('dpkg'), ('rpm'), ('apk'), ('pacman')) m \
                 WHERE EXISTS (SELECT 1 FROM host_packages p \
                               WHERE p.host_id = h.id AND p.current = 1 AND p.manager = m.column1) \
                 ORDER BY h.name, h.id",
            )
            .map_err(sql_error)?;
        let mut rows = stmt.query([]).map_err(sql_error)?;
        let mut hosts: Vec<InventoryHost> = Vec::new();
        while let Some(r) = rows.next().map_err(sql_error)? {
            let id: i64 = r.get(0).map_err(sql_error)?;
            let manager: String = r.get(3).map_err(sql_error)?;
            let Some(manager) = Manager::from_name(&manager) else {
                continue;
            };
            match hosts.last_mut() {
                Some(h) if h.id == id => h.managers.push(manager),
                _ => hosts.push(InventoryHost {
                    id,
                    name: r.get(1).map_err(sql_error)?,
                    managers: vec![manager],
                    last_seen: r.get(2).map_err(sql_error)?,
                }),
            }
        }
        for h in &mut hosts {
            h.managers.sort();
        }
        Ok(hosts)
    }

    /// The current packages of one host (by exact name, case-insensitively), with their ids.
    pub fn host_packages(&self, host: &str) -> Result<Option<HostPackages>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM hosts WHERE lower(name) = lower(?1) ORDER BY name = ?1 DESC LIMIT 1",
                [host],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_error)?;
        let Some(id) = id else { return Ok(None) };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT n.name, p.name_id, p.manager, p.epoch, p.version, p.release, p.arch \
                 FROM host_packages p JOIN package_names n ON n.id = p.name_id \
                 WHERE p.host_id = ?1 AND p.current = 1 ORDER BY n.name, p.arch",
            )
            .map_err(sql_error)?;
        let rows = stmt
            .query_map([id], |r| {
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
            })
            .map_err(sql_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql_error)?;
        Ok(Some((id, rows)))
    }

    /// The current packages of `manager` on every host other than `golden` that differ from
    /// `golden`'s (another version, or a name/arch `golden` does not have), and for each host
    /// which of `golden`'s packages it lacks, as far as one pass can tell (see [`Shortfall`]).
    ///
    /// The comparison runs inside SQLite in one pass over the packages, grouped by host, and
    /// only differences leave it: on a homogeneous fleet that is a few rows out of millions.
    pub fn differences_from(&self, golden: i64, manager: Manager) -> Result<Differences> {
        let m = manager.name();
        self.conn
            .execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS golden (name_id INTEGER, arch TEXT, epoch TEXT, \
                   version TEXT, release TEXT, idx INTEGER, PRIMARY KEY (name_id, arch)) \
                   WITHOUT ROWID; \
                 DELETE FROM temp.golden;",
            )
            .map_err(sql_error)?;
        self.conn
            .execute(
                "INSERT OR IGNORE INTO temp.golden \
                 SELECT name_id, arch, epoch, version, release, \
                        row_number() OVER (ORDER BY name_id, arch) \
                 FROM host_packages WHERE host_id = ?1 AND current = 1 AND manager = ?2",
                params![golden, m],
            )
            .map_err(sql_error)?;
        // Per host: how many golden packages it has (any version), the sum of their indexes and
        // of their squares (which name one or two missing ones exactly), and the ids of its
        // rows that differ.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT p.host_id, count(g.idx), coalesce(sum(g.idx), 0), \
                        coalesce(sum(g.idx * g.idx), 0), \
                        group_concat(CASE WHEN g.idx IS NULL OR g.version != p.version \
                          OR g.release != p.release OR g.epoch != p.epoch THEN p.id END) \
                 FROM host_packages p LEFT JOIN temp.golden g \
                   ON g.name_id = p.name_id AND g.arch = p.arch \
                 WHERE p.current = 1 AND p.manager = ?2 AND p.host_id != ?1 \
                 GROUP BY p.host_id",
            )
            .map_err(sql_error)?;
        let (n, total, total_sq): (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT count(*), coalesce(sum(idx), 0), coalesce(sum(idx * idx), 0) \
                 FROM temp.golden",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(sql_error)?;
        let mut ids: Vec<i64> = Vec::new();
        let mut shortfalls = Vec::new();
        let mut rows = stmt.query(params![golden, m]).map_err(sql_error)?;
        while let Some(r) = rows.next().map_err(sql_error)? {
            let host_id: i64 = r.get(0).map_err(sql_error)?;
            let count: i64 = r.get(1).map_err(sql_error)?;
            let (sum, sum_sq): (i64, i64) =
                (r.get(2).map_err(sql_error)?, r.get(3).map_err(sql_error)?);
            if let Some(list) = r.get::<_, Option<String>>(4).map_err(sql_error)? {
                ids.extend(list.split(',').filter_map(|i| i.parse::<i64>().ok()));
            }
            let shortfall = match n - count {
                0 => continue,
                1 => Shortfall::Known(vec![total - sum]),
                2 => {
                    // a + b = d1 and a² + b² = d2 have one solution with a < b.
                    let (d1, d2) = (total - sum, total_sq - sum_sq);
                    let root = ((2 * d2 - d1 * d1) as f64).sqrt().round() as i64;
                    let (a, b) = ((d1 - root) / 2, (d1 + root) / 2);
                    if a + b == d1 && a * a + b * b == d2 {
                        Shortfall::Known(vec![a, b])
                    } else {
                        Shortfall::Unknown
                    }
                }
                _ => Shortfall::Unknown,
            };
            shortfalls.push((host_id, shortfall));
        }
        drop(rows);
        let mut fetch = self
            .conn
            .prepare_cached(
                "SELECT host_id, name_id, epoch, version, release, arch FROM host_packages \
                 WHERE id = ?1",
            )
            .map_err(sql_error)?;
        let mut differing = Vec::with_capacity(ids.len());
        for id in ids {
            differing.push(
                fetch
                    .query_row([id], |r| {
                        Ok(PackageRow {
                            host_id: r.get(0)?,
                            name_id: r.get(1)?,
                            manager: m.to_string(),
                            epoch: r.get(2)?,
                            version: r.get(3)?,
                            release: r.get(4)?,
                            arch: r.get(5)?,
                        })
                    })
                    .map_err(sql_error)?,
            );
        }
        let mut golden_keys = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT idx, name_id, arch FROM temp.golden ORDER BY idx")
            .map_err(sql_error)?;
        let mut rows = stmt.query([]).map_err(sql_error)?;
        while let Some(r) = rows.next().map_err(sql_error)? {
            golden_keys.push((
                r.get::<_, i64>(0).map_err(sql_error)?,
                r.get::<_, i64>(1).map_err(sql_error)?,
                r.get::<_, String>(2).map_err(sql_error)?,
            ));
        }
        Ok(Differences {
            differing,
            shortfalls,
            golden: golden_keys,
        })
    }

    /// The current `(name_id, arch)` pairs of `manager` on one host.
    pub fn host_package_keys(&self, host_id: i64, manager: Manager) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name_id, arch FROM host_packages \
                 WHERE host_id = ?1 AND current = 1 AND manager = ?2",
            )
            .map_err(sql_error)?;
        stmt.query_map(params![host_id, manager.name()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(sql_error)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_error)
    }

    /// Package names by id, for the ids in `ids`.
    pub fn package_names(
        &self,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<HashMap<i64, String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM package_names WHERE id = ?1")
            .map_err(sql_error)?;
        let mut names = HashMap::new();
        for id in ids {
            if names.contains_key(&id) {
                continue;
            }
            let name: Option<String> = stmt
                .query_row([id], |r| r.get(0))
                .optional()
                .map_err(sql_error)?;
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
        let name_filter = match pattern {
            Some(p) if is_glob(p) => "AND n.name GLOB ?2",
            Some(_) => "AND n.name = ?2",
            None => "AND ?2 IS NULL",
        };
        let version =
            |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<(String, String, String)> {
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
             ORDER BY p.first_seen, h.name, n.name, p.arch"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(sql_error)?;
        let mut changes = stmt
            .query_map(params![since, pattern], |r| {
                let from = match r.get::<_, Option<String>>(8)? {
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
            })
            .map_err(sql_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql_error)?;
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
                        UNION ALL SELECT h.last_seen WHERE h.last_seen > p.last_seen)) AS gone \
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
             ORDER BY p.last_seen, h.name, n.name, p.arch"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(sql_error)?;
        let mut rows = stmt.query(params![since, pattern]).map_err(sql_error)?;
        while let Some(r) = rows.next().map_err(sql_error)? {
            let gone: Option<i64> = r.get(8).map_err(sql_error)?;
            if gone.is_none_or(|g| g < since) {
                continue;
            }
            changes.push(PackageChange {
                host: r.get(0).map_err(sql_error)?,
                package: r.get(1).map_err(sql_error)?,
                manager: r.get(2).map_err(sql_error)?,
                arch: r.get(3).map_err(sql_error)?,
                from: Some(version(r, 4).map_err(sql_error)?),
                to: None,
                when: r.get(7).map_err(sql_error)?,
            });
        }
        Ok(changes)
    }
}
