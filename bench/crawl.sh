#!/usr/bin/env bash
# Benchmark of crawl-switches and which-switch against what a user would otherwise run:
#   50 simulated switches with 2,000 forwarding entries each, served by the tests' own SNMP
#   responder (examples/snmp_responder.rs, tests/it/support/responder.rs):
#     crawl-switches (all of them, concurrently)  vs  net-snmp snmpbulkwalk reading the same
#     tables, as a sequential loop and with xargs -P 16; and one switch alone, both ways.
#   which-switch on a catalog of 1,000,000 forwarding rows (median, target <= 10 ms).
# Prints times, ratios, and the client's and the responder's CPU for each. Targets: one switch
# no slower than snmpbulkwalk; the 50-switch crawl >= 10x faster than the sequential loop and
# >= 1.5x faster than the parallel one.
#
# Why not snmpsim: it costs about 1 ms of CPU per request whoever asks (46-52 s per pass over
# the 50 switches), so against it every client measured the simulator. The responder answers
# the same recordings the same way (a test compares snmpbulkwalk's output against snmpsim's for
# every fixture) for microseconds per request; the tests keep snmpsim where its exact behaviour
# matters (SNMPv3, real recordings end to end).
set -euo pipefail
cd "$(dirname "$0")/.."

work=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}/crawl
mkdir -p "$work"
switches=50 entries=2000

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v snmpbulkwalk >/dev/null || need+=(snmp)
if ((${#need[@]})); then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}"
fi
cargo build --release --locked -q --bins --example snmp_responder
bin=${CARGO_TARGET_DIR:-$PWD/target}/release

# 50 recordings: system group, 48 ports, bridge ports, and 2,000 learned MACs each.
data=$work/data
# shellcheck source=bench/lib/switch_recordings.sh
. bench/lib/switch_recordings.sh
switch_recordings "$data" "$switches" "$entries"

# One responder process serves every switch, one thread per loopback address.
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
addresses=()
for i in $(seq 1 $switches); do addresses+=("127.0.3.$i"); done
"$bin/examples/snmp_responder" "$data" "$port" "${addresses[@]}" > "$work/responder.log" 2>&1 &
responder=$!
trap 'kill "$responder" 2>/dev/null' EXIT
until grep -qx ready "$work/responder.log" 2>/dev/null; do
  kill -0 "$responder" || { cat "$work/responder.log"; exit 1; }
  sleep 0.1
done
# The responder's CPU time so far, in clock ticks (utime + stime, /proc/PID/stat fields 14-15).
sim_ticks() {
  local f
  f=$(sed 's/^.*) //' "/proc/$responder/stat")
  # shellcheck disable=SC2086
  set -- $f
  echo $((${12} + ${13}))
}
hz=$(getconf CLK_TCK)

config=$work/config.toml
{ echo '[snmp]'; echo 'timeout = 10'; echo
  for i in $(seq 1 $switches); do printf '[[switch]]\naddress = "127.0.3.%d:%d"\ncommunity = "sw%d"\n\n' "$i" "$port" "$i"; done
} > "$config"
chmod 600 "$config"
one=$work/one.toml
{ echo '[snmp]'; echo 'timeout = 10'; printf '[[switch]]\naddress = "127.0.3.1:%d"\ncommunity = "sw1"\n' "$port"; } > "$one"
chmod 600 "$one"

# The tables crawl-switches reads, walked with snmpbulkwalk the way a script would. Both sides
# ask for 25 rows per GETBULK (-Cr25; crawl-switches' default max_repetitions is 25,
# snmpbulkwalk's own default is 10, which would make it slower: 2.5 times the round trips).
tables="1.3.6.1.2.1.1 1.3.6.1.2.1.2.2.1.2 1.3.6.1.2.1.2.2.1.3 1.3.6.1.2.1.2.2.1.5 1.3.6.1.2.1.2.2.1.6 1.3.6.1.2.1.2.2.1.8 1.3.6.1.2.1.31.1.1.1.1 1.3.6.1.2.1.31.1.1.1.15 1.3.6.1.2.1.31.1.1.1.18 1.3.6.1.2.1.17.1.1 1.3.6.1.2.1.17.1.4.1.2 1.3.6.1.2.1.17.7.1.4.5.1.1 1.3.6.1.2.1.17.7.1.4.2.1.3 1.3.6.1.2.1.17.7.1.2.2.1.3 1.3.6.1.2.1.17.7.1.2.2.1.2 1.3.6.1.2.1.17.4.3.1.3 1.3.6.1.2.1.17.4.3.1.2 1.2.840.10006.300.43.1.2.1.1.13 1.0.8802.1.1.2.1.3.1 1.0.8802.1.1.2.1.3.2 1.0.8802.1.1.2.1.4.1.1 1.0.8802.1.1.2.1.4.2.1.3 1.3.6.1.4.1.9.9.23.1.2.1.1 1.3.6.1.2.1.4.35.1.4 1.3.6.1.2.1.4.22.1.2"
cat > "$work/walk-one.sh" <<SH
#!/bin/sh
# snmpbulkwalk every table of one switch: \$1 = switch number.
for t in $tables; do snmpbulkwalk -v2c -Cr25 -c sw\$1 -On -t 10 127.0.3.\$1:$port \$t; done
SH
chmod +x "$work/walk-one.sh"
# Sanity: both read the same 2,000 entries of switch 1.
n=$("$work/walk-one.sh" 1 | grep -c '^\.1\.3\.6\.1\.2\.1\.17\.4\.3\.1\.2\.')
[ "$n" = "$entries" ] || { echo "snmpbulkwalk saw $n entries, expected $entries" >&2; exit 1; }

export OPSKIT_CATALOG=$work/crawl.db
rm -f "$OPSKIT_CATALOG"*
"$bin/crawl-switches" --config "$config"
[ "$(sqlite3 "$OPSKIT_CATALOG" 'SELECT count(*) FROM fdb_entries WHERE current = 1')" = "$((switches * entries))" ]

json=$work/results
mkdir -p "$json"
runs=${OPSKIT_BENCH_RUNS:-3}
hyperfine --warmup 1 --runs 5 --export-json "$json/one.json" \
  -n crawl-switches "$bin/crawl-switches --config $one" \
  -n snmpbulkwalk "$work/walk-one.sh 1 > /dev/null" >&2
hyperfine --runs "$runs" --export-json "$json/all.json" \
  -n crawl-switches "$bin/crawl-switches --config $config" \
  -n 'snmpbulkwalk xargs -P 16' "seq 1 $switches | xargs -P 16 -n 1 $work/walk-one.sh > /dev/null" >&2
# The sequential loop takes minutes: fewer runs.
hyperfine --runs "$(( runs > 2 ? 2 : runs ))" --export-json "$json/loop.json" \
  -n 'snmpbulkwalk loop' "for i in \$(seq 1 $switches); do $work/walk-one.sh \$i; done > /dev/null" >&2

# Where the time goes: one more run of each, with the client's CPU time (/usr/bin/time) and the
# responder's (from /proc), to tell a client-bound result from a responder-bound one.
: > "$json/cpu.tsv"
measure() {
  local name=$1; shift
  local before after
  before=$(sim_ticks)
  /usr/bin/time -f '%e %U %S' -o "$json/time.txt" sh -c "$*" > /dev/null
  after=$(sim_ticks)
  read -r wall user sys < "$json/time.txt"
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v t=$((after - before)) -v hz="$hz" \
    'BEGIN { printf "%s\t%s\t%.2f\t%.2f\n", n, w, u + s, t / hz }' >> "$json/cpu.tsv"
}
measure 'one switch: crawl-switches' "$bin/crawl-switches --config $one"
measure 'one switch: snmpbulkwalk' "$work/walk-one.sh 1"
measure '50: crawl-switches' "$bin/crawl-switches --config $config"
measure '50: snmpbulkwalk xargs -P 16' "seq 1 $switches | xargs -P 16 -n 1 $work/walk-one.sh"
measure '50: snmpbulkwalk loop' "for i in \$(seq 1 $switches); do $work/walk-one.sh \$i; done"

# which-switch on 1,000,000 forwarding rows: 500 switches x 2,000 entries, built with sqlite3
# on the schema opskit creates.
big=$work/fdb-1m-$(cat src/catalog/migrations/*.sql | sha256sum | cut -c1-12).db
if [ ! -s "$big" ]; then
  rm -f "$big"*
  "$bin/which-switch" --catalog "$big" --no-dns 00:00:00:00:00:01 >/dev/null 2>&1 || true
  now=$(date +%s)
  sqlite3 "$big" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO scans (id, collector, method, target, started_at, finished_at) VALUES (1, 'bench', 'synthetic', 'all', $now, $now);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO devices (id, address, sys_name, base_mac, role, first_seen, last_seen, last_scan_id)
  SELECT i, printf('10.9.%d.%d:161', i / 256, i % 256), printf('sw%d', i), printf('02:00:00:00:%02x:%02x', i / 256, i % 256), 'switch', $now, $now, 1 FROM n;
WITH RECURSIVE p(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM p WHERE j < 48)
INSERT INTO device_ports (device_id, if_index, bridge_port, name, oper_status, speed_mbps, mac, first_seen, last_seen, current, last_scan_id)
  SELECT d.id, j, j, 'ge' || j, 'up', 1000, printf('02:01:%02x:%02x:00:%02x', d.id / 256, d.id % 256, j), $now, $now, 1, 1 FROM devices d, p;
WITH RECURSIVE e(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM e WHERE k < 1999)
INSERT INTO fdb_entries (device_id, mac, vlan, if_index, bridge_port, status, first_seen, last_seen, current, last_scan_id)
  SELECT d.id, printf('00:1b:%02x:%02x:%02x:01', d.id % 256, k / 256, k % 256), 10, k % 48 + 1, k % 48 + 1, 'learned', $now, $now, 1, 1
  FROM devices d, e;
COMMIT;
ANALYZE;
SQL
fi
hyperfine -N --warmup 5 --runs 50 --export-json "$json/which.json" \
  -n which-switch "$bin/which-switch --catalog $big --no-dns 00:1b:7b:03:e8:01" >&2

python3 - "$json" "$(nproc)" <<'PY'
import json, os, sys
d, cores = sys.argv[1], sys.argv[2]
def med(f):
    return {r["command"]: r["median"] for r in json.load(open(os.path.join(d, f)))["results"]}
one, every, which = med("one.json"), {**med("all.json"), **med("loop.json")}, med("which.json")
load = open("/proc/loadavg").read().split()[:3]
print(f"one responder process on {cores} cores; max-repetitions 25 on both sides; medians; "
      f"load average now {' '.join(load)}")
print(f"one switch, every table:   crawl-switches {one['crawl-switches']:.2f} s, snmpbulkwalk {one['snmpbulkwalk']:.2f} s, ratio {one['snmpbulkwalk'] / one['crawl-switches']:.2f}x (target >= 1x)")
c = every["crawl-switches"]
print(f"50 switches:               crawl-switches {c:.2f} s")
print(f"  vs snmpbulkwalk loop     {every['snmpbulkwalk loop']:.2f} s, ratio {every['snmpbulkwalk loop'] / c:.1f}x (target >= 10x)")
print(f"  vs xargs -P 16           {every['snmpbulkwalk xargs -P 16']:.2f} s, ratio {every['snmpbulkwalk xargs -P 16'] / c:.2f}x (target >= 1.5x)")
print(f"which-switch, 1M rows:     {which['which-switch'] * 1000:.1f} ms median (target <= 10 ms)")
print()
print(f"{'one run each':34} {'wall s':>7} {'client CPU s':>13} {'responder CPU s':>16}")
for line in open(os.path.join(d, "cpu.tsv")):
    name, wall, client, sim = line.rstrip("\n").split("\t")
    print(f"{name:34} {float(wall):7.2f} {float(client):13.2f} {float(sim):16.2f}")
PY
