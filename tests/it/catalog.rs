//! The conventions every command shares, tested through the real binaries: the catalog file
//! (creation, migration, corruption, crashes, concurrency), configuration, input, output
//! formats and escaping, exit statuses and closed pipes.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

const MIGRATION_1: &str = include_str!("../../src/catalog/migrations/0001_hosts.sql");

fn fingerprint(path: &std::path::Path) -> (Vec<u8>, Vec<String>) {
    let dir = path.parent().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (read(path), names)
}

#[test]
fn the_catalog_is_created_on_first_use_at_the_xdg_default() {
    let env = Env::sqlite_only("the default catalog is a file");
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.env_remove("OPSKIT_CATALOG").arg("bash");
    let out = cmd.output().unwrap();
    assert_status(&out, 1); // empty catalog: nothing found, but not an error
    let default = env.home.join(".local/share/opskit/catalog.db");
    assert!(default.is_file(), "no catalog at {}", default.display());

    let xdg = env.dir.path().join("xdg");
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.env_remove("OPSKIT_CATALOG")
        .env("XDG_DATA_HOME", &xdg)
        .arg("bash");
    assert_status(&cmd.output().unwrap(), 1);
    assert!(xdg.join("opskit/catalog.db").is_file());
}

#[test]
fn a_corrupt_catalog_is_refused_and_left_untouched() {
    let env = Env::sqlite_only(
        "a corrupt file in the catalog's place (tests/it/pg_catalog.rs has PostgreSQL's foreign-schema case)",
    );
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&env.catalog, &garbage).unwrap();
    let before = fingerprint(&env.catalog);
    for tool in [tool!("pkg-where"), tool!("whatis-host")] {
        let out = env.run(
            tool,
            &["--no-dns", "x"][if tool.name == "pkg-where" { 1 } else { 0 }..],
        );
        assert_status(&out, 2);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("{}: catalog {}", tool.name, env.catalog.display())),
            "{err}"
        );
        assert!(err.contains("not a database"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let out = env.run(tool!("scan-hosts"), &["--local"]);
    assert_status(&out, 2);
    assert_eq!(
        fingerprint(&env.catalog),
        before,
        "the corrupt file or its directory changed"
    );
}

#[test]
fn another_applications_database_is_not_migrated_into() {
    let env = Env::sqlite_only(
        "another application's SQLite file (tests/it/pg_catalog.rs has PostgreSQL's)",
    );
    let conn = rusqlite::Connection::open(&env.catalog).unwrap();
    conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');")
        .unwrap();
    drop(conn);
    let before = fingerprint(&env.catalog);
    let out = env.run(tool!("pkg-where"), &["bash"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("not an opskit catalog"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fingerprint(&env.catalog), before);
}

#[test]
fn an_unopenable_catalog_is_a_clear_error() {
    let env = Env::sqlite_only("file system errors of the catalog file");
    // A directory where the file should be.
    std::fs::create_dir(&env.catalog).unwrap();
    let out = env.run(tool!("pkg-where"), &["bash"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );

    // A catalog the user may not read: as root, run the tool as nobody.
    let env = Env::sqlite_only("file permissions of the catalog file");
    assert_status(&env.run(tool!("pkg-where"), &["bash"]), 1); // creates it
    std::fs::set_permissions(&env.catalog, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = read(&env.catalog);
    let mut cmd = if nix_is_root() {
        require("setpriv", "util-linux");
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(tool!("pkg-where").path());
        c
    } else {
        std::fs::set_permissions(&env.catalog, std::fs::Permissions::from_mode(0o000)).unwrap();
        Command::new(tool!("pkg-where").path())
    };
    env.isolate(&mut cmd);
    let out = cmd.arg("bash").output().unwrap();
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(err.starts_with("pkg-where: catalog "), "{err}");
    assert!(
        err.contains("unable to open")
            || err.contains("ermission denied")
            || err.contains("readonly"),
        "{err}"
    );
    assert_eq!(read(&env.catalog), before);
}

#[test]
fn a_catalog_from_an_older_schema_is_migrated_in_place() {
    require("sqlite3", "sqlite3");
    let env = Env::sqlite_only(
        "builds a schema-1 file with the sqlite3 shell (tests/it/pg_catalog.rs migrates PostgreSQL)",
    );
    // Build a schema-1 catalog with the real sqlite3 shell from the released migration, with
    // data in it, as an older opskit would have left it.
    let script = format!(
        "{MIGRATION_1}\nPRAGMA user_version = 1;\nPRAGMA application_id = 1869640555;\n\
         INSERT INTO scans (id, collector, method, target, started_at, finished_at) VALUES (1, 'scan-hosts', 'local', 'localhost', 1700000000, 1700000001);\n\
         INSERT INTO hosts (id, name, short_name, first_seen, last_seen, last_scan_id) VALUES (1, 'old-host', 'old-host', 1700000000, 1700000000, 1);\n\
         INSERT INTO package_names (id, name) VALUES (1, 'openssl');\n\
         INSERT INTO host_packages (host_id, manager, name_id, epoch, version, release, arch, first_seen, last_seen, current, last_scan_id) \
           VALUES (1, 'dpkg', 1, '', '3.0.11', '1~deb12u2', 'amd64', 1700000000, 1700000000, 1, 1);\n"
    );
    let out = run_with_stdin(Command::new("sqlite3").arg(&env.catalog), &script);
    assert_status(&out, 0);
    assert_eq!(env.sql("PRAGMA user_version"), ["1"]);

    let out = env.run(tool!("pkg-where"), &["-f", "host,version", "openssl"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "old-host\t3.0.11-1~deb12u2\n");
    assert_eq!(
        env.sql("PRAGMA user_version"),
        [opskit::catalog::MIGRATIONS.len().to_string()]
    );
    assert_eq!(
        env.sql("SELECT count(*) FROM sqlite_schema WHERE name = 'fdb_entries'"),
        ["1"]
    );
    assert_eq!(env.sql("PRAGMA integrity_check"), ["ok"]);

    // A catalog from a newer opskit is refused rather than misread.
    env.sql("PRAGMA user_version = 99");
    let out = env.run(tool!("pkg-where"), &["openssl"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("newer opskit (schema 99"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_errors_name_the_line_and_readable_secrets_are_refused() {
    let env = Env::new();
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[catalog]\npath = \"/tmp/x.db\"\n[dns]\ntimeout = = 3\n",
    )
    .unwrap();
    let out = env.run(
        tool!("pkg-where"),
        &["--config", config.to_str().unwrap(), "bash"],
    );
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("config.toml") && err.contains("line 4"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // A community string in a world-readable file: refused, with the fix.
    std::fs::write(
        &config,
        "[[switch]]\naddress = \"192.0.2.1\"\ncommunity = \"s3cret\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd = env.cmd(tool!("pkg-where"));
    let out = cmd
        .env("OPSKIT_CONFIG", &config)
        .arg("bash")
        .output()
        .unwrap();
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("switch[0].community") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(
        !err.contains("s3cret"),
        "the secret itself was printed: {err}"
    );

    // The same file without the secret is accepted as far as permissions go.
    std::fs::write(&config, "[catalog]\n").unwrap();
    let mut cmd = env.cmd(tool!("pkg-where"));
    assert_status(
        &cmd.env("OPSKIT_CONFIG", &config)
            .arg("bash")
            .output()
            .unwrap(),
        1,
    );

    // A config file that was named but does not exist is an error; the default one is optional.
    let out = env.run(
        tool!("pkg-where"),
        &["--config", "/nonexistent/opskit.toml", "bash"],
    );
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "pkg-where: config /nonexistent/opskit.toml: No such file or directory (os error 2)\n"
    );
}

#[test]
fn the_catalog_path_can_come_from_the_config() {
    let env = Env::sqlite_only(
        "the config's path key names a file (tests/it/pg_catalog.rs has its url key)",
    );
    let config = env.home.join(".config/opskit/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let path = env.dir.path().join("from-config.db");
    std::fs::write(
        &config,
        format!("[catalog]\npath = {:?}\n", path.to_str().unwrap()),
    )
    .unwrap();
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.env_remove("OPSKIT_CATALOG").arg("bash");
    assert_status(&cmd.output().unwrap(), 1);
    assert!(path.is_file());
}

/// SQLite's own view of a catalog that another process writes, from a connection of the
/// test's: whether a write transaction is open (this connection's `BEGIN IMMEDIATE` gets
/// SQLITE_BUSY at once), how large the write-ahead log is (a write transaction's pages spill
/// into it before it commits), and what a fresh read transaction sees.
struct LockProbe {
    conn: rusqlite::Connection,
    wal: std::path::PathBuf,
}

/// A write-ahead log this large holds the pages of a package snapshot being stored: a scan's
/// other transactions (its scan-log rows) and a 500-package snapshot write far less. Storing
/// 60,000 packages fills about 7 MB (measured: the log grows with the rows written, whatever
/// the machine's speed), so 2 MiB is a store well begun and 4 MiB one past its middle.
const STORE_BEGUN: u64 = 2 << 20;
const STORE_PAST_MIDDLE: u64 = 4 << 20;

/// How long a wait for a writer may take before it counts as hung: far beyond the seconds a
/// scan of 60,000 packages takes. A hang guard, not a timing.
const HANG: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct LockState {
    write_locked: bool,
    wal_bytes: u64,
}

impl LockState {
    /// A write transaction is open and has written at least `wal_bytes` of pages.
    fn storing(self, wal_bytes: u64) -> bool {
        self.write_locked && self.wal_bytes >= wal_bytes
    }
}

impl LockProbe {
    fn open(catalog: &std::path::Path) -> LockProbe {
        let conn = rusqlite::Connection::open(catalog).unwrap();
        // Never wait: a lock held elsewhere is the answer, not something to wait out.
        conn.busy_timeout(Duration::ZERO).unwrap();
        let mut wal = catalog.as_os_str().to_owned();
        wal.push("-wal");
        LockProbe {
            conn,
            wal: wal.into(),
        }
    }

    fn state(&self) -> LockState {
        let write_locked = match self.conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                self.conn.execute_batch("ROLLBACK").unwrap();
                false
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                true
            }
            Err(e) => panic!("probing the write lock: {e}"),
        };
        let wal_bytes = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        LockState {
            write_locked,
            wal_bytes,
        }
    }

    /// The current version of a host's package, as a new read transaction sees it.
    fn version(&self, host: &str, package: &str) -> String {
        self.conn
            .query_row(
                "SELECT p.version || '-' || p.release FROM host_packages p \
                 JOIN hosts h ON h.id = p.host_id JOIN package_names n ON n.id = p.name_id \
                 WHERE h.name = ?1 AND n.name = ?2 AND p.current = 1",
                [host, package],
                |r| r.get(0),
            )
            .unwrap()
    }
}

/// Every stored row of a host's packages and the hosts table, as text: what a scan's store
/// transaction changes.
fn stored_rows(env: &Env) -> Vec<String> {
    let mut rows = env.sql(
        "SELECT 'host ' || id || ' ' || name || ' ' || last_seen || ' ' \
         || ifnull(last_scan_id, '-') FROM hosts ORDER BY id",
    );
    rows.extend(env.sql(
        "SELECT 'package ' || id || ' ' || host_id || ' ' || name_id || ' ' || version || '-' \
         || release || ' ' || current || ' ' || first_seen || ' ' || last_seen \
         FROM host_packages ORDER BY id",
    ));
    rows
}

#[test]
fn sigkill_inside_the_write_transaction_leaves_the_previous_snapshot_intact() {
    let base = Env::sqlite_only(
        "watches SQLite's own lock and WAL (tests/it/pg_catalog.rs kills collectors on PostgreSQL)",
    );
    let small = DpkgDb::generated(500, "1.0-1");
    let big = DpkgDb::generated(60_000, "2.0-1");
    assert_status(&base.scan_as("crash-1", Some(&small)), 0);
    let before = stored_rows(&base);
    assert_eq!(before.len(), 501);

    // Kill the scanner the moment SQLite shows its store past its middle: the write lock held
    // and most of the snapshot's pages in the log, uncommitted (a store that committed part of
    // its rows early would show here). The commit can still slip in between that look and the
    // kill, so a few attempts are allowed; every one must leave a consistent catalog, and at
    // least one must have landed inside the transaction.
    let mut landed = 0;
    for attempt in 1..=3 {
        let env = Env::sqlite_only("a copy of the base catalog file");
        std::fs::copy(&base.catalog, &env.catalog).unwrap();
        let probe = LockProbe::open(&env.catalog);
        let mut child = env.scan_as_cmd("crash-1", Some(&big)).spawn().unwrap();
        let started = Instant::now();
        let seen = loop {
            if child.try_wait().unwrap().is_some() {
                break None;
            }
            let state = probe.state();
            if state.storing(STORE_PAST_MIDDLE) {
                break Some(state);
            }
            assert!(started.elapsed() < HANG, "scan-hosts hung: {state:?}");
            std::thread::sleep(Duration::from_millis(1));
        };
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let Some(seen) = seen else {
            panic!(
                "attempt {attempt}: the scan finished ({status}) without SQLite ever showing its store under way"
            )
        };
        // The dead writer's lock went with it, and SQLite recovers the catalog on next open.
        drop(probe);
        assert_eq!(env.sql("PRAGMA integrity_check"), ["ok"]);
        let probe = LockProbe::open(&env.catalog);
        assert!(
            !probe.state().write_locked,
            "a dead writer still holds the lock"
        );
        let current = env.sql("SELECT count(*) FROM host_packages WHERE current = 1");
        if current == ["60000"] {
            // The commit won the race with the kill: atomic all the same.
            assert_eq!(probe.version("crash-1", "pkg-000001"), "2.0-1");
            continue;
        }
        // Killed inside the transaction: the catalog is exactly as before, and answers.
        landed += 1;
        eprintln!("attempt {attempt}: killed while storing ({seen:?})");
        let after = stored_rows(&env);
        if after != before {
            let at = (0..after.len().max(before.len()))
                .find(|&i| after.get(i) != before.get(i))
                .unwrap();
            panic!(
                "attempt {attempt}: killed inside the store, the catalog changed: {} rows before, \
                 {} after, first difference: {:?} became {:?}",
                before.len(),
                after.len(),
                before.get(at),
                after.get(at)
            );
        }
        let out = env.run(tool!("pkg-where"), &["-f", "version", "pkg-000001"]);
        assert_status(&out, 0);
        assert_eq!(stdout(&out), "1.0-1\n");
        break;
    }
    assert!(landed > 0, "no kill landed inside the write transaction");
}

#[test]
fn queries_answer_while_a_collector_writes() {
    let env = Env::sqlite_only("watches SQLite's own lock state to prove the overlap");
    let small = DpkgDb::generated(100, "1.0-1");
    let big = DpkgDb::generated(60_000, "2.0-1");
    assert_status(&env.scan_as("busy-1", Some(&small)), 0);
    let probe = LockProbe::open(&env.catalog);
    let mut writer = env.scan_as_cmd("busy-1", Some(&big)).spawn().unwrap();
    // A second writer at the same time waits its turn instead of failing.
    let mut second = env.scan_as_cmd("busy-2", Some(&small)).spawn().unwrap();
    let started = Instant::now();
    let (mut queries, mut inside) = (0, 0);
    while writer.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < HANG, "scan-hosts hung");
        let before = probe.state();
        let out = env.run(tool!("pkg-where"), &["-f", "host,version", "pkg-000001"]);
        assert_status(&out, 0);
        assert!(!stderr(&out).contains("locked"), "{}", stderr(&out));
        // Read after the query ended: still the old version means busy-1's store had not
        // committed yet.
        let old_after = probe.version("busy-1", "pkg-000001") == "1.0-1";
        if before.storing(STORE_BEGUN) && old_after {
            // The store had begun before the query and had not committed after it: the query
            // ran inside the writer's transaction, and saw the snapshot from before it.
            assert!(
                stdout(&out).lines().any(|l| l == "busy-1\t1.0-1"),
                "{}",
                stdout(&out)
            );
            inside += 1;
        }
        let out = env.run(tool!("whatis-host"), &["--no-dns", "-f", "host", "busy-1"]);
        assert_status(&out, 0);
        assert_eq!(stdout(&out), "busy-1\n");
        queries += 1;
    }
    assert!(writer.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    eprintln!("{inside} of {queries} queries ran inside the writer's transaction");
    assert!(
        inside > 0,
        "none of {queries} queries ran inside the writer's transaction"
    );
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["2"]);
    assert_eq!(probe.version("busy-1", "pkg-000001"), "2.0-1");
}

#[test]
fn control_characters_from_the_network_are_escaped() {
    let env = Env::new();
    let db = DpkgDb::new(&[Pkg {
        name: "foo",
        version: "1.0-1",
        arch: "amd64",
    }]);
    let evil = "evil\x1b[31mred\x1b]0;owned\x07";
    assert_status(&env.scan_as(evil, Some(&db)), 0);

    // On a terminal, with colour off: not one escape character reaches it.
    let pkg_where = tool!("pkg-where").path();
    let screen = run_in_pty(
        &env,
        &format!("{} foo", pkg_where.display()),
        &[("NO_COLOR", "1")],
        0,
    );
    assert!(
        screen.contains("evil\\x1b[31mred\\x1b]0;owned\\x07"),
        "{screen:?}"
    );
    assert!(
        !screen.contains('\x1b') && !screen.contains('\x07'),
        "{screen:?}"
    );

    // Piped: escaped too, so a later `| less` or `cat` on a terminal is safe.
    let out = env.run(tool!("pkg-where"), &["-f", "host", "foo"]);
    assert_eq!(stdout(&out), "evil\\x1b[31mred\\x1b]0;owned\\x07\n");

    // In JSON the name is exact (JSON escapes control characters itself).
    let out = env.run(tool!("pkg-where"), &["--json", "-f", "host", "foo"]);
    let value: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(value["host"], evil);

    // whatis-host refuses such a name as input (it is not a host name a person could mean),
    // and its message on the terminal escapes it as well. (This part once looked for "host "
    // on the screen, which the refusal's own words matched: the status is what tells.)
    let whatis = tool!("whatis-host").path();
    let screen = run_in_pty(
        &env,
        &format!(
            "printf 'evil\\033[31mred\\033]0;owned\\007\\n' | {} --no-dns",
            whatis.display()
        ),
        &[("NO_COLOR", "1")],
        1,
    );
    assert!(
        screen.contains(
            "whatis-host: evil\\x1b[31mred\\x1b]0;owned\\x07: not a host name (control characters"
        ),
        "{screen:?}"
    );
    assert!(!screen.contains('\x1b'), "{screen:?}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let env = Env::new();
    let db = DpkgDb::generated(20_000, "1.0-1");
    assert_status(&env.scan_as("pipe-1", Some(&db)), 0);
    let script = format!(
        "set -o pipefail; {} 'pkg-*' | head -1",
        tool!("pkg-where").path().display()
    );
    let mut cmd = Command::new("bash");
    env.isolate(&mut cmd);
    let out = cmd.args(["-c", &script]).output().unwrap();
    assert_status(&out, 0);
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(
        stdout(&out).starts_with("pipe-1\tpkg-000000\t1.0-1\tamd64\tdpkg\t"),
        "{}",
        stdout(&out)
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn output_formats_and_field_selection() {
    let env = Env::new();
    let db = DpkgDb::new(&[
        Pkg {
            name: "alpha",
            version: "1:2.0~rc1-3",
            arch: "amd64",
        },
        Pkg {
            name: "beta",
            version: "0.9",
            arch: "all",
        },
    ]);
    assert_status(&env.scan_as("fmt-1", Some(&db)), 0);

    let out = env.run(
        tool!("pkg-where"),
        &["--header", "-f", "package,version,arch", "alpha", "beta"],
    );
    assert_eq!(
        stdout(&out),
        "package\tversion\tarch\nalpha\t1:2.0~rc1-3\tamd64\nbeta\t0.9\tall\n"
    );

    let out = env.run(
        tool!("pkg-where"),
        &["--format", "csv", "--header", "-f", "host,version", "alpha"],
    );
    assert_eq!(stdout(&out), "host,version\nfmt-1,1:2.0~rc1-3\n");

    let out = env.run(tool!("pkg-where"), &["--format", "json", "alpha"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let row = &value.as_array().unwrap()[0];
    // JSON carries every field, the wide ones too, with stable names.
    assert_eq!(row["epoch"], "1");
    assert_eq!(row["upstream_version"], "2.0~rc1");
    assert_eq!(row["release"], "3");
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // The names scripts rely on, written out here: a renamed field must fail this test, not
    // follow the code's own list.
    assert_eq!(
        keys,
        [
            "host",
            "package",
            "version",
            "arch",
            "manager",
            "installed",
            "last_seen",
            "first_seen",
            "epoch",
            "upstream_version",
            "release"
        ]
    );
    // And the man page documents each of them.
    let man = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/pkg-where.1"),
    )
    .unwrap();
    for key in &keys {
        assert!(
            man.lines().any(|l| l == format!(".B {key}")),
            "{key} is not in man/pkg-where.1"
        );
    }

    let out = env.run(tool!("pkg-where"), &["--json", "alpha", "beta"]);
    assert_eq!(stdout(&out).lines().count(), 2);

    let out = env.run(tool!("pkg-where"), &["-f", "host,nope", "alpha"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("unknown field \"nope\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");

    let out = env.run(tool!("pkg-where"), &["--format", "yaml", "alpha"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("invalid value 'yaml' for '--format <FORMAT>'"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}
