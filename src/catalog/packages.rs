//! Packages in the catalog: which hosts have a package (or any matching a glob) installed.

use rusqlite::params;

use crate::error::Result;

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
