//! The PostgreSQL catalog's own promises, against a real server these tests start: a database
//! that is not an opskit catalog is refused untouched, a newer one refused, collectors starting
//! at once migrate once, many collectors write at once without waiting on each other or
//! duplicating rows, a killed collector or a restarted server leaves nothing half-written, a
//! read-only role answers every query, the config's `url` and the password rules, and
//! `catalog-copy` between the two backends gives byte-identical answers. (Every other catalog
//! test runs on PostgreSQL too, with `OPSKIT_TEST_CATALOG=postgres`.)

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::postgres::PgServer;
use crate::support::*;

/// Tables in the public schema of `env`'s database.
fn tables(env: &Env) -> Vec<String> {
    env.sql(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public' \
         ORDER BY tablename",
    )
}

#[test]
fn a_database_holding_other_tables_is_refused_untouched() {
    let env = Env::postgres();
    env.sql("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)");
    env.sql("INSERT INTO invoices VALUES (1, 9.5)");
    for tool in [tool!("pkg-where"), tool!("scan-hosts")] {
        let out = env.run(tool, &["bash"]);
        assert_status(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("not an opskit catalog"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(tables(&env), ["invoices"]);
    assert_eq!(env.sql("SELECT total FROM invoices"), ["9.5"]);
}

#[test]
fn a_catalog_from_a_newer_opskit_is_refused() {
    let env = Env::postgres();
    assert_status(&env.run(tool!("pkg-where"), &["bash"]), 1);
    let version = env.sql("SELECT value FROM opskit_meta WHERE key = 'schema_version'");
    assert_eq!(version.len(), 1);
    env.sql("UPDATE opskit_meta SET value = '99' WHERE key = 'schema_version'");
    let out = env.run(tool!("pkg-where"), &["bash"]);
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("newer"), "{err}");
    assert!(err.contains("99"), "{err}");
}

#[test]
fn commands_starting_at_once_on_an_empty_database_migrate_it_once() {
    let env = Env::postgres();
    let children: Vec<Child> = (0..8)
        .map(|_| {
            env.cmd(tool!("pkg-where"))
                .arg("bash")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_status(&out, 1); // an empty catalog: nothing found, no error
    }
    let version = env.sql("SELECT value FROM opskit_meta WHERE key = 'schema_version'");
    assert_eq!(version.len(), 1, "{version:?}");
    let sqlite = Env::sqlite_only("the reference schema to compare with");
    assert_status(&sqlite.run(tool!("pkg-where"), &["bash"]), 1);
    assert_eq!(sqlite.sql("PRAGMA user_version"), version);
    let mut theirs = sqlite.sql(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' \
         ORDER BY name",
    );
    theirs.push("opskit_meta".into());
    theirs.sort();
    assert_eq!(tables(&env), theirs);
}

#[test]
fn the_url_comes_from_the_config_and_passwords_stay_off_the_command_line() {
    let env = Env::postgres();
    let pg = env.pg.as_ref().unwrap();
    let password = pg.server.superuser_password().to_string();
    // The config's url, PGPASSWORD for the password: the catalog is the server's.
    let config = write_config(&env, &format!("[catalog]\nurl = \"{}\"\n", pg.url));
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.env_remove("OPSKIT_CATALOG")
        .env("OPSKIT_CONFIG", &config)
        .arg("bash");
    assert_status(&cmd.output().unwrap(), 1);
    assert!(tables(&env).contains(&"host_packages".to_string()));

    // A password in the url makes the file a secret: refused while others can read it.
    let with_password = format!(
        "postgresql://{}:{password}@/{}?host={}&port={}",
        pg.server.superuser(),
        pg.db,
        pg.server.socket_dir().display(),
        pg.server.port()
    );
    let config = write_config(&env, &format!("[catalog]\nurl = \"{with_password}\"\n"));
    std::fs::set_permissions(&config, PermissionsExt::from_mode(0o644)).unwrap();
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.env_remove("OPSKIT_CATALOG")
        .env_remove("PGPASSWORD")
        .env("OPSKIT_CONFIG", &config)
        .arg("bash");
    let out = cmd.output().unwrap();
    assert_status(&out, 2);
    assert!(stderr(&out).contains("catalog.url"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&password), "{}", stderr(&out));
    std::fs::set_permissions(&config, PermissionsExt::from_mode(0o600)).unwrap();
    assert_status(&cmd.output().unwrap(), 1);

    // On the command line, never: refused before anything is sent, and not echoed.
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.env_remove("OPSKIT_CATALOG")
        .env_remove("PGPASSWORD")
        .args(["--catalog", &with_password, "bash"]);
    let out = cmd.output().unwrap();
    assert_status(&out, 2);
    assert!(stderr(&out).contains("command line"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&password), "{}", stderr(&out));

    // Without a password anywhere: the server's refusal, named, on one line.
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.env_remove("PGPASSWORD").arg("bash");
    let out = cmd.output().unwrap();
    assert_status(&out, 2);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("pkg-where: catalog "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unreachable_server_is_one_line_and_exit_2() {
    let env = Env::postgres();
    // A port nothing listens on (held, so nothing else takes it meanwhile).
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    drop(held);
    let url = format!("postgresql://opskit@127.0.0.1:{port}/opskit?connect_timeout=5");
    for tool in [
        tool!("pkg-where"),
        tool!("scan-hosts"),
        tool!("whatis-host"),
    ] {
        let out = env
            .cmd(tool)
            .env("OPSKIT_CATALOG", &url)
            .args(["--no-dns", "x"][if tool.name == "whatis-host" { 0 } else { 1 }..].iter())
            .output()
            .unwrap();
        assert_status(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("{}: catalog ", tool.name)),
            "{err}"
        );
        assert!(err.contains(&port.to_string()), "{err}");
    }
}

/// The grants a read-only role needs, as the README documents them.
fn grant_read_only(env: &Env, role: &str) {
    let pg = env.pg.as_ref().unwrap();
    pg.server.create_role(role, "ro-secret", true);
    env.sql(&format!(
        "GRANT CONNECT ON DATABASE \"{}\" TO {role}",
        pg.db
    ));
    env.sql(&format!("GRANT USAGE ON SCHEMA public TO {role}"));
    env.sql(&format!(
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    ));
}

#[test]
fn a_read_only_role_answers_every_query_and_collectors_fail_clearly() {
    let env = Env::postgres();
    let dpkg = DpkgDb::new(&[
        Pkg {
            name: "openssl",
            version: "3.0.11-1~deb12u2",
            arch: "amd64",
        },
        Pkg {
            name: "bash",
            version: "5.2.15-2+b2",
            arch: "amd64",
        },
    ]);
    assert_status(&env.scan_as("ro-host", Some(&dpkg)), 0);
    let role = format!("ro_{}", std::process::id());
    grant_read_only(&env, &role);
    let pg = env.pg.as_ref().unwrap();
    let ro_url = pg.url.replacen(
        &format!("user={}", pg.server.superuser()),
        &format!("user={role}"),
        1,
    );
    assert_ne!(ro_url, pg.url);
    let as_ro = |tool: Tool, args: &[&str]| {
        env.cmd(tool)
            .env("OPSKIT_CATALOG", &ro_url)
            .env("PGPASSWORD", "ro-secret")
            .args(args)
            .output()
            .unwrap()
    };
    let superuser = |tool: Tool, args: &[&str]| env.run(tool, args);
    for (tool, args) in [
        (tool!("pkg-where"), &["openssl", "--json"][..]),
        (
            tool!("pkg-where"),
            &["--changes", "--since", "1d", "--json"][..],
        ),
        (tool!("whatis-host"), &["--no-dns", "ro-host", "--json"][..]),
        (tool!("whatis-ip"), &["--no-dns", "127.0.0.1", "--json"][..]),
        (tool!("host-where"), &["os_id", "--json"][..]),
        (tool!("host-where"), &["--count", "kernel", "--json"][..]),
        (
            tool!("which-switch"),
            &["--no-dns", "00:11:22:33:44:55", "--json"][..],
        ),
        (tool!("who-did"), &["--json"][..]),
    ] {
        let (ro, su) = (as_ro(tool, args), superuser(tool, args));
        assert_eq!(
            (ro.status.code(), stdout(&ro), stderr(&ro)),
            (su.status.code(), stdout(&su), stderr(&su)),
            "{} {args:?}",
            tool.name
        );
        assert_ne!(
            ro.status.code(),
            Some(2),
            "{} {args:?}: {}",
            tool.name,
            stderr(&ro)
        );
    }
    // A collector under the read-only role: one clear line, exit 2, nothing stored.
    let before = env.sql("SELECT count(*) FROM scans");
    let mut cmd = env.scan_as_cmd("ro-host", Some(&dpkg));
    cmd.env("OPSKIT_CATALOG", &ro_url)
        .env("PGPASSWORD", "ro-secret");
    let out = cmd.output().unwrap();
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("permission denied"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(env.sql("SELECT count(*) FROM scans"), before);
}

/// Every query tool's JSON answer about the lab in `env`'s catalog.
fn answers(env: &Env, catalog: &std::ffi::OsStr) -> Vec<String> {
    let mut out = Vec::new();
    for (tool, args) in [
        (tool!("pkg-where"), &["*", "--json"][..]),
        (
            tool!("pkg-where"),
            &["--changes", "--since", "3650d", "--json"][..],
        ),
        (tool!("pkg-where"), &["--summary", "openssl", "--json"][..]),
        (
            tool!("whatis-host"),
            &["--no-dns", "copy-a", "copy-b", "--json"][..],
        ),
        (tool!("whatis-ip"), &["--no-dns", "127.0.0.1", "--json"][..]),
        (tool!("host-where"), &["os_id", "--json"][..]),
        (
            tool!("host-where"),
            &["--changed-since", "3650d", "--json"][..],
        ),
        (tool!("who-did"), &["--json"][..]),
    ] {
        let o = env
            .cmd(tool)
            .env("OPSKIT_CATALOG", catalog)
            .args(args)
            .output()
            .unwrap();
        assert_ne!(
            o.status.code(),
            Some(2),
            "{} {args:?}: {}",
            tool.name,
            stderr(&o)
        );
        out.push(format!(
            "{} {args:?} {:?}\n{}",
            tool.name,
            o.status.code(),
            stdout(&o)
        ));
    }
    out
}

#[test]
fn catalog_copy_round_trips_sqlite_postgres_sqlite_byte_for_byte() {
    let env = Env::sqlite_only("the source of the copy is a file");
    let old = DpkgDb::new(&[
        Pkg {
            name: "openssl",
            version: "3.0.9-1",
            arch: "amd64",
        },
        Pkg {
            name: "bash",
            version: "5.2.15-2+b2",
            arch: "amd64",
        },
    ]);
    let new = DpkgDb::new(&[
        Pkg {
            name: "openssl",
            version: "3.0.11-1~deb12u2",
            arch: "amd64",
        },
        Pkg {
            name: "curl",
            version: "7.88.1-10",
            arch: "amd64",
        },
    ]);
    assert_status(&env.scan_as("copy-a", Some(&old)), 0);
    assert_status(&env.scan_as("copy-b", Some(&old)), 0);
    assert_status(&env.scan_as("copy-a", Some(&new)), 0); // history: a change
    // Text that COPY's text format must escape (tab, newline, carriage return, backslash, a
    // literal \N, which is its NULL) and every byte value in a BLOB.
    let odd = "tab\there\nnew line\r\\ back\\slash \\N not null, \u{e9}t\u{e9}";
    let every_byte: Vec<u8> = (0..=255u8).collect();
    {
        let conn = rusqlite::Connection::open(&env.catalog).unwrap();
        conn.execute(
            "INSERT INTO host_facts (host_id, kind, name, value, first_seen, last_seen, current, \
             last_scan_id) SELECT id, 'custom', 'odd', json_quote(?1), 1, 1, 1, last_scan_id \
             FROM hosts WHERE name = 'copy-a'",
            [odd],
        )
        .unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO audit_checkpoints (host_id, log, tail, cursor, read_at) \
             SELECT id, '/var/log/audit/audit.log', ?1, ?2, 1 FROM hosts WHERE name = 'copy-a'",
            rusqlite::params![every_byte, odd],
        )
        .unwrap();
    }
    let pg = Env::postgres();
    let pg_url = pg.catalog_arg();
    let copy = |from: &std::ffi::OsStr, to: &std::ffi::OsStr, extra: &[&str]| {
        pg.cmd(tool!("catalog-copy"))
            .args(extra)
            .arg(from)
            .arg(to)
            .output()
            .unwrap()
    };
    let file = env.catalog.as_os_str();
    let out = copy(file, &pg_url, &[]);
    assert_status(&out, 0);
    let counts = stdout(&out);
    assert!(counts.contains("hosts\t2\n"), "{counts}");
    assert!(counts.contains("scans\t3\n"), "{counts}");
    let back = env.dir.path().join("back.db");
    assert_status(&copy(&pg_url, back.as_os_str(), &[]), 0);
    let odd_json = serde_json::to_string(odd).unwrap();
    assert_eq!(
        pg.sql("SELECT value FROM host_facts WHERE name = 'odd'"),
        [odd_json.as_str()]
    );
    assert_eq!(
        pg.sql(
            "SELECT encode(tail, 'hex') || ' ' || encode(convert_to(cursor, 'UTF8'), 'hex') \
             FROM audit_checkpoints c JOIN hosts h ON h.id = c.host_id WHERE h.name = 'copy-a'"
        ),
        [format!("{} {}", hex(&every_byte), hex(odd.as_bytes()))]
    );
    {
        let conn = rusqlite::Connection::open(&back).unwrap();
        let (value, tail, cursor): (String, Vec<u8>, String) = conn
            .query_row(
                "SELECT f.value, c.tail, c.cursor FROM host_facts f \
                 JOIN audit_checkpoints c ON c.host_id = f.host_id WHERE f.name = 'odd'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (value.as_str(), tail, cursor.as_str()),
            (odd_json.as_str(), every_byte.clone(), odd)
        );
    }
    // The indexes and foreign keys dropped for the load into the empty server are back.
    assert_eq!(
        pg.sql(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname IN ('host_packages_host', 'host_packages_name')"
        ),
        ["2"]
    );
    assert_eq!(
        pg.sql(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' \
             AND conrelid = CAST('host_packages' AS regclass)"
        ),
        ["3"]
    );

    // (Run from the PostgreSQL environment, which has the password, whichever catalog.)
    let original = answers(&pg, file);
    assert!(original[0].contains("copy-b"), "{}", original[0]);
    assert_eq!(answers(&pg, &pg_url), original);
    assert_eq!(answers(&pg, back.as_os_str()), original);

    // A target that holds rows: refused, untouched, unless --replace.
    let before = pg.sql("SELECT count(*) FROM host_packages");
    let out = copy(file, &pg_url, &[]);
    assert_status(&out, 2);
    assert!(stderr(&out).contains("--replace"), "{}", stderr(&out));
    assert_eq!(pg.sql("SELECT count(*) FROM host_packages"), before);
    assert_status(&copy(file, &pg_url, &["--replace"]), 0);
    assert_eq!(answers(&pg, &pg_url), original);
    // New rows after a copy get new ids: the sequences went past the copied ones.
    let mut scan = pg.scan_as_cmd("copy-c", Some(&new));
    assert_status(&scan.output().unwrap(), 0);
    assert_eq!(pg.sql("SELECT count(*) FROM hosts"), ["3"]);

    // A source that is not a catalog: refused, and the target untouched.
    let missing = env.dir.path().join("missing.db");
    let out = copy(missing.as_os_str(), &pg_url, &["--replace"]);
    assert_status(&out, 2);
    assert_eq!(pg.sql("SELECT count(*) FROM hosts"), ["3"]);
}

/// The host's packages as stored: every current version, in name order.
fn current_packages(env: &Env, host: &str) -> Vec<String> {
    env.sql(&format!(
        "SELECT n.name || '=' || p.version || '-' || p.release FROM host_packages p \
         JOIN package_names n ON n.id = p.name_id JOIN hosts h ON h.id = p.host_id \
         WHERE h.name = '{host}' AND p.current = 1 ORDER BY n.name"
    ))
}

/// Whether a collector's transaction is open on the server right now.
fn writing(env: &Env) -> bool {
    env.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND xact_start IS NOT NULL \
         AND backend_type = 'client backend' AND query ILIKE '%host_packages%'",
    ) != ["0"]
}

#[test]
fn sigkill_of_a_collector_rolls_its_transaction_back_20_times_over() {
    let env = Env::postgres();
    let v1 = DpkgDb::generated(3000, "1.0-1");
    let v2 = DpkgDb::generated(3000, "2.0-1");
    assert_status(&env.scan_as("victim", Some(&v1)), 0);
    let first = current_packages(&env, "victim");
    assert_eq!(first.len(), 3000);
    let mut inside = 0;
    let mut seed = std::process::id() as u64;
    for round in 0..20 {
        let next = if round % 2 == 0 { &v2 } else { &v1 };
        let mut child = env
            .scan_as_cmd("victim", Some(next))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Half the kills wait for the write transaction on the server, half land anywhere.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if round % 2 == 0 {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !writing(&env) && Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
            }
        } else {
            std::thread::sleep(Duration::from_millis(seed % 400));
        }
        let was_writing = writing(&env);
        let _ = child.kill();
        child.wait().unwrap();
        inside += usize::from(was_writing);
        // Whatever the moment: the host's packages are one whole snapshot, never a mix.
        let now = current_packages(&env, "victim");
        let versions: BTreeSet<&str> = now.iter().map(|p| p.split('=').nth(1).unwrap()).collect();
        assert_eq!(now.len(), 3000, "round {round}");
        assert_eq!(versions.len(), 1, "round {round}: {versions:?}");
    }
    assert!(
        inside >= 5,
        "only {inside} of 20 kills landed inside the write transaction"
    );
    // The server holds no transaction of the dead collectors, and the next scan stores.
    assert!(!writing(&env));
    assert_status(&env.scan_as("victim", Some(&v2)), 0);
    assert!(
        current_packages(&env, "victim")
            .iter()
            .all(|p| p.ends_with("=2.0-1"))
    );
}

#[test]
fn eight_collectors_and_queries_at_once_store_every_source_once() {
    let env = Env::postgres();
    let dbs: Vec<DpkgDb> = (0..4)
        .map(|i| DpkgDb::generated(400 + i * 100, &format!("{}.0-1", i + 1)))
        .collect();
    // Eight writers: four hosts, each scanned twice at once (the same source serialised).
    let writers: Vec<Child> = (0..8)
        .map(|i| {
            env.scan_as_cmd(&format!("busy-{}", i % 4), Some(&dbs[i % 4]))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Meanwhile the query tools answer, each time without error.
    let (queries, outputs) = query_while(
        &env,
        writers,
        &[
            (tool!("pkg-where"), &["pkg-1", "--json"][..]),
            (tool!("host-where"), &["os_id", "--json"][..]),
            (tool!("whatis-host"), &["--no-dns", "busy-0", "--json"][..]),
        ],
    );
    for out in &outputs {
        assert_status(out, 0);
    }
    assert!(queries >= 3);
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["4"]);
    for i in 0..4 {
        let host = format!("busy-{i}");
        let packages = current_packages(&env, &host);
        assert_eq!(packages.len(), 400 + i * 100, "{host}");
        // No duplicate: each package once, current or not.
        assert_eq!(
            env.sql(&format!(
                "SELECT count(*) FROM host_packages p JOIN hosts h ON h.id = p.host_id \
                 WHERE h.name = '{host}'"
            )),
            [(400 + i * 100).to_string()],
            "{host}"
        );
    }
    assert_eq!(
        env.sql("SELECT count(*) FROM (SELECT name FROM package_names GROUP BY name HAVING count(*) > 1) d"),
        ["0"]
    );
}

#[test]
fn a_server_restarted_mid_scan_fails_that_scan_alone_and_stores_nothing_half() {
    // A server of this test's own, so the restart disturbs no other test.
    let server: &'static PgServer = Box::leak(Box::new(PgServer::start(
        crate::support::postgres::PgOptions::plain(),
    )));
    let env = Env::on_server(server);
    let v1 = DpkgDb::generated(3000, "1.0-1");
    let v2 = DpkgDb::generated(3000, "2.0-1");
    assert_status(&env.scan_as("restarted", Some(&v1)), 0);
    let mut child = env
        .scan_as_cmd("restarted", Some(&v2))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !writing(&env) && Instant::now() < deadline && child.try_wait().unwrap().is_none() {}
    let hit = writing(&env);
    server.restart();
    let out = child.wait_with_output().unwrap();
    if hit {
        assert_ne!(
            out.status.code(),
            Some(0),
            "the scan in flight cannot have stored"
        );
        let err = stderr(&out);
        assert!(err.starts_with("scan-hosts: "), "{err}");
    }
    let now = current_packages(&env, "restarted");
    let versions: BTreeSet<&str> = now.iter().map(|p| p.split('=').nth(1).unwrap()).collect();
    assert_eq!(now.len(), 3000);
    assert_eq!(versions.len(), 1, "{versions:?}");
    // The next scan, on the restarted server, stores.
    assert_status(&env.scan_as("restarted", Some(&v2)), 0);
    assert!(
        current_packages(&env, "restarted")
            .iter()
            .all(|p| p.ends_with("=2.0-1"))
    );
    drop(env);
    server.stop();
}

/// Runs `queries` in a loop, each asserted not to fail, until every writer has exited; returns
/// how many queries ran and the writers' outputs.
fn query_while(
    env: &Env,
    writers: Vec<Child>,
    queries: &[(Tool, &[&str])],
) -> (usize, Vec<std::process::Output>) {
    let mut slots: Vec<Option<Child>> = writers.into_iter().map(Some).collect();
    let (mut ran, mut outputs) = (0, Vec::new());
    while slots.iter().any(Option::is_some) {
        for (tool, args) in queries {
            let out = env.run(*tool, args);
            assert_ne!(
                out.status.code(),
                Some(2),
                "{}: {}",
                tool.name,
                stderr(&out)
            );
            ran += 1;
        }
        for slot in &mut slots {
            if let Some(child) = slot
                && child.try_wait().unwrap().is_some()
            {
                outputs.push(slot.take().unwrap().wait_with_output().unwrap());
            }
        }
    }
    (ran, outputs)
}

/// Current rows per table: what a complete set of last snapshots holds.
fn current_counts(env: &Env) -> Vec<String> {
    [
        "hosts",
        "host_packages",
        "host_interfaces",
        "host_facts",
        "devices",
        "device_ports",
        "fdb_entries",
        "ec2_instances",
        "ec2_asgs",
    ]
    .iter()
    .map(|t| {
        let current = if matches!(*t, "hosts" | "devices" | "ec2_instances") {
            ""
        } else {
            " WHERE current = 1"
        };
        format!(
            "{t} {}",
            env.sql(&format!("SELECT count(*) FROM {t}{current}"))[0]
        )
    })
    .collect()
}

#[test]
fn eight_collectors_of_every_kind_write_at_once_while_queries_answer() {
    use crate::crawl_switches::{real_agents, switches_config};
    use crate::support::moto::Moto;
    use crate::support::sshd::{Fleet, HostSpec, KnownHosts, Os};

    let fleet = Fleet::start(
        (0..4)
            .map(|i| {
                HostSpec::new(&format!("mixed-{i}"), Os::Debian12)
                    .pkg("bash", "5.2.15-2+b2")
                    .pkg("openssl", &format!("3.0.{i}-1"))
            })
            .collect(),
    );
    let sim = real_agents();
    let moto = Moto::start();
    moto.fleet();
    let env = Env::postgres();
    fleet.install_client(&env.home, KnownHosts::Plain);
    let config = write_config(
        &env,
        &format!(
            "[snmp]\ntimeout = 15\n\n[ec2]\nregions = [\"us-east-1\"]\n\n{}",
            switches_config(&sim)
        ),
    );
    let c = config.to_str().unwrap();
    let targets: Vec<String> = fleet.hosts.iter().map(|h| h.target()).collect();
    // Eight writers: two scans of the same two hosts each, two crawls of the same switches,
    // two syncs of the same region (the same sources, serialised), all at once.
    let collectors = || -> Vec<Child> {
        let mut children = Vec::new();
        for half in [&targets[..2], &targets[2..]] {
            for _ in 0..2 {
                children.push(
                    env.cmd(tool!("scan-hosts"))
                        .args(["--config", c, "--no-audit"])
                        .args(half)
                        .stdout(Stdio::null())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap(),
                );
            }
        }
        for _ in 0..2 {
            children.push(
                env.cmd(tool!("crawl-switches"))
                    .args(["--config", c])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
            let mut sync = env.cmd(tool!("sync-ec2"));
            moto.env(&mut sync);
            children.push(
                sync.args(["--config", c])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
        children
    };
    let run_all = |children: Vec<Child>| {
        let (queries, outputs) = query_while(
            &env,
            children,
            &[
                (tool!("pkg-where"), &["openssl", "--json"][..]),
                (
                    tool!("which-switch"),
                    &["--no-dns", "00:00:00:00:00:01", "--json"][..],
                ),
                (tool!("whatis-host"), &["--no-dns", "mixed-0", "--json"][..]),
                (tool!("host-where"), &["os_id", "--json"][..]),
            ],
        );
        for out in &outputs {
            assert_status(out, 0);
        }
        queries
    };
    assert_ne!(run_all(collectors()), 0);
    let after_first = current_counts(&env);
    assert!(
        after_first.iter().all(|t| !t.ends_with(" 0")),
        "every kind of source stored: {after_first:?}"
    );
    // Every source's last snapshot is complete: the same counts after another concurrent
    // round, and after one collector of each kind alone.
    run_all(collectors());
    assert_eq!(current_counts(&env), after_first);
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["4"]);
    assert_eq!(
        env.sql("SELECT count(*) FROM devices"),
        [crate::crawl_switches::REAL.len().to_string()]
    );
    for i in 0..4 {
        assert_eq!(current_packages(&env, &format!("mixed-{i}")).len(), 2);
    }
    // No scan was left unfinished or failed, and no row duplicated in any observation table.
    assert_eq!(
        env.sql("SELECT count(*) FROM scans WHERE finished_at IS NULL OR error IS NOT NULL"),
        ["0"]
    );
    for (table, key) in [
        (
            "host_packages",
            "host_id, name_id, arch, epoch, version, release",
        ),
        ("fdb_entries", "device_id, mac, vlan, if_index"),
        ("device_ports", "device_id, if_index"),
    ] {
        assert_eq!(
            env.sql(&format!(
                "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE current = 1 \
                 GROUP BY {key} HAVING count(*) > 1) d"
            )),
            ["0"],
            "{table}"
        );
    }
}

/// Lower-case hex, as PostgreSQL's encode(…, 'hex') writes it.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
