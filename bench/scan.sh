#!/usr/bin/env bash
# Benchmark of scan-hosts over SSH against what a user would otherwise run, on 50 real sshd
# hosts (127.0.1.1-50, each in its own UTS namespace named bench-N, all sharing this machine's
# dpkg database; root's home is a fresh one with Debian's stock dotfiles, bind-mounted in each
# host's mount namespace, so that every tool's remote commands source the rc files of a stock
# fleet host, not this machine's: the login shell bash sources ~/.bashrc for every command run
# over SSH, and a developer's (pyenv init, say) can cost more than everything else a host does;
# OPSKIT_BENCH_MACHINE_HOME=1 keeps this machine's /root):
#   scan-hosts --hosts-file HOSTS              (facts and packages of every host, into a catalog)
#   ansible all -m package_facts -f 50         (Ansible's way to collect the packages)
#   parallel-ssh -p 50 ... dpkg-query -W       (the shell way: just the package lists)
# Each is run OPSKIT_BENCH_RUNS times (default 3) under GNU time; the run with the median wall
# time is reported: wall time, CPU time (user+sys of the tool and the children it waited for),
# and peak memory (max RSS of its largest process: for scan-hosts the whole tool, for the
# others only their biggest process, so they look smaller than they are).
# Targets (issue 4): scan-hosts >= 10x faster than Ansible, >= 1.5x faster than parallel-ssh,
# and < 100 MB peak memory. Needs root (namespaces, sshd).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench/scan.sh: run as root (it starts sshd in namespaces)" >&2; exit 2; }

base=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}
work=$base/scan
runs=${OPSKIT_BENCH_RUNS:-3}
hosts=50
rm -rf "$work"
mkdir -p "$work/home/.ssh" "$work/hosts"
chmod 700 "$work/home/.ssh"

# GNU time for wall/CPU/RSS; pssh; python3-apt, which Ansible's package_facts reads dpkg
# through on Debian targets; sshd, ssh and unshare for the hosts.
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v parallel-ssh >/dev/null || need+=(pssh)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v unshare >/dev/null || need+=(util-linux)
/usr/bin/python3 -c 'import apt' 2>/dev/null || need+=(python3-apt)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The same virtualenv as bench/catalog.sh.
venv=$base/venv
if [ ! -x "$venv/bin/ansible" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q ansible-core
fi

cargo build --release --locked -q
bin=${CARGO_TARGET_DIR:-$PWD/target}/release
# shellcheck source=bench/lib/sshd_fleet.sh
. bench/lib/sshd_fleet.sh

# One port free on all 50 addresses, so the inventory needs no per-host port.
port=$(fleet_port "$hosts")

# The hosts: one sshd each, with its own host key, in its own UTS namespace, and root's home
# from Debian's skeleton (base-files) in its own mount namespace.
roothome=$work/root-home
stock_root_home "$roothome"
[ -n "${OPSKIT_BENCH_MACHINE_HOME:-}" ] && roothome=/root
ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/home/.ssh/id_ed25519"
key=$work/home/.ssh/id_ed25519
known=$work/home/.ssh/known_hosts
: > "$known"
pids=()
trap stop_fleet EXIT
sshd_fleet "$work/hosts" "$hosts" "$port" "$key" "$roothome" "$known"

# What each tool is given: a hosts file, an Ansible inventory, and the same key and
# known_hosts for all (strict host key checking everywhere).
hostsfile=$work/hosts.txt
inventory=$work/inventory.ini
: > "$hostsfile"
{ echo '[bench]'
  for i in $(seq 1 $hosts); do
    echo "root@127.0.1.$i:$port" >> "$hostsfile"
    echo "bench-$i ansible_host=127.0.1.$i"
  done
  echo
  echo '[all:vars]'
  echo "ansible_port=$port"
  echo 'ansible_user=root'
  echo "ansible_ssh_private_key_file=$key"
  echo "ansible_ssh_common_args='-o UserKnownHostsFile=$known -o StrictHostKeyChecking=yes'"
  echo 'ansible_python_interpreter=/usr/bin/python3'
} > "$inventory"
export HOME=$work/home
export ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_REMOTE_TMP=$work/remote-tmp ANSIBLE_LOCAL_TEMP=$work/local-tmp
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_DEPRECATION_WARNINGS=False
packages=$(dpkg-query -W | wc -l)

# How each tool is run, and how many hosts it answered for (all must, or the figures lie).
scan_supported=yes
"$bin/scan-hosts" --help 2>/dev/null | grep -q -- '--hosts-file' || scan_supported=no
run_scan() {
  rm -f "$work/catalog.db"*
  "$bin/scan-hosts" --hosts-file "$hostsfile" --catalog "$work/catalog.db" > "$work/scan.out" 2>&1
}
ok_scan() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM hosts").fetchone()[0])' "$work/catalog.db"; }
run_ansible() {
  "$venv/bin/ansible" all -i "$inventory" -m package_facts -f $hosts > "$work/ansible.out" 2>&1
}
ok_ansible() { grep -c '| SUCCESS' "$work/ansible.out" || true; }
run_pssh() {
  rm -rf "$work/pssh-out"
  parallel-ssh -p $hosts -t 120 -h "$hostsfile" -o "$work/pssh-out" \
    -x "-i $key -o UserKnownHostsFile=$known -o StrictHostKeyChecking=yes -o BatchMode=yes" \
    dpkg-query -W > "$work/pssh.out" 2>&1
}
ok_pssh() { grep -c '\[SUCCESS\]' "$work/pssh.out" || true; }

# Runs tool $1 $runs times; prints "wall cpu rss_kb hosts_ok" of the median run by wall time.
export -f run_scan run_ansible run_pssh
export work hostsfile inventory key known hosts bin venv
measure() {
  local tool=$1 i wall user sys rss
  : > "$work/$tool.times"
  for i in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o "$work/$tool.time" bash -c "run_$tool" \
      || { echo "$tool failed, see $work/$tool.out:" >&2; tail -5 "$work/$tool.out" >&2; }
    read -r wall user sys rss < <(tail -1 "$work/$tool.time")
    echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss $("ok_$tool")" >> "$work/$tool.times"
  done
  sort -n "$work/$tool.times" | sed -n "$(( (runs + 1) / 2 ))p"
}

echo "50 hosts (sshd in UTS namespaces, port $port), $packages dpkg packages each, median of $runs runs; ansible-core $("$venv/bin/python" -c 'import ansible; print(ansible.__version__)'), $(parallel-ssh --version 2>&1 | head -1 | sed 's/^/parallel-ssh /')"
declare -A result
tools=${OPSKIT_BENCH_TOOLS:-scan ansible pssh}   # a subset, to rerun one side alone
[ "$scan_supported" = yes ] || tools=${tools/scan/}
for tool in $tools; do result[$tool]=$(measure "$tool"); done
if [ -n "${OPSKIT_BENCH_HOLD:-}" ]; then
  echo "hosts up; hosts file $hostsfile, HOME=$HOME; press enter to stop" >&2
  read -r _
fi

python3 - "$hosts" "${result[scan]:-}" "${result[ansible]:-}" "${result[pssh]:-}" <<'PY'
import sys
hosts = int(sys.argv[1])
names = {"scan": "scan-hosts", "ansible": "ansible package_facts", "pssh": "parallel-ssh dpkg-query"}
rows = {}
for key, text in zip(["scan", "ansible", "pssh"], sys.argv[2:]):
    if text:
        wall, cpu, rss, ok = text.split()
        rows[key] = (float(wall), float(cpu), int(rss) / 1024, int(ok))
print(f"{'tool':26} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'hosts ok':>9}")
for key, (wall, cpu, rss, ok) in rows.items():
    print(f"{names[key]:26} {wall:8.2f} {cpu:8.2f} {rss:8.1f} {ok:>5}/{hosts}")
if "scan" not in rows:
    print("scan-hosts: skipped (this build has no --hosts-file: no SSH scanning yet)")
    sys.exit(0)
s = rows["scan"]
for key, target in (("ansible", 10), ("pssh", 1.5)):
    if key not in rows:
        continue
    r = rows[key]
    print(f"{names[key]} / scan-hosts: wall {r[0] / s[0]:.1f}x (target >= {target}x), cpu {r[1] / s[1]:.1f}x")
print(f"scan-hosts peak memory {s[2]:.1f} MB (target < 100 MB)")
PY
