//! Hosts that lie or are impersonated, against real sshd: a host key of another type and a
//! hashed known_hosts entry typed in another case (judged as OpenSSH's own client judges them,
//! which each test also runs), a machine that reports another's hostname, and a hostname that
//! looks like an SSH target.

use std::net::{Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::peer::{Transport, free_port};
use crate::support::sshd::{Fleet, HostSpec, KnownHosts, Os};
use crate::support::*;

fn keygen(path: &Path, kind: &str) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-C", "opskit-test", "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
    let text = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// OpenSSH's client, with accept-new, against `known_hosts`: the reference for every verdict.
fn openssh(known_hosts: &Path, key: &Path, user_host: &str, port: u16) -> Output {
    Command::new("ssh")
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
        ])
        .arg("-i")
        .arg(key)
        .args(["-p", &port.to_string(), user_host, "true"])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_host_known_by_a_key_of_another_type_is_refused_as_changed_as_openssh_does() {
    let fleet = Fleet::start(vec![HostSpec::new("typed-1", Os::Debian12)]);
    let host = &fleet.hosts[0];
    let env = Env::new();
    fleet.install_client(&env.home, KnownHosts::Plain);
    // The file knows the host by an ECDSA key; the host has only its Ed25519 key (a man in
    // the middle would show whatever key he holds).
    let ecdsa = keygen(&env.dir.path().join("ecdsa"), "ecdsa");
    let known = env.home.join(".ssh/known_hosts");
    let line = format!("[{}]:{} {ecdsa}\n", host.addr().ip(), host.addr().port());
    std::fs::write(&known, &line).unwrap();

    let out = env.run(tool!("scan-hosts"), &["--accept-new", &host.target()]);
    assert_status(&out, 1);
    assert!(stderr(&out).contains("HOST KEY OF"), "{}", stderr(&out));
    assert!(stderr(&out).contains("HAS CHANGED"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&known).unwrap(),
        line,
        "nothing appended"
    );
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["0"]);

    let ssh = openssh(
        &known,
        &fleet.key(),
        &format!("root@{}", host.addr().ip()),
        host.addr().port(),
    );
    assert_eq!(ssh.status.code(), Some(255));
    assert!(
        stderr(&ssh).contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{}",
        stderr(&ssh)
    );
}

/// A real sshd of its own on 127.0.0.1 (which `localhost` names), letting in `client_key`.
struct LoopbackSshd {
    child: Child,
    port: u16,
}

impl LoopbackSshd {
    fn start(dir: &Path, client_pub: &Path) -> LoopbackSshd {
        require_root();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = free_port(Transport::Tcp, Ipv4Addr::LOCALHOST.into());
        keygen(&dir.join("host_key"), "ed25519");
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile none\n\
                 AuthorizedKeysFile {}\nStrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n",
                dir.join("host_key").display(),
                client_pub.display()
            ),
        )
        .unwrap();
        let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("sshd");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A hang guard, not a timing: sshd listens at once.
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd hung: not listening on {port} after 120 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        LoopbackSshd { child, port }
    }
}

impl Drop for LoopbackSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_hashed_entry_is_found_whatever_case_the_name_is_typed_in() {
    let env = Env::new();
    let key = env.dir.path().join("id");
    keygen(&key, "ed25519");
    let sshd = LoopbackSshd::start(env.dir.path(), &key.with_extension("pub"));
    // known_hosts holds, hashed, another key for [localhost]:PORT: this sshd is "changed".
    let old = keygen(&env.dir.path().join("old_host_key"), "ed25519");
    let ssh_dir = env.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let known = ssh_dir.join("known_hosts");
    std::fs::write(&known, format!("[localhost]:{} {old}\n", sshd.port)).unwrap();
    let hashed = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&known)
        .output()
        .unwrap();
    assert!(hashed.status.success());
    let _ = std::fs::remove_file(known.with_extension("old"));
    let before = std::fs::read_to_string(&known).unwrap();
    assert!(before.starts_with("|1|"), "{before}");

    let target = format!("root@LOCALHOST:{}", sshd.port);
    let out = env.run(
        tool!("scan-hosts"),
        &["--accept-new", "-i", key.to_str().unwrap(), &target],
    );
    assert_status(&out, 1);
    assert!(stderr(&out).contains("HAS CHANGED"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&known).unwrap(),
        before,
        "nothing appended"
    );
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["0"]);

    let ssh = openssh(&known, &key, "root@LOCALHOST", sshd.port);
    assert_eq!(ssh.status.code(), Some(255));
    assert!(stderr(&ssh).contains("HAS CHANGED"), "{}", stderr(&ssh));
}

fn packages(env: &Env, name: &str) -> Vec<String> {
    let out = env.run(tool!("pkg-where"), &["-f", "host,package,version", name]);
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn a_machine_that_reports_another_hosts_name_is_refused_not_merged() {
    let fleet = Fleet::start(vec![
        HostSpec::new("web-1", Os::Debian12).pkg("nginx", "1.22.1-9"),
        // Another machine (its own machine id and host key) that says it is web-1.
        HostSpec::new("web-1", Os::Debian11)
            .alias("impostor")
            .pkg("evil-tool", "6.6.6-1"),
    ]);
    let (real, impostor) = (&fleet.hosts[0], &fleet.hosts[1]);
    let env = Env::new();
    fleet.install_client(&env.home, KnownHosts::Plain);
    assert_status(&env.run(tool!("scan-hosts"), &[&real.target()]), 0);
    assert_eq!(packages(&env, "nginx"), ["web-1\tnginx\t1.22.1-9"]);

    let out = env.run(tool!("scan-hosts"), &[&impostor.target()]);
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("reports the hostname \"web-1\", which the catalog holds for another machine (machine id "),
        "{err}"
    );
    assert!(err.contains("SSH host key SHA256:"), "{err}");
    assert!(err.contains("--new-identity \"web-1\""), "{err}");
    // Nothing of the impostor's landed, and web-1 is still reached where it was.
    assert_eq!(packages(&env, "nginx"), ["web-1\tnginx\t1.22.1-9"]);
    assert!(packages(&env, "evil-tool").is_empty());
    assert_eq!(env.sql("SELECT count(*) FROM hosts"), ["1"]);
    let out = env.run(tool!("scan-hosts"), &["--all"]);
    assert_status(&out, 0);
    assert_eq!(
        env.sql("SELECT s.target FROM hosts h JOIN scans s ON s.id = h.last_scan_id"),
        [real.target()]
    );

    // When web-1 really was reinstalled, the user says so and the new machine takes the name.
    let out = env.run(
        tool!("scan-hosts"),
        &["--new-identity", "web-1", &impostor.target()],
    );
    assert_status(&out, 0);
    assert_eq!(packages(&env, "evil-tool"), ["web-1\tevil-tool\t6.6.6-1"]);
    assert!(packages(&env, "nginx").is_empty());
    // And now the first machine is the stranger.
    assert_status(&env.run(tool!("scan-hosts"), &[&real.target()]), 1);
}

#[test]
fn a_hostname_that_looks_like_a_target_never_becomes_one() {
    let victims = Fleet::start(vec![HostSpec::new("victim-1", Os::Debian12)]);
    let victim = &victims.hosts[0];
    // A host that calls itself "intruder@VICTIM:PORT": read back as a target, a group glob
    // would send a scan to the victim, logged in as "intruder", offering our keys.
    let name = format!("intruder@{}:{}", victim.addr().ip(), victim.addr().port());
    let fleet = Fleet::start(vec![HostSpec::new(&name, Os::Debian12)]);
    let liar = &fleet.hosts[0];
    let env = Env::new();
    fleet.install_client(&env.home, KnownHosts::Plain);
    assert_status(&env.run(tool!("scan-hosts"), &[&liar.target()]), 0);
    assert_eq!(env.sql("SELECT name FROM hosts"), [name]);

    let config = write_config(&env, "[groups]\neverything = [\"*\"]\n");
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", config.to_str().unwrap(), "everything"],
    );
    assert_status(&out, 0);
    // Every scan went to the target the liar was reached at; none to the name it reports.
    assert_eq!(
        env.sql("SELECT DISTINCT target FROM scans"),
        [liar.target()]
    );
}

#[test]
fn the_output_all_hosts_hold_at_once_is_bounded() {
    // A host whose package list alone is megabytes, and an ordinary one.
    let fleet = Fleet::start(vec![
        HostSpec::huge("flood-1", 30_000),
        HostSpec::new("calm-1", Os::Debian12).pkg("bash", "5.2.15-2+b2"),
    ]);
    let env = Env::new();
    fleet.install_client(&env.home, KnownHosts::Plain);
    let config = write_config(&env, "[ssh]\nmax_total_output_mib = 1\n");
    let targets: Vec<String> = fleet.hosts.iter().map(|h| h.target()).collect();
    let mut args = vec!["--config", config.to_str().unwrap(), "--concurrency", "1"];
    args.extend(targets.iter().map(String::as_str));
    let out = env.run(tool!("scan-hosts"), &args);
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("hold 1 MiB of output, the most allowed"),
        "{err}"
    );
    // The flood is dropped and its share given back: the next host is stored.
    assert_eq!(env.sql("SELECT name FROM hosts"), ["calm-1"]);
}
