complete -c scan-hosts -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c scan-hosts -l catalog -d 'Catalog file [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r -F
complete -c scan-hosts -l local -d 'Scan this machine, without SSH'
complete -c scan-hosts -s h -l help -d 'Print help (see more with \'--help\')'
complete -c scan-hosts -s V -l version -d 'Print version'
