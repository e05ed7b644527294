//! `scan-hosts --local` against this machine's real state and real dpkg databases.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;

#[test]
fn local_scan_matches_what_the_system_itself_reports() {
    let env = Env::new();
    let out = env.run("scan-hosts", &["--local"]);
    assert_status(&out, 0);
    // Under cron (no terminal) a successful collector prints nothing.
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");

    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(env.sql("SELECT name FROM hosts"), [hostname.trim()]);

    // Every interface the kernel lists in sysfs is in the catalog.
    let sys: BTreeSet<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let stored: BTreeSet<String> = env
        .sql("SELECT name FROM host_interfaces WHERE current = 1")
        .into_iter()
        .collect();
    assert_eq!(stored, sys);
    assert!(
        env.sql("SELECT address || '/' || prefix_len FROM host_addresses WHERE interface = 'lo'")
            .contains(&"127.0.0.1/8".to_string())
    );

    // As many installed packages as dpkg itself counts (dpkg is on every Debian machine).
    let dpkg = Command::new("dpkg-query")
        .args(["--show", "--showformat=${db:Status-Abbrev}\n"])
        .output()
        .unwrap();
    let installed = stdout(&dpkg)
        .lines()
        .filter(|l| !matches!(l.as_bytes().get(1), Some(b'n' | b'c') | None))
        .count();
    assert!(installed > 0);
    assert_eq!(
        env.sql("SELECT count(*) FROM host_packages WHERE current = 1 AND manager = 'dpkg'"),
        [installed.to_string()]
    );

    // The kernel fact is what uname says.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(
        env.sql("SELECT value FROM host_facts WHERE name = 'kernel' AND current = 1"),
        [format!("\"{}\"", release.trim())]
    );
}

#[test]
fn rescans_keep_history_instead_of_deleting() {
    let env = Env::new();
    let db = DpkgDb::new(&[
        Pkg {
            name: "foo",
            version: "1.0-1",
            arch: "amd64",
        },
        Pkg {
            name: "bar",
            version: "2.0-1",
            arch: "all",
        },
    ]);
    assert_status(&env.scan_as("hist-1", Some(&db)), 0);
    db.write(
        [
            Pkg {
                name: "foo",
                version: "1:1.1-1",
                arch: "amd64",
            },
            Pkg {
                name: "baz",
                version: "0.1",
                arch: "amd64",
            },
        ]
        .into_iter(),
    );
    assert_status(&env.scan_as("hist-1", Some(&db)), 0);

    let rows = env.sql(
        "SELECT n.name || ' ' || p.epoch || ':' || p.version || '-' || p.release || ' ' || p.current \
         FROM host_packages p JOIN package_names n ON n.id = p.name_id ORDER BY n.name, p.id",
    );
    assert_eq!(
        rows,
        [
            "bar :2.0-1 0",
            "baz :0.1- 1",
            "foo :1.0-1 0",
            "foo 1:1.1-1 1"
        ]
    );

    // The removed package is gone from the answer, the upgrade shows its new version.
    let out = env.run("pkg-where", &["bar"]);
    assert_status(&out, 1);
    let out = env.run("pkg-where", &["-f", "host,version", "foo"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "hist-1\t1:1.1-1\n");
    // Two scans were recorded, both successful.
    assert_eq!(
        env.sql("SELECT count(*) FROM scans WHERE error IS NULL AND finished_at IS NOT NULL"),
        ["2"]
    );
}

#[test]
fn a_broken_package_database_fails_the_source_but_keeps_its_packages() {
    let env = Env::new();
    let db = DpkgDb::new(&[Pkg {
        name: "foo",
        version: "1.0-1",
        arch: "amd64",
    }]);
    assert_status(&env.scan_as("broken-1", Some(&db)), 0);
    // Garbage where dpkg expects its status file: dpkg-query fails.
    std::fs::write(
        db.dir.path().join("status"),
        "this is not\x00 a status file\n\n:::\n",
    )
    .unwrap();
    let out = env.scan_as("broken-1", Some(&db));
    assert_status(&out, 1);
    let err = stderr(&out);
    assert!(
        err.starts_with("scan-hosts: broken-1: dpkg: dpkg-query failed"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // The failure is not evidence of removal: foo is still current.
    let out = env.run("pkg-where", &["-f", "host,version", "foo"]);
    assert_eq!(stdout(&out), "broken-1\t1.0-1\n");
}
