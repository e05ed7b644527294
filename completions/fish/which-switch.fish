complete -c which-switch -l port -d 'What is, and was, plugged into a port: SWITCH (sysName or address) and PORT (ifName, ifDescr, ifAlias or ifIndex)' -r
complete -c which-switch -l since -d 'With --moves: how far back, as an age (30m, 12h, 1d, 2w) or an RFC 3339 time' -r
complete -c which-switch -l dns-server -d 'DNS server to ask instead of the system\'s, as ADDR[:PORT]' -r
complete -c which-switch -l dns-timeout -d 'Seconds to wait for a DNS answer [default: 2, or [dns] timeout in the config]' -r
complete -c which-switch -l format -d 'Output format [default: table on a terminal, tsv otherwise]' -r -f -a "table\t'Aligned table (cards for single objects); the default on a terminal'
tsv\t'Tab-separated values, escaped, no header unless --header; the default when piped'
csv\t'Comma-separated values (RFC 4180)'
json\t'One JSON array of objects'
jsonl\t'One JSON object per line'"
complete -c which-switch -s f -l fields -d 'Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)' -r
complete -c which-switch -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c which-switch -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c which-switch -l all -d 'List every place the MAC is seen, uplinks included, each with its role'
complete -c which-switch -l history -d 'The timeline of every port the MAC has been seen on, current and past'
complete -c which-switch -l moves -d 'Every MAC that moved to another port of the same switch (see --since): a cron report'
complete -c which-switch -l live -d 'Crawl the switches concerned first (where the MACs were last seen, and routers), then answer; every configured switch when a MAC was never seen'
complete -c which-switch -l no-dns -d 'Do not ask DNS; answer from the catalog only'
complete -c which-switch -l json -d 'One JSON object per line (shorthand for --format jsonl)'
complete -c which-switch -l header -d 'Print a header line in tsv and csv output'
complete -c which-switch -s h -l help -d 'Print help (see more with \'--help\')'
complete -c which-switch -s V -l version -d 'Print version'
