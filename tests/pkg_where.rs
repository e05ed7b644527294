//! `pkg-where` over a catalog of several hosts scanned from real dpkg databases.

mod common;

use common::*;

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
        "pkg-where",
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
    let out = env.run("pkg-where", &["-f", "host,package", "lib*ssl[0-9]"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "app-a\tlibssl3\napp-b\tlibssl3\n");
    let out = env.run("pkg-where", &["-f", "package", "open?sl"]);
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn names_come_from_stdin_and_missing_ones_exit_1() {
    let env = Env::new();
    fleet(&env);
    let out = env.run_stdin("pkg-where", &["-f", "host"], "libc6\n\nnginx\n");
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "app-a\napp-a\n");
    assert_eq!(
        stderr(&out),
        "pkg-where: nginx: not installed on any host in the catalog\n"
    );
    let out = env.run_stdin("pkg-where", &["-f", "host", "-"], "openssl\n");
    assert_status(&out, 0);
}

#[test]
fn install_times_come_from_dpkg_file_lists() {
    let env = Env::new();
    let db = DpkgDb::new(&[Pkg {
        name: "dated",
        version: "1.0",
        arch: "amd64",
    }]);
    let list = db.dir.path().join("info/dated.list");
    std::fs::write(&list, "/.\n/usr/bin/dated\n").unwrap();
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    std::fs::File::options()
        .write(true)
        .open(&list)
        .unwrap()
        .set_modified(when)
        .unwrap();
    assert_status(&env.scan_as("dated-1", Some(&db)), 0);
    let out = env.run("pkg-where", &["-f", "installed", "dated"]);
    assert_eq!(stdout(&out), "2023-11-14T22:13:20Z\n");
}
