#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests talk to (run as
# root, or with sudo available), then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use as real peers and real tools:
#   sqlite3       the floor the catalog tests compare against
#   mandoc        lints the generated man pages
#   zsh fish      load the generated completions (bash is always there)
#   dnsmasq-base  a real DNS server on loopback
#   util-linux    unshare/setpriv/script: per-test hostnames, another user, a pty
#   ieee-data     the IEEE MAC vendor registry which-switch reads
#   openssh-server openssh-client  real sshd hosts for scan-hosts, and ssh-keygen
#   rpm           rpmbuild and rpm databases for rpm hosts; rpm's own version order
#   snmpd snmp    net-snmp's agent (SNMPv3 DES privacy) and snmpbulkwalk
#   libssl-dev pkg-config  libssh2 (the ssh2 crate) links OpenSSL
#   iproute2      ip: hosts with their own interfaces, in network namespaces, for whatis-ip
#   pacman-package-manager  libalpm, pacman's own version comparison (the tests call it)
#   python3-rpm   rpm's dependency rule (rpmdsCompare), the oracle for rpm version constraints
#   auditd sudo sshpass  a real audit daemon, and people who log in with passwords, sudo and su
#   linux-libc-dev  the kernel's syscall numbers, which the audit normaliser's tables are checked against
#   postgresql openssl  a real PostgreSQL server for the catalog, and a throw-away CA for its TLS
packages=(sqlite3 mandoc zsh fish dnsmasq-base util-linux ieee-data openssh-server openssh-client
  rpm snmpd snmp libssl-dev pkg-config iproute2 pacman-package-manager python3-rpm auditd sudo
  sshpass linux-libc-dev postgresql openssl)
command -v python3 >/dev/null || packages+=(python3)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
if ((${#missing[@]})); then
  "${sudo[@]}" apt-get update -qq
  # The tests start their own sshd, snmpd, dnsmasq and auditd; the packages' own services must
  # not start on install (the kernel takes one audit daemon, and the tests' must be it), so
  # invoke-rc.d is told no for the install, as Debian's policy-rc.d interface allows.
  policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    policy=/usr/sbin/policy-rc.d
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ -z "$policy" ] || "${sudo[@]}" rm -f "$policy"
fi

# snmpsim (the SNMP agent simulator the crawler is tested against) from PyPI, in a virtualenv
# kept outside the clone so CI reuses it; the versions tests/fixtures/snmp/ was checked with.
export OPSKIT_TEST_VENV="${OPSKIT_TEST_VENV:-/var/tmp/opskit-test-venv}"
if [ ! -x "$OPSKIT_TEST_VENV/bin/snmpsim-command-responder" ]; then
  python3 -m venv "$OPSKIT_TEST_VENV" 2>/dev/null || {
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq python3-venv
    python3 -m venv "$OPSKIT_TEST_VENV"
  }
  "$OPSKIT_TEST_VENV/bin/pip" install -q snmpsim==1.2.2 pysnmp==7.1.30 pysmi==2.0.0 cryptography
fi
# moto (EC2 and Auto Scaling for sshec2 and sync-ec2) and the aws CLI bench/sshec2.sh compares
# against, into the same virtualenv, also when it predates them.
if [ ! -x "$OPSKIT_TEST_VENV/bin/moto_server" ] || [ ! -x "$OPSKIT_TEST_VENV/bin/aws" ]; then
  "$OPSKIT_TEST_VENV/bin/pip" install -q 'moto[server]==5.2.5' awscli==1.46.3
fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --no-fail-fast
# Every catalog-facing integration test again on PostgreSQL (a server the tests start; one
# database per test). Skipped here: the tests that never open a catalog, and pg_*, which are
# PostgreSQL's own and ran above.
OPSKIT_TEST_CATALOG=postgres cargo test --locked --no-fail-fast --test it -- \
  --skip docs:: --skip layers:: --skip version_order:: --skip address_kinds:: \
  --skip fuzz_corpus:: --skip pg_catalog:: --skip pg_connect::

# Each fuzz target for a short bounded time (the long runs are scripts/fuzz.sh's default), when
# cargo-fuzz can be installed (it needs network access to crates.io the first time).
if cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked; then
  scripts/fuzz.sh "${OPSKIT_FUZZ_SECONDS:-20}"
else
  echo "test.sh: cargo-fuzz could not be installed; fuzz targets not run" >&2
fi
