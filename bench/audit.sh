#!/usr/bin/env bash
# Benchmark of the audit trail against auditd's own tools, in one run:
#
# 1. Parse and summarise a log shaped like a busy server's (bench/lib/audit_log.py: mostly
#    SYSCALL/EXECVE/PATH/PROCTITLE, file writes, sudo, logins and failed logins mixed in;
#    OPSKIT_BENCH_AUDIT_MB, default 1024 = 1 GB):
#      who-did --input LOG --summary     vs  aureport --summary --input LOG
#                                        vs  ausearch -i --input LOG > /dev/null
#    after checking that who-did and aureport count the same events. Median wall time of
#    OPSKIT_BENCH_RUNS runs (default 3; aureport, the slowest, runs once unless
#    OPSKIT_BENCH_AUREPORT_RUNS says more), and each tool's peak memory (GNU time).
#    Target (issue 15): who-did at least 5x faster than aureport. aureport's time grows faster
#    than the log (it keeps lists it searches on every event): on 1 GB it can run for an hour,
#    so it is stopped after OPSKIT_BENCH_AUREPORT_LIMIT seconds (default 1800) and reported as
#    "more than" that.
# 2. `who-did --report daily` on a catalog of 10 million events from 1,000 hosts over 30 days
#    (OPSKIT_BENCH_AUDIT_EVENTS), built with SQL. Target: under 1 s.
# 3. scan-hosts on the 50-host fleet of bench/scan.sh with audit logs: a rescan with
#    --no-audit, a rescan whose logs did not grow, and a rescan after each host's log grew by
#    OPSKIT_BENCH_AUDIT_GROWTH events (default 10,000). Target: under 20% added wall time.
#    Needs root (sshd in namespaces); skipped otherwise, or with OPSKIT_BENCH_AUDIT_SCAN=0.
# OPSKIT_BENCH_AUDIT_PARTS (default "1 2 3") runs some of the parts.
set -euo pipefail
cd "$(dirname "$0")/.."
parts=${OPSKIT_BENCH_AUDIT_PARTS:-1 2 3}
part() { [[ " $parts " == *" $1 "* ]]; }
limit=${OPSKIT_BENCH_AUREPORT_LIMIT:-1800}

base=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}
work=$base/audit
mkdir -p "$work"
runs=${OPSKIT_BENCH_RUNS:-3}
aureport_runs=${OPSKIT_BENCH_AUREPORT_RUNS:-1}
megabytes=${OPSKIT_BENCH_AUDIT_MB:-1024}
events=${OPSKIT_BENCH_AUDIT_EVENTS:-10000000}
growth=${OPSKIT_BENCH_AUDIT_GROWTH:-10000}

need=()
[ -x /usr/bin/time ] || need+=(time)
command -v aureport >/dev/null || need+=(auditd)
command -v sqlite3 >/dev/null || need+=(sqlite3)
if ((${#need[@]})); then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --locked -q
bin=${CARGO_TARGET_DIR:-$PWD/target}/release
unset OPSKIT_CONFIG
export XDG_CONFIG_HOME=$work/config

# Runs "$@" $2 times under GNU time; prints "wall rss_kb" of the median run by wall time.
measure() {
  local name=$1 n=$2
  shift 2
  : > "$work/$name.times"
  for _ in $(seq 1 "$n"); do
    /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err" \
      || { echo "$name failed or was stopped:" >&2; tail -5 "$work/$name.err" >&2; return 1; }
    tail -1 "$work/$name.time" >> "$work/$name.times"
  done
  sort -n "$work/$name.times" | sed -n "$(( (n + 1) / 2 ))p"
}

r_ours="0 0" r_aureport="0 0" r_ausearch="0 0" ours=0
report_events=0 r_report="0 0" report_rows=0 scan_line=""

# 1. Parsing.
if part 1; then
log=$work/busy-$megabytes.log
if [ ! -s "$log" ]; then
  echo "writing a ${megabytes} MB audit log..." >&2
  python3 bench/lib/audit_log.py "$megabytes" "$log" > /dev/null
fi
ours=$("$bin/who-did" --input "$log" --summary --json | python3 -c '
import json, sys
print(sum(json.loads(l)["events"] for l in sys.stdin))')
r_ours=$(measure who-did "$runs" "$bin/who-did" --input "$log" --summary)
r_ausearch=$(measure ausearch "$runs" ausearch -i --input "$log")
if r_aureport=$(measure aureport "$aureport_runs" timeout "$limit" aureport --summary --input "$log"); then
  theirs=$(sed -n 's/^Number of events: //p' "$work/aureport.out")
  [ "$ours" = "$theirs" ] || { echo "who-did counts $ours events, aureport $theirs" >&2; exit 1; }
else
  r_aureport="$limit+ 0"
fi
fi

# 2. The daily report over a big catalog.
if part 2; then
catalog=$work/report-$events.db
if [ ! -s "$catalog" ]; then
  echo "building a catalog of $events events from 1,000 hosts..." >&2
  rm -f "$catalog"*
  "$bin/who-did" --catalog "$catalog" --kind login > /dev/null 2>&1 || true   # creates the schema
  now=$(date +%s)
  sqlite3 "$catalog" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO scans (id, collector, method, target, started_at, finished_at)
  VALUES (1, 'scan-hosts', 'ssh', 'bench', $now, $now);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO hosts (id, name, short_name, first_seen, last_seen, last_scan_id)
  SELECT i, 'host-' || i, 'host-' || i, $now - 2592000, $now, 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $events)
INSERT INTO audit_events (host_id, time_ms, serial, node, kind, actor, actor_uid, acting_as,
    acting_as_uid, what, exe, addr, terminal, session, success, key, record_types, scan_id)
  SELECT 1 + i % 1000,
         ($now - 2592000) * 1000 + i * (2592000000 / $events),
         i, '',
         CASE WHEN i % 100 < 85 THEN 'exec' WHEN i % 100 < 93 THEN 'write'
              WHEN i % 100 < 97 THEN 'sudo' WHEN i % 100 < 98 THEN 'login'
              WHEN i % 100 < 99 THEN 'failed-login' ELSE 'account' END,
         'user' || (i % 50), 1000 + i % 50,
         CASE WHEN i % 3 = 0 THEN 'root' ELSE 'user' || (i % 50) END,
         CASE WHEN i % 3 = 0 THEN 0 ELSE 1000 + i % 50 END,
         '/usr/bin/prog' || (i % 40) || ' -v /srv/data/' || (i % 100000),
         '/usr/bin/prog' || (i % 40),
         CASE WHEN i % 100 = 98 THEN '198.51.100.' || (i % 250) END,
         'pts/0', i % 1000,
         CASE WHEN i % 100 = 98 THEN 0 ELSE 1 END,
         CASE WHEN i % 100 BETWEEN 85 AND 92 THEN 'opskit-identity' END,
         'SYSCALL,EXECVE,CWD,PATH,PROCTITLE', 1
    FROM n;
COMMIT;
SQL
fi
report_events=$(sqlite3 "$catalog" "SELECT count(*) FROM audit_events")
r_report=$(measure report "$runs" "$bin/who-did" --catalog "$catalog" --report daily)
report_rows=$(wc -l < "$work/report.out")
fi

# 3. The scan cost.
if part 3 && [ "$(id -u)" -eq 0 ] && [ "${OPSKIT_BENCH_AUDIT_SCAN:-1}" != 0 ]; then
  scan_line=$(bash bench/lib/audit_scan.sh "$work/scan" "$runs" "$growth" "$bin")
fi

python3 - "$megabytes" "$ours" "$r_ours" "$r_aureport" "$r_ausearch" "$report_events" "$r_report" "$report_rows" "$scan_line" <<'PY'
import sys
mb, events = sys.argv[1], int(sys.argv[2])
def parse(t):
    wall, rss = t.split()
    return float(wall), int(rss) / 1024
stopped = sys.argv[4].split()[0].endswith("+")
ours, aureport, ausearch = (parse(t.replace("+", "")) for t in sys.argv[3:6])
if ours[0] > 0:
    more = "more than " if stopped else ""
    print(f"1. a {mb} MB busy-server audit log, {events:,} events (median wall time, peak memory)")
    print(f"   {'who-did --input --summary':32} {ours[0]:8.2f} s {ours[1]:8.1f} MB")
    print(f"   {'aureport --summary --input':32} {more}{aureport[0]:8.2f} s {aureport[1]:8.1f} MB{' (stopped)' if stopped else ''}")
    print(f"   {'ausearch -i --input':32} {ausearch[0]:8.2f} s {ausearch[1]:8.1f} MB")
    print(f"   aureport / who-did: {more}{aureport[0] / ours[0]:.1f}x (target >= 5x); ausearch / who-did: {ausearch[0] / ours[0]:.1f}x")
else:
    print("1. skipped")
report = parse(sys.argv[7])
if report[0] > 0:
    print(f"2. who-did --report daily over {int(sys.argv[6]):,} events, 1,000 hosts: {report[0]:.2f} s, {report[1]:.1f} MB, {sys.argv[8]} rows (target < 1 s)")
else:
    print("2. skipped")
if sys.argv[9]:
    print("3. " + sys.argv[9])
else:
    print("3. scan cost: skipped (needs root; OPSKIT_BENCH_AUDIT_SCAN=0 skips it)")
PY
