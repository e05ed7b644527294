#!/usr/bin/env bash
# The PostgreSQL catalog beside the SQLite one, in one run, on the same data: the synthetic
# catalog of bench/catalog.sh (10,000 hosts x 4 interfaces x 1,000 packages: 10 million package
# rows; bench/lib/synthetic_catalog.sh) copied into a PostgreSQL server this script starts (its
# own data directory, port and socket under $OPSKIT_BENCH_DIR, stopped at the end) with
# catalog-copy, which is timed too. Then, each command on each backend, connection set-up
# included (every run is a new process, as at a shell):
#   whatis-host --no-dns host-05000, which-switch --no-dns MAC, whatis-ip --no-dns ADDRESS
#   pkg-where openssl (10,000 rows of 10 million), pkg-where --drift --expect-from host-00001
# and storing scans: 50 `scan-hosts --local` runs as 50 hosts (each in its own UTS namespace
# with its own name), one after another and 4 at once; hosts per second on each backend.
# Prints medians (hyperfine) and the ratio PostgreSQL / SQLite. Targets (issue 17): point
# queries within 2x of SQLite. Needs root (initdb as nobody, unshare); installs hyperfine,
# sqlite3 and postgresql when missing. OPSKIT_BENCH_RUNS runs of each (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

work=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}
mkdir -p "$work"
hosts=10000 packages=1000
runs=${OPSKIT_BENCH_RUNS:-20}
[ "$(id -u)" -eq 0 ] || { echo "bench/postgres.sh: run as root (initdb as nobody, unshare)" >&2; exit 2; }

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v sqlite3 >/dev/null || need+=(sqlite3)
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$pgbin" ] || need+=(postgresql)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

cargo build --release --locked -q
bin=$PWD/target/release
[ -d "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/release

# shellcheck source=bench/lib/synthetic_catalog.sh
. bench/lib/synthetic_catalog.sh
synthetic_catalog standard
sqlite=$catalog
echo "sqlite catalog: $sqlite ($(du -h "$sqlite" | cut -f1))" >&2

tmp=$(mktemp -d "$work/postgres.XXXXXX")
chown nobody "$tmp"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
cleanup() {
  as_nobody "$pgbin/pg_ctl" -D "$tmp/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_nobody "$pgbin/initdb" -D "$tmp/data" -U opskit -A trust >/dev/null
# Defaults but for memory: a server given a quarter of a small machine's RAM, as a DBA would.
as_nobody "$pgbin/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w start -o \
  "-p $port -k $tmp -c listen_addresses='' -c shared_buffers=1GB -c work_mem=64MB" >/dev/null
psql() { command psql -X -At -h "$tmp" -p "$port" -U opskit "$@"; }
psql -d postgres -c "CREATE DATABASE opskit" >/dev/null
pg="host=$tmp port=$port user=opskit dbname=opskit"

start=$(date +%s.%N)
"$bin/catalog-copy" "$sqlite" "$pg" > "$tmp/copy.out"
copy_s=$(python3 -c "import time; print(round(time.time() - $start, 1))")
rows=$(awk '{n += $2} END {print n}' "$tmp/copy.out")
echo "catalog-copy: $rows rows in $copy_s s; postgres database $(psql -d opskit -c "SELECT pg_size_pretty(pg_database_size('opskit'))")" >&2

# Sanity: the same answers from both.
for q in "whatis-host --no-dns host-05000 --json" "pkg-where openssl --json"; do
  # shellcheck disable=SC2086
  a=$("$bin"/$q --catalog "$sqlite" | md5sum) b=$(OPSKIT_CATALOG=$pg "$bin"/$q | md5sum)
  [ "$a" = "$b" ] || { echo "the backends disagree on $q" >&2; exit 1; }
done

json=$tmp/results
mkdir -p "$json"
bench() { # name, command (the catalog comes from OPSKIT_CATALOG)
  hyperfine -N -i --warmup 3 --runs "$runs" --export-json "$json/$1.json" \
    -n sqlite "env OPSKIT_CATALOG=$sqlite $2" -n postgres "env OPSKIT_CATALOG=$pg $2" >&2
}
bench whatis-host "$bin/whatis-host --no-dns host-05000"
bench which-switch "$bin/which-switch --no-dns 02:00:13:88:00:00"
bench whatis-ip "$bin/whatis-ip --no-dns 10.0.19.136"
bench pkg-where "$bin/pkg-where openssl"
runs=5 bench drift "$bin/pkg-where --drift --expect-from host-00001"

# Storing: 50 hosts, each its own name (a UTS namespace), this machine's facts and packages.
scan_one() { # catalog, host number
  OPSKIT_CATALOG=$1 unshare --uts sh -c "hostname bench-scan-$2 && exec $bin/scan-hosts --local"
}
store() { # catalog, collectors at once; prints hosts per second
  local t0 t1 c
  t0=$(date +%s.%N)
  for c in $(seq 1 "$2"); do
    (for i in $(seq "$c" "$2" 50); do scan_one "$1" "$i"; done) &
  done
  wait
  t1=$(date +%s.%N)
  python3 -c "print(round(50 / ($t1 - $t0), 1))"
}
rm -f "$tmp"/scan.db*
psql -d postgres -c "CREATE DATABASE scans" >/dev/null
pgscan="host=$tmp port=$port user=opskit dbname=scans"
scan_one "$tmp/scan.db" 0 && scan_one "$pgscan" 0   # schemas created outside the timing
s1=$(store "$tmp/scan.db" 1) p1=$(store "$pgscan" 1)
s4=$(store "$tmp/scan.db" 4) p4=$(store "$pgscan" 4)

python3 - "$json" "$s1" "$p1" "$s4" "$p4" <<'PY'
import json, sys, os
d, s1, p1, s4, p4 = sys.argv[1], *map(float, sys.argv[2:])
print(f"{'benchmark':<36} {'sqlite ms':>10} {'postgres ms':>12} {'pg/sqlite':>10}  target")
for name, label, target in [
        ("whatis-host", "whatis-host --no-dns NAME", "<= 2x"),
        ("which-switch", "which-switch --no-dns MAC", "<= 2x"),
        ("whatis-ip", "whatis-ip --no-dns ADDRESS", "<= 2x"),
        ("pkg-where", "pkg-where openssl (10 M rows)", "-"),
        ("drift", "pkg-where --drift --expect-from", "-")]:
    r = {x["command"]: x["median"] * 1000 for x in json.load(open(os.path.join(d, name + ".json")))["results"]}
    print(f"{label:<36} {r['sqlite']:>10.1f} {r['postgres']:>12.1f} {r['postgres'] / r['sqlite']:>9.2f}x  {target}")
print(f"{'storing 50 hosts, 1 collector':<36} {s1:>8.1f}/s {p1:>10.1f}/s {p1 / s1:>9.2f}x  hosts per second")
print(f"{'storing 50 hosts, 4 collectors':<36} {s4:>8.1f}/s {p4:>10.1f}/s {p4 / s4:>9.2f}x  hosts per second")
PY
