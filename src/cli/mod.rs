//! What every command shares: the common flags, the documentation each tool carries (examples,
//! output fields, exit statuses), the one list of all commands, and the one exit path.
//!
//! Binaries under `src/bin/` are one line: `cli::main::<Tool>()`. Everything a user sees of a
//! command (its `--help`, its man page, its completions) is generated from the clap definition
//! and the [`ToolDoc`] here, so they cannot drift apart.

pub mod catalog_copy;
pub mod crawl_switches;
pub mod host_where;
pub mod pkg_where;
pub mod scan_hosts;
pub mod settings;
pub mod sshec2;
pub mod sync_ec2;
pub mod whatis_host;
pub mod whatis_ip;
pub mod which_switch;
pub mod who_did;
mod who_did_follow;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::catalog::{self, Catalog, CatalogSpec};
use crate::config::{self, Config};
use crate::error::{EXIT_FATAL, Error, ErrorKind, Outcome, Result};
use crate::output::Field;

/// Flags every command takes: where the configuration and the catalog are.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Catalog and configuration")]
pub struct CommonArgs {
    /// Configuration file [default: $OPSKIT_CONFIG, else $XDG_CONFIG_HOME/opskit/config.toml]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Catalog: a SQLite file, or a PostgreSQL URL (postgres://user@host/db) or libpq
    /// key=value string; the password comes from PGPASSWORD or ~/.pgpass, never from here
    /// [default: $XDG_DATA_HOME/opskit/catalog.db, created on first use]
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "OPSKIT_CATALOG",
        hide_env_values = true
    )]
    pub catalog: Option<OsString>,
}

impl CommonArgs {
    /// Loads the configuration file.
    pub fn config(&self) -> Result<Config> {
        config::load(self.config.as_deref())
    }

    /// Which catalog to open: `--catalog`/`$OPSKIT_CATALOG`, else the config's `[catalog]`,
    /// else the default file.
    pub fn catalog_spec(&self, config: &Config) -> Result<CatalogSpec> {
        if let Some(value) = &self.catalog {
            let spec = CatalogSpec::parse(value);
            // clap took it from $OPSKIT_CATALOG when that holds the same value: the
            // environment is the user's own, argv is not.
            let from_env = std::env::var_os("OPSKIT_CATALOG").as_ref() == Some(value);
            if !from_env {
                refuse_argv_password("--catalog", &spec)?;
            }
            return Ok(spec);
        }
        match (&config.catalog.url, &config.catalog.path) {
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    "[catalog]: both url and path are set; keep the one you mean",
                ));
            }
            (Some(url), None) => {
                return match CatalogSpec::parse(url.as_ref()) {
                    spec @ CatalogSpec::Postgres(_) => Ok(spec),
                    CatalogSpec::Sqlite(_) => Err(Error::new(
                        ErrorKind::Config,
                        "[catalog] url: not a postgres:// URL or libpq key=value string \
                         (a SQLite file goes in path)",
                    )),
                };
            }
            (None, Some(path)) => return Ok(CatalogSpec::Sqlite(path.clone())),
            (None, None) => {}
        }
        catalog::default_path()
            .map(CatalogSpec::Sqlite)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Config,
                    "no catalog path: set --catalog, $OPSKIT_CATALOG or $HOME",
                )
            })
    }

    /// Opens the catalog [`CommonArgs::catalog_spec`] names.
    pub fn open_catalog(&self, config: &Config) -> Result<Catalog> {
        Catalog::open_spec(&self.catalog_spec(config)?)
    }
}

/// Refuses a catalog named on the command line with a password in it: argv is in every `ps`
/// listing and the shell's history, where the environment and a 0600 file are the user's own.
pub(crate) fn refuse_argv_password(flag: &str, spec: &CatalogSpec) -> Result<()> {
    if spec.has_password() {
        return Err(Error::new(
            ErrorKind::Usage,
            format!(
                "{flag}: a password on the command line is visible to every user (ps): put it \
                 in PGPASSWORD, ~/.pgpass or the config file (mode 0600)"
            ),
        ));
    }
    Ok(())
}

/// The DNS flags of the commands that resolve names.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "DNS")]
pub struct DnsArgs {
    /// Do not ask DNS; answer from the catalog only
    #[arg(long)]
    pub no_dns: bool,
    /// DNS server to ask instead of the system's, as ADDR[:PORT]
    #[arg(long, value_name = "ADDR[:PORT]", conflicts_with = "no_dns")]
    pub dns_server: Option<String>,
    /// Seconds to wait for a DNS answer [default: 2, or [dns] timeout in the config]
    #[arg(long, value_name = "SECONDS", value_parser = crate::cli::settings::parse_seconds)]
    pub dns_timeout: Option<f64>,
}

impl DnsArgs {
    /// Where and how to ask DNS, flags first, then the config's `[dns]`; `None` with --no-dns.
    pub fn options(&self, config: &Config) -> Result<Option<crate::dns::DnsOptions>> {
        settings::dns(
            config,
            self.no_dns,
            self.dns_server.as_deref(),
            self.dns_timeout,
        )
    }
}

/// The documentation a tool carries besides its flags.
#[derive(Debug, Clone, Copy)]
pub struct ToolDoc {
    /// Binary name.
    pub name: &'static str,
    /// `(command line, what it does)` pairs shown in `--help` and the man page.
    pub examples: &'static [(&'static str, &'static str)],
    /// The output fields, in default order; empty for commands that print no records.
    pub fields: &'static [Field],
    /// Exit statuses and what they mean.
    pub exit_status: &'static [(&'static str, &'static str)],
    /// Other views a flag switches to, each with its own fields (`pkg-where --drift`).
    pub views: &'static [View],
    /// Environment variables this tool reads besides the ones every tool does.
    pub environment: &'static [(&'static str, &'static str)],
}

/// An output view a flag selects, with fields of its own.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// The flag that selects it (`--drift`).
    pub flag: &'static str,
    /// What the view lists, for the man page.
    pub about: &'static str,
    pub fields: &'static [Field],
}

/// The exit statuses of the query commands.
pub const QUERY_EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Every input was answered."),
    (
        "1",
        "Nothing was found for at least one input (each such input is named on stderr).",
    ),
    ("2", "Usage, configuration or catalog error."),
];

/// The exit statuses of the collectors.
pub const COLLECTOR_EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Every source was scanned."),
    (
        "1",
        "Some sources failed; the others were stored and each failure is named on stderr.",
    ),
    (
        "2",
        "Usage, configuration or catalog error: nothing was stored.",
    ),
];

/// A command: its clap definition plus its documentation and what it does.
pub trait Tool: clap::Parser {
    /// The documentation beyond flags.
    const DOC: ToolDoc;
    /// Runs the command with parsed arguments.
    fn run(self) -> Result<Outcome>;
}

/// The clap command of a tool, with examples appended to its help.
pub fn command<T: Tool>() -> clap::Command {
    let doc = T::DOC;
    let mut examples = String::from("Examples:\n");
    for (cmd, what) in doc.examples {
        examples.push_str(&format!("  {cmd}\n      {what}\n"));
    }
    let mut cmd = T::command()
        .name(doc.name)
        .bin_name(doc.name)
        .after_help(examples.clone());
    if !doc.fields.is_empty() {
        let names: Vec<&str> = doc.fields.iter().map(|f| f.name).collect();
        let mut long = format!(
            "{examples}\nOutput fields (see the man page for what each holds):\n  {}\n",
            names.join(", ")
        );
        for view in doc.views {
            let names: Vec<&str> = view.fields.iter().map(|f| f.name).collect();
            long.push_str(&format!(
                "\nOutput fields with {}:\n  {}\n",
                view.flag,
                names.join(", ")
            ));
        }
        cmd = cmd.after_long_help(long);
    }
    cmd
}

/// Every command opskit ships, for the documentation generator and its tests.
pub fn all() -> Vec<(ToolDoc, clap::Command)> {
    vec![
        (scan_hosts::Args::DOC, command::<scan_hosts::Args>()),
        (crawl_switches::Args::DOC, command::<crawl_switches::Args>()),
        (whatis_ip::Args::DOC, command::<whatis_ip::Args>()),
        (whatis_host::Args::DOC, command::<whatis_host::Args>()),
        (pkg_where::Args::DOC, command::<pkg_where::Args>()),
        (host_where::Args::DOC, command::<host_where::Args>()),
        (which_switch::Args::DOC, command::<which_switch::Args>()),
        (sync_ec2::Args::DOC, command::<sync_ec2::Args>()),
        (sshec2::Args::DOC, command::<sshec2::Args>()),
        (who_did::Args::DOC, command::<who_did::Args>()),
        (catalog_copy::Args::DOC, command::<catalog_copy::Args>()),
    ]
}

/// The entry point of every binary: parse, run, report, exit with 0, 1 or 2.
pub fn main<T: Tool>() -> ExitCode {
    let name = T::DOC.name;
    let matches = command::<T>().get_matches();
    let args = match T::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    match args.run() {
        // Lines of stdin that were not text were named as they were skipped; the rest were
        // answered, but not everything asked.
        Ok(outcome) if crate::input::skipped() > 0 => {
            ExitCode::from(outcome.max(Outcome::NothingFound).exit_code())
        }
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => exit_with(name, &e),
    }
}

/// Reports a fatal error on one line of stderr and returns its exit status. A closed stdout is
/// not an error: the reader got what it wanted.
pub fn exit_with(tool: &str, error: &Error) -> ExitCode {
    if error.kind() == ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    warn(tool, error);
    ExitCode::from(EXIT_FATAL)
}

/// Prints `tool: message` on stderr, ignoring a closed stderr. Messages often quote names from
/// the network, so control characters are escaped here too.
pub fn warn(tool: &str, message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{}", warn_line(tool, message));
}

/// Success, or nothing found: said on stderr only to a person at a terminal, so that cron,
/// which mails any output, stays quiet when there is no news.
pub fn found(tool: &str, any: bool, why: &str) -> Outcome {
    if any {
        return Outcome::Success;
    }
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        warn(tool, why);
    }
    Outcome::NothingFound
}

/// Host words as lower-case globs for a query: a `[groups]` name becomes its members'
/// hostnames (a group with no members selects no host, not every host), `-` with
/// `from_stdin` the first word of each stdin line, anything else a glob. `flag` names the
/// option in the error when the words name no host.
pub fn host_globs(
    config: &Config,
    words: &[String],
    from_stdin: bool,
    flag: &str,
) -> Result<Vec<String>> {
    let mut globs = Vec::new();
    for word in words {
        let word = word.trim();
        if word == "-" && from_stdin {
            for line in crate::input::items(&["-".to_string()], "host names")? {
                if let Some(first) = line.split_whitespace().next() {
                    globs.push(first.to_lowercase());
                }
            }
        } else if let Some(members) = config.group_members(word)? {
            globs.push(String::new());
            globs.extend(members.iter().map(|m| config::member_hostname(m)));
        } else if !word.is_empty() {
            globs.push(word.to_lowercase());
        }
    }
    if !words.is_empty() && globs.is_empty() {
        return Err(Error::usage(format!("{flag} named no host")));
    }
    Ok(globs)
}

/// The line [`warn`] prints, for printing through a progress bar.
pub fn warn_line(tool: &str, message: impl std::fmt::Display) -> String {
    crate::output::warning(tool, message)
}
