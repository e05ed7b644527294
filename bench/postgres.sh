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
# Point queries are timed a third way, through PgBouncer in session mode in front of the same
# server: a new process per question costs PostgreSQL a new server process with cold caches,
# which a pooler keeps warm (the set-up README recommends for people's machines).
# Prints medians (hyperfine) and the ratio PostgreSQL / SQLite. Targets (issue 17): point
# queries within 2x of SQLite. Needs root (initdb as nobody, unshare); installs hyperfine,
# sqlite3, postgresql and pgbouncer when missing. OPSKIT_BENCH_RUNS runs of each (default 20).
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
command -v pgbouncer >/dev/null || need+=(pgbouncer)
if ((${#need[@]})); then
  apt-get update -qq
  # The packages' own services must not start: this script starts its own.
  policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy=/usr/sbin/policy-rc.d
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  [ -z "$policy" ] || rm -f "$policy"
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
# The server's data directory is kept in $work, so that a second run skips the copies: each
# database's comment names the SQLite catalog it was copied from, and a database copied from
# another (an older recipe) is dropped and copied again.
cluster=$work/pg-cluster
chown nobody "$tmp"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
cleanup() {
  [ -f "$tmp/pgbouncer.pid" ] && kill "$(cat "$tmp/pgbouncer.pid")" 2>/dev/null || true
  as_nobody "$pgbin/pg_ctl" -D "$cluster" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ ! -f "$cluster/PG_VERSION" ]; then
  rm -rf "$cluster"
  mkdir -m 700 "$cluster"
  chown nobody "$cluster"
  as_nobody "$pgbin/initdb" -D "$cluster" -U opskit -A trust >/dev/null
fi
# Defaults but for memory: shared_buffers a quarter of the machine's RAM (at least 1 GB), the
# starting point PostgreSQL's documentation gives for a database server; the 100-million-row
# fleet's fleet-wide queries read a few GB of it.
shared_mb=$(awk '/^MemTotal:/ {m = int($2 / 1024 / 4); print (m < 1024 ? 1024 : m)}' /proc/meminfo)
as_nobody "$pgbin/pg_ctl" -D "$cluster" -l "$tmp/log" -w start -o \
  "-p $port -k $tmp -c listen_addresses='' -c shared_buffers=${shared_mb}MB -c work_mem=64MB" >/dev/null
psql() { command psql -X -At -h "$tmp" -p "$port" -U opskit "$@"; }
pg="host=$tmp port=$port user=opskit dbname=opskit"
copied_from() { # database: the SQLite catalog it was copied from, if it is complete
  psql -d postgres -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$1'"
}
# copy_catalog SQLITE DATABASE: copies into a fresh database named DATABASE_partial, renamed
# once complete (an interrupted copy is redone, never timed against); prints rows and seconds.
copy_catalog() {
  psql -d postgres -c "DROP DATABASE IF EXISTS $2_partial" -c "CREATE DATABASE $2_partial" >/dev/null
  local start copy_s
  start=$(date +%s.%N)
  "$bin/catalog-copy" "$1" "host=$tmp port=$port user=opskit dbname=$2_partial" > "$tmp/copy-$2.out"
  copy_s=$(python3 -c "import time; print(round(time.time() - $start, 1))")
  psql -d postgres -c "DROP DATABASE IF EXISTS $2" -c "ALTER DATABASE $2_partial RENAME TO $2" \
    -c "COMMENT ON DATABASE $2 IS '$(basename "$1")'" >/dev/null
  echo "catalog-copy into $2: $(awk '{n += $2} END {print n}' "$tmp/copy-$2.out") rows in $copy_s s" >&2
}
[ "$(copied_from opskit)" = "$(basename "$sqlite")" ] || copy_catalog "$sqlite" opskit
echo "postgres database: $(psql -d opskit -c "SELECT pg_size_pretty(pg_database_size('opskit'))")" >&2

# PgBouncer, session pooling, on a socket of its own beside the server's.
bouncer_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/pgbouncer.ini" <<INI
[databases]
opskit = host=$tmp port=$port dbname=opskit
[pgbouncer]
listen_addr =
unix_socket_dir = $tmp
listen_port = $bouncer_port
auth_type = trust
auth_file = $tmp/users.txt
pool_mode = session
logfile = $tmp/pgbouncer.log
pidfile = $tmp/pgbouncer.pid
ignore_startup_parameters = extra_float_digits,options
INI
echo '"opskit" ""' > "$tmp/users.txt"
chown nobody "$tmp"/pgbouncer.ini "$tmp/users.txt"
as_nobody pgbouncer -d "$tmp/pgbouncer.ini"
bouncer="host=$tmp port=$bouncer_port user=opskit dbname=opskit"

# The commands timed, each on both backends: they must answer the same, and not fail.
commands=(
  "whatis-host --no-dns host-05000"
  "which-switch --no-dns 02:00:13:88:00:00"
  "whatis-ip --no-dns 10.0.19.136"
  "pkg-where openssl"
  "pkg-where --drift --expect-from host-00001"
)
agree() { # sqlite catalog, postgres catalog, command: same output and status, not exit 2
  local a b
  # shellcheck disable=SC2086
  a=$(OPSKIT_CATALOG=$1 "$bin"/$3 | md5sum; echo "${PIPESTATUS[0]}")
  # shellcheck disable=SC2086
  b=$(OPSKIT_CATALOG=$2 "$bin"/$3 | md5sum; echo "${PIPESTATUS[0]}")
  [ "$a" = "$b" ] || { echo "the backends disagree on $3: $a / $b" >&2; exit 1; }
  case $a in *$'\n'2) echo "$3 fails (exit 2)" >&2; exit 1 ;; esac
}
for q in "${commands[@]}"; do
  agree "$sqlite" "$pg" "$q"
done

json=$tmp/results
mkdir -p "$json"
bench() { # name, command (the catalog comes from OPSKIT_CATALOG); -i: "nothing found" is 1
  hyperfine -N -i --warmup "${warm:-3}" --runs "$runs" --export-json "$json/$1.json" \
    -n sqlite "env 'OPSKIT_CATALOG=$sqlite' $2" -n postgres "env 'OPSKIT_CATALOG=$pg' $2" \
    ${3:+-n pgbouncer "env 'OPSKIT_CATALOG=$bouncer' $2"} >&2
}
bench whatis-host "$bin/whatis-host --no-dns host-05000" pooled
bench which-switch "$bin/which-switch --no-dns 02:00:13:88:00:00" pooled
bench whatis-ip "$bin/whatis-ip --no-dns 10.0.19.136" pooled
bench pkg-where "$bin/pkg-where openssl"
runs=3 warm=1 bench drift "$bin/pkg-where --drift --expect-from host-00001"

# The fleet of the second target: 100,000 hosts x 1,000 packages, 100 million package rows
# (the drift recipe of bench/lib/synthetic_catalog.sh: host-00001 the golden host, ~0.1% of the
# rows a version behind it, ~0.05% missing, every 500th host with an extra package), in SQLite
# and in a second database, `large`, of the same server. Built once and kept: about 10 GB of
# SQLite and 16 GB of PostgreSQL, and the first build takes an hour on two cores.
# OPSKIT_BENCH_LARGE=0 skips it. --expect-from on this fleet compares all 100 million rows
# with the golden host's and takes minutes on either backend: OPSKIT_BENCH_EXPECT_FROM=1 adds
# one timed run of it.
large=
if [ "${OPSKIT_BENCH_LARGE:-1}" = 1 ]; then
  small=$hosts
  hosts=100000
  synthetic_catalog drift
  hosts=$small
  large=$catalog
  echo "large sqlite catalog: $large ($(du -h "$large" | cut -f1))" >&2
  pglarge="host=$tmp port=$port user=opskit dbname=large"
  [ "$(copied_from large)" = "$(basename "$large")" ] || copy_catalog "$large" large
  echo "large postgres database: $(psql -d large -c "SELECT pg_size_pretty(pg_database_size('large'))")" >&2
  # What a site's expectations file holds: a few packages pinned to a minimum version, one
  # only on some hosts, one only for dpkg, and two that must not be installed anywhere.
  cat > "$tmp/expected.toml" <<'TOML'
[[expect]]
package = "openssl"
version = ">=1.1.2"

[[expect]]
package = "pkg-0100"
version = ">=3.10.2"

[[expect]]
package = "pkg-0200"
manager = "dpkg"

[[expect]]
package = "pkg-0300"
hosts = ["host-0*"]

[[expect]]
package = "extra-tool"
absent = true

[[expect]]
package = "telnetd"
absent = true
TOML
  for q in "pkg-where openssl" "pkg-where --drift --expectations $tmp/expected.toml"; do
    agree "$large" "$pglarge" "$q"
  done
  sqlite=$large pg=$pglarge runs=10 bench large-pkg-where "$bin/pkg-where openssl"
  sqlite=$large pg=$pglarge runs=10 bench large-drift "$bin/pkg-where --drift --expectations $tmp/expected.toml"
  if [ "${OPSKIT_BENCH_EXPECT_FROM:-}" = 1 ]; then
    sqlite=$large pg=$pglarge runs=1 warm=0 bench large-expect-from \
      "$bin/pkg-where --drift --expect-from host-00001"
  fi
fi

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
psql -d postgres -c "DROP DATABASE IF EXISTS scans" -c "CREATE DATABASE scans" >/dev/null
pgscan="host=$tmp port=$port user=opskit dbname=scans"
scan_one "$tmp/scan.db" 0 && scan_one "$pgscan" 0   # schemas created outside the timing
s1=$(store "$tmp/scan.db" 1) p1=$(store "$pgscan" 1)
s4=$(store "$tmp/scan.db" 4) p4=$(store "$pgscan" 4)

python3 - "$json" "$s1" "$p1" "$s4" "$p4" <<'PY'
import json, sys, os
d, s1, p1, s4, p4 = sys.argv[1], *map(float, sys.argv[2:])
def rows():
    yield ("whatis-host", "whatis-host --no-dns NAME", "<= 2x")
    yield ("which-switch", "which-switch --no-dns MAC", "<= 2x")
    yield ("whatis-ip", "whatis-ip --no-dns ADDRESS", "<= 2x")
    yield ("pkg-where", "pkg-where openssl (10 M rows)", "-")
    yield ("drift", "pkg-where --drift --expect-from", "-")
    if os.path.exists(os.path.join(d, "large-drift.json")):
        yield ("large-pkg-where", "pkg-where openssl (100 M rows)", "pg < 1 s")
        yield ("large-drift", "--drift (expectations, 100 M)", "pg < 3 s")
    if os.path.exists(os.path.join(d, "large-expect-from.json")):
        yield ("large-expect-from", "--drift --expect-from (100 M)", "-")
print(f"{'benchmark':<36} {'sqlite ms':>10} {'postgres ms':>12} {'pg/sqlite':>10} {'pgbouncer ms':>13} {'pgb/sqlite':>10}  target")
for name, label, target in rows():
    r = {x["command"]: x["median"] * 1000 for x in json.load(open(os.path.join(d, name + ".json")))["results"]}
    b = r.get("pgbouncer")
    pooled = f"{b:>13.1f} {b / r['sqlite']:>9.2f}x" if b else f"{'-':>13} {'-':>10}"
    print(f"{label:<36} {r['sqlite']:>10.1f} {r['postgres']:>12.1f} {r['postgres'] / r['sqlite']:>9.2f}x {pooled}  {target}")
print(f"{'storing 50 hosts, 1 collector':<36} {s1:>8.1f}/s {p1:>10.1f}/s {p1 / s1:>9.2f}x  hosts per second")
print(f"{'storing 50 hosts, 4 collectors':<36} {s4:>8.1f}/s {p4:>10.1f}/s {p4 / s4:>9.2f}x  hosts per second")
PY
