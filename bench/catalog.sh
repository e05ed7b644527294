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

# The synthetic catalog, shared with bench/whatis.sh (built once, cached in $work).
# shellcheck source=bench/lib/synthetic_catalog.sh
. bench/lib/synthetic_catalog.sh
synthetic_catalog standard
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
