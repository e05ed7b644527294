//! Reading one device over SNMP into a [`DeviceSnapshot`]: system group, IF-MIB, BRIDGE-MIB,
//! Q-BRIDGE-MIB (FDB ids mapped to VLANs), LLDP and CDP neighbours, LAG membership, and the
//! IP-MIB neighbour tables (ipNetToPhysicalTable, falling back to ipNetToMediaTable).
//!
//! Tables a device does not implement are simply empty; only the system group is required, so
//! an unreachable agent or wrong credentials fail the device while a switch without LLDP does
//! not.
//!
//! A device may have hundreds of thousands of ports and forwarding entries, or claim to: every
//! match between tables (bridge port to ifIndex, LAG member to port, LLDP's local port, ARP
//! entries already seen) is a hash lookup, never a scan, so a crawl stays linear in what the
//! device sends.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_snmp::Value;
use futures_util::future::{try_join, try_join_all};
use tokio::sync::Semaphore;

use super::mibs::*;
use crate::config::SnmpConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::Mac;
use crate::model::device::{ArpEntry, DeviceSnapshot, FdbEntry, Neighbor, Port};
use crate::snmp::{self, Row, SnmpClient, bytes, int, text};
use async_snmp::transport::UdpTransport;
use std::net::SocketAddr;

/// How to reach the device again in another context: for Cisco-style per-VLAN bridge
/// instances (community@VLAN, or SNMPv3 context vlan-N).
pub struct Agent<'a> {
    pub transport: &'a UdpTransport,
    pub target: SocketAddr,
    pub settings: &'a SnmpConfig,
    /// The run's DES salt state, for devices that use DES privacy.
    pub des: Option<&'a snmp::DesSaltState>,
}

/// How many walks of one device are in flight at once. A device's crawl then takes about as
/// long as its longest table rather than the sum of its 25 walks, while a small agent CPU
/// (many switches answer SNMP from a slow management processor) sees only a few requests.
pub const WALKS_PER_DEVICE: usize = 4;

/// The most VLANs whose per-VLAN bridge instance one crawl reads (802.1Q allows 4,094; a
/// switch with more than a thousand active ones is rare, and each silent one costs a timeout).
pub const MAX_VLANS: usize = 1024;

/// What one crawl read: the snapshot to store, and what went wrong without failing the device.
#[derive(Debug, Default)]
pub struct Crawled {
    pub snapshot: DeviceSnapshot,
    pub problems: Vec<String>,
}

/// Crawls one device: the system group first (it is required, and a device that does not
/// answer it fails without 25 walks timing out), then every table concurrently.
pub async fn crawl(agent: &Agent<'_>) -> Result<Crawled> {
    let auth = snmp::auth(agent.settings)?;
    let client = &snmp::client(
        agent.transport,
        agent.target,
        auth,
        agent.settings,
        agent.des,
    )
    .await?;
    let walker = Walker {
        limit: Semaphore::new(WALKS_PER_DEVICE),
        budget: snmp::Budget::default(),
    };
    let mut snap = DeviceSnapshot::default();
    let mut problems = Vec::new();
    read_system(&mut walker.walk(client, SYSTEM).await?, &mut snap);
    let mut tables = fetch_tables(&walker, client).await?;
    read_interfaces(&mut tables, &mut snap);
    read_bridge(&mut tables, &mut snap);
    problems.extend(read_per_vlan_bridges(&walker, &mut tables, agent, &mut snap).await?);
    read_lag(&mut tables, &mut snap);
    read_lldp(&mut tables, &mut snap);
    read_cdp(&mut tables, &mut snap);
    read_arp(&mut tables, &mut snap);
    let cut = walker.budget.values_cut();
    if cut > 0 {
        problems.push(format!(
            "{cut} values longer than {max} bytes were cut to {max}",
            max = snmp::MAX_VALUE_BYTES
        ));
    }
    Ok(Crawled {
        snapshot: snap,
        problems,
    })
}

/// Walks that share one device's limit on walks in flight and its budget of bytes.
struct Walker {
    limit: Semaphore,
    budget: snmp::Budget,
}

impl Walker {
    async fn walk(&self, client: &SnmpClient, column: &[u32]) -> Result<Vec<Row>> {
        let _permit = self
            .limit
            .acquire()
            .await
            .map_err(|_| Error::new(ErrorKind::Fatal, "the walk limiter was closed"))?;
        snmp::walk(client, column, &self.budget).await
    }
}

/// A device's walked tables by column; a column that was not walked is empty.
#[derive(Default)]
struct Tables {
    rows: HashMap<&'static [u32], Vec<Row>>,
}

impl Tables {
    fn take(&mut self, column: &[u32]) -> Vec<Row> {
        self.rows.remove(column).unwrap_or_default()
    }
}

/// The columns every crawl walks, whatever the device; the forwarding tables are walked apart
/// because which one is read depends on what the device has.
const COLUMNS: &[&[u32]] = &[
    IP_NET_TO_PHYSICAL_PHYS_ADDRESS,
    IP_NET_TO_MEDIA_PHYS_ADDRESS,
    LLDP_REM,
    LLDP_REM_MAN_ADDR_IF_SUBTYPE,
    CDP_CACHE,
    IF_DESCR,
    IF_TYPE,
    IF_SPEED,
    IF_PHYS_ADDRESS,
    IF_OPER_STATUS,
    IF_NAME,
    IF_HIGH_SPEED,
    IF_ALIAS,
    DOT1D_BASE_BRIDGE_ADDRESS,
    DOT1D_BASE_PORT_IF_INDEX,
    DOT1Q_PVID,
    DOT1Q_VLAN_FDB_ID,
    VTP_VLAN_STATE,
    DOT3AD_AGG_PORT_ATTACHED_AGG_ID,
    LLDP_LOC_CHASSIS_ID_SUBTYPE,
    LLDP_LOC_CHASSIS_ID,
];

/// Walks every table of the device, [`WALKS_PER_DEVICE`] at a time. The forwarding table is
/// usually the longest walk, so it starts first: Q-BRIDGE's, then BRIDGE-MIB's when Q-BRIDGE
/// gave no entry (many switches have only the older table).
async fn fetch_tables(walker: &Walker, client: &SnmpClient) -> Result<Tables> {
    let fdb = async {
        let (q_port, q_status) = try_join(
            walker.walk(client, DOT1Q_TP_FDB_PORT),
            walker.walk(client, DOT1Q_TP_FDB_STATUS),
        )
        .await?;
        if q_port.iter().any(|r| q_entry(r).is_some()) {
            return Ok(vec![
                (DOT1Q_TP_FDB_PORT, q_port),
                (DOT1Q_TP_FDB_STATUS, q_status),
            ]);
        }
        let (port, status) = try_join(
            walker.walk(client, DOT1D_TP_FDB_PORT),
            walker.walk(client, DOT1D_TP_FDB_STATUS),
        )
        .await?;
        Ok::<_, Error>(vec![
            (DOT1D_TP_FDB_PORT, port),
            (DOT1D_TP_FDB_STATUS, status),
        ])
    };
    let rest = try_join_all(COLUMNS.iter().map(|&column| async move {
        Ok::<_, Error>((column, walker.walk(client, column).await?))
    }));
    let (fdb, rest) = try_join(fdb, rest).await?;
    Ok(Tables {
        rows: fdb.into_iter().chain(rest).collect(),
    })
}

/// One Q-BRIDGE forwarding row as (FDB id, MAC, bridge port), if it is well formed.
fn q_entry(row: &Row) -> Option<(i64, Mac, i64)> {
    let (&fdb_id, mac_arcs) = row.index.split_first()?;
    Some((
        i64::from(fdb_id),
        mac_from_arcs(mac_arcs)?,
        int(&row.value)?,
    ))
}

/// A MAC from six index arcs (the FDB tables index by MAC).
pub fn mac_from_arcs(arcs: &[u32]) -> Option<Mac> {
    if arcs.len() != 6 || arcs.iter().any(|&a| a > 255) {
        return None;
    }
    let mut b = [0u8; 6];
    for (byte, arc) in b.iter_mut().zip(arcs) {
        *byte = *arc as u8;
    }
    Some(Mac(b))
}

/// A MAC from a 6-byte octet string (ifPhysAddress, ARP entries, LLDP ids).
pub fn mac_from_bytes(b: &[u8]) -> Option<Mac> {
    <[u8; 6]>::try_from(b)
        .ok()
        .map(Mac)
        .filter(|m| !m.is_zero())
}

/// Text that is printable, else the bytes in hex (agents put binary in "text" columns).
pub fn printable(value: &Value) -> Option<String> {
    let b = bytes(value)?;
    let trimmed = b.strip_suffix(&[0]).unwrap_or(b);
    match std::str::from_utf8(trimmed) {
        Ok(s) if !s.chars().any(|c| c.is_control() && c != '\t') => Some(s.to_string()),
        _ => Some(
            trimmed
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
    }
}

/// Each ifIndex's bridge port, from dot1dBasePortIfIndex (bridge port → ifIndex): the lowest
/// bridge port when an agent maps several to one interface, whatever the hash order.
fn bridge_port_of(port_if: &HashMap<i64, i64>) -> HashMap<i64, i64> {
    let mut by_if: HashMap<i64, i64> = HashMap::with_capacity(port_if.len());
    for (&bridge_port, &if_index) in port_if {
        by_if
            .entry(if_index)
            .and_modify(|b| *b = (*b).min(bridge_port))
            .or_insert(bridge_port);
    }
    by_if
}

/// Rows keyed by their index's first arc (ifIndex-indexed columns).
fn by_first_arc(rows: Vec<Row>) -> HashMap<i64, Value> {
    rows.into_iter()
        .filter(|r| r.index.len() == 1)
        .map(|r| (i64::from(r.index[0]), r.value))
        .collect()
}

fn read_system(rows: &mut Vec<Row>, snap: &mut DeviceSnapshot) {
    for row in rows.drain(..) {
        let (Some(&column), Some(&0)) = (row.index.first(), row.index.get(1)) else {
            continue;
        };
        match column {
            SYS_DESCR => snap.sys_descr = text(&row.value),
            SYS_OBJECT_ID => {
                if let Value::ObjectIdentifier(oid) = &row.value {
                    snap.sys_object_id = Some(oid.to_string());
                }
            }
            SYS_UPTIME => snap.sys_uptime = int(&row.value),
            SYS_NAME => snap.sys_name = text(&row.value).filter(|s| !s.is_empty()),
            SYS_LOCATION => snap.sys_location = text(&row.value),
            _ => {}
        }
    }
}

fn read_interfaces(t: &mut Tables, snap: &mut DeviceSnapshot) {
    let descr = by_first_arc(t.take(IF_DESCR));
    let if_type = by_first_arc(t.take(IF_TYPE));
    let speed = by_first_arc(t.take(IF_SPEED));
    let phys = by_first_arc(t.take(IF_PHYS_ADDRESS));
    let oper = by_first_arc(t.take(IF_OPER_STATUS));
    let name = by_first_arc(t.take(IF_NAME));
    let high = by_first_arc(t.take(IF_HIGH_SPEED));
    let alias = by_first_arc(t.take(IF_ALIAS));
    // Sparse tables are common (a port with ifName but no ifDescr): every column counts.
    let mut indexes: Vec<i64> = [&descr, &if_type, &phys, &oper, &name, &alias]
        .iter()
        .flat_map(|m| m.keys().copied())
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    snap.ports = indexes
        .into_iter()
        .map(|i| Port {
            if_index: i,
            name: name.get(&i).and_then(text).filter(|s| !s.is_empty()),
            descr: descr.get(&i).and_then(text).filter(|s| !s.is_empty()),
            alias: alias.get(&i).and_then(text).filter(|s| !s.is_empty()),
            if_type: if_type.get(&i).and_then(int),
            oper_status: oper.get(&i).and_then(int).map(oper_status_name),
            speed_mbps: high
                .get(&i)
                .and_then(int)
                .filter(|&s| s > 0)
                .or_else(|| speed.get(&i).and_then(int).map(|bps| bps / 1_000_000))
                .filter(|&s| s > 0),
            mac: phys.get(&i).and_then(bytes).and_then(mac_from_bytes),
            ..Port::default()
        })
        .collect();
}

fn oper_status_name(status: i64) -> String {
    match status {
        1 => "up",
        2 => "down",
        3 => "testing",
        5 => "dormant",
        6 => "notPresent",
        7 => "lowerLayerDown",
        _ => "unknown",
    }
    .to_string()
}

fn fdb_status_name(status: Option<i64>, bridge_port: i64) -> String {
    match status {
        Some(1) => "other",
        Some(2) => "invalid",
        Some(3) => "learned",
        Some(4) => "self",
        Some(5) => "mgmt",
        // Many agents leave the status column out; port 0 is then the bridge itself.
        _ if bridge_port == 0 => "self",
        _ => "learned",
    }
    .to_string()
}

fn read_bridge(t: &mut Tables, snap: &mut DeviceSnapshot) {
    let base = t.take(DOT1D_BASE_BRIDGE_ADDRESS);
    snap.base_mac = base
        .first()
        .and_then(|r| bytes(&r.value))
        .and_then(mac_from_bytes);
    let port_if: HashMap<i64, i64> = by_first_arc(t.take(DOT1D_BASE_PORT_IF_INDEX))
        .into_iter()
        .filter_map(|(port, v)| Some((port, int(&v)?)))
        .collect();
    snap.has_bridge_mib = snap.base_mac.is_some() || !port_if.is_empty();
    let pvid: HashMap<i64, i64> = by_first_arc(t.take(DOT1Q_PVID))
        .into_iter()
        .filter_map(|(port, v)| Some((port, int(&v)?)))
        .collect();
    let bridge_port = bridge_port_of(&port_if);
    for port in &mut snap.ports {
        port.bridge_port = bridge_port.get(&port.if_index).copied();
        port.pvid = port.bridge_port.and_then(|b| pvid.get(&b).copied());
    }
    let if_of = |bridge_port: i64| port_if.get(&bridge_port).copied();

    // Q-BRIDGE first: it carries the VLAN. FDB ids map to VLANs through dot1qVlanFdbId; with no
    // such table the FDB id is the VLAN (independent VLAN learning, the common case).
    let mut fdb_vlan: BTreeMap<i64, i64> = BTreeMap::new();
    for row in t.take(DOT1Q_VLAN_FDB_ID) {
        if let (Some(&vlan), Some(fdb)) = (row.index.last(), int(&row.value)) {
            // Shared learning maps several VLANs to one FDB: keep the lowest, deterministic.
            fdb_vlan.entry(fdb).or_insert(i64::from(vlan));
        }
    }
    let q_status: HashMap<Vec<u32>, i64> = t
        .take(DOT1Q_TP_FDB_STATUS)
        .into_iter()
        .filter_map(|r| Some((r.index, int(&r.value)?)))
        .collect();
    for row in t.take(DOT1Q_TP_FDB_PORT) {
        let Some((fdb_id, mac, port)) = q_entry(&row) else {
            continue;
        };
        snap.fdb.push(FdbEntry {
            mac,
            vlan: Some(fdb_vlan.get(&fdb_id).copied().unwrap_or(fdb_id)),
            bridge_port: Some(port),
            if_index: if_of(port),
            status: fdb_status_name(q_status.get(&row.index).copied(), port),
        });
    }
    // BRIDGE-MIB's table is the only one many switches have; it was walked when Q-BRIDGE had
    // no entry.
    if snap.fdb.is_empty() {
        let status: HashMap<Vec<u32>, i64> = t
            .take(DOT1D_TP_FDB_STATUS)
            .into_iter()
            .filter_map(|r| Some((r.index, int(&r.value)?)))
            .collect();
        for row in t.take(DOT1D_TP_FDB_PORT) {
            let (Some(mac), Some(port)) = (mac_from_arcs(&row.index), int(&row.value)) else {
                continue;
            };
            snap.fdb.push(FdbEntry {
                mac,
                vlan: None,
                bridge_port: Some(port),
                if_index: if_of(port),
                status: fdb_status_name(status.get(&row.index).copied(), port),
            });
        }
    }
}

/// Cisco IOS keeps one BRIDGE-MIB instance per VLAN, reached through community@VLAN (or the
/// SNMPv3 context vlan-N); the default context shows VLAN 1 only and there is no Q-BRIDGE
/// forwarding table. When the device lists its VLANs in CISCO-VTP-MIB and gave no Q-BRIDGE
/// entries, every operational VLAN's instance is read and replaces the default one. A VLAN
/// whose instance does not answer is skipped: such VLANs have no bridge on that switch.
async fn read_per_vlan_bridges(
    walker: &Walker,
    t: &mut Tables,
    agent: &Agent<'_>,
    snap: &mut DeviceSnapshot,
) -> Result<Option<String>> {
    // Index: management domain, VLAN. A VLAN id outside 1..4094 cannot exist (802.1Q): it is
    // counted and skipped, never asked for.
    let mut out_of_range = 0usize;
    let vlans: BTreeSet<u32> = t
        .take(VTP_VLAN_STATE)
        .into_iter()
        .filter(|r| int(&r.value) == Some(1))
        .filter_map(|r| match r.index[..] {
            [_, vlan] if (1..=4094).contains(&vlan) => Some(vlan),
            _ => {
                out_of_range += 1;
                None
            }
        })
        // 1002-1005 are the FDDI and Token Ring defaults every IOS lists; they bridge nothing.
        .filter(|v| !(1002..=1005).contains(v))
        .collect();
    if vlans.is_empty() || snap.fdb.iter().any(|e| e.vlan.is_some()) {
        return Ok(None);
    }
    let mut skipped = Vec::new();
    if out_of_range > 0 {
        skipped.push(format!(
            "{out_of_range} VLAN ids out of range (1-4094) in vtpVlanState skipped"
        ));
    }
    if vlans.len() > MAX_VLANS {
        skipped.push(format!(
            "{} VLANs listed, the first {MAX_VLANS} read, the other {} skipped",
            vlans.len(),
            vlans.len() - MAX_VLANS
        ));
    }
    let problem = (!skipped.is_empty()).then(|| skipped.join("; "));
    let vlans: Vec<u32> = vlans.into_iter().take(MAX_VLANS).collect();
    // The instances are read concurrently, within the device's limit on walks in flight, and
    // used in VLAN order.
    let instances = try_join_all(vlans.into_iter().map(|vlan| async move {
        let settings = snmp::settings_for_vlan(agent.settings, vlan);
        let auth = snmp::auth(&settings)?;
        let client =
            snmp::client(agent.transport, agent.target, auth, &settings, agent.des).await?;
        let Ok(port_rows) = walker.walk(&client, DOT1D_BASE_PORT_IF_INDEX).await else {
            return Ok(None);
        };
        let (status, fdb) = try_join(
            walker.walk(&client, DOT1D_TP_FDB_STATUS),
            walker.walk(&client, DOT1D_TP_FDB_PORT),
        )
        .await?;
        Ok::<_, Error>(Some((vlan, port_rows, status, fdb)))
    }))
    .await?;
    let mut entries = Vec::new();
    for (vlan, port_rows, status, fdb) in instances.into_iter().flatten() {
        let port_if: HashMap<i64, i64> = by_first_arc(port_rows)
            .into_iter()
            .filter_map(|(port, v)| Some((port, int(&v)?)))
            .collect();
        let status: HashMap<Vec<u32>, i64> = status
            .into_iter()
            .filter_map(|r| Some((r.index, int(&r.value)?)))
            .collect();
        for row in fdb {
            let (Some(mac), Some(port)) = (mac_from_arcs(&row.index), int(&row.value)) else {
                continue;
            };
            entries.push(FdbEntry {
                mac,
                vlan: Some(i64::from(vlan)),
                bridge_port: Some(port),
                if_index: port_if.get(&port).copied(),
                status: fdb_status_name(status.get(&row.index).copied(), port),
            });
        }
        // Each instance numbers bridge ports itself; fill in ports the default context lacked.
        let bridge_port = bridge_port_of(&port_if);
        for port in &mut snap.ports {
            if port.bridge_port.is_none() {
                port.bridge_port = bridge_port.get(&port.if_index).copied();
            }
        }
        snap.has_bridge_mib = true;
    }
    snap.fdb = entries;
    Ok(problem)
}

fn read_lag(t: &mut Tables, snap: &mut DeviceSnapshot) {
    let position: HashMap<i64, usize> = snap
        .ports
        .iter()
        .enumerate()
        .map(|(n, p)| (p.if_index, n))
        .collect();
    for (member, agg) in by_first_arc(t.take(DOT3AD_AGG_PORT_ATTACHED_AGG_ID)) {
        let Some(agg) = int(&agg).filter(|&a| a > 0 && a != member) else {
            continue;
        };
        if let Some(&n) = position.get(&member) {
            snap.ports[n].lag_if_index = Some(agg);
        }
    }
}

/// An LLDP chassis or port id as text: a MAC for the MAC subtypes, an address for the
/// network-address subtype, else printable text or hex.
pub fn lldp_id(subtype: Option<i64>, value: &Value, mac_subtype: i64) -> Option<String> {
    let b = bytes(value)?;
    if subtype == Some(mac_subtype)
        && let Some(mac) = mac_from_bytes(b)
    {
        return Some(mac.to_string());
    }
    if subtype == Some(5) && mac_subtype == 4 {
        // networkAddress: an IANA address family byte, then the address.
        match b {
            [1, a @ ..] if a.len() == 4 => {
                return Some(Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string());
            }
            [2, a @ ..] if a.len() == 16 => {
                let arr: [u8; 16] = a.try_into().ok()?;
                return Some(Ipv6Addr::from(arr).to_string());
            }
            _ => {}
        }
    }
    printable(value)
}

/// lldpLocPortNum is an ifIndex on most agents and a bridge port on others: the device's
/// ifIndexes, and its bridge ports' ifIndexes (the first port of each bridge port).
struct LocalPorts {
    if_indexes: HashSet<i64>,
    by_bridge_port: HashMap<i64, i64>,
}

impl LocalPorts {
    fn new(snap: &DeviceSnapshot) -> LocalPorts {
        let mut by_bridge_port = HashMap::new();
        for p in &snap.ports {
            if let Some(b) = p.bridge_port {
                by_bridge_port.entry(b).or_insert(p.if_index);
            }
        }
        LocalPorts {
            if_indexes: snap.ports.iter().map(|p| p.if_index).collect(),
            by_bridge_port,
        }
    }

    fn if_index(&self, port_num: i64) -> Option<i64> {
        if self.if_indexes.contains(&port_num) {
            return Some(port_num);
        }
        self.by_bridge_port.get(&port_num).copied()
    }
}

fn read_lldp(t: &mut Tables, snap: &mut DeviceSnapshot) {
    let subtype = t.take(LLDP_LOC_CHASSIS_ID_SUBTYPE);
    let chassis = t.take(LLDP_LOC_CHASSIS_ID);
    if let Some(c) = chassis.first() {
        snap.lldp_chassis_id = lldp_id(subtype.first().and_then(|s| int(&s.value)), &c.value, 4);
    }
    // Group the remote table's cells by (timeMark, localPortNum, remIndex).
    let mut remotes: BTreeMap<(u32, u32, u32), HashMap<u32, Value>> = BTreeMap::new();
    for row in t.take(LLDP_REM) {
        if let [column, time, port, index] = row.index[..] {
            remotes
                .entry((time, port, index))
                .or_default()
                .insert(column, row.value);
        }
    }
    let mut mgmt: HashMap<(u32, u32, u32), String> = HashMap::new();
    for row in t.take(LLDP_REM_MAN_ADDR_IF_SUBTYPE) {
        // Index: timeMark, localPortNum, remIndex, addrSubtype, length, address bytes.
        if let [time, port, index, family, len, ref addr @ ..] = row.index[..] {
            let addr: Vec<u8> = addr.iter().map(|&a| a as u8).collect();
            let ip = match (family, len as usize == addr.len(), addr.len()) {
                (1, true, 4) => Some(IpAddr::from([addr[0], addr[1], addr[2], addr[3]])),
                (2, true, 16) => <[u8; 16]>::try_from(addr.as_slice()).ok().map(IpAddr::from),
                _ => None,
            };
            if let Some(ip) = ip {
                mgmt.entry((time, port, index))
                    .or_insert_with(|| ip.to_string());
            }
        }
    }
    let local = LocalPorts::new(snap);
    for (key, cells) in remotes {
        let get_int = |c: u32| cells.get(&c).and_then(int);
        let neighbor = Neighbor {
            local_if_index: local.if_index(i64::from(key.1)),
            protocol: "lldp".into(),
            chassis_id: cells
                .get(&LLDP_REM_CHASSIS_ID)
                .and_then(|v| lldp_id(get_int(LLDP_REM_CHASSIS_ID_SUBTYPE), v, 4)),
            port_id: cells
                .get(&LLDP_REM_PORT_ID)
                .and_then(|v| lldp_id(get_int(LLDP_REM_PORT_ID_SUBTYPE), v, 3)),
            port_descr: cells.get(&LLDP_REM_PORT_DESC).and_then(printable),
            sys_name: cells.get(&LLDP_REM_SYS_NAME).and_then(printable),
            sys_descr: cells.get(&LLDP_REM_SYS_DESC).and_then(printable),
            mgmt_address: mgmt.get(&key).cloned(),
        };
        snap.neighbors.push(neighbor);
    }
}

fn read_cdp(t: &mut Tables, snap: &mut DeviceSnapshot) {
    let mut cache: BTreeMap<(u32, u32), HashMap<u32, Value>> = BTreeMap::new();
    for row in t.take(CDP_CACHE) {
        if let [column, if_index, device] = row.index[..] {
            cache
                .entry((if_index, device))
                .or_default()
                .insert(column, row.value);
        }
    }
    for ((if_index, _), cells) in cache {
        let address = cells.get(&CDP_CACHE_ADDRESS).and_then(bytes).and_then(|b| {
            <[u8; 4]>::try_from(b)
                .ok()
                .map(|a| IpAddr::from(a).to_string())
        });
        snap.neighbors.push(Neighbor {
            local_if_index: Some(i64::from(if_index)),
            protocol: "cdp".into(),
            chassis_id: cells.get(&CDP_CACHE_DEVICE_ID).and_then(printable),
            port_id: cells.get(&CDP_CACHE_DEVICE_PORT).and_then(printable),
            port_descr: None,
            sys_name: cells.get(&CDP_CACHE_DEVICE_ID).and_then(printable),
            sys_descr: cells.get(&CDP_CACHE_PLATFORM).and_then(printable),
            mgmt_address: address,
        });
    }
}

fn read_arp(t: &mut Tables, snap: &mut DeviceSnapshot) {
    for row in t.take(IP_NET_TO_PHYSICAL_PHYS_ADDRESS) {
        // Index: ifIndex, InetAddressType, length, address bytes (ipv4z/ipv6z add a 4-byte zone).
        let [if_index, kind, len, ref addr @ ..] = row.index[..] else {
            continue;
        };
        if addr.len() != len as usize || addr.iter().any(|&a| a > 255) {
            continue;
        }
        let addr: Vec<u8> = addr.iter().map(|&a| a as u8).collect();
        let ip = match (kind, addr.len()) {
            (1, 4) | (3, 8) => IpAddr::from([addr[0], addr[1], addr[2], addr[3]]),
            (2, 16) | (4, 20) => match <[u8; 16]>::try_from(&addr[..16]) {
                Ok(a) => IpAddr::from(a),
                Err(_) => continue,
            },
            _ => continue,
        };
        if let Some(mac) = bytes(&row.value).and_then(mac_from_bytes) {
            snap.arp.push(ArpEntry {
                ip,
                mac,
                if_index: Some(i64::from(if_index)),
            });
        }
    }
    // The older table has IPv4 only; read it for agents that lack the newer one, and for
    // IPv4 entries the newer one leaves out.
    let mut seen: HashSet<IpAddr> = snap.arp.iter().map(|e| e.ip).collect();
    for row in t.take(IP_NET_TO_MEDIA_PHYS_ADDRESS) {
        let [if_index, a, b, c, d] = row.index[..] else {
            continue;
        };
        if [a, b, c, d].iter().any(|&x| x > 255) {
            continue;
        }
        let ip = IpAddr::from([a as u8, b as u8, c as u8, d as u8]);
        let Some(mac) = bytes(&row.value).and_then(mac_from_bytes) else {
            continue;
        };
        if seen.insert(ip) {
            snap.arp.push(ArpEntry {
                ip,
                mac,
                if_index: Some(i64::from(if_index)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_from_index_arcs() {
        assert_eq!(
            mac_from_arcs(&[116, 254, 72, 129, 38, 218])
                .unwrap()
                .to_string(),
            "74:fe:48:81:26:da"
        );
        assert!(mac_from_arcs(&[1, 2, 3]).is_none());
        assert!(mac_from_arcs(&[256, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn lldp_ids_by_subtype() {
        let mac = Value::OctetString(vec![0x94, 0x18, 0x65, 0x7f, 0x88, 0x89].into());
        assert_eq!(
            lldp_id(Some(4), &mac, 4).as_deref(),
            Some("94:18:65:7f:88:89")
        );
        let net = Value::OctetString(vec![1, 0, 0, 0, 0].into());
        assert_eq!(lldp_id(Some(5), &net, 4).as_deref(), Some("0.0.0.0"));
        let text = Value::OctetString(b"gi8".to_vec().into());
        assert_eq!(lldp_id(Some(7), &text, 3).as_deref(), Some("gi8"));
        let bin = Value::OctetString(vec![0x00, 0x1b, 0x01].into());
        assert_eq!(lldp_id(Some(7), &bin, 3).as_deref(), Some("00:1b:01"));
    }
}
