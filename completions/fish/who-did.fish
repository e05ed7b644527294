complete -c who-did -l host -d 'Only hosts matching GLOB or in group GROUP (repeatable, or comma-separated)' -r
complete -c who-did -s u -l user -d 'Only events by this person (login user: name or uid; repeatable, or comma-separated)' -r
complete -c who-did -l as -d 'Only events run as this user (name or uid; repeatable, or comma-separated)' -r
complete -c who-did -s k -l kind -d 'Only events of this kind (repeatable, or comma-separated)' -r
complete -c who-did -l key -d 'Only events with this audit rule key (repeatable, or comma-separated)' -r
complete -c who-did -l since -d 'Only events since WHEN: an age (30m, 12h, 7d, 2w) or an RFC 3339 time' -r
complete -c who-did -l until -d 'Only events before WHEN: an age or an RFC 3339 time' -r
complete -c who-did -l report -d 'The report for cron, over the last whole day, week or month' -r -f -a "daily\t''
weekly\t''
monthly\t''"
complete -c who-did -l input -d 'Read these audit logs (- for stdin) instead of the catalog' -r
complete -c who-did -l interval -d 'With --follow: seconds between reads of each log' -r
complete -c who-did -l exec -d 'With --follow: run CMD ARG… for each alert, the event as JSON on stdin (no shell; end the command with ";")' -r
complete -c who-did -l rate -d 'With --exec: run it at most N times a minute; alerts beyond are counted on stderr' -r
complete -c who-did -l passwd -d 'With --input: name users from this passwd file (the host\'s, copied with its log) where the log does not name them itself' -r -F
complete -c who-did -l format -d 'Output format [default: table on a terminal, tsv otherwise]' -r -f -a "table\t'Aligned table (cards for single objects); the default on a terminal'
tsv\t'Tab-separated values, escaped, no header unless --header; the default when piped'
csv\t'Comma-separated values (RFC 4180)'
json\t'One JSON array of objects'
jsonl\t'One JSON object per line'"
complete -c who-did -s f -l fields -d 'Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)' -r
complete -c who-did -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c who-did -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c who-did -l failed -d 'Only failed events'
complete -c who-did -l succeeded -d 'Only successful events'
complete -c who-did -l summary -d 'Count events per day, host, person and kind'
complete -c who-did -l follow -d 'Follow this machine\'s audit log (with --host, each host\'s over SSH) and print each event that matches an alert rule, as it happens'
complete -c who-did -l rules -d 'Print the recommended audit rules (for /etc/audit/rules.d/) and exit'
complete -c who-did -l json -d 'One JSON object per line (shorthand for --format jsonl)'
complete -c who-did -l header -d 'Print a header line in tsv and csv output'
complete -c who-did -s h -l help -d 'Print help (see more with \'--help\')'
complete -c who-did -s V -l version -d 'Print version'
