//! The audit trail: auditd's logs read as a stream of normalised events.
//!
//! auditd writes one line per record; the records of one event share a stamp
//! (`msg=audit(SECONDS.MILLIS:SERIAL)`) and are usually adjacent, but records of concurrent
//! events can interleave, and auditd does not write the end-of-event record. So, as auparse
//! does, an event is taken as complete when a record more than [`EVENT_WINDOW_MS`] newer
//! arrives, or when too many events are open at once, or at the end of the input. The reader
//! keeps a few events open, never the whole log: a 1 GB log streams in constant memory.
//!
//! `record` parses a line, `normalise` turns one event's records into a [`Event`],
//! `syscalls` names syscalls by number for RAW logs.

pub mod authlog;
pub mod follow;
pub mod logread;
pub mod normalise;
pub mod record;
pub mod rules;
pub mod syscalls;

use std::collections::VecDeque;

use crate::model::audit::{Event, Kind};

pub use normalise::Names;
use normalise::Normalised;
use record::Record;

/// How much newer a record must be than an open event for that event to be complete. The
/// kernel writes an event's records within microseconds; two seconds covers a loaded auditd.
pub const EVENT_WINDOW_MS: i64 = 2000;

/// How many events may be open at once before the oldest is taken as complete.
const MAX_OPEN: usize = 64;

/// How many events a sudo command waits for the session that names its target user.
const SUDO_WAIT: usize = 32;

/// What reading a log counted, for the one line a tool prints about bad input.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub lines: u64,
    pub records: u64,
    /// Lines that are not audit records (garbage, a cut line, another log's format).
    pub not_records: u64,
    pub events: u64,
}

/// An event still open: its records' lines (owned: the input buffer moves on), and where its
/// first line began in the input, so that an incremental read can resume before it.
struct Open {
    node: Option<Vec<u8>>,
    time_ms: i64,
    serial: u64,
    lines: Vec<Vec<u8>>,
    first_offset: u64,
}

impl Open {
    /// Whether no more records can come: a user-space message (PAM, sudo, sshd, auditd's own)
    /// is one record, written whole by the program that sends it. Only the kernel writes an
    /// event over several records (SYSCALL, EXECVE, PATH, PROCTITLE…).
    fn whole(&self) -> bool {
        self.lines.len() == 1
            && self
                .lines
                .first()
                .and_then(|l| Record::parse(l))
                .is_some_and(|r| {
                    let t = r.rtype();
                    normalise::is_user_message(t) || t.starts_with("DAEMON_")
                })
    }
}

/// A normalised event waiting to be emitted: a sudo command waits (a bounded number of events)
/// for the session that names whom it ran as.
struct Queued {
    event: Event,
    pid: Option<u32>,
    waiting: usize,
}

/// Reads audit records line by line and emits normalised events in log order.
pub struct Reader {
    names: Names,
    open: VecDeque<Open>,
    queue: VecDeque<Queued>,
    stats: Stats,
}

impl Reader {
    pub fn new(names: Names) -> Reader {
        Reader {
            names,
            open: VecDeque::new(),
            queue: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Feeds one line (without its newline) that began at byte `offset` of the input.
    pub fn line(&mut self, line: &[u8], offset: u64, out: &mut impl FnMut(Event)) {
        self.stats.lines += 1;
        let Some(record) = Record::parse(line) else {
            if !line.iter().all(u8::is_ascii_whitespace) {
                self.stats.not_records += 1;
            }
            return;
        };
        self.stats.records += 1;
        let (time_ms, serial) = (record.time_ms, record.serial);
        let node = record.node;
        if let Some(open) = self
            .open
            .iter_mut()
            .rev()
            .find(|o| o.serial == serial && o.time_ms == time_ms && o.node.as_deref() == node)
        {
            open.lines.push(line.to_vec());
            return;
        }
        // A new event: those far enough behind it are complete.
        while let Some(front) = self.open.front() {
            let old = front.time_ms.saturating_add(EVENT_WINDOW_MS) < time_ms;
            if old || self.open.len() >= MAX_OPEN {
                let done = self.open.pop_front().expect("front exists");
                self.complete(done, out);
            } else {
                break;
            }
        }
        self.open.push_back(Open {
            node: node.map(<[u8]>::to_vec),
            time_ms,
            serial,
            lines: vec![line.to_vec()],
            first_offset: offset,
        });
    }

    /// Ends the input: every open event is complete.
    pub fn finish(&mut self, out: &mut impl FnMut(Event)) {
        while let Some(done) = self.open.pop_front() {
            self.complete(done, out);
        }
        self.drain(true, out);
    }

    /// Ends an incremental read at `now_ms` (the host's clock): events whose last record is
    /// older than the window are complete; the others are held back, and the offset of the
    /// first held line is returned so that the next read starts there (their records are
    /// read again then; events already emitted from past that offset come again too, which
    /// the catalog's event key absorbs).
    pub fn finish_at(&mut self, now_ms: i64, out: &mut impl FnMut(Event)) -> Option<u64> {
        let mut held = VecDeque::new();
        while let Some(o) = self.open.pop_front() {
            if o.time_ms.saturating_add(EVENT_WINDOW_MS) < now_ms || o.whole() {
                self.complete(o, out);
            } else {
                held.push_back(o);
            }
        }
        self.drain(true, out);
        let resume = held.iter().map(|o| o.first_offset).min();
        self.open.clear();
        resume
    }

    fn complete(&mut self, open: Open, out: &mut impl FnMut(Event)) {
        let records: Vec<Record<'_>> = open.lines.iter().filter_map(|l| Record::parse(l)).collect();
        if records.is_empty() {
            return;
        }
        let n = normalise::normalise(&records, &self.names);
        self.stats.events += 1;
        self.enqueue(n, out);
    }

    fn enqueue(&mut self, n: Normalised, out: &mut impl FnMut(Event)) {
        if let (Some(account), Some(pid)) = (&n.session_account, n.pid) {
            // The session a sudo opens names whom the command ran as.
            for q in self.queue.iter_mut().filter(|q| q.waiting > 0) {
                if q.pid == Some(pid) {
                    q.event.acting_as = account.clone();
                    q.waiting = 0;
                }
            }
        }
        let waiting = if n.event.kind == Kind::Sudo && n.pid.is_some() {
            SUDO_WAIT
        } else {
            0
        };
        for q in self.queue.iter_mut() {
            q.waiting = q.waiting.saturating_sub(1);
        }
        self.queue.push_back(Queued {
            event: n.event,
            pid: n.pid,
            waiting,
        });
        self.drain(false, out);
    }

    /// Emits queued events from the front while they wait for nothing (with `all`, every one:
    /// the input ended, nothing more will name a sudo's target).
    fn drain(&mut self, all: bool, out: &mut impl FnMut(Event)) {
        while let Some(front) = self.queue.front() {
            if front.waiting > 0 && !all {
                break;
            }
            let q = self.queue.pop_front().expect("front exists");
            out(q.event);
        }
    }
}

/// Reads a whole log (any number of files concatenated) from `input`, emitting each event.
pub fn read_all(
    input: &mut impl std::io::BufRead,
    names: Names,
    out: &mut impl FnMut(Event),
) -> std::io::Result<Stats> {
    let mut reader = Reader::new(names);
    let mut buf = Vec::with_capacity(8192);
    let mut offset = 0u64;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        reader.line(line, offset, out);
        offset += n as u64;
    }
    reader.finish(out);
    Ok(reader.stats())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> (Vec<Event>, Stats) {
        let mut events = Vec::new();
        let stats = read_all(
            &mut std::io::Cursor::new(text.as_bytes()),
            Names::from_passwd("root:x:0:0::/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"),
            &mut |e| events.push(e),
        )
        .unwrap();
        (events, stats)
    }

    #[test]
    fn interleaved_records_group_by_stamp() {
        let (events, stats) = collect(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes auid=0 uid=0 euid=0\n\
             type=SYSCALL msg=audit(10.000:2): arch=c000003e syscall=87 success=yes auid=0 uid=0 euid=0\n\
             type=EXECVE msg=audit(10.000:1): argc=1 a0=\"id\"\n\
             type=PATH msg=audit(10.000:2): item=0 name=\"/tmp/x\" nametype=DELETE\n\
             garbage line\n\
             \n",
        );
        assert_eq!(stats.not_records, 1);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, Kind::Exec);
        assert_eq!(events[0].what.as_deref(), Some("id"));
        assert_eq!(events[1].kind, Kind::Delete);
        assert_eq!(events[1].what.as_deref(), Some("/tmp/x"));
    }

    #[test]
    fn sudo_gets_its_target_from_the_session_it_opens() {
        let (events, _) = collect(
            "type=USER_CMD msg=audit(10.000:7): pid=42 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd=\"true\" exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\n\
             type=CRED_REFR msg=audit(10.000:8): pid=42 uid=0 auid=1000 ses=3 msg='op=PAM:setcred acct=\"nobody\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=pts/0 res=success'\n\
             type=USER_START msg=audit(10.000:9): pid=42 uid=0 auid=1000 ses=3 msg='op=PAM:session_open acct=\"nobody\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=pts/0 res=success'\n",
        );
        assert_eq!(events.len(), 3);
        let sudo = &events[0];
        assert_eq!(sudo.kind, Kind::Sudo);
        assert_eq!(sudo.what.as_deref(), Some("true"));
        assert_eq!(sudo.acting_as.name.as_deref(), Some("nobody"));
        assert_eq!(sudo.actor.uid, Some(1000));
    }

    #[test]
    fn an_incremental_read_holds_back_a_recent_event() {
        let mut reader = Reader::new(Names::default());
        let mut events = Vec::new();
        let a = b"type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes auid=0 uid=0 euid=0";
        let b = b"type=SYSCALL msg=audit(19.000:2): arch=c000003e syscall=59 success=yes auid=0 uid=0 euid=0";
        reader.line(a, 0, &mut |e| events.push(e));
        reader.line(b, 100, &mut |e| events.push(e));
        // At 20 s the event of 19 s may still be getting records: held, resume at its line.
        let resume = reader.finish_at(20_000, &mut |e| events.push(e));
        assert_eq!(resume, Some(100));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].serial, 1);
    }
}
