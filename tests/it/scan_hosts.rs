//! `scan-hosts` against real hosts: this machine and its real dpkg databases (`--local`), and
//! fleets of real sshd hosts in their own namespaces (over SSH).

use std::collections::BTreeSet;
use std::process::Command;

use crate::support::*;

#[test]
fn local_scan_matches_what_the_system_itself_reports() {
    let env = Env::new();
    let out = env.run(tool!("scan-hosts"), &["--local"]);
    assert_status(&out, 0);
    // Under cron (no terminal) a successful collector prints nothing.
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");

    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(env.sql("SELECT name FROM hosts"), [hostname.trim()]);

    // Every interface the kernel lists in sysfs is in the catalog (bonding_masters, there
    // when the bonding module is loaded, is a control file, not an interface).
    let sys: BTreeSet<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("ifindex").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
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
    let out = env.run(tool!("pkg-where"), &["bar"]);
    assert_status(&out, 1);
    let out = env.run(tool!("pkg-where"), &["-f", "host,version", "foo"]);
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
    let out = env.run(tool!("pkg-where"), &["-f", "host,version", "foo"]);
    assert_eq!(stdout(&out), "broken-1\t1.0-1\n");
}

// ---------------------------------------------------------------------------------------------
// Over SSH, against fleets of real sshd hosts (support/sshd.rs).

use crate::support::sshd::{self, Fleet, HostSpec, KnownHosts, Os};

/// An environment whose HOME reaches the fleet: key and known_hosts in `~/.ssh`.
fn client_env(fleet: &Fleet, form: KnownHosts) -> Env {
    let env = Env::new();
    fleet.install_client(&env.home, form);
    env
}

/// `host\tpackage\tversion\tarch` of every current package, as pkg-where prints them.
fn stored_packages(env: &Env) -> BTreeSet<String> {
    let out = env.run(
        tool!("pkg-where"),
        &["-f", "host,package,version,arch", "*"],
    );
    assert_status(&out, 0);
    stdout(&out).lines().map(str::to_string).collect()
}

fn expected_packages<'a>(hosts: impl IntoIterator<Item = &'a sshd::Host>) -> BTreeSet<String> {
    hosts
        .into_iter()
        .flat_map(|h| {
            h.installed()
                .into_iter()
                .map(|p| format!("{}\t{}\t{}\t{}", h.name(), p.name, p.version, p.arch))
        })
        .collect()
}

#[test]
fn a_fleet_scan_stores_every_host_its_facts_and_exactly_its_packages() {
    let fleet = Fleet::start(sshd::standard_fleet());
    let env = client_env(&fleet, KnownHosts::Hashed);
    let hosts = fleet.hosts_file(fleet.normal());
    let out = env.run(
        tool!("scan-hosts"),
        &[
            "--hosts-file",
            hosts.to_str().unwrap(),
            "--concurrency",
            "8",
        ],
    );
    assert_status(&out, 0);
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), "");

    // Every package of every host, dpkg and rpm, with epochs, tildes and carets as each manager
    // prints them; removed-but-not-purged dpkg packages are not installed.
    assert_eq!(stored_packages(&env), expected_packages(fleet.normal()));

    // dpkg packages are dated by their file lists in the host's own /var/lib/dpkg/info, as
    // dpkg-query's db-fsys:Last-Modified gives them.
    for host in fleet
        .normal()
        .filter(|h| h.spec.os.manager() == sshd::Manager::Dpkg)
    {
        let info = host.dpkg_admindir().unwrap().join("info");
        let expected: BTreeSet<String> = host
            .installed()
            .iter()
            .map(|p| {
                let list = match p.arch.as_str() {
                    "all" => format!("{}.list", p.name),
                    arch => format!("{}:{arch}.list", p.name),
                };
                let mtime = std::fs::metadata(info.join(list))
                    .unwrap()
                    .modified()
                    .unwrap()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                format!("{} {} {mtime}", p.name, p.arch)
            })
            .collect();
        // Every package has a time of its own, so a mix-up between two cannot pass.
        let times: BTreeSet<&str> = expected
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap())
            .collect();
        assert_eq!(times.len(), expected.len(), "{}", host.name());
        let stored: BTreeSet<String> = env
            .sql(&format!(
                "SELECT n.name || ' ' || p.arch || ' ' || p.install_time FROM host_packages p \
                 JOIN package_names n ON n.id = p.name_id JOIN hosts h ON h.id = p.host_id \
                 WHERE h.name = '{}' AND p.current = 1",
                host.name()
            ))
            .into_iter()
            .collect();
        assert_eq!(stored, expected, "{}", host.name());
    }

    // Facts come from each host itself: its own hostname and os-release.
    for host in fleet.normal() {
        let out = env.run(
            tool!("whatis-host"),
            &[
                "--no-dns",
                "-f",
                "host,os_id,os_version,kernel",
                host.name(),
            ],
        );
        assert_status(&out, 0);
        let line = stdout(&out);
        let fields: Vec<&str> = line.trim_end().split('\t').collect();
        assert_eq!(fields[0], host.name());
        assert_eq!(fields[1], host.spec.os.id());
        assert_eq!(fields[2], host.spec.os.version_id());
        // The hosts share this machine's kernel: the remote scan reads what a local one does.
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(fields[3], kernel.trim(), "{line}");
    }
    // Interfaces (the hosts share this machine's network namespace): loopback with 127.0.0.1.
    let lo = env.sql(
        "SELECT count(DISTINCT host_id) FROM host_addresses WHERE interface = 'lo' \
         AND address = '127.0.0.1' AND prefix_len = 8 AND current = 1",
    );
    assert_eq!(lo, [fleet.normal().count().to_string()]);
    // Every scan is recorded with the target it was asked for.
    let targets: BTreeSet<String> = env
        .sql("SELECT target FROM scans WHERE method = 'ssh' AND error IS NULL")
        .into_iter()
        .collect();
    assert_eq!(
        targets,
        fleet.normal().map(|h| h.target()).collect::<BTreeSet<_>>()
    );

    // --all rescans every host the way it was reached; nothing changes, nothing is retired.
    let out = env.run(tool!("scan-hosts"), &["--all"]);
    assert_status(&out, 0);
    let rescanned: Vec<String> = env.sql(
        "SELECT target FROM scans WHERE method = 'ssh' AND error IS NULL \
         GROUP BY target HAVING count(*) = 2",
    );
    assert_eq!(
        rescanned.into_iter().collect::<BTreeSet<_>>(),
        fleet.normal().map(|h| h.target()).collect::<BTreeSet<_>>()
    );
    assert_eq!(
        env.sql("SELECT count(*) FROM scans WHERE method = 'ssh'"),
        [(2 * fleet.normal().count()).to_string()]
    );
    assert_eq!(stored_packages(&env), expected_packages(fleet.normal()));
    assert_eq!(
        env.sql("SELECT count(*) FROM host_packages WHERE current = 0"),
        ["0"]
    );
}

#[test]
fn troubled_hosts_fail_alone_with_one_line_each() {
    let mut specs: Vec<HostSpec> = sshd::standard_fleet().into_iter().take(3).collect();
    specs.extend(sshd::troubled_hosts());
    let fleet = Fleet::start(specs);
    let env = client_env(&fleet, KnownHosts::Plain);
    let hosts = fleet.hosts_file(&fleet.hosts);
    let out = env.run(
        tool!("scan-hosts"),
        &[
            "--hosts-file",
            hosts.to_str().unwrap(),
            "--connect-timeout",
            "2",
        ],
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 4, "{err}");
    let line_of = |alias: &str| {
        let target = fleet.host(alias).target();
        err.lines()
            .find(|l| l.starts_with(&format!("scan-hosts: {target}: ")))
            .unwrap_or_else(|| panic!("no line for {alias}: {err}"))
            .to_string()
    };
    assert!(line_of("stale-key").contains("HAS CHANGED"), "{err}");
    assert!(line_of("stale-key").contains("ssh-keygen -f"), "{err}");
    assert!(line_of("hung").contains("timed out"), "{err}");
    assert!(
        line_of("no-entry").contains("authentication as root failed"),
        "{err}"
    );
    assert!(line_of("dead").contains("refused"), "{err}");

    // The others are stored, the one with escapes in its hostname too, exactly.
    let ok: Vec<&sshd::Host> = fleet
        .hosts
        .iter()
        .filter(|h| h.spec.behaviour == sshd::Behaviour::Normal)
        .collect();
    assert_eq!(ok.len(), 4);
    assert_eq!(stored_packages_json_hosts(&env), {
        let mut names: Vec<String> = ok.iter().map(|h| h.name().to_string()).collect();
        names.sort();
        names.dedup();
        names
    });
    // A changed key was never replaced in known_hosts.
    let known = std::fs::read_to_string(env.home.join(".ssh/known_hosts")).unwrap();
    assert!(!known.contains(&fleet.host("stale-key").host_key));
    // Failures are in the catalog too, for whatis-host's last_scan_error.
    assert_eq!(
        env.sql("SELECT count(*) FROM scans WHERE error IS NOT NULL"),
        ["4"]
    );
}

/// The hostnames of every host with packages, exact bytes (JSON keeps escapes intact).
fn stored_packages_json_hosts(env: &Env) -> Vec<String> {
    let out = env.run(tool!("pkg-where"), &["--json", "openssl"]);
    assert_status(&out, 0);
    let mut hosts: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["host"].as_str().unwrap().to_string()
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

#[test]
fn unknown_host_keys_are_refused_unless_accept_new() {
    let specs: Vec<HostSpec> = sshd::standard_fleet().into_iter().take(2).collect();
    let fleet = Fleet::start(specs);
    let env = client_env(&fleet, KnownHosts::Plain);
    let known_hosts = env.home.join(".ssh/known_hosts");
    std::fs::remove_file(&known_hosts).unwrap();
    let targets: Vec<String> = fleet.hosts.iter().map(|h| h.target()).collect();
    let args: Vec<&str> = targets.iter().map(String::as_str).collect();

    let out = env.run(tool!("scan-hosts"), &args);
    assert_status(&out, 1);
    assert_eq!(
        stderr(&out).matches("is not known").count(),
        2,
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--accept-new"));
    assert!(!known_hosts.exists());
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["0"]);

    let mut accept = args.clone();
    accept.push("--accept-new");
    let out = env.run(tool!("scan-hosts"), &accept);
    assert_status(&out, 0);
    // The keys were recorded in OpenSSH's own format: the real ssh now trusts them.
    let known = std::fs::read_to_string(&known_hosts).unwrap();
    for host in &fleet.hosts {
        assert!(
            known.contains(&format!(
                "[{}]:{} {}",
                host.address, host.port, host.host_key
            )),
            "{known}"
        );
        let out = Command::new("ssh")
            .args([
                "-F",
                "none",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
            .arg("-i")
            .arg(fleet.key())
            .args(["-p", &host.port.to_string()])
            .arg(format!("root@{}", host.address))
            .arg("hostname")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_status(&out, 0);
    }
    assert_eq!(known.lines().count(), 2, "{known}");
    // And the next scan needs no --accept-new, and records nothing again.
    assert_status(&env.run(tool!("scan-hosts"), &args), 0);
    assert_eq!(std::fs::read_to_string(&known_hosts).unwrap(), known);
}

#[test]
fn ssh_config_aliases_groups_and_stdin_name_the_hosts() {
    let specs: Vec<HostSpec> = sshd::standard_fleet().into_iter().take(4).collect();
    let fleet = Fleet::start(specs);
    let env = client_env(&fleet, KnownHosts::Hashed);
    fleet.install_ssh_config(&env.home);
    // web-1 and web-2 through a group, web-3 by its alias; ~/.ssh/config gives HostName, Port,
    // User and IdentityFile for all of them.
    let config = write_config(&env, "[groups]\nfront = [\"web-1\", \"web-2\"]\n");
    let config = config.to_str().unwrap();
    let out = env.run(tool!("scan-hosts"), &["--config", config, "front", "web-3"]);
    assert_status(&out, 0);
    assert_eq!(
        env.sql("SELECT name FROM hosts ORDER BY name"),
        ["web-1", "web-2", "web-3"]
    );
    // Names on stdin, as from another command.
    let out = env.run_stdin(
        tool!("scan-hosts"),
        &["--config", config],
        "# more\nweb-4\n",
    );
    assert_status(&out, 0);
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["4"]);
    // A group glob matches the hosts the catalog knows.
    let config = write_config(&env, "[groups]\nall-web = [\"web-*\"]\n");
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), "all-web"],
    );
    assert_status(&out, 0);
    assert_eq!(
        env.sql("SELECT count(*) FROM scans WHERE method = 'ssh' AND error IS NULL"),
        ["8"]
    );
}

#[test]
fn package_reports_are_read_over_sftp_instead_of_running_the_manager() {
    let mut specs: Vec<HostSpec> = sshd::standard_fleet()
        .into_iter()
        .filter(|s| s.name == "legacy-1" || s.name == "web-8")
        .collect();
    // web-8's copy is yesterday's: openssl was upgraded since. Seeing the older version proves
    // the copy was read, not the live database.
    for spec in specs.iter_mut().filter(|s| s.name == "web-8") {
        for (path, text) in &mut spec.files {
            if path == "/var/backups/dpkg.status.0" {
                let copy = String::from_utf8(text.clone()).unwrap();
                assert!(copy.contains("Version: 1.1.1w-0+deb11u1\n"), "{copy}");
                *text = copy
                    .replace("Version: 1.1.1w-0+deb11u1\n", "Version: 1.1.1v-0~deb11u1\n")
                    .into_bytes();
            }
        }
    }
    let fleet = Fleet::start(specs);
    let env = client_env(&fleet, KnownHosts::Plain);
    fleet.install_ssh_config(&env.home);
    let config = write_config(
        &env,
        "[[host]]\nname = \"legacy-1\"\n\
         package_report = { path = \"/var/log/rpmpkgs\", format = \"rpmpkgs\" }\n\
         [[host]]\nname = \"web-8\"\n\
         package_report = { path = \"/var/backups/dpkg.status.0\", format = \"dpkg-status\" }\n",
    );
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), "legacy-1", "web-8"],
    );
    assert_status(&out, 0);
    // The rpmpkgs format has no epoch: seeing openssl without its 1: proves the report was
    // read, not rpm's database.
    let out = env.run(tool!("pkg-where"), &["-f", "host,version", "openssl"]);
    assert_eq!(
        stdout(&out),
        "legacy-1\t1.0.2k-26.el7_9\nweb-8\t1.1.1v-0~deb11u1\n"
    );
    let legacy = fleet.host("legacy-1");
    assert_eq!(
        env.sql(
            "SELECT count(*) FROM host_packages p JOIN hosts h ON h.id = p.host_id \
                 WHERE h.name = 'legacy-1' AND p.current = 1"
        ),
        [legacy.installed().len().to_string()]
    );

    // A report that is not there fails that host alone, with the path.
    let config = write_config(
        &env,
        "[[host]]\nname = \"web-8\"\n\
         package_report = { path = \"/var/log/nope\", format = \"dpkg-status\" }\n",
    );
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), "legacy-1", "web-8"],
    );
    assert_status(&out, 1);
    assert!(
        stderr(&out).starts_with("scan-hosts: web-8: reading /var/log/nope over SFTP"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn custom_facts_are_stored_with_history_and_shown() {
    let fleet = Fleet::start(vec![
        HostSpec::new("facts-1", Os::Debian12)
            .pkg("bash", "5.2.15-2+b2")
            .file("/root/role", "frontend\n"),
    ]);
    let env = client_env(&fleet, KnownHosts::Plain);
    let host = &fleet.hosts[0];
    let facts = "[[fact]]\nname = \"role\"\ncommand = [\"cat\", \"/root/role\"]\n\
                 [[fact]]\nname = \"quoted\"\ncommand = [\"printf\", \"%s\", \"it's $(id) `id` ;id\"]\n\
                 [[fact]]\nname = \"disks\"\nformat = \"json\"\n\
                 command = [\"echo\", \"{\\\"sda\\\": 512, \\\"sdb\\\": [1, 2]}\"]\n";
    let config = write_config(&env, facts);
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), &host.target()],
    );
    assert_status(&out, 0);
    let out = env.run(tool!("whatis-host"), &["--no-dns", "--json", "facts-1"]);
    let card: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        card["custom_facts"],
        serde_json::json!({
            "role": "frontend",
            // Passed to the remote program as one word: no shell ever interpreted it.
            "quoted": "it's $(id) `id` ;id",
            "disks": {"sda": 512, "sdb": [1, 2]},
        })
    );

    // A fact that fails keeps its last value and is named on stderr; a new value is history.
    let failing = format!(
        "{facts}[[fact]]\nname = \"broken\"\ncommand = [\"sh\", \"-c\", \"echo no such thing >&2; exit 4\"]\n"
    );
    let failing = facts_with_role_missing(&failing);
    let config = write_config(&env, &failing);
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), &host.target()],
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.contains("fact broken: exit status 4: no such thing"),
        "{err}"
    );
    assert!(err.contains("fact role: exit status 1"), "{err}");
    let out = env.run(tool!("whatis-host"), &["--no-dns", "--json", "facts-1"]);
    let card: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(card["custom_facts"]["role"], "frontend");

    // A fact whose answer changes keeps the old one as history, and shows the new one.
    let changed = facts.replace("\\\"sda\\\": 512", "\\\"sda\\\": 1024");
    assert_ne!(changed, facts);
    let config = write_config(&env, &changed);
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), &host.target()],
    );
    assert_status(&out, 0);
    assert_eq!(
        env.sql(
            "SELECT current || ' ' || value FROM host_facts \
             WHERE kind = 'custom' AND name = 'disks' ORDER BY first_seen, current"
        ),
        [
            r#"0 {"sda":512,"sdb":[1,2]}"#,
            r#"1 {"sda":1024,"sdb":[1,2]}"#
        ]
    );
    let out = env.run(tool!("whatis-host"), &["--no-dns", "--json", "facts-1"]);
    let card: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(card["custom_facts"]["disks"]["sda"], 1024);
}

/// The same facts, with role reading a file that does not exist, so that it fails.
fn facts_with_role_missing(facts: &str) -> String {
    facts.replace("/root/role", "/root/no-such-file")
}

#[test]
fn install_times_over_ssh_come_from_dpkg_or_from_its_file_lists_on_an_old_dpkg() {
    // Both run the machine's real dpkg-query over their own databases; on old-1 it answers as
    // a dpkg before 1.19.3 does, with every ${db-fsys:Last-Modified} empty, so the scanner must
    // read the file lists' times itself in a second command.
    let fleet = Fleet::start(vec![
        HostSpec::new("new-1", Os::Debian12).pkg("dated", "1.0-1"),
        HostSpec::new("old-1", Os::Debian12)
            .pkg("dated", "1.0-1")
            .old_dpkg(),
    ]);
    let env = client_env(&fleet, KnownHosts::Plain);
    for (host, unix_seconds) in fleet.hosts.iter().zip([1_700_000_000, 1_600_000_000]) {
        let list = host
            .dpkg_admindir()
            .unwrap()
            .join(format!("info/dated:{}.list", Os::Debian12.arch()));
        set_mtime(&list, unix_seconds);
    }
    let targets: Vec<String> = fleet.hosts.iter().map(|h| h.target()).collect();
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let out = env.run(tool!("scan-hosts"), &targets);
    assert_status(&out, 0);
    assert_eq!(stderr(&out), "");
    let out = env.run(tool!("pkg-where"), &["-f", "host,installed", "dated"]);
    assert_eq!(
        stdout(&out),
        "new-1\t2023-11-14T22:13:20Z\nold-1\t2020-09-13T12:26:40Z\n"
    );
    // On old-1 the wrapper answered, and only there.
    let asked = fleet.hosts[1].old_dpkg_calls();
    assert!(asked.contains("db-fsys:Last-Modified"), "{asked}");
    assert_eq!(fleet.hosts[0].old_dpkg_calls(), "");
}

#[test]
fn an_enormous_package_list_is_stored_in_bounded_memory() {
    let fleet = Fleet::start(vec![HostSpec::huge("huge-1", 200_000)]);
    let env = client_env(&fleet, KnownHosts::Plain);
    let (out, peak_kib) =
        run_measuring_peak_memory(env.cmd(tool!("scan-hosts")).arg(fleet.hosts[0].target()));
    assert_status(&out, 0);
    assert_eq!(
        env.sql("SELECT count(*) FROM host_packages WHERE current = 1"),
        ["200000"]
    );
    // 200,000 packages are ~13 MB of dpkg-query output; the scanner holds one host's output
    // and its parsed packages, nothing per fleet.
    assert!(peak_kib < 400 * 1024, "peak resident memory {peak_kib} KiB");
}

#[test]
fn malformed_targets_are_usage_errors() {
    let env = Env::new();
    for bad in ["root@", "host:99999", "-oProxyCommand=sh", "[::1"] {
        let out = env.run(tool!("scan-hosts"), &["--", bad]);
        assert_status(&out, 2);
        assert!(
            stderr(&out).starts_with("scan-hosts: bad host"),
            "{}",
            stderr(&out)
        );
        assert_eq!(stderr(&out).lines().count(), 1);
    }
    let out = env.run(tool!("scan-hosts"), &["--local", "web-1"]);
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("the argument '--local' cannot be used with '[HOST]...'"),
        "{}",
        stderr(&out)
    );
    let config = write_config(&env, "[[fact]]\nname = \"x\"\ncommand = []\n");
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), "web-1"],
    );
    assert_status(&out, 2);
    assert!(stderr(&out).contains("empty command"), "{}", stderr(&out));
}

#[test]
fn keys_in_the_ssh_agent_are_used() {
    require("ssh-agent", "openssh-client");
    let specs: Vec<HostSpec> = sshd::standard_fleet().into_iter().take(1).collect();
    let fleet = Fleet::start(specs);
    let env = client_env(&fleet, KnownHosts::Plain);
    // The key lives only in the agent: no key file is left in ~/.ssh.
    std::fs::remove_file(env.home.join(".ssh/id_ed25519")).unwrap();
    std::fs::remove_file(env.home.join(".ssh/id_ed25519.pub")).unwrap();
    let socket = env.dir.path().join("agent.sock");
    let agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut agent = Kill(agent);
    // A hang guard, not a timing: ssh-agent makes its socket at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !socket.exists() {
        if let Some(status) = agent.0.try_wait().unwrap() {
            panic!("ssh-agent exited ({status}) without making its socket");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ssh-agent hung: no socket after 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let add = Command::new("ssh-add")
        .arg(fleet.key())
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .unwrap();
    assert_status(&add, 0);

    let target = fleet.hosts[0].target();
    let out = env.run(tool!("scan-hosts"), &[&target]);
    assert_status(&out, 1);
    assert!(
        stderr(&out).contains("no key to authenticate root with"),
        "{}",
        stderr(&out)
    );
    let out = env
        .cmd(tool!("scan-hosts"))
        .arg(&target)
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .unwrap();
    assert_status(&out, 0);
    assert_eq!(env.sql("SELECT name FROM hosts"), [fleet.hosts[0].name()]);
}

#[test]
fn a_progress_bar_on_a_terminal_and_only_failures_when_piped() {
    let mut specs: Vec<HostSpec> = sshd::standard_fleet().into_iter().take(2).collect();
    specs.push(HostSpec::new("gone", Os::Debian12).behaviour(sshd::Behaviour::NotListening));
    let fleet = Fleet::start(specs);
    let env = client_env(&fleet, KnownHosts::Plain);
    let hosts = fleet.hosts_file(&fleet.hosts);
    let command = format!(
        "{} --hosts-file {}",
        tool!("scan-hosts").path().display(),
        hosts.display()
    );
    let screen = run_in_pty(&env, &command, &[], 1);
    assert!(screen.contains("scan-hosts: ["), "{screen:?}");
    assert!(screen.contains("/3 done ("), "{screen:?}");
    let gone = fleet.host("gone").target();
    assert!(
        screen.contains(&format!("scan-hosts: {gone}: connecting")),
        "{screen:?}"
    );
    assert!(
        screen.contains("scan-hosts: 2 of 3 hosts scanned, 1 failed"),
        "{screen:?}"
    );
    // Piped, as under cron: the failure only, no bar, no escape codes.
    let out = env.run(
        tool!("scan-hosts"),
        &["--hosts-file", hosts.to_str().unwrap()],
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
}

#[test]
fn a_nul_in_a_fact_round_trips_through_json_on_either_backend() {
    // A fact's value is stored as JSON, which escapes the NUL: both backends hold it as sent.
    let env = Env::new();
    let config = write_config(
        &env,
        "[[fact]]\nname = \"nul\"\ncommand = [\"printf\", \"a\\\\0b\"]\n",
    );
    let out = env
        .scan_as_cmd("nul-host", Some(&DpkgDb::generated(3, "1.0-1")))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_status(&out, 0);
    let out = env.run(tool!("whatis-host"), &["--no-dns", "--json", "nul-host"]);
    assert_status(&out, 0);
    let card: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(card["custom_facts"]["nul"], "a\0b");
    assert_eq!(card["package_count"], 3);
}
