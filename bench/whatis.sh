#!/usr/bin/env bash
# Benchmark of whatis-ip against what a user would otherwise run, on one dnsmasq on loopback
# that gives every known input address a name, host-NNNNN.bench.example (PTR and forward):
#   whatis-ip < 10,000 addresses (text, --json)  vs  a shell loop of `dig +short -x`
#                                                vs  `host` in `xargs -P 16`
#   whatis-ip ADDRESS (one address)              vs  one `dig +short -x`, one `host`
# with the catalog of bench/catalog.sh (10,000 hosts x 4 interfaces, shared and cached by
# bench/lib/synthetic_catalog.sh). The addresses: eth0's IPv4 address of 9,000 hosts, eth0's
# IPv6 address of 500 others (every 20th line from the 10th) and 500 addresses nothing knows
# (10.99.x.y, every 20th line: NXDOMAIN, and whatis-ip warns "nothing known" and exits 1).
# whatis-ip asks two questions per named address (PTR, then A or AAAA of the name to confirm
# it) and joins the catalog; dig -x and host ask the PTR only. whatis-ip --no-dns (the catalog
# join alone) is timed too, and each bulk row shows dnsmasq's own CPU time per run: dnsmasq
# answers a PTR question by scanning all the names it holds, so with thousands of names the
# server can cost as much CPU as the client.
#
# Sizes: OPSKIT_BENCH_N addresses (default 10,000); the dig loop, one process after another,
# takes the first OPSKIT_BENCH_DIG_N of them (default 2,000): rates (addresses per second)
# compare runs of different sizes. OPSKIT_BENCH_RUNS runs of each (default 3), medians.
# Targets (issue 6): 10,000 addresses in under 3 s; one whatis-ip under 20 ms median when DNS
# answers locally. Root only to install hyperfine, dnsmasq-base, bind9-dnsutils, bind9-host or
# sqlite3 when missing: dnsmasq listens on a high port of 127.0.0.1 as the current user.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}
mkdir -p "$work"
hosts=10000 packages=1000
n=${OPSKIT_BENCH_N:-10000}
dig_n=${OPSKIT_BENCH_DIG_N:-$((n < 2000 ? n : 2000))}
runs=${OPSKIT_BENCH_RUNS:-3}
((n >= 1 && n <= hosts && dig_n >= 1 && dig_n <= n && runs >= 2)) || {
  echo "need 1 <= OPSKIT_BENCH_DIG_N <= OPSKIT_BENCH_N <= $hosts and OPSKIT_BENCH_RUNS >= 2" >&2
  exit 2
}

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v host >/dev/null || need+=(bind9-host)
if ((${#need[@]})); then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}"
fi
# dnsmasq-base installs it in /usr/sbin, which a user's PATH may lack.
dnsmasq=$(PATH=$PATH:/usr/sbin:/sbin command -v dnsmasq)

cargo build --release --locked -q
bin=$PWD/target/release
[ -d "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/release

# The catalog of bench/catalog.sh (built once, cached in $work).
# shellcheck source=bench/lib/synthetic_catalog.sh
. bench/lib/synthetic_catalog.sh
synthetic_catalog standard
echo "catalog: $catalog ($(du -h "$catalog" | cut -f1))" >&2

tmp=$(mktemp -d "$work/whatis.XXXXXX")
dns_pid=
cleanup() {
  if [ -n "$dns_pid" ]; then
    kill "$dns_pid" 2>/dev/null || true
    wait "$dns_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# No user configuration (a subnets file, a [dns] server) slips in.
export XDG_CONFIG_HOME=$tmp/config
unset OPSKIT_CONFIG OPSKIT_CATALOG

# The inputs, and a DNS name for each known one (PTR and forward record), as the catalog has
# it: only those, because dnsmasq answers a PTR question by scanning every name it holds (about
# 25 us per question with 2,000 names, 250 us with 20,000, on the machine this was written on).
addrs=$tmp/addresses dig_addrs=$tmp/addresses-dig
# shellcheck source=bench/lib/addresses.sh
. bench/lib/addresses.sh
bench_addresses "$addrs" "$n" "$hosts" "$tmp/hosts"
head -n "$dig_n" "$addrs" > "$dig_addrs"
unknown=$(grep -c '^10\.99\.' "$addrs" || true)

# dnsmasq on a free high port: its own hosts file only, nothing forwarded, and NXDOMAIN (not
# REFUSED) for what it does not know in the bench's zones.
start_dns() {
  local attempt
  for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$dnsmasq" --keep-in-foreground --port="$port" --listen-address=127.0.0.1 --bind-interfaces \
      --no-resolv --no-hosts --addn-hosts="$tmp/hosts" --pid-file= --user="$(id -un)" \
      --group="$(id -gn)" --conf-file=/dev/null --log-facility=- \
      --local=/bench.example/ --local=/10.in-addr.arpa/ --local=/8.b.d.0.1.0.0.2.ip6.arpa/ \
      2>"$tmp/dnsmasq.log" &
    dns_pid=$!
    for _ in $(seq 50); do
      kill -0 "$dns_pid" 2>/dev/null || break
      [ "$(dig +short +time=1 +tries=1 -x 10.0.0.1 @127.0.0.1 -p "$port" 2>/dev/null)" = host-00001.bench.example. ] \
        && return 0
      sleep 0.1
    done
    echo "dnsmasq did not answer on port $port (attempt $attempt):" >&2
    cat "$tmp/dnsmasq.log" >&2
    kill "$dns_pid" 2>/dev/null || true
    wait "$dns_pid" 2>/dev/null || true
    dns_pid=
  done
  return 1
}
start_dns
server=127.0.0.1:$port
echo "dnsmasq on $server: $(wc -l < "$tmp/hosts") names; $n addresses ($unknown unknown), dig loop on the first $dig_n" >&2

# Sanity, and a warm page cache: every side finds the names it should.
single=$(awk -v m=$((n / 2)) 'NR >= m && /^10\.0\./ { print; exit }' "$addrs")
for a in "$single" $(grep -m1 : "$addrs" || true); do
  name=$(awk -v a="$a" '$1 == a { print $2 }' "$tmp/hosts")
  type=A; [[ $a == *:* ]] && type=AAAA
  if [ "$(dig +short -x "$a" @127.0.0.1 -p "$port")" != "$name." ] ||
     [ "$(dig +short "$type" "$name" @127.0.0.1 -p "$port")" != "$a" ]; then
    echo "dnsmasq does not answer $a <-> $name as expected" >&2; exit 1
  fi
done
rc=0
"$bin/whatis-ip" --dns-server "$server" --catalog "$catalog" --json < "$addrs" > "$tmp/out.json" \
  2> "$tmp/err" || rc=$?
python3 - "$tmp/out.json" "$n" "$unknown" "$rc" "$(grep -c 'nothing known' "$tmp/err" || true)" <<'PY'
import json, sys
path, n, unknown, rc, warned = sys.argv[1], *map(int, sys.argv[2:])
rows = [json.loads(line) for line in open(path)]
named = sum(1 for r in rows if r["dns_names"])
confirmed = sum(1 for r in rows if r["ptr"] and any(p["confirmed"] for p in r["ptr"]))
hosted = sum(1 for r in rows if r["host"])
disagree = sum(1 for r in rows if r["disagreements"])
errors = sum(1 for r in rows if r["dns_error"])
print(f"whatis-ip: {len(rows)} records, {named} with PTR names, {confirmed} confirmed, {hosted} "
      f"with a host, {disagree} with disagreements, {errors} DNS errors, {warned} warned "
      f"nothing known, exit {rc}", file=sys.stderr)
want = n - unknown
ok = (len(rows) == n and named == want and confirmed == want and hosted == want
      and disagree == 0 and errors == 0 and warned == unknown and rc == (1 if unknown else 0))
sys.exit(0 if ok else "whatis-ip's answers are not what the catalog and DNS hold")
PY
sample=$tmp/sample
head -n 200 "$addrs" > "$sample"
want=$(grep -vc '^10\.99\.' "$sample")
got=$(while read -r a; do dig +short -x "$a" @127.0.0.1 -p "$port"; done < "$sample" | grep -c bench.example || true)
[ "$got" = "$want" ] || { echo "dig -x found $got names in the first 200 addresses, not $want" >&2; exit 1; }
got=$(xargs -P 16 -I{} host -p "$port" {} 127.0.0.1 < "$sample" 2>/dev/null | grep -c 'domain name pointer' || true)
[ "$got" = "$want" ] || { echo "host found $got names in the first 200 addresses, not $want" >&2; exit 1; }
echo "dig -x and host: $want names in the first 200 addresses, as whatis-ip" >&2

shell_none=()
hyperfine --help | grep -q -- '--shell=none' && shell_none=(-N)
json=$work/results/whatis
rm -rf "$json"
mkdir -p "$json"
# dnsmasq's own CPU time (clock ticks): on a small machine the server, not the client, may set
# the pace, so every bulk row says how much of it each run cost.
server_ticks() { awk '{print $14 + $15}' "/proc/$dns_pid/stat"; }
# bulk NAME SIZE WARMUP COMMAND: hyperfine's runs of COMMAND, and dnsmasq's ticks meanwhile.
# whatis-ip and host exit non-zero on the unknown addresses: -i lets hyperfine accept that.
bulk() {
  local t0 t1 i
  i=$(find "$json" -name 'bulk-*.json' | wc -l)
  t0=$(server_ticks)
  hyperfine -i --warmup "$3" --runs "$runs" --export-json "$json/bulk-$i.json" -n "$1" "$4" >&2
  t1=$(server_ticks)
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$((t1 - t0))" "$(($3 + runs))" >> "$json/bulk.tsv"
}
load_before=$(uptime)
bulk "whatis-ip" "$n" 1 "$bin/whatis-ip --dns-server $server --catalog $catalog < $addrs > /dev/null 2>&1"
bulk "whatis-ip --json" "$n" 1 \
  "$bin/whatis-ip --dns-server $server --catalog $catalog --json < $addrs > /dev/null 2>&1"
bulk "whatis-ip --no-dns" "$n" 1 "$bin/whatis-ip --no-dns --catalog $catalog < $addrs > /dev/null 2>&1"
bulk "dig -x loop" "$dig_n" 0 \
  "while read -r a; do dig +short -x \$a @127.0.0.1 -p $port; done < $dig_addrs > /dev/null"
bulk "host, xargs -P 16" "$n" 0 "xargs -P 16 -I{} host -p $port {} 127.0.0.1 < $addrs > /dev/null 2>&1"
hyperfine "${shell_none[@]}" -i --warmup 3 --runs 30 --export-json "$json/single.json" \
  -n "whatis-ip" "$bin/whatis-ip --dns-server $server --catalog $catalog $single" \
  -n "whatis-ip --no-dns" "$bin/whatis-ip --no-dns --catalog $catalog $single" \
  -n "dig +short -x" "dig +short -x $single @127.0.0.1 -p $port" \
  -n "host" "host -p $port $single 127.0.0.1" >&2
load_after=$(uptime)

python3 - "$json" "$n" "$(getconf CLK_TCK)" "$load_before" "$load_after" <<'PY'
import json, os, sys
d, n, tck, before, after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
bulk = {}
for i, line in enumerate(open(os.path.join(d, "bulk.tsv"))):
    name, size, ticks, count = line.rstrip("\n").split("\t")
    r = json.load(open(os.path.join(d, f"bulk-{i}.json")))["results"][0]
    bulk[name] = (int(size), r, int(ticks) / tck / int(count))
single = {r["command"]: r for r in json.load(open(os.path.join(d, "single.json")))["results"]}
ours = n / bulk["whatis-ip"][1]["median"]
print(f"{'bulk (addresses on stdin)':<26} {'n':>6} {'median s':>9} {'cpu s':>7} {'dns cpu s':>9} "
      f"{'addr/s':>8}  whatis-ip is")
for command, (size, r, server) in bulk.items():
    rate = size / r["median"]
    vs = "" if command.startswith("whatis-ip") else f"{ours / rate:.1f}x as fast"
    print(f"{command:<26} {size:>6} {r['median']:>9.2f} {r['user'] + r['system']:>7.2f} {server:>9.2f} "
          f"{rate:>8.0f}  {vs}")
t = bulk["whatis-ip"][1]["median"]
if n == 10000:
    verdict = f"{'met' if t < 3 else 'MISSED'} ({t:.2f} s)"
else:
    verdict = f"{'met' if ours >= 10000 / 3 else 'MISSED'} at {ours:.0f}/s (needs 3,333/s; n = {n})"
print(f"target: 10,000 addresses in under 3 s: {verdict}")
print()
print(f"{'one address':<26} {'median ms':>9} {'mean ms':>8} {'stddev':>7}")
for command, r in single.items():
    print(f"{command:<26} {r['median'] * 1000:>9.1f} {r['mean'] * 1000:>8.1f} {r['stddev'] * 1000:>7.1f}")
t = single["whatis-ip"]["median"] * 1000
print(f"target: one whatis-ip under 20 ms median: {'met' if t < 20 else 'MISSED'} ({t:.1f} ms; "
      f"dig -x {single['dig +short -x']['median'] * 1000:.1f} ms)")
print(f"load before: {before.strip()}")
print(f"load after:  {after.strip()}")
PY
