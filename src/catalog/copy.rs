//! Copying a whole catalog, history included, to another one, on either backend: `catalog-copy`
//! moves a team from the embedded file to a server (or back) without losing a row.
//!
//! Rows keep their ids, so every reference between tables holds in the copy as it did in the
//! original; tables are filled in the order the migrations create them, which is an order in
//! which every table comes after the tables it references. The source is read in one read
//! transaction (a collector writing meanwhile is either wholly in the copy or wholly out), the
//! target written in one write transaction that is committed only after the row counts of every
//! table agree: a copy that fails or is interrupted leaves the target as it was.

use super::db::{Db, Dialect, Param, Value, params};
use super::{Catalog, MIGRATIONS};
use crate::error::{Error, ErrorKind, Result};

/// How many rows one INSERT carries: few enough that SQLite's limit on parameters (32,766)
/// holds for the widest table, many enough that a server round trip carries real work.
const BATCH_PARAMS: usize = 8000;

/// One table's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
}

/// A column value owned, to carry a row from the source's cursor to the target's INSERT.
enum Owned {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Param for Owned {
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Null => Value::Null,
            Owned::Int(i) => Value::Int(*i),
            Owned::Text(t) => Value::Text(t),
            Owned::Blob(b) => Value::Blob(b),
        }
    }
}

/// The catalog's tables in creation order, read from the migrations (the one source of truth
/// for the schema), so a table added by a later migration is copied without a change here.
pub(crate) fn tables() -> Vec<&'static str> {
    let mut out = Vec::new();
    for (_, sql) in MIGRATIONS {
        for line in sql.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["CREATE", "TABLE", rest @ ..] = words.as_slice() {
                let name = match rest {
                    ["IF", "NOT", "EXISTS", name, ..] | [name, ..] => *name,
                    [] => continue,
                };
                let name = name.trim_end_matches('(');
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// The columns of `table` in the open catalog, in their order.
fn columns(db: &Db, table: &str) -> Result<Vec<String>> {
    let sql = match db.dialect() {
        Dialect::Sqlite => "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
        Dialect::Postgres => {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position"
        }
    };
    db.query_map(sql, params![table], |r| r.get(0))
}

fn count(db: &Db, table: &str) -> Result<u64> {
    db.query_one(&format!("SELECT count(*) FROM {table}"), params![], |r| {
        r.get(0)
    })
}

/// A quoted column name (`offset` is a keyword in PostgreSQL).
fn quoted(column: &str) -> String {
    format!("\"{column}\"")
}

fn owned(v: Value<'_>) -> Owned {
    match v {
        Value::Null => Owned::Null,
        Value::Int(i) => Owned::Int(i),
        Value::Text(t) => Owned::Text(t.to_string()),
        Value::Blob(b) => Owned::Blob(b.to_vec()),
    }
}

impl Catalog {
    /// Copies every row of this catalog into `target`. A target holding any row is refused
    /// unless `replace` is set, in which case its rows are deleted first (in the same
    /// transaction: a failed copy leaves them). Returns each table's row count, which source
    /// and copy were checked to agree on before the copy was committed.
    pub fn copy_to(&self, target: &Catalog, replace: bool) -> Result<Vec<TableCount>> {
        let fail = |msg: String| Error::new(ErrorKind::Catalog, msg);
        let (from_version, to_version) = (self.schema_version()?, target.schema_version()?);
        if from_version != to_version {
            return Err(fail(format!(
                "catalog {} is at schema version {from_version}, {} at {to_version}",
                self.location(),
                target.location()
            )));
        }
        if self.location() == target.location() {
            return Err(fail(format!(
                "catalog {}: source and target are the same catalog",
                self.location()
            )));
        }
        let tables = tables();
        let read = self.db.begin_read()?;
        let write = target.db.begin_write()?;
        // One statement reads or writes a whole table here: a hundred million rows take longer
        // than the statement timeout a query tool is given (see pgconn), for as long as they
        // take. For this transaction only.
        for tx in [&read, &write] {
            if tx.dialect() == Dialect::Postgres {
                tx.batch("SET LOCAL statement_timeout = 0")?;
            }
        }
        let held: u64 = tables
            .iter()
            .map(|t| count(&write, t))
            .sum::<Result<u64>>()?;
        if held > 0 && !replace {
            return Err(fail(format!(
                "catalog {} already holds {held} rows: refusing to copy over them \
                 (--replace deletes them first)",
                target.location()
            )));
        }
        if held > 0 {
            for table in tables.iter().rev() {
                write.execute(&format!("DELETE FROM {table}"), params![])?;
            }
        }
        // Into an empty PostgreSQL catalog of our own, as pg_restore does: the rows first, then
        // the secondary indexes and foreign keys, rebuilt once each (in the same transaction,
        // so a failure still leaves nothing). Row by row, a hundred million packages would
        // cost three foreign-key probes and three index insertions each.
        let deferred = if held == 0 && target.db.dialect() == Dialect::Postgres {
            defer_indexes(&write)?
        } else {
            Vec::new()
        };
        let mut counts = Vec::new();
        for table in &tables {
            let cols = columns(&read, table)?;
            let theirs = columns(&write, table)?;
            if cols != theirs {
                return Err(fail(format!(
                    "table {table}: the columns differ between {} and {}",
                    self.location(),
                    target.location()
                )));
            }
            let copied = copy_table(&read, &write, table, &cols)?;
            if target.db.dialect() == Dialect::Postgres && cols.iter().any(|c| c == "id") {
                // Rows came with their ids: the identity's sequence must continue after them.
                write.query_one(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence(?1, 'id'), max(id)) FROM {table}"
                    ),
                    params![*table],
                    |_| Ok(()),
                )?;
            }
            let (source_rows, target_rows) = (count(&read, table)?, count(&write, table)?);
            if source_rows != copied || target_rows != copied {
                return Err(fail(format!(
                    "table {table}: {source_rows} rows in {}, {copied} copied, {target_rows} \
                     in {}: nothing was committed",
                    self.location(),
                    target.location()
                )));
            }
            counts.push(TableCount {
                table: table.to_string(),
                rows: copied,
            });
        }
        for ddl in &deferred {
            write.batch(ddl)?;
        }
        write.commit()?;
        if target.db.dialect() == Dialect::Postgres {
            // Tables filled in one go have no planner statistics and no visibility map until
            // autovacuum gets to them: without the map, an index-only scan (the inventory
            // lookups of pkg-where --drift) visits the table after all. The first queries on a
            // new team catalog should not pay for that. VACUUM cannot run inside a
            // transaction, and takes minutes on a fleet's worth of rows: no timeout for it.
            target.db.batch("SET statement_timeout = 0")?;
            target.db.batch("VACUUM (ANALYZE)")?;
        }
        Ok(counts)
    }
}

/// Drops the foreign keys and the plain (not unique) indexes of the catalog's tables in the
/// current schema, when this role owns them all, and returns the statements that recreate
/// them, indexes first. Unique indexes stay: they are what a copy must not break, and are
/// checked as the rows go in.
fn defer_indexes(db: &Db) -> Result<Vec<String>> {
    let foreign_owner: i64 = db.query_one(
        "SELECT count(*) FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' \
           AND NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')",
        params![],
        |r| r.get(0),
    )?;
    if foreign_owner > 0 {
        return Ok(Vec::new());
    }
    let keys: Vec<(String, String, String)> = db.query_map(
        "SELECT CAST(t.relname AS TEXT), CAST(k.conname AS TEXT), \
                pg_catalog.pg_get_constraintdef(k.oid) \
         FROM pg_catalog.pg_constraint k \
         JOIN pg_catalog.pg_class t ON t.oid = k.conrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND k.contype = 'f' ORDER BY k.oid",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let indexes: Vec<(String, String)> = db.query_map(
        "SELECT CAST(i.relname AS TEXT), pg_catalog.pg_get_indexdef(x.indexrelid) \
         FROM pg_catalog.pg_index x \
         JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace \
         WHERE n.nspname = current_schema() AND NOT x.indisunique ORDER BY i.oid",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut recreate = Vec::new();
    for (table, name, def) in &keys {
        db.batch(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\""))?;
        recreate.push(format!(
            "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}"
        ));
    }
    for (name, _) in &indexes {
        db.batch(&format!("DROP INDEX \"{name}\""))?;
    }
    let mut out: Vec<String> = indexes.into_iter().map(|(_, def)| def).collect();
    out.extend(recreate);
    Ok(out)
}

/// Copies one table's rows in id order: with COPY into PostgreSQL, else in multi-row INSERTs.
/// Returns how many were copied.
fn copy_table(from: &Db, to: &Db, table: &str, cols: &[String]) -> Result<u64> {
    let names: Vec<String> = cols.iter().map(|c| quoted(c)).collect();
    let order = if cols.iter().any(|c| c == "id") {
        " ORDER BY id"
    } else {
        ""
    };
    let select = format!("SELECT {} FROM {table}{order}", names.join(", "));
    let copied = to.copy_in(table, cols, |rows| {
        from.query_each(&select, params![], |r| {
            for i in 0..cols.len() {
                rows.field(r.value(i)?)?;
            }
            rows.end_row()
        })
    })?;
    if let Some(n) = copied {
        return Ok(n);
    }
    let per_batch = (BATCH_PARAMS / cols.len().max(1)).max(1);
    let insert = |rows: &[Vec<Owned>]| -> Result<()> {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
        let mut n = 0;
        for (i, _) in rows.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..cols.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&format!("?{n}"));
            }
            sql.push(')');
        }
        let args: Vec<&dyn Param> = rows.iter().flatten().map(|v| v as &dyn Param).collect();
        to.execute(&sql, &args)?;
        Ok(())
    };
    let mut batch: Vec<Vec<Owned>> = Vec::with_capacity(per_batch);
    let mut copied = 0u64;
    from.query_each(&select, params![], |r| {
        let row = (0..cols.len())
            .map(|i| r.value(i).map(owned))
            .collect::<Result<Vec<_>>>()?;
        batch.push(row);
        if batch.len() == per_batch {
            insert(&batch)?;
            copied += batch.len() as u64;
            batch.clear();
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        insert(&batch)?;
        copied += batch.len() as u64;
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_come_in_creation_order() {
        let t = tables();
        let at = |name: &str| t.iter().position(|x| *x == name).unwrap();
        assert!(at("scans") < at("hosts"));
        assert!(at("hosts") < at("host_packages"));
        assert!(at("package_names") < at("host_packages"));
        assert!(at("audit_events") < at("audit_raw"));
        assert_eq!(
            t.len(),
            t.iter().collect::<std::collections::BTreeSet<_>>().len()
        );
    }
}
