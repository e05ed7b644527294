complete -c crawl-switches -l concurrency -d 'Devices crawled at once [default: 32, or [snmp] concurrency]' -r
complete -c crawl-switches -l timeout -d 'Seconds to wait for one SNMP answer [default: 2, or [snmp] timeout]' -r
complete -c crawl-switches -l retries -d 'Retries after a timeout [default: 1, or [snmp] retries]' -r
complete -c crawl-switches -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c crawl-switches -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c crawl-switches -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crawl-switches -s V -l version -d 'Print version'
