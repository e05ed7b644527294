//! Everything the catalog holds about one IP address, across sources: the hosts that report it
//! on an interface, the routers that saw it in their ARP or neighbour tables, and the list of
//! addresses anything has ever seen (for CIDR inventories). whatis-ip joins these; the EC2
//! side is in `ec2.rs`.

use std::net::IpAddr;

use super::Catalog;
use super::db::{FromCol, Row, params};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Mac;

/// The catalog stores a MAC as `Mac` displays it (`aa:bb:cc:dd:ee:ff`), so it parses back;
/// anything else is a damaged row.
impl FromCol<'_> for Option<Mac> {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        row.text(i)?
            .map(|t| t.parse().map_err(|e| damaged(i, e)))
            .transpose()
    }
}

impl FromCol<'_> for Mac {
    fn from_col(row: &Row<'_>, i: usize) -> Result<Self> {
        Option::<Mac>::from_col(row, i)?.ok_or_else(|| damaged(i, "no MAC"))
    }
}

/// An address column, stored as `IpAddr` writes it.
pub(super) fn ip_column(r: &Row<'_>, i: usize) -> Result<IpAddr> {
    let text: String = r.get(i)?;
    text.parse().map_err(|e| damaged(i, e))
}

fn damaged(i: usize, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Catalog,
        format!("catalog query failed: column {i}: damaged value: {e}"),
    )
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
        self.db.query_map(
            "SELECT a.host_id, h.name, a.interface, \
                   (SELECT i.mac FROM host_interfaces i \
                    WHERE i.host_id = a.host_id AND i.name = a.interface \
                    ORDER BY i.current DESC, i.last_seen DESC LIMIT 1), \
                   a.prefix_len, a.first_seen, a.last_seen, a.current \
                 FROM host_addresses a JOIN hosts h ON h.id = a.host_id \
                 WHERE a.address = ?1 ORDER BY a.current DESC, a.last_seen DESC, h.name",
            params![address.to_string()],
            |r| {
                Ok(AddressHolder {
                    host_id: r.get(0)?,
                    host: r.get(1)?,
                    interface: r.get(2)?,
                    mac: r.get(3)?,
                    prefix_len: r.get(4)?,
                    first_seen: r.get(5)?,
                    last_seen: r.get(6)?,
                    current: r.get::<i64>(7)? == 1,
                })
            },
        )
    }

    /// Routers' ARP and neighbour entries for `address`, current first, newest first.
    pub fn arp_observations(&self, address: IpAddr) -> Result<Vec<ArpObservation>> {
        self.db.query_map(
            "SELECT coalesce(d.sys_name, d.address), d.address, e.mac, \
                   (SELECT coalesce(p.name, p.descr) FROM device_ports p \
                    WHERE p.device_id = e.device_id AND p.if_index = e.if_index \
                    ORDER BY p.current DESC, p.last_seen DESC LIMIT 1), \
                   e.first_seen, e.last_seen, e.current \
                 FROM arp_entries e JOIN devices d ON d.id = e.device_id \
                 WHERE e.address = ?1 ORDER BY e.current DESC, e.last_seen DESC, d.address",
            params![address.to_string()],
            |r| {
                Ok(ArpObservation {
                    router: r.get(0)?,
                    router_address: r.get(1)?,
                    // The column is NOT NULL: a missing MAC is a damaged row, which Mac refuses.
                    mac: r.get(2)?,
                    interface: r.get(3)?,
                    first_seen: r.get(4)?,
                    last_seen: r.get(5)?,
                    current: r.get::<i64>(6)? == 1,
                })
            },
        )
    }

    /// Every address any source has ever seen: host interfaces, ARP and neighbour tables, and
    /// EC2 instances (private, public and IPv6). Addresses are stored as text, which does not
    /// sort like numbers, so a CIDR inventory filters this list rather than asking SQL for a
    /// range; the distinct addresses of even a large site are a few hundred thousand strings.
    /// Text that is not an address is skipped.
    pub fn known_addresses(&self) -> Result<Vec<IpAddr>> {
        let sql = format!(
            "SELECT address FROM host_addresses \
                 UNION SELECT address FROM arp_entries \
                 UNION SELECT private_ip FROM ec2_instance_states WHERE private_ip IS NOT NULL \
                 UNION SELECT public_ip FROM ec2_instance_states WHERE public_ip IS NOT NULL \
                 UNION SELECT j.value FROM ec2_instance_states s, {} \
                   WHERE s.ipv6 IS NOT NULL",
            self.db.dialect().json_array("s.ipv6", "j")
        );
        let texts: Vec<String> = self.db.query_map(&sql, params![], |r| r.get(0))?;
        Ok(texts.iter().filter_map(|a| a.parse().ok()).collect())
    }

    /// When any collector last saw each kind of source for a host: its own scans, its MACs in
    /// forwarding tables, its addresses in ARP tables. (name, Unix time) pairs, newest first.
    pub fn host_last_seen_by_source(&self, host_id: i64) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(String, Option<i64>)> = self.db.query_map(
            "SELECT 'scan-hosts', last_seen FROM hosts WHERE id = ?1 \
                 UNION ALL SELECT 'switch forwarding tables', max(f.last_seen) \
                   FROM fdb_entries f WHERE f.mac IN \
                   (SELECT mac FROM host_interfaces WHERE host_id = ?1 AND mac IS NOT NULL) \
                 UNION ALL SELECT 'router ARP/neighbour tables', max(e.last_seen) \
                   FROM arp_entries e WHERE e.address IN \
                   (SELECT address FROM host_addresses WHERE host_id = ?1) \
                 ORDER BY 2 DESC NULLS LAST",
            params![host_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(source, t)| t.map(|t| (source, t)))
            .collect())
    }
}
