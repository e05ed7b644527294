-- Schema 2: network devices (switches and routers crawled over SNMP) and the cloud (EC2).
-- Same observation pattern as schema 1: first_seen, last_seen, current, never deleted.

-- A switch or router, identified by the address it is polled at.
CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    address      TEXT NOT NULL UNIQUE,    -- host[:port] as configured
    sys_name     TEXT,
    sys_descr    TEXT,
    sys_object_id TEXT,
    sys_location TEXT,
    sys_uptime   INTEGER,                 -- hundredths of a second at the last crawl
    base_mac     TEXT,                    -- dot1dBaseBridgeAddress
    lldp_chassis_id TEXT,                 -- lldpLocChassisId, to recognise it as a neighbour
    role         TEXT,                    -- 'switch', 'router', … from the config
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);

-- Partial indexes: ports without a MAC (VLAN interfaces, tunnels) would otherwise make the
-- statistics say a MAC lookup matches thousands of rows, and the planner scan instead.
CREATE INDEX devices_base_mac ON devices(base_mac) WHERE base_mac IS NOT NULL;

-- Interfaces of a device (IF-MIB), with the LAG they belong to, if any.
CREATE TABLE device_ports (
    id           INTEGER PRIMARY KEY,
    device_id    INTEGER NOT NULL REFERENCES devices(id),
    if_index     INTEGER NOT NULL,
    bridge_port  INTEGER,                 -- dot1dBasePort mapped to this ifIndex
    name         TEXT,                    -- ifName
    descr        TEXT,                    -- ifDescr
    alias        TEXT,                    -- ifAlias
    if_type      INTEGER,
    oper_status  TEXT,
    speed_mbps   INTEGER,                 -- ifHighSpeed
    mac          TEXT,                    -- ifPhysAddress
    lag_if_index INTEGER,                 -- the aggregate this port is a member of
    pvid         INTEGER,                 -- dot1qPvid: the port's untagged VLAN
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX device_ports_device ON device_ports(device_id, if_index, current);
CREATE INDEX device_ports_mac ON device_ports(mac) WHERE mac IS NOT NULL;

-- A MAC learned on a port of a device, in a VLAN (BRIDGE-MIB / Q-BRIDGE-MIB forwarding tables).
CREATE TABLE fdb_entries (
    id           INTEGER PRIMARY KEY,
    device_id    INTEGER NOT NULL REFERENCES devices(id),
    mac          TEXT NOT NULL,
    vlan         INTEGER,
    if_index     INTEGER,
    bridge_port  INTEGER,
    status       TEXT,                    -- learned, self, mgmt, other, invalid
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX fdb_entries_mac ON fdb_entries(mac, current);
-- Covers the per-port count of learned MACs that which-switch shows for every sighting.
CREATE INDEX fdb_entries_device ON fdb_entries(device_id, current, if_index, status);

-- An IP-to-MAC binding seen in a device's ARP or IPv6 neighbour table.
CREATE TABLE arp_entries (
    id           INTEGER PRIMARY KEY,
    device_id    INTEGER NOT NULL REFERENCES devices(id),
    address      TEXT NOT NULL,
    family       INTEGER NOT NULL,
    mac          TEXT NOT NULL,
    if_index     INTEGER,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX arp_entries_address ON arp_entries(address, current);
CREATE INDEX arp_entries_mac ON arp_entries(mac, current);
CREATE INDEX arp_entries_device ON arp_entries(device_id, current);

-- A neighbour seen on a port through LLDP or CDP.
CREATE TABLE neighbors (
    id              INTEGER PRIMARY KEY,
    device_id       INTEGER NOT NULL REFERENCES devices(id),
    local_if_index  INTEGER,
    protocol        TEXT NOT NULL,        -- 'lldp' or 'cdp'
    chassis_id      TEXT,
    port_id         TEXT,
    port_descr      TEXT,
    sys_name        TEXT,
    sys_descr       TEXT,
    mgmt_address    TEXT,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    current         INTEGER NOT NULL,
    last_scan_id    INTEGER REFERENCES scans(id)
);
CREATE INDEX neighbors_device ON neighbors(device_id, current);

-- An EC2 instance; its changing attributes are kept as observations in ec2_instance_states.
CREATE TABLE ec2_instances (
    id           INTEGER PRIMARY KEY,
    instance_id  TEXT NOT NULL UNIQUE,
    region       TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL
);

-- What an instance looked like over a period: a new row whenever any of these changes.
CREATE TABLE ec2_instance_states (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES ec2_instances(id),
    name          TEXT,
    state         TEXT,
    instance_type TEXT,
    az            TEXT,
    vpc_id        TEXT,
    subnet_id     TEXT,
    private_ip    TEXT,
    public_ip     TEXT,
    ipv6          TEXT,                   -- JSON array
    interfaces    TEXT,                   -- JSON array of network interfaces
    tags          TEXT,                   -- JSON object
    launch_time   INTEGER,
    asg_name      TEXT,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    current       INTEGER NOT NULL,
    last_scan_id  INTEGER REFERENCES scans(id)
);
CREATE INDEX ec2_instance_states_instance ON ec2_instance_states(instance_id, current);
CREATE INDEX ec2_instance_states_private_ip ON ec2_instance_states(private_ip);
CREATE INDEX ec2_instance_states_public_ip ON ec2_instance_states(public_ip);

-- An Auto Scaling group and its members at one time.
CREATE TABLE ec2_asgs (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    region       TEXT NOT NULL,
    created_at   INTEGER,
    desired      INTEGER,
    min_size     INTEGER,
    max_size     INTEGER,
    members      TEXT,                    -- JSON: [{instance_id, lifecycle, health}]
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id),
    UNIQUE (name, region, first_seen)
);
