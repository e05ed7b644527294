//! Reading one device over SNMP into a [`DeviceSnapshot`]: system group, IF-MIB, BRIDGE-MIB,
//! Q-BRIDGE-MIB (FDB ids mapped to VLANs), LLDP and CDP neighbours, LAG membership, and the
//! IP-MIB neighbour tables (ipNetToPhysicalTable, falling back to ipNetToMediaTable).
//!
//! Tables a device does not implement are simply empty; only the system group is required, so
//! an unreachable agent or wrong credentials fail the device while a switch without LLDP does
//! not.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_snmp::Value;

use super::mibs::*;
use super::{ArpEntry, DeviceSnapshot, FdbEntry, Neighbor, Port};
use crate::config::SnmpConfig;
use crate::error::Result;
use crate::net::Mac;
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

/// Crawls one device.
pub async fn crawl(agent: &Agent<'_>) -> Result<DeviceSnapshot> {
    let auth = snmp::auth(agent.settings)?;
    let client = &snmp::client(
        agent.transport,
        agent.target,
        auth,
        agent.settings,
        agent.des,
    )
    .await?;
    let mut snap = DeviceSnapshot::default();
    read_system(client, &mut snap).await?;
    read_interfaces(client, &mut snap).await?;
    read_bridge(client, &mut snap).await?;
    read_per_vlan_bridges(client, agent, &mut snap).await?;
    read_lag(client, &mut snap).await?;
    read_lldp(client, &mut snap).await?;
    read_cdp(client, &mut snap).await?;
    read_arp(client, &mut snap).await?;
    Ok(snap)
}

/// A MAC from six index arcs (the FDB tables index by MAC).
fn mac_from_arcs(arcs: &[u32]) -> Option<Mac> {
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
fn mac_from_bytes(b: &[u8]) -> Option<Mac> {
    <[u8; 6]>::try_from(b)
        .ok()
        .map(Mac)
        .filter(|m| !m.is_zero())
}

/// Text that is printable, else the bytes in hex (agents put binary in "text" columns).
fn printable(value: &Value) -> Option<String> {
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

/// Rows keyed by their index's first arc (ifIndex-indexed columns).
fn by_first_arc(rows: Vec<Row>) -> HashMap<i64, Value> {
    rows.into_iter()
        .filter(|r| r.index.len() == 1)
        .map(|r| (i64::from(r.index[0]), r.value))
        .collect()
}

async fn read_system(client: &SnmpClient, snap: &mut DeviceSnapshot) -> Result<()> {
    for row in snmp::walk(client, SYSTEM).await? {
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
    Ok(())
}

async fn read_interfaces(client: &SnmpClient, snap: &mut DeviceSnapshot) -> Result<()> {
    let descr = by_first_arc(snmp::walk(client, IF_DESCR).await?);
    let if_type = by_first_arc(snmp::walk(client, IF_TYPE).await?);
    let speed = by_first_arc(snmp::walk(client, IF_SPEED).await?);
    let phys = by_first_arc(snmp::walk(client, IF_PHYS_ADDRESS).await?);
    let oper = by_first_arc(snmp::walk(client, IF_OPER_STATUS).await?);
    let name = by_first_arc(snmp::walk(client, IF_NAME).await?);
    let high = by_first_arc(snmp::walk(client, IF_HIGH_SPEED).await?);
    let alias = by_first_arc(snmp::walk(client, IF_ALIAS).await?);
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
    Ok(())
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

async fn read_bridge(client: &SnmpClient, snap: &mut DeviceSnapshot) -> Result<()> {
    let base = snmp::walk(client, DOT1D_BASE_BRIDGE_ADDRESS).await?;
    snap.base_mac = base
        .first()
        .and_then(|r| bytes(&r.value))
        .and_then(mac_from_bytes);
    let port_if: HashMap<i64, i64> =
        by_first_arc(snmp::walk(client, DOT1D_BASE_PORT_IF_INDEX).await?)
            .into_iter()
            .filter_map(|(port, v)| Some((port, int(&v)?)))
            .collect();
    snap.has_bridge_mib = snap.base_mac.is_some() || !port_if.is_empty();
    let pvid: HashMap<i64, i64> = by_first_arc(snmp::walk(client, DOT1Q_PVID).await?)
        .into_iter()
        .filter_map(|(port, v)| Some((port, int(&v)?)))
        .collect();
    for port in &mut snap.ports {
        port.bridge_port = port_if
            .iter()
            .find(|(_, i)| **i == port.if_index)
            .map(|(b, _)| *b);
        port.pvid = port.bridge_port.and_then(|b| pvid.get(&b).copied());
    }
    let if_of = |bridge_port: i64| port_if.get(&bridge_port).copied();

    // Q-BRIDGE first: it carries the VLAN. FDB ids map to VLANs through dot1qVlanFdbId; with no
    // such table the FDB id is the VLAN (independent VLAN learning, the common case).
    let mut fdb_vlan: BTreeMap<i64, i64> = BTreeMap::new();
    for row in snmp::walk(client, DOT1Q_VLAN_FDB_ID).await? {
        if let (Some(&vlan), Some(fdb)) = (row.index.last(), int(&row.value)) {
            // Shared learning maps several VLANs to one FDB: keep the lowest, deterministic.
            fdb_vlan.entry(fdb).or_insert(i64::from(vlan));
        }
    }
    let q_status: HashMap<Vec<u32>, i64> = snmp::walk(client, DOT1Q_TP_FDB_STATUS)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.index, int(&r.value)?)))
        .collect();
    for row in snmp::walk(client, DOT1Q_TP_FDB_PORT).await? {
        let (Some((&fdb_id, mac_arcs)), Some(port)) = (row.index.split_first(), int(&row.value))
        else {
            continue;
        };
        let Some(mac) = mac_from_arcs(mac_arcs) else {
            continue;
        };
        let fdb_id = i64::from(fdb_id);
        snap.fdb.push(FdbEntry {
            mac,
            vlan: Some(fdb_vlan.get(&fdb_id).copied().unwrap_or(fdb_id)),
            bridge_port: Some(port),
            if_index: if_of(port),
            status: fdb_status_name(q_status.get(&row.index).copied(), port),
        });
    }
    // BRIDGE-MIB's table is the only one many switches have; read it when Q-BRIDGE is empty.
    if snap.fdb.is_empty() {
        let status: HashMap<Vec<u32>, i64> = snmp::walk(client, DOT1D_TP_FDB_STATUS)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.index, int(&r.value)?)))
            .collect();
        for row in snmp::walk(client, DOT1D_TP_FDB_PORT).await? {
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
    Ok(())
}

/// Cisco IOS keeps one BRIDGE-MIB instance per VLAN, reached through community@VLAN (or the
/// SNMPv3 context vlan-N); the default context shows VLAN 1 only and there is no Q-BRIDGE
/// forwarding table. When the device lists its VLANs in CISCO-VTP-MIB and gave no Q-BRIDGE
/// entries, every operational VLAN's instance is read and replaces the default one. A VLAN
/// whose instance does not answer is skipped: such VLANs have no bridge on that switch.
async fn read_per_vlan_bridges(
    client: &SnmpClient,
    agent: &Agent<'_>,
    snap: &mut DeviceSnapshot,
) -> Result<()> {
    if snap.fdb.iter().any(|e| e.vlan.is_some()) {
        return Ok(());
    }
    let vlans: Vec<u32> = snmp::walk(client, VTP_VLAN_STATE)
        .await?
        .into_iter()
        .filter(|r| int(&r.value) == Some(1))
        .filter_map(|r| r.index.last().copied())
        // 1002-1005 are the FDDI and Token Ring defaults every IOS lists; they bridge nothing.
        .filter(|v| !(1002..=1005).contains(v))
        .collect();
    if vlans.is_empty() {
        return Ok(());
    }
    let mut entries = Vec::new();
    for vlan in vlans {
        let settings = snmp::settings_for_vlan(agent.settings, vlan);
        let auth = snmp::auth(&settings)?;
        let vlan_client =
            snmp::client(agent.transport, agent.target, auth, &settings, agent.des).await?;
        let Ok(port_rows) = snmp::walk(&vlan_client, DOT1D_BASE_PORT_IF_INDEX).await else {
            continue;
        };
        let port_if: HashMap<i64, i64> = by_first_arc(port_rows)
            .into_iter()
            .filter_map(|(port, v)| Some((port, int(&v)?)))
            .collect();
        let status: HashMap<Vec<u32>, i64> = snmp::walk(&vlan_client, DOT1D_TP_FDB_STATUS)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.index, int(&r.value)?)))
            .collect();
        for row in snmp::walk(&vlan_client, DOT1D_TP_FDB_PORT).await? {
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
        for port in &mut snap.ports {
            if port.bridge_port.is_none() {
                port.bridge_port = port_if
                    .iter()
                    .find(|(_, i)| **i == port.if_index)
                    .map(|(b, _)| *b);
            }
        }
        snap.has_bridge_mib = true;
    }
    snap.fdb = entries;
    Ok(())
}

async fn read_lag(client: &SnmpClient, snap: &mut DeviceSnapshot) -> Result<()> {
    for (member, agg) in by_first_arc(snmp::walk(client, DOT3AD_AGG_PORT_ATTACHED_AGG_ID).await?) {
        let Some(agg) = int(&agg).filter(|&a| a > 0 && a != member) else {
            continue;
        };
        if let Some(port) = snap.ports.iter_mut().find(|p| p.if_index == member) {
            port.lag_if_index = Some(agg);
        }
    }
    Ok(())
}

/// An LLDP chassis or port id as text: a MAC for the MAC subtypes, an address for the
/// network-address subtype, else printable text or hex.
fn lldp_id(subtype: Option<i64>, value: &Value, mac_subtype: i64) -> Option<String> {
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

/// lldpLocPortNum is an ifIndex on most agents and a bridge port on others.
fn local_if_index(snap: &DeviceSnapshot, port_num: i64) -> Option<i64> {
    if snap.ports.iter().any(|p| p.if_index == port_num) {
        return Some(port_num);
    }
    snap.ports
        .iter()
        .find(|p| p.bridge_port == Some(port_num))
        .map(|p| p.if_index)
}

async fn read_lldp(client: &SnmpClient, snap: &mut DeviceSnapshot) -> Result<()> {
    let subtype = snmp::walk(client, LLDP_LOC_CHASSIS_ID_SUBTYPE).await?;
    let chassis = snmp::walk(client, LLDP_LOC_CHASSIS_ID).await?;
    if let Some(c) = chassis.first() {
        snap.lldp_chassis_id = lldp_id(subtype.first().and_then(|s| int(&s.value)), &c.value, 4);
    }
    // Group the remote table's cells by (timeMark, localPortNum, remIndex).
    let mut remotes: BTreeMap<(u32, u32, u32), HashMap<u32, Value>> = BTreeMap::new();
    for row in snmp::walk(client, LLDP_REM).await? {
        if let [column, time, port, index] = row.index[..] {
            remotes
                .entry((time, port, index))
                .or_default()
                .insert(column, row.value);
        }
    }
    let mut mgmt: HashMap<(u32, u32, u32), String> = HashMap::new();
    for row in snmp::walk(client, LLDP_REM_MAN_ADDR_IF_SUBTYPE).await? {
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
    for (key, cells) in remotes {
        let get_int = |c: u32| cells.get(&c).and_then(int);
        let neighbor = Neighbor {
            local_if_index: local_if_index(snap, i64::from(key.1)),
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
    Ok(())
}

async fn read_cdp(client: &SnmpClient, snap: &mut DeviceSnapshot) -> Result<()> {
    let mut cache: BTreeMap<(u32, u32), HashMap<u32, Value>> = BTreeMap::new();
    for row in snmp::walk(client, CDP_CACHE).await? {
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
    Ok(())
}

async fn read_arp(client: &SnmpClient, snap: &mut DeviceSnapshot) -> Result<()> {
    for row in snmp::walk(client, IP_NET_TO_PHYSICAL_PHYS_ADDRESS).await? {
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
    for row in snmp::walk(client, IP_NET_TO_MEDIA_PHYS_ADDRESS).await? {
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
        if !snap.arp.iter().any(|e| e.ip == ip) {
            snap.arp.push(ArpEntry {
                ip,
                mac,
                if_index: Some(i64::from(if_index)),
            });
        }
    }
    Ok(())
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
