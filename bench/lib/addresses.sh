# shellcheck shell=bash
# The addresses whatis-ip is fed in bench/whatis.sh and bench/before_after.sh:
# `bench_addresses OUT N HOSTS NAMES` writes N addresses to OUT, one a line, of the synthetic
# catalog's HOSTS hosts (19 in 20 known: IPv4 10.0.x.y, and every 20th of those IPv6
# 2001:db8:0:…), every 20th one that nothing knows (10.99.x.y); and the name DNS should give each
# known address to NAMES, as dnsmasq's hosts file wants it.
bench_addresses() {
  awk -v n="$2" -v hosts="$3" -v names="$4" 'BEGIN {
    for (i = 1; i <= n; i++) {
      h = (i - 1) % hosts + 1
      if (i % 20 == 0) { printf "10.99.%d.%d\n", int(i / 256), i % 256; continue }
      if (i % 20 == 10) a = sprintf("2001:db8:0:%x::%x", h, h)
      else a = sprintf("10.0.%d.%d", int(h / 256), h % 256)
      print a
      printf "%s host-%05d.bench.example\n", a, h > names
    } }' > "$1"
}
