# shellcheck shell=bash
# Part 3 of bench/audit.sh: what reading audit logs adds to scan-hosts on 50 real sshd hosts
# (bench/lib/sshd_fleet.sh). Every host reads the same log (/root/audit/audit.log, root's home
# being one directory bound over /root in each host): each host has its own checkpoint, so
# each reads and stores what it has not read, as 50 hosts with their own logs would.
# usage: audit_scan.sh WORKDIR RUNS GROWTH BIN; prints one line.
set -euo pipefail
work=$1 runs=$2 growth=$3 bin=$4
hosts=50
# shellcheck source=bench/lib/sshd_fleet.sh
. "$(dirname "$0")/sshd_fleet.sh"
rm -rf "$work"
mkdir -p "$work/home/.ssh" "$work/hosts"
chmod 700 "$work/home/.ssh"
port=$(fleet_port "$hosts")
roothome=$work/root-home
stock_root_home "$roothome"
mkdir -p "$roothome/audit"
ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/home/.ssh/id_ed25519"
key=$work/home/.ssh/id_ed25519
known=$work/home/.ssh/known_hosts
: > "$known"
pids=()
trap stop_fleet EXIT
sshd_fleet "$work/hosts" "$hosts" "$port" "$key" "$roothome" "$known" >&2
hostsfile=$work/hosts.txt
: > "$hostsfile"
for i in $(seq 1 $hosts); do echo "root@127.0.1.$i:$port" >> "$hostsfile"; done
export HOME=$work/home
mkdir -p "$work/config/opskit"
printf '[audit]\nlog = "/root/audit/audit.log"\n' > "$work/config/opskit/config.toml"
export XDG_CONFIG_HOME=$work/config
catalog=$work/catalog.db
log=$roothome/audit/audit.log
lib=$(dirname "$0")
serial=1
# The growth in events: audit_log.py writes by size; about 1.1 KB an event.
grow_by() {
  local mb
  mb=$(python3 -c "print($1 * 1100 / 1048576)")
  python3 "$lib/audit_log.py" "$mb" "$log" "$serial" > /dev/null
  serial=$((serial + $1 * 2))
}
scan() { "$bin/scan-hosts" --hosts-file "$hostsfile" --catalog "$catalog" "$@" > "$work/scan.out" 2>&1; }
grow_by 1000
scan --accept-new   # the first scan: packages, facts and the first checkpoint of every host
timed() {
  local name=$1 i
  shift
  : > "$work/$name.times"
  for i in $(seq 1 "$runs"); do
    [ "$name" = grown ] && grow_by "$growth"
    /usr/bin/time -f '%e' -o "$work/$name.time" bash -c "$(declare -f scan); bin=$bin hostsfile=$hostsfile catalog=$catalog work=$work scan $*" \
      || { echo "scan failed:" >&2; tail -5 "$work/scan.out" >&2; exit 1; }
    tail -1 "$work/$name.time" >> "$work/$name.times"
  done
  sort -n "$work/$name.times" | sed -n "$(( (runs + 1) / 2 ))p"
}
no_audit=$(timed none --no-audit)
steady=$(timed steady)
grown=$(timed grown)
stored=$(sqlite3 "$catalog" "SELECT count(*) FROM audit_events")
python3 - "$no_audit" "$steady" "$grown" "$growth" "$stored" <<'PY'
import sys
none, steady, grown = (float(x) for x in sys.argv[1:4])
print(f"scan-hosts, 50 hosts (median): --no-audit {none:.2f} s; audit, logs unchanged {steady:.2f} s "
      f"(+{(steady / none - 1) * 100:.0f}%, target < 20%); audit, each log grew by ~{int(sys.argv[4]):,} events "
      f"{grown:.2f} s (+{(grown / none - 1) * 100:.0f}%); {int(sys.argv[5]):,} events stored in all")
PY
