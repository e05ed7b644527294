# shellcheck shell=bash
# The fleet of the scan benchmarks, sourced by bench/scan.sh and bench/before_after.sh:
# `sshd_fleet DIR N PORT KEY ROOT_HOME KNOWN_HOSTS` starts N real sshd hosts, bench-1 … bench-N
# at 127.0.1.1 … 127.0.1.N:PORT, each in its own UTS and mount namespaces (its own hostname, and
# ROOT_HOME bound over /root, so this machine's dotfiles are not measured), letting root in with
# KEY (a private key; KEY.pub is authorized). Each host's key goes into KNOWN_HOSTS, its files
# and log under DIR/I, its PID onto the caller's array `pids` (stop them on exit). Returns when
# every host has sent its SSH banner; exits, with the log, when one never does.
# `fleet_port N`: one port free on all of 127.0.1.1 … 127.0.1.N, so that a hosts file needs no
# per-host port.
fleet_port() {
  python3 - "$1" <<'PY'
import socket, sys
n = int(sys.argv[1])
for _ in range(100):
    first = socket.socket()
    first.bind(("127.0.1.1", 0))
    port = first.getsockname()[1]
    held = [first]
    try:
        for i in range(2, n + 1):
            s = socket.socket()
            s.bind(("127.0.1.%d" % i, port))
            held.append(s)
    except OSError:
        continue
    finally:
        for s in held:
            s.close()
    print(port)
    break
PY
}

# `stock_root_home DIR`: root's home for the hosts with Debian's stock dotfiles (base-files),
# not this machine's: bash sources ~/.bashrc for every command run over SSH.
stock_root_home() {
  mkdir -p /run/sshd "$1"
  chmod 700 "$1"
  cp /usr/share/base-files/dot.bashrc "$1/.bashrc"
  cp /usr/share/base-files/dot.profile "$1/.profile"
}

# `stop_fleet`: ends the hosts whose PIDs are in `pids`. Each connection's sshd is a child of
# the listener and can outlive it (Ansible's ControlPersist keeps connections open for 60 s):
# those are ended first, by parent. For `trap stop_fleet EXIT`.
stop_fleet() {
  local pid
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null || true; done
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null || true
}

sshd_fleet() {
  local dir=$1 count=$2 port=$3 key=$4 roothome=$5 known=$6 i d banner
  for i in $(seq 1 "$count"); do
    d=$dir/$i
    mkdir -p "$d"
    ssh-keygen -q -t ed25519 -N '' -C "bench-$i" -f "$d/host_key"
    echo "[127.0.1.$i]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")" >> "$known"
    cat > "$d/sshd_config" <<EOF
ListenAddress 127.0.1.$i:$port
HostKey $d/host_key
AuthorizedKeysFile $key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile none
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 200
MaxSessions 100
Subsystem sftp internal-sftp
EOF
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare --uts --mount --propagation private -- sh -c \
      'printf %s "$1" > /proc/sys/kernel/hostname; mount --bind "$3" /root; exec /usr/sbin/sshd -D -e -f "$2"' \
      sh "bench-$i" "$d/sshd_config" "$roothome" 2> "$d/sshd.log" &
    pids+=($!)
  done
  for i in $(seq 1 "$count"); do
    for _ in $(seq 1 100); do
      banner=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.1.$i/$port && head -c 4 <&3" 2>/dev/null || true)
      [ "$banner" = "SSH-" ] && break
      sleep 0.1
    done
    [ "$banner" = "SSH-" ] || { echo "sshd bench-$i did not start:" >&2; cat "$dir/$i/sshd.log" >&2; exit 1; }
  done
}
