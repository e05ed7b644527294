//! Which hosts a scan-hosts run reaches: the words a user gave (arguments, hosts files, stdin,
//! `--all`) turned into SSH targets, with the config's `[groups]` expanded (groups may name
//! groups; a member with glob characters matches the hosts the catalog and the `[[host]]`
//! entries know, and becomes the target each was last reached at, never a name a host reported).

use std::collections::BTreeSet;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::Result;
use crate::ssh::Target;

/// The hosts of a hosts file: one per line, blank lines and `#` comments ignored.
pub fn hosts_file_words(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect()
}

/// Turns words into targets: a `[groups]` name becomes its members (groups may name groups;
/// a member with glob characters matches the hosts the catalog and the `[[host]]` entries
/// know), anything else is a target. Duplicates are scanned once.
pub fn expand(config: &Config, words: &[String], catalog: &Catalog) -> Result<Vec<Target>> {
    let mut known: Option<Vec<(String, String)>> = None;
    let mut seen = BTreeSet::new();
    let mut targets = Vec::new();
    for word in words {
        // Each group is expanded once, however deep and however often it is named.
        let (members, grouped) = match config.group_members(word)? {
            Some(members) => (members, true),
            None => (vec![word.clone()], false),
        };
        for member in members {
            if grouped && has_wildcard(&member) {
                let candidates = match &known {
                    Some(c) => c,
                    None => known.insert(candidate_names(config, catalog)?),
                };
                for (_, target) in candidates.iter().filter(|(n, _)| glob_matches(&member, n)) {
                    let target: Target = target.parse()?;
                    if seen.insert(target.to_string()) {
                        targets.push(target);
                    }
                }
                continue;
            }
            let target: Target = member.parse()?;
            if seen.insert(target.to_string()) {
                targets.push(target);
            }
        }
    }
    Ok(targets)
}

/// What a group glob can match, as (name matched, target scanned): concrete `[[host]]` names,
/// which are their own targets, and hosts in the catalog with the SSH target their last scan
/// connected to. A hostname a host reports about itself is never a target: a host that calls
/// itself `root@10.0.0.9:22` must not send the next scan to 10.0.0.9 as root. Hosts last
/// scanned locally have no SSH target and are left out.
fn candidate_names(config: &Config, catalog: &Catalog) -> Result<Vec<(String, String)>> {
    let mut names: Vec<(String, String)> = config
        .hosts
        .iter()
        .filter(|h| !has_wildcard(&h.name))
        .map(|h| (h.name.clone(), h.name.clone()))
        .collect();
    names.extend(
        catalog
            .host_targets()?
            .into_iter()
            .filter_map(|(name, target)| Some((name, target?))),
    );
    names.sort();
    names.dedup();
    Ok(names)
}

/// Host globs use `*` and `?` only: `[` starts an IPv6 address in a target.
fn has_wildcard(word: &str) -> bool {
    word.contains(['*', '?'])
}

fn glob_matches(pattern: &str, name: &str) -> bool {
    crate::ssh::known_hosts::wildcard(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_files_allow_comments_and_blank_lines() {
        assert_eq!(
            hosts_file_words("# fleet\nweb-1\n\n  root@db-1:2222  # primary\nweb-2 web-3\n"),
            ["web-1", "root@db-1:2222", "web-2", "web-3"]
        );
    }
}
