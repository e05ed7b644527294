//! Everything the catalog holds about one IP address, across sources: the hosts that report it
//! on an interface, the routers that saw it in their ARP or neighbour tables, and the list of
//! addresses anything has ever seen (for CIDR inventories). whatis-ip joins these; the EC2
//! side is in `ec2.rs`.

use std::net::IpAddr;

use rusqlite::params;

use super::{Catalog, sql_error};
use crate::error::Result;
use crate::model::Mac;

/// The catalog stores a MAC as `Mac` displays it (`aa:bb:cc:dd:ee:ff`), so it parses back;
/// anything else is a damaged row.
impl rusqlite::types::FromSql for Mac {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|e: crate::error::Error| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

impl rusqlite::types::ToSql for Mac {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.to_string().into())
    }
}

/// An address column, stored as `IpAddr` writes it.
pub(super) fn ip_column(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<IpAddr> {
    let text: String = r.get(i)?;
    text.parse().map_err(|e| damaged(i, e))
}

fn damaged(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

/// A host interface that has, or had, an address.
#[derive(Debug, Clone)]
pub struct AddressHolder {
    pub host_id: i64,
    pub host: String,
    pub interface: String,
    /// The interface's MAC, as the latest scan that saw the interface reported it.
    pub mac: Option<Mac>,
    pub prefix_len: Option<i64>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub current: bool,
}

/// An address-to-MAC binding in a router's ARP or IPv6 neighbour table.
#[derive(Debug, Clone)]
pub struct ArpObservation {
    /// The router's sysName, else its polled address.
    pub router: String,
    pub router_address: String,
    pub mac: Mac,
    /// The router interface the entry is on (ifName, else ifDescr), when known.
    pub interface: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub current: bool,
}

impl Catalog {
    /// Host interfaces that report `address` now or did before, current first, newest first.
    pub fn address_holders(&self, address: IpAddr) -> Result<Vec<AddressHolder>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.host_id, h.name, a.interface, \
                   (SELECT i.mac FROM host_interfaces i \
                    WHERE i.host_id = a.host_id AND i.name = a.interface \
                    ORDER BY i.current DESC, i.last_seen DESC LIMIT 1), \
                   a.prefix_len, a.first_seen, a.last_seen, a.current \
                 FROM host_addresses a JOIN hosts h ON h.id = a.host_id \
                 WHERE a.address = ?1 ORDER BY a.current DESC, a.last_seen DESC, h.name",
            )
            .map_err(sql_error)?;
        stmt.query_map([address.to_string()], |r| {
            Ok(AddressHolder {
                host_id: r.get(0)?,
                host: r.get(1)?,
                interface: r.get(2)?,
                mac: r.get(3)?,
                prefix_len: r.get(4)?,
                first_seen: r.get(5)?,
                last_seen: r.get(6)?,
                current: r.get::<_, i64>(7)? == 1,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error)
    }

    /// Routers' ARP and neighbour entries for `address`, current first, newest first.
    pub fn arp_observations(&self, address: IpAddr) -> Result<Vec<ArpObservation>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT coalesce(d.sys_name, d.address), d.address, e.mac, \
                   (SELECT coalesce(p.name, p.descr) FROM device_ports p \
                    WHERE p.device_id = e.device_id AND p.if_index = e.if_index \
                    ORDER BY p.current DESC, p.last_seen DESC LIMIT 1), \
                   e.first_seen, e.last_seen, e.current \
                 FROM arp_entries e JOIN devices d ON d.id = e.device_id \
                 WHERE e.address = ?1 ORDER BY e.current DESC, e.last_seen DESC, d.address",
            )
            .map_err(sql_error)?;
        stmt.query_map([address.to_string()], |r| {
            Ok(ArpObservation {
                router: r.get(0)?,
                router_address: r.get(1)?,
                // The column is NOT NULL: a missing MAC is a damaged row, which Mac refuses.
                mac: r.get(2)?,
                interface: r.get(3)?,
                first_seen: r.get(4)?,
                last_seen: r.get(5)?,
                current: r.get::<_, i64>(6)? == 1,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_error)
    }

    /// Every address any source has ever seen: host interfaces, ARP and neighbour tables, and
    /// EC2 instances (private, public and IPv6). Addresses are stored as text, which does not
    /// sort like numbers, so a CIDR inventory filters this list rather than asking SQL for a
    /// range; the distinct addresses of even a large site are a few hundred thousand strings.
    /// Text that is not an address is skipped.
    pub fn known_addresses(&self) -> Result<Vec<IpAddr>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT address FROM host_addresses \
                 UNION SELECT address FROM arp_entries \
                 UNION SELECT private_ip FROM ec2_instance_states WHERE private_ip IS NOT NULL \
                 UNION SELECT public_ip FROM ec2_instance_states WHERE public_ip IS NOT NULL \
                 UNION SELECT j.value FROM ec2_instance_states s, json_each(s.ipv6) j \
                   WHERE s.ipv6 IS NOT NULL",
            )
            .map_err(sql_error)?;
        let texts: Vec<String> = stmt
            .query_map(params![], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(sql_error)?;
        Ok(texts.iter().filter_map(|a| a.parse().ok()).collect())
    }

    /// When any collector last saw each kind of source for a host: its own scans, its MACs in
    /// forwarding tables, its addresses in ARP tables. (name, Unix time) pairs, newest first.
    pub fn host_last_seen_by_source(&self, host_id: i64) -> Result<Vec<(String, i64)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT 'scan-hosts', last_seen FROM hosts WHERE id = ?1 \
                 UNION ALL SELECT 'switch forwarding tables', max(f.last_seen) \
                   FROM fdb_entries f WHERE f.mac IN \
                   (SELECT mac FROM host_interfaces WHERE host_id = ?1 AND mac IS NOT NULL) \
                 UNION ALL SELECT 'router ARP/neighbour tables', max(e.last_seen) \
                   FROM arp_entries e WHERE e.address IN \
                   (SELECT address FROM host_addresses WHERE host_id = ?1) \
                 ORDER BY 2 DESC",
            )
            .map_err(sql_error)?;
        let rows: Vec<(String, Option<i64>)> = stmt
            .query_map([host_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(sql_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|(source, t)| t.map(|t| (source, t)))
            .collect())
    }
}
