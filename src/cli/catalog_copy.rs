//! `catalog-copy`: copies a whole catalog, history included, between any two backends (a
//! SQLite file to a PostgreSQL database, back, or one server to another).

use std::ffi::OsString;
use std::io::Write;

use crate::catalog::{Catalog, CatalogSpec};
use crate::error::{Error, ErrorKind, Outcome, Result};

use super::{Tool, ToolDoc};

const NAME: &str = "catalog-copy";

/// Copy a whole catalog, history included, to another file or PostgreSQL database.
///
/// FROM and TO are each a SQLite catalog file or a PostgreSQL URL (postgres://user@host/db) or
/// libpq key=value string, as --catalog takes them; passwords come from PGPASSWORD or
/// ~/.pgpass, never from the command line. FROM must be an opskit catalog; TO is created (a
/// file) or set up (an empty database) when it is new, and both are brought to this opskit's
/// schema first.
///
/// Every row keeps its id, so the copy answers every question exactly as the original does,
/// history included. The source is read in one read transaction, so collectors may go on
/// writing to it; the target is written in one transaction that is committed only when the
/// row count of every table agrees with the source: a failed or interrupted copy leaves the
/// target as it was. A target that already holds rows is refused unless --replace is given.
///
/// Into PostgreSQL the rows go in with COPY. Into an empty PostgreSQL catalog whose tables the
/// connecting role owns (as the role that created them does), the plain indexes and foreign
/// keys are dropped first and built again after the rows, in the same transaction, as
/// pg_restore does: a hundred million package rows load in minutes instead of hours. Readers
/// of that database wait meanwhile; the --replace of a catalog in use keeps its indexes. The
/// copy's statements run without the statement timeout the query tools have (one statement
/// reads or writes a whole table).
///
/// Prints each table and its row count (tab-separated) when the copy is committed.
#[derive(Debug, clap::Parser)]
#[command(name = NAME, version)]
pub struct Args {
    /// The catalog to copy: a SQLite file or a PostgreSQL URL
    #[arg(value_name = "FROM")]
    pub from: OsString,

    /// Where to copy it: a SQLite file or a PostgreSQL URL
    #[arg(value_name = "TO")]
    pub to: OsString,

    /// Delete whatever the target holds first (in the same transaction)
    #[arg(long)]
    pub replace: bool,
}

const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "The catalog was copied and every table's row count checked.",
    ),
    (
        "2",
        "Usage or catalog error, or a target that holds rows without --replace: nothing was \
         written.",
    ),
];

fn spec(flag: &str, value: &OsString) -> Result<CatalogSpec> {
    let spec = CatalogSpec::parse(value);
    super::refuse_argv_password(flag, &spec)?;
    Ok(spec)
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "catalog-copy ~/.local/share/opskit/catalog.db postgres://opskit@db.example/opskit",
                "Move one admin's catalog to the team's PostgreSQL server.",
            ),
            (
                "catalog-copy postgres://opskit_ro@db.example/opskit /var/tmp/catalog.db",
                "Take a file snapshot of the team catalog (read rights are enough for FROM).",
            ),
            (
                "catalog-copy --replace old.db postgres:///opskit",
                "Copy over whatever the local server's opskit database holds.",
            ),
        ],
        fields: &[],
        exit_status: EXIT_STATUS,
        views: &[],
        environment: &[],
    };

    fn run(self) -> Result<Outcome> {
        let (from, to) = (spec("FROM", &self.from)?, spec("TO", &self.to)?);
        if let CatalogSpec::Sqlite(path) = &from
            && !path.exists()
        {
            return Err(Error::new(
                ErrorKind::Catalog,
                format!("catalog {}: no such file", path.display()),
            ));
        }
        let source = Catalog::open_spec(&from)?;
        if source.schema_version()? == 0 {
            return Err(Error::new(
                ErrorKind::Catalog,
                format!("catalog {}: not an opskit catalog", source.location()),
            ));
        }
        let target = Catalog::open_spec(&to)?;
        let counts = source.copy_to(&target, self.replace)?;
        let mut out = std::io::stdout().lock();
        for c in &counts {
            writeln!(out, "{}\t{}", c.table, c.rows).map_err(|e| Error::io("stdout", e))?;
        }
        out.flush().map_err(|e| Error::io("stdout", e))?;
        Ok(Outcome::Success)
    }
}
