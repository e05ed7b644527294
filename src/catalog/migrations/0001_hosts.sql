-- Schema 1: hosts, what they report about themselves, and their packages.
--
-- Every observation table follows one pattern: a row is one thing seen with one identity
-- (a package at one version, an address on one interface); first_seen and last_seen bound the
-- period it was seen; current = 1 while the latest scan of its source still sees it. A scan never
-- deletes: what it no longer sees gets current = 0, so history is a plain query on the same table.
-- Times are Unix seconds (UTC).

-- One run of a collector against one source.
CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    collector   TEXT NOT NULL,            -- 'scan-hosts', 'crawl-switches', 'sync-ec2'
    method      TEXT NOT NULL,            -- 'local', 'ssh', 'report', 'snmp', 'aws'
    target      TEXT NOT NULL,            -- what was asked for: host, address, region
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    error       TEXT                      -- NULL when the scan succeeded
);
CREATE INDEX scans_target ON scans(target, started_at);

-- A host, identified by the hostname it reports.
CREATE TABLE hosts (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,    -- as the host reports it (gethostname)
    short_name   TEXT NOT NULL,           -- first label, lower case: for matching
    fqdn         TEXT,                    -- canonical name as the host resolves itself
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX hosts_name ON hosts(lower(name));
CREATE INDEX hosts_short_name ON hosts(short_name);
CREATE INDEX hosts_fqdn ON hosts(lower(fqdn));

-- Facts about a host: system facts (os, kernel, cpu, …) and custom facts, values as JSON.
CREATE TABLE host_facts (
    id           INTEGER PRIMARY KEY,
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    kind         TEXT NOT NULL,           -- 'system' or 'custom'
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,           -- JSON
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX host_facts_host ON host_facts(host_id, current);

-- Network interfaces of a host, identified by (name, MAC).
CREATE TABLE host_interfaces (
    id           INTEGER PRIMARY KEY,
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    name         TEXT NOT NULL,
    mac          TEXT,                    -- aa:bb:cc:dd:ee:ff, NULL for interfaces without one
    mtu          INTEGER,
    oper_state   TEXT,                    -- up, down, unknown, …
    speed_mbps   INTEGER,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX host_interfaces_host ON host_interfaces(host_id, current);
CREATE INDEX host_interfaces_mac ON host_interfaces(mac);

-- IPv4 and IPv6 addresses of a host, on an interface, with their prefix length.
CREATE TABLE host_addresses (
    id           INTEGER PRIMARY KEY,
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    interface    TEXT NOT NULL,
    address      TEXT NOT NULL,           -- canonical text form (RFC 5952 for IPv6)
    family       INTEGER NOT NULL,        -- 4 or 6
    prefix_len   INTEGER,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX host_addresses_host ON host_addresses(host_id, current);
CREATE INDEX host_addresses_address ON host_addresses(address);

-- Package names, stored once: a fleet repeats the same few thousand names on every host.
CREATE TABLE package_names (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- A package at one version on one host.
CREATE TABLE host_packages (
    id           INTEGER PRIMARY KEY,
    host_id      INTEGER NOT NULL REFERENCES hosts(id),
    manager      TEXT NOT NULL,           -- dpkg, rpm, apk, pacman
    name_id      INTEGER NOT NULL REFERENCES package_names(id),
    epoch        TEXT NOT NULL DEFAULT '',
    version      TEXT NOT NULL,           -- upstream version, without epoch and release
    release      TEXT NOT NULL DEFAULT '',-- Debian revision, rpm release, apk -rN, pacman pkgrel
    arch         TEXT NOT NULL DEFAULT '',
    install_time INTEGER,                 -- as the package manager records it, if it does
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    current      INTEGER NOT NULL,
    last_scan_id INTEGER REFERENCES scans(id)
);
CREATE INDEX host_packages_name ON host_packages(name_id, current);
-- Covers the per-host package count, so whatis-host reads no table rows for it.
CREATE INDEX host_packages_host ON host_packages(host_id, current, manager);
