# shellcheck shell=bash
# The simulated switches of the crawl benchmarks, sourced by bench/crawl.sh and
# bench/before_after.sh: `switch_recordings DIR SWITCHES ENTRIES` writes DIR/sw1.snmprec …
# DIR/swSWITCHES.snmprec (system group, 48 ports, bridge ports and ENTRIES learned MACs each),
# once: a DIR that already has the last one is kept, so both scripts share the cached files.
switch_recordings() {
  [ -f "$1/sw$2.snmprec" ] && return 0
  mkdir -p "$1"
  python3 - "$1" "$2" "$3" <<'PY'
import sys
data, switches, entries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for s in range(1, switches + 1):
    recs = [("1.3.6.1.2.1.1.1.0", "4", "bench switch %d" % s),
            ("1.3.6.1.2.1.1.3.0", "67", "100"),
            ("1.3.6.1.2.1.1.5.0", "4", "sw%d" % s),
            ("1.3.6.1.2.1.17.1.1.0", "4x", "0200%08x" % s)]
    for p in range(1, 49):
        recs += [("1.3.6.1.2.1.2.2.1.2.%d" % p, "4", "port%d" % p),
                 ("1.3.6.1.2.1.2.2.1.8.%d" % p, "2", "1"),
                 ("1.3.6.1.2.1.31.1.1.1.1.%d" % p, "4", "ge%d" % p),
                 ("1.3.6.1.2.1.17.1.4.1.2.%d" % p, "2", str(p))]
    for e in range(entries):
        mac = [0x00, 0x1b, s, (e >> 8) & 255, e & 255, 1]
        recs.append(("1.3.6.1.2.1.17.4.3.1.2." + ".".join(map(str, mac)), "2", str(e % 48 + 1)))
    recs.sort(key=lambda r: [int(x) for x in r[0].split(".")])
    with open("%s/sw%d.snmprec" % (data, s), "w") as f:
        f.write("".join("%s|%s|%s\n" % r for r in recs))
PY
}
