//! `host-where`: which hosts match facts (`kernel<6.1 memory<16GiB`), how a fact's values
//! spread across the fleet (`--count`), and where facts changed (`--changed-since`).

use crate::clock;
use crate::config::Config;
use crate::error::{Outcome, Result};
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::facts::path::Path;
use crate::query::facts::term::Term;
use crate::query::facts::{self, Count, FactChange, Match, Question, Scope};

use super::{CommonArgs, Tool, ToolDoc, View, found};

const NAME: &str = "host-where";

/// Which hosts match facts: kernel, memory, OS, hardware, BIOS, custom facts and their JSON.
///
/// Lists the hosts in the catalog for which every TERM holds, with the facts the terms name. A
/// TERM is one of:
///
///     FACT=VALUE  FACT!=VALUE       equal, not equal
///     FACT<VALUE  FACT<=VALUE       less (older, smaller, earlier)
///     FACT>VALUE  FACT>=VALUE       greater
///     FACT~REGEX  FACT!~REGEX       the value matches the regular expression, or does not
///     FACT                          the host reports the fact
///     !FACT                         it does not
///
/// Quote terms for the shell: `<`, `>`, `!` and `~` mean something to it.
///
/// VALUE is read in the fact's kind. Text compares in version order (`kernel<6.1` holds for
/// 5.10.0-28-amd64 and not for 6.1.0-26-amd64; `bios_version<2.19.1`; `os_version>=12`), and
/// `=` is exact. Numbers compare as numbers, with size units: `memory<8GiB` (K, M, G, T are
/// powers of 1024 as in free and df; kB, MB, GB, TB powers of 1000). Times compare with an age
/// or a date: `boot_time<7d` is "booted more than 7 days ago", `last_seen>=2026-11-01`. A
/// regex matches a value's text; on a JSON object or list, its JSON text (`raid~degraded`).
/// A comparison needs the fact: `os_id!=debian` does not list hosts that report no os_id (ask
/// `!os_id` for those).
///
/// FACT is a system fact:
///
///     host fqdn first_seen last_seen           the catalog's record of the host
///     os os_id os_version                      /etc/os-release
///     kernel kernel_build arch                 uname -r, -v, -m
///     cpu_model cpu_count                      CPUs
///     memory memory_bytes                      the same fact, in bytes
///     hw_vendor hw_product hw_serial           DMI
///     board_serial bios_version
///     boot_time machine_id virtualization      virtualization: vm or container
///
/// or a custom fact (a `[[fact]]` of the configuration), whose kind is that of the values hosts
/// reported: numbers, true/false, or text. A JSON custom fact is addressed by a path:
/// `docker.ServerVersion<24`, `raid.arrays[*].state=degraded` (`[*]`: any element; `[0]`: the
/// first), `"name.with.dots".key`. A term holds when any value the path selects satisfies it.
/// A fact no host has, or a path that leads nowhere on every host, is an error naming it.
///
/// --hosts limits the hosts considered: hostname globs (matched against the name, the short
/// name and the FQDN), names of the config's [groups], or `-` for hostnames on stdin (the first
/// word of each line, so `pkg-where nginx | host-where --hosts - kernel<6.1` works).
///
/// --count FACT counts the matching hosts per value of FACT, in the fact's order: the fleet's
/// kernel or OS spread at a glance. --changed-since lists, from the catalog's history, when
/// the facts the terms name (every fact, without terms) changed on the matching hosts, with the
/// value before and after. Exit status 1 when no host matches, so that `host-where
/// 'raid~degraded'` in cron mails only when one does.
#[derive(Debug, clap::Parser)]
#[command(version, verbatim_doc_comment)]
pub struct Args {
    /// Terms that must all hold (see above); no term matches every host
    #[arg(value_name = "TERM")]
    pub terms: Vec<String>,

    /// Only hosts matching GLOB, in group GROUP, or named on stdin with "-" (repeatable, or comma-separated)
    #[arg(long = "hosts", value_name = "GLOB|GROUP|-", value_delimiter = ',')]
    pub hosts: Vec<String>,

    /// Only hosts last scanned longer ago than AGE (30m, 12h, 7d, 2w) or before a time
    #[arg(long, value_name = "AGE")]
    pub stale: Option<String>,

    /// Only hosts scanned within AGE (30m, 12h, 7d, 2w) or since a time
    #[arg(long, value_name = "AGE")]
    pub seen_within: Option<String>,

    /// Count the matching hosts per value of FACT, in the fact's order
    #[arg(long, value_name = "FACT", conflicts_with = "changed_since")]
    pub count: Option<String>,

    /// List changes of the facts the terms name (all facts, without terms) since WHEN: an age (7d) or a time
    #[arg(long, value_name = "WHEN")]
    pub changed_since: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The output fields of host-where; each fact a term or `-f` names follows `host`.
    pub Row {
        HOST = "host", shown,
            "Hostname as the host reports it. The facts the terms name follow, one field each, named as written (`kernel`, `docker.ServerVersion`); -f may name any fact. A fact is null when the host does not report it, and a list when a path with [*] selects several values. Times are RFC 3339 (UTC), memory in bytes.";
        LAST_SEEN = "last_seen", shown,
            "When the host was last scanned (RFC 3339, UTC).";
        FQDN = "fqdn", hidden,
            "Canonical name the host resolves itself to.";
        FIRST_SEEN = "first_seen", hidden,
            "When the host was first scanned (RFC 3339, UTC).";
    }
}

crate::fields! {
    /// The fields of `--count`.
    pub CountRow {
        VALUE = "value", shown,
            "A value of the fact (null: the hosts that do not report it, counted last).";
        HOSTS = "hosts", shown,
            "How many matching hosts have it.";
        FACT = "fact", hidden,
            "The fact counted, as written.";
    }
}

crate::fields! {
    /// The fields of `--changed-since`.
    pub ChangeRow {
        WHEN = "when", shown,
            "When the new value was first seen; for a fact that disappeared, when it was last seen (RFC 3339, UTC).";
        HOST = "host", shown,
            "Hostname.";
        FACT = "fact", shown,
            "The fact, as written.";
        FROM = "from", shown,
            "The value before (null when the fact appeared).";
        TO = "to", shown,
            "The value after (null when it disappeared).";
    }
}

const VIEWS: &[View] = &[
    View {
        flag: "--count",
        about: "One row per value of the fact, in the fact's order.",
        fields: CountRow::FIELDS,
    },
    View {
        flag: "--changed-since",
        about: "One row per change of a fact on a host, oldest first.",
        fields: ChangeRow::FIELDS,
    },
];

const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "Some host matches; with --changed-since, some fact changed.",
    ),
    (
        "1",
        "No host matches (nothing is printed, so that cron stays quiet); with --changed-since, nothing changed.",
    ),
    (
        "2",
        "Usage, configuration or catalog error; a malformed term, an unknown fact or a path that leads nowhere, named with the character where it goes wrong.",
    ),
];

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "host-where 'kernel<6.1'",
                "Hosts still on a kernel older than 6.1.",
            ),
            (
                "host-where 'memory<8GiB' os_id=debian",
                "Debian hosts with less than 8 GiB of memory.",
            ),
            (
                "host-where hw_product~R640 'bios_version<2.19'",
                "Dell R640s with a BIOS older than 2.19.",
            ),
            (
                "host-where 'docker.ServerVersion<24'",
                "Hosts running Docker older than 24 (a JSON custom fact).",
            ),
            (
                "host-where 'raid.arrays[*].state=degraded'",
                "Hosts with a degraded RAID array; exit 1 (no cron mail) when none is.",
            ),
            ("host-where --stale 7d", "Hosts not scanned for a week."),
            (
                "host-where --count kernel --hosts web",
                "The kernels of the [groups] web hosts, oldest first, with how many run each.",
            ),
            (
                "host-where --changed-since 1d kernel",
                "Where the kernel changed since yesterday, with before and after.",
            ),
            (
                "host-where 'raid~degraded' -f host | scan-hosts",
                "Rescan the hosts that reported a degraded RAID.",
            ),
            (
                "pkg-where -f host nginx | host-where --hosts - 'kernel<6.1'",
                "nginx hosts on an old kernel.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: EXIT_STATUS,
        views: VIEWS,
        environment: &[],
    };

    fn run(self) -> Result<Outcome> {
        let terms = self
            .terms
            .iter()
            .enumerate()
            .map(|(i, t)| Term::parse(i + 1, t))
            .collect::<Result<Vec<_>>>()?;
        let now = clock::now();
        let config = self.common.config()?;
        let scope = Scope {
            hosts: self.host_globs(&config)?,
            seen_before: self
                .stale
                .as_deref()
                .map(|s| clock::parse_since(s, now))
                .transpose()?,
            seen_since: self
                .seen_within
                .as_deref()
                .map(|s| clock::parse_since(s, now))
                .transpose()?,
        };
        let question = Question { terms, scope, now };
        if let Some(fact) = &self.count {
            return self.count(&config, &question, fact);
        }
        if let Some(since) = &self.changed_since {
            let since = clock::parse_since(since, now)?;
            return self.changes(&config, &question, since);
        }
        // The facts the terms name, once each, then any other fact -f names.
        let mut columns: Vec<Path> = Vec::new();
        for t in &question.terms {
            if !columns.iter().any(|c| c.text == t.path.text) {
                columns.push(t.path.clone());
            }
        }
        for f in &self.output.fields {
            let f = f.trim();
            if Row::FIELDS.iter().any(|x| x.name == f) || columns.iter().any(|c| c.text == f) {
                continue;
            }
            columns.push(Path::parse(f).map_err(|e| facts::path_error(f, e.at, e.message))?);
        }
        let names: Vec<String> = columns.iter().map(|c| c.text.clone()).collect();
        let mut printer = Printer::with_columns::<Row>(&self.output, &[], Some(Row::HOST), &names)?;
        let catalog = self.common.open_catalog(&config)?;
        let matches = facts::matching(&catalog, &question, &columns)?;
        let records: Vec<_> = matches.iter().map(record).collect();
        printer.print(&records, Shape::Table)?;
        Ok(found(NAME, !records.is_empty(), "no host matches"))
    }
}

impl Args {
    /// `--hosts` as lower-case globs: groups expanded, `-` read from stdin.
    fn host_globs(&self, config: &Config) -> Result<Vec<String>> {
        super::host_globs(config, &self.hosts, true, "--hosts")
    }

    fn count(&self, config: &Config, question: &Question, fact: &str) -> Result<Outcome> {
        let path = Path::parse(fact).map_err(|e| facts::path_error(fact, e.at, e.message))?;
        let mut printer = Printer::new::<CountRow>(&self.output)?;
        let catalog = self.common.open_catalog(config)?;
        let counts = facts::count(&catalog, question, &path)?;
        let records: Vec<_> = counts.iter().map(|c| count_record(&path, c)).collect();
        printer.print(&records, Shape::Table)?;
        Ok(found(NAME, !records.is_empty(), "no host matches"))
    }

    fn changes(&self, config: &Config, question: &Question, since: i64) -> Result<Outcome> {
        let mut paths: Vec<Path> = Vec::new();
        for t in &question.terms {
            if !paths.iter().any(|p| p.text == t.path.text) {
                paths.push(t.path.clone());
            }
        }
        let mut printer = Printer::new::<ChangeRow>(&self.output)?;
        let catalog = self.common.open_catalog(config)?;
        let changes = facts::changes(&catalog, question, &paths, since)?;
        let records: Vec<_> = changes.iter().map(change_record).collect();
        printer.print(&records, Shape::Table)?;
        Ok(found(NAME, !records.is_empty(), "no fact changed"))
    }
}

fn record(m: &Match) -> Record<Row> {
    let mut r = Row::record();
    r.set(Row::HOST, m.host.as_str())
        .set(Row::LAST_SEEN, clock::format(m.last_seen))
        .set(Row::FQDN, m.fqdn.clone())
        .set(Row::FIRST_SEEN, clock::format(m.first_seen));
    for (i, v) in m.columns.iter().enumerate() {
        r.set_column(i, v.clone());
    }
    r
}

fn count_record(path: &Path, c: &Count) -> Record<CountRow> {
    let mut r = CountRow::record();
    r.set(CountRow::VALUE, c.value.clone())
        .set(CountRow::HOSTS, c.hosts)
        .set(CountRow::FACT, path.text.as_str());
    r
}

fn change_record(c: &FactChange) -> Record<ChangeRow> {
    let mut r = ChangeRow::record();
    r.set(ChangeRow::WHEN, clock::format(c.when))
        .set(ChangeRow::HOST, c.host.as_str())
        .set(ChangeRow::FACT, c.fact.as_str())
        .set(ChangeRow::FROM, c.from.clone())
        .set(ChangeRow::TO, c.to.clone());
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_manual_names_every_system_fact() {
        let doc = <super::Args as clap::CommandFactory>::command()
            .get_long_about()
            .map(|s| s.to_string())
            .unwrap_or_default();
        for (name, _) in crate::query::facts::SYSTEM_FACTS {
            assert!(
                doc.split_whitespace().any(|w| w == *name),
                "{name} is not in host-where's manual"
            );
        }
    }
}
