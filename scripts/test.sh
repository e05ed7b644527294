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
packages=(sqlite3 mandoc zsh fish dnsmasq-base util-linux)
command -v python3 >/dev/null || packages+=(python3)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
