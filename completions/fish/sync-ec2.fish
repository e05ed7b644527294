complete -c sync-ec2 -l region -d 'AWS region to read; repeatable [default: [ec2] regions, else AWS_REGION or the profile\'s]' -r
complete -c sync-ec2 -l profile -d 'AWS profile to read; repeatable [default: [ec2] profiles, else the default chain]' -r
complete -c sync-ec2 -l timeout -d 'Seconds to wait for a connection to AWS [default: 3, or [ec2] timeout]' -r
complete -c sync-ec2 -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c sync-ec2 -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c sync-ec2 -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sync-ec2 -s V -l version -d 'Print version'
