#!/usr/bin/env bash
# Benchmark of host-where against what a user would otherwise run, on the 10,000-host 'facts'
# catalog of bench/lib/synthetic_catalog.sh (8 kernels, 4 OS versions, 7 memory sizes, a JSON
# custom fact, each host's previous kernel as history):
#   host-where 'kernel<6.1' 'memory<16GiB'   vs  the sqlite3 shell running one SQL join (the
#                                                floor: no version order, no parsing, no checks)
#                                            vs  whatis-host --json of every host piped to jq
#   host-where --count os_version            vs  the same two
# The answers are checked to agree before anything is timed (the sqlite3 query compares kernels
# as text, which happens to give the same hosts on these eight kernels; jq splits the kernel on
# dots and dashes and compares the first two numbers).
#
# OPSKIT_BENCH_RUNS runs of the fast commands (default 20) and 3 of the jq pipelines, medians.
# Target (issue 14): each host-where under 100 ms. Root only to install hyperfine, sqlite3 or jq
# when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${OPSKIT_BENCH_DIR:-/var/tmp/opskit-bench}
mkdir -p "$work"
hosts=10000 packages=0
runs=${OPSKIT_BENCH_RUNS:-20}
((runs >= 2)) || { echo "need OPSKIT_BENCH_RUNS >= 2" >&2; exit 2; }

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v jq >/dev/null || need+=(jq)
if ((${#need[@]})); then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}"
fi

cargo build --release --locked -q
bin=$PWD/target/release
[ -d "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/release

# shellcheck source=bench/lib/synthetic_catalog.sh
. bench/lib/synthetic_catalog.sh
synthetic_catalog facts
echo "catalog: $catalog ($(du -h "$catalog" | cut -f1))" >&2

tmp=$(mktemp -d "$work/host_where.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config OPSKIT_CATALOG=$catalog
unset OPSKIT_CONFIG
sqlite3 "$catalog" 'SELECT name FROM hosts ORDER BY name' >"$tmp/hosts"

terms_sql="SELECT h.name FROM hosts h
  JOIN host_facts k ON k.host_id = h.id AND k.name = 'kernel' AND k.current = 1
  JOIN host_facts m ON m.host_id = h.id AND m.name = 'memory_bytes' AND m.current = 1
 WHERE k.value < '\"6.1\"' AND CAST(m.value AS INTEGER) < 17179869184 ORDER BY h.name;"
count_sql="SELECT json_extract(value, '\$'), count(*) FROM host_facts
 WHERE name = 'os_version' AND current = 1 GROUP BY value;"
cat >"$tmp/terms.jq" <<'JQ'
select((.kernel | [splits("[.-]")] | .[0:2] | map(tonumber? // 0)) < [6, 1]
       and .memory_bytes < 17179869184) | .host
JQ
cat >"$tmp/count.jq" <<'JQ'
group_by(.os_version)[] | "\(.[0].os_version)\t\(length)"
JQ
whatis="$bin/whatis-host --no-dns --json -f host,kernel,memory_bytes,os_version < $tmp/hosts"

# The same answers, or nothing is timed.
"$bin/host-where" -f host 'kernel<6.1' 'memory<16GiB' >"$tmp/a.opskit"
sqlite3 "$catalog" "$terms_sql" >"$tmp/a.sqlite"
sh -c "$whatis | jq -r -f $tmp/terms.jq" >"$tmp/a.jq"
"$bin/host-where" --count os_version | sort >"$tmp/c.opskit"
sqlite3 -separator $'\t' "$catalog" "$count_sql" | sort >"$tmp/c.sqlite"
sh -c "$whatis | jq -rs -f $tmp/count.jq" | sort >"$tmp/c.jq"
for f in a c; do
  cmp -s "$tmp/$f.opskit" "$tmp/$f.sqlite" && cmp -s "$tmp/$f.opskit" "$tmp/$f.jq" || {
    echo "answers differ ($f):" >&2
    wc -l "$tmp/$f".* >&2
    exit 1
  }
done
echo "checked: $(wc -l <"$tmp/a.opskit") hosts match the terms; $(wc -l <"$tmp/c.opskit") OS versions" >&2

json=$tmp/json
mkdir -p "$json"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$json/fast.json" \
  -n "host-where terms" "$bin/host-where 'kernel<6.1' 'memory<16GiB'" \
  -n "sqlite3 terms" "sqlite3 $catalog \"$terms_sql\"" \
  -n "host-where --count" "$bin/host-where --count os_version" \
  -n "sqlite3 --count" "sqlite3 $catalog \"$count_sql\"" \
  --output=null >&2
hyperfine --warmup 1 --runs 3 --export-json "$json/jq.json" \
  -n "jq terms" "$whatis | jq -r -f $tmp/terms.jq" \
  -n "jq --count" "$whatis | jq -rs -f $tmp/count.jq" \
  --output=null >&2

python3 - "$json" <<'PY'
import json, sys
d = sys.argv[1]
r = {}
for f in ("fast", "jq"):
    for x in json.load(open(f"{d}/{f}.json"))["results"]:
        r[x["command"]] = x
print(f"{'question':<10} {'host-where ms':>14} {'sqlite3 ms':>11} {'jq pipeline ms':>15} {'vs sqlite3':>11} {'vs jq':>8}")
for q, name in (("terms", "terms"), ("count", "--count")):
    ours = r[f"host-where {name}"]["median"] * 1000
    lite = r[f"sqlite3 {name}"]["median"] * 1000
    jq = r[f"jq {name}"]["median"] * 1000
    print(f"{q:<10} {ours:>14.1f} {lite:>11.1f} {jq:>15.0f} {ours / lite:>10.2f}x {jq / ours:>7.0f}x")
print("(vs sqlite3: host-where's time over the floor's; vs jq: how many times faster host-where is)")
PY
