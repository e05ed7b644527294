#!/usr/bin/env bash
# Before/after benchmark of two builds of opskit: the restructuring of the library (layers, one
# collector loop, async DNS on one runtime, typed rows) must not change speed. The scripts beside
# this one compare opskit with other tools (sqlite3, ansible, dig, snmpbulkwalk, the aws CLI), and
# some of those baselines take many minutes; this one times only opskit's command of each of
# them, OLD_BIN_DIR's and NEW_BIN_DIR's, on the same inputs, set up as those scripts do:
#
#   pkg_where.sh  pkg-where --drift --expectations FILE, --drift --expect-from host-00001, on
#                 the synthetic fleet with drift (bench/lib/synthetic_catalog.sh, cached)
#   catalog.sh    whatis-host --no-dns host-05000, pkg-where openssl (the standard synthetic
#                 catalog), scan-hosts --local (a rescan into a scratch catalog per side)
#   whatis.sh     whatis-ip on its 10,000 addresses, against its dnsmasq (text and --json) and
#                 with --no-dns; one address, both ways
#   crawl.sh      crawl-switches of one and of its 50 snmpsim switches (2,000 MACs each; a
#                 rescan into a catalog per side), which-switch on its 1,000,000-row catalog
#   sshec2.sh     sshec2 --print web-7 against moto with 200 other instances (no ssh runs)
#   scan.sh       scan-hosts over its 50 sshd hosts (UTS and mount namespaces, stock dotfiles),
#                 into a fresh catalog per run
#
# One hyperfine call per benchmark, `-n old … -n new …`: hyperfine runs all of old's runs, then
# all of new's (it does not alternate them), so a change of load between the two blocks shows
# as a ratio: run OLD OLD first, to see the spread that identical binaries give on this machine,
# and NEW OLD as well, to tell a difference of the builds from one of the position.
# Then a few more runs of each side under GNU time for peak memory (max RSS of the largest
# process, median of OPSKIT_BENCH_RSS_RUNS, default 3). Before timing, each side runs once and
# its line count and exit status are compared: a build that does less work is not faster.
#
# Prints a table: medians, new/old, min-max of each side, CPU (user+sys) new/old, peak RSS, and
# "within noise" where the two min-max ranges overlap. Results (hyperfine's JSON, the table) are
# kept in $OPSKIT_BENCH_DIR/before-after/ (default /var/tmp/opskit-bench). Every server it
# starts (dnsmasq, snmpsim, moto, 50 sshd) listens on loopback and is stopped at exit.
#
# Usage: bench/before_after.sh OLD_BIN_DIR NEW_BIN_DIR
#   OPSKIT_BENCH_ONLY=REGEX   only the benchmarks whose name matches (servers of the others are
#                             not started), e.g. to rerun one alone
#   OPSKIT_BENCH_RUNS_FACTOR  multiplies every --runs (default 1)
# No cargo: it runs binaries already built (hard-linked first, so a rebuild meanwhile changes
# nothing). Needs root (namespaces and sshd for the fleet, snmpsim's --process-user, apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
  echo "usage: $0 OLD_BIN_DIR NEW_BIN_DIR" >&2
  exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (sshd in namespaces, snmpsim, apt-get)" >&2; exit 2; }
tools=(scan-hosts crawl-switches which-switch pkg-where whatis-ip whatis-host sshec2)
for d in "$1" "$2"; do
  for t in "${tools[@]}"; do
    [ -x "$d/$t" ] || { echo "$d/$t: no such executable" >&2; exit 2; }
  done
done
only=${OPSKIT_BENCH_ONLY:-.}
factor=${OPSKIT_BENCH_RUNS_FACTOR:-1}
rss_runs=${OPSKIT_BENCH_RSS_RUNS:-3}

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v jq >/dev/null || need+=(jq)
command -v dig >/dev/null || need+=(bind9-dnsutils)
[ -x /usr/bin/time ] || need+=(time)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v unshare >/dev/null || need+=(util-linux)
PATH=$PATH:/usr/sbin:/sbin command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
dnsmasq=$(PATH=$PATH:/usr/sbin:/sbin command -v dnsmasq)
# The test virtualenv of scripts/test.sh, bench/crawl.sh and bench/sshec2.sh: snmpsim, moto, aws.
venv=${OPSKIT_TEST_VENV:-/var/tmp/opskit-test-venv}
if [ ! -x "$venv/bin/snmpsim-command-responder" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q snmpsim==1.2.2 pysnmp==7.1.30 pysmi==2.0.0 cryptography
fi
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ]; then
  "$venv/bin/pip" install -q 'moto[server]==5.2.5' awscli==1.46.3
fi

work=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}
mkdir -p "$work/crawl"
tmp=$(mktemp -d "$work/before-after.XXXXXX")
pids=() # every server started; each sshd listener's connections are its children
stop_servers() {
  local p
  for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_servers; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The binaries as they are now (hard links survive a rebuild that replaces them).
for side in old new; do
  src=$1; [ "$side" = new ] && src=$2
  mkdir -p "$tmp/$side"
  for t in "${tools[@]}"; do cp -l "$src/$t" "$tmp/$side/$t" 2>/dev/null || cp "$src/$t" "$tmp/$side/$t"; done
done

# Nothing of the caller's configuration reaches the tools.
unset OPSKIT_CONFIG OPSKIT_CATALOG OPSKIT_SNMP_COMMUNITY XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME \
  RUST_LOG RUST_BACKTRACE AWS_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
mkdir -p "$tmp/home/.ssh" "$tmp/config"
chmod 700 "$tmp/home/.ssh"
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/config

results=$work/before-after/$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"
: > "$results/index.tsv"
started=$(date +%s)
{
  echo "OLD: $1 ($(stat -c %y "$1/pkg-where" | cut -d. -f1))"
  echo "NEW: $2 ($(stat -c %y "$2/pkg-where" | cut -d. -f1))"
  echo "$(nproc) cores, $(hyperfine --version); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$results/header.txt"

free_port() { # udp|tcp
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}
wanted() { local n; for n; do [[ $n =~ $only ]] && return 0; done; return 1; }
median_rss() { sort -n "$tmp/rss.$1" | sed -n "$(((rss_runs + 1) / 2))p"; } # old|new: kB

# bench NAME WARMUP RUNS [HYPERFINE_OPTION…] -- COMMAND
# Times COMMAND with OLD's and NEW's binaries in one hyperfine call. In COMMAND, %B is the side's
# binary directory and %S the side's name (old or new), for a scratch file of its own. One
# `--prepare CMD` option is also run before each sanity and memory run.
n_bench=0
bench() {
  local name=$1 warmup=$2 runs=$(($3 * factor)) opts=() prepare=: cmd side k i
  shift 3
  while [ "$1" != -- ]; do
    [ "$1" = --prepare ] && prepare=$2
    opts+=("$1"); shift
  done
  cmd=$2
  wanted "$name" || return 0
  declare -A c
  for side in old new; do c[$side]=${cmd//%B/$tmp/$side}; c[$side]=${c[$side]//%S/$side}; done
  i=$n_bench; n_bench=$((n_bench + 1))
  echo "== $name: ${c[new]}" >&2

  # Sanity: both sides do the same work (lines of output, exit status).
  local check=same lines=() rc
  for side in old new; do
    sh -c "$prepare"
    rc=0; sh -c "${c[$side]}" > "$tmp/out.$side" 2>/dev/null || rc=$?
    lines+=("$(wc -l < "$tmp/out.$side") lines, exit $rc")
  done
  echo "   old: ${lines[0]}; new: ${lines[1]}" >&2
  [ "${lines[0]}" = "${lines[1]}" ] || check="DIFFERS"

  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  hyperfine --style basic -i --warmup "$warmup" --runs "$runs" "${opts[@]}" \
    --export-json "$results/$i.json" -n old "${c[old]}" -n new "${c[new]}" >&2

  # Peak memory, the sides alternating: median of $rss_runs runs (kB).
  rm -f "$tmp/rss.old" "$tmp/rss.new"
  for k in $(seq "$rss_runs"); do
    for side in old new; do
      sh -c "$prepare"
      /usr/bin/time -f %M -o "$tmp/rss" sh -c "${c[$side]}" > /dev/null 2>&1 || true
      tail -1 "$tmp/rss" >> "$tmp/rss.$side"
    done
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$name" "$load" "$(median_rss old)" "$(median_rss new)" "$check" \
    >> "$results/index.tsv"
}

# --- the synthetic catalogs (bench/lib/synthetic_catalog.sh; built once, cached in $work) -------
# shellcheck disable=SC2034 # hosts, packages, bin: read by synthetic_catalog
hosts=10000 packages=1000 bin=$tmp/old
# shellcheck source=bench/lib/synthetic_catalog.sh
. bench/lib/synthetic_catalog.sh
synthetic_catalog standard
standard=$catalog # set by synthetic_catalog
synthetic_catalog drift
drift=$catalog

# --- pkg_where.sh: drift, against 20 expectations and against a golden host -------------------
expected=$tmp/expected.toml
for j in $(seq 1 20); do
  printf '[[expect]]\npackage = "pkg-%04d"\nversion = ">=%d.%d.2-1+deb12u1"\nhosts = ["host-*"]\n\n' \
    "$j" $(((j + 1) % 7)) $(((j + 1) % 13))
done > "$expected"
# --drift exits 1 when it finds drift, which this fleet has: bench passes -i to hyperfine.
bench "pkg-where --drift --expectations" 1 10 -N -- "%B/pkg-where --catalog $drift --drift --expectations $expected"
bench "pkg-where --drift --expect-from" 1 6 -N -- "%B/pkg-where --catalog $drift --drift --expect-from host-00001"

# --- catalog.sh: whatis-host, pkg-where, scan-hosts --local ------------------------------------
bench "whatis-host --no-dns" 5 40 -N -- "%B/whatis-host --catalog $standard --no-dns host-05000"
bench "pkg-where openssl" 2 20 -N -- "%B/pkg-where --catalog $standard openssl"
# A rescan, as bench/catalog.sh times it: each side's scratch catalog has had a first scan.
if wanted "scan-hosts --local"; then
  for side in old new; do "$tmp/$side/scan-hosts" --local --catalog "$tmp/local-$side.db" > /dev/null; done
fi
bench "scan-hosts --local" 2 15 -N -- "%B/scan-hosts --local --catalog $tmp/local-%S.db"

# --- whatis.sh: 10,000 addresses (500 unknown: exit 1), one dnsmasq naming the known ones -------
addrs=$tmp/addresses
# shellcheck source=bench/lib/sshd_fleet.sh
. bench/lib/sshd_fleet.sh
# shellcheck source=bench/lib/addresses.sh
. bench/lib/addresses.sh
bench_addresses "$addrs" 10000 "$hosts" "$tmp/dns-hosts"
single=$(awk 'NR >= 5000 && /^10\.0\./ { print; exit }' "$addrs")
bench "whatis-ip --no-dns, 10,000" 1 10 -- "%B/whatis-ip --no-dns --catalog $standard < $addrs"
bench "whatis-ip --no-dns, one" 5 40 -N -- "%B/whatis-ip --no-dns --catalog $standard $single"

if wanted "whatis-ip, 10,000" "whatis-ip --json, 10,000" "whatis-ip, one"; then
  dns_port=
  for _attempt in 1 2 3 4 5; do
    port=$(free_port udp)
    "$dnsmasq" --keep-in-foreground --port="$port" --listen-address=127.0.0.1 --bind-interfaces \
      --no-resolv --no-hosts --addn-hosts="$tmp/dns-hosts" --pid-file= --user="$(id -un)" \
      --group="$(id -gn)" --conf-file=/dev/null --log-facility=- \
      --local=/bench.example/ --local=/10.in-addr.arpa/ --local=/8.b.d.0.1.0.0.2.ip6.arpa/ \
      2> "$tmp/dnsmasq.log" &
    pids+=($!)
    for _ in $(seq 50); do
      [ "$(dig +short +time=1 +tries=1 -x 10.0.0.1 @127.0.0.1 -p "$port" 2>/dev/null)" = host-00001.bench.example. ] \
        && { dns_port=$port; break; }
      sleep 0.1
    done
    [ -n "$dns_port" ] && break
    stop_servers
  done
  [ -n "$dns_port" ] || { echo "dnsmasq did not start:" >&2; cat "$tmp/dnsmasq.log" >&2; exit 1; }
  server=127.0.0.1:$dns_port
  # Sanity: every known address gets its PTR name, confirmed, on both sides.
  for side in old new; do
    "$tmp/$side/whatis-ip" --dns-server "$server" --catalog "$standard" --json < "$addrs" \
      > "$tmp/whatis.json" 2>/dev/null || true
    got=$(jq -s '[.[] | select(.ptr != null and any(.ptr[]; .confirmed))] | length' "$tmp/whatis.json")
    [ "$got" = 9500 ] || { echo "$side whatis-ip confirmed $got names, not 9500" >&2; exit 1; }
  done
  echo "dnsmasq on $server: both sides confirm the 9,500 known names" >&2
  bench "whatis-ip, 10,000" 1 8 -- "%B/whatis-ip --dns-server $server --catalog $standard < $addrs"
  bench "whatis-ip --json, 10,000" 1 8 -- "%B/whatis-ip --dns-server $server --catalog $standard --json < $addrs"
  bench "whatis-ip, one" 5 40 -N -- "%B/whatis-ip --dns-server $server --catalog $standard $single"
  stop_servers
fi

# --- crawl.sh: 50 snmpsim switches x 2,000 MACs; which-switch on 1,000,000 forwarding rows -------
switches=50 entries=2000
data=$work/crawl/data # the recordings of bench/crawl.sh, shared with it
# shellcheck source=bench/lib/switch_recordings.sh
. bench/lib/switch_recordings.sh
if wanted "crawl-switches, one" "crawl-switches, 50"; then
  switch_recordings "$data" "$switches" "$entries"
fi
if wanted "crawl-switches, one" "crawl-switches, 50"; then
  # One snmpsim process per core, the switches dealt round-robin (see bench/crawl.sh).
  sims=${OPSKIT_BENCH_SIMS:-$(nproc)}
  port=$(free_port udp)
  for k in $(seq 0 $((sims - 1))); do
    dir=$tmp/sim$k
    mkdir -p "$dir/data"
    endpoints=()
    for i in $(seq $((k + 1)) "$sims" $switches); do
      ln "$data/sw$i.snmprec" "$dir/data/" 2>/dev/null || cp "$data/sw$i.snmprec" "$dir/data/"
      endpoints+=("--agent-udpv4-endpoint=127.0.3.$i:$port")
    done
    "$venv/bin/snmpsim-command-responder" --data-dir="$dir/data" "${endpoints[@]}" \
      --process-user=root --process-group=root --cache-dir="$dir/cache" > "$dir/log" 2>&1 &
    pids+=($!)
    echo "${#endpoints[@]}" > "$dir/count"
  done
  for k in $(seq 0 $((sims - 1))); do
    until [ "$(grep -c 'Listening at UDP' "$tmp/sim$k/log" 2>/dev/null)" = "$(cat "$tmp/sim$k/count")" ]; do
      kill -0 "${pids[$k]}" || { cat "$tmp/sim$k/log" >&2; exit 1; }
      sleep 0.5
    done
  done
  # The first datagram to a loopback address other than 127.0.0.1 can be lost here (see
  # scripts/compare-json.sh): one junk datagram per address.
  for i in $(seq 1 $switches); do printf x > "/dev/udp/127.0.3.$i/$port" 2>/dev/null || true; done
  config=$tmp/switches.toml one=$tmp/one-switch.toml
  { echo '[snmp]'; echo 'timeout = 10'; echo
    for i in $(seq 1 $switches); do printf '[[switch]]\naddress = "127.0.3.%d:%d"\ncommunity = "sw%d"\n\n' "$i" "$port" "$i"; done
  } > "$config"
  { echo '[snmp]'; echo 'timeout = 10'; printf '[[switch]]\naddress = "127.0.3.1:%d"\ncommunity = "sw1"\n' "$port"; } > "$one"
  chmod 600 "$config" "$one"
  # A rescan, as bench/crawl.sh times it: each side's catalog has had a first crawl of all 50.
  for side in old new; do
    "$tmp/$side/crawl-switches" --config "$config" --catalog "$tmp/crawl-$side.db" > /dev/null
    got=$(sqlite3 "$tmp/crawl-$side.db" 'SELECT count(*) FROM fdb_entries WHERE current = 1')
    [ "$got" = $((switches * entries)) ] || { echo "$side crawl-switches stored $got entries, not $((switches * entries))" >&2; exit 1; }
  done
  bench "crawl-switches, one" 1 8 -N -- "%B/crawl-switches --config $one --catalog $tmp/crawl-%S.db"
  bench "crawl-switches, 50" 1 4 -N -- "%B/crawl-switches --config $config --catalog $tmp/crawl-%S.db"
  stop_servers
fi
if wanted "which-switch, 1M rows"; then
  # The catalog of bench/crawl.sh, shared with it: 500 switches x 2,000 entries.
  big=$work/crawl/fdb-1m-$(cat src/catalog/migrations/*.sql | sha256sum | cut -c1-12).db
  if [ ! -s "$big" ]; then
    rm -f "$big"*
    "$tmp/old/which-switch" --catalog "$big" --no-dns 00:00:00:00:00:01 >/dev/null 2>&1 || true
    now=$(date +%s)
    sqlite3 "$big" > /dev/null <<SQL
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
  bench "which-switch, 1M rows" 5 40 -N -- "%B/which-switch --catalog $big --no-dns 00:1b:7b:03:e8:01"
fi

# --- sshec2.sh: moto with 200 filler instances and web-7 ------------------------------------------
if wanted "sshec2 --print"; then
  moto_port=
  for _attempt in 1 2 3 4 5; do
    port=$(free_port tcp)
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$tmp/moto.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
      (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && { moto_port=$port; break; }
      sleep 0.1
    done
    [ -n "$moto_port" ] && break
    stop_servers
  done
  [ -n "$moto_port" ] || { echo "moto_server did not start" >&2; exit 1; }
  export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  aws=$venv/bin/aws
  "$aws" ec2 run-instances --image-id ami-12c6146b --count 200 --query 'length(Instances)' \
    --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=filler}]' > /dev/null
  "$aws" ec2 run-instances --image-id ami-12c6146b --count 1 --query 'length(Instances)' \
    --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=web-7}]' > /dev/null
  want=$("$aws" ec2 describe-instances --filters Name=tag:Name,Values=web-7 \
    --query 'Reservations[].Instances[].PublicIpAddress' --output text)
  for side in old new; do
    got=$("$tmp/$side/sshec2" --print web-7)
    [ "$got" = "$want" ] || { echo "$side sshec2 printed $got, the aws CLI $want" >&2; exit 1; }
  done
  bench "sshec2 --print" 3 30 -N -- "%B/sshec2 --print web-7"
  stop_servers
fi

# --- scan.sh: 50 sshd hosts, each in its own UTS and mount namespace -----------------------------
if wanted "scan-hosts, 50 sshd"; then
  fleet=50
  # One port free on all 50 addresses, so the hosts file needs no per-host port.
  port=$(fleet_port "$fleet")
  # Root's home on the hosts: Debian's stock dotfiles, not this machine's (see bench/scan.sh).
  stock_root_home "$tmp/root-home"
  key=$HOME/.ssh/id_ed25519
  ssh-keygen -q -t ed25519 -N '' -C bench -f "$key"
  : > "$HOME/.ssh/known_hosts"
  hostsfile=$tmp/fleet.txt
  : > "$hostsfile"
  sshd_fleet "$tmp/fleet" "$fleet" "$port" "$key" "$tmp/root-home" "$HOME/.ssh/known_hosts"
  for i in $(seq 1 $fleet); do
    echo "root@127.0.1.$i:$port" >> "$hostsfile"
  done
  # Sanity: every host lands in each side's catalog.
  for side in old new; do
    rm -f "$tmp/fleet-$side.db"*
    "$tmp/$side/scan-hosts" --hosts-file "$hostsfile" --catalog "$tmp/fleet-$side.db" > /dev/null 2>&1 || true
    got=$(sqlite3 "$tmp/fleet-$side.db" 'SELECT count(*) FROM hosts')
    [ "$got" = $fleet ] || { echo "$side scan-hosts stored $got hosts, not $fleet" >&2; exit 1; }
  done
  echo "$fleet sshd hosts on port $port, $(dpkg-query -W | wc -l) dpkg packages each" >&2
  # A fresh catalog for every run, as bench/scan.sh has. Where this was written, runs of either
  # build took about 1.85 s or about 2.75 s (a third of them; TCP retransmissions on loopback
  # rose meanwhile): the median moves with the mix, the ranges tell more.
  bench "scan-hosts, 50 sshd" 2 10 --prepare "rm -f $tmp/fleet-old.db* $tmp/fleet-new.db*" -- \
    "%B/scan-hosts --hosts-file $hostsfile --catalog $tmp/fleet-%S.db"
  stop_servers
fi

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - started)) s in all" >> "$results/header.txt"
python3 - "$results" <<'PY' | tee "$results/table.txt"
import json, os, sys
d = sys.argv[1]
print(open(os.path.join(d, "header.txt")).read().rstrip())
def ms(s):
    return f"{s * 1000:.1f}" if s < 10 else f"{s * 1000:.0f}"
def mb(kb):
    return f"{int(kb) / 1024:.1f}" if kb else "-"
head = (f"{'benchmark':34} {'old ms':>8} {'new ms':>8} {'new/old':>7}  {'old min-max':>15}  "
        f"{'new min-max':>15} {'cpu n/o':>7} {'old MB':>6} {'new MB':>6} {'load':>5}  verdict")
print(head)
print("-" * len(head))
for line in open(os.path.join(d, "index.tsv")):
    i, name, load, rss_old, rss_new, check = line.rstrip("\n").split("\t")
    r = {x["command"]: x for x in json.load(open(os.path.join(d, f"{i}.json")))["results"]}
    o, n = r["old"], r["new"]
    ratio = n["median"] / o["median"]
    cpu = (n["user"] + n["system"]) / (o["user"] + o["system"])
    if n["min"] <= o["max"] and o["min"] <= n["max"]:
        verdict = "within noise"
    elif ratio > 1.15:
        verdict = "SLOWER (> 1.15, ranges apart)"
    else:
        verdict = ("slower" if ratio > 1 else "faster") + " (ranges apart)"
    if check != "same":
        verdict += "; OUTPUT DIFFERS"
    print(f"{name:34} {ms(o['median']):>8} {ms(n['median']):>8} {ratio:>7.3f}  "
          f"{ms(o['min']) + '-' + ms(o['max']):>15}  {ms(n['min']) + '-' + ms(n['max']):>15} "
          f"{cpu:>7.3f} {mb(rss_old):>6} {mb(rss_new):>6} {load:>5}  {verdict}")
print()
print("medians of hyperfine's runs (old's runs, then new's); cpu n/o: mean user+sys, new/old;")
print("MB: max RSS of the largest process, median of the memory runs; load: 1-min load average")
print("when the benchmark started; within noise: the two min-max ranges overlap.")
PY
echo "results: $results" >&2
