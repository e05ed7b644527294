complete -c sshec2 -s t -l tag -d 'Only instances with this tag (VALUE may be a glob); repeatable' -r
complete -c sshec2 -s a -l asg -d 'A random InService, Healthy instance of this Auto Scaling group' -r
complete -c sshec2 -s p -l group-prefix -d 'The newest Auto Scaling group with this name prefix that has healthy instances' -r
complete -c sshec2 -l pick -d 'How to choose among several matches [default: ask on a terminal, else fail; random for -a and -p]' -r -f -a "random\t'Any one, at random'
newest\t'The most recently launched'
oldest\t'The longest running'
first\t'The first in listing order (Name, then id)'
fail\t'Refuse, listing the matches (exit 2)'"
complete -c sshec2 -s l -l login -d 'Remote user [default: USER@ of the target, else [ec2] user, else ssh\'s own choice]' -r
complete -c sshec2 -l address -d 'Which address to connect to [default: auto, or [ec2] address]' -r -f -a "auto\t'The public IPv4 address if there is one, else the private one'
public\t'The public IPv4 address'
private\t'The primary private IPv4 address'
ipv6\t'The first IPv6 address'"
complete -c sshec2 -l region -d 'AWS region to search; repeat to search several at once [default: [ec2] regions, else AWS_REGION or the profile\'s]' -r
complete -c sshec2 -l profile -d 'AWS profile [default: [ec2] profiles, else AWS_PROFILE or the default chain]' -r
complete -c sshec2 -l timeout -d 'Seconds to wait for a connection to AWS [default: 3, or [ec2] timeout]' -r
complete -c sshec2 -l format -d 'Output format [default: table on a terminal, tsv otherwise]' -r -f -a "table\t'Aligned table (cards for single objects); the default on a terminal'
tsv\t'Tab-separated values, escaped, no header unless --header; the default when piped'
csv\t'Comma-separated values (RFC 4180)'
json\t'One JSON array of objects'
jsonl\t'One JSON object per line'"
complete -c sshec2 -s f -l fields -d 'Fields to show, comma-separated, in this order (see OUTPUT FIELDS in the manual)' -r
complete -c sshec2 -l config -d 'Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]' -r -F
complete -c sshec2 -l catalog -d 'Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]' -r
complete -c sshec2 -l list -d 'List the matching instances instead of connecting'
complete -c sshec2 -l print -d 'Print the chosen address and exit (for scripts and ssh\'s ProxyCommand)'
complete -c sshec2 -l print-argv -d 'Print the ssh command line, shell-quoted, and exit'
complete -c sshec2 -l json -d 'One JSON object per line (shorthand for --format jsonl)'
complete -c sshec2 -l header -d 'Print a header line in tsv and csv output'
complete -c sshec2 -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sshec2 -s V -l version -d 'Print version'
