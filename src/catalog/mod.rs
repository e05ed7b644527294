//! The catalog: one SQLite file that every collector writes and every question is answered from.
//!
//! All SQL in opskit lives under this module, so that another backend (PostgreSQL for teams
//! sharing one catalog) can be added without touching the tools. The file is opened in WAL mode
//! with a busy timeout, so readers never block on a collector that is writing, and each source
//! (one host, one switch) is written in one transaction: a crawl that dies half-way leaves the
//! previous data intact.

mod addresses;
mod audit;
mod devices;
mod ec2;
mod facts;
mod hosts;
mod observations;
mod packages;
mod pgconn;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, ErrorKind, Result};

pub use addresses::{AddressHolder, ArpObservation};
pub use audit::{AuditLogStatus, AuditWrite};
pub use devices::{AddressBinding, DeviceRow, DeviceWrite, NeighborRow, Sighting};
pub use ec2::{Ec2InstanceRow, Ec2Write};
pub use facts::{FactHistoryRow, FactHost, FactSource, StoredFact};
pub use hosts::{AddressRow, FactRow, HostDetails, HostRow, HostWrite, InterfaceRow, ScanRow};
pub use observations::SyncCounts;
pub use packages::{Differences, InventoryHost, PackageChange, PackageLocation, PackageRow};

/// Marks a SQLite file as an opskit catalog ("opsk"), so another application's database is
/// refused instead of being migrated into.
const APPLICATION_ID: i32 = 0x6f70_736b;

/// The schema migrations, in order; schema version N is the state after the first N.
/// Never edit a released migration: add a new one.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("hosts", include_str!("migrations/0001_hosts.sql")),
    (
        "network and cloud",
        include_str!("migrations/0002_network_cloud.sql"),
    ),
    (
        "facts by name",
        include_str!("migrations/0003_fact_names.sql"),
    ),
    (
        "host identity",
        include_str!("migrations/0004_host_identity.sql"),
    ),
    ("audit trail", include_str!("migrations/0005_audit.sql")),
];

/// Connects to a PostgreSQL spec with an environment made of `env` only; says `user=… tls=…`.
/// For the integration tests, which cannot reach the crate-internal connection code.
#[doc(hidden)]
pub fn pg_check_connection_with_env(spec: &str, env: &[(&str, &str)]) -> Result<String> {
    pgconn::check_connection(spec, env)
}

/// How long a writer waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open catalog.
pub struct Catalog {
    conn: Connection,
    path: PathBuf,
}

/// The default catalog path: `$XDG_DATA_HOME/opskit/catalog.db` (`~/.local/share/opskit/…`).
pub fn default_path() -> Option<PathBuf> {
    crate::config::xdg_dir("XDG_DATA_HOME", ".local/share").map(|d| d.join("opskit/catalog.db"))
}

/// Creates an empty catalog file readable by its owner only (0600), in a directory made 0700
/// when it has to be made: inventories, EC2 tags, custom facts and error texts are nobody
/// else's business, whatever the umask. SQLite gives its -wal and -shm files the database's
/// mode. A directory that exists keeps the mode its owner gave it.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let creating = |what: &Path, e: std::io::Error| {
        Error::with_source(
            ErrorKind::Catalog,
            format!("catalog {}: creating {}", path.display(), what.display()),
            e,
        )
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| creating(dir, e))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(_) => Ok(()),
        // Another command created it meanwhile: theirs is as good.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(creating(path, e)),
    }
}

impl Catalog {
    /// Opens the catalog at `path`, creating it (and its directory) on first use and migrating an
    /// older schema in place. A file that is not an opskit catalog is refused and left untouched.
    pub fn open(path: &Path) -> Result<Catalog> {
        let fail = |msg: &str| {
            Error::new(
                ErrorKind::Catalog,
                format!("catalog {}: {msg}", path.display()),
            )
        };
        let wrap = |e: rusqlite::Error| {
            Error::with_source(ErrorKind::Catalog, format!("catalog {}", path.display()), e)
        };
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => return Err(fail("not a regular file")),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private(path)?,
            Err(e) => {
                return Err(Error::with_source(
                    ErrorKind::Catalog,
                    format!("catalog {}", path.display()),
                    e,
                ));
            }
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(wrap)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(wrap)?;
        // Query planner stability: without it SQLite re-prepares a cached statement whenever
        // a bound value might change its plan (partial indexes, LIKE prefixes), which made
        // parsing SQL the largest cost of answering ten thousand addresses in a row. Every
        // query here is written for its index; the plan does not need the value.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(wrap)?;
        // Read the header before changing anything: a corrupt or foreign file must stay as it is.
        let (app_id, tables): (i32, i64) = conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id), \
                        (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(wrap)?;
        if tables > 0 && app_id != APPLICATION_ID {
            return Err(fail(
                "not an opskit catalog (another application's SQLite database)",
            ));
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(wrap)?;
        // Read pages through a memory map instead of one pread per page into a 2 MB cache: a
        // pass over a fleet's packages (10,000 hosts x 1,000) re-read each page about ten
        // times, 2.5 million system calls and more system time than work. SQLite caps the
        // size at its compile-time maximum (2 GB) and falls back to reads past it; writes
        // still go through the WAL as before.
        conn.query_row("PRAGMA mmap_size = 1099511627776", [], |_| Ok(()))
            .optional()
            .map_err(wrap)?;
        let mut catalog = Catalog {
            conn,
            path: path.to_path_buf(),
        };
        catalog
            .migrate()
            .map_err(|e| e.context(format!("catalog {}", path.display())))?;
        Ok(catalog)
    }

    /// The file this catalog lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql_error)?;
        Ok(v as usize)
    }

    /// Brings the schema up to date. Runs under an immediate transaction, so two commands
    /// starting on an old catalog at once migrate it once.
    fn migrate(&mut self) -> Result<()> {
        let current = self.schema_version()?;
        if current == MIGRATIONS.len() {
            return Ok(());
        }
        if current > MIGRATIONS.len() {
            return Err(Error::new(
                ErrorKind::Catalog,
                format!(
                    "written by a newer opskit (schema {current}; this one knows up to {})",
                    MIGRATIONS.len()
                ),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql_error)?;
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(|e| {
                Error::with_source(
                    ErrorKind::Catalog,
                    format!("migrating to schema {} ({name})", i + 1),
                    e,
                )
            })?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
            .map_err(sql_error)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sql_error)?;
        tx.commit().map_err(sql_error)
    }

    /// Starts a read transaction: until the returned guard is dropped, every query sees the
    /// catalog as it was at the first one, even while a collector commits alongside (WAL keeps
    /// the old pages for us). A question answered from several queries (an address's holders,
    /// its ARP entries, its instance) is then answered from one state of the catalog, not
    /// from a host half before and half after a rescan. It also takes SQLite's read lock once
    /// for the lot instead of once per statement. Only for reading: a write inside it would
    /// have to upgrade a possibly stale snapshot, and may be refused as busy.
    pub fn read_snapshot(&self) -> Result<ReadSnapshot<'_>> {
        // BEGIN DEFERRED: the snapshot is taken by the first read, and nothing is locked yet.
        let tx = self.conn.unchecked_transaction().map_err(sql_error)?;
        Ok(ReadSnapshot { _tx: tx })
    }

    /// Records the start of a collector's run against one source; returns the scan id.
    pub fn begin_scan(&self, collector: &str, method: &str, target: &str, now: i64) -> Result<i64> {
        self.conn
            .query_row(
                "INSERT INTO scans (collector, method, target, started_at) VALUES (?1, ?2, ?3, ?4) \
                 RETURNING id",
                rusqlite::params![collector, method, target, now],
                |r| r.get(0),
            )
            .map_err(sql_error)
    }

    /// Records how a scan ended: `error` is `None` when it succeeded.
    pub fn finish_scan(&self, scan_id: i64, now: i64, error: Option<&str>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE scans SET finished_at = ?2, error = ?3 WHERE id = ?1",
                rusqlite::params![scan_id, now, error],
            )
            .map(drop)
            .map_err(sql_error)
    }

    /// The scan with this id, if any.
    pub fn scan(&self, scan_id: i64) -> Result<Option<ScanRow>> {
        self.conn
            .query_row(
                "SELECT id, collector, method, target, started_at, finished_at, error \
                 FROM scans WHERE id = ?1",
                [scan_id],
                |r| {
                    Ok(ScanRow {
                        id: r.get(0)?,
                        collector: r.get(1)?,
                        method: r.get(2)?,
                        target: r.get(3)?,
                        started_at: r.get(4)?,
                        finished_at: r.get(5)?,
                        error: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(sql_error)
    }
}

/// A read transaction on the catalog, from [`Catalog::read_snapshot`]; ended (rolled back,
/// as nothing was written) when dropped.
pub struct ReadSnapshot<'a> {
    _tx: rusqlite::Transaction<'a>,
}

/// Wraps a SQLite failure as a catalog error.
fn sql_error(e: rusqlite::Error) -> Error {
    Error::with_source(ErrorKind::Catalog, "catalog query failed", e)
}
