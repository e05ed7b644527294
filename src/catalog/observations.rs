//! The one write pattern behind every observation table: sync a source's snapshot into rows
//! with `first_seen`, `last_seen` and `current`.
//!
//! A row's identity is its key columns (a package's manager, name, epoch, version, release and
//! arch). What the snapshot still contains keeps its row and gets a new `last_seen`; what is new
//! gets a new row; what is gone gets `current = 0` and keeps its `last_seen`, which is when it was
//! last seen. Nothing is deleted, so "where was this MAC last week" is a query on the same table.

use std::collections::{HashMap, HashSet};

use crate::error::Result;

use super::db::{Param, Row, Tx, Value, placeholders};

/// A value of a key or extra column. Only integers, text and NULL are ever keys, so unlike
/// a bound value this one owns its text and can be hashed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Param for Cell {
    fn value(&self) -> Value<'_> {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Int(*i),
            Cell::Text(s) => Value::Text(s),
        }
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

fn cell_from(r: &Row<'_>, i: usize) -> Result<Cell> {
    Ok(match r.value(i)? {
        Value::Int(i) => Cell::Int(i),
        Value::Text(t) => Cell::Text(t.to_string()),
        Value::Blob(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        Value::Null => Cell::Null,
    })
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
    /// Still there, with or without new attributes.
    pub kept: usize,
    /// Of the kept, those whose attributes changed (rewritten one by one; the others only get
    /// new stamps, a batch at a time).
    pub updated: usize,
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
        tx: &Tx<'_>,
        scope_id: i64,
        observed: impl IntoIterator<Item = Observed>,
        keep: impl Fn(&[Cell]) -> bool,
        stamp: Stamp,
    ) -> Result<SyncCounts> {
        let key_list = self.key.join(", ");
        let extra_list: String = self.extra.iter().map(|c| format!(", {c}")).collect();
        // Each current row's identity, with its id and its attributes as stored.
        let mut current: HashMap<Vec<Cell>, (i64, Vec<Cell>)> = HashMap::new();
        tx.query_each(
            &format!(
                "SELECT id, {key_list}{extra_list} FROM {} WHERE {} = ?1 AND current = 1",
                self.name, self.scope
            ),
            &[&scope_id],
            |row| {
                let id: i64 = row.get(0)?;
                let n = self.key.len();
                let key = (1..=n)
                    .map(|i| cell_from(row, i))
                    .collect::<Result<Vec<_>>>()?;
                let extra = (n + 1..=n + self.extra.len())
                    .map(|i| cell_from(row, i))
                    .collect::<Result<Vec<_>>>()?;
                current.insert(key, (id, extra));
                Ok(())
            },
        )?;

        let extra_set: String = self
            .extra
            .iter()
            .enumerate()
            .map(|(i, c)| format!(", {c} = ?{}", i + 4))
            .collect();
        let touch = format!(
            "UPDATE {} SET last_seen = ?2, last_scan_id = ?3{extra_set} WHERE id = ?1",
            self.name
        );
        let columns: Vec<&str> = std::iter::once(self.scope)
            .chain(self.key.iter().copied())
            .chain(self.extra.iter().copied())
            .collect();
        let placeholders = placeholders(0, columns.len() + 3);
        let insert = format!(
            "INSERT INTO {} ({}, first_seen, last_seen, last_scan_id, current) \
             VALUES ({placeholders}, 1)",
            self.name,
            columns.join(", ")
        );

        let mut counts = SyncCounts::default();
        let mut seen: HashSet<Vec<Cell>> = HashSet::new();
        // Rows seen again as they were: most of every snapshot. Their stamps are updated
        // together below, a statement per few hundred rows instead of one per row (on a
        // server, each statement is a round trip).
        let mut unchanged: Vec<i64> = Vec::new();
        for item in observed {
            if !seen.insert(item.key.clone()) {
                continue; // the same thing reported twice in one snapshot
            }
            if let Some((id, stored)) = current.remove(&item.key) {
                if stored == item.extra {
                    unchanged.push(id);
                } else {
                    let mut params: Vec<&dyn Param> = vec![&id, &stamp.now, &stamp.scan_id];
                    params.extend(item.extra.iter().map(|c| c as &dyn Param));
                    tx.execute(&touch, &params)?;
                    counts.updated += 1;
                }
                counts.kept += 1;
            } else {
                let mut params: Vec<&dyn Param> = vec![&scope_id];
                params.extend(item.key.iter().map(|c| c as &dyn Param));
                params.extend(item.extra.iter().map(|c| c as &dyn Param));
                params.extend([&stamp.now as &dyn Param, &stamp.now, &stamp.scan_id]);
                tx.execute(&insert, &params)?;
                counts.added += 1;
            }
        }
        self.update_ids(
            tx,
            "last_seen = ?1, last_scan_id = ?2",
            &[&stamp.now, &stamp.scan_id],
            &unchanged,
        )?;

        let retired: Vec<i64> = current
            .into_iter()
            .filter(|(key, _)| !keep(key))
            .map(|(_, (id, _))| id)
            .collect();
        counts.retired = retired.len();
        self.update_ids(tx, "current = 0", &[], &retired)?;
        Ok(counts)
    }

    /// `UPDATE … SET {set} WHERE id IN (ids)`, a few hundred ids a statement. `set` uses
    /// `?1`…`?n` for `values`; the ids follow. Each statement's id list is padded (with its last
    /// id, which changes nothing) to a power of two, so that a handful of statement texts serve
    /// every size and stay prepared.
    fn update_ids(&self, tx: &Tx<'_>, set: &str, values: &[&dyn Param], ids: &[i64]) -> Result<()> {
        const CHUNK: usize = 512;
        for chunk in ids.chunks(CHUNK) {
            let size = chunk.len().next_power_of_two();
            let list = placeholders(values.len(), size);
            let sql = format!("UPDATE {} SET {set} WHERE id IN ({})", self.name, list);
            let last = chunk[chunk.len() - 1];
            let mut params: Vec<&dyn Param> = values.to_vec();
            params.extend(chunk.iter().map(|id| id as &dyn Param));
            params.extend(std::iter::repeat_n(&last as &dyn Param, size - chunk.len()));
            tx.execute(&sql, &params)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::catalog::db::{Db, params};

    use super::*;

    const T: Table = Table {
        name: "things",
        scope: "src",
        key: &["name", "ver"],
        extra: &["size", "note"],
    };

    /// One row as stored: (name, ver, size, note, first_seen, last_seen, last_scan_id, current).
    type Row = (String, Option<i64>, i64, Option<String>, i64, i64, i64, i64);

    fn db() -> Db {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE things (id INTEGER PRIMARY KEY, src INTEGER NOT NULL, name TEXT NOT NULL,
                ver INTEGER, size INTEGER, note TEXT, first_seen INTEGER NOT NULL,
                last_seen INTEGER NOT NULL, last_scan_id INTEGER NOT NULL, current INTEGER NOT NULL)",
        )
        .unwrap();
        Db::Sqlite(db)
    }

    fn obs(name: &str, ver: Option<i64>, size: i64, note: Option<&str>) -> Observed {
        Observed {
            key: vec![name.into(), ver.into()],
            extra: vec![size.into(), note.into()],
        }
    }

    fn sync(
        db: &mut Db,
        src: i64,
        items: Vec<Observed>,
        keep: impl Fn(&[Cell]) -> bool,
        now: i64,
        scan_id: i64,
    ) -> SyncCounts {
        let tx = db.begin_write().unwrap();
        let counts = T
            .sync(&tx, src, items, keep, Stamp { now, scan_id })
            .unwrap();
        tx.commit().unwrap();
        counts
    }

    fn rows(db: &Db, src: i64) -> Vec<Row> {
        let Db::Sqlite(db) = db else { unreachable!() };
        let mut st = db
            .prepare(
                "SELECT name, ver, size, note, first_seen, last_seen, last_scan_id, current
                 FROM things WHERE src = ?1 ORDER BY id",
            )
            .unwrap();
        st.query_map([src], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    fn row(
        name: &str,
        ver: Option<i64>,
        size: i64,
        note: Option<&str>,
        seen: (i64, i64, i64),
        current: i64,
    ) -> Row {
        let note = note.map(str::to_string);
        (
            name.into(),
            ver,
            size,
            note,
            seen.0,
            seen.1,
            seen.2,
            current,
        )
    }

    #[test]
    fn keeps_adds_retires_and_never_deletes() {
        let mut db = db();
        let never = |_: &[Cell]| false;
        let first = vec![
            obs("a", Some(1), 10, Some("x")),
            obs("b", None, 20, None),
            obs("c", Some(3), 30, None),
        ];
        let counts = sync(&mut db, 7, first, never, 100, 1);
        assert_eq!(
            counts,
            SyncCounts {
                added: 3,
                kept: 0,
                updated: 0,
                retired: 0
            }
        );
        // Another source's rows are its own: syncing source 8 neither sees nor retires them.
        let counts = sync(&mut db, 8, vec![obs("a", Some(1), 99, None)], never, 150, 2);
        assert_eq!((counts.added, counts.kept, counts.retired), (1, 0, 0));

        // a is still there with new attributes; b (a NULL key column) is still there; c is
        // gone; d is new; a second report of d in one snapshot counts once.
        let second = vec![
            obs("a", Some(1), 11, None),
            obs("b", None, 21, Some("y")),
            obs("d", Some(4), 40, None),
            obs("d", Some(4), 41, None),
        ];
        let counts = sync(&mut db, 7, second, never, 200, 3);
        assert_eq!(
            counts,
            SyncCounts {
                added: 1,
                kept: 2,
                updated: 2,
                retired: 1
            }
        );
        assert_eq!(
            rows(&db, 7),
            [
                row("a", Some(1), 11, None, (100, 200, 3), 1),
                row("b", None, 21, Some("y"), (100, 200, 3), 1),
                row("c", Some(3), 30, None, (100, 100, 1), 0),
                row("d", Some(4), 40, None, (200, 200, 3), 1),
            ]
        );
        assert_eq!(
            rows(&db, 8),
            [row("a", Some(1), 99, None, (150, 150, 2), 1)]
        );

        // c comes back: a new row (its history is the old one plus this), the old stays retired.
        let third = vec![
            obs("a", Some(1), 11, None),
            obs("b", None, 21, Some("y")),
            obs("c", Some(3), 31, None),
            obs("d", Some(4), 40, None),
        ];
        let counts = sync(&mut db, 7, third, never, 300, 4);
        assert_eq!(
            (counts.added, counts.kept, counts.updated, counts.retired),
            (1, 3, 0, 0)
        );
        let got = rows(&db, 7);
        assert_eq!(got.len(), 5);
        assert_eq!(got[2], row("c", Some(3), 30, None, (100, 100, 1), 0));
        assert_eq!(got[4], row("c", Some(3), 31, None, (300, 300, 4), 1));
    }

    #[test]
    fn keep_spares_what_the_snapshot_could_not_see() {
        let mut db = db();
        let never = |_: &[Cell]| false;
        let items = vec![obs("a", Some(1), 1, None), obs("b", Some(2), 2, None)];
        sync(&mut db, 1, items, never, 10, 1);
        // Nothing observed, but b's kind could not be read this time: only a is retired.
        let keep_b = |key: &[Cell]| key[0] == Cell::from("b");
        let counts = sync(&mut db, 1, vec![], keep_b, 20, 2);
        assert_eq!(
            counts,
            SyncCounts {
                added: 0,
                kept: 0,
                updated: 0,
                retired: 1
            }
        );
        assert_eq!(
            rows(&db, 1),
            [
                row("a", Some(1), 1, None, (10, 10, 1), 0),
                row("b", Some(2), 2, None, (10, 10, 1), 1),
            ]
        );
    }

    #[test]
    fn only_rows_whose_attributes_changed_are_rewritten_whatever_the_shape() {
        // Another shape of the same table: one key column, three attributes (the stored
        // attributes are read back from the columns after the key's, whatever their counts).
        const WIDE: Table = Table {
            name: "things",
            scope: "src",
            key: &["name"],
            extra: &["ver", "size", "note"],
        };
        let mut db = db();
        let wide = |name: &str, ver: i64, size: i64| Observed {
            key: vec![Cell::from(name.to_string())],
            extra: vec![Cell::Int(ver), Cell::Int(size), Cell::Null],
        };
        let run = |db: &mut Db, items: Vec<Observed>, now: i64, scan_id: i64| {
            let tx = db.begin_write().unwrap();
            let counts = WIDE
                .sync(&tx, 1, items, |_: &[Cell]| false, Stamp { now, scan_id })
                .unwrap();
            tx.commit().unwrap();
            counts
        };
        run(
            &mut db,
            vec![wide("a", 1, 10), wide("b", 2, 20), wide("c", 3, 30)],
            10,
            1,
        );
        let counts = run(
            &mut db,
            vec![wide("a", 1, 10), wide("b", 2, 21), wide("c", 3, 30)],
            20,
            2,
        );
        assert_eq!(
            counts,
            SyncCounts {
                added: 0,
                kept: 3,
                updated: 1,
                retired: 0
            }
        );
        assert_eq!(
            rows(&db, 1),
            [
                row("a", Some(1), 10, None, (10, 20, 2), 1),
                row("b", Some(2), 21, None, (10, 20, 2), 1),
                row("c", Some(3), 30, None, (10, 20, 2), 1),
            ]
        );
    }

    #[test]
    fn cells_round_trip_through_sqlite() {
        let db = db();
        let one = |sql: &str, cell: &Cell| db.query_one(sql, params![cell], |r| cell_from(r, 0));
        for cell in [
            Cell::Null,
            Cell::Int(-5),
            Cell::Int(1 << 40),
            Cell::Text("é x".into()),
        ] {
            assert_eq!(one("SELECT ?1", &cell).unwrap(), cell);
        }
        assert_eq!(Cell::from(Some(3i64)), Cell::Int(3));
        assert_eq!(Cell::from(None::<i64>), Cell::Null);
        assert_eq!(Cell::from(String::from("s")), Cell::Text("s".into()));
        let blob = one("SELECT x'6869' WHERE ?1 IS NULL", &Cell::Null).unwrap();
        assert_eq!(blob, Cell::Text("hi".into()));
        // The catalog stores no real numbers: one showing up is an error, not a guess.
        assert!(one("SELECT 1.5 WHERE ?1 IS NULL", &Cell::Null).is_err());
    }
}
