complete -c catalog-copy -l replace -d 'Delete whatever the target holds first (in the same transaction)'
complete -c catalog-copy -s h -l help -d 'Print help (see more with \'--help\')'
complete -c catalog-copy -s V -l version -d 'Print version'
