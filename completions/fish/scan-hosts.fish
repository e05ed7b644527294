complete -c scan-hosts -l hosts-file -d 'Read hosts from FILE, one per line (\'#\' starts a comment)' -r -F
complete -c scan-hosts -l new-identity -d 'Store HOSTNAME although its machine id or SSH host key differs from the one on file (it was reinstalled); without this such a host is refused, since another machine may be claiming its name (repeatable)' -r
complete -c scan-hosts -s l -l user -d 'Remote user for hosts that name none [default: ~/.ssh/config, [ssh] user, or yours]' -r
complete -c scan-hosts -s i -l identity -d 'Private key file to try first (repeatable)' -r -F
complete -c scan-hosts -s F -l ssh-config -d 'OpenSSH client config to read [default: ~/.ssh/config]' -r -F
complete -c scan-hosts -l known-hosts -d 'known_hosts file [default: [ssh] known_hosts, or ~/.ssh/known_hosts]' -r -F
complete -c scan-hosts -l concurrency -d 'Hosts scanned at once [default: 64, or [ssh] concurrency]' -r
complete -c scan-hosts -l connect-timeout -d 'Seconds to connect, shake hands and log in [default: 10, or [ssh] connect_timeout]' -r
complete -c scan-hosts -l command-timeout -d 'Seconds one host may take once logged in [default: 120, or [ssh] command_timeout]' -r
complete -c scan-hosts -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c scan-hosts -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c scan-hosts -l local -d 'Scan this machine, without SSH'
complete -c scan-hosts -l all -d 'Rescan every host in the catalog (over SSH, the way each was last reached)'
complete -c scan-hosts -l accept-new -d 'Accept and record the host key of hosts not in known_hosts (as ssh\'s StrictHostKeyChecking=accept-new); a changed key is still refused'
complete -c scan-hosts -l no-audit -d 'Do not read the hosts\' audit logs this time ([audit] enabled = false: never)'
complete -c scan-hosts -s h -l help -d 'Print help (see more with \'--help\')'
complete -c scan-hosts -s V -l version -d 'Print version'
