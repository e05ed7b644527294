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

    /// A kernel record of an execve by uid 0, at `time` (`SECONDS.MILLIS`) with `serial`.
    fn exec(time: &str, serial: u64) -> String {
        format!(
            "type=SYSCALL msg=audit({time}:{serial}): arch=c000003e syscall=59 success=yes exit=0 \
             ppid=1 pid=4242 auid=0 uid=0 euid=0 ses=1 comm=\"id\" exe=\"/usr/bin/id\""
        )
    }

    /// A reader fed `lines` (offsets 100 apart), and the serials it emitted after each line.
    fn feed(reader: &mut Reader, lines: &[String]) -> Vec<Vec<u64>> {
        let mut after = Vec::new();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            reader.line(line.as_bytes(), 100 * i as u64, &mut |e| out.push(e.serial));
            after.push(out.clone());
        }
        after
    }

    #[test]
    fn stats_count_lines_records_garbage_and_events() {
        let (events, stats) = collect(&format!(
            "{}\ntype=EXECVE msg=audit(10.000:1): argc=1 a0=\"id\"\n\
             Nov 21 08:00:01 web-1 sshd[42]: Accepted publickey for alice\n\
             \x20  \n{}\n<truncated>\n{}\n",
            exec("10.000", 1),
            exec("10.500", 2),
            exec("11.000", 3)
        ));
        assert_eq!(events.len(), 3);
        assert_eq!(
            stats,
            Stats {
                lines: 7,
                records: 4,
                not_records: 2,
                events: 3
            },
            "blank lines are neither records nor garbage"
        );
        let mut reader = Reader::new(Names::default());
        assert_eq!(reader.stats(), Stats::default());
        feed(&mut reader, &[exec("10.000", 1), "junk".into()]);
        assert_eq!(
            reader.stats(),
            Stats {
                lines: 2,
                records: 1,
                not_records: 1,
                events: 0
            }
        );
    }

    #[test]
    fn an_event_stays_open_for_the_window_then_completes() {
        let mut reader = Reader::new(Names::default());
        let after = feed(
            &mut reader,
            &[
                exec("10.000", 1),
                // Exactly the window later: the first event may still get records.
                exec("12.000", 2),
                "type=EXECVE msg=audit(10.000:1): argc=1 a0=\"id\"".into(),
                // More than the window later: the first is complete, not the second.
                exec("12.001", 3),
                // Then the second, then the third.
                exec("14.001", 4),
                exec("14.002", 5),
            ],
        );
        assert_eq!(
            after,
            [vec![], vec![], vec![], vec![1], vec![1, 2], vec![1, 2, 3]]
        );
        let mut rest = Vec::new();
        reader.finish(&mut |e| rest.push(e));
        assert_eq!(rest.iter().map(|e| e.serial).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(reader.stats().events, 5);
    }

    #[test]
    fn a_late_record_joins_its_event_within_the_window() {
        let (events, _) = collect(&format!(
            "{}\n{}\ntype=EXECVE msg=audit(10.000:1): argc=2 a0=\"id\" a1=\"-u\"\n",
            exec("10.000", 1),
            exec("12.000", 2)
        ));
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].record_types, ["SYSCALL", "EXECVE"]);
        assert_eq!(events[0].what.as_deref(), Some("id -u"));
        assert_eq!(events[1].record_types, ["SYSCALL"]);
    }

    #[test]
    fn records_of_another_node_or_time_are_another_event() {
        // A central auditd's log: two hosts' events with the same stamp; and a serial that
        // came round again after a reboot.
        let (events, stats) = collect(&format!(
            "node=web-1 {}\nnode=web-2 {}\n\
             node=web-1 type=EXECVE msg=audit(10.000:1): argc=1 a0=\"whoami\"\n\
             node=web-2 type=EXECVE msg=audit(10.000:1): argc=1 a0=\"id\"\n\
             {}\n{}\n",
            exec("10.000", 1),
            exec("10.000", 1),
            exec("10.000", 7),
            exec("10.500", 7),
        ));
        assert_eq!(stats.events, 4);
        let summary: Vec<(Option<&str>, i64, u64, usize)> = events
            .iter()
            .map(|e| (e.node.as_deref(), e.time_ms, e.serial, e.record_types.len()))
            .collect();
        assert_eq!(
            summary,
            [
                (Some("web-1"), 10_000, 1, 2),
                (Some("web-2"), 10_000, 1, 2),
                (None, 10_000, 7, 1),
                (None, 10_500, 7, 1)
            ]
        );
        assert_eq!(events[0].what.as_deref(), Some("whoami"));
        assert_eq!(events[1].what.as_deref(), Some("id"));
    }

    #[test]
    fn at_most_64_events_are_open_at_once() {
        let mut reader = Reader::new(Names::default());
        let lines: Vec<String> = (1..=66).map(|serial| exec("10.000", serial)).collect();
        let after = feed(&mut reader, &lines);
        assert!(after[63].is_empty(), "64 open, none complete");
        assert_eq!(after[64], [1], "the 65th completes the oldest");
        assert_eq!(after[65], [1, 2]);
    }

    #[test]
    fn an_incremental_read_emits_whole_messages_and_old_events_only() {
        let mut reader = Reader::new(Names::default());
        feed(
            &mut reader,
            &[
                // 2001 ms before the end of the read: complete.
                exec("17.999", 1),
                // Exactly the window before it: its other records may still come.
                exec("18.000", 2),
                // A user-space message is written whole, however recent.
                "type=USER_LOGIN msg=audit(19.500:3): pid=9 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=192.0.2.7 addr=192.0.2.7 terminal=ssh res=success'".into(),
                "type=DAEMON_START msg=audit(19.900:4): op=start ver=3.0.9 format=enriched kernel=6.1.0 auid=4294967295 pid=600 uid=0 ses=4294967295 res=success".into(),
                // A kernel event is not, even with its first record only.
                exec("19.950", 5),
            ],
        );
        let mut out = Vec::new();
        let resume = reader.finish_at(20_000, &mut |e| out.push(e.serial));
        assert_eq!(out, [1, 3, 4]);
        assert_eq!(resume, Some(100), "the line of the first event held back");
        // Nothing stays open for the next read: it reads those lines again.
        let mut again = Vec::new();
        reader.finish(&mut |e| again.push(e.serial));
        assert!(again.is_empty());
        // Two records of one user-space stamp are no whole message.
        let mut reader = Reader::new(Names::default());
        let login = "type=USER_LOGIN msg=audit(19.500:3): pid=9 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" res=success'".to_string();
        feed(&mut reader, &[login.clone(), login]);
        let mut out = Vec::new();
        assert_eq!(
            reader.finish_at(20_000, &mut |e| out.push(e.serial)),
            Some(0)
        );
        assert!(out.is_empty());
    }

    /// sudo's records as sudo 1.9 writes them for `sudo -u postgres psql`, from pid 42 of
    /// alice (1000), with a watched file sudo writes in between.
    const SUDO: &str = "\
type=USER_AUTH msg=audit(10.000:10): pid=42 uid=1000 auid=1000 ses=3 msg='op=PAM:authentication grantors=pam_unix acct=\"alice\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'
type=USER_CMD msg=audit(10.000:11): pid=42 uid=1000 auid=1000 ses=3 msg='cwd=\"/home/alice\" cmd=7073716C exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'
type=SYSCALL msg=audit(10.000:12): arch=c000003e syscall=257 success=yes exit=5 a0=ffffff9c a1=7ffd a2=441 a3=1b6 items=2 ppid=41 pid=42 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"sudo\" exe=\"/usr/bin/sudo\" key=\"sudolog\"
type=PATH msg=audit(10.000:12): item=0 name=\"/var/log/sudo.log\" inode=131 dev=fd:01 mode=0100600 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL
type=CRED_REFR msg=audit(10.000:13): pid=42 uid=0 auid=1000 ses=3 msg='op=PAM:setcred grantors=pam_unix acct=\"postgres\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'
type=USER_START msg=audit(10.000:14): pid=42 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_limits,pam_unix acct=\"postgres\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'
";

    #[test]
    fn only_the_sudo_command_takes_its_sessions_account() {
        let (events, _) = collect(SUDO);
        let rows: Vec<(u64, Kind, Option<&str>)> = events
            .iter()
            .map(|e| (e.serial, e.kind, e.acting_as.name.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                (10, Kind::Auth, Some("alice")),
                (11, Kind::Sudo, Some("postgres")),
                (12, Kind::Write, Some("root")),
                (13, Kind::Other, Some("root")),
                (14, Kind::Other, Some("root")),
            ]
        );
    }

    #[test]
    fn a_sudo_command_waits_32_events_for_its_session() {
        // Cron opens sessions for another account from other processes meanwhile.
        let text = |others: u64| {
            let mut text = String::from(
                "type=USER_CMD msg=audit(10.000:1): pid=42 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd=\"true\" exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\n",
            );
            for i in 0..others {
                text.push_str(&format!(
                    "type=USER_START msg=audit(10.000:{}): pid={} uid=0 auid=0 ses=9 msg='op=PAM:session_open grantors=pam_unix acct=\"nobody\" exe=\"/usr/sbin/cron\" hostname=? addr=? terminal=cron res=success'\n",
                    2 + i,
                    100 + i
                ));
            }
            text.push_str(&format!(
                "type=USER_START msg=audit(10.000:{}): pid=42 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=pts/0 res=success'\n",
                2 + others
            ));
            text
        };
        for (others, target) in [(0, Some("root")), (31, Some("root")), (32, None)] {
            let (events, _) = collect(&text(others));
            assert_eq!(events.len() as u64, others + 2);
            assert_eq!(events[0].kind, Kind::Sudo);
            assert_eq!(
                events[0].acting_as.name.as_deref(),
                target,
                "{others} between"
            );
            assert_eq!(
                events.iter().map(|e| e.serial).collect::<Vec<_>>(),
                (1..=others + 2).collect::<Vec<_>>(),
                "log order kept"
            );
        }
    }

    #[test]
    fn events_behind_a_waiting_sudo_come_out_when_it_does() {
        let mut reader = Reader::new(Names::default());
        let sudo = "type=USER_CMD msg=audit(10.000:1): pid=42 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd=\"true\" exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'".to_string();
        let session = "type=USER_START msg=audit(16.000:5): pid=42 uid=0 auid=1000 ses=3 msg='op=PAM:session_open acct=\"root\" exe=\"/usr/bin/sudo\" res=success'".to_string();
        let after = feed(
            &mut reader,
            &[
                sudo,
                exec("13.000", 2),
                exec("16.000", 3),
                session,
                exec("19.000", 4),
            ],
        );
        // The sudo completes at 13 s but waits; the exec of 13 s completes at 16 s and waits
        // behind it; the session completes at 19 s and lets both out, then itself.
        assert_eq!(after[1], Vec::<u64>::new());
        assert_eq!(after[2], Vec::<u64>::new());
        assert_eq!(after[4], [1, 2, 3, 5]);
    }
}
