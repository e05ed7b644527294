complete -c whatis-host -l stale -d 'A host not scanned for longer than this is flagged in `disagreements` (30m, 12h, 7d, 2w)' -r
complete -c whatis-host -l dns-server -d 'DNS server to ask instead of the system\'s, as ADDR[:PORT]' -r
complete -c whatis-host -l dns-timeout -d 'Seconds to wait for a DNS answer [default: 2, or [dns] timeout in the config]' -r
complete -c whatis-host -l format -d 'Output format [default: table on a terminal, tsv otherwise]' -r -f -a "table\t'Aligned table (cards for single objects); the default on a terminal'
tsv\t'Tab-separated values, escaped, no header unless --header; the default when piped'
csv\t'Comma-separated values (RFC 4180)'
json\t'One JSON array of objects'
jsonl\t'One JSON object per line'"
complete -c whatis-host -s f -l fields -d 'Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)' -r
complete -c whatis-host -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c whatis-host -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c whatis-host -l no-dns -d 'Do not ask DNS; answer from the catalog only'
complete -c whatis-host -l json -d 'One JSON object per line (shorthand for --format jsonl)'
complete -c whatis-host -l header -d 'Print a header line in tsv and csv output'
complete -c whatis-host -s h -l help -d 'Print help (see more with \'--help\')'
complete -c whatis-host -s V -l version -d 'Print version'
