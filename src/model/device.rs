//! Switches and routers: everything one crawl learned about one device over SNMP (system
//! group, ports, MAC table, ARP/neighbour entries, LLDP/CDP neighbours).

use std::net::IpAddr;

use super::Mac;

/// Everything one crawl learned about one device.
#[derive(Debug, Default, Clone)]
pub struct DeviceSnapshot {
    pub sys_name: Option<String>,
    pub sys_descr: Option<String>,
    pub sys_object_id: Option<String>,
    pub sys_location: Option<String>,
    /// sysUpTime in hundredths of a second.
    pub sys_uptime: Option<i64>,
    /// dot1dBaseBridgeAddress: the bridge's own MAC.
    pub base_mac: Option<Mac>,
    /// lldpLocChassisId, as text (a MAC when the subtype says so).
    pub lldp_chassis_id: Option<String>,
    pub ports: Vec<Port>,
    pub fdb: Vec<FdbEntry>,
    pub arp: Vec<ArpEntry>,
    pub neighbors: Vec<Neighbor>,
    /// Whether the device answered BRIDGE-MIB at all (bridge ports or a base address).
    pub has_bridge_mib: bool,
}

/// An interface of a device (IF-MIB), with its bridge port, LAG and port VLAN.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Port {
    pub if_index: i64,
    pub bridge_port: Option<i64>,
    pub name: Option<String>,
    pub descr: Option<String>,
    pub alias: Option<String>,
    pub if_type: Option<i64>,
    pub oper_status: Option<String>,
    pub speed_mbps: Option<i64>,
    pub mac: Option<Mac>,
    /// ifIndex of the aggregate (LAG) this port is a member of.
    pub lag_if_index: Option<i64>,
    /// dot1qPvid: the VLAN untagged frames on this port belong to.
    pub pvid: Option<i64>,
}

/// A MAC learned on a bridge port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbEntry {
    pub mac: Mac,
    pub vlan: Option<i64>,
    pub bridge_port: Option<i64>,
    pub if_index: Option<i64>,
    /// learned, self, mgmt, other, invalid (dot1dTpFdbStatus / dot1qTpFdbStatus).
    pub status: String,
}

/// An IP-to-MAC binding from the ARP or IPv6 neighbour table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpEntry {
    pub ip: IpAddr,
    pub mac: Mac,
    pub if_index: Option<i64>,
}

/// A neighbour seen on a port through LLDP or CDP.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub local_if_index: Option<i64>,
    pub protocol: String,
    pub chassis_id: Option<String>,
    pub port_id: Option<String>,
    pub port_descr: Option<String>,
    pub sys_name: Option<String>,
    pub sys_descr: Option<String>,
    pub mgmt_address: Option<String>,
}
