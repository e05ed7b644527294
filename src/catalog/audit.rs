//! The audit trail in the catalog: events added once each (keyed by host and stamp), their raw
//! records beside them, and each host's checkpoint: where its next read starts and why the
//! last one could not read.

use std::collections::{BTreeSet, HashMap};

use crate::error::Result;
use crate::model::audit::{AuditRead, Checkpoint, Event, Filter, Kind, User};

use super::Catalog;
use super::db::{Db, Param, Row, Tx, Value, params};

/// How a host's audit log was last read, for the report's "could not read" section.
#[derive(Debug, Clone)]
pub struct AuditLogStatus {
    pub host: String,
    /// Unix seconds of the last read.
    pub when: i64,
    pub problem: Option<String>,
    pub unread_bytes: u64,
}

/// What storing one read added.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuditWrite {
    pub added: u64,
    /// Events already in the catalog (read again after a resumed or repeated read).
    pub known: u64,
}

/// Stores a read in the host's transaction. The checkpoint is kept only when the read started
/// from this host's own checkpoint: one taken from another host (an SSH target that now
/// reaches another machine) may have skipped events, so the next read starts over and the
/// event keys absorb what is read twice.
pub(super) fn store(
    tx: &Tx<'_>,
    host_id: i64,
    scan_id: i64,
    now: i64,
    read: &AuditRead,
) -> Result<AuditWrite> {
    let mut write = AuditWrite::default();
    {
        for e in &read.events {
            let serial = i64::try_from(e.serial).unwrap_or(i64::MAX);
            let inserted: Option<i64> = tx.query_opt(
                "INSERT INTO audit_events (host_id, time_ms, serial, node, kind, actor, actor_uid, \
                   acting_as, acting_as_uid, what, exe, addr, terminal, session, success, key, \
                   record_types, scan_id, uid, uid_name) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                   ?17, ?18, ?19, ?20) \
                 ON CONFLICT(host_id, time_ms, serial, node) DO NOTHING RETURNING id",
                params![
                    host_id,
                    e.time_ms,
                    serial,
                    e.node.as_deref().unwrap_or(""),
                    e.kind.name(),
                    e.actor.label(),
                    e.actor.uid,
                    e.acting_as.label(),
                    e.acting_as.uid,
                    e.what,
                    e.exe,
                    e.addr,
                    e.terminal,
                    e.session,
                    e.success,
                    e.key,
                    e.record_types.join(","),
                    scan_id,
                    e.uid.uid,
                    e.uid.name,
                ],
                |r| r.get(0),
            )?;
            if let Some(id) = inserted {
                tx.execute(
                    "INSERT INTO audit_raw (event_id, raw) VALUES (?1, ?2)",
                    params![id, e.raw],
                )?;
                write.added += 1;
            } else {
                write.known += 1;
            }
        }
    }
    let on_file = checkpoint_of(tx, host_id)?;
    let trusted = read.started_from.is_none() || read.started_from == on_file;
    let next = if trusted {
        read.checkpoint.clone().or(on_file)
    } else {
        None
    };
    let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO audit_checkpoints (host_id, log, device, inode, \"offset\", last_time_ms, \
           last_serial, read_at, unread_bytes, problem, tail, cursor) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
         ON CONFLICT(host_id) DO UPDATE SET log = excluded.log, device = excluded.device, \
           inode = excluded.inode, \"offset\" = excluded.\"offset\", \
           last_time_ms = excluded.last_time_ms, last_serial = excluded.last_serial, \
           read_at = excluded.read_at, unread_bytes = excluded.unread_bytes, \
           problem = excluded.problem, tail = excluded.tail, cursor = excluded.cursor",
        params![
            host_id,
            read.log,
            next.as_ref().map(|c| as_i64(c.device)),
            next.as_ref().map(|c| as_i64(c.inode)),
            next.as_ref().map(|c| as_i64(c.offset)),
            next.as_ref().and_then(|c| c.last_time_ms),
            next.as_ref().and_then(|c| c.last_serial).map(as_i64),
            now,
            as_i64(read.unread_bytes),
            read.problem,
            next.as_ref().map(|c| c.tail.clone()),
            next.as_ref().and_then(|c| c.cursor.clone()),
        ],
    )?;
    Ok(write)
}

fn checkpoint_of(db: &Db, host_id: i64) -> Result<Option<Checkpoint>> {
    db.query_opt(
        "SELECT device, inode, \"offset\", last_time_ms, last_serial, tail, cursor \
         FROM audit_checkpoints \
         WHERE host_id = ?1 AND inode IS NOT NULL",
        params![host_id],
        |r| {
            Ok(Checkpoint {
                device: r.get::<i64>(0)? as u64,
                inode: r.get::<i64>(1)? as u64,
                offset: r.get::<i64>(2)? as u64,
                last_time_ms: r.get(3)?,
                last_serial: r.get::<Option<i64>>(4)?.map(|s| s as u64),
                tail: r.get::<Option<Vec<u8>>>(5)?.unwrap_or_default(),
                cursor: r.get(6)?,
            })
        },
    )
}

impl Catalog {
    /// Each host's audit checkpoint by hostname, for the next scan to resume from.
    pub fn audit_checkpoints(&self) -> Result<HashMap<String, Checkpoint>> {
        let ids = self.db.query_map(
            "SELECT h.name, c.host_id FROM audit_checkpoints c JOIN hosts h ON h.id = c.host_id",
            params![],
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
        )?;
        let mut out = HashMap::new();
        for (name, id) in ids {
            if let Some(c) = checkpoint_of(&self.db, id)? {
                out.insert(name, c);
            }
        }
        Ok(out)
    }

    /// The events that may match `filter` (the time, kind and actor conditions are applied
    /// here, on indexes; the caller applies the rest with [`Filter::matches`]), oldest first.
    pub fn audit_events(
        &self,
        filter: &Filter,
        each: &mut dyn FnMut(&str, Event) -> Result<()>,
    ) -> Result<()> {
        let mut sql = String::from(
            "SELECT h.name, e.time_ms, e.serial, e.node, e.kind, e.actor, e.actor_uid, \
               e.acting_as, e.acting_as_uid, e.what, e.exe, e.addr, e.terminal, e.session, \
               e.success, e.key, e.record_types, e.uid, e.uid_name \
             FROM audit_events e JOIN hosts h ON h.id = e.host_id WHERE 1 = 1",
        );
        let mut args: Vec<Value<'_>> = Vec::new();
        if let Some(s) = filter.since_ms {
            args.push(Value::Int(s));
            sql.push_str(&format!(" AND e.time_ms >= ?{}", args.len()));
        }
        if let Some(u) = filter.until_ms {
            args.push(Value::Int(u));
            sql.push_str(&format!(" AND e.time_ms < ?{}", args.len()));
        }
        if !filter.kinds.is_empty() {
            let mut marks = Vec::new();
            for k in &filter.kinds {
                args.push(Value::Text(k.name()));
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&format!(" AND e.kind IN ({})", marks.join(",")));
        }
        sql.push_str(" ORDER BY e.time_ms, h.name, e.serial");
        let args: Vec<&dyn Param> = args.iter().map(|a| a as &dyn Param).collect();
        self.db.query_each(&sql, &args, |r| {
            let host: String = r.get(0)?;
            each(&host, event_row(r)?)
        })
    }

    /// Which of `actors` (actor labels) have an event before `before_ms`: one probe of the
    /// (actor, time) index each, so that a report over a big catalog does not read every older
    /// event to find who is new.
    pub fn audit_actors_before(
        &self,
        actors: &BTreeSet<String>,
        before_ms: i64,
    ) -> Result<BTreeSet<String>> {
        let mut known = BTreeSet::new();
        for actor in actors {
            let seen: bool = self.db.query_one(
                "SELECT EXISTS (SELECT 1 FROM audit_events WHERE actor = ?1 AND time_ms < ?2)",
                params![actor, before_ms],
                |r| r.get(0),
            )?;
            if seen {
                known.insert(actor.clone());
            }
        }
        Ok(known)
    }

    /// How each host's audit log was last read.
    pub fn audit_log_status(&self) -> Result<Vec<AuditLogStatus>> {
        self.db.query_map(
            "SELECT h.name, c.read_at, c.problem, c.unread_bytes FROM audit_checkpoints c \
             JOIN hosts h ON h.id = c.host_id ORDER BY h.name",
            params![],
            |r| {
                Ok(AuditLogStatus {
                    host: r.get(0)?,
                    when: r.get(1)?,
                    problem: r.get(2)?,
                    unread_bytes: r.get::<i64>(3)?.max(0) as u64,
                })
            },
        )
    }

    /// The raw records of an event.
    pub fn audit_raw(&self, host: &str, time_ms: i64, serial: u64) -> Result<Option<String>> {
        self.db.query_opt(
            "SELECT r.raw FROM audit_events e JOIN hosts h ON h.id = e.host_id \
                 JOIN audit_raw r ON r.event_id = e.id \
                 WHERE h.name = ?1 AND e.time_ms = ?2 AND e.serial = ?3 LIMIT 1",
            params![host, time_ms, i64::try_from(serial).unwrap_or(i64::MAX)],
            |r| r.get(0),
        )
    }
}

/// A user from a stored label (`alice`, or `#1000` when the name was unknown) and number.
fn stored_user(label: Option<String>, uid: Option<u32>) -> User {
    let name = label.filter(|l| !l.starts_with('#'));
    User { uid, name }
}

fn event_row(r: &Row<'_>) -> Result<Event> {
    let kind: String = r.get(4)?;
    let node: String = r.get(3)?;
    let types: String = r.get(16)?;
    Ok(Event {
        time_ms: r.get(1)?,
        serial: r.get::<i64>(2)?.max(0) as u64,
        node: Some(node).filter(|n| !n.is_empty()),
        kind: kind.parse::<Kind>().unwrap_or(Kind::Other),
        actor: stored_user(r.get(5)?, r.get(6)?),
        acting_as: stored_user(r.get(7)?, r.get(8)?),
        uid: User {
            uid: r.get(17)?,
            name: r.get(18)?,
        },
        what: r.get(9)?,
        exe: r.get(10)?,
        addr: r.get(11)?,
        terminal: r.get(12)?,
        session: r.get(13)?,
        success: r.get(14)?,
        key: r.get(15)?,
        record_types: types.split(',').map(str::to_string).collect(),
        raw: String::new(),
    })
}
