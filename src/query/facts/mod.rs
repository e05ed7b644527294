//! host-where: which hosts match facts, how a fact's values spread across the fleet, and how
//! they changed.
//!
//! A question is terms ([`term`]) over facts ([`path`]): the system facts every scan gathers,
//! a few facts of the catalog's host record (`host`, `fqdn`, `first_seen`, `last_seen`), and
//! the config's custom facts, addressed into their JSON. Each fact has a kind ([`value`]) that
//! says how VALUE is read and how values compare; a custom fact's kind is inferred from what
//! the hosts reported. Facts and paths are checked against the catalog before anything is
//! answered, so a misspelt name is an error naming it, not an empty answer.

pub mod order;
pub mod path;
pub mod term;
pub mod value;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::catalog::{Catalog, FactHost, FactSource};
use crate::config::member_hostname;
use crate::error::{Error, Result};
use crate::input::glob_match;

use path::{Path, Step};
use term::{Term, Test};
use value::{Kind, Operand, display, match_text, sort_cmp_values};

/// Where a fact's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A system fact as the catalog stores it (its stored name).
    System(&'static str),
    /// A field of the host's own record.
    Record(RecordField),
    /// A custom fact (`[[fact]]` in the config).
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordField {
    Host,
    Fqdn,
    FirstSeen,
    LastSeen,
}

/// The facts every host has a slot for: (name, kind, where it comes from).
pub const SYSTEM_FACTS: &[(&str, Kind)] = &[
    ("host", Kind::Text),
    ("fqdn", Kind::Text),
    ("first_seen", Kind::Time),
    ("last_seen", Kind::Time),
    ("os", Kind::Text),
    ("os_id", Kind::Text),
    ("os_version", Kind::Text),
    ("kernel", Kind::Text),
    ("kernel_build", Kind::Text),
    ("arch", Kind::Text),
    ("cpu_model", Kind::Text),
    ("cpu_count", Kind::Number),
    ("memory", Kind::Number),
    ("memory_bytes", Kind::Number),
    ("hw_vendor", Kind::Text),
    ("hw_product", Kind::Text),
    ("hw_serial", Kind::Text),
    ("board_serial", Kind::Text),
    ("bios_version", Kind::Text),
    ("boot_time", Kind::Time),
    ("machine_id", Kind::Text),
    ("virtualization", Kind::Text),
];

fn origin(name: &str) -> Origin {
    match name {
        "host" => Origin::Record(RecordField::Host),
        "fqdn" => Origin::Record(RecordField::Fqdn),
        "first_seen" => Origin::Record(RecordField::FirstSeen),
        "last_seen" => Origin::Record(RecordField::LastSeen),
        // `memory<8GiB` reads better than `memory_bytes<8GiB`; both are the same fact.
        "memory" => Origin::System("memory_bytes"),
        _ => SYSTEM_FACTS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Origin::Custom, |(n, _)| Origin::System(n)),
    }
}

/// A path resolved against the catalog: where its values come from, and their kind.
#[derive(Debug, Clone)]
pub struct Fact {
    pub path: Path,
    pub kind: Kind,
    origin: Origin,
}

impl Fact {
    /// The name the catalog stores the fact under; `None` for the host record's fields.
    fn stored(&self) -> Option<&str> {
        match self.origin {
            Origin::System(n) => Some(n),
            Origin::Custom => Some(&self.path.fact),
            Origin::Record(_) => None,
        }
    }

    /// The values the fact's path selects on a host.
    fn values(&self, host: &FactHost) -> Vec<Value> {
        let whole: Option<Value> = match self.origin {
            Origin::Record(f) => Some(match f {
                RecordField::Host => Value::from(host.name.as_str()),
                RecordField::Fqdn => match &host.fqdn {
                    Some(f) => Value::from(f.as_str()),
                    None => return Vec::new(),
                },
                RecordField::FirstSeen => Value::from(host.first_seen),
                RecordField::LastSeen => Value::from(host.last_seen),
            }),
            Origin::System(n) => stored(host, n, FactSource::System).cloned(),
            Origin::Custom => stored(host, &self.path.fact, FactSource::Custom).cloned(),
        };
        match whole {
            Some(v) => self.path.select(&v).into_iter().cloned().collect(),
            None => Vec::new(),
        }
    }

    /// The fact on a host as one printable value: null when absent, the value, or a list when
    /// the path selects several.
    fn column(&self, host: &FactHost) -> Value {
        one(self.kind, self.values(host))
    }
}

fn one(kind: Kind, mut values: Vec<Value>) -> Value {
    match values.len() {
        0 => Value::Null,
        1 => display(kind, &values.remove(0)),
        _ => Value::Array(values.iter().map(|v| display(kind, v)).collect()),
    }
}

fn stored<'h>(host: &'h FactHost, name: &str, source: FactSource) -> Option<&'h Value> {
    host.facts
        .iter()
        .find(|f| f.source == source && f.name == name)
        .map(|f| &f.value)
}

/// A term bound to its fact, with VALUE read in the fact's kind.
struct Bound<'t> {
    term: &'t Term,
    fact: Fact,
    operand: Option<Operand>,
}

impl Bound<'_> {
    fn holds(&self, host: &FactHost) -> bool {
        let values = self.fact.values(host);
        let present = values.iter().any(|v| !v.is_null());
        match (&self.term.test, &self.operand) {
            (Test::Present, _) => present,
            (Test::Absent, _) => !present,
            // Any one value satisfying the test is enough: `raid.arrays[*].state=degraded`
            // is "some array is degraded".
            (Test::Regex { regex, negate }, _) => values
                .iter()
                .filter(|v| !v.is_null())
                .any(|v| regex.is_match(&match_text(v)) != *negate),
            (Test::Compare { op, .. }, Some(operand)) => values
                .iter()
                .filter(|v| !v.is_null())
                .any(|v| operand.holds(*op, v)),
            (Test::Compare { .. }, None) => false,
        }
    }
}

/// Which hosts a question considers besides its terms.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Lower-case hostname globs, matched against the name, the short name, the FQDN and the
    /// host part of the SSH target it was last scanned through; every host when empty.
    pub hosts: Vec<String>,
    /// Only hosts last seen before this time (`--stale`).
    pub seen_before: Option<i64>,
    /// Only hosts last seen at or after this time (`--seen-within`).
    pub seen_since: Option<i64>,
}

impl Scope {
    fn covers(&self, host: &FactHost) -> bool {
        if self.seen_before.is_some_and(|t| host.last_seen >= t)
            || self.seen_since.is_some_and(|t| host.last_seen < t)
        {
            return false;
        }
        if self.hosts.is_empty() {
            return true;
        }
        let name = host.name.to_lowercase();
        let short = name.split('.').next().unwrap_or(&name);
        let fqdn = host.fqdn.as_deref().map(str::to_lowercase);
        let target = host.target.as_deref().map(member_hostname);
        self.hosts.iter().any(|g| {
            glob_match(g, &name)
                || glob_match(g, short)
                || fqdn.as_deref().is_some_and(|f| glob_match(g, f))
                || target.as_deref().is_some_and(|t| glob_match(g, t))
        })
    }
}

/// A question: terms that must all hold, on the hosts in scope.
#[derive(Debug, Clone)]
pub struct Question {
    pub terms: Vec<Term>,
    pub scope: Scope,
    /// The time ages are counted back from.
    pub now: i64,
}

/// A matching host with the columns asked for.
#[derive(Debug, Clone)]
pub struct Match {
    pub host: String,
    pub fqdn: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    /// One value per column, in the order asked.
    pub columns: Vec<Value>,
}

/// One value of a fact and how many matching hosts have it.
#[derive(Debug, Clone)]
pub struct Count {
    /// The value (null: the hosts that do not report the fact).
    pub value: Value,
    pub hosts: usize,
}

/// A fact that changed on a host.
#[derive(Debug, Clone)]
pub struct FactChange {
    /// When the new value was first seen; for a fact that disappeared, when it was last seen.
    pub when: i64,
    pub host: String,
    /// The fact (path) as asked.
    pub fact: String,
    /// Null when the fact appeared.
    pub from: Value,
    /// Null when it disappeared.
    pub to: Value,
}

/// The facts a question and its columns read, loaded and checked.
struct Loaded<'q> {
    hosts: Vec<FactHost>,
    terms: Vec<Bound<'q>>,
}

/// Loads every host with the facts `terms` and `extra` name, resolves each against what the
/// catalog holds, and binds the terms' values.
fn load<'q>(
    catalog: &Catalog,
    q: &'q Question,
    extra: &[&Path],
) -> Result<(Loaded<'q>, Vec<Fact>)> {
    let mut names: Vec<String> = Vec::new();
    for p in q.terms.iter().map(|t| &t.path).chain(extra.iter().copied()) {
        let stored = match origin(&p.fact) {
            Origin::System(n) => n.to_string(),
            Origin::Custom => p.fact.clone(),
            Origin::Record(_) => continue,
        };
        if !names.contains(&stored) {
            names.push(stored);
        }
    }
    let hosts = catalog.fact_hosts(&names)?;
    let mut known: Option<Vec<String>> = None;
    let mut terms = Vec::new();
    for t in &q.terms {
        let fact = resolve(catalog, &hosts, &t.path, &mut known)
            .map_err(|(at, message)| t.error(t.path_at + at, message))?;
        let operand = match &t.test {
            Test::Compare {
                op,
                value,
                value_at,
            } => Some(
                Operand::parse(fact.kind, *op, value, q.now)
                    .map_err(|(at, message)| t.error(value_at + at, message))?,
            ),
            _ => None,
        };
        terms.push(Bound {
            term: t,
            fact,
            operand,
        });
    }
    let mut facts = Vec::new();
    for p in extra {
        facts.push(
            resolve(catalog, &hosts, p, &mut known)
                .map_err(|(at, message)| path_error(&p.text, at, message))?,
        );
    }
    Ok((Loaded { hosts, terms }, facts))
}

/// An error about a fact named outside a term (`--count`, `-f`).
pub fn path_error(text: &str, at: usize, message: impl std::fmt::Display) -> Error {
    Error::usage(format!("fact {text:?}, at character {}: {message}", at + 1))
}

/// Finds a path's fact in the catalog and its kind; an unknown fact or a path that leads
/// nowhere on every host is an error (where, why).
fn resolve(
    catalog: &Catalog,
    hosts: &[FactHost],
    path: &Path,
    known: &mut Option<Vec<String>>,
) -> std::result::Result<Fact, (usize, String)> {
    let from = origin(&path.fact);
    if let Origin::System(_) | Origin::Record(_) = from {
        if let Some(&at) = path.step_at.first() {
            return Err((
                at,
                format!("{} is a plain value: it has no keys or elements", path.fact),
            ));
        }
        let kind = SYSTEM_FACTS
            .iter()
            .find(|(n, _)| *n == path.fact)
            .map_or(Kind::Text, |(_, k)| *k);
        return Ok(Fact {
            path: path.clone(),
            kind,
            origin: from,
        });
    }
    let wholes: Vec<&Value> = hosts
        .iter()
        .filter_map(|h| stored(h, &path.fact, FactSource::Custom))
        .collect();
    if wholes.is_empty() {
        let names = match known {
            Some(n) => n,
            None => known.insert(catalog.fact_names().map_err(|e| (0, e.to_string()))?),
        };
        if !names.contains(&path.fact) {
            let custom: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .filter(|n| matches!(origin(n), Origin::Custom))
                .collect();
            return Err((
                0,
                format!(
                    "no host in the catalog has a fact named {:?} (custom facts: {}; system facts: {})",
                    path.fact,
                    if custom.is_empty() {
                        "none".to_string()
                    } else {
                        custom.join(", ")
                    },
                    SYSTEM_FACTS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        // Known from history only: nothing current to check the path or the kind against.
        return Ok(Fact {
            path: path.clone(),
            kind: Kind::Text,
            origin: from,
        });
    }
    // Walk the path step by step across every host, to name the first step that leads nowhere.
    let mut level: Vec<&Value> = wholes;
    for (i, step) in path.steps.iter().enumerate() {
        let next: Vec<&Value> = level
            .iter()
            .flat_map(|v| path::select(std::slice::from_ref(step), v))
            .collect();
        if next.is_empty() {
            return Err((path.step_at[i], nowhere(path, i, &level)));
        }
        level = next;
    }
    Ok(Fact {
        path: path.clone(),
        kind: Kind::infer(level.iter().copied()),
        origin: from,
    })
}

/// Why step `i` of `path` selects nothing on any host, with what is there instead.
fn nowhere(path: &Path, i: usize, level: &[&Value]) -> String {
    let before: String = path.text.chars().take(path.step_at[i]).collect();
    match &path.steps[i] {
        Step::Key(k) => {
            let mut keys: Vec<&str> = Vec::new();
            for v in level {
                if let Value::Object(o) = v {
                    for key in o.keys() {
                        if !keys.contains(&key.as_str()) && keys.len() < 20 {
                            keys.push(key);
                        }
                    }
                }
            }
            if keys.is_empty() {
                format!("no host's {before} is an object, so none has a key {k:?}")
            } else {
                format!(
                    "no host's {before} has a key {k:?} (keys seen: {})",
                    keys.join(", ")
                )
            }
        }
        Step::Index(n) => format!("no host's {before} is a list with an element {n}"),
        Step::Any => format!("no host's {before} is a list or an object"),
    }
}

/// The hosts in scope where every term holds, by name, with `columns` filled.
pub fn matching(catalog: &Catalog, q: &Question, columns: &[Path]) -> Result<Vec<Match>> {
    let extra: Vec<&Path> = columns.iter().collect();
    let (loaded, facts) = load(catalog, q, &extra)?;
    Ok(selected(&loaded, &q.scope)
        .map(|h| Match {
            host: h.name.clone(),
            fqdn: h.fqdn.clone(),
            first_seen: h.first_seen,
            last_seen: h.last_seen,
            columns: facts.iter().map(|f| f.column(h)).collect(),
        })
        .collect())
}

fn selected<'l>(loaded: &'l Loaded<'_>, scope: &'l Scope) -> impl Iterator<Item = &'l FactHost> {
    loaded
        .hosts
        .iter()
        .filter(move |h| scope.covers(h) && loaded.terms.iter().all(|t| t.holds(h)))
}

/// How many matching hosts have each value of `fact`, in the fact's order; hosts that do not
/// report it are counted last, under null. A host whose path selects several values counts
/// once under each.
pub fn count(catalog: &Catalog, q: &Question, fact: &Path) -> Result<Vec<Count>> {
    let (loaded, facts) = load(catalog, q, &[fact])?;
    let fact = &facts[0];
    let mut counts: Vec<(Value, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut absent = 0;
    for h in selected(&loaded, &q.scope) {
        let values: Vec<Value> = fact
            .values(h)
            .into_iter()
            .filter(|v| !v.is_null())
            .collect();
        if values.is_empty() {
            absent += 1;
            continue;
        }
        let mut seen = HashSet::new();
        for v in values {
            let key = v.to_string();
            if !seen.insert(key.clone()) {
                continue;
            }
            match index.get(&key) {
                Some(&i) => counts[i].1 += 1,
                None => {
                    index.insert(key, counts.len());
                    counts.push((v, 1));
                }
            }
        }
    }
    counts.sort_by(|a, b| sort_cmp_values(fact.kind, &a.0, &b.0));
    let mut out: Vec<Count> = counts
        .into_iter()
        .map(|(v, n)| Count {
            value: display(fact.kind, &v),
            hosts: n,
        })
        .collect();
    if absent > 0 {
        out.push(Count {
            value: Value::Null,
            hosts: absent,
        });
    }
    Ok(out)
}

/// How `facts` changed since `since` on the matching hosts, oldest first: a new value, a fact
/// that appeared after the host's first scan, or one that disappeared (a host's first scan is
/// its baseline, not a change). With no facts, every fact the catalog holds.
pub fn changes(
    catalog: &Catalog,
    q: &Question,
    facts: &[Path],
    since: i64,
) -> Result<Vec<FactChange>> {
    let all: Vec<Path>;
    let facts: &[Path] = if facts.is_empty() {
        all = catalog.fact_names()?.into_iter().map(Path::whole).collect();
        &all
    } else {
        facts
    };
    let extra: Vec<&Path> = facts.iter().collect();
    let (loaded, resolved) = load(catalog, q, &extra)?;
    let hosts: HashMap<i64, &FactHost> = selected(&loaded, &q.scope).map(|h| (h.id, h)).collect();
    let mut out = Vec::new();
    for fact in &resolved {
        let Some(name) = fact.stored() else {
            return Err(Error::usage(format!(
                "{} is not kept with history; --changed-since follows the facts scans store",
                fact.path.text
            )));
        };
        let source = match fact.origin {
            Origin::System(_) => FactSource::System,
            _ => FactSource::Custom,
        };
        let rows = catalog.fact_history(name, since)?;
        for run in rows.chunk_by(|a, b| a.host_id == b.host_id) {
            let Some(host) = hosts.get(&run[0].host_id) else {
                continue;
            };
            let mut previous: Option<Value> = None;
            let mut last = None;
            for row in run.iter().filter(|r| r.source == source) {
                let now = one(
                    fact.kind,
                    fact.path.select(&row.value).into_iter().cloned().collect(),
                );
                let change = match &previous {
                    None => row.first_seen > host.first_seen && !now.is_null(),
                    Some(before) => *before != now,
                };
                if change && row.first_seen >= since {
                    out.push(FactChange {
                        when: row.first_seen,
                        host: host.name.clone(),
                        fact: fact.path.text.clone(),
                        from: previous.clone().unwrap_or(Value::Null),
                        to: now.clone(),
                    });
                }
                previous = Some(now);
                last = Some(row);
            }
            // Retired with no successor while the host is still scanned: the fact went away.
            if let (Some(row), Some(before)) = (last, previous)
                && !row.current
                && host.last_seen > row.last_seen
                && row.last_seen >= since
                && !before.is_null()
            {
                out.push(FactChange {
                    when: row.last_seen,
                    host: host.name.clone(),
                    fact: fact.path.text.clone(),
                    from: before,
                    to: Value::Null,
                });
            }
        }
    }
    out.sort_by(|a, b| (a.when, &a.host, &a.fact).cmp(&(b.when, &b.host, &b.fact)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_fact_a_scan_stores_can_be_asked_for() {
        use crate::model::host::{SystemFacts, Virtualization};
        let text = || Some("x".to_string());
        // Every field set, so that `entries` names every fact a scan can store.
        let all = SystemFacts {
            os: text(),
            os_id: text(),
            os_version: text(),
            kernel: text(),
            kernel_build: text(),
            arch: text(),
            cpu_model: text(),
            cpu_count: Some(1),
            memory_bytes: Some(1),
            hw_vendor: text(),
            hw_product: text(),
            hw_serial: text(),
            board_serial: text(),
            bios_version: text(),
            boot_time: Some(1),
            machine_id: text(),
            virtualization: Some(Virtualization::Vm),
        };
        for (name, value) in all.entries() {
            assert!(
                matches!(origin(name), Origin::System(n) if n == name),
                "{name}"
            );
            let kind = SYSTEM_FACTS.iter().find(|(n, _)| *n == name).unwrap().1;
            let expected = match value {
                Value::Number(_) if name == "boot_time" => Kind::Time,
                Value::Number(_) => Kind::Number,
                _ => Kind::Text,
            };
            assert_eq!(kind, expected, "{name}");
        }
        assert!(matches!(origin("memory"), Origin::System("memory_bytes")));
        assert!(matches!(origin("docker"), Origin::Custom));
    }
}
