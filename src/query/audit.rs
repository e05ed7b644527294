//! The audit trail's questions: events that match a filter, counted per day, host, person and
//! kind (`--summary`), and the periodic report cron mails (`--report`): root logins, failed
//! logins by source, sudo and su by person with the commands, changes to watched files and
//! accounts, people not seen before, and hosts whose audit log could not be read.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{AuditLogStatus, Catalog};
use crate::error::Result;
use crate::input::glob_match;
use crate::model::audit::{Event, Filter, Kind};

/// An event with the host it happened on.
#[derive(Debug, Clone)]
pub struct HostEvent {
    pub host: String,
    pub event: Event,
}

/// Hosts as lower-case globs (empty: every host).
pub fn host_selected(globs: &[String], host: &str) -> bool {
    if globs.is_empty() {
        return true;
    }
    let name = host.to_lowercase();
    let short = name.split('.').next().unwrap_or(&name).to_string();
    globs
        .iter()
        .any(|g| glob_match(g, &name) || glob_match(g, &short))
}

/// The events in the catalog that match, oldest first, each handed to `each`.
pub fn events(
    catalog: &Catalog,
    hosts: &[String],
    filter: &Filter,
    each: &mut dyn FnMut(HostEvent) -> Result<()>,
) -> Result<()> {
    catalog.audit_events(filter, &mut |host, event| {
        if host_selected(hosts, host) && filter.matches(&event) {
            each(HostEvent {
                host: host.to_string(),
                event,
            })?;
        }
        Ok(())
    })
}

/// One line of `--summary`: how many events of a kind a person caused on a host in a day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SummaryRow {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub host: String,
    pub actor: Option<String>,
    pub kind: Kind,
    pub events: u64,
    pub failed: u64,
}

/// Counts events per (day, host, actor, kind).
#[derive(Debug, Default)]
pub struct Summary {
    counts: BTreeMap<SummaryKey, (u64, u64)>,
}

/// Day, host, actor, kind.
type SummaryKey = (String, String, Option<String>, Kind);

impl Summary {
    pub fn add(&mut self, host: &str, e: &Event) {
        let day = day_of(e.time());
        let c = self
            .counts
            .entry((day, host.to_string(), e.actor.label(), e.kind))
            .or_default();
        c.0 += 1;
        c.1 += u64::from(e.success == Some(false));
    }

    pub fn rows(self) -> Vec<SummaryRow> {
        self.counts
            .into_iter()
            .map(|((day, host, actor, kind), (events, failed))| SummaryRow {
                day,
                host,
                actor,
                kind,
                events,
                failed,
            })
            .collect()
    }
}

/// `YYYY-MM-DD` of a Unix time, UTC.
pub fn day_of(seconds: i64) -> String {
    let s = crate::clock::format(seconds);
    s.get(..10).unwrap_or(&s).to_string()
}

/// The report's sections, in the order printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    RootLogin,
    FailedLogin,
    Sudo,
    Su,
    WatchedFile,
    Account,
    AuditConfig,
    NewPerson,
    Unreadable,
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Section::RootLogin => "root-login",
            Section::FailedLogin => "failed-login",
            Section::Sudo => "sudo",
            Section::Su => "su",
            Section::WatchedFile => "watched-file",
            Section::Account => "account",
            Section::AuditConfig => "audit-config",
            Section::NewPerson => "new-person",
            Section::Unreadable => "unreadable-log",
        }
    }
}

/// One line of a report: in a section, on a host, by someone, about something, how many times
/// and when first and last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub section: Section,
    pub host: String,
    /// The person (for failed logins, the source address).
    pub who: Option<String>,
    pub what: Option<String>,
    pub count: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// Builds the report of events in `[since_ms, until_ms)`: people are "new" when the catalog
/// has no event of theirs before `since_ms`.
pub fn report(
    catalog: &Catalog,
    hosts: &[String],
    since_ms: i64,
    until_ms: i64,
) -> Result<Vec<ReportRow>> {
    let filter = Filter {
        since_ms: Some(since_ms),
        until_ms: Some(until_ms),
        ..Filter::default()
    };
    type Key = (Section, String, Option<String>, Option<String>);
    let mut rows: BTreeMap<Key, (u64, i64, i64)> = BTreeMap::new();
    let mut people: BTreeMap<String, (String, i64)> = BTreeMap::new();
    let mut add = |key: Key, t: i64| {
        let r = rows.entry(key).or_insert((0, t, t));
        r.0 += 1;
        r.1 = r.1.min(t);
        r.2 = r.2.max(t);
    };
    events(catalog, hosts, &filter, &mut |he| {
        let e = &he.event;
        let actor = e.actor.label();
        let t = e.time_ms;
        let as_root = e.acting_as.uid == Some(0) || e.acting_as.name.as_deref() == Some("root");
        match e.kind {
            Kind::Login if as_root => add(
                (
                    Section::RootLogin,
                    he.host.clone(),
                    actor.clone(),
                    e.addr.clone(),
                ),
                t,
            ),
            Kind::FailedLogin => add(
                (
                    Section::FailedLogin,
                    he.host.clone(),
                    e.addr.clone(),
                    e.acting_as.label(),
                ),
                t,
            ),
            Kind::Sudo => add(
                (
                    Section::Sudo,
                    he.host.clone(),
                    actor.clone(),
                    e.what.clone(),
                ),
                t,
            ),
            Kind::Su => add(
                (Section::Su, he.host.clone(), actor.clone(), e.what.clone()),
                t,
            ),
            Kind::Write | Kind::Delete | Kind::Attr if e.key.is_some() => add(
                (
                    Section::WatchedFile,
                    he.host.clone(),
                    actor.clone(),
                    e.what.as_ref().map(|w| format!("{} {w}", e.kind)),
                ),
                t,
            ),
            Kind::Account => add(
                (
                    Section::Account,
                    he.host.clone(),
                    actor.clone(),
                    e.what.clone(),
                ),
                t,
            ),
            Kind::AuditConfig => add(
                (
                    Section::AuditConfig,
                    he.host.clone(),
                    actor.clone(),
                    e.what.clone(),
                ),
                t,
            ),
            _ => {}
        }
        if let Some(a) = actor
            && matches!(e.kind, Kind::Login | Kind::Sudo | Kind::Su | Kind::Exec)
        {
            people.entry(a).or_insert((he.host.clone(), t));
        }
        Ok(())
    })?;
    let actors: BTreeSet<String> = people.keys().cloned().collect();
    let known = catalog.audit_actors_before(&actors, since_ms)?;
    for (person, (host, t)) in people {
        if !known.contains(&person) {
            add((Section::NewPerson, host, Some(person), None), t);
        }
    }
    for s in catalog.audit_log_status()? {
        if !host_selected(hosts, &s.host) {
            continue;
        }
        if let AuditLogStatus {
            problem: Some(problem),
            ..
        } = &s
        {
            add(
                (
                    Section::Unreadable,
                    s.host.clone(),
                    None,
                    Some(problem.clone()),
                ),
                s.when * 1000,
            );
        }
    }
    Ok(rows
        .into_iter()
        .map(
            |((section, host, who, what), (count, first_ms, last_ms))| ReportRow {
                section,
                host,
                who,
                what,
                count,
                first_ms,
                last_ms,
            },
        )
        .collect())
}
