//! `pkg-where` over a catalog of several hosts scanned from real dpkg databases.

use crate::support::*;
use opskit::model::Manager;
use std::process::{Command, Output};

fn fleet(env: &Env) {
    let a = DpkgDb::new(&[
        Pkg {
            name: "openssl",
            version: "3.0.11-1~deb12u2",
            arch: "amd64",
        },
        Pkg {
            name: "libssl3",
            version: "3.0.11-1~deb12u2",
            arch: "amd64",
        },
        Pkg {
            name: "libc6",
            version: "2.36-9+deb12u4",
            arch: "amd64",
        },
        Pkg {
            name: "libc6",
            version: "2.36-9+deb12u4",
            arch: "i386",
        },
    ]);
    let b = DpkgDb::new(&[
        Pkg {
            name: "openssl",
            version: "1:3.0.13-1~deb12u1",
            arch: "amd64",
        },
        Pkg {
            name: "libssl3",
            version: "1:3.0.13-1~deb12u1",
            arch: "amd64",
        },
    ]);
    assert_status(&env.scan_as("app-a", Some(&a)), 0);
    assert_status(&env.scan_as("app-b", Some(&b)), 0);
}

#[test]
fn lists_every_host_with_its_version() {
    let env = Env::new();
    fleet(&env);
    let out = env.run(
        tool!("pkg-where"),
        &[
            "-f",
            "host,package,version,arch,manager",
            "openssl",
            "libc6",
        ],
    );
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "app-a\topenssl\t3.0.11-1~deb12u2\tamd64\tdpkg\n\
         app-b\topenssl\t1:3.0.13-1~deb12u1\tamd64\tdpkg\n\
         app-a\tlibc6\t2.36-9+deb12u4\tamd64\tdpkg\n\
         app-a\tlibc6\t2.36-9+deb12u4\ti386\tdpkg\n"
    );
}

#[test]
fn globs_match_package_names() {
    let env = Env::new();
    fleet(&env);
    let out = env.run(tool!("pkg-where"), &["-f", "host,package", "lib*ssl[0-9]"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "app-a\tlibssl3\napp-b\tlibssl3\n");
    let out = env.run(tool!("pkg-where"), &["-f", "package", "open?sl"]);
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn names_come_from_stdin_and_missing_ones_exit_1() {
    let env = Env::new();
    fleet(&env);
    let out = env.run_stdin(tool!("pkg-where"), &["-f", "host"], "libc6\n\nnginx\n");
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "app-a\napp-a\n");
    assert_eq!(
        stderr(&out),
        "pkg-where: nginx: not installed on any host in the catalog\n"
    );
    // `-` names stdin explicitly.
    let out = env.run_stdin(
        tool!("pkg-where"),
        &["-f", "host,package", "-"],
        "openssl\nlibssl3\n",
    );
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "app-a\topenssl\napp-b\topenssl\napp-a\tlibssl3\napp-b\tlibssl3\n"
    );
}

#[test]
fn install_times_come_from_dpkg_file_lists() {
    let env = Env::new();
    let db = DpkgDb::new(&[Pkg {
        name: "dated",
        version: "1.0",
        arch: "amd64",
    }]);
    // Multi-Arch: same (as DpkgDb writes every non-`all` package), so arch-qualified.
    let list = db.dir.path().join("info/dated:amd64.list");
    std::fs::write(&list, "/.\n/usr/bin/dated\n").unwrap();
    set_mtime(&list, 1_700_000_000);
    assert_status(&env.scan_as("dated-1", Some(&db)), 0);
    let out = env.run(tool!("pkg-where"), &["-f", "installed", "dated"]);
    assert_eq!(stdout(&out), "2023-11-14T22:13:20Z\n");

    // A dpkg older than 1.19.3 has no ${db-fsys:Last-Modified} and, like any dpkg, prints an
    // unknown field empty: the real dpkg-query, asked for a field no dpkg has instead, answers
    // as the old one does, and the scanner dates the package from its file list itself.
    let shim = tempfile::tempdir().unwrap();
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v dpkg-query"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap();
    let calls = write_old_dpkg_query(
        &shim.path().join("dpkg-query"),
        std::path::Path::new(real.trim()),
    );
    set_mtime(&list, 1_600_000_000);
    let path = format!(
        "{}:{}",
        shim.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .scan_as_cmd("old-dpkg-1", Some(&db))
        .env("PATH", path)
        .output()
        .unwrap();
    assert_status(&out, 0);
    // The first host keeps the time its scan saw; the old-dpkg host has the list's new one.
    let out = env.run(tool!("pkg-where"), &["-f", "host,installed", "dated"]);
    assert_eq!(
        stdout(&out),
        "dated-1\t2023-11-14T22:13:20Z\nold-dpkg-1\t2020-09-13T12:26:40Z\n"
    );
    // The wrapper answered: the time came from the file list, not from the real dpkg-query.
    let asked = std::fs::read_to_string(&calls).unwrap();
    assert!(asked.contains("db-fsys:Last-Modified"), "{asked}");
}

/// A real rpm database of these `(name, [epoch:]version-release)` packages.
fn rpm_db(pkgs: &[(&str, &str)]) -> RpmDb {
    RpmDb::new(
        &pkgs
            .iter()
            .map(|&(name, evr)| Package::new(name, evr, "noarch"))
            .collect::<Vec<_>>(),
    )
}

/// A mixed fleet: three dpkg hosts and three rpm hosts, scanned from real databases.
fn mixed_fleet(env: &Env) {
    let dpkg = |pkgs: &[(&'static str, &'static str)]| {
        DpkgDb::new(
            &pkgs
                .iter()
                .map(|(name, version)| Pkg {
                    name,
                    version,
                    arch: "amd64",
                })
                .collect::<Vec<_>>(),
        )
    };
    let web1 = dpkg(&[
        ("openssl", "3.0.11-1~deb12u2"),
        ("libc6", "2.36-9"),
        ("telnetd", "0.17-44"),
    ]);
    let web2 = dpkg(&[
        ("openssl", "3.0.11~rc1-1"),
        ("libc6", "2.36-9"),
        ("curl", "7.88.1-10"),
    ]);
    let db1 = dpkg(&[
        ("openssl", "1:3.0.13-1~deb12u1"),
        ("libc6", "2.36-9+deb12u4"),
    ]);
    for (host, db) in [("web-1", &web1), ("web-2", &web2), ("db-1", &db1)] {
        assert_status(&env.scan_as(host, Some(db)), 0);
    }
    let r1 = rpm_db(&[("openssl", "3.0.7-24.el9"), ("bash", "5.1.8-6.el9")]);
    let r2 = rpm_db(&[("openssl", "3.0.7-27.el9"), ("bash", "5.1.8-6.el9")]);
    let r3 = rpm_db(&[("openssl", "1:3.0.1-1.el9"), ("bash", "5.2~rc1-1.el9")]);
    for (host, db) in [("rhel-1", &r1), ("rhel-2", &r2), ("rhel-3", &r3)] {
        assert_status(&env.scan_rpm_as(host, db), 0);
    }
}

#[test]
fn version_constraints_follow_each_managers_order() {
    let env = Env::new();
    mixed_fleet(&env);
    let run = |constraint: &str, name: &str| {
        let out = env.run(
            tool!("pkg-where"),
            &["-f", "host,version,manager", "--version", constraint, name],
        );
        (out.status.code(), stdout(&out))
    };
    // dpkg: the tilde release candidate is older than 3.0.11, the epoch beats everything;
    // rpm: the epoch makes 3.0.1 newer than 3.0.11.
    assert_eq!(
        run(">=3.0.11", "openssl"),
        (
            Some(0),
            "db-1\t1:3.0.13-1~deb12u1\tdpkg\nrhel-3\t1:3.0.1-1.el9\trpm\nweb-1\t3.0.11-1~deb12u2\tdpkg\n"
                .into()
        )
    );
    // rpm: a constraint without a release matches every release; dpkg: exact.
    assert_eq!(
        run("=3.0.7", "openssl"),
        (
            Some(0),
            "rhel-1\t3.0.7-24.el9\trpm\nrhel-2\t3.0.7-27.el9\trpm\n".into()
        )
    );
    assert_eq!(
        run("=2.36-9", "libc6"),
        (Some(0), "web-1\t2.36-9\tdpkg\nweb-2\t2.36-9\tdpkg\n".into())
    );
    // dpkg compares the whole version: 2.36 without a revision is none of 2.36-9*.
    assert_eq!(run("=2.36", "libc6"), (Some(1), String::new()));
    assert_eq!(
        run("==3.0.7-24.el9", "openssl"),
        (Some(0), "rhel-1\t3.0.7-24.el9\trpm\n".into())
    );
    assert_eq!(
        run(">=5.2~rc1, <5.2", "bash"),
        (Some(0), "rhel-3\t5.2~rc1-1.el9\trpm\n".into())
    );
    let out = env.run(tool!("pkg-where"), &["--version", ">=2:0", "openssl"]);
    assert_status(&out, 1);
    assert_eq!(
        stderr(&out),
        "pkg-where: openssl: no host has a version matching >=2:0\n"
    );
}

#[test]
fn malformed_constraints_are_usage_errors() {
    let env = Env::new();
    for bad in [">=", ">=1.0,", "=>1", "1 .0"] {
        let out = env.run(tool!("pkg-where"), &["--version", bad, "openssl"]);
        assert_status(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("pkg-where: bad version constraint"),
            "{err}"
        );
    }
}

#[test]
fn missing_lists_hosts_of_the_same_manager_without_the_package() {
    let env = Env::new();
    mixed_fleet(&env);
    let out = env.run(
        tool!("pkg-where"),
        &["-f", "host,package,managers", "--missing", "telnetd"],
    );
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "db-1\ttelnetd\tdpkg\nweb-2\ttelnetd\tdpkg\n");
    let out = env.run(tool!("pkg-where"), &["--missing", "libc6"]);
    assert_status(&out, 1);
    assert_eq!(stderr(&out), "pkg-where: libc6: no host lacks it\n");
}

#[test]
fn summary_counts_hosts_per_version_in_the_managers_order() {
    let env = Env::new();
    mixed_fleet(&env);
    let out = env.run(tool!("pkg-where"), &["--summary", "--header", "openssl"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "package\tversion\tmanager\thosts\n\
         openssl\t3.0.11~rc1-1\tdpkg\t1\n\
         openssl\t3.0.11-1~deb12u2\tdpkg\t1\n\
         openssl\t1:3.0.13-1~deb12u1\tdpkg\t1\n\
         openssl\t3.0.7-24.el9\trpm\t1\n\
         openssl\t3.0.7-27.el9\trpm\t1\n\
         openssl\t1:3.0.1-1.el9\trpm\t1\n"
    );
    let out = env.run(
        tool!("pkg-where"),
        &["--summary", "-f", "version,hosts", "libc6"],
    );
    assert_eq!(stdout(&out), "2.36-9\t2\n2.36-9+deb12u4\t1\n");
}

const EXPECTATIONS: &str = r#"# what the fleet should run
[[expect]]
package = "openssl"
version = ">=3.0.11"
groups = ["web", "dbs"]
manager = "dpkg"

[[expect]]
package = "openssl"
version = "<=3.0.7"
hosts = ["rhel-*"]

[[expect]]
package = "telnet*"
absent = true

[[expect]]
package = "curl"
hosts = ["WEB-*"]

[[expect]]
package = "libc6"
version = "2.36-9+deb12u4"
hosts = ["db-1"]

# dbs names db-1 as user@host:port, as ssh targets are written: the group must still match it
[[expect]]
package = "openssl"
version = ">=1:3.0.14"
groups = ["dbs"]
"#;

#[test]
fn drift_reports_every_status_and_exits_1() {
    let env = Env::new();
    mixed_fleet(&env);
    let config = write_config(
        &env,
        "[groups]\nweb = [\"web-*\"]\ndbs = [\"admin@db-1:22\"]\n",
    );
    let expected = env.dir.path().join("expected.toml");
    std::fs::write(&expected, EXPECTATIONS).unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--drift",
        "--expectations",
        expected.to_str().unwrap(),
        "-f",
        "host,package,status,installed,expected,manager",
    ];
    let out = env.run(tool!("pkg-where"), &args);
    assert_status(&out, 1);
    assert_eq!(
        stdout(&out),
        "db-1\topenssl\tbehind\t1:3.0.13-1~deb12u1\t>=1:3.0.14\tdpkg\n\
         rhel-3\topenssl\tahead\t1:3.0.1-1.el9\t<=3.0.7\trpm\n\
         web-1\tcurl\tmissing\t\tany\tdpkg\n\
         web-1\ttelnetd\tunexpected\t0.17-44\tabsent\tdpkg\n\
         web-2\topenssl\tbehind\t3.0.11~rc1-1\t>=3.0.11\tdpkg\n"
    );
    let out = env.run(
        tool!("pkg-where"),
        &[&args[..5], &["-f", "rule", "--hosts", "rhel-*"]].concat(),
    );
    assert_eq!(stdout(&out), format!("{}:8\n", expected.display()));

    // No drift: exit 0 and nothing printed, so cron sends no mail. The file comes from the
    // config's [packages] section.
    std::fs::write(
        &expected,
        "[[expect]]\npackage = \"libc6\"\nhosts = [\"web-*\", \"db-*\"]\n",
    )
    .unwrap();
    let config = write_config(
        &env,
        &format!(
            "[packages]\nexpectations = {:?}\n",
            expected.to_str().unwrap()
        ),
    );
    let out = env.run(
        tool!("pkg-where"),
        &["--config", config.to_str().unwrap(), "--drift"],
    );
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "");
}

#[test]
fn malformed_expectations_name_the_file_and_line() {
    let env = Env::new();
    let expected = env.dir.path().join("expected.toml");
    for (text, want) in [
        (
            "[[expect]]\npackage = \"a\"\n\n[[expect]]\npackage = \"b\"\nversion = \">=\"\n",
            "line 4: bad version constraint",
        ),
        (
            "[[expect]]\npackage = \"a\"\ngroups = [\"nope\"]\n",
            "line 1: unknown group",
        ),
        ("[[expect]]\npackage = \"a\"\nversion = \n", "line 3"),
    ] {
        std::fs::write(&expected, text).unwrap();
        let out = env.run(
            tool!("pkg-where"),
            &["--drift", "--expectations", expected.to_str().unwrap()],
        );
        assert_status(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&expected.display().to_string()), "{err}");
        assert!(err.contains(want), "{err}");
    }
    let out = env.run(
        tool!("pkg-where"),
        &["--drift", "--expectations", "/nonexistent.toml"],
    );
    assert_status(&out, 2);
    assert!(stderr(&out).contains("/nonexistent.toml"));
}

#[test]
fn expect_from_compares_the_fleet_with_a_golden_host() {
    let env = Env::new();
    mixed_fleet(&env);
    let fields = ["-f", "host,package,status,installed,expected"];
    let out = env.run(
        tool!("pkg-where"),
        &[&fields[..], &["--expect-from", "web-1"]].concat(),
    );
    assert_status(&out, 1);
    assert_eq!(
        stdout(&out),
        "db-1\tlibc6\tahead\t2.36-9+deb12u4\t=2.36-9\n\
         db-1\topenssl\tahead\t1:3.0.13-1~deb12u1\t=3.0.11-1~deb12u2\n\
         db-1\ttelnetd\tmissing\t\t=0.17-44\n\
         web-2\tcurl\textra\t7.88.1-10\tabsent\n\
         web-2\topenssl\tbehind\t3.0.11~rc1-1\t=3.0.11-1~deb12u2\n\
         web-2\ttelnetd\tmissing\t\t=0.17-44\n"
    );
    let out = env.run(
        tool!("pkg-where"),
        &[
            &fields[..],
            &["--drift", "--expect-from", "rhel-1", "--hosts", "rhel-2"],
        ]
        .concat(),
    );
    assert_status(&out, 1);
    assert_eq!(
        stdout(&out),
        "rhel-2\topenssl\tahead\t3.0.7-27.el9\t=3.0.7-24.el9\n"
    );
    let out = env.run(tool!("pkg-where"), &["--expect-from", "nosuch"]);
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "pkg-where: --expect-from nosuch: no such host in the catalog\n"
    );
}

#[test]
fn expect_from_accepts_several_installed_versions_of_one_package() {
    // rpm hosts keep several kernels installed at once: a host with the same set as the golden
    // host does not drift, one with a newer kernel only is ahead of it.
    let env = Env::new();
    let golden = rpm_db(&[
        ("kernel", "5.14.0-1.el9"),
        ("kernel", "5.14.0-2.el9"),
        ("bash", "5.1.8-6.el9"),
    ]);
    let same = rpm_db(&[
        ("kernel", "5.14.0-2.el9"),
        ("kernel", "5.14.0-1.el9"),
        ("bash", "5.1.8-6.el9"),
    ]);
    let newer = rpm_db(&[("kernel", "5.14.0-3.el9"), ("bash", "5.1.8-6.el9")]);
    for (host, db) in [("k-1", &golden), ("k-2", &same), ("k-3", &newer)] {
        assert_status(&env.scan_rpm_as(host, db), 0);
    }
    let out = env.run(
        tool!("pkg-where"),
        &[
            "-f",
            "host,package,status,installed",
            "--expect-from",
            "k-1",
        ],
    );
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "k-3\tkernel\tahead\t5.14.0-3.el9\n");
}

#[test]
fn changes_lists_installs_upgrades_downgrades_and_removals() {
    let env = Env::new();
    let db = DpkgDb::new(&[]);
    let pkgs = |list: &[(&'static str, &'static str)]| {
        list.iter()
            .map(|(name, version)| Pkg {
                name,
                version,
                arch: "amd64",
            })
            .collect::<Vec<_>>()
    };
    db.write(
        pkgs(&[
            ("up", "1.0-1"),
            ("down", "2.0-1"),
            ("gone", "1.0-1"),
            ("same", "3.0-1"),
        ])
        .into_iter(),
    );
    assert_status(&env.scan_as("h1", Some(&db)), 0);
    // The first scan is the baseline: nothing changed yet.
    let out = env.run(tool!("pkg-where"), &["--changes"]);
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "");
    // Catalog times are seconds: let the second scan fall in a later one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    db.write(
        pkgs(&[
            ("up", "1.0-1+b1"),
            ("down", "2.0~rc1-1"),
            ("same", "3.0-1"),
            ("new", "0.1-1"),
        ])
        .into_iter(),
    );
    assert_status(&env.scan_as("h1", Some(&db)), 0);
    let out = env.run(
        tool!("pkg-where"),
        &[
            "--changes",
            "--since",
            "1h",
            "-f",
            "host,package,change,from,to,manager",
        ],
    );
    assert_status(&out, 0);
    // Oldest first: a removal is dated by the last scan that saw the package (the first one),
    // the rest by the scan that saw the change.
    assert_eq!(
        stdout(&out),
        "h1\tgone\tremoved\t1.0-1\t\tdpkg\n\
         h1\tdown\tdowngraded\t2.0-1\t2.0~rc1-1\tdpkg\n\
         h1\tnew\tinstalled\t\t0.1-1\tdpkg\n\
         h1\tup\tupgraded\t1.0-1\t1.0-1+b1\tdpkg\n"
    );
    let out = env.run(tool!("pkg-where"), &["--changes", "-f", "change", "up"]);
    assert_eq!(stdout(&out), "upgraded\n");
    let out = env.run(
        tool!("pkg-where"),
        &["--changes", "--since", "2099-01-01T00:00:00Z"],
    );
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "");
    let out = env.run(tool!("pkg-where"), &["--changes", "--since", "yesterday"]);
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("yesterday"), "{}", stderr(&out));
}

/// `scan-hosts --local` as a host named `hostname` whose `pacman` reports package `zlib` at
/// `version`. The host is lying, as a hostile host's own pacman may: a `pacman` on `PATH` that
/// prints `pacman --query --info`'s form, and the database directory the scanner looks for,
/// made on a tmpfs over `/var/lib` inside the scan's own mount namespace (the machine's stays
/// untouched; dpkg reads an empty database from `DPKG_ADMINDIR`, rpm finds none).
fn scan_pacman_as(env: &Env, bin: &std::path::Path, hostname: &str, version: &str) -> Output {
    require_root();
    require("unshare", "util-linux");
    require("python3", "python3");
    let answer = bin.join(format!("{hostname}.txt"));
    std::fs::write(
        &answer,
        format!(
            "Name            : zlib\nVersion         : {version}\nArchitecture    : x86_64\n\n"
        ),
    )
    .unwrap();
    let empty_dpkg = DpkgDb::new(&[]);
    let mut cmd = Command::new("unshare");
    cmd.args(["--uts", "--mount", "--", "sh", "-c"])
        .arg(
            "mount -t tmpfs none /var/lib && mkdir -p /var/lib/pacman/local && exec python3 -c \
             'import os,socket,sys; socket.sethostname(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])' \
             \"$1\" \"$2\" --local",
        )
        .arg("sh")
        .arg(hostname)
        .arg(tool!("scan-hosts").path());
    env.isolate(&mut cmd);
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("DPKG_ADMINDIR", empty_dpkg.dir.path())
        .env("PATH", format!("{}:{path}", bin.display()))
        .env("FAKE_PACMAN_ANSWER", &answer);
    cmd.output().unwrap()
}

/// pacman versions libalpm cannot order (it calls `1.0` equal to `1.0-1` and to `1.0-2`, and
/// its separator rule makes cycles) once made `pkg-where --summary` panic with "comparison
/// function does not correctly implement a total order" (exit 101). Each comes from a host's
/// own pacman; the summary must list them all, in pacman's order.
#[test]
fn summary_orders_pacman_versions_libalpm_cannot_order() {
    let env = Env::new();
    let bin = tempfile::tempdir().unwrap();
    let pacman = bin.path().join("pacman");
    std::fs::write(&pacman, "#!/bin/sh\nexec cat \"$FAKE_PACMAN_ANSWER\"\n").unwrap();
    std::fs::set_permissions(&pacman, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut versions = Vec::new();
    for pkgver in ["1.0", "1+0", "1,0", "1_0", "1..0", "1.0.", "1.0a", "1.0.a"] {
        versions.push(pkgver.to_string());
        for pkgrel in ["1", "2", "10", ".a0", "~+.", "1_"] {
            versions.push(format!("{pkgver}-{pkgrel}"));
        }
    }
    for (i, version) in versions.iter().enumerate() {
        let out = scan_pacman_as(&env, bin.path(), &format!("arch-{i}"), version);
        assert_status(&out, 0);
    }
    // The rows come out of a hash map in a different order on every run, and a sort notices
    // a broken order only on some: ask twenty times.
    let mut first: Option<String> = None;
    for _ in 0..20 {
        let out = env.run(
            tool!("pkg-where"),
            &["--summary", "-f", "version,manager,hosts", "zlib"],
        );
        assert_status(&out, 0);
        let text = stdout(&out);
        assert_eq!(first.get_or_insert_with(|| text.clone()), &text);
    }
    let listed: Vec<String> = first
        .unwrap()
        .lines()
        .map(|l| {
            let (version, rest) = l.split_once('\t').unwrap();
            assert_eq!(rest, "pacman\t1", "{l}");
            version.to_string()
        })
        .collect();
    let (mut sorted, mut want) = (listed.clone(), versions.clone());
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "every version, once");
    for pair in listed.windows(2) {
        let order = opskit::model::version::compare(Manager::Pacman, &pair[0], &pair[1]);
        assert!(
            order.then(pair[0].cmp(&pair[1])) == std::cmp::Ordering::Less,
            "{pair:?} out of order in {listed:?}"
        );
    }
    // The reported set, in pacman's order: no pkgrel first, then by pkgrel.
    let at = |v: &str| listed.iter().position(|l| l == v).unwrap();
    assert!(
        at("1,0") < at("1.0-1") && at("1.0-1") < at("1+0-2"),
        "{listed:?}"
    );
}
