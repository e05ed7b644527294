//! Which hosts a scan-hosts run reaches: the words a user gave (arguments, hosts files, stdin,
//! `--all`) turned into SSH targets, with the config's `[groups]` expanded (groups may name
//! groups; a member with glob characters matches the hosts the catalog and the `[[host]]`
//! entries know).

use std::collections::BTreeSet;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
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
    let mut known_names: Option<Vec<String>> = None;
    let mut seen = BTreeSet::new();
    let mut targets = Vec::new();
    let mut stack: Vec<(String, usize)> = words.iter().rev().map(|w| (w.clone(), 0)).collect();
    while let Some((word, depth)) = stack.pop() {
        if let Some(members) = config.groups.get(&word) {
            if depth > 8 {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("group {word:?} nests too deep (a cycle?)"),
                ));
            }
            stack.extend(members.iter().rev().map(|m| (m.clone(), depth + 1)));
            continue;
        }
        if depth > 0 && has_wildcard(&word) {
            let names = match &known_names {
                Some(n) => n,
                None => known_names.insert(candidate_names(config, catalog)?),
            };
            for name in names.iter().filter(|n| glob_matches(&word, n)) {
                if seen.insert(name.clone()) {
                    targets.push(name.parse()?);
                }
            }
            continue;
        }
        let target: Target = word.parse()?;
        if seen.insert(target.to_string()) {
            targets.push(target);
        }
    }
    Ok(targets)
}

/// Host names a group glob can match: concrete `[[host]]` names and hosts in the catalog.
fn candidate_names(config: &Config, catalog: &Catalog) -> Result<Vec<String>> {
    let mut names: Vec<String> = config
        .hosts
        .iter()
        .map(|h| h.name.clone())
        .filter(|n| !has_wildcard(n))
        .collect();
    names.extend(catalog.host_targets()?.into_iter().map(|(name, _)| name));
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
