# shellcheck shell=bash disable=SC2154 # work, bin, hosts, packages: set by the sourcing script
# The synthetic catalogs of the benchmarks, built once with the sqlite3 shell and cached in
# $work (OPSKIT_BENCH_DIR, default /var/tmp/opskit-bench). Sourced by bench/catalog.sh,
# bench/pkg_where.sh and bench/whatis.sh, from the repository's root, after they have set
# `work`, `bin` (the release directory, with pkg-where built), `hosts` and `packages`.
#
#   synthetic_catalog standard   hosts host-00001… (fqdn host-NNNNN.bench.example) with 11
#                                system facts, 4 interfaces eth0-eth3 (MAC 02:00:HH:LL:00:0J),
#                                each with 10.J.(id/256).(id%256)/16 and
#                                2001:db8:J:<id hex>::<id hex>/64, and every package at
#                                x.y.(id%3); and the switches the hosts' eth0 is plugged
#                                into: one 48-port access switch per 40 hosts (ports 1-40 the
#                                hosts, 47 and 48 uplinks) and two core switches with a
#                                downlink to each, LLDP on every link, each host's eth0 MAC
#                                learned on its access port and on both cores' downlinks, the
#                                cores' own MACs on each access switch's uplinks:
#                                bench/catalog.sh, bench/whatis.sh and bench/postgres.sh.
#   synthetic_catalog facts      the same hosts, facts only, varied as a fleet's are: 8 kernels,
#                                4 OS versions, 7 memory sizes, 3 BIOS versions, boot times over
#                                60 days, a JSON custom fact `docker`, and each host's previous
#                                kernel as history: bench/host_where.sh.
#   synthetic_catalog drift      the same hosts, packages only: host-00001 is the golden host,
#                                ~0.1% of the rows behind it, ~0.05% missing, every 500th host
#                                with an extra package: bench/pkg_where.sh.
#
# Package rows are stored host by host (SQLite's CROSS JOIN keeps hosts as the outer loop), as
# collectors store them, one host's scan at a time: a package's rows are then spread over the
# whole table, one per host, which is what a query for one package across the fleet has to
# read on a real catalog (package by package, they would sit together and flatter it).
#
# Each sets `catalog` to the file's path. The file is named after the migrations' contents and
# the recipe's text, so a change to either builds a new one (older ones are left alone: another
# worktree may be using them). opskit creates the schema (pkg-where on an empty catalog exits
# 1: nothing found).

# The scan and the hosts, common to every recipe.
_synthetic_hosts_sql() {
  local now=$1
  cat <<SQL
INSERT INTO scans (id, collector, method, target, started_at, finished_at)
  VALUES (1, 'bench', 'synthetic', 'all', $now, $now);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $hosts)
INSERT INTO hosts (id, name, short_name, fqdn, first_seen, last_seen, last_scan_id)
  SELECT i, printf('host-%05d', i), printf('host-%05d', i), printf('host-%05d.bench.example', i),
         $now, $now, 1 FROM n;
SQL
}

_synthetic_standard_sql() {
  local now=$1
  cat <<SQL
INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, last_scan_id)
  SELECT h.id, 'system', f.name, f.value, $now, $now, 1, 1 FROM hosts h,
    (SELECT 'os' AS name, '"Debian GNU/Linux 12 (bookworm)"' AS value
     UNION ALL SELECT 'os_id', '"debian"' UNION ALL SELECT 'os_version', '"12"'
     UNION ALL SELECT 'kernel', '"6.1.0-26-amd64"' UNION ALL SELECT 'arch', '"x86_64"'
     UNION ALL SELECT 'cpu_model', '"AMD EPYC 7763 64-Core Processor"' UNION ALL SELECT 'cpu_count', '16'
     UNION ALL SELECT 'memory_bytes', '68719476736' UNION ALL SELECT 'hw_vendor', '"Dell Inc."'
     UNION ALL SELECT 'hw_product', '"PowerEdge R650"' UNION ALL SELECT 'boot_time', '1700000000') f;
WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 3)
INSERT INTO host_interfaces (host_id, name, mac, mtu, oper_state, speed_mbps, first_seen, last_seen, current, last_scan_id)
  SELECT h.id, 'eth' || j, printf('02:00:%02x:%02x:00:%02x', h.id / 256, h.id % 256, j), 1500, 'up', 10000,
         $now, $now, 1, 1 FROM hosts h, k;
INSERT INTO host_addresses (host_id, interface, address, family, prefix_len, first_seen, last_seen, current, last_scan_id)
  SELECT host_id, name, printf('10.%d.%d.%d', substr(name, 4), host_id / 256, host_id % 256), 4, 16, $now, $now, 1, 1
    FROM host_interfaces
  UNION ALL
  SELECT host_id, name, printf('2001:db8:%x:%x::%x', substr(name, 4), host_id, host_id), 6, 64, $now, $now, 1, 1
    FROM host_interfaces;
WITH RECURSIVE p(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM p WHERE j < $packages - 1)
INSERT INTO package_names (name) SELECT 'openssl' UNION ALL SELECT printf('pkg-%04d', j) FROM p;
INSERT INTO host_packages (host_id, manager, name_id, epoch, version, release, arch, install_time,
                           first_seen, last_seen, current, last_scan_id)
  SELECT h.id, 'dpkg', p.id, '', printf('%d.%d.%d', p.id % 7, p.id % 13, h.id % 3), '1+deb12u1', 'amd64',
         $now - p.id * 60, $now, $now, 1, 1
    FROM hosts h CROSS JOIN package_names p;
-- Access switches 1..N (one per 40 hosts), core switches 100001 and 100002.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ($hosts + 39) / 40)
INSERT INTO devices (id, address, sys_name, base_mac, lldp_chassis_id, role, first_seen, last_seen, last_scan_id)
  SELECT i, printf('10.250.%d.%d:161', i / 256, i % 256), printf('acc-%04d', i),
         printf('02:fe:00:00:%02x:%02x', i / 256, i % 256), printf('02:fe:00:00:%02x:%02x', i / 256, i % 256),
         'switch', $now, $now, 1 FROM n
  UNION ALL SELECT 100000 + c, printf('10.251.0.%d:161', c), printf('core-%d', c),
         printf('02:fd:00:00:00:%02x', c), printf('02:fd:00:00:00:%02x', c), 'switch', $now, $now, 1
    FROM (SELECT 1 AS c UNION ALL SELECT 2);
WITH RECURSIVE p(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM p WHERE j < 48)
INSERT INTO device_ports (device_id, if_index, bridge_port, name, oper_status, speed_mbps, mac,
                          first_seen, last_seen, current, last_scan_id)
  SELECT d.id, j, j, 'ge-0/0/' || j, 'up', CASE WHEN j > 46 THEN 100000 ELSE 10000 END,
         printf('02:fe:01:%02x:%02x:%02x', d.id / 256, d.id % 256, j), $now, $now, 1, 1
    FROM devices d, p WHERE d.id < 100000
  UNION ALL
  SELECT c.id, a.id, a.id, 'et-0/0/' || a.id, 'up', 100000,
         printf('02:fd:%02x:%02x:%02x:00', c.id - 100000, a.id / 256, a.id % 256), $now, $now, 1, 1
    FROM devices c, devices a WHERE c.id > 100000 AND a.id < 100000;
INSERT INTO neighbors (device_id, local_if_index, protocol, chassis_id, port_id, sys_name,
                       first_seen, last_seen, current, last_scan_id)
  SELECT a.id, 46 + c.id - 100000, 'lldp', c.lldp_chassis_id, 'et-0/0/' || a.id, c.sys_name, $now, $now, 1, 1
    FROM devices a, devices c WHERE a.id < 100000 AND c.id > 100000
  UNION ALL
  SELECT c.id, a.id, 'lldp', a.lldp_chassis_id, 'ge-0/0/' || (46 + c.id - 100000), a.sys_name, $now, $now, 1, 1
    FROM devices a, devices c WHERE a.id < 100000 AND c.id > 100000;
INSERT INTO fdb_entries (device_id, mac, vlan, if_index, bridge_port, status, first_seen, last_seen, current, last_scan_id)
  SELECT (i.host_id - 1) / 40 + 1, i.mac, 10, (i.host_id - 1) % 40 + 1, (i.host_id - 1) % 40 + 1, 'learned',
         $now, $now, 1, 1 FROM host_interfaces i WHERE i.name = 'eth0'
  UNION ALL
  SELECT c.id, i.mac, 10, (i.host_id - 1) / 40 + 1, (i.host_id - 1) / 40 + 1, 'learned', $now, $now, 1, 1
    FROM devices c, host_interfaces i WHERE c.id > 100000 AND i.name = 'eth0'
  UNION ALL
  SELECT a.id, c.base_mac, 10, 46 + c.id - 100000, 46 + c.id - 100000, 'learned', $now, $now, 1, 1
    FROM devices a, devices c WHERE a.id < 100000 AND c.id > 100000;
SQL
}

_synthetic_facts_sql() {
  local now=$1
  cat <<SQL
CREATE TEMP TABLE pick (name TEXT, k INTEGER, value TEXT);
INSERT INTO pick VALUES
  ('kernel', 0, '"5.10.0-28-amd64"'), ('kernel', 1, '"6.1.0-26-amd64"'),
  ('kernel', 2, '"6.1.0-13-amd64"'), ('kernel', 3, '"5.15.0-91-generic"'),
  ('kernel', 4, '"6.8.0-45-generic"'), ('kernel', 5, '"5.14.0-427.el9.x86_64"'),
  ('kernel', 6, '"6.12.9-amd64"'), ('kernel', 7, '"4.19.0-26-amd64"'),
  ('os_version', 0, '"11"'), ('os_version', 1, '"12"'), ('os_version', 2, '"22.04"'),
  ('os_version', 3, '"9.4"'),
  ('os_id', 0, '"debian"'), ('os_id', 1, '"debian"'), ('os_id', 2, '"ubuntu"'), ('os_id', 3, '"rocky"'),
  ('memory_bytes', 0, '4294967296'), ('memory_bytes', 1, '8589934592'),
  ('memory_bytes', 2, '17179869184'), ('memory_bytes', 3, '34359738368'),
  ('memory_bytes', 4, '68719476736'), ('memory_bytes', 5, '137438953472'),
  ('memory_bytes', 6, '274877906944'),
  ('bios_version', 0, '"2.17.1"'), ('bios_version', 1, '"2.19.1"'), ('bios_version', 2, '"2.21.2"');
INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, last_scan_id)
  SELECT h.id, 'system', p.name, p.value, $now, $now, 1, 1 FROM hosts h JOIN pick p
   ON p.k = h.id % CASE p.name WHEN 'kernel' THEN 8 WHEN 'memory_bytes' THEN 7
                               WHEN 'bios_version' THEN 3 ELSE 4 END;
INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, last_scan_id)
  SELECT h.id, 'system', f.name, f.value, $now, $now, 1, 1 FROM hosts h,
    (SELECT 'arch' AS name, '"x86_64"' AS value
     UNION ALL SELECT 'cpu_model', '"AMD EPYC 7763 64-Core Processor"'
     UNION ALL SELECT 'hw_vendor', '"Dell Inc."' UNION ALL SELECT 'hw_product', '"PowerEdge R640"'
     UNION ALL SELECT 'virtualization', '"vm"') f;
INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, last_scan_id)
  SELECT id, 'system', 'cpu_count', 2 << (id % 6), $now, $now, 1, 1 FROM hosts;
INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, last_scan_id)
  SELECT id, 'system', 'boot_time', $now - (id % 60) * 86400 - 3600, $now, $now, 1, 1 FROM hosts;
INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, last_scan_id)
  SELECT id, 'custom', 'docker',
         printf('{"ServerVersion":"%d.0.%d","Containers":%d}', 20 + id % 8, id % 10, id % 50),
         $now, $now, 1, 1 FROM hosts;
-- The kernel each host ran before, until eight days ago.
INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, last_scan_id)
  SELECT id, 'system', 'kernel', '"5.10.0-27-amd64"', $now - 30 * 86400, $now - 8 * 86400, 0, 1
    FROM hosts;
SQL
}

_synthetic_drift_sql() {
  local now=$1
  cat <<SQL
WITH RECURSIVE p(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM p WHERE j < $packages - 1)
INSERT INTO package_names (name) SELECT 'openssl' UNION ALL SELECT printf('pkg-%04d', j) FROM p;
INSERT INTO package_names (name) VALUES ('extra-tool');
-- host-00001 is the golden host: every package at its standard version x.y.2.
INSERT INTO host_packages (host_id, manager, name_id, epoch, version, release, arch, install_time,
                           first_seen, last_seen, current, last_scan_id)
  SELECT h.id, 'dpkg', p.id, '',
         printf('%d.%d.%d', p.id % 7, p.id % 13,
                CASE WHEN h.id > 1 AND (h.id * 31 + p.id) % 997 = 0 THEN 1 ELSE 2 END),
         '1+deb12u1', 'amd64', $now - p.id * 60, $now, $now, 1, 1
    FROM hosts h CROSS JOIN package_names p
   WHERE p.name != 'extra-tool' AND NOT (h.id > 1 AND (h.id * 17 + p.id) % 1999 = 0);
INSERT INTO host_packages (host_id, manager, name_id, epoch, version, release, arch, install_time,
                           first_seen, last_seen, current, last_scan_id)
  SELECT h.id, 'dpkg', (SELECT id FROM package_names WHERE name = 'extra-tool'), '', '1.0', '1',
         'amd64', $now, $now, $now, 1, 1 FROM hosts h WHERE h.id % 500 = 0;
SQL
}

# synthetic_catalog RECIPE: sets `catalog` to the cached catalog of RECIPE (standard, drift, facts),
# building it first when it is not there.
synthetic_catalog() {
  local recipe=$1 prefix
  case $recipe in
    standard) prefix=catalog ;;
    drift) prefix=drift ;;
    facts) prefix=facts ;;
    *) echo "synthetic_catalog: unknown recipe $recipe" >&2; return 2 ;;
  esac
  local key
  key=$( { cat src/catalog/migrations/*.sql; declare -f _synthetic_hosts_sql "_synthetic_${recipe}_sql"; } \
         | sha256sum | cut -c1-12)
  catalog=$work/$prefix-${hosts}x${packages}-$key.db
  [ -s "$catalog" ] && return 0

  local probe=$work/probe-$recipe.db
  rm -f "$probe"* "$catalog".tmp*
  "$bin/pkg-where" --catalog "$probe" none >/dev/null 2>&1 || true
  [ -s "$probe" ] || { echo "pkg-where did not create the schema in $probe" >&2; return 1; }
  echo "building the synthetic '$recipe' catalog of $hosts hosts x $packages packages (once; cached in $work)" >&2
  cp "$probe" "$catalog.tmp"
  rm -f "$probe"*
  local now
  now=$(date +%s)
  {
    printf '%s\n' 'PRAGMA journal_mode = WAL;' 'PRAGMA synchronous = OFF;' \
      'PRAGMA cache_size = -1000000;' 'BEGIN;'
    _synthetic_hosts_sql "$now"
    "_synthetic_${recipe}_sql" "$now"
    printf '%s\n' 'COMMIT;' 'PRAGMA wal_checkpoint(TRUNCATE);' 'ANALYZE;'
  } | sqlite3 "$catalog.tmp" >/dev/null
  mv "$catalog.tmp" "$catalog"
  rm -f "$catalog.tmp-wal" "$catalog.tmp-shm"
}
