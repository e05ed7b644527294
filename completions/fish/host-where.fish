complete -c host-where -l hosts -d 'Only hosts matching GLOB, in group GROUP, or named on stdin with "-" (repeatable, or comma-separated)' -r
complete -c host-where -l stale -d 'Only hosts last scanned longer ago than AGE (30m, 12h, 7d, 2w) or before a time' -r
complete -c host-where -l seen-within -d 'Only hosts scanned within AGE (30m, 12h, 7d, 2w) or since a time' -r
complete -c host-where -l count -d 'Count the matching hosts per value of FACT, in the fact\'s order' -r
complete -c host-where -l changed-since -d 'List changes of the facts the terms name (all facts, without terms) since WHEN: an age (7d) or a time' -r
complete -c host-where -l format -d 'Output format [default: table on a terminal, tsv otherwise]' -r -f -a "table\t'Aligned table (cards for single objects); the default on a terminal'
tsv\t'Tab-separated values, escaped, no header unless --header; the default when piped'
csv\t'Comma-separated values (RFC 4180)'
json\t'One JSON array of objects'
jsonl\t'One JSON object per line'"
complete -c host-where -s f -l fields -d 'Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)' -r
complete -c host-where -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c host-where -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c host-where -l json -d 'One JSON object per line (shorthand for --format jsonl)'
complete -c host-where -l header -d 'Print a header line in tsv and csv output'
complete -c host-where -s h -l help -d 'Print help (see more with \'--help\')'
complete -c host-where -s V -l version -d 'Print version'
