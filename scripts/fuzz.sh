#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/, entry points in fuzz/src/lib.rs) for SECONDS each
# (default 600), one after the other, and prints executions and coverage per target. A crash, a
# failed check, an input slower than 10 s or over 2 GB of memory fails the run; libFuzzer keeps
# the input in fuzz/artifacts/TARGET/ (replay: cargo fuzz run TARGET FILE, or add it to
# fuzz/corpus/TARGET/ and run cargo test).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each run starts from the committed corpus (fuzz/corpus/TARGET/, replayed by every cargo test)
# and writes what it finds to a scratch corpus under the target dir, so the committed one stays
# small. FUZZ_MERGE=1 adds to the committed corpus the finds that reach the most code it does not
# reach yet, up to FUZZ_CORPUS_CAP inputs per target (default 45; fuzz/pick_corpus.py).
#
# cargo fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them. The targets reach only safe Rust (the C libraries, libssh2 and SQLite, are not
# on these paths), so they are built without AddressSanitizer, which would halve the
# executions for nothing; debug assertions are on, so that an arithmetic overflow a hostile
# input causes is a crash here as it is a panic in a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
fuzz=(cargo fuzz run --sanitizer none --debug-assertions --target-dir "$target_dir")

if (($#)); then
  targets=("$@")
else
  mapfile -t targets < <(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//')
fi

failed=()
printf '%-14s %12s %8s %8s %8s  %s\n' target executions exec/s cov ft result
for t in "${targets[@]}"; do
  scratch="$target_dir/corpus/$t"
  mkdir -p "$scratch" "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="$target_dir/$t.log"
  status=0
  "${fuzz[@]}" "$t" "$scratch" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  # libFuzzer's last status line ("#N ... cov: C ft: F ...") and its "Done N runs" line.
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  if ((status == 0)); then
    result=ok
  else
    result="FAILED (exit $status): $(grep -m1 -oE 'Test unit written to .*' "$log" || echo "see $log")"
    failed+=("$t")
  fi
  printf '%-14s %12s %8s %8s %8s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$result"
  if ((status != 0)); then
    grep -m1 -A12 -E "panicked at|ERROR: libFuzzer" "$log" | sed 's/^/    /' || true
  elif [ "${FUZZ_MERGE:-0}" = 1 ]; then
    # A merge into an empty directory only to have libFuzzer list each input's edges.
    empty="$target_dir/merge-empty"
    rm -rf "$empty" && mkdir -p "$empty"
    "${fuzz[@]}" "$t" "$empty" "fuzz/corpus/$t" "$scratch" -- -merge=1 -use_counters=0 \
      -merge_control_file="$target_dir/$t.merge" >>"$log" 2>&1
    python3 fuzz/pick_corpus.py "$target_dir/$t.merge" "fuzz/corpus/$t" "${FUZZ_CORPUS_CAP:-45}"
  fi
done

if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
