//! Facts across the fleet, for host-where: every host with the current values of the facts
//! asked for, and those facts' history.
//!
//! Reads go through the `host_facts_name` index one fact name at a time, so a question about two
//! facts reads those two facts' rows, not every fact of every host.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::Result;

use super::Catalog;
use super::db::params;

/// Where a fact comes from: the system facts every scan gathers, or a `[[fact]]` of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactSource {
    System,
    Custom,
}

impl FactSource {
    fn from_column(kind: &str) -> FactSource {
        if kind == "system" {
            FactSource::System
        } else {
            FactSource::Custom
        }
    }
}

/// One current fact of a host.
#[derive(Debug, Clone)]
pub struct StoredFact {
    pub source: FactSource,
    pub name: String,
    pub value: Value,
}

/// A host with the current values of the facts asked for.
#[derive(Debug, Clone)]
pub struct FactHost {
    pub id: i64,
    pub name: String,
    pub fqdn: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    /// What scan-hosts last connected to (`[user@]host[:port]`), when it was over SSH: groups
    /// name hosts that way as often as by hostname.
    pub target: Option<String>,
    pub facts: Vec<StoredFact>,
}

/// One period of one fact's value on one host: `first_seen` to `last_seen`, `current` while
/// the host's latest scan still reports it.
#[derive(Debug, Clone)]
pub struct FactHistoryRow {
    pub host_id: i64,
    pub source: FactSource,
    pub name: String,
    pub value: Value,
    pub first_seen: i64,
    pub last_seen: i64,
    pub current: bool,
}

/// A stored value: JSON as scan-hosts wrote it. A value that does not parse (a catalog edited by
/// hand) is taken as the text it is, not dropped.
fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

impl Catalog {
    /// Every host, by name, with its current facts named in `names`.
    pub fn fact_hosts(&self, names: &[String]) -> Result<Vec<FactHost>> {
        let mut hosts: Vec<FactHost> = self.db.query_map(
            "SELECT h.id, h.name, h.fqdn, h.first_seen, h.last_seen, \
                   CASE WHEN s.method = 'ssh' THEN s.target END \
                 FROM hosts h LEFT JOIN scans s ON s.id = h.last_scan_id ORDER BY h.name, h.id",
            params![],
            |r| {
                Ok(FactHost {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    fqdn: r.get(2)?,
                    first_seen: r.get(3)?,
                    last_seen: r.get(4)?,
                    target: r.get(5)?,
                    facts: Vec::new(),
                })
            },
        )?;
        let index: HashMap<i64, usize> = hosts.iter().enumerate().map(|(i, h)| (h.id, i)).collect();
        for name in names {
            self.db.query_each(
                "SELECT host_id, kind, value FROM host_facts \
                 WHERE name = ?1 AND current = 1 ORDER BY host_id, id",
                params![name],
                |r| {
                    let host_id: i64 = r.get(0)?;
                    let kind: String = r.get(1)?;
                    let value: String = r.get(2)?;
                    if let Some(&i) = index.get(&host_id) {
                        hosts[i].facts.push(StoredFact {
                            source: FactSource::from_column(&kind),
                            name: name.clone(),
                            value: json(value),
                        });
                    }
                    Ok(())
                },
            )?;
        }
        Ok(hosts)
    }

    /// The names of every fact the catalog holds, current or not, in name order.
    pub fn fact_names(&self) -> Result<Vec<String>> {
        // A skip-scan of the name index: one probe per distinct name, not one per row.
        let mut names = Vec::new();
        let mut after = String::new();
        while let Some(name) = self.db.query_one(
            "SELECT min(name) FROM host_facts WHERE name > ?1",
            params![after],
            |r| r.get::<Option<String>>(0),
        )? {
            names.push(name.clone());
            after = name;
        }
        Ok(names)
    }

    /// The whole history of fact `name` on every host where it changed (got a new value, or was
    /// retired) at or after `since`, ordered by host and then by when each value was first seen.
    pub fn fact_history(&self, name: &str, since: i64) -> Result<Vec<FactHistoryRow>> {
        self.db.query_map(
            "SELECT host_id, kind, value, first_seen, last_seen, current FROM host_facts \
                 WHERE name = ?1 AND host_id IN ( \
                   SELECT host_id FROM host_facts WHERE name = ?1 \
                     AND (first_seen >= ?2 OR (current = 0 AND last_seen >= ?2))) \
                 ORDER BY host_id, first_seen, id",
            params![name, since],
            |r| {
                let kind: String = r.get(1)?;
                Ok(FactHistoryRow {
                    host_id: r.get(0)?,
                    source: FactSource::from_column(&kind),
                    name: name.to_string(),
                    value: json(r.get(2)?),
                    first_seen: r.get(3)?,
                    last_seen: r.get(4)?,
                    current: r.get::<i64>(5)? != 0,
                })
            },
        )
    }
}
