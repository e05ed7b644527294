#!/usr/bin/env bash
# Differential check of two builds of opskit: the restructuring of the library must not change
# behaviour, so every tool's answers from OLD_BIN_DIR and NEW_BIN_DIR must be byte-identical
# (stdout, stderr and exit status) on one lab of real peers, all on loopback:
#
#   snmpsim      serving tests/fixtures/snmp (core1, access1, access2, router1 as a router,
#                ciscosw with per-VLAN instances) and the five LibreNMS recordings, each at its
#                own 127.0.42.x address, community = recording name;
#   moto_server  EC2 and Auto Scaling, seeded with the venv's aws CLI: instances with Name and
#                other tags (one stopped, one without a public address, one in eu-west-1) and a
#                group with one healthy and one unhealthy member;
#   dnsmasq      this machine's name and addresses, web-7, a name that only DNS knows, a PTR
#                that does not resolve back; authoritative (NXDOMAIN) for the lab's zones;
#   hosts        `scan-hosts --local` for this machine, and a host web-7 scanned twice in its
#                own UTS, network and mount namespaces (a dummy interface with the MAC and
#                addresses the SNMP recordings know it by, and a dpkg database that changes
#                between the scans: an upgrade, a downgrade, a removal, an install).
#
# 1. Catalog A is filled by OLD's collectors, catalog B by NEW's, against the same peers, in
#    the same order and at the same path; the collectors' own outputs are compared, then A and
#    B table by table with sqlite3 (see dump_table for the columns left out, and why).
# 2. Every query tool runs with OLD and with NEW on a fresh copy of catalog A (same path, same
#    arguments, same argv[0]) and the outputs are compared with cmp.
#
# Prints `same  LABEL` or `DIFF  LABEL` (with a unified diff of at most 20 lines) per
# comparison, then `N same, M different`. Exit 0 when everything is the same, 1 otherwise, 2
# when the lab could not be built. One difference is known and marked `(expected: …)`: the old
# `which-switch --moves` panics when a move exists; it counts as expected (and does not fail the
# run) only while OLD panics there and NEW does not. Give the same directory twice (OLD OLD)
# first: all `same` shows that the comparison itself is deterministic. No cargo: it runs
# binaries already built (hard-linked at the start, so a rebuild meanwhile changes nothing).
# Needs root (namespaces; snmpsim's --process-user), dnsmasq, sqlite3, jq, unshare, ip, and the
# test virtualenv ($OPSKIT_TEST_VENV, default /var/tmp/opskit-test-venv, made by
# scripts/test.sh) with snmpsim, moto and the aws CLI.
#
# Usage: scripts/compare-json.sh OLD_BIN_DIR NEW_BIN_DIR
# OPSKIT_COMPARE_KEEP=1 keeps the temporary directory, with every comparison's outputs in cases/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [ $# -ne 2 ]; then
  echo "usage: $0 OLD_BIN_DIR NEW_BIN_DIR" >&2
  exit 2
fi
tools=(scan-hosts crawl-switches sync-ec2 which-switch pkg-where whatis-ip whatis-host sshec2)
for d in "$1" "$2"; do
  for t in "${tools[@]}"; do
    [ -x "$d/$t" ] || { echo "$d/$t: no such executable" >&2; exit 2; }
  done
done
[ "$(id -u)" -eq 0 ] || { echo "run as root (namespaces for the web-7 host, snmpsim's --process-user)" >&2; exit 2; }
venv=${OPSKIT_TEST_VENV:-/var/tmp/opskit-test-venv}
for p in "$venv/bin/snmpsim-command-responder" "$venv/bin/moto_server" "$venv/bin/aws"; do
  [ -x "$p" ] || { echo "$p is missing: run scripts/test.sh (it creates the virtualenv)" >&2; exit 2; }
done
dnsmasq=$(PATH=$PATH:/usr/sbin:/sbin command -v dnsmasq) || { echo "apt-get install dnsmasq-base" >&2; exit 2; }
for p in sqlite3 jq unshare ip python3 cmp diff timeout; do
  command -v "$p" >/dev/null || { echo "$p is missing" >&2; exit 2; }
done

started=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/opskit-compare.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "${OPSKIT_COMPARE_KEEP:-}" ]; then
    echo "kept $tmp (every comparison's outputs are in $tmp/cases)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The binaries as they are now: hard links (same file system) survive a rebuild that replaces
# them while this runs; elsewhere they are copied.
for side in old new; do
  src=$1; [ "$side" = new ] && src=$2
  mkdir -p "$tmp/bin-$side"
  for t in "${tools[@]}"; do
    cp -l "$src/$t" "$tmp/bin-$side/$t" 2>/dev/null || cp "$src/$t" "$tmp/bin-$side/$t"
  done
done
echo "OLD: $1 ($(stat -c %y "$1/which-switch" | cut -d. -f1))"
echo "NEW: $2 ($(stat -c %y "$2/which-switch" | cut -d. -f1))"

# Nothing of the caller's environment reaches the tools: their own HOME, config and catalog,
# the lab's AWS endpoint with dummy credentials, the C locale, and no terminal.
mkdir -p "$tmp/home" "$tmp/work" "$tmp/q" "$tmp/build" "$tmp/cmp" "$tmp/cases"
unset OPSKIT_CONFIG OPSKIT_CATALOG OPSKIT_SNMP_COMMUNITY XDG_CONFIG_HOME XDG_DATA_HOME \
  XDG_STATE_HOME XDG_CACHE_HOME NO_COLOR DPKG_ADMINDIR SSH_AUTH_SOCK RUST_BACKTRACE RUST_LOG \
  AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
export HOME=$tmp/home LC_ALL=C TZ=UTC
export OPSKIT_CONFIG=$tmp/config.toml
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

free_port() { # udp|tcp
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

# --- snmpsim -----------------------------------------------------------------------------------
data_dirs=("--data-dir=$repo/tests/fixtures/snmp")
librenms=(advantech_eki-7712g-4fp XMG1915-10EP ciscosb_c1200-8t-e-2g Cisco_sfe2000 alaxala_ax3640s)
# ADDRESS COMMUNITY(recording) ROLE
devices=(
  "127.0.42.1 core1 switch"
  "127.0.42.2 access1 switch"
  "127.0.42.3 access2 switch"
  "127.0.42.4 router1 router"
  "127.0.42.5 ciscosw switch"
)
i=11
for r in "${librenms[@]}"; do
  role=switch
  [ "$r" = ciscosb_c1200-8t-e-2g ] && role=router # it has ARP tables
  devices+=("127.0.42.$i $r $role")
  i=$((i + 1))
done
sim_started=
for _attempt in 1 2 3 4 5; do
  sim_port=$(free_port udp)
  endpoints=()
  for d in "${devices[@]}"; do endpoints+=("--agent-udpv4-endpoint=${d%% *}:$sim_port"); done
  "$venv/bin/snmpsim-command-responder" "${data_dirs[@]}" "${endpoints[@]}" \
    --process-user=root --process-group=root --cache-dir="$tmp/snmpsim-cache" \
    >"$tmp/snmpsim.log" 2>&1 </dev/null &
  sim_pid=$!
  for _ in $(seq 600); do
    if [ "$(grep -c 'Listening at UDP/IPv4 endpoint' "$tmp/snmpsim.log" || true)" -eq "${#devices[@]}" ]; then
      sim_started=1
      break
    fi
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$sim_started" ] && break
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
done
[ -n "$sim_started" ] || { echo "snmpsim did not start:" >&2; tail -20 "$tmp/snmpsim.log" >&2; exit 2; }
pids+=("$sim_pid")
# The first datagram to a loopback address other than 127.0.0.1 can be lost on this sandbox's
# network stack (see tests/it/support): one junk datagram per address settles that.
for d in "${devices[@]}"; do printf x >"/dev/udp/${d%% *}/$sim_port" 2>/dev/null || true; done
sleep 0.2

# --- moto, seeded with the aws CLI -------------------------------------------------------------
moto_port=
for _attempt in 1 2 3 4 5; do
  port=$(free_port tcp)
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 </dev/null &
  moto_pid=$!
  for _ in $(seq 600); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then moto_port=$port; break; fi
    kill -0 "$moto_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$moto_port" ] && break
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
done
[ -n "$moto_port" ] || { echo "moto_server did not start" >&2; exit 2; }
pids+=("$moto_pid")
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
aws() { "$venv/bin/aws" --region "${region:-us-east-1}" --output text "$@"; }
ami="ami-12c6146b" # one moto ships
tags() { # KEY=VALUE…: an instance tag specification
  local t="" kv
  for kv; do t+="{Key=${kv%%=*},Value=${kv#*=}},"; done
  echo "ResourceType=instance,Tags=[${t%,}]"
}
vpc=$(aws ec2 create-vpc --cidr-block 10.9.0.0/16 --query Vpc.VpcId)
subnet=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.9.1.0/24 \
  --availability-zone us-east-1b --query Subnet.SubnetId)
read -r web7_id web7_ip < <(aws ec2 run-instances --image-id "$ami" --instance-type t3.micro \
  --count 1 --tag-specifications "$(tags Name=web-7 env=prod role=web)" \
  --query 'Instances[0].[InstanceId,PrivateIpAddress]')
aws ec2 run-instances --image-id "$ami" --instance-type t3.micro --count 1 \
  --network-interfaces "DeviceIndex=0,SubnetId=$subnet,AssociatePublicIpAddress=false" \
  --tag-specifications "$(tags Name=db-1 env=prod role=db)" --query 'Instances[0].InstanceId' >/dev/null
old1_id=$(aws ec2 run-instances --image-id "$ami" --instance-type t3.micro --count 1 \
  --tag-specifications "$(tags Name=old-1 env=prod)" --query 'Instances[0].InstanceId')
aws ec2 stop-instances --instance-ids "$old1_id" >/dev/null
region=eu-west-1 aws ec2 run-instances --image-id "$ami" --instance-type t3.micro --count 1 \
  --tag-specifications "$(tags Name=web-eu env=prod)" --query 'Instances[0].InstanceId' >/dev/null
aws ec2 create-launch-template --launch-template-name web-lt \
  --launch-template-data "{\"ImageId\":\"$ami\",\"InstanceType\":\"t3.micro\"}" >/dev/null
# shellcheck disable=SC2016 # $Latest is the launch template version's literal name
aws autoscaling create-auto-scaling-group --auto-scaling-group-name web-prod \
  --launch-template 'LaunchTemplateName=web-lt,Version=$Latest' --min-size 0 --max-size 5 \
  --desired-capacity 2 --availability-zones us-east-1a
# One member unhealthy: the one healthy member is the only answer of `sshec2 -a web-prod`, so
# its random pick cannot make two runs differ.
unhealthy=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names web-prod \
  --query 'AutoScalingGroups[0].Instances[].InstanceId' | tr '\t' '\n' | sort | head -n1)
aws autoscaling set-instance-health --instance-id "$unhealthy" --health-status Unhealthy

# --- dnsmasq -------------------------------------------------------------------------------------
me=$(hostname)
my_addrs=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep . || true)
dns_records=(
  --domain-needed --local=/lab.test/ --local=/10.in-addr.arpa/ --local=/168.192.in-addr.arpa/
  --local=/8.b.d.0.1.0.0.2.ip6.arpa/
  "--host-record=web-7.lab.test,10.0.10.5,2001:db8:10::5"
  "--host-record=dnsonly.lab.test,10.0.10.77"
  "--ptr-record=9.10.0.10.in-addr.arpa,old-db.lab.test"
)
[ -n "$my_addrs" ] && dns_records+=("--host-record=$me,$(echo "$my_addrs" | paste -sd,)")
dns_port=
for _attempt in 1 2 3 4 5; do
  port=$(free_port udp)
  "$dnsmasq" --keep-in-foreground --port="$port" --listen-address=127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --pid-file= --user="$(id -un)" --group="$(id -gn)" \
    --conf-file=/dev/null "${dns_records[@]}" >"$tmp/dnsmasq.log" 2>&1 </dev/null &
  dns_pid=$!
  for _ in $(seq 50); do
    kill -0 "$dns_pid" 2>/dev/null || break
    if python3 - "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
q = bytes.fromhex("6f7001000001000000000000") + b"\x05probe\x03lab\x04test\x00\x00\x01\x00\x01"
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
try:
    sys.exit(0 if s.recv(512)[:2] == q[:2] else 1)
except OSError:
    sys.exit(1)
PY
    then dns_port=$port; break; fi
    sleep 0.1
  done
  [ -n "$dns_port" ] && break
  kill "$dns_pid" 2>/dev/null || true
  wait "$dns_pid" 2>/dev/null || true
done
[ -n "$dns_port" ] || { echo "dnsmasq did not start:" >&2; cat "$tmp/dnsmasq.log" >&2; exit 2; }
pids+=("$dns_pid")
dns=127.0.0.1:$dns_port

# --- configuration, subnets, expectations, dpkg databases of web-7 -------------------------------
cat >"$tmp/subnets.csv" <<'EOF'
prefix,name,vlan,site,description
10.0.0.0/16,dc1,,ams1,the first data centre
10.0.10.0/24,servers,10,ams1,web and database servers
2001:db8:10::/64,servers-v6,10,ams1,
EOF
cat >"$tmp/expected.toml" <<'EOF'
[[expect]]
package = "bash"
version = ">=5.2"

[[expect]]
package = "telnetd"
absent = true

[[expect]]
package = "nginx"
hosts = ["web-*"]

[[expect]]
package = "openssl"
version = ">=3.0.11"
hosts = ["web-*"]

[[expect]]
package = "libfoo*"
absent = true
EOF
switch_config() { # "ADDRESS COMMUNITY ROLE"…
  # [dns] server: no tool asks the system's resolver, which is not on this machine.
  printf '[dns]\nserver = "%s"\ntimeout = 2\n\n[snmp]\ntimeout = 10\nretries = 1\n\n' "$dns"
  local d a c r
  for d; do
    read -r a c r <<<"$d"
    printf '[[switch]]\naddress = "%s:%s"\ncommunity = "%s"\nrole = "%s"\n\n' "$a" "$sim_port" "$c" "$r"
  done
  printf '[ec2]\nregions = ["us-east-1", "eu-west-1"]\ntimeout = 10\n\n'
  printf '[whatis]\nsubnets = "%s"\n\n[packages]\nexpectations = "%s"\n' "$tmp/subnets.csv" "$tmp/expected.toml"
}
(umask 077
  switch_config "${devices[@]}" >"$tmp/config.toml"
  # access1 again, after host A moved from ge5 to ge7.
  switch_config "127.0.42.2 access1-moved switch" >"$tmp/config-moved.toml")

dpkg_db() { # DIR NAME:VERSION:ARCH…
  local dir=$1 p name version arch
  shift
  mkdir -p "$dir/info" "$dir/updates"
  echo 1 >"$dir/info/format"
  : >"$dir/status"
  for p; do
    IFS=: read -r name version arch <<<"$p"
    printf 'Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: Test <test@example.com>\nArchitecture: %s\nVersion: %s\nDescription: test package\n\n' \
      "$name" "$arch" "$version" >>"$dir/status"
    printf '/.\n/usr/share/doc/%s\n' "$name" >"$dir/info/$name.list"
    touch -d @1700000000 "$dir/info/$name.list" # a fixed install time
  done
}
dpkg_db "$tmp/dpkg-web7-1" bash:5.1-2:amd64 dpkg:1.21.22:amd64 openssl:3.0.11-1~deb12u2:amd64 \
  telnetd:0.17-44:amd64 libfoo1:1.0-1:amd64
dpkg_db "$tmp/dpkg-web7-2" bash:5.2.15-2+b2:amd64 dpkg:1.21.22:amd64 openssl:3.0.9-1:amd64 \
  libfoo1:1.0-1:amd64 nginx:1.22.1-9:amd64

# --- running and comparing -----------------------------------------------------------------------
same=0 different=0 expected=0
# run SIDE TOOL [ARGS…]: runs OLD's or NEW's TOOL (argv[0] is the bare name, cwd and catalog path
# are the same for both sides) with stdin from $input, into $tmp/cmp/SIDE.{out,err,rc}.
input=/dev/null
run() {
  local side=$1 tool=$2 rc=0
  shift 2
  # shellcheck disable=SC2016 # expanded by the inner shell
  (cd "$tmp/work" && timeout -k 5 60 bash -c 'exec -a "$0" "$@"' "$tool" "$tmp/bin-$side/$tool" "$@" \
    <"$input" >"$tmp/cmp/$side.out" 2>"$tmp/cmp/$side.err") || rc=$?
  echo "$rc" >"$tmp/cmp/$side.rc"
}
# show_diff OLD NEW WHAT: a unified diff of two outputs, at most 20 lines; JSON is shown one
# field per line (jq .), when that still shows a difference, so that a long line is readable.
show_diff() {
  local a=$1 b=$2 what=$3 n
  if jq . "$a" >"$tmp/cmp/a.pretty" 2>/dev/null && jq . "$b" >"$tmp/cmp/b.pretty" 2>/dev/null &&
     ! cmp -s "$tmp/cmp/a.pretty" "$tmp/cmp/b.pretty"; then
    a=$tmp/cmp/a.pretty b=$tmp/cmp/b.pretty what="$what, as jq . shows it"
  fi
  diff -u --label "old $what" --label "new $what" "$a" "$b" >"$tmp/cmp/diff" || true
  n=$(wc -l <"$tmp/cmp/diff")
  head -n 20 "$tmp/cmp/diff" | sed 's/^/      /'
  [ "$n" -le 20 ] || echo "      … ($((n - 20)) more lines)"
}
# verdict LABEL [EXPECTED_WHY]: compares $tmp/cmp/old.* with new.*. EXPECTED_WHY marks a known
# difference: it counts as expected only when OLD panicked (exit 101) and NEW did not.
verdict() {
  local label=$1 why=${2:-} s ro rn side case
  # A panic message names the thread's id ("thread 'main' (12345) panicked"), a different
  # number in every run: it is replaced, the rest of the message is compared.
  for side in old new; do
    sed -i -E "s/^(thread '[^']*') \([0-9]+\) panicked/\1 (TID) panicked/" "$tmp/cmp/$side.err"
  done
  case=$tmp/cases/$(printf '%03d' $((same + different)))
  echo "$label" >"$case.label"
  for side in old new; do
    for s in out err rc; do cp "$tmp/cmp/$side.$s" "$case.$side.$s"; done
  done
  if cmp -s "$tmp/cmp/old.out" "$tmp/cmp/new.out" && cmp -s "$tmp/cmp/old.err" "$tmp/cmp/new.err" &&
     cmp -s "$tmp/cmp/old.rc" "$tmp/cmp/new.rc"; then
    printf 'same  %s\n' "$label"
    same=$((same + 1))
    return
  fi
  ro=$(cat "$tmp/cmp/old.rc") rn=$(cat "$tmp/cmp/new.rc")
  if [ -n "$why" ] && [ "$ro" = 101 ] && [ "$rn" != 101 ] && grep -q panicked "$tmp/cmp/old.err"; then
    printf 'DIFF  %s  (expected: %s)\n' "$label" "$why"
    expected=$((expected + 1))
  else
    printf 'DIFF  %s\n' "$label"
  fi
  different=$((different + 1))
  [ "$ro" = "$rn" ] || echo "      exit status: old $ro, new $rn"
  for s in out err; do
    cmp -s "$tmp/cmp/old.$s" "$tmp/cmp/new.$s" ||
      show_diff "$tmp/cmp/old.$s" "$tmp/cmp/new.$s" "std$s"
  done
}

checkpoint() { sqlite3 "$1" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null; }

# --- 1. the collectors: catalog A (OLD), catalog B (NEW) ----------------------------------------
# Each side builds its catalog at the same path ($tmp/build/catalog.db, then moved away), so that
# a path in a message cannot differ; the steps of both sides are compared one by one.
web7_scan() { # SIDE DPKG_DIR: scan-hosts --local as web-7, with its own interface and dpkg
  local side=$1 rc=0
  # shellcheck disable=SC2016 # expanded by the inner shell
  (cd "$tmp/work" && DPKG_ADMINDIR=$2 timeout -k 5 60 unshare --uts --net --mount -- sh -c '
    set -e
    mount -t sysfs sysfs /sys
    ip link set lo up
    ip link add eth0 type dummy 2>/dev/null || ip link add eth0 type bridge
    ip link set eth0 address 00:1b:21:0a:00:01
    ip link set eth0 up
    ip addr add 10.0.10.5/24 dev eth0
    ip addr add 2001:db8:10::5/64 dev eth0 nodad
    exec python3 -c "import os,socket,sys; socket.sethostname(sys.argv[1]); os.execv(sys.argv[2], [\"scan-hosts\", \"--local\"])" web-7 "$0"
  ' "$tmp/bin-$side/scan-hosts" </dev/null >"$tmp/cmp/$side.out" 2>"$tmp/cmp/$side.err") || rc=$?
  echo "$rc" >"$tmp/cmp/$side.rc"
}
steps=(
  "scan-hosts --local"
  "scan-hosts --local (as web-7, first dpkg database)"
  "crawl-switches"
  "crawl-switches --config (access1 after host A moved)"
  "scan-hosts --local (as web-7, second dpkg database)"
  "sync-ec2"
)
collect() { # SIDE STEP_INDEX
  local side=$1
  export OPSKIT_CATALOG=$tmp/build/catalog.db
  case $2 in
    0) run "$side" scan-hosts --local ;;
    1) web7_scan "$side" "$tmp/dpkg-web7-1" ;;
    2) run "$side" crawl-switches
       checkpoint "$OPSKIT_CATALOG"
       cp "$OPSKIT_CATALOG" "$tmp/catalog-$side-before-move.db"
       sleep 1 ;; # the move is seen in a later second than the first sighting
    3) run "$side" crawl-switches --config "$tmp/config-moved.toml" ;;
    4) web7_scan "$side" "$tmp/dpkg-web7-2" ;;
    5) run "$side" sync-ec2 ;;
  esac
  unset OPSKIT_CATALOG
}
for side in old new; do
  rm -f "$tmp/build/"*
  for i in "${!steps[@]}"; do
    collect "$side" "$i"
    for s in out err rc; do mv "$tmp/cmp/$side.$s" "$tmp/cmp/$side.$s.step$i"; done
  done
  checkpoint "$tmp/build/catalog.db"
  mv "$tmp/build/catalog.db" "$tmp/catalog-$side.db"
done
echo "lab built and collected in $(($(date +%s) - started)) s; comparing"
echo "== collectors (stdout, stderr, exit status of each step)"
for i in "${!steps[@]}"; do
  for side in old new; do
    for s in out err rc; do cp "$tmp/cmp/$side.$s.step$i" "$tmp/cmp/$side.$s"; done
  done
  verdict "collect: ${steps[$i]}"
done

# dump_table DB TABLE: the table's rows, in a form that does not depend on the run. Left out:
#  - first_seen, last_seen (any *_seen), scans.started_at and finished_at: the clock at collection
#    time, different for every run by nature;
#  - last_scan_id and the surrogate key `id`: assigned in the order concurrent work finishes
#    (switches are crawled concurrently, regions synced concurrently), not part of what was
#    observed.
# Kept: install_time (dpkg's, fixed here), launch_time and created_at (moto's, the same for both
# sides), sys_uptime (recorded), and everything else. A column that points at another table by
# id shows that row's unique natural key instead (hosts.name, devices.address, …), so that the
# links are still compared. Rows are sorted on every column.
run_specific='^(id|last_scan_id|scan_id|started_at|finished_at)$|_seen$'
dump_table() {
  local db=$1 t=$2 cols=() col ref key n=0
  while IFS='|' read -r col ref; do
    [[ $col =~ $run_specific ]] && continue
    if [ -n "$ref" ]; then
      [ "$ref" = scans ] && continue
      key=$(sqlite3 "$db" "SELECT ii.name FROM pragma_index_list('$ref') il, pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 AND il.origin = 'u' AND (SELECT count(*) FROM pragma_index_info(il.name)) = 1 LIMIT 1")
      [ -n "$key" ] || key=id
      cols+=("(SELECT \"$key\" FROM \"$ref\" r WHERE r.id = t.\"$col\") AS \"$col\"")
    else
      cols+=("t.\"$col\"")
    fi
    n=$((n + 1))
  done < <(sqlite3 "$db" "SELECT c.name, (SELECT f.\"table\" FROM pragma_foreign_key_list('$t') f WHERE f.\"from\" = c.name) FROM pragma_table_info('$t') c ORDER BY c.cid")
  local order
  order=$(seq -s, 1 "$n")
  sqlite3 -batch "$db" ".mode quote" "SELECT $(IFS=,; echo "${cols[*]}") FROM \"$t\" t ORDER BY $order"
}
echo "== catalog A (OLD collectors) vs catalog B (NEW collectors), table by table"
for side in old new; do
  {
    sqlite3 "$tmp/catalog-$side.db" .schema
    sqlite3 "$tmp/catalog-$side.db" 'PRAGMA user_version'
  } >"$tmp/cmp/$side.out"
  : >"$tmp/cmp/$side.err"
  echo 0 >"$tmp/cmp/$side.rc"
done
verdict "table schema (.schema, user_version)"
tables=$( { sqlite3 "$tmp/catalog-old.db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            sqlite3 "$tmp/catalog-new.db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"; } | sort -u)
for t in $tables; do
  for side in old new; do
    dump_table "$tmp/catalog-$side.db" "$t" >"$tmp/cmp/$side.out" 2>"$tmp/cmp/$side.err" || true
    echo 0 >"$tmp/cmp/$side.rc"
  done
  verdict "table $t ($(wc -l <"$tmp/cmp/old.out") rows in A, $(wc -l <"$tmp/cmp/new.out") in B)"
done

# --- 2. the query tools, OLD and NEW on catalog A -----------------------------------------------
# q [--catalog FILE] [--stdin TEXT] [--expect-old-panic WHY] TOOL ARGS…: one comparison; each
# side starts from a fresh copy of the catalog at the same path.
frozen=$tmp/catalog-old.db
q() {
  local catalog=$frozen why="" side
  input=/dev/null
  while :; do
    case $1 in
      --catalog) catalog=$2; shift 2 ;;
      --stdin) printf '%s\n' "$2" >"$tmp/stdin"; input=$tmp/stdin; shift 2 ;;
      --expect-old-panic) why=$2; shift 2 ;;
      *) break ;;
    esac
  done
  for side in old new; do
    rm -f "$tmp/q/"*
    cp "$catalog" "$tmp/q/catalog.db"
    OPSKIT_CATALOG=$tmp/q/catalog.db run "$side" "$@"
  done
  local label=$* 
  [ "$input" = /dev/null ] || label="$label < $(tr '\n' ' ' <"$tmp/stdin" | sed 's/ $//')"
  [ "$catalog" = "$frozen" ] || label="$label (catalog before the move)"
  verdict "$label" "$why"
  input=/dev/null
}

# MACs and addresses the recordings know, decoded from the files themselves.
recording() { echo "$repo/tests/fixtures/snmp/$1.snmprec"; }
first_fdb_mac() { # the first MAC of a forwarding table (BRIDGE-MIB or Q-BRIDGE-MIB index)
  awk -F'|' '
    index($1, "1.3.6.1.2.1.17.4.3.1.2.") == 1 { n = split(substr($1, 24), a, "."); s = 1 }
    index($1, "1.3.6.1.2.1.17.7.1.2.2.1.2.") == 1 { n = split(substr($1, 28), a, "."); s = 2 }
    s { printf "%02x:%02x:%02x:%02x:%02x:%02x\n", a[s], a[s+1], a[s+2], a[s+3], a[s+4], a[s+5]; exit }
  ' "$1"
}
first_arp_ip() { # the first address of ipNetToMediaPhysAddress (ifIndex.a.b.c.d)
  awk -F'|' 'index($1, "1.3.6.1.2.1.4.22.1.2.") == 1 { n = split(substr($1, 22), a, "."); print a[2] "." a[3] "." a[4] "." a[5]; exit }' "$1"
}
host_a=00:1b:21:0a:00:01 host_b=00:1b:21:0b:00:02 host_d=00:1b:21:0d:00:04 ap=00:1b:21:06:00:03
router_ae0=02:00:00:00:04:01
librenms_macs=() librenms_ips=()
for r in "${librenms[@]}"; do
  m=$(first_fdb_mac "$(recording "$r")")
  [ -z "$m" ] || librenms_macs+=("$m")
  a=$(first_arp_ip "$(recording "$r")")
  [ -z "$a" ] || librenms_ips+=("$a")
done
my_first=$(echo "$my_addrs" | head -n1)

echo "== which-switch"
q which-switch --json "$host_a"
q which-switch --json "$host_b" "$host_d" "$ap" "$router_ae0"
for m in "${librenms_macs[@]}"; do q which-switch --json --all "$m"; done
q which-switch --json 10.0.10.5 2001:db8:10::5 10.0.10.9
for a in "${librenms_ips[@]}"; do q which-switch --json "$a"; done
q which-switch --json web-7
q which-switch --json "$me"
q which-switch --json dnsonly.lab.test
q which-switch --json --no-dns web-7.lab.test
q which-switch --json --dns-server "$dns" web-7.lab.test
q which-switch --json --all "$host_a"
q which-switch --format json --all "$host_a"
q which-switch --json --all "$host_b"
q which-switch --json --history "$host_a"
q which-switch --json --history web-7
q which-switch --json --port access1 ge5
q which-switch --json --port access1 ge7
q which-switch --json --port core1 ge-0/0/3
q which-switch --json --port 127.0.42.3:"$sim_port" 12
q which-switch --json --port ciscosw Gi1/0/2
# 520w: ages take s, m, h, d or w (10y is refused, and compared below as a malformed input).
# The view with no move yet (the catalog as it was before access1-moved was crawled), then with
# host A's move from ge5 to ge7.
q --catalog "$tmp/catalog-old-before-move.db" which-switch --json --moves --since 520w
q --expect-old-panic "the OLD binary panics on --moves when a move exists" \
  which-switch --json --moves --since 520w
q --expect-old-panic "the OLD binary panics on --moves when a move exists" \
  which-switch --format json --moves --since 520w
q --stdin "$(printf '%s\n' "$host_a" 10.0.10.9 web-7)" which-switch --json
q which-switch --json gg:00:00:00:00:00 02:00:5e:ff:ff:ff nohost.lab.test
q which-switch --json --moves --since 10y
q which-switch --json --port access1

echo "== pkg-where"
q pkg-where --json bash
q pkg-where --json dpkg
q pkg-where --format json bash dpkg
q pkg-where --json 'dpkg*'
q pkg-where --json 'lib?oo*' 'open*'
q pkg-where --json --summary bash openssl
q pkg-where --json --missing nginx
q pkg-where --json --missing bash
q pkg-where --json --changes --since 520w
q pkg-where --format json --changes --since 520w
q pkg-where --json --drift --expect-from "$me"
q pkg-where --json --drift --expect-from web-7
q pkg-where --json --drift
q pkg-where --json --drift --hosts 'web-*'
q pkg-where --json --version '>=1' bash
q pkg-where --json --version '>=5.2,<6' bash openssl
q --stdin "$(printf '%s\n' bash nginx no-such-package)" pkg-where --json
q pkg-where --json no-such-package
q pkg-where --json --version '>>1' bash
q pkg-where --json --changes --since 10y

echo "== whatis-ip"
for a in $my_addrs; do
  q whatis-ip --json --no-dns "$a"
  q whatis-ip --json --dns-server "$dns" "$a"
done
q whatis-ip --json --no-dns 10.0.10.5 2001:db8:10::5 ::ffff:10.0.10.5
q whatis-ip --json --dns-server "$dns" 10.0.10.5 2001:db8:10::5 10.0.10.9 10.0.10.77
q whatis-ip --format json --dns-server "$dns" 10.0.10.9
for a in "${librenms_ips[@]}"; do
  q whatis-ip --json --no-dns "$a"
  q whatis-ip --json --dns-server "$dns" "$a"
done
q whatis-ip --json --no-dns "$web7_ip"
q whatis-ip --json --no-dns 10.0.10.0/24
q whatis-ip --json --dns-server "$dns" 10.0.10.0/24
q whatis-ip --json --no-dns 10.0.0.0/8
q whatis-ip --json --no-dns 2001:db8:10::/64
q whatis-ip --json --no-dns 127.0.0.1 ::1 169.254.1.1 224.0.0.1
q --stdin "$(printf '%s\n' 10.0.10.5 10.0.10.9 "$my_first")" whatis-ip --json
q whatis-ip --json --no-dns 999.1.1.1 10.0.0.0/33

echo "== whatis-host"
q whatis-host --json --no-dns "$me"
q whatis-host --json --dns-server "$dns" "$me"
q whatis-host --json --no-dns web-7
q whatis-host --json --dns-server "$dns" web-7
q whatis-host --json --dns-server "$dns" web-7.lab.test
q whatis-host --format json --no-dns web-7 "$me"
q whatis-host --json --no-dns dnsonly.lab.test
q whatis-host --json --dns-server "$dns" dnsonly.lab.test
q whatis-host --json --dns-server "$dns" nohost.lab.test
q --stdin "$(printf '%s\n' web-7 "$me")" whatis-host --json --no-dns
q whatis-host --json --no-dns 'bad name'
q whatis-host --json --stale never web-7

echo "== sshec2 (live against moto; --list, --print and --print-argv never exec ssh)"
q sshec2 --list --json 'web-*'
q sshec2 --list --format json 'web-*'
q sshec2 --list --json '*'
q sshec2 --list --json -t env=prod
q sshec2 --list --json -t env=prod -t role=db
q sshec2 --list --json -a web-prod
q sshec2 --list --json -p web-
q sshec2 --list --json "$web7_id"
q sshec2 --list --json "$web7_ip"
q sshec2 --list --json old-1
q sshec2 --list --json --region eu-west-1 'web-*'
q sshec2 --list --json 'nomatch-*'
q sshec2 --print web-7
q sshec2 --print-argv web-7 -- -A uptime
q sshec2 --print --address private web-7
q sshec2 --list --json -t novalue
q sshec2 --list --json --pick bogus web-7

echo "== collectors, malformed input"
q crawl-switches --timeout abc
q sync-ec2 --timeout abc
q scan-hosts --concurrency abc --local

echo "(whole run: $(($(date +%s) - started)) s)"
echo "$same same, $different different$([ "$expected" -eq 0 ] || echo " ($expected of them expected)")"
[ "$different" -eq "$expected" ]
