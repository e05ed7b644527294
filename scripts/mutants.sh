#!/usr/bin/env bash
# Mutation testing: how many deliberately planted bugs the tests catch, per module whose
# correctness is the product. cargo-mutants changes one thing at a time in a copy of the tree
# (a function returns a default, a `<` becomes `<=`, a `&&` an `||`, …), rebuilds, and runs the
# tests that exercise that module; a mutant the tests still pass on is a "survivor".
#
#   scripts/mutants.sh                 every module below, smallest first
#   scripts/mutants.sh version known_hosts   those modules, in that order
#   scripts/mutants.sh --list          the modules and how each is run
#
# Per module it prints mutants tried / caught / survived / unviable / timeout and the share of
# viable mutants (tried minus unviable) caught, and leaves cargo-mutants' own report in
# $MUTANTS_OUT/<module>/mutants.out (missed.txt lists the survivors, with file:line).
# Survivors that cannot change behaviour (equivalent mutants) are listed, each with its reason,
# in docs/MUTANTS.md; every other survivor is a missing test.
#
# Each run is scoped to the tests that exercise the module (the library's unit tests, which is
# where each of these modules keeps the tests of its rules), so that one run finishes in minutes
# on a small machine; -j 1 and a low priority leave the machine usable. Environment:
#   CARGO_TARGET_DIR  shared build directory (default /var/tmp/opskit-mutants-target), used
#                     at one job only (see below)
#   MUTANTS_OUT       where the reports go (default /var/tmp/opskit-mutants)
#   MUTANTS_JOBS      parallel builds (default 1); above 1, each job builds in its own copy
#   MUTANTS_IN_PLACE  1: mutate this tree itself instead of a copy (a scratch checkout only: the
#                     tree is restored after each mutant, but not if the run is killed);
#                     rebuilds stay incremental across modules
#   MUTANTS_ARGS      extra cargo-mutants options, e.g. "--re dpkg" to try only some functions
set -euo pipefail
cd "$(dirname "$0")/.."

# Smallest and most used first. module | files (cargo-mutants --file globs, space separated) | cargo args for build and test
# The test scope is `--lib`: each module's rules are tested by its own `#[cfg(test)] mod tests`.
# (Integration tests under tests/it run the binaries against real sshd, SNMP agents and
# package databases; rebuilding those per mutant takes far too long to be a routine check.)
MODULES=(
  "address|src/model/address.rs|--lib"
  "expect|src/query/expect.rs|--lib"
  "observations|src/catalog/observations.rs|--lib"
  "known_hosts|src/ssh/known_hosts.rs|--lib"
  "hosts_mod|src/collect/hosts/mod.rs|--lib"
  "remote|src/collect/hosts/remote.rs|--lib"
  "audit_mod|src/collect/audit/mod.rs|--lib"
  "record|src/collect/audit/record.rs|--lib"
  "normalise|src/collect/audit/normalise.rs|--lib"
  "subnets|src/net/subnets.rs|--lib"
  "logread|src/collect/audit/logread.rs|--lib"
  "placement|src/query/placement.rs|--lib"
  "version|src/model/version.rs|--lib"
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${MODULES[@]}" | tr '|' '\t'
  exit 0
fi

if ! command -v cargo-mutants >/dev/null; then
  cargo install --locked cargo-mutants
fi

jobs="${MUTANTS_JOBS:-1}"
if [ "$jobs" = 1 ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/opskit-mutants-target}"
else
  # Two jobs sharing one target directory race: cargo's lock serialises the builds, but job A
  # can run its tests on the binary job B just built with another mutant, so a mutant is
  # counted caught or survived by someone else's tests. Each job keeps the target directory
  # of its own copy of the tree instead (one full build per job, then incremental).
  unset CARGO_TARGET_DIR
fi
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0
# cargo-mutants copies the tree into a temporary directory: keep it on disk, not in tmpfs.
export TMPDIR="${TMPDIR:-/var/tmp}"
out="${MUTANTS_OUT:-/var/tmp/opskit-mutants}"
where=(-j "$jobs")
if [ "${MUTANTS_IN_PLACE:-}" = 1 ]; then where=(--in-place); fi
mkdir -p "$out"

# The modules named as arguments, in that order; else all of them.
selected=()
if (($#)); then
  for want in "$@"; do
    found=
    for m in "${MODULES[@]}"; do
      if [ "${m%%|*}" = "$want" ]; then
        selected+=("$m")
        found=1
      fi
    done
    if [ -z "$found" ]; then
      echo "unknown module $want (see --list)" >&2
      exit 2
    fi
  done
else
  selected=("${MODULES[@]}")
fi

summary=()
for m in "${selected[@]}"; do
  IFS='|' read -r name files cargo_args <<<"$m"
  file_args=()
  for f in $files; do file_args+=(--file "$f"); done
  c_args=()
  for a in $cargo_args; do c_args+=("--cargo-arg=$a"); done
  echo "== $name: $files" >&2
  # A mutant that makes a loop endless is cut off: tests get at least 20 s (and the usual
  # multiple of the clean run's time), a build at most 10 minutes.
  # Exit status 2 is "some mutants survived", 3 "some timed out": both are results.
  rc=0
  # shellcheck disable=SC2086
  nice -n 19 cargo mutants --no-shuffle "${where[@]}" -o "$out/$name" "${file_args[@]}" \
    "${c_args[@]}" --minimum-test-timeout 20 --build-timeout 600 ${MUTANTS_ARGS:-} || rc=$?
  case $rc in
  0 | 2 | 3) ;;
  *)
    echo "cargo mutants failed on $name (exit status $rc)" >&2
    exit "$rc"
    ;;
  esac
  d="$out/$name/mutants.out"
  count() { if [ -f "$d/$1" ]; then grep -c . "$d/$1" || true; else echo 0; fi; }
  caught=$(count caught.txt)
  missed=$(count missed.txt)
  unviable=$(count unviable.txt)
  timeout=$(count timeout.txt)
  tried=$((caught + missed + unviable + timeout))
  viable=$((tried - unviable))
  # A timeout is a mutant the tests did not let pass: it counts as caught in the share.
  pct=$(awk -v c="$((caught + timeout))" -v v="$viable" 'BEGIN { if (v) printf "%.1f", 100 * c / v; else print "-" }')
  line=$(printf '%-12s tried %4d  caught %4d  survived %3d  unviable %3d  timeout %3d  caught/viable %s%%' \
    "$name" "$tried" "$caught" "$missed" "$unviable" "$timeout" "$pct")
  summary+=("$line")
  echo "$line"
  if [ "$missed" -gt 0 ]; then sed 's/^/    survived: /' "$d/missed.txt"; fi
done

echo
printf '%s\n' "${summary[@]}"
