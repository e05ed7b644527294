//! Switches and routers in the catalog: writing one crawl of one device, and the lookups
//! which-switch needs (where a MAC is seen, which MACs an address had, what each device is).

use crate::error::Result;
use crate::model::Mac;
use crate::model::device::DeviceSnapshot;

use super::Catalog;
use super::db::{Param, params, placeholders};
use super::observations::{Cell, Observed, Stamp, SyncCounts, Table};

const PORTS: Table = Table {
    name: "device_ports",
    scope: "device_id",
    key: &["if_index"],
    extra: &[
        "bridge_port",
        "name",
        "descr",
        "alias",
        "if_type",
        "oper_status",
        "speed_mbps",
        "mac",
        "lag_if_index",
        "pvid",
    ],
};
const FDB: Table = Table {
    name: "fdb_entries",
    scope: "device_id",
    key: &["mac", "vlan", "if_index", "bridge_port", "status"],
    extra: &[],
};
const ARP: Table = Table {
    name: "arp_entries",
    scope: "device_id",
    key: &["address", "family", "mac", "if_index"],
    extra: &[],
};
const NEIGHBORS: Table = Table {
    name: "neighbors",
    scope: "device_id",
    key: &["local_if_index", "protocol", "chassis_id", "port_id"],
    extra: &["port_descr", "sys_name", "sys_descr", "mgmt_address"],
};

/// What storing one crawl changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeviceWrite {
    pub device_id: i64,
    pub ports: SyncCounts,
    pub fdb: SyncCounts,
    pub arp: SyncCounts,
    pub neighbors: SyncCounts,
}

/// A device as the catalog knows it, with what identifies it as someone else's neighbour.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub id: i64,
    pub address: String,
    pub sys_name: Option<String>,
    pub base_mac: Option<Mac>,
    pub lldp_chassis_id: Option<String>,
    pub role: Option<String>,
    pub last_seen: i64,
}

/// One place a MAC was seen: a forwarding entry joined with its device and port.
#[derive(Debug, Clone)]
pub struct Sighting {
    pub device_id: i64,
    pub device_address: String,
    pub device_name: Option<String>,
    pub mac: Mac,
    pub vlan: Option<i64>,
    pub if_index: Option<i64>,
    pub bridge_port: Option<i64>,
    pub status: Option<String>,
    pub port_name: Option<String>,
    pub port_alias: Option<String>,
    pub port_descr: Option<String>,
    pub oper_status: Option<String>,
    pub speed_mbps: Option<i64>,
    pub lag_if_index: Option<i64>,
    pub lag_name: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub current: bool,
    /// How many MACs the port currently has learned.
    pub macs_on_port: i64,
}

impl Sighting {
    /// The physical port's name: ifName, else ifDescr (some devices fill only one).
    pub fn member_port(&self) -> Option<String> {
        self.port_name.clone().or_else(|| self.port_descr.clone())
    }

    /// The port as a user names it: the aggregate (LAG) the port is a member of, else the
    /// physical port.
    pub fn port(&self) -> Option<String> {
        self.lag_name.clone().or_else(|| self.member_port())
    }
}

/// A neighbour currently seen on a port of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborRow {
    pub device_id: i64,
    pub local_if_index: Option<i64>,
    /// The aggregate the local port belongs to, when it is a LAG member.
    pub local_lag_if_index: Option<i64>,
    pub protocol: String,
    pub chassis_id: Option<String>,
    pub port_id: Option<String>,
    pub sys_name: Option<String>,
    pub mgmt_address: Option<String>,
}

/// A MAC that an IP address was bound to, and where that was seen.
#[derive(Debug, Clone)]
pub struct AddressBinding {
    pub mac: Mac,
    /// `arp` (a router's neighbour table) or `host` (the host's own interface).
    pub source: String,
    /// The router's or host's name.
    pub seen_by: String,
    pub last_seen: i64,
    pub current: bool,
}

impl Catalog {
    /// Writes one device's crawl in one transaction. When the device gave no BRIDGE-MIB answer
    /// this time (`has_bridge_mib` is false), its forwarding entries are kept as they were: a
    /// failed read is not evidence that every MAC left.
    pub fn store_device(
        &mut self,
        scan_id: i64,
        now: i64,
        address: &str,
        role: &str,
        snap: &DeviceSnapshot,
    ) -> Result<DeviceWrite> {
        let tx = self.db.begin_write()?;
        tx.lock_source("device", address)?;
        let stamp = Stamp { now, scan_id };
        let device_id: i64 = tx.query_one(
                "INSERT INTO devices (address, sys_name, sys_descr, sys_object_id, sys_location, \
                   sys_uptime, base_mac, lldp_chassis_id, role, first_seen, last_seen, last_scan_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11) \
                 ON CONFLICT(address) DO UPDATE SET sys_name = excluded.sys_name, \
                   sys_descr = excluded.sys_descr, sys_object_id = excluded.sys_object_id, \
                   sys_location = excluded.sys_location, sys_uptime = excluded.sys_uptime, \
                   base_mac = excluded.base_mac, lldp_chassis_id = excluded.lldp_chassis_id, \
                   role = excluded.role, last_seen = excluded.last_seen, \
                   last_scan_id = excluded.last_scan_id \
                 RETURNING id",
                params![
                    address,
                    snap.sys_name,
                    snap.sys_descr,
                    snap.sys_object_id,
                    snap.sys_location,
                    snap.sys_uptime,
                    snap.base_mac.map(|m| m.to_string()),
                    snap.lldp_chassis_id,
                    role,
                    now,
                    scan_id
                ],
                |r| r.get(0),
            )?;
        let ports = PORTS.sync(
            &tx,
            device_id,
            snap.ports.iter().map(|p| Observed {
                key: vec![Cell::Int(p.if_index)],
                extra: vec![
                    p.bridge_port.into(),
                    p.name.clone().into(),
                    p.descr.clone().into(),
                    p.alias.clone().into(),
                    p.if_type.into(),
                    p.oper_status.clone().into(),
                    p.speed_mbps.into(),
                    p.mac.map(|m| m.to_string()).into(),
                    p.lag_if_index.into(),
                    p.pvid.into(),
                ],
            }),
            |_| false,
            stamp,
        )?;
        let keep_fdb = !snap.has_bridge_mib;
        let fdb = FDB.sync(
            &tx,
            device_id,
            snap.fdb.iter().map(|e| Observed {
                key: vec![
                    e.mac.to_string().into(),
                    e.vlan.into(),
                    e.if_index.into(),
                    e.bridge_port.into(),
                    e.status.as_str().into(),
                ],
                extra: vec![],
            }),
            |_| keep_fdb,
            stamp,
        )?;
        let arp = ARP.sync(
            &tx,
            device_id,
            snap.arp.iter().map(|e| Observed {
                key: vec![
                    e.ip.to_string().into(),
                    Cell::Int(if e.ip.is_ipv4() { 4 } else { 6 }),
                    e.mac.to_string().into(),
                    e.if_index.into(),
                ],
                extra: vec![],
            }),
            |_| false,
            stamp,
        )?;
        let neighbors = NEIGHBORS.sync(
            &tx,
            device_id,
            snap.neighbors.iter().map(|n| Observed {
                key: vec![
                    n.local_if_index.into(),
                    n.protocol.as_str().into(),
                    n.chassis_id.clone().into(),
                    n.port_id.clone().into(),
                ],
                extra: vec![
                    n.port_descr.clone().into(),
                    n.sys_name.clone().into(),
                    n.sys_descr.clone().into(),
                    n.mgmt_address.clone().into(),
                ],
            }),
            |_| false,
            stamp,
        )?;
        tx.commit()?;
        Ok(DeviceWrite {
            device_id,
            ports,
            fdb,
            arp,
            neighbors,
        })
    }

    /// Every device in the catalog.
    pub fn devices(&self) -> Result<Vec<DeviceRow>> {
        self.db.query_map(
            "SELECT id, address, sys_name, base_mac, lldp_chassis_id, role, last_seen \
             FROM devices ORDER BY id",
            params![],
            |r| {
                Ok(DeviceRow {
                    id: r.get(0)?,
                    address: r.get(1)?,
                    sys_name: r.get(2)?,
                    base_mac: r.get(3)?,
                    lldp_chassis_id: r.get(4)?,
                    role: r.get(5)?,
                    last_seen: r.get(6)?,
                })
            },
        )
    }

    /// Every place `mac` (aa:bb:cc:dd:ee:ff) is seen now, or ever with `history`, newest first.
    pub fn sightings(&self, mac: Mac, history: bool) -> Result<Vec<Sighting>> {
        self.sightings_of(&[mac], history)
    }

    /// [`Catalog::sightings`] of several MACs in one query, in the same order per MAC (a MAC
    /// listed twice is asked once).
    pub fn sightings_of(&self, macs: &[Mac], history: bool) -> Result<Vec<Sighting>> {
        let mut texts: Vec<String> = macs.iter().map(Mac::to_string).collect();
        texts.sort_unstable();
        texts.dedup();
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let params: Vec<&dyn Param> = texts.iter().map(|t| t as &dyn Param).collect();
        self.query_sightings(
            &format!(
                "f.mac IN ({}) {}",
                placeholders(0, texts.len()),
                if history { "" } else { "AND f.current = 1" }
            ),
            &params,
        )
    }

    /// What is, and was, learned on a port: SWITCH is a sysName or address, PORT an ifName,
    /// ifDescr, ifAlias or ifIndex (LAG members included when PORT is the aggregate).
    pub fn port_sightings(&self, switch: &str, port: &str) -> Result<Vec<Sighting>> {
        self.query_sightings(
            // The address with any port: a prefix compared as text, not a LIKE pattern, in
            // which a `%` or `_` the user typed would match other switches.
            "(lower(d.sys_name) = lower(CAST(?1 AS TEXT)) OR d.address = ?1 \
               OR substr(d.address, 1, length(CAST(?1 AS TEXT)) + 1) = CAST(?1 AS TEXT) || ':') \
             AND (p.name = ?2 OR p.descr = ?2 OR p.alias = ?2 OR CAST(p.if_index AS TEXT) = ?2 \
                  OR lag.name = ?2)",
            params![switch, port],
        )
    }

    /// MACs that appeared on a port since `since` while they had last been seen on another
    /// port of the same switch: (the old sighting, the new one).
    pub fn moves_since(&self, since: i64) -> Result<Vec<(Sighting, Sighting)>> {
        let new = self.query_sightings(
            "f.current = 1 AND f.first_seen >= ?1 AND f.status = 'learned' AND EXISTS ( \
               SELECT 1 FROM fdb_entries o WHERE o.device_id = f.device_id AND o.mac = f.mac \
               AND o.current = 0 AND o.if_index IS DISTINCT FROM f.if_index \
               AND o.last_seen <= f.first_seen)",
            params![since],
        )?;
        let mut moves = Vec::new();
        for n in new {
            let before = self
                .query_sightings(
                    "f.device_id = ?1 AND f.mac = ?2 AND f.current = 0 \
                     AND f.if_index IS DISTINCT FROM ?3 AND f.last_seen <= ?4",
                    params![n.device_id, n.mac.to_string(), n.if_index, n.first_seen],
                )?
                .into_iter()
                .next();
            if let Some(old) = before {
                moves.push((old, n));
            }
        }
        Ok(moves)
    }

    fn query_sightings(&self, condition: &str, params: &[&dyn Param]) -> Result<Vec<Sighting>> {
        let sql = format!(
            "SELECT f.device_id, d.address, d.sys_name, f.mac, f.vlan, f.if_index, f.bridge_port, \
                    f.status, p.name, p.alias, p.descr, p.oper_status, p.speed_mbps, \
                    p.lag_if_index, lag.name, f.first_seen, f.last_seen, f.current, \
                    (SELECT count(*) FROM fdb_entries o WHERE o.device_id = f.device_id \
                       AND o.if_index = f.if_index AND o.current = 1 AND o.status = 'learned') \
             FROM fdb_entries f \
             JOIN devices d ON d.id = f.device_id \
             LEFT JOIN device_ports p ON p.device_id = f.device_id AND p.if_index = f.if_index \
                  AND p.current = 1 \
             LEFT JOIN device_ports lag ON lag.device_id = f.device_id \
                  AND lag.if_index = p.lag_if_index AND lag.current = 1 \
             WHERE {condition} \
             ORDER BY f.current DESC, f.last_seen DESC, f.first_seen DESC, f.id"
        );
        self.db.query_map(&sql, params, |r| {
            Ok(Sighting {
                device_id: r.get(0)?,
                device_address: r.get(1)?,
                device_name: r.get(2)?,
                mac: r.get(3)?,
                vlan: r.get(4)?,
                if_index: r.get(5)?,
                bridge_port: r.get(6)?,
                status: r.get(7)?,
                port_name: r.get(8)?,
                port_alias: r.get(9)?,
                port_descr: r.get(10)?,
                oper_status: r.get(11)?,
                speed_mbps: r.get(12)?,
                lag_if_index: r.get(13)?,
                lag_name: r.get(14)?,
                first_seen: r.get(15)?,
                last_seen: r.get(16)?,
                current: r.get::<i64>(17)? == 1,
                macs_on_port: r.get(18)?,
            })
        })
    }

    /// The neighbours currently seen on the given ports (device id, ifIndex), each with the
    /// port it was asked for; one seen on a LAG member counts for the aggregate too. Only
    /// those: a core switch has a neighbour on each of its hundreds of downlinks, and one
    /// MAC's answer needs the few on the ports it was seen on.
    pub fn neighbors_on(&self, ports: &[(i64, i64)]) -> Result<Vec<((i64, i64), NeighborRow)>> {
        if ports.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids: Vec<i64> = ports.iter().map(|p| p.0).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut numbers: Vec<i64> = ports.iter().map(|p| p.1).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let id_marks = placeholders(0, ids.len());
        let number_marks = placeholders(ids.len(), numbers.len());
        let params: Vec<&dyn Param> = ids
            .iter()
            .chain(&numbers)
            .map(|v| v as &dyn Param)
            .collect();
        // Every device's ports with any of the numbers (a superset: the exact pairs are kept
        // below), and the members of aggregates with any of them, found once, not per row.
        let rows = self.db.query_map(
            &format!(
                "SELECT n.device_id, n.local_if_index, p.lag_if_index, n.protocol, n.chassis_id, \
                        n.port_id, n.sys_name, n.mgmt_address \
                 FROM neighbors n \
                 LEFT JOIN device_ports p ON p.device_id = n.device_id \
                      AND p.if_index = n.local_if_index AND p.current = 1 \
                 WHERE n.current = 1 AND n.device_id IN ({id_marks}) \
                   AND (n.local_if_index IN ({number_marks}) \
                        OR n.local_if_index IN (SELECT m.if_index FROM device_ports m \
                             WHERE m.device_id IN ({id_marks}) AND m.current = 1 \
                               AND m.lag_if_index IN ({number_marks}))) \
                 ORDER BY n.device_id, n.id"
            ),
            &params,
            |r| {
                Ok(NeighborRow {
                    device_id: r.get(0)?,
                    local_if_index: r.get(1)?,
                    local_lag_if_index: r.get(2)?,
                    protocol: r.get(3)?,
                    chassis_id: r.get(4)?,
                    port_id: r.get(5)?,
                    sys_name: r.get(6)?,
                    mgmt_address: r.get(7)?,
                })
            },
        )?;
        let wanted: std::collections::HashSet<(i64, i64)> = ports.iter().copied().collect();
        let mut out = Vec::new();
        for n in rows {
            let mut keys: Vec<(i64, i64)> = [n.local_if_index, n.local_lag_if_index]
                .into_iter()
                .flatten()
                .map(|i| (n.device_id, i))
                .filter(|k| wanted.contains(k))
                .collect();
            keys.dedup();
            for key in keys {
                out.push((key, n.clone()));
            }
        }
        Ok(out)
    }

    /// Which of the given ports (device id, ifIndex) currently learn another crawled device's
    /// own MAC (its bridge address or an interface MAC): (device id, ifIndex, that device).
    pub fn ports_learning_devices(&self, ports: &[(i64, i64)]) -> Result<Vec<(i64, i64, i64)>> {
        // One indexed query per port: a sighting list touches a handful of ports, and a join
        // against a VALUES list made SQLite scan the whole forwarding table.
        let sql =
                // The port's MACs are read once (each is a seek into the table: the index
                // has no MAC) and kept for both halves. CROSS JOIN keeps them as the outer
                // loop: with many ports that have no MAC, the planner otherwise scans every
                // device port.
                "WITH f AS MATERIALIZED ( \
                   SELECT mac FROM fdb_entries \
                   WHERE device_id = ?1 AND current = 1 AND if_index = ?2) \
                 SELECT o.id FROM f CROSS JOIN devices o \
                 WHERE o.base_mac = f.mac AND o.id != ?1 \
                 UNION \
                 SELECT p.device_id FROM f CROSS JOIN device_ports p \
                 WHERE p.mac = f.mac AND p.current = 1 AND p.device_id != ?1 \
                 ORDER BY 1";
        let mut found = Vec::new();
        for &(device, if_index) in ports {
            let others: Vec<i64> = self
                .db
                .query_map(sql, params![device, if_index], |r| r.get(0))?;
            found.extend(others.into_iter().map(|o| (device, if_index, o)));
        }
        Ok(found)
    }

    /// The crawled device that owns `mac` (as its bridge address or an interface MAC), if any.
    pub fn mac_owner(&self, mac: Mac) -> Result<Option<i64>> {
        self.db.query_opt(
            "SELECT id FROM devices WHERE base_mac = ?1 \
             UNION ALL SELECT device_id FROM device_ports WHERE mac = ?1 AND current = 1 \
             LIMIT 1",
            params![mac.to_string()],
            |r| r.get(0),
        )
    }

    /// The MACs an IP address was bound to: routers' ARP/neighbour entries and hosts' own
    /// interfaces, current ones first.
    pub fn macs_of_address(&self, address: &str) -> Result<Vec<AddressBinding>> {
        self.db.query_map(
            "SELECT a.mac, 'arp', coalesce(d.sys_name, d.address), a.last_seen, a.current \
                 FROM arp_entries a JOIN devices d ON d.id = a.device_id WHERE a.address = ?1 \
                 UNION ALL \
                 SELECT i.mac, 'host', h.name, ad.last_seen, ad.current \
                 FROM host_addresses ad JOIN hosts h ON h.id = ad.host_id \
                 JOIN host_interfaces i ON i.host_id = ad.host_id AND i.name = ad.interface \
                      AND i.current = 1 AND i.mac IS NOT NULL \
                 WHERE ad.address = ?1 \
                 ORDER BY 5 DESC, 4 DESC",
            params![address],
            |r| {
                Ok(AddressBinding {
                    mac: r.get(0)?,
                    source: r.get(1)?,
                    seen_by: r.get(2)?,
                    last_seen: r.get(3)?,
                    current: r.get::<i64>(4)? == 1,
                })
            },
        )
    }

    /// The MACs of a host's current interfaces.
    pub fn host_macs(&self, host_id: i64) -> Result<Vec<(String, Mac)>> {
        self.db.query_map(
            "SELECT name, mac FROM host_interfaces \
             WHERE host_id = ?1 AND current = 1 AND mac IS NOT NULL ORDER BY name",
            params![host_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}
