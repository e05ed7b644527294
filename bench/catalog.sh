#!/usr/bin/env bash
# Benchmark of the catalog and the local scanner, each against what a user would otherwise run:
#   whatis-host <host>      vs  the sqlite3 shell running the same queries on the same file
#   pkg-where <pkg>         vs  the sqlite3 shell (10,000 hosts have the package)
#   scan-hosts --local      vs  ansible localhost -m setup, then -m package_facts
# on a synthetic catalog of 10,000 hosts x 1,000 packages x 4 interfaces (built once, cached).
# Prints medians and ratios. Targets (issue 2): whatis-host <= 10 ms, pkg-where <= 150 ms,
# scan-hosts --local >= 5x faster than Ansible.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}
mkdir -p "$work"
hosts=10000 packages=1000

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v sqlite3 >/dev/null || need+=(sqlite3)
if ((${#need[@]})); then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}"
fi
if [ ! -x "$work/venv/bin/ansible" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q ansible-core
fi

cargo build --release --locked -q
bin=$PWD/target/release
[ -d "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/release

# opskit creates the schema (exit 1: nothing found in an empty catalog); the cached synthetic
# catalog is named after the migrations' contents, so any schema change rebuilds it.
rm -f "$work"/probe.db*
"$bin/pkg-where" --catalog "$work/probe.db" none >/dev/null 2>&1 || true
schema=$(cat src/catalog/migrations/*.sql | sha256sum | cut -c1-12)
catalog=$work/catalog-${hosts}x${packages}-$schema.db
if [ ! -s "$catalog" ]; then
  rm -f "$catalog".tmp*
  echo "building a synthetic catalog of $hosts hosts x $packages packages (once; cached in $work)" >&2
  cp "$work/probe.db" "$catalog.tmp"
  now=$(date +%s)
  sqlite3 "$catalog.tmp" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
BEGIN;
INSERT INTO scans (id, collector, method, target, started_at, finished_at)
  VALUES (1, 'bench', 'synthetic', 'all', $now, $now);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $hosts)
INSERT INTO hosts (id, name, short_name, fqdn, first_seen, last_seen, last_scan_id)
  SELECT i, printf('host-%05d', i), printf('host-%05d', i), printf('host-%05d.bench.example', i),
         $now, $now, 1 FROM n;
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
    FROM hosts h, package_names p;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
ANALYZE;
SQL
  mv "$catalog.tmp" "$catalog"
  rm -f "$catalog.tmp-wal" "$catalog.tmp-shm"
fi
export OPSKIT_CATALOG=$catalog
echo "catalog: $catalog ($(du -h "$catalog" | cut -f1))" >&2

# The same answer whatis-host gives, as a user would hand-write it for the sqlite3 shell.
whatis_sql="SELECT * FROM hosts WHERE lower(name) = 'host-05000' OR lower(fqdn) = 'host-05000' OR short_name = 'host-05000';
SELECT kind, name, value FROM host_facts WHERE host_id = 5000 AND current = 1;
SELECT i.name, i.mac, i.mtu, i.oper_state, a.address || '/' || a.prefix_len FROM host_interfaces i
  LEFT JOIN host_addresses a ON a.host_id = i.host_id AND a.interface = i.name AND a.current = 1
  WHERE i.host_id = 5000 AND i.current = 1;
SELECT manager, count(*) FROM host_packages WHERE host_id = 5000 AND current = 1 GROUP BY manager;"
pkg_sql="SELECT h.name, n.name, p.version || '-' || p.release, p.arch, p.manager, p.install_time, p.last_seen
  FROM package_names n JOIN host_packages p ON p.name_id = n.id AND p.current = 1
  JOIN hosts h ON h.id = p.host_id WHERE n.name = 'openssl' ORDER BY h.name;"

# Sanity: both sides give the same number of rows.
[ "$("$bin/pkg-where" openssl | wc -l)" = "$(sqlite3 "$catalog" "$pkg_sql" | wc -l)" ] || {
  echo "pkg-where and sqlite3 disagree" >&2; exit 1; }

scan_catalog=$work/scan.db
rm -f "$scan_catalog"*
"$bin/scan-hosts" --local --catalog "$scan_catalog"
ansible=(env ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False "$work/venv/bin/ansible" localhost -c local)

json=$work/results
mkdir -p "$json"
hyperfine -N --warmup 5 --runs 50 --export-json "$json/whatis.json" \
  -n whatis-host "$bin/whatis-host --no-dns host-05000" \
  -n sqlite3 "sqlite3 $catalog \"$whatis_sql\"" >&2
hyperfine --warmup 2 --runs 20 --export-json "$json/pkg.json" \
  -n pkg-where "$bin/pkg-where openssl > /dev/null" \
  -n sqlite3 "sqlite3 $catalog \"$pkg_sql\" > /dev/null" >&2
hyperfine --warmup 1 --runs 5 --export-json "$json/scan.json" \
  -n scan-hosts "$bin/scan-hosts --local --catalog $scan_catalog" \
  -n ansible "${ansible[*]} -m setup > /dev/null && ${ansible[*]} -m package_facts > /dev/null" >&2

python3 - "$json" <<'PY'
import json, sys, os
d = sys.argv[1]
def medians(name):
    r = json.load(open(os.path.join(d, name)))["results"]
    return [(x["command"], x["median"] * 1000) for x in r]
print(f"{'benchmark':<12} {'opskit ms':>10} {'other ms':>10} {'ratio':>8}  target")
for file, label, target in [("whatis.json", "whatis-host", "<= 10 ms"),
                            ("pkg.json", "pkg-where", "<= 150 ms"),
                            ("scan.json", "scan-hosts", ">= 5x faster than ansible")]:
    (a, ta), (b, tb) = medians(file)
    print(f"{label:<12} {ta:>10.1f} {tb:>10.1f} {tb / ta:>7.1f}x  {target} (other: {b})")
PY
