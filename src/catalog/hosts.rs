//! Hosts in the catalog: writing one scan's snapshot, and reading back what is known of a host.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::model::Mac;
use crate::model::host::{HostSnapshot, SystemFacts};

use super::Catalog;
use super::addresses::ip_column;
use super::db::{Param, Row, params, placeholders};
use super::observations::{Cell, Observed, Stamp, SyncCounts, Table};

const FACTS: Table = Table {
    name: "host_facts",
    scope: "host_id",
    key: &["kind", "name", "value"],
    extra: &[],
};
const INTERFACES: Table = Table {
    name: "host_interfaces",
    scope: "host_id",
    key: &["name", "mac"],
    extra: &["mtu", "oper_state", "speed_mbps"],
};
const ADDRESSES: Table = Table {
    name: "host_addresses",
    scope: "host_id",
    key: &["interface", "address", "family", "prefix_len"],
    extra: &[],
};
const PACKAGES: Table = Table {
    name: "host_packages",
    scope: "host_id",
    key: &["manager", "name_id", "epoch", "version", "release", "arch"],
    extra: &["install_time"],
};

/// What storing a host snapshot changed, per kind of observation.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostWrite {
    pub host_id: i64,
    pub facts: SyncCounts,
    pub interfaces: SyncCounts,
    pub addresses: SyncCounts,
    pub packages: SyncCounts,
    /// What the audit log read added, when the scan read one.
    pub audit: Option<super::audit::AuditWrite>,
}

/// A host row.
#[derive(Debug, Clone)]
pub struct HostRow {
    pub id: i64,
    pub name: String,
    pub fqdn: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub last_scan_id: Option<i64>,
}

/// A collector run.
#[derive(Debug, Clone)]
pub struct ScanRow {
    pub id: i64,
    pub collector: String,
    pub method: String,
    pub target: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
}

/// A current custom fact of a host.
#[derive(Debug, Clone)]
pub struct FactRow {
    pub kind: String,
    pub name: String,
    pub value: Value,
    pub first_seen: i64,
}

/// A current interface of a host, with its current addresses.
#[derive(Debug, Clone)]
pub struct InterfaceRow {
    pub name: String,
    pub mac: Option<Mac>,
    pub mtu: Option<i64>,
    pub oper_state: Option<String>,
    pub speed_mbps: Option<i64>,
    pub addresses: Vec<AddressRow>,
}

/// A current address of a host.
#[derive(Debug, Clone)]
pub struct AddressRow {
    pub interface: String,
    pub address: IpAddr,
    pub family: i64,
    pub prefix_len: Option<i64>,
}

/// Everything the catalog currently holds about one host.
#[derive(Debug, Clone)]
pub struct HostDetails {
    pub host: HostRow,
    pub system: SystemFacts,
    /// Custom facts, in the order they were first stored.
    pub custom_facts: Vec<FactRow>,
    pub interfaces: Vec<InterfaceRow>,
    /// Current package count per manager.
    pub package_counts: Vec<(String, i64)>,
    pub last_scan: Option<ScanRow>,
}

impl Catalog {
    /// Writes one host's snapshot in one transaction: either all of it lands or none of it.
    ///
    /// A host is filed under the hostname it reports, so a machine that reports another's name
    /// would overwrite that one's packages and facts: when the machine id or SSH host key on
    /// file under the name differs from the snapshot's, nothing is stored and the error says
    /// why, unless `new_identity` (the host was reinstalled, and the user says so).
    pub fn store_host(
        &mut self,
        scan_id: i64,
        now: i64,
        snap: &HostSnapshot,
        new_identity: bool,
    ) -> Result<HostWrite> {
        let tx = self.db.begin_write()?;
        tx.lock_source("host", &snap.hostname)?;
        let machine_id = snap.facts.machine_id.as_deref();
        let host_key = snap.host_key.as_deref();
        if !new_identity {
            let on_file: Option<(Option<String>, Option<String>)> = tx.query_opt(
                "SELECT machine_id, host_key FROM hosts WHERE name = ?1",
                params![snap.hostname],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some((old_id, old_key)) = on_file {
                let mut differs = Vec::new();
                if let (Some(was), Some(now)) = (old_id.as_deref(), machine_id)
                    && was != now
                {
                    differs.push(format!("machine id {was} on file, {now} now"));
                }
                if let (Some(was), Some(now)) = (old_key.as_deref(), host_key)
                    && was != now
                {
                    differs.push(format!("SSH host key {was} on file, {now} now"));
                }
                if !differs.is_empty() {
                    return Err(Error::new(
                        ErrorKind::Source,
                        format!(
                            "reports the hostname {:?}, which the catalog holds for another machine \
                             ({}): refused, nothing stored; if {:?} was reinstalled, scan it with \
                             --new-identity {:?}",
                            snap.hostname,
                            differs.join("; "),
                            snap.hostname,
                            snap.hostname
                        ),
                    ));
                }
            }
        }
        let stamp = Stamp { now, scan_id };
        let short = snap
            .hostname
            .split('.')
            .next()
            .unwrap_or(&snap.hostname)
            .to_lowercase();
        let host_id: i64 = tx.query_one(
            "INSERT INTO hosts (name, short_name, fqdn, first_seen, last_seen, last_scan_id, \
                   machine_id, host_key) \
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7) \
                 ON CONFLICT(name) DO UPDATE SET fqdn = excluded.fqdn, \
                   last_seen = excluded.last_seen, last_scan_id = excluded.last_scan_id, \
                   machine_id = coalesce(excluded.machine_id, hosts.machine_id), \
                   host_key = coalesce(excluded.host_key, hosts.host_key) \
                 RETURNING id",
            params![
                snap.hostname,
                short,
                snap.fqdn,
                now,
                scan_id,
                machine_id,
                host_key
            ],
            |r| r.get(0),
        )?;

        let fact = |kind: &str, name: &str, value: &Value| Observed {
            key: vec![kind.into(), name.into(), value.to_string().into()],
            extra: vec![],
        };
        let failed_facts: Vec<&str> = snap.failed_facts.iter().map(|(n, _)| n.as_str()).collect();
        let facts = FACTS.sync(
            &tx,
            host_id,
            snap.facts
                .entries()
                .iter()
                .map(|(name, value)| fact("system", name, value))
                .chain(
                    snap.custom_facts
                        .iter()
                        .map(|(name, value)| fact("custom", name, value)),
                ),
            // A custom fact whose command failed this time keeps its previous value: a failure
            // is not a new value.
            |key| {
                matches!(key, [Cell::Text(kind), Cell::Text(name), ..]
                    if kind == "custom" && failed_facts.contains(&name.as_str()))
            },
            stamp,
        )?;
        let interfaces = INTERFACES.sync(
            &tx,
            host_id,
            snap.interfaces.iter().map(|i| Observed {
                key: vec![i.name.as_str().into(), i.mac.map(|m| m.to_string()).into()],
                extra: vec![
                    i.mtu.into(),
                    i.oper_state.clone().into(),
                    i.speed_mbps.into(),
                ],
            }),
            |_| false,
            stamp,
        )?;
        let addresses = ADDRESSES.sync(
            &tx,
            host_id,
            snap.interfaces.iter().flat_map(|i| {
                i.addresses.iter().map(|a| Observed {
                    key: vec![
                        i.name.as_str().into(),
                        a.ip.to_string().into(),
                        Cell::Int(if a.ip.is_ipv4() { 4 } else { 6 }),
                        a.prefix_len.map(i64::from).into(),
                    ],
                    extra: vec![],
                })
            }),
            |_| false,
            stamp,
        )?;

        // Name ids: looked up a few hundred names a statement (names repeat across the fleet:
        // after the first hosts, nearly all are known), and only the new ones upserted, since
        // an upsert would lock the name's row against every other collector until this host
        // commits.
        let mut name_ids: HashMap<&str, i64> = HashMap::new();
        let mut names: Vec<&str> = snap
            .inventories
            .iter()
            .flat_map(|inv| inv.packages.iter().map(|p| p.name.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        const CHUNK: usize = 512;
        for chunk in names.chunks(CHUNK) {
            // Padded with its last name to a power of two: a few statement texts serve all.
            let size = chunk.len().next_power_of_two();
            let list = placeholders(0, size);
            let last = chunk[chunk.len() - 1];
            let mut args: Vec<&dyn Param> = chunk.iter().map(|n| n as &dyn Param).collect();
            args.extend(std::iter::repeat_n(&last as &dyn Param, size - chunk.len()));
            tx.query_each(
                &format!(
                    "SELECT name, id FROM package_names WHERE name IN ({})",
                    list
                ),
                &args,
                |r| {
                    let name: String = r.get(0)?;
                    // (`chunk` is sorted; its own &str outlives the row.)
                    if let Ok(at) = chunk.binary_search(&name.as_str()) {
                        name_ids.insert(chunk[at], r.get(1)?);
                    }
                    Ok(())
                },
            )?;
        }
        for &name in &names {
            if !name_ids.contains_key(name) {
                let id = tx.query_one(
                    "INSERT INTO package_names (name) VALUES (?1) \
                     ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id",
                    params![name],
                    |r| r.get(0),
                )?;
                name_ids.insert(name, id);
            }
        }
        let mut observed = Vec::new();
        for inv in &snap.inventories {
            for p in &inv.packages {
                observed.push(Observed {
                    key: vec![
                        inv.manager.name().into(),
                        Cell::Int(name_ids[p.name.as_str()]),
                        p.epoch.as_str().into(),
                        p.version.as_str().into(),
                        p.release.as_str().into(),
                        p.arch.as_str().into(),
                    ],
                    extra: vec![p.install_time.into()],
                });
            }
        }
        // Packages of a manager that failed this time are kept as they were: an error is not
        // evidence that they were removed.
        let failed: Vec<&str> = snap.failed_managers.iter().map(|(m, _)| m.name()).collect();
        let packages = PACKAGES.sync(
            &tx,
            host_id,
            observed,
            |key| matches!(key.first(), Some(Cell::Text(m)) if failed.contains(&m.as_str())),
            stamp,
        )?;
        let audit = snap
            .audit
            .as_ref()
            .map(|read| super::audit::store(&tx, host_id, scan_id, now, read))
            .transpose()?;
        tx.commit()?;
        Ok(HostWrite {
            host_id,
            facts,
            interfaces,
            addresses,
            packages,
            audit,
        })
    }

    /// Every host in the catalog and how scan-hosts last reached it over SSH (the target of its
    /// latest scan, when that was over SSH), for `scan-hosts --all`; `None` for hosts last
    /// scanned locally.
    pub fn host_targets(&self) -> Result<Vec<(String, Option<String>)>> {
        self.db.query_map(
            "SELECT h.name, CASE WHEN s.method = 'ssh' THEN s.target END \
             FROM hosts h LEFT JOIN scans s ON s.id = h.last_scan_id ORDER BY h.name",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Hosts matching `query` by hostname, FQDN or short name (case-insensitively), best first.
    pub fn find_hosts(&self, query: &str) -> Result<Vec<HostRow>> {
        let lower = query.trim_end_matches('.').to_lowercase();
        let short = lower.split('.').next().unwrap_or(&lower).to_string();
        self.db.query_map(
                "SELECT id, name, fqdn, first_seen, last_seen, last_scan_id, \
                   CASE WHEN lower(name) = ?1 THEN 0 WHEN lower(fqdn) = ?1 THEN 1 ELSE 2 END AS rank \
                 FROM hosts \
                 WHERE lower(name) = ?1 OR lower(fqdn) = ?1 OR short_name = ?1 \
                    OR (short_name = ?2 AND name NOT LIKE '%.%' AND fqdn IS NULL) \
                 ORDER BY rank, name",
            params![lower, short],
            host_row,
        )
    }

    /// What the catalog currently holds about a host.
    pub fn host_details(&self, host: HostRow) -> Result<HostDetails> {
        let id = host.id;
        let facts: Vec<FactRow> = self.db.query_map(
            "SELECT kind, name, value, first_seen FROM host_facts \
                 WHERE host_id = ?1 AND current = 1 ORDER BY kind DESC, id",
            params![id],
            |r| {
                let text: String = r.get(2)?;
                Ok(FactRow {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                    value: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                    first_seen: r.get(3)?,
                })
            },
        )?;
        let addresses = self.db.query_map(
            "SELECT interface, address, family, prefix_len FROM host_addresses \
                 WHERE host_id = ?1 AND current = 1 ORDER BY interface, family, address",
            params![id],
            |r| {
                Ok(AddressRow {
                    interface: r.get(0)?,
                    address: ip_column(r, 1)?,
                    family: r.get(2)?,
                    prefix_len: r.get(3)?,
                })
            },
        )?;
        let mut interfaces = self.db.query_map(
            "SELECT name, mac, mtu, oper_state, speed_mbps FROM host_interfaces \
                 WHERE host_id = ?1 AND current = 1 ORDER BY name",
            params![id],
            |r| {
                Ok(InterfaceRow {
                    name: r.get(0)?,
                    mac: r.get(1)?,
                    mtu: r.get(2)?,
                    oper_state: r.get(3)?,
                    speed_mbps: r.get(4)?,
                    addresses: Vec::new(),
                })
            },
        )?;
        for a in addresses {
            if let Some(iface) = interfaces.iter_mut().find(|i| i.name == a.interface) {
                iface.addresses.push(a);
            }
        }
        let package_counts = self.db.query_map(
            "SELECT manager, count(*) FROM host_packages \
             WHERE host_id = ?1 AND current = 1 GROUP BY manager ORDER BY manager",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let last_scan = match host.last_scan_id {
            Some(scan) => self.scan(scan)?,
            None => None,
        };
        let (system, custom_facts): (Vec<FactRow>, Vec<FactRow>) =
            facts.into_iter().partition(|f| f.kind == "system");
        let custom_facts = custom_facts
            .into_iter()
            .filter(|f| f.kind == "custom")
            .collect();
        Ok(HostDetails {
            host,
            system: SystemFacts::from_entries(system.iter().map(|f| (f.name.as_str(), &f.value))),
            custom_facts,
            interfaces,
            package_counts,
            last_scan,
        })
    }
}

fn host_row(r: &Row<'_>) -> Result<HostRow> {
    Ok(HostRow {
        id: r.get(0)?,
        name: r.get(1)?,
        fqdn: r.get(2)?,
        first_seen: r.get(3)?,
        last_seen: r.get(4)?,
        last_scan_id: r.get(5)?,
    })
}
