//! The SSH test peers themselves, checked with the OpenSSH client: every simulated host answers
//! as itself (hostname, os-release, exactly its packages from the real dpkg-query and rpm), and
//! each troubled host fails the way it is meant to. If these pass, a scanner test that fails
//! has found a bug in the scanner, not in its peers.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::sshd::*;
use crate::support::*;

/// One line per package: `name\tversion\tarch`, plus dpkg's status letters where asked.
const DPKG_FORMAT: &str = r"${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n";
const RPM_FORMAT: &str = r"%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\n";

fn ssh(fleet: &Fleet, host: &Host, form: KnownHosts, command: &str) -> Output {
    fleet.ssh(host, form).arg(command).output().unwrap()
}

fn lines(text: &str) -> BTreeSet<String> {
    text.lines().map(str::to_string).collect()
}

fn package_lines<'a>(packages: impl IntoIterator<Item = &'a Package>) -> BTreeSet<String> {
    packages
        .into_iter()
        .map(|p| format!("{}\t{}\t{}", p.name, p.version, p.arch))
        .collect()
}

#[test]
fn every_host_answers_with_its_own_name_os_and_packages() {
    let started = Instant::now();
    let fleet = Fleet::start(standard_fleet());
    eprintln!(
        "{} hosts started in {:?}",
        fleet.hosts.len(),
        started.elapsed()
    );
    assert!(fleet.hosts.len() >= 20);

    // One connection per host, all at once, each running every query.
    let command = format!(
        "hostname; cat /etc/hostname /etc/machine-id; echo @@; cat /etc/os-release; echo @@; \
         dpkg-query -W -f '{DPKG_FORMAT}'; echo @@; rpm -qa --qf '{RPM_FORMAT}'"
    );
    let machine_ids = std::sync::Mutex::new(BTreeSet::new());
    std::thread::scope(|scope| {
        for host in &fleet.hosts {
            let machine_ids = &machine_ids;
            let command = &command;
            let fleet = &fleet;
            scope.spawn(move || {
                let out = ssh(fleet, host, KnownHosts::Plain, command);
                assert_status(&out, 0);
                let text = stdout(&out);
                let parts: Vec<&str> = text.split("@@\n").collect();
                let [name, os_release, dpkg, rpm] = parts[..] else {
                    panic!("{}: unexpected output {text}", host.name());
                };
                let name: Vec<&str> = name.lines().collect();
                assert_eq!(name[..2], [host.name(), host.name()]);
                assert_eq!(name[2].len(), 32);
                machine_ids.lock().unwrap().insert(name[2].to_string());
                assert_eq!(os_release, host.spec.os.os_release());
                assert!(
                    os_release.contains(&format!("VERSION_ID=\"{}\"", host.spec.os.version_id()))
                );

                let expected = package_lines(&host.installed());
                let installed: BTreeSet<String> = dpkg
                    .lines()
                    .filter_map(|l| l.strip_prefix("ii \t"))
                    .map(str::to_string)
                    .collect();
                let others: BTreeSet<String> = dpkg
                    .lines()
                    .filter(|l| !l.starts_with("ii "))
                    .filter_map(|l| l.split_once('\t').map(|(_, rest)| rest.to_string()))
                    .collect();
                match host.spec.os.manager() {
                    Manager::Dpkg => {
                        assert_eq!(installed, expected, "{}", host.name());
                        assert_eq!(others, package_lines(&host.spec.removed));
                        assert_eq!(rpm, "", "{}: rpm database not empty", host.name());
                    }
                    Manager::Rpm => {
                        assert_eq!(dpkg, "", "{}: dpkg database not empty", host.name());
                        assert_eq!(lines(rpm), expected, "{}", host.name());
                    }
                }
            });
        }
    });

    // The fleet really differs from host to host.
    assert_eq!(machine_ids.into_inner().unwrap().len(), fleet.hosts.len());
    let openssl: BTreeSet<String> = fleet
        .hosts
        .iter()
        .flat_map(|h| h.installed())
        .filter(|p| p.name == "openssl")
        .map(|p| p.version)
        .collect();
    assert!(openssl.len() >= 8, "{openssl:?}");
    assert!(openssl.iter().any(|v| v.contains('~')));
    assert!(openssl.iter().any(|v| v.starts_with("1:")));
    let oses: BTreeSet<&str> = fleet.hosts.iter().map(|h| h.spec.os.id()).collect();
    assert!(oses.len() >= 5);
}

#[test]
fn hashed_known_hosts_and_ssh_config_aliases_work() {
    let specs: Vec<HostSpec> = standard_fleet().into_iter().take(3).collect();
    let fleet = Fleet::start(specs);
    let hashed = std::fs::read_to_string(fleet.known_hosts(KnownHosts::Hashed)).unwrap();
    assert_eq!(hashed.lines().count(), 3);
    assert!(hashed.lines().all(|l| l.starts_with("|1|")), "{hashed}");
    assert!(!hashed.contains("127.0.1."));
    for host in &fleet.hosts {
        let out = ssh(&fleet, host, KnownHosts::Hashed, "hostname");
        assert_status(&out, 0);
        assert_eq!(stdout(&out).trim(), host.name());
    }

    // What a user has: the key, known_hosts and aliases in ~/.ssh. OpenSSH finds ~ through the
    // password database, so the files are named explicitly here; the scanner reads $HOME.
    let env = Env::new();
    fleet.install_client(&env.home, KnownHosts::Hashed);
    fleet.install_ssh_config(&env.home);
    let ssh_dir = env.home.join(".ssh");
    for host in &fleet.hosts {
        let out = Command::new("ssh")
            .arg("-F")
            .arg(ssh_dir.join("config"))
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                ssh_dir.join("known_hosts").display()
            ))
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
            .args([&host.spec.alias, "hostname"])
            .output()
            .unwrap();
        assert_status(&out, 0);
        assert_eq!(stdout(&out).trim(), host.name());
    }
    let config = std::fs::read_to_string(ssh_dir.join("config")).unwrap();
    assert!(config.contains(&format!(
        "Host web-1\n    HostName {}\n    Port {}\n",
        fleet.hosts[0].address, fleet.hosts[0].port
    )));
}

#[test]
fn troubled_hosts_fail_the_way_they_should() {
    let fleet = Fleet::start(troubled_hosts());

    // A changed host key: refused before any command runs.
    let out = ssh(
        &fleet,
        fleet.host("stale-key"),
        KnownHosts::Plain,
        "hostname",
    );
    assert_status(&out, 255);
    assert!(
        stderr(&out).contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{}",
        stderr(&out)
    );
    // ... while its sshd itself is fine: with its real key it answers.
    let stale = fleet.host("stale-key");
    let out = Command::new("ssh")
        .args(["-F", "none", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .arg("-i")
        .arg(fleet.key())
        .args(["-p", &stale.port.to_string()])
        .arg(format!("root@{}", stale.address))
        .arg("hostname")
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), "stale-key", "{}", stderr(&out));

    // A server that completes the TCP handshake and then says nothing: only the client's
    // timeout (which in OpenSSH covers the banner) ends the wait.
    // OpenSSH names the wait that ended: the banner, after a connection that succeeded.
    let hung = fleet.host("hung");
    let out = fleet
        .ssh(hung, KnownHosts::Plain)
        .args(["-o", "ConnectTimeout=2", "hostname"])
        .output()
        .unwrap();
    assert_status(&out, 255);
    assert!(
        stderr(&out).contains("Connection timed out during banner exchange"),
        "{}",
        stderr(&out)
    );
    // The TCP connection itself succeeds at once.
    std::net::TcpStream::connect_timeout(&hung.addr(), Duration::from_secs(1)).unwrap();

    // Our key is not in its authorized_keys.
    let out = ssh(
        &fleet,
        fleet.host("no-entry"),
        KnownHosts::Plain,
        "hostname",
    );
    assert_status(&out, 255);
    assert!(
        stderr(&out).contains("Permission denied"),
        "{}",
        stderr(&out)
    );

    // Nothing listens there.
    let dead = fleet.host("dead");
    let out = ssh(&fleet, dead, KnownHosts::Plain, "hostname");
    assert_status(&out, 255);
    assert!(
        stderr(&out).contains("Connection refused"),
        "{}",
        stderr(&out)
    );
    let err = std::net::TcpStream::connect(dead.addr()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);

    // A hostname made of terminal escapes comes back byte for byte.
    let out = ssh(&fleet, fleet.host("escapes"), KnownHosts::Plain, "hostname");
    assert_status(&out, 0);
    assert_eq!(out.stdout, format!("{ESCAPE_HOSTNAME}\n").as_bytes());
}

#[test]
fn daily_package_reports_are_readable_over_sftp() {
    require("sftp", "openssh-client");
    let specs: Vec<HostSpec> = standard_fleet()
        .into_iter()
        .filter(|s| s.name == "legacy-1" || s.name == "web-8")
        .collect();
    let fleet = Fleet::start(specs);
    let env = Env::new();
    let get = |host: &Host, remote: &str, local: &Path| {
        let batch = env.dir.path().join("batch");
        std::fs::write(&batch, format!("get {remote} {}\n", local.display())).unwrap();
        let out = Command::new("sftp")
            .args(["-F", "none", "-o", "BatchMode=yes", "-o"])
            .arg(format!(
                "UserKnownHostsFile={}",
                fleet.known_hosts(KnownHosts::Plain).display()
            ))
            .arg("-i")
            .arg(fleet.key())
            .args(["-P", &host.port.to_string(), "-b"])
            .arg(&batch)
            .arg(format!("root@{}", host.address))
            .output()
            .unwrap();
        assert_status(&out, 0);
        std::fs::read_to_string(local).unwrap()
    };

    let legacy = fleet.host("legacy-1");
    let report = get(legacy, "/var/log/rpmpkgs", &env.dir.path().join("rpmpkgs"));
    assert!(
        report.contains("openssl-1.0.2k-26.el7_9.x86_64.rpm\n"),
        "{report}"
    );
    assert!(
        report.contains("tzdata-2024a-1.el9.noarch.rpm\n"),
        "{report}"
    );
    assert_eq!(report.lines().count(), legacy.installed().len());
    // The same list the host's rpm gives, in the cron job's own format.
    let out = ssh(
        &fleet,
        legacy,
        KnownHosts::Plain,
        "rpm -qa --qf '%{name}-%{version}-%{release}.%{arch}.rpm\\n' | sort",
    );
    assert_eq!(stdout(&out), report);

    let web = fleet.host("web-8");
    let status = get(
        web,
        "/var/backups/dpkg.status.0",
        &env.dir.path().join("status"),
    );
    let live = ssh(&fleet, web, KnownHosts::Plain, "cat /var/lib/dpkg/status");
    assert_eq!(status, stdout(&live));
    assert!(status.contains("Package: openssl\n"));
    // And dpkg reads the copy as a database of its own.
    let admin = env.dir.path().join("admin");
    std::fs::create_dir_all(admin.join("info")).unwrap();
    std::fs::copy(env.dir.path().join("status"), admin.join("status")).unwrap();
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admin.display()))
        .args(["-W", "-f", r"${Package}\t${Version}\t${Architecture}\n"])
        .output()
        .unwrap();
    assert_eq!(lines(&stdout(&out)), package_lines(&web.installed()));
}

#[test]
fn a_host_with_200000_packages() {
    let fleet = Fleet::start(vec![HostSpec::huge("huge", 200_000)]);
    let host = fleet.host("huge");
    let out = ssh(
        &fleet,
        host,
        KnownHosts::Plain,
        "dpkg-query -W -f '${Package} ${Version}\\n' | md5sum; dpkg-query -W | wc -l",
    );
    assert_status(&out, 0);
    let expected: String = host
        .installed()
        .iter()
        .map(|p| format!("{} {}\n", p.name, p.version))
        .collect();
    let md5 = run_with_stdin(&mut Command::new("md5sum"), &expected);
    assert_eq!(stdout(&out), format!("{}200000\n", stdout(&md5)));
}
