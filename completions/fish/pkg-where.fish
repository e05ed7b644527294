complete -c pkg-where -l format -d 'Output format [default: table on a terminal, tsv otherwise]' -r -f -a "table\t'Aligned table (cards for single objects); the default on a terminal'
tsv\t'Tab-separated values, escaped, no header unless --header; the default when piped'
csv\t'Comma-separated values (RFC 4180)'
json\t'One JSON array of objects'
jsonl\t'One JSON object per line'"
complete -c pkg-where -s f -l fields -d 'Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)' -r
complete -c pkg-where -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c pkg-where -l catalog -d 'Catalog file [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r -F
complete -c pkg-where -l json -d 'One JSON object per line (shorthand for --format jsonl)'
complete -c pkg-where -l header -d 'Print a header line in tsv and csv output'
complete -c pkg-where -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pkg-where -s V -l version -d 'Print version'
