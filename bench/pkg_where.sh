#!/usr/bin/env bash
# Benchmark of pkg-where --drift against what a user would otherwise run, the sqlite3 shell on
# the same catalog:
#   --drift --expectations FILE   (20 packages expected on every host)  vs  sqlite3 comparing
#                                  versions as strings (exact expectations, so that is the same)
#   --drift --expect-from HOST    (every package of every host vs a golden host)  vs  sqlite3
#                                  joining the fleet with the golden host's rows
# on a synthetic catalog of 10,000 dpkg hosts x 1,000 packages (built once, cached) where the
# fleet is mostly in line, as a real one is: ~0.1% of the rows behind, ~0.05% missing, a few
# hosts with an extra package. Prints medians and ratios. Target (issue 4): under 1 s.
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

cargo build --release --locked -q --bin pkg-where
bin=$PWD/target/release
[ -d "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/release

# The synthetic fleet with drift (built once, cached in $work).
# shellcheck source=bench/lib/synthetic_catalog.sh
. bench/lib/synthetic_catalog.sh
synthetic_catalog drift
export OPSKIT_CATALOG=$catalog
echo "catalog: $catalog ($(du -h "$catalog" | cut -f1))" >&2

# 20 expectations on every host, at the versions the golden host has.
expected=$work/expected.toml
: > "$expected"
for j in $(seq 1 20); do
  printf '[[expect]]\npackage = "pkg-%04d"\nversion = ">=%d.%d.2-1+deb12u1"\nhosts = ["host-*"]\n\n' \
    "$j" $(((j + 1) % 7)) $(((j + 1) % 13)) >> "$expected"
done

# What a user would write for the sqlite3 shell: exact versions compared as strings (right for
# this fleet, wrong in general: sqlite3 knows nothing of dpkg's order).
file_sql="WITH want(name, version) AS (VALUES $(for j in $(seq 1 20); do
    printf "('pkg-%04d', '%d.%d.2'), " "$j" $(((j + 1) % 7)) $(((j + 1) % 13)); done | sed 's/, $//')),
  w AS (SELECT n.id AS nid, want.name, want.version FROM want JOIN package_names n ON n.name = want.name),
  have AS MATERIALIZED (SELECT p.host_id, p.name_id, p.version, p.release
                        FROM w JOIN host_packages p ON p.name_id = w.nid AND p.current = 1)
SELECT h.name, w.name, coalesce(have.version || '-' || have.release, 'missing')
  FROM hosts h CROSS JOIN w LEFT JOIN have ON have.host_id = h.id AND have.name_id = w.nid
 WHERE have.host_id IS NULL OR have.version < w.version;"
golden_sql="WITH g AS MATERIALIZED (SELECT name_id, arch, epoch, version, release FROM host_packages
                  WHERE host_id = 1 AND current = 1)
SELECT h.name, n.name, p.version || '-' || p.release, coalesce(g.version || '-' || g.release, 'extra')
  FROM host_packages p JOIN hosts h ON h.id = p.host_id JOIN package_names n ON n.id = p.name_id
  LEFT JOIN g ON g.name_id = p.name_id AND g.arch = p.arch
 WHERE p.current = 1 AND p.host_id != 1
   AND (g.name_id IS NULL OR g.version != p.version OR g.release != p.release OR g.epoch != p.epoch)
UNION ALL
SELECT h.name, n.name, 'missing', ''
  FROM (SELECT h.id AS host_id, g.name_id, g.arch FROM hosts h, g WHERE h.id != 1
        EXCEPT SELECT host_id, name_id, arch FROM host_packages WHERE current = 1) m
  JOIN hosts h ON h.id = m.host_id JOIN package_names n ON n.id = m.name_id;"

# Sanity: both sides find the same drift.
a=$("$bin/pkg-where" --drift --expectations "$expected" | wc -l || true)
b=$(sqlite3 "$catalog" "$file_sql" | wc -l)
echo "expectations: pkg-where $a rows, sqlite3 $b rows" >&2
[ "$a" = "$b" ] || { echo "pkg-where and sqlite3 disagree on --expectations" >&2; exit 1; }
a=$("$bin/pkg-where" --drift --expect-from host-00001 | wc -l || true)
b=$(sqlite3 "$catalog" "$golden_sql" | wc -l)
echo "expect-from: pkg-where $a rows, sqlite3 $b rows" >&2
[ "$a" = "$b" ] || { echo "pkg-where and sqlite3 disagree on --expect-from" >&2; exit 1; }

json=$work/results
mkdir -p "$json"
# --drift exits 1 when it finds drift, which this fleet has: -i lets hyperfine accept that.
hyperfine -i --warmup 1 --runs 10 --export-json "$json/drift-file.json" \
  -n pkg-where "$bin/pkg-where --drift --expectations $expected > /dev/null" \
  -n sqlite3 "sqlite3 $catalog \"$file_sql\" > /dev/null" >&2
hyperfine -i --warmup 1 --runs 5 --export-json "$json/drift-golden.json" \
  -n pkg-where "$bin/pkg-where --drift --expect-from host-00001 > /dev/null" \
  -n sqlite3 "sqlite3 $catalog \"$golden_sql\" > /dev/null" >&2

python3 - "$json" <<'PY'
import json, sys, os
d = sys.argv[1]
def medians(name):
    r = json.load(open(os.path.join(d, name)))["results"]
    return [(x["command"], x["median"] * 1000) for x in r]
print(f"{'benchmark':<26} {'opskit ms':>10} {'sqlite3 ms':>10} {'ratio':>8}  target")
# The issue's target is for --drift against an expectations file; --expect-from compares every
# package of every host (10 million rows here) and has none.
for file, label, target in [("drift-file.json", "--drift --expectations", "< 1000 ms"),
                            ("drift-golden.json", "--drift --expect-from", "-")]:
    (a, ta), (b, tb) = medians(file)
    print(f"{label:<26} {ta:>10.1f} {tb:>10.1f} {tb / ta:>7.1f}x  {target}")
PY
