//! The one write pattern behind every observation table: sync a source's snapshot into rows
//! with `first_seen`, `last_seen` and `current`.
//!
//! A row's identity is its key columns (a package's manager, name, epoch, version, release and
//! arch). What the snapshot still contains keeps its row and gets a new `last_seen`; what is new
//! gets a new row; what is gone gets `current = 0` and keeps its `last_seen`, which is when it was
//! last seen. Nothing is deleted, so "where was this MAC last week" is a query on the same table.

use std::collections::{HashMap, HashSet};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{ToSql, Transaction};

use crate::error::Result;

use super::sql_error;

/// A value of a key or extra column. Only integers, text and NULL are ever keys, so unlike
/// SQLite's own value type this one can be hashed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Cell::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Cell::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(i: i64) -> Self {
        Cell::Int(i)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Null, Into::into)
    }
}

fn cell_from(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Cell::Text(String::from_utf8_lossy(t).into_owned())
        }
        ValueRef::Real(f) => Cell::Text(f.to_string()),
        ValueRef::Null => Cell::Null,
    }
}

/// One observed thing: its identity and the attributes that may change without a new identity.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub key: Vec<Cell>,
    pub extra: Vec<Cell>,
}

/// Describes an observation table: which column scopes rows to a source, and which columns are
/// the identity and which the mutable attributes.
pub(crate) struct Table {
    pub name: &'static str,
    pub scope: &'static str,
    pub key: &'static [&'static str],
    pub extra: &'static [&'static str],
}

/// What a sync did, for reporting.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncCounts {
    pub added: usize,
    pub kept: usize,
    pub retired: usize,
}

/// The time and scan a write belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    pub now: i64,
    pub scan_id: i64,
}

impl Table {
    /// Syncs `observed` into the rows of source `scope_id`. Current rows that were not observed
    /// are retired, except those for which `keep` is true (e.g. packages of a manager whose query
    /// failed this time: their absence from the snapshot says nothing).
    pub(crate) fn sync(
        &self,
        tx: &Transaction<'_>,
        scope_id: i64,
        observed: impl IntoIterator<Item = Observed>,
        keep: impl Fn(&[Cell]) -> bool,
        stamp: Stamp,
    ) -> Result<SyncCounts> {
        let key_list = self.key.join(", ");
        let mut current: HashMap<Vec<Cell>, i64> = HashMap::new();
        {
            let mut select = tx
                .prepare_cached(&format!(
                    "SELECT id, {key_list} FROM {} WHERE {} = ?1 AND current = 1",
                    self.name, self.scope
                ))
                .map_err(sql_error)?;
            let mut rows = select.query([scope_id]).map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let id: i64 = row.get(0).map_err(sql_error)?;
                let key = (1..=self.key.len())
                    .map(|i| row.get_ref(i).map(cell_from))
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(sql_error)?;
                current.insert(key, id);
            }
        }

        let extra_set: String = self
            .extra
            .iter()
            .enumerate()
            .map(|(i, c)| format!(", {c} = ?{}", i + 4))
            .collect();
        let mut touch = tx
            .prepare_cached(&format!(
                "UPDATE {} SET last_seen = ?2, last_scan_id = ?3{extra_set} WHERE id = ?1",
                self.name
            ))
            .map_err(sql_error)?;
        let columns: Vec<&str> = std::iter::once(self.scope)
            .chain(self.key.iter().copied())
            .chain(self.extra.iter().copied())
            .collect();
        let placeholders: String = (1..=columns.len() + 3)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut insert = tx
            .prepare_cached(&format!(
                "INSERT INTO {} ({}, first_seen, last_seen, last_scan_id, current) \
                 VALUES ({placeholders}, 1)",
                self.name,
                columns.join(", ")
            ))
            .map_err(sql_error)?;

        let mut counts = SyncCounts::default();
        let mut seen: HashSet<Vec<Cell>> = HashSet::new();
        for item in observed {
            if !seen.insert(item.key.clone()) {
                continue; // the same thing reported twice in one snapshot
            }
            if let Some(id) = current.remove(&item.key) {
                let mut params: Vec<&dyn ToSql> = vec![&id, &stamp.now, &stamp.scan_id];
                params.extend(item.extra.iter().map(|c| c as &dyn ToSql));
                touch.execute(params.as_slice()).map_err(sql_error)?;
                counts.kept += 1;
            } else {
                let mut params: Vec<&dyn ToSql> = vec![&scope_id];
                params.extend(item.key.iter().map(|c| c as &dyn ToSql));
                params.extend(item.extra.iter().map(|c| c as &dyn ToSql));
                params.extend([&stamp.now as &dyn ToSql, &stamp.now, &stamp.scan_id]);
                insert.execute(params.as_slice()).map_err(sql_error)?;
                counts.added += 1;
            }
        }

        let mut retire = tx
            .prepare_cached(&format!(
                "UPDATE {} SET current = 0 WHERE id = ?1",
                self.name
            ))
            .map_err(sql_error)?;
        for (key, id) in current {
            if !keep(&key) {
                retire.execute([id]).map_err(sql_error)?;
                counts.retired += 1;
            }
        }
        Ok(counts)
    }
}
