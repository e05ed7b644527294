//! Following audit logs as they grow: this machine's, and each host's over one long-lived SSH
//! connection, for `who-did --follow`.
//!
//! A follower runs the same incremental read as a scan (`logread`) every interval, from a
//! checkpoint it keeps in memory, starting at the end of the log. So it follows rotation and
//! truncation the way a scan does, and after a dropped connection it reconnects and goes on
//! from where it was: nothing is missed and, with the stamps of recent events remembered,
//! nothing is given twice.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use crate::model::audit::Event;
use crate::ssh::{Connection, Endpoint, KnownHosts, Limits};

use super::logread::{self, AuditOptions, Parsed, ReadOptions};

/// What a follower reports.
#[derive(Debug)]
pub enum Followed {
    /// A new event from `host`.
    Event { host: String, event: Box<Event> },
    /// Something worth a line on stderr: a lost connection, an unreadable log. A problem that
    /// persists is reported once, and its end once (`message` None).
    Problem {
        host: String,
        message: Option<String>,
    },
}

/// How many stamps are remembered to drop events read twice (a held event read again from
/// its checkpoint): far more than one interval's overlap.
const REMEMBERED: usize = 65_536;

type Stamp = (i64, u64, Option<String>);

/// One followed log.
struct Tail {
    host: String,
    options: ReadOptions,
    /// Whether the end of the log has been found (the first read only finds it).
    started: bool,
    max_bytes: u64,
    seen: HashSet<Stamp>,
    order: VecDeque<Stamp>,
    problem: Option<String>,
}

impl Tail {
    fn new(host: String, audit: &AuditOptions) -> Tail {
        Tail {
            host,
            options: ReadOptions {
                log: audit.log.clone(),
                checkpoint: None,
                max_bytes: 0,
            },
            started: false,
            max_bytes: audit.max_bytes,
            seen: HashSet::new(),
            order: VecDeque::new(),
            problem: None,
        }
    }

    /// One read through `run` (which runs a script and returns its stdout).
    fn step(
        &mut self,
        run: &mut dyn FnMut(&str) -> std::result::Result<Vec<u8>, String>,
        out: &mut dyn FnMut(Followed),
    ) -> std::result::Result<(), String> {
        let mut options = self.options.clone();
        options.max_bytes = if self.started { self.max_bytes } else { 0 };
        for _ in 0..2 {
            let marker = super::super::hosts::remote::new_marker();
            let script = logread::script(&marker, &options, super::super::hosts::remote::sh_quote);
            let stdout = run(&script)?;
            let read = match logread::parse(&marker, &stdout, &options) {
                Parsed::Rewritten => {
                    options = logread::from_start(&options);
                    continue;
                }
                Parsed::Read(read) => read,
            };
            match (&read.problem, &read.checkpoint) {
                (Some(p), None) => self.report(Some(p.clone()), out),
                _ => self.report(None, out),
            }
            for event in read.events {
                let stamp = (event.time_ms, event.serial, event.node.clone());
                if !self.seen.insert(stamp.clone()) {
                    continue;
                }
                self.order.push_back(stamp);
                if self.order.len() > REMEMBERED
                    && let Some(old) = self.order.pop_front()
                {
                    self.seen.remove(&old);
                }
                out(Followed::Event {
                    host: self.host.clone(),
                    event: Box::new(event),
                });
            }
            if read.checkpoint.is_some() {
                self.options.checkpoint = read.checkpoint;
                self.started = true;
            }
            return Ok(());
        }
        Err(format!("{} keeps changing under the read", options.log))
    }

    /// Reports a problem once, and its end once.
    fn report(&mut self, problem: Option<String>, out: &mut dyn FnMut(Followed)) {
        if problem != self.problem {
            if problem.is_some() || self.problem.is_some() {
                out(Followed::Problem {
                    host: self.host.clone(),
                    message: problem.clone(),
                });
            }
            self.problem = problem;
        }
    }
}

/// Follows this machine's audit log, forever.
pub fn local(
    host: String,
    audit: &AuditOptions,
    interval: Duration,
    out: &mut dyn FnMut(Followed),
) -> ! {
    let mut tail = Tail::new(host, audit);
    let mut run = |script: &str| logread::run_locally(audit.sudo, script);
    loop {
        if let Err(e) = tail.step(&mut run, out) {
            tail.report(Some(e), out);
        }
        std::thread::sleep(interval);
    }
}

/// Follows a host's audit log over SSH, forever: one connection for as long as it lasts, a
/// new one (waiting longer each time, up to a minute) when it drops.
pub fn ssh(
    endpoint: &Endpoint,
    known: &KnownHosts,
    limits: &Limits,
    audit: &AuditOptions,
    interval: Duration,
    out: &mut dyn FnMut(Followed),
) -> ! {
    let mut tail = Tail::new(endpoint.label.clone(), audit);
    let mut backoff = interval;
    loop {
        let conn = match Connection::open(endpoint, known, limits) {
            Ok(c) => c,
            Err(e) => {
                tail.report(Some(format!("connecting: {e}")), out);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(60));
                continue;
            }
        };
        backoff = interval;
        let mut run = |script: &str| match conn.run(audit.command(), script.as_bytes()) {
            Ok(o) if o.exit_status == 0 => Ok(o.stdout.clone()),
            Ok(o) => Err(format!(
                "{} failed with exit status {}: {}",
                audit.command(),
                o.exit_status,
                crate::collect::packages::summarize_stderr(&String::from_utf8_lossy(&o.stderr))
            )),
            Err(e) => Err(format!("connection lost: {e}")),
        };
        loop {
            match tail.step(&mut run, out) {
                Ok(()) => std::thread::sleep(interval),
                Err(e) => {
                    tail.report(Some(e), out);
                    std::thread::sleep(interval);
                    break;
                }
            }
        }
    }
}
