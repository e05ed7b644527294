//! The OIDs opskit reads, named as in their MIBs.

/// SNMPv2-MIB system group.
pub const SYSTEM: &[u32] = &[1, 3, 6, 1, 2, 1, 1];
pub const SYS_DESCR: u32 = 1;
pub const SYS_OBJECT_ID: u32 = 2;
pub const SYS_UPTIME: u32 = 3;
pub const SYS_NAME: u32 = 5;
pub const SYS_LOCATION: u32 = 6;

/// IF-MIB ifTable columns.
pub const IF_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2];
pub const IF_TYPE: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 3];
pub const IF_SPEED: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 5];
pub const IF_PHYS_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 6];
pub const IF_OPER_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8];
/// IF-MIB ifXTable columns.
pub const IF_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1];
pub const IF_HIGH_SPEED: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15];
pub const IF_ALIAS: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18];

/// BRIDGE-MIB.
pub const DOT1D_BASE_BRIDGE_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 1];
pub const DOT1D_BASE_PORT_IF_INDEX: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2];
pub const DOT1D_TP_FDB_PORT: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2];
pub const DOT1D_TP_FDB_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 3];

/// Q-BRIDGE-MIB.
pub const DOT1Q_TP_FDB_PORT: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2];
pub const DOT1Q_TP_FDB_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 3];
pub const DOT1Q_VLAN_FDB_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, 3];
pub const DOT1Q_PVID: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1, 1];

/// LLDP-MIB.
pub const LLDP_LOC_CHASSIS_ID_SUBTYPE: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 1];
pub const LLDP_LOC_CHASSIS_ID: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 2];
pub const LLDP_REM: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
pub const LLDP_REM_MAN_ADDR_IF_SUBTYPE: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 2, 1, 3];
pub const LLDP_REM_CHASSIS_ID_SUBTYPE: u32 = 4;
pub const LLDP_REM_CHASSIS_ID: u32 = 5;
pub const LLDP_REM_PORT_ID_SUBTYPE: u32 = 6;
pub const LLDP_REM_PORT_ID: u32 = 7;
pub const LLDP_REM_PORT_DESC: u32 = 8;
pub const LLDP_REM_SYS_NAME: u32 = 9;
pub const LLDP_REM_SYS_DESC: u32 = 10;

/// CISCO-CDP-MIB cdpCacheTable.
pub const CDP_CACHE: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1];
pub const CDP_CACHE_ADDRESS: u32 = 4;
pub const CDP_CACHE_DEVICE_ID: u32 = 6;
pub const CDP_CACHE_DEVICE_PORT: u32 = 7;
pub const CDP_CACHE_PLATFORM: u32 = 8;

/// IEEE8023-LAG-MIB dot3adAggPortAttachedAggID: member ifIndex → aggregate ifIndex.
pub const DOT3AD_AGG_PORT_ATTACHED_AGG_ID: &[u32] = &[1, 2, 840, 10006, 300, 43, 1, 2, 1, 1, 13];

/// IP-MIB neighbour tables.
pub const IP_NET_TO_PHYSICAL_PHYS_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 35, 1, 4];
pub const IP_NET_TO_MEDIA_PHYS_ADDRESS: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 22, 1, 2];

/// CISCO-VTP-MIB vtpVlanState (index: management domain, VLAN; 1 = operational).
pub const VTP_VLAN_STATE: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1, 2];
