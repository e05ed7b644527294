complete -c pkg-where -l version -d 'Only versions satisfying CONSTRAINT: =V, !=V, <V, <=V, >V, >=V, bare V, or several joined by commas (>=1.0,<2.0)' -r
complete -c pkg-where -l expectations -d 'Expectations file for --drift [default: [packages] expectations in the config, else $XDG_CONFIG_HOME/opskit/expected.toml]' -r -F
complete -c pkg-where -l expect-from -d 'Expect every host to have HOST\'s packages at HOST\'s versions (implies --drift)' -r
complete -c pkg-where -l hosts -d 'With --drift: only judge hosts whose name matches GLOB (repeatable)' -r
complete -c pkg-where -l since -d 'With --changes: how far back, as an age (30m, 12h, 1d, 2w) or an RFC 3339 time' -r
complete -c pkg-where -l format -d 'Output format [default: table on a terminal, tsv otherwise]' -r -f -a "table\t'Aligned table (cards for single objects); the default on a terminal'
tsv\t'Tab-separated values, escaped, no header unless --header; the default when piped'
csv\t'Comma-separated values (RFC 4180)'
json\t'One JSON array of objects'
jsonl\t'One JSON object per line'"
complete -c pkg-where -s f -l fields -d 'Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)' -r
complete -c pkg-where -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c pkg-where -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c pkg-where -s V -d 'Print version'
complete -c pkg-where -l missing -d 'List the hosts that lack the package: hosts with an inventory of a package manager under which the package is installed somewhere'
complete -c pkg-where -l summary -d 'Count hosts per package, manager and version, in the manager\'s version order'
complete -c pkg-where -l drift -d 'List hosts whose packages differ from the expectations (see above); exit 1 when any do'
complete -c pkg-where -l changes -d 'List package installs, upgrades, downgrades and removals per host since --since'
complete -c pkg-where -l json -d 'One JSON object per line (shorthand for --format jsonl)'
complete -c pkg-where -l header -d 'Print a header line in tsv and csv output'
complete -c pkg-where -s h -l help -d 'Print help (see more with \'--help\')'
