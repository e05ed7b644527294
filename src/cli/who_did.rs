//! `who-did`: the audit trail. Who did what, as whom, on which host, when, from the events
//! scan-hosts reads from each host's audit log into the catalog, or from logs given directly
//! (`--input`); counted (`--summary`) and reported for cron (`--report`).

use std::io::BufReader;

use crate::clock;
use crate::collect::audit::{self, Names};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Outcome, Result};
use crate::model::audit::{Event, Filter, Kind};
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::audit::{self as q, HostEvent, ReportRow, Summary, SummaryRow};

use super::{CommonArgs, Tool, ToolDoc, View, found, warn};

const NAME: &str = "who-did";

/// Who did what, as whom, on which host, and when: the fleet's audit trail.
///
/// Lists the events scan-hosts read from each host's audit log (auditd's
/// /var/log/audit/audit.log and its rotated files; on a host without auditd, sshd, sudo and su
/// from /var/log/auth.log, /var/log/secure or the journal), oldest first, one line each: when, the
/// host, the kind, the person (the login user, which sudo and su do not change), whom it ran
/// as, what (the command line, the file, the account, the port), the result and where from.
/// TEXT, when given, must appear in the command or path (case-insensitively).
///
/// Kinds: login, failed-login, logout, sudo, su, auth, auth-failure, exec, write, attr,
/// delete, bind (a port below 1024), account, audit-config, module, time, other.
///
/// --summary counts events per day, host, person and kind, like `aureport --summary` across
/// the fleet. --report daily|weekly|monthly is the report for cron: root logins, failed logins
/// by source, every sudo and su by person with the commands, changes to watched files (events
/// with a rule key), account changes, audit configuration changes, people not seen before the
/// period, and hosts whose audit log could not be read; it covers the last whole day, week
/// (Monday to Monday) or month, UTC, before now.
///
/// --input FILE… (or - for stdin) reads audit logs directly instead of the catalog, as
/// `ausearch --input` does: a log copied off a host. Names come from the log's own enrichment
/// (auditd's default ENRICHED format); numbers show as #UID when the log has none.
///
/// --follow follows this machine's audit log (with --host, each host's, over one SSH
/// connection per host that is made again when it drops) and prints each new event that
/// matches an alert rule, with the rule's name, as it happens; rotation and truncation are
/// followed, and no event is printed twice. The rules are the config's [[alert]] tables (kind,
/// user, as, path, command, host and key globs, result), or by default: root logins, failed
/// root logins, watched programs run, deletes in watched directories, writes to sudoers and
/// the account files, and audit configuration changes. --exec CMD ARG… ; runs a command per
/// alert with the event as JSON on stdin (no shell), at most --rate times a minute.
///
/// --rules prints the audit rules who-did recommends (for /etc/audit/rules.d/), each with a
/// key that names the kind of its events.
///
/// Exit status 1 when nothing matches, so that cron mails only when there is news.
#[derive(Debug, clap::Parser)]
#[command(version, verbatim_doc_comment)]
pub struct Args {
    /// Only events whose command or path contains TEXT
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,

    /// Only hosts matching GLOB or in group GROUP (repeatable, or comma-separated)
    #[arg(long = "host", value_name = "GLOB|GROUP", value_delimiter = ',')]
    pub hosts: Vec<String>,

    /// Only events by this person (login user: name or uid; repeatable, or comma-separated)
    #[arg(long = "user", short = 'u', value_name = "USER", value_delimiter = ',')]
    pub users: Vec<String>,

    /// Only events run as this user (name or uid; repeatable, or comma-separated)
    #[arg(long = "as", value_name = "USER", value_delimiter = ',')]
    pub acting_as: Vec<String>,

    /// Only events of this kind (repeatable, or comma-separated)
    #[arg(long = "kind", short = 'k', value_name = "KIND", value_delimiter = ',')]
    pub kinds: Vec<Kind>,

    /// Only events with this audit rule key (repeatable, or comma-separated)
    #[arg(long = "key", value_name = "KEY", value_delimiter = ',')]
    pub keys: Vec<String>,

    /// Only events since WHEN: an age (30m, 12h, 7d, 2w) or an RFC 3339 time
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,

    /// Only events before WHEN: an age or an RFC 3339 time
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// Only failed events
    #[arg(long, conflicts_with = "succeeded")]
    pub failed: bool,

    /// Only successful events
    #[arg(long)]
    pub succeeded: bool,

    /// Count events per day, host, person and kind
    #[arg(long, conflicts_with = "report")]
    pub summary: bool,

    /// The report for cron, over the last whole day, week or month
    #[arg(long, value_name = "PERIOD", value_parser = ["daily", "weekly", "monthly"])]
    pub report: Option<String>,

    /// Read these audit logs (- for stdin) instead of the catalog
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "report")]
    pub input: Vec<String>,

    /// Follow this machine's audit log (with --host, each host's over SSH) and print each
    /// event that matches an alert rule, as it happens
    #[arg(long, conflicts_with_all = ["summary", "report", "input"])]
    pub follow: bool,

    /// With --follow: seconds between reads of each log
    #[arg(long, value_name = "SECONDS", default_value = "2", value_parser = crate::cli::settings::parse_seconds)]
    pub interval: f64,

    /// With --follow: run CMD ARG… for each alert, the event as JSON on stdin (no shell; end
    /// the command with ";")
    #[arg(long, value_name = "CMD", num_args = 1.., value_terminator = ";", allow_hyphen_values = true, requires = "follow")]
    pub exec: Vec<String>,

    /// With --exec: run it at most N times a minute; alerts beyond are counted on stderr
    #[arg(long, value_name = "N", default_value = "12", requires = "exec")]
    pub rate: u32,

    /// Print the recommended audit rules (for /etc/audit/rules.d/) and exit
    #[arg(long, conflicts_with_all = ["text", "hosts", "users", "acting_as", "kinds", "keys", "since", "until", "failed", "succeeded", "summary", "report", "input", "follow"])]
    pub rules: bool,

    /// With --input: name users from this passwd file (the host's, copied with its log) where
    /// the log does not name them itself
    #[arg(long, value_name = "FILE", requires = "input")]
    pub passwd: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The fields of an event.
    pub Row {
        TIME = "time", shown,
            "When, as the host's clock said (RFC 3339, UTC, with milliseconds).";
        HOST = "host", shown,
            "The host the event happened on (with --input, the node name the log gives, if any).";
        KIND = "kind", shown,
            "login, failed-login, logout, sudo, su, auth, auth-failure, exec, write, attr, delete, bind, account, audit-config, module, time or other.";
        USER = "user", shown,
            "The person: the login user (audit uid), as the host named it; #UID when it had no name; null when the event has none (daemons, failed logins).";
        AS = "as", shown,
            "Whom it ran as: the effective user of a syscall, the target of sudo or su, the account of a login.";
        UID = "uid", hidden,
            "The user the process that logged the event ran as (#UID when it had no name).";
        WHAT = "what", shown,
            "The command line, the file path, the target account or the address and port.";
        RESULT = "result", shown,
            "success, failed, or null when the records do not say.";
        FROM = "from", shown,
            "The remote address.";
        TERMINAL = "terminal", hidden,
            "The terminal (pts/0, ssh, cron).";
        SESSION = "session", hidden,
            "The audit session id.";
        EXE = "exe", hidden,
            "The program that did it.";
        KEY = "key", hidden,
            "The audit rule key(s), comma-separated.";
        SERIAL = "serial", hidden,
            "The event's serial on its host (with the time, its identity).";
        RECORDS = "records", hidden,
            "The record types, in order (SYSCALL,EXECVE,CWD,PATH…).";
        RAW = "raw", hidden,
            "The raw records (bounded), for --input only.";
        ALERT = "alert", hidden,
            "With --follow: the alert rules the event matched (shown by default there).";
    }
}

crate::fields! {
    /// The fields of `--summary`.
    pub SummaryFields {
        DAY = "day", shown,
            "The day (UTC).";
        HOST = "host", shown,
            "The host.";
        USER = "user", shown,
            "The person (null: no login user).";
        KIND = "kind", shown,
            "The kind of event.";
        EVENTS = "events", shown,
            "How many.";
        FAILED = "failed", shown,
            "How many of them failed.";
    }
}

crate::fields! {
    /// The fields of `--report`.
    pub ReportFields {
        SECTION = "section", shown,
            "root-login, failed-login, sudo, su, watched-file, account, audit-config, new-person or unreadable-log.";
        HOST = "host", shown,
            "The host.";
        WHO = "who", shown,
            "The person; for failed logins, the source address.";
        WHAT = "what", shown,
            "The command, file, account or address; for failed logins, the account tried; for an unreadable log, why.";
        COUNT = "count", shown,
            "How many times in the period.";
        FIRST = "first", hidden,
            "The first time (RFC 3339, UTC).";
        LAST = "last", shown,
            "The last time (RFC 3339, UTC).";
    }
}

const VIEWS: &[View] = &[
    View {
        flag: "--summary",
        about: "One row per day, host, person and kind, with counts.",
        fields: SummaryFields::FIELDS,
    },
    View {
        flag: "--report",
        about: "One row per section, host, person and thing, with counts, in section order.",
        fields: ReportFields::FIELDS,
    },
];

const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Some event matches; with --report, there is something to report.",
    ),
    (
        "1",
        "Nothing matches (nothing is printed, so that cron stays quiet). Lines of an --input that are not audit records are counted on stderr and skipped.",
    ),
    (
        "2",
        "Usage, configuration or catalog error; an unreadable input file.",
    ),
];

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "who-did --kind sudo --since 1d",
                "Every sudo of the last day, fleet-wide.",
            ),
            (
                "who-did --host 'web*' --as root --kind exec,sudo,su --since 7d",
                "Who became root on the web hosts this week, and what they ran.",
            ),
            (
                "who-did --kind failed-login --summary --since 1d",
                "Failed logins per host and day.",
            ),
            (
                "who-did -u alice /etc/sudoers",
                "What alice did to sudoers.",
            ),
            (
                "who-did --report daily",
                "Yesterday's report (cron: mails only when something happened).",
            ),
            (
                "who-did --input /var/log/audit/audit.log --kind login",
                "Logins in a log read directly, without the catalog.",
            ),
            (
                "who-did --kind delete --json | jq -r .what",
                "Deleted paths, for a script.",
            ),
            (
                "who-did --follow --host web --exec /usr/local/bin/page-oncall \\;",
                "Alerts from every [groups] web host as they happen, each paged (JSON on stdin).",
            ),
            (
                "who-did --rules > /etc/audit/rules.d/50-opskit.rules && augenrules --load",
                "Install the recommended audit rules.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: EXIT_STATUS,
        views: VIEWS,
        environment: &[],
    };

    fn run(self) -> Result<Outcome> {
        if self.rules {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(audit::rules::rules_file().as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::io("writing output", e))?;
            return Ok(Outcome::Success);
        }
        let now = clock::now();
        if self.follow {
            return super::who_did_follow::follow(&self);
        }
        let filter = self.filter(now)?;
        if !self.input.is_empty() {
            return self.read_input(&filter);
        }
        let config = self.common.config()?;
        let hosts = self.host_globs(&config)?;
        if let Some(period) = &self.report {
            return self.report(&config, &hosts, period, now);
        }
        let catalog = self.common.open_catalog(&config)?;
        if self.summary {
            let mut printer = Printer::new::<SummaryFields>(&self.output)?;
            let mut summary = Summary::default();
            q::events(&catalog, &hosts, &filter, &mut |he| {
                summary.add(&he.host, &he.event);
                Ok(())
            })?;
            let records: Vec<_> = summary.rows().iter().map(summary_record).collect();
            printer.print(&records, Shape::Table)?;
            return Ok(found(NAME, !records.is_empty(), "no event matches"));
        }
        let mut printer = Printer::new::<Row>(&self.output)?;
        let mut records = Vec::new();
        q::events(&catalog, &hosts, &filter, &mut |he| {
            records.push(event_record(&he));
            Ok(())
        })?;
        printer.print(&records, Shape::Table)?;
        Ok(found(NAME, !records.is_empty(), "no event matches"))
    }
}

impl Args {
    fn filter(&self, now: i64) -> Result<Filter> {
        let time = |w: &Option<String>| {
            w.as_deref()
                .map(|s| clock::parse_since(s, now).map(|t| t.saturating_mul(1000)))
                .transpose()
        };
        Ok(Filter {
            users: self.users.clone(),
            acting_as: self.acting_as.clone(),
            kinds: self.kinds.clone(),
            keys: self.keys.clone(),
            since_ms: time(&self.since)?,
            until_ms: time(&self.until)?,
            text: self.text.as_ref().map(|t| t.to_lowercase()),
            success: match (self.failed, self.succeeded) {
                (true, _) => Some(false),
                (_, true) => Some(true),
                _ => None,
            },
        })
    }

    /// `--host` as lower-case globs, groups expanded.
    fn host_globs(&self, config: &Config) -> Result<Vec<String>> {
        super::host_globs(config, &self.hosts, false, "--host")
    }

    /// Events from logs given on the command line, streamed: a 1 GB log is read in constant
    /// memory for `--summary`.
    fn read_input(&self, filter: &Filter) -> Result<Outcome> {
        let hosts: Vec<String> = self.hosts.iter().map(|h| h.to_lowercase()).collect();
        let names = match &self.passwd {
            Some(p) => Names::from_passwd(&String::from_utf8_lossy(
                &std::fs::read(p).map_err(|e| Error::io(format!("reading {}", p.display()), e))?,
            )),
            None => Names::default(),
        };
        let mut summary = Summary::default();
        let mut records = Vec::new();
        let mut printer = if self.summary {
            None
        } else {
            Some(Printer::new::<Row>(&self.output)?)
        };
        for path in &self.input {
            let mut emit = |e: Event| {
                let host = e.node.clone().unwrap_or_default();
                if !q::host_selected(&hosts, &host) || !filter.matches(&e) {
                    return;
                }
                if self.summary {
                    summary.add(&host, &e);
                } else {
                    let mut r = event_record(&HostEvent {
                        host,
                        event: e.clone(),
                    });
                    r.set(Row::RAW, e.raw);
                    records.push(r);
                }
            };
            let stats = if path == "-" {
                let stdin = std::io::stdin();
                audit::read_all(&mut stdin.lock(), names.clone(), &mut emit)
            } else {
                std::fs::File::open(path).and_then(|f| {
                    audit::read_all(
                        &mut BufReader::with_capacity(1 << 20, f),
                        names.clone(),
                        &mut emit,
                    )
                })
            }
            .map_err(|e| Error::with_source(ErrorKind::Usage, format!("reading {path}"), e))?;
            if stats.not_records > 0 {
                warn(
                    NAME,
                    format!(
                        "{path}: {} of {} lines are not audit records (skipped)",
                        stats.not_records, stats.lines
                    ),
                );
            }
        }
        let any = if self.summary {
            let records: Vec<_> = summary.rows().iter().map(summary_record).collect();
            Printer::new::<SummaryFields>(&self.output)?.print(&records, Shape::Table)?;
            !records.is_empty()
        } else {
            printer
                .as_mut()
                .expect("made above")
                .print(&records, Shape::Table)?;
            !records.is_empty()
        };
        Ok(found(NAME, any, "no event matches"))
    }

    fn report(&self, config: &Config, hosts: &[String], period: &str, now: i64) -> Result<Outcome> {
        let (since, until) = period_bounds(period, now)?;
        let catalog = self.common.open_catalog(config)?;
        let rows = q::report(&catalog, hosts, since * 1000, until * 1000)?;
        let mut printer = Printer::new::<ReportFields>(&self.output)?;
        let records: Vec<_> = rows.iter().map(report_record).collect();
        printer.print(&records, Shape::Table)?;
        Ok(found(NAME, !records.is_empty(), "nothing to report"))
    }
}

/// The last whole day, week (Monday to Monday) or month before `now`, UTC, as Unix seconds.
pub fn period_bounds(period: &str, now: i64) -> Result<(i64, i64)> {
    let bad = |e: jiff::Error| Error::with_source(ErrorKind::Fatal, "computing the period", e);
    let today = jiff::Timestamp::from_second(now)
        .map_err(bad)?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let (start, end) = match period {
        "daily" => (today.yesterday().map_err(bad)?, today),
        "weekly" => {
            let back = i64::from(today.weekday().to_monday_zero_offset());
            let monday = today
                .checked_sub(jiff::Span::new().days(back))
                .map_err(bad)?;
            (
                monday.checked_sub(jiff::Span::new().days(7)).map_err(bad)?,
                monday,
            )
        }
        "monthly" => {
            let first = today.first_of_month();
            (
                first
                    .checked_sub(jiff::Span::new().months(1))
                    .map_err(bad)?,
                first,
            )
        }
        other => return Err(Error::usage(format!("unknown period {other:?}"))),
    };
    let secs = |d: jiff::civil::Date| -> Result<i64> {
        Ok(d.to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(bad)?
            .timestamp()
            .as_second())
    };
    Ok((secs(start)?, secs(end)?))
}

/// A time with milliseconds, RFC 3339 UTC.
fn time_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| format!("{t:.3}"))
        .unwrap_or_else(|_| ms.to_string())
}

pub(super) fn event_record(he: &HostEvent) -> Record<Row> {
    let e = &he.event;
    let mut r = Row::record();
    r.set(Row::TIME, time_ms(e.time_ms))
        .set(Row::HOST, Some(he.host.clone()).filter(|h| !h.is_empty()))
        .set(Row::KIND, e.kind.name())
        .set(Row::USER, e.actor.label())
        .set(Row::AS, e.acting_as.label())
        .set(Row::UID, e.uid.label())
        .set(Row::WHAT, e.what.clone())
        .set(
            Row::RESULT,
            e.success.map(|s| if s { "success" } else { "failed" }),
        )
        .set(Row::FROM, e.addr.clone())
        .set(Row::TERMINAL, e.terminal.clone())
        .set(Row::SESSION, e.session)
        .set(Row::EXE, e.exe.clone())
        .set(Row::KEY, e.key.clone())
        .set(Row::SERIAL, e.serial)
        .set(Row::RECORDS, e.record_types.join(","));
    r
}

fn summary_record(s: &SummaryRow) -> Record<SummaryFields> {
    let mut r = SummaryFields::record();
    r.set(SummaryFields::DAY, s.day.as_str())
        .set(
            SummaryFields::HOST,
            Some(s.host.clone()).filter(|h| !h.is_empty()),
        )
        .set(SummaryFields::USER, s.actor.clone())
        .set(SummaryFields::KIND, s.kind.name())
        .set(SummaryFields::EVENTS, s.events)
        .set(SummaryFields::FAILED, s.failed);
    r
}

fn report_record(row: &ReportRow) -> Record<ReportFields> {
    let mut r = ReportFields::record();
    r.set(ReportFields::SECTION, row.section.name())
        .set(ReportFields::HOST, row.host.as_str())
        .set(ReportFields::WHO, row.who.clone())
        .set(ReportFields::WHAT, row.what.clone())
        .set(ReportFields::COUNT, row.count)
        .set(ReportFields::FIRST, time_ms(row.first_ms))
        .set(ReportFields::LAST, time_ms(row.last_ms));
    r
}

#[cfg(test)]
mod tests {
    use super::period_bounds;

    #[test]
    fn periods_are_the_last_whole_ones() {
        // Wednesday 2026-12-02 17:00 UTC.
        let now = 1_796_230_800;
        let day = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_second();
        assert_eq!(
            period_bounds("daily", now).unwrap(),
            (day("2026-12-01T00:00:00Z"), day("2026-12-02T00:00:00Z"))
        );
        assert_eq!(
            period_bounds("weekly", now).unwrap(),
            (day("2026-11-23T00:00:00Z"), day("2026-11-30T00:00:00Z"))
        );
        assert_eq!(
            period_bounds("monthly", now).unwrap(),
            (day("2026-11-01T00:00:00Z"), day("2026-12-01T00:00:00Z"))
        );
    }
}
