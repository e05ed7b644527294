//! `who-did --follow`: alerts as they happen. One follower per log (this machine's, or each
//! host's over its own SSH connection) sends events here; each that matches an alert rule is
//! printed at once and, with `--exec`, handed to a command as JSON, at most `--rate` times a
//! minute.

use std::collections::VecDeque;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::collect::audit::follow::{self, Followed};
use crate::collect::hosts::targets;
use crate::error::{Error, ErrorKind, Outcome, Result};
use crate::model::audit::Event;
use crate::output::{Printer, Shape};
use crate::query::audit::HostEvent;
use crate::ssh::{KnownHosts, target::Resolver};

use super::warn;
use super::who_did::{Args, Row, event_record};

const NAME: &str = "who-did";

/// The fields `--follow` shows when `-f` names none.
const FOLLOW_FIELDS: &[&str] = &[
    "time", "host", "alert", "kind", "user", "as", "what", "result", "from",
];

/// Follows until killed (or until stdout is closed).
pub fn follow(args: &Args) -> Result<Outcome> {
    let config = args.common.config()?;
    let alerts = config.alerts()?;
    let audit = super::settings::audit_options(&config);
    let interval = Duration::from_secs_f64(args.interval);
    let (tx, rx) = std::sync::mpsc::channel::<Followed>();
    if args.hosts.is_empty() {
        let host = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "localhost".into());
        let audit = audit.clone();
        std::thread::spawn(move || {
            follow::local(host, &audit, interval, &mut |f| {
                let _ = tx.send(f);
            })
        });
    } else {
        let catalog = args.common.open_catalog(&config)?;
        let found = targets::expand(&config, &args.hosts, &catalog)?;
        if found.is_empty() {
            return Err(Error::usage("--host named no host to follow"));
        }
        let resolver = Resolver::new(&config, None, Vec::new(), None)?;
        let ssh = super::settings::ssh(&config, super::settings::SshFlags::default())?;
        let known = std::sync::Arc::new(KnownHosts::load(&ssh.known_hosts, false)?);
        for target in &found {
            let endpoint = resolver.resolve(target);
            let (known, limits, audit, tx) =
                (known.clone(), ssh.limits.clone(), audit.clone(), tx.clone());
            std::thread::spawn(move || {
                follow::ssh(&endpoint, &known, &limits, &audit, interval, &mut |f| {
                    let _ = tx.send(f);
                })
            });
        }
        drop(tx);
    }

    let mut output = args.output.clone();
    // JSON shows every field without -f; text formats show these, the alert first among them.
    let json = output.json
        || matches!(
            output.format,
            Some(crate::output::Format::Json | crate::output::Format::Jsonl)
        );
    if output.fields.is_empty() && !json {
        output.fields = FOLLOW_FIELDS.iter().map(|f| f.to_string()).collect();
    }
    let mut printer = Printer::new::<Row>(&output)?.streaming();
    let mut exec = (!args.exec.is_empty()).then(|| Exec::new(&args.exec, args.rate));
    for followed in rx {
        match followed {
            Followed::Problem {
                host,
                message: Some(m),
            } => warn(NAME, format!("{host}: {m}")),
            Followed::Problem {
                host,
                message: None,
            } => warn(NAME, format!("{host}: reading again")),
            Followed::Event { host, event } => {
                let matched: Vec<&str> = alerts
                    .iter()
                    .filter(|a| a.matches(&host, &event))
                    .map(|a| a.name.as_str())
                    .collect();
                if matched.is_empty() {
                    continue;
                }
                let alert = matched.join(", ");
                if let Some(exec) = exec.as_mut() {
                    exec.run(&alert, &host, &event);
                }
                let mut record = event_record(&HostEvent {
                    host,
                    event: *event,
                });
                record.set(Row::ALERT, alert);
                printer.print(&[record], Shape::Table)?;
            }
        }
    }
    Err(Error::new(
        ErrorKind::Fatal,
        "every follower stopped".to_string(),
    ))
}

/// The `--exec` command and its rate limit.
struct Exec {
    argv: Vec<String>,
    per_minute: usize,
    recent: VecDeque<Instant>,
    /// Alerts not passed on since the last one that was.
    held_back: u64,
}

impl Exec {
    fn new(argv: &[String], per_minute: u32) -> Exec {
        Exec {
            argv: argv.to_vec(),
            per_minute: per_minute.max(1) as usize,
            recent: VecDeque::new(),
            held_back: 0,
        }
    }

    /// Runs the command with the event as JSON on stdin, unless the rate is spent. The command
    /// runs on its own; a slow pager does not hold the alerts back.
    fn run(&mut self, alert: &str, host: &str, event: &Event) {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.per_minute {
            self.held_back += 1;
            return;
        }
        if self.held_back > 0 {
            warn(
                NAME,
                format!(
                    "{} alerts were not passed to {} (--rate {} a minute)",
                    self.held_back, self.argv[0], self.per_minute
                ),
            );
            self.held_back = 0;
        }
        self.recent.push_back(now);
        let json = event_json(alert, host, event);
        let child = Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn();
        match child {
            Ok(mut child) => {
                let mut stdin = child.stdin.take().expect("piped");
                std::thread::spawn(move || {
                    let _ = stdin.write_all(json.as_bytes());
                    drop(stdin);
                    let _ = child.wait();
                });
            }
            Err(e) => warn(NAME, format!("running {}: {e}", self.argv[0])),
        }
    }
}

/// The event as `--exec` commands read it.
fn event_json(alert: &str, host: &str, e: &Event) -> String {
    let mut v = serde_json::json!({
        "alert": alert,
        "host": host,
        "time": jiff::Timestamp::from_millisecond(e.time_ms).map(|t| format!("{t:.3}")).ok(),
        "kind": e.kind.name(),
        "user": e.actor.label(),
        "as": e.acting_as.label(),
        "uid": e.uid.label(),
        "what": e.what,
        "result": e.success.map(|s| if s { "success" } else { "failed" }),
        "from": e.addr,
        "terminal": e.terminal,
        "session": e.session,
        "exe": e.exe,
        "key": e.key,
        "serial": e.serial,
    })
    .to_string();
    v.push('\n');
    v
}
