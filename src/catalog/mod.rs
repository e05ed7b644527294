//! The catalog: one database that every collector writes and every question is answered from,
//! a SQLite file by default or a PostgreSQL database that a team shares.
//!
//! All SQL in opskit lives under this module; `db` is where the two backends differ, and
//! nothing else here knows which one it talks to. A SQLite file is opened in WAL mode
//! with a busy timeout, so readers never block on a collector that is writing, and each source
//! (one host, one switch) is written in one transaction: a crawl that dies half-way leaves the
//! previous data intact.

mod addresses;
mod audit;
mod copy;
mod db;
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
use db::{Db, Dialect, params, sql_error};

pub use addresses::{AddressHolder, ArpObservation};
pub use audit::{AuditLogStatus, AuditWrite};
pub use copy::TableCount;
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
    db: Db,
    location: Location,
}

/// Where a catalog lives.
enum Location {
    Sqlite(PathBuf),
    /// The server and database, as shown in messages (no password).
    Postgres(String),
}

/// A catalog as named by `--catalog`, `$OPSKIT_CATALOG` or the config's `[catalog]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogSpec {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: a `postgres://`/`postgresql://` URL or libpq's `key=value` form.
    Postgres(String),
}

impl CatalogSpec {
    /// Reads a `--catalog` value: a PostgreSQL connection string when it is one, else a path.
    pub fn parse(value: &std::ffi::OsStr) -> CatalogSpec {
        match value.to_str() {
            Some(s) if pgconn::is_postgres_spec(s) => CatalogSpec::Postgres(s.to_string()),
            _ => CatalogSpec::Sqlite(PathBuf::from(value)),
        }
    }

    /// Whether the spec itself carries a password (which must not come from argv).
    pub fn has_password(&self) -> bool {
        match self {
            CatalogSpec::Sqlite(_) => false,
            CatalogSpec::Postgres(s) => pgconn::spec_has_password(s),
        }
    }
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
    /// Opens the catalog `spec` names: a SQLite file (see [`Catalog::open_sqlite`]) or a
    /// PostgreSQL database (a `postgres://` URL or libpq's `key=value` form).
    pub fn open_spec(spec: &CatalogSpec) -> Result<Catalog> {
        match spec {
            CatalogSpec::Sqlite(path) => Catalog::open(path),
            CatalogSpec::Postgres(conninfo) => Catalog::open_postgres(conninfo),
        }
    }

    /// Opens the PostgreSQL catalog `conninfo` names, creating its tables on first use and
    /// migrating an older schema; a database holding other tables is refused untouched.
    pub fn open_postgres(conninfo: &str) -> Result<Catalog> {
        let (client, shown) = pgconn::connect_catalog(conninfo)?;
        let mut catalog = Catalog {
            db: Db::Postgres(Box::new(db::Pg::new(client))),
            location: Location::Postgres(shown.clone()),
        };
        catalog
            .migrate()
            .map_err(|e| e.context(format!("catalog {shown}")))?;
        Ok(catalog)
    }

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
            db: Db::Sqlite(conn),
            location: Location::Sqlite(path.to_path_buf()),
        };
        catalog
            .migrate()
            .map_err(|e| e.context(format!("catalog {}", path.display())))?;
        Ok(catalog)
    }

    /// Where this catalog lives, for messages: the file, or the server and database (never a
    /// password).
    pub fn location(&self) -> String {
        match &self.location {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(shown) => shown.clone(),
        }
    }

    /// The file local state that goes with the catalog is kept beside (the SNMP DES salt
    /// epoch): the catalog file itself, or for a server catalog the default file's place.
    pub fn local_anchor(&self) -> PathBuf {
        match &self.location {
            Location::Sqlite(path) => path.clone(),
            Location::Postgres(_) => {
                default_path().unwrap_or_else(|| PathBuf::from("/var/tmp/opskit/catalog.db"))
            }
        }
    }

    /// Which backend this catalog is on.
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// The schema version of the open catalog (0 for an empty one).
    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = match &self.db {
            Db::Sqlite(conn) => conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(sql_error)?,
            Db::Postgres(_) => {
                // pg_class itself, not the pg_tables view (a connection's first query, on a
                // cold server process: the view cost a third of a point query's time), and not
                // to_regclass, whose name lookup may answer from a catalog snapshot taken
                // before this process waited for the migration lock (seen: a second command
                // starting at once took a just-migrated catalog for a foreign one).
                let exists = self.db.query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
                     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relname = 'opskit_meta')",
                    params![],
                    |r| r.get::<bool>(0),
                )?;
                if !exists {
                    0
                } else {
                    self.db
                        .query_opt(
                            "SELECT CAST(value AS BIGINT) FROM opskit_meta \
                             WHERE key = 'schema_version'",
                            params![],
                            |r| r.get(0),
                        )?
                        .unwrap_or(0)
                }
            }
        };
        Ok(v as usize)
    }

    /// Brings the schema up to date, under a lock so that two commands starting on an old
    /// catalog at once migrate it once: SQLite's write lock (an immediate transaction), or
    /// on PostgreSQL an advisory lock held by the migrating transaction (DDL is
    /// transactional there, so a migration that fails leaves nothing behind).
    fn migrate(&mut self) -> Result<()> {
        let current = match &self.db {
            // What nearly every start finds, an up-to-date catalog, in one statement; anything
            // else is looked at again below, under the lock.
            Db::Postgres(pg) => pg.recorded_version()?.unwrap_or(0) as usize,
            Db::Sqlite(_) => self.schema_version()?,
        };
        if current == MIGRATIONS.len() {
            return Ok(());
        }
        if current > MIGRATIONS.len() {
            return Err(newer(current));
        }
        let tx = self.db.begin_write()?;
        if let Db::Postgres(_) = &*tx {
            tx.query_one(
                "SELECT 1 FROM (SELECT pg_advisory_xact_lock(?1)) l",
                params![i64::from(APPLICATION_ID)],
                |_| Ok(()),
            )?;
        }
        let version = self.schema_version()?;
        if version > MIGRATIONS.len() {
            return Err(newer(version));
        }
        if version == 0 && self.db.dialect() == Dialect::Postgres {
            // Nothing of ours yet: the schema must hold nothing of anyone else's either.
            let foreign: i64 = tx.query_one(
                "SELECT count(*) FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
                params![],
                |r| r.get(0),
            )?;
            if foreign > 0 {
                return Err(Error::new(
                    ErrorKind::Catalog,
                    "not an opskit catalog (the database's schema holds other tables)",
                ));
            }
            tx.batch(
                "CREATE TABLE opskit_meta (key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL); \
                 INSERT INTO opskit_meta VALUES ('application', 'opskit'), ('schema_version', '0')",
            )?;
        }
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version) {
            let ddl = match self.db.dialect() {
                Dialect::Sqlite => sql.to_string(),
                Dialect::Postgres => db::postgres_ddl(sql),
            };
            tx.batch(&ddl)
                .map_err(|e| e.context(format!("migrating to schema {} ({name})", i + 1)))?;
        }
        match self.db.dialect() {
            Dialect::Sqlite => tx.batch(&format!(
                "PRAGMA user_version = {}; PRAGMA application_id = {APPLICATION_ID};",
                MIGRATIONS.len()
            ))?,
            Dialect::Postgres => {
                tx.execute(
                    "UPDATE opskit_meta SET value = ?1 WHERE key = 'schema_version'",
                    params![MIGRATIONS.len().to_string()],
                )?;
            }
        }
        tx.commit()
    }

    /// Starts a read transaction: until the returned guard is dropped, every query sees the
    /// catalog as it was at the first one, even while a collector commits alongside (WAL keeps
    /// the old pages for us; PostgreSQL's repeatable read does the same). A question answered
    /// from several queries (an address's holders, its ARP entries, its instance) is then
    /// answered from one state of the catalog, not from a host half before and half after a
    /// rescan. It also takes SQLite's read lock once for the lot instead of once per statement.
    /// Only for reading.
    pub fn read_snapshot(&self) -> Result<ReadSnapshot<'_>> {
        Ok(ReadSnapshot {
            _tx: self.db.begin_read()?,
        })
    }

    /// Records the start of a collector's run against one source; returns the scan id.
    pub fn begin_scan(&self, collector: &str, method: &str, target: &str, now: i64) -> Result<i64> {
        self.db.query_one(
            "INSERT INTO scans (collector, method, target, started_at) VALUES (?1, ?2, ?3, ?4) \
             RETURNING id",
            params![collector, method, target, now],
            |r| r.get(0),
        )
    }

    /// Records how a scan ended: `error` is `None` when it succeeded.
    pub fn finish_scan(&self, scan_id: i64, now: i64, error: Option<&str>) -> Result<()> {
        self.db
            .execute(
                "UPDATE scans SET finished_at = ?2, error = ?3 WHERE id = ?1",
                params![scan_id, now, error],
            )
            .map(drop)
    }

    /// The scan with this id, if any.
    pub fn scan(&self, scan_id: i64) -> Result<Option<ScanRow>> {
        self.db.query_opt(
            "SELECT id, collector, method, target, started_at, finished_at, error \
                 FROM scans WHERE id = ?1",
            params![scan_id],
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
    }
}

/// A read transaction on the catalog, from [`Catalog::read_snapshot`]; ended (rolled back,
/// as nothing was written) when dropped.
pub struct ReadSnapshot<'a> {
    _tx: db::Tx<'a>,
}

/// The error for a catalog whose schema is newer than this opskit's.
fn newer(version: usize) -> Error {
    Error::new(
        ErrorKind::Catalog,
        format!(
            "written by a newer opskit (schema {version}; this one knows up to {})",
            MIGRATIONS.len()
        ),
    )
}
