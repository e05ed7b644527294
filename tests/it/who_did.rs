//! `who-did` and scan-hosts' audit collector: incremental reading of a log that grows, rotates,
//! is truncated and ends in a partial line, this machine's and a real sshd host's; the
//! normaliser against auditd's own `aureport` and `ausearch` on every log here; bad input.
//!
//! The logs are written here in auditd 3's ENRICHED format, record for record as the real
//! auditd writes them (the fixtures under `fixtures/audit/` come from the real daemon and from
//! the audit userspace project), so that a test can grow and rotate them at exact points.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::sshd::{Fleet, HostSpec, KnownHosts, Os};
use crate::support::*;

/// The byte auditd puts before the enriched fields.
const GS: char = '\u{1d}';

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

fn stamp(time_ms: i64, serial: u64) -> String {
    format!("{}.{:03}:{serial}", time_ms / 1000, time_ms % 1000)
}

/// The SYSCALL record of an exec of `/usr/bin/{cmd}` by `user` (auid `uid`) as root.
fn exec_syscall(serial: u64, time_ms: i64, user: &str, uid: u32, cmd: &str) -> String {
    format!(
        "type=SYSCALL msg=audit({}): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c1a0 \
         a1=55d0c1b0 a2=55d0c1c0 a3=0 items=1 ppid=4100 pid={} auid={uid} uid=0 gid=0 euid=0 \
         suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=7 comm=\"{cmd}\" \
         exe=\"/usr/bin/{cmd}\" key=\"opskit-exec\"{GS}ARCH=x86_64 SYSCALL=execve \
         AUID=\"{user}\" UID=\"root\" GID=\"root\" EUID=\"root\" SUID=\"root\" FSUID=\"root\" \
         EGID=\"root\" SGID=\"root\" FSGID=\"root\"\n",
        stamp(time_ms, serial),
        5000 + serial
    )
}

/// The records after the SYSCALL of [`exec_syscall`]'s event.
fn exec_rest(serial: u64, time_ms: i64, cmd: &str) -> String {
    let s = stamp(time_ms, serial);
    format!(
        "type=EXECVE msg=audit({s}): argc=2 a0=\"{cmd}\" a1={arg}\n\
         type=CWD msg=audit({s}): cwd=\"/root\"\n\
         type=PATH msg=audit({s}): item=0 name=\"/usr/bin/{cmd}\" inode=247295 dev=fe:00 \
         mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 \
         cap_fver=0 cap_frootid=0{GS}OUID=\"root\" OGID=\"root\"\n\
         type=PROCTITLE msg=audit({s}): proctitle={title}\n",
        arg = hex("--serial 1"),
        title = hex(&format!("{cmd}\0--serial 1")),
    )
}

fn exec_event(serial: u64, time_ms: i64) -> String {
    let cmd = format!("tool{}", serial % 7);
    exec_syscall(serial, time_ms, "alice", 1000, &cmd) + &exec_rest(serial, time_ms, &cmd)
}

/// Records 1..=5 of one exec event, in order: what a complete event holds.
const EXEC_RECORDS: &str = "SYSCALL,EXECVE,CWD,PATH,PROCTITLE";

/// An audit log directory the test grows, rotates and truncates as auditd (and logrotate's
/// copytruncate) would.
struct AuditDir {
    dir: PathBuf,
}

impl AuditDir {
    fn new(dir: PathBuf) -> AuditDir {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("audit.log"), "").unwrap();
        AuditDir { dir }
    }

    fn log(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    fn append(&self, text: impl AsRef<[u8]>) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.log())
            .unwrap();
        f.write_all(text.as_ref()).unwrap();
    }

    /// auditd's rotation: audit.log.N → .N+1, audit.log → .1, a new audit.log.
    fn rotate(&self) {
        let mut n = 1;
        while self.dir.join(format!("audit.log.{n}")).exists() {
            n += 1;
        }
        for i in (1..n).rev() {
            std::fs::rename(
                self.dir.join(format!("audit.log.{i}")),
                self.dir.join(format!("audit.log.{}", i + 1)),
            )
            .unwrap();
        }
        std::fs::rename(self.log(), self.dir.join("audit.log.1")).unwrap();
        std::fs::write(self.log(), "").unwrap();
    }

    /// Truncation in place: same file, size 0.
    fn truncate(&self) {
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(self.log())
            .unwrap();
    }

    /// Every file, oldest first, concatenated: the whole log as ausearch would read it.
    fn whole(&self) -> Vec<u8> {
        let mut n = 1;
        while self.dir.join(format!("audit.log.{n}")).exists() {
            n += 1;
        }
        let mut out = Vec::new();
        for i in (1..n).rev() {
            out.extend(std::fs::read(self.dir.join(format!("audit.log.{i}"))).unwrap());
        }
        out.extend(std::fs::read(self.log()).unwrap());
        out
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// who-did's events as JSON objects.
fn events(env: &Env, config: &Path, args: &[&str]) -> Vec<Value> {
    let out = env
        .cmd(tool!("who-did"))
        .env("OPSKIT_CONFIG", config)
        .args([
            "--json",
            "-f",
            "time,host,kind,user,as,uid,what,result,exe,key,serial,records",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "who-did: {}",
        stderr(&out)
    );
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The serials stored for `host`, failing on any event stored twice.
fn serials(events: &[Value], host: &str) -> BTreeSet<u64> {
    let mut seen = BTreeSet::new();
    for e in events.iter().filter(|e| e["host"] == host) {
        let serial = e["serial"].as_u64().unwrap();
        assert!(seen.insert(serial), "event {serial} stored twice on {host}");
    }
    seen
}

fn scan_local(env: &Env, config: &Path) -> Output {
    env.cmd(tool!("scan-hosts"))
        .env("OPSKIT_CONFIG", config)
        .arg("--local")
        .output()
        .unwrap()
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn scan_hosts_stores_each_audit_event_once_across_growth_rotation_truncation_and_cut_lines() {
    let env = Env::new();
    let log = AuditDir::new(env.dir.path().join("audit"));
    let config = write_config(
        &env,
        &format!("[audit]\nlog = \"{}\"\n", log.log().display()),
    );
    let host = hostname();
    let base = now_ms() - 3_600_000;
    let t = |serial: u64| base + serial as i64 * 10;
    let mut expected = BTreeSet::new();
    let check = |env: &Env, expected: &BTreeSet<u64>, step: &str| {
        let out = scan_local(env, &config);
        assert_eq!(out.status.code(), Some(0), "{step}: {}", stderr(&out));
        let got = serials(&events(env, &config, &[]), &host);
        assert_eq!(&got, expected, "{step}");
    };

    // A first read.
    for s in 1..=100 {
        log.append(exec_event(s, t(s)));
        expected.insert(s);
    }
    check(&env, &expected, "first read");

    // Growth, ending in half a line: the cut record's event waits for its end.
    for s in 101..=150 {
        log.append(exec_event(s, t(s)));
        expected.insert(s);
    }
    let cut = exec_syscall(151, t(151), "alice", 1000, "tool4");
    let (head, tail) = cut.split_at(cut.len() / 2);
    log.append(head);
    check(&env, &expected, "growth with a partial last line");

    // The line completed, more events, a rotation, and events in the new file.
    log.append(tail);
    log.append(exec_rest(151, t(151), "tool4"));
    expected.insert(151);
    for s in 152..=160 {
        log.append(exec_event(s, t(s)));
        expected.insert(s);
    }
    log.rotate();
    for s in 161..=170 {
        log.append(exec_event(s, t(s)));
        expected.insert(s);
    }
    check(&env, &expected, "rotation");
    let all = events(&env, &config, &[]);
    let e151 = all.iter().find(|e| e["serial"] == 151).unwrap();
    assert_eq!(e151["records"], EXEC_RECORDS, "the cut event is whole");
    assert_eq!(e151["what"], "tool4 '--serial 1'");

    // Truncated in place (copytruncate) and written again.
    log.truncate();
    for s in 171..=180 {
        log.append(exec_event(s, t(s)));
        expected.insert(s);
    }
    check(&env, &expected, "truncation");

    // An event still being written when a scan reads it, finished after a rotation.
    let recent = now_ms() - 500;
    log.append(exec_syscall(181, recent, "bob", 1001, "visudo"));
    check(&env, &expected, "an event being written is held back");
    log.rotate();
    log.append(exec_rest(181, recent, "visudo"));
    let future = now_ms() + 600_000;
    log.append(exec_event(182, future));
    expected.insert(181);
    check(
        &env,
        &expected,
        "an event split across a rotation and two scans",
    );
    let all = events(&env, &config, &[]);
    let e181 = all.iter().find(|e| e["serial"] == 181).unwrap();
    assert_eq!(e181["records"], EXEC_RECORDS);
    assert_eq!(e181["user"], "bob");
    assert_eq!(e181["as"], "root");
    assert_eq!(e181["what"], "visudo '--serial 1'");

    // Nothing new: nothing added.
    check(&env, &expected, "a rescan");

    // Every file read again from scratch (the checkpoint lost) adds nothing either.
    env.sql("DELETE FROM audit_checkpoints");
    check(&env, &expected, "a read from scratch");

    // aureport over the files as they are now counts what the catalog holds, less 161..=170
    // (the truncation took them from the files; the catalog read them before), plus 182
    // (in the files, still held back from the catalog).
    let whole = env.dir.path().join("whole.log");
    std::fs::write(&whole, log.whole()).unwrap();
    let counted = aureport_summary(&whole)["events"];
    assert_eq!(counted, expected.len() as u64 - 10 + 1);
}

#[test]
fn scan_hosts_reads_a_real_sshd_hosts_audit_log_and_reports_hosts_without_one() {
    let base = now_ms() - 7_200_000;
    let mut text = String::new();
    for s in 1..=40 {
        text.push_str(&exec_event(s, base + s as i64 * 1000));
    }
    // A failed root login from an address, and a sudo that opens a session as root.
    let login = stamp(base + 50_000, 41);
    text.push_str(&format!(
        "type=USER_LOGIN msg=audit({login}): pid=900 uid=0 auid=4294967295 ses=4294967295 \
         msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.23 \
         terminal=ssh res=failed'{GS}UID=\"root\" AUID=\"unset\"\n"
    ));
    let cmd = stamp(base + 60_000, 42);
    let start = stamp(base + 60_001, 43);
    text.push_str(&format!(
        "type=USER_CMD msg=audit({cmd}): pid=901 uid=1000 auid=1000 ses=3 msg='cwd=\"/home/alice\" \
         cmd={} exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'{GS}UID=\"alice\" AUID=\"alice\"\n\
         type=USER_START msg=audit({start}): pid=901 uid=0 auid=1000 ses=3 msg='op=PAM:session_open \
         grantors=pam_limits,pam_permit,pam_unix acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? \
         addr=? terminal=/dev/pts/0 res=success'{GS}UID=\"root\" AUID=\"alice\"\n",
        hex("systemctl restart nginx")
    ));
    let fleet = Fleet::start(vec![
        HostSpec::new("audited-1", Os::Debian12).file("/var/log/audit/audit.log", text.clone()),
        // No auditd: sshd, sudo and su from the auth log, RHEL's file, rsyslog's format.
        HostSpec::new("quiet-1", Os::Rocky9).file(
            "/var/log/secure",
            "Dec  1 09:00:01 quiet-1 sshd[700]: Accepted publickey for carol from 192.0.2.44 port 51000 ssh2: ED25519 SHA256:x\n\
             Dec  1 09:00:05 quiet-1 sudo[710]:    carol : TTY=pts/0 ; PWD=/home/carol ; USER=root ; COMMAND=/usr/bin/dnf update\n\
             Dec  1 09:01:00 quiet-1 su[720]: pam_unix(su:session): session opened for user root(uid=0) by carol(uid=1002)\n\
             Dec  1 09:02:00 quiet-1 sshd[730]: Failed password for root from 203.0.113.5 port 40000 ssh2\n\
             Dec  1 09:02:01 quiet-1 sshd[730]: Connection closed by 203.0.113.5 port 40000 [preauth]\n",
        ),
    ]);
    let env = Env::new();
    fleet.install_client(&env.home, KnownHosts::Plain);
    let config = write_config(&env, "");
    let hosts = [fleet.host("audited-1"), fleet.host("quiet-1")];
    let hosts_file = fleet.hosts_file(hosts);
    let scan = || {
        env.cmd(tool!("scan-hosts"))
            .env("OPSKIT_CONFIG", &config)
            .arg("--hosts-file")
            .arg(&hosts_file)
            .output()
            .unwrap()
    };
    let out = scan();
    // A host without auditd is not a failure.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = events(&env, &config, &[]);
    assert_eq!(serials(&all, "audited-1"), (1..=43).collect());
    let quiet: Vec<(&str, &str, &str)> = all
        .iter()
        .filter(|e| e["host"] == "quiet-1")
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["user"].as_str().unwrap_or("-"),
                e["as"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        quiet,
        [
            ("login", "carol", "carol"),
            ("sudo", "carol", "root"),
            ("su", "carol", "root"),
            ("failed-login", "-", "root"),
        ]
    );
    let failed = events(
        &env,
        &config,
        &["--kind", "failed-login", "--host", "audited-*"],
    );
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["as"], "root");
    assert_eq!(failed[0]["result"], "failed");
    let sudo = events(&env, &config, &["--kind", "sudo", "-u", "alice"]);
    assert_eq!(sudo.len(), 1, "{sudo:?}");
    assert_eq!(sudo[0]["what"], "systemctl restart nginx");
    assert_eq!(sudo[0]["as"], "root");

    // The host's log grows and rotates; the next scan adds exactly the new events.
    let dir = fleet.host("audited-1").dir.join("log/audit");
    let audit = AuditDir { dir };
    audit.rotate();
    for s in 44..=60 {
        audit.append(exec_event(s, base + s as i64 * 1000 + 100_000));
    }
    let out = scan();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = events(&env, &config, &[]);
    assert_eq!(serials(&all, "audited-1"), (1..=60).collect());
    // The auth log grew by one line: one more event, the others not again.
    std::fs::OpenOptions::new()
        .append(true)
        .open(fleet.host("quiet-1").dir.join("log/secure"))
        .unwrap()
        .write_all(
            b"Dec  1 10:00:00 quiet-1 sudo[800]:    carol : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id\n",
        )
        .unwrap();
    let out = scan();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sudo = events(&env, &config, &["--host", "quiet-1", "--kind", "sudo"]);
    let what: Vec<&str> = sudo.iter().map(|e| e["what"].as_str().unwrap()).collect();
    assert_eq!(what, ["/usr/bin/dnf update", "/usr/bin/id"]);

    // The report names the host with no audit log, and the failed root login by source.
    let out = env
        .cmd(tool!("who-did"))
        .env("OPSKIT_CONFIG", &config)
        .args(["--summary", "--kind", "exec", "--json"])
        .output()
        .unwrap();
    let total: u64 = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["events"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(total, 57, "{}", stdout(&out));
    let status = env
        .sql(
            "SELECT c.problem FROM audit_checkpoints c JOIN hosts h ON h.id = c.host_id \
             WHERE h.name = 'quiet-1'",
        )
        .concat();
    assert!(
        status.contains("no audit log at /var/log/audit/audit.log")
            && status.contains("read from /var/log/secure"),
        "{status}"
    );
}

/// `aureport --summary`'s counts, by what they count.
fn aureport_summary(log: &Path) -> BTreeMap<&'static str, u64> {
    require("aureport", "auditd");
    let out = Command::new("aureport")
        .args(["--input"])
        .arg(log)
        .arg("--summary")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut counts = BTreeMap::new();
    for (label, name) in [
        ("Number of logins:", "logins"),
        ("Number of failed logins:", "failed_logins"),
        ("Number of authentications:", "auths"),
        ("Number of failed authentications:", "failed_auths"),
        ("Number of executables:", "executables"),
        ("Number of events:", "events"),
        ("Number of changes in configuration:", "config_changes"),
    ] {
        let n = text
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .map_or(0, |n| n.trim().parse().unwrap());
        counts.insert(name, n);
    }
    counts
}

/// The same counts from who-did's events, by aureport's definitions: logins are events with a
/// USER_LOGIN record, authentications those with USER_AUTH or GRP_AUTH (and failed USER_MGMT,
/// which aureport counts as a failed authentication), executables the distinct programs.
fn opskit_summary(events: &[Value]) -> BTreeMap<&'static str, u64> {
    let has = |e: &Value, t: &str| e["records"].as_str().unwrap().split(',').any(|r| r == t);
    let result = |e: &Value| e["result"].as_str().unwrap_or("").to_string();
    let count = |f: &dyn Fn(&Value) -> bool| events.iter().filter(|e| f(e)).count() as u64;
    let mut counts = BTreeMap::new();
    counts.insert(
        "logins",
        count(&|e| has(e, "USER_LOGIN") && result(e) == "success"),
    );
    counts.insert(
        "failed_logins",
        count(&|e| has(e, "USER_LOGIN") && result(e) == "failed"),
    );
    let auth = |e: &Value| has(e, "USER_AUTH") || (!has(e, "USER_MGMT") && has(e, "GRP_AUTH"));
    counts.insert("auths", count(&|e| auth(e) && result(e) == "success"));
    counts.insert(
        "failed_auths",
        count(&|e| {
            (auth(e) || (has(e, "USER_MGMT") && !has(e, "USER_AUTH"))) && result(e) == "failed"
        }),
    );
    let exes: BTreeSet<&str> = events.iter().filter_map(|e| e["exe"].as_str()).collect();
    counts.insert("executables", exes.len() as u64);
    counts.insert("events", events.len() as u64);
    let config_types = [
        "CONFIG_CHANGE",
        "DAEMON_CONFIG",
        "USYS_CONFIG",
        "NETFILTER_CFG",
        "FEATURE_CHANGE",
        "USER_MAC_CONFIG_CHANGE",
    ];
    counts.insert(
        "config_changes",
        events
            .iter()
            .map(|e| config_types.iter().filter(|t| has(e, t)).count() as u64)
            .sum(),
    );
    counts
}

/// One event as `ausearch -i` interprets it: the subject record's auid, uid, exe and result.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Interpreted {
    auid: Option<String>,
    uid: Option<String>,
    exe: Option<String>,
    success: Option<String>,
}

/// ausearch -i's events by serial and time (`12/02/26 17:36:05.514:5` → `5`, and the time as
/// printed), each from the record opskit takes as the subject: a user-space message, else the
/// SYSCALL, else the first.
fn ausearch_interpreted(log: &Path) -> BTreeMap<u64, Vec<Interpreted>> {
    require("ausearch", "auditd");
    let out = Command::new("ausearch")
        .arg("--input")
        .arg(log)
        .args(["-i", "--input-logs"])
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut by_serial: BTreeMap<u64, Vec<Interpreted>> = BTreeMap::new();
    for block in text.split("----") {
        // `node=NAME ` comes first when auditd names nodes.
        let records: Vec<&str> = block
            .lines()
            .map(|l| match l.strip_prefix("node=") {
                Some(rest) => rest.split_once(' ').map_or("", |(_, r)| r),
                None => l,
            })
            .filter(|l| l.starts_with("type="))
            .collect();
        let Some(first) = records.first() else {
            continue;
        };
        let rtype = |r: &str| r[5..].split(' ').next().unwrap_or("").to_string();
        let user_message = |t: &str| {
            t.starts_with("USER_")
                || t.starts_with("CRED_")
                || t.starts_with("ANOM_LOGIN")
                || [
                    "ADD_USER",
                    "DEL_USER",
                    "ADD_GROUP",
                    "DEL_GROUP",
                    "GRP_AUTH",
                    "GRP_MGMT",
                    "GRP_CHAUTHTOK",
                    "ACCT_LOCK",
                    "ACCT_UNLOCK",
                    "CHUSER_ID",
                    "CHGRP_ID",
                    "USYS_CONFIG",
                    "ROLE_ASSIGN",
                    "ROLE_REMOVE",
                    "SYSTEM_BOOT",
                    "SYSTEM_SHUTDOWN",
                    "SERVICE_START",
                    "SERVICE_STOP",
                ]
                .contains(&t)
        };
        let subject = records
            .iter()
            .find(|r| user_message(&rtype(r)))
            .or_else(|| records.iter().find(|r| rtype(r) == "SYSCALL"))
            .unwrap_or(first);
        let serial: u64 = first
            .split(") :")
            .next()
            .and_then(|h| h.rsplit(':').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let field = |name: &str| {
            let body = subject.split_once(") : ").map_or("", |(_, b)| b);
            // msg='…' of user messages is printed inline by -i.
            body.split([' ', '\''])
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .map(str::to_string)
        };
        by_serial.entry(serial).or_default().push(Interpreted {
            auid: field("auid"),
            uid: field("uid"),
            exe: field("exe"),
            success: field("success").or_else(|| field("res")),
        });
    }
    by_serial
}

/// Compares who-did --input with aureport and ausearch on one log; returns what it compared.
fn differential(env: &Env, log: &Path) -> (BTreeMap<&'static str, u64>, usize) {
    let out = env
        .cmd(tool!("who-did"))
        .args([
            "--json",
            "-f",
            "kind,user,uid,exe,result,serial,records,time",
            "--passwd",
        ])
        .arg("/etc/passwd")
        .arg("--input")
        .arg(log)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}: {}",
        log.display(),
        stderr(&out)
    );
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut ours = opskit_summary(&events);
    let theirs = aureport_summary(log);
    // The one deliberate difference: the kernel's LOGIN record (pam_loginuid setting the audit
    // uid) shares its stamp with the SYSCALL that wrote it, so opskit and ausearch take them
    // as one event; aureport counts the LOGIN apart, as an event of its own.
    let split_logins = events
        .iter()
        .filter(|e| {
            let types: Vec<&str> = e["records"].as_str().unwrap().split(',').collect();
            types.contains(&"LOGIN") && types.len() > 1
        })
        .count() as u64;
    *ours.get_mut("events").unwrap() += split_logins;
    assert_eq!(
        ours,
        theirs,
        "{}: opskit (left) and aureport (right)",
        log.display()
    );

    let interpreted = ausearch_interpreted(log);
    let mut compared = 0;
    for e in &events {
        let serial = e["serial"].as_u64().unwrap();
        let Some(candidates) = interpreted.get(&serial) else {
            panic!(
                "{}: event {serial} is not in ausearch's output",
                log.display()
            );
        };
        // Serials restart at boot: among ausearch's events with this serial, one must agree.
        let name = |v: &Value| v.as_str().map(|s| s.trim_start_matches('#').to_string());
        // ausearch names a uid it cannot look up `unknown(N)`; opskit `#N`.
        let theirs = |v: &Option<String>| {
            v.as_ref().map(|v| {
                v.strip_prefix("unknown(")
                    .and_then(|n| n.strip_suffix(')'))
                    .unwrap_or(v)
                    .to_string()
            })
        };
        let ok = candidates.iter().any(|i| {
            let i = Interpreted {
                auid: theirs(&i.auid),
                uid: theirs(&i.uid),
                ..i.clone()
            };
            let auid_ok = match (&i.auid, name(&e["user"])) {
                (Some(a), None) => a == "unset" || a == "4294967295",
                (Some(a), Some(u)) => *a == u,
                (None, u) => u.is_none(),
            };
            let uid_ok = match (&i.uid, name(&e["uid"])) {
                (Some(a), Some(u)) => *a == u,
                (a, u) => a.is_none() == u.is_none(),
            };
            let exe_ok = i.exe.as_deref().map(|x| x.trim_matches('"')) == e["exe"].as_str()
                || i.exe.is_none() && e["exe"].is_null();
            let result_ok = match (i.success.as_deref(), e["result"].as_str()) {
                (Some("yes" | "success"), Some(r)) => r == "success",
                (Some("no" | "failed"), Some(r)) => r == "failed",
                (_, None) => true,
                (Some(_), Some(_)) => true,
                (None, Some(_)) => true,
            };
            auid_ok && uid_ok && exe_ok && result_ok
        });
        assert!(
            ok,
            "{}: event {serial}: opskit {e} vs ausearch -i {candidates:?}",
            log.display()
        );
        compared += 1;
    }
    (ours, compared)
}

#[test]
fn who_did_input_agrees_with_aureport_and_ausearch_on_every_log() {
    let env = Env::new();
    let mut logs: Vec<PathBuf> = Vec::new();
    // The logs generated here.
    let generated = env.dir.path().join("generated.log");
    let base = 1_790_000_000_000;
    let mut text = String::new();
    for s in 1..=50 {
        text.push_str(&exec_event(s, base + s as i64 * 997));
    }
    std::fs::write(&generated, text).unwrap();
    logs.push(generated);
    // The fixtures: real auditd output, and the audit userspace project's own test logs.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/audit");
    if let Ok(dir) = std::fs::read_dir(&fixtures) {
        let mut found: Vec<PathBuf> = dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        found.sort();
        logs.extend(found);
    }
    // The audit userspace project's four and the real actions' two (ENRICHED and RAW).
    assert!(logs.len() >= 7, "fixtures missing: {logs:?}");
    let mut report = String::new();
    for log in &logs {
        let (counts, compared) = differential(&env, log);
        report.push_str(&format!(
            "{}: {counts:?}, {compared} events\n",
            log.display()
        ));
    }
    eprintln!("{report}");
}

#[test]
fn who_did_input_survives_bad_input_and_says_how_much_it_skipped() {
    let env = Env::new();
    let log = env.dir.path().join("bad.log");
    let base = 1_790_000_000_000;
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend(exec_event(1, base).as_bytes());
    bytes.extend(b"garbage that is not a record\n");
    bytes.extend(b"type=SYSCALL no stamp here\n");
    bytes.extend(b"type=SYSCALL msg=audit(1790000000.000:2): arch=c000003e \xff\xfe\xfd exe=\"/usr/bin/\xff\"\n");
    // A 2 MB line: one EXECVE argument.
    bytes.extend(exec_syscall(3, base + 10, "alice", 1000, "big").as_bytes());
    bytes.extend(
        format!(
            "type=EXECVE msg=audit({}): argc=2 a0=\"big\" a1=\"{}\"\n",
            stamp(base + 10, 3),
            "x".repeat(2 << 20)
        )
        .as_bytes(),
    );
    // A clock that goes backwards.
    bytes.extend(exec_event(4, base - 86_400_000).as_bytes());
    // A cut last line.
    bytes.extend(b"type=SYSCALL msg=audit(17900");
    std::fs::write(&log, &bytes).unwrap();
    let out = env
        .cmd(tool!("who-did"))
        .args(["--json", "-f", "serial,what,records", "--input"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let serials: Vec<u64> = events
        .iter()
        .map(|e| e["serial"].as_u64().unwrap())
        .collect();
    assert_eq!(serials, [1, 2, 3, 4]);
    let what = events[2]["what"].as_str().unwrap();
    assert!(
        what.len() <= 4100 && what.starts_with("big xxx"),
        "{}",
        what.len()
    );
    let err = stderr(&out);
    assert!(err.contains("3 of 16 lines are not audit records"), "{err}");
    // A file that is not there, and one that is not readable: exit 2, named.
    let out = env.run(tool!("who-did"), &["--input", "/nonexistent/audit.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/audit.log"),
        "{}",
        stderr(&out)
    );
    // Nothing matches: exit 1 and nothing on stdout.
    let out = env.run(
        tool!("who-did"),
        &["--input", log.to_str().unwrap(), "--kind", "login"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
}

/// Lines a child prints, read on a thread so that the test can wait with a hang guard.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Kills a child when dropped, so that a failing test leaves no follower behind.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn who_did_follow_alerts_once_per_event_through_rotation_and_truncation_and_runs_exec() {
    let env = Env::new();
    let log = AuditDir::new(env.dir.path().join("audit"));
    let execs = env.dir.path().join("alerts.jsonl");
    let config = write_config(
        &env,
        &format!(
            "[audit]\nlog = \"{}\"\n\
             [[alert]]\nname = \"bob ran something\"\nkind = [\"exec\"]\nuser = [\"bob\"]\n\
             [[alert]]\nname = \"visudo\"\ncommand = [\"visudo*\"]\n",
            log.log().display()
        ),
    );
    let base = now_ms() - 60_000;
    // Before the follower starts: not an alert, whatever it matches.
    log.append(exec_syscall(1, base, "bob", 1001, "old") + &exec_rest(1, base, "old"));
    let child = env
        .cmd(tool!("who-did"))
        .env("OPSKIT_CONFIG", &config)
        .args([
            "--follow",
            "--interval",
            "0.2",
            "--json",
            "--exec",
            "sh",
            "-c",
        ])
        .arg(format!("cat >> {}", execs.display()))
        .arg(";")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let lines = lines_of(&mut child.0);
    let next = |what: &str| -> Value {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("hang guard: no alert for {what} within a minute"));
        serde_json::from_str(&line).unwrap()
    };
    // Events that match no alert (alice's) and, once the follower has found the end of the
    // log, bob's: the first alert is the first bob event appended after it started.
    let mut serial = 10;
    let first = loop {
        serial += 1;
        log.append(exec_event(serial, base + serial as i64));
        log.append(
            exec_syscall(serial + 1000, base + serial as i64, "bob", 1001, "ls")
                + &exec_rest(serial + 1000, base + serial as i64, "ls"),
        );
        if let Ok(line) = lines.recv_timeout(std::time::Duration::from_millis(500)) {
            break serde_json::from_str::<Value>(&line).unwrap();
        }
        assert!(serial < 200, "hang guard: the follower never alerted");
    };
    assert_eq!(first["alert"], "bob ran something");
    assert_eq!(first["user"], "bob");
    let mut alerted = vec![first["serial"].as_u64().unwrap()];

    // Through a rotation.
    log.rotate();
    let t = base + 500;
    log.append(exec_syscall(2001, t, "alice", 1000, "visudo") + &exec_rest(2001, t, "visudo"));
    let e = next("visudo after a rotation");
    assert_eq!(e["serial"], 2001);
    assert_eq!(e["alert"], "visudo");
    alerted.push(2001);

    // Through a truncation and a rewrite past the old end.
    log.truncate();
    for s in 3001..=3003 {
        log.append(exec_syscall(s, t + 1, "bob", 1001, "cat") + &exec_rest(s, t + 1, "cat"));
    }
    for s in 3001..=3003 {
        let e = next("bob's events after a truncation");
        assert_eq!(e["serial"], s);
        alerted.push(s);
    }
    // Nothing twice: no more lines come for what was already said.
    assert!(
        lines
            .recv_timeout(std::time::Duration::from_secs(2))
            .is_err(),
        "an event was alerted twice"
    );
    // Each alert reached --exec as one JSON object.
    let mut passed = Vec::new();
    for _ in 0..600 {
        passed = std::fs::read_to_string(&execs)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["serial"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        if passed.len() >= alerted.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    passed.sort();
    let mut want = alerted.clone();
    want.sort();
    assert_eq!(passed, want);
}

#[test]
fn who_did_rules_are_a_rules_file_whose_every_rule_has_a_key() {
    let env = Env::new();
    let out = env.run(tool!("who-did"), &["--rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let rules: Vec<&str> = text.lines().filter(|l| l.starts_with('-')).collect();
    assert!(rules.len() > 30, "{text}");
    for r in &rules {
        assert!(r.contains(" -k opskit-"), "{r}");
    }
    // Each watched identity file and delete directory is there.
    for needle in [
        "-w /etc/sudoers -p wa",
        "-w /etc/shadow -p wa",
        "-F dir=/etc ",
        "-S bind",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
    // --rules takes no other flag.
    let out = env.run(tool!("who-did"), &["--rules", "--summary"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn who_did_streams_a_gigabyte_log_in_bounded_memory() {
    // Written to who-did's stdin as it reads, so the test holds no gigabyte either.
    let env = Env::new();
    let mut child = env
        .cmd(tool!("who-did"))
        .args(["--input", "-", "--summary", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let base = 1_790_000_000_000i64;
        let mut written = 0usize;
        let mut serial = 0u64;
        let mut chunk = String::with_capacity(1 << 20);
        while written < 1 << 30 {
            chunk.clear();
            while chunk.len() < 1 << 20 {
                serial += 1;
                chunk.push_str(&exec_event(serial, base + serial as i64));
            }
            stdin.write_all(chunk.as_bytes()).unwrap();
            written += chunk.len();
        }
        serial
    });
    // The peak resident memory, read while it runs (VmHWM is the peak so far).
    let watcher = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        peak
    });
    let events = writer.join().unwrap();
    let out = child.wait_with_output().unwrap();
    let peak_kib = watcher.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let counted: u64 = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["events"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(counted, events);
    assert!(peak_kib > 0, "the peak was never read");
    assert!(
        peak_kib < 128 * 1024,
        "who-did held {peak_kib} KiB reading a 1 GiB log"
    );
}

#[test]
fn an_unreadable_or_vanished_audit_log_is_one_line_and_loses_nothing() {
    use std::os::unix::fs::PermissionsExt;
    require_root();
    require("setpriv", "util-linux");
    let env = Env::new();
    // nobody must reach the catalog and its config, not the log.
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let log = AuditDir::new(env.dir.path().join("audit"));
    let base = now_ms() - 60_000;
    for s in 1..=5 {
        log.append(exec_event(s, base + s as i64));
    }
    std::fs::set_permissions(log.log(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let as_nobody = |config: &Path| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(tool!("scan-hosts").path())
            .arg("--local");
        env.isolate(&mut cmd);
        cmd.env("OPSKIT_CONFIG", config).output().unwrap()
    };
    let plain = env.dir.path().join("plain.toml");
    std::fs::write(
        &plain,
        format!("[audit]\nlog = \"{}\"\n", log.log().display()),
    )
    .unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = as_nobody(&plain);
    // The rest of the host is stored, and logins, sudo and su come from the auth log or the
    // journal instead (not a failure); the log is named, with what to do, on one line.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let line = format!("{} is not readable by nobody", log.log().display());
    assert_eq!(err.matches(&line).count(), 1, "{err}");
    assert!(err.contains("[audit] sudo = true"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("audit")).count(),
        1,
        "{err}"
    );
    assert_eq!(
        env.sql("SELECT count(*) FROM hosts"),
        ["1"],
        "the host's facts and packages are stored"
    );

    // Through sudo -n, which nobody may not use: one line saying sudo refused, exit 1.
    let with_sudo = env.dir.path().join("sudo.toml");
    std::fs::write(
        &with_sudo,
        format!("[audit]\nlog = \"{}\"\nsudo = true\n", log.log().display()),
    )
    .unwrap();
    std::fs::set_permissions(&with_sudo, std::fs::Permissions::from_mode(0o644)).unwrap();
    require("sudo", "sudo");
    let out = as_nobody(&with_sudo);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("sudo -n sh -s") && err.contains("sudo"),
        "{err}"
    );

    // As root: read; then the log vanishes, and what was read stays.
    let config = write_config(
        &env,
        &format!("[audit]\nlog = \"{}\"\n", log.log().display()),
    );
    let out = scan_local(&env, &config);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let host = hostname();
    assert_eq!(
        serials(&events(&env, &config, &[]), &host),
        (1..=5).collect()
    );
    std::fs::remove_file(log.log()).unwrap();
    let out = scan_local(&env, &config);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        serials(&events(&env, &config, &[]), &host),
        (1..=5).collect(),
        "events read before the log vanished are kept"
    );
}

#[test]
fn who_did_follows_a_host_over_ssh_through_a_dropped_connection() {
    require("ss", "iproute2");
    let base = now_ms() - 60_000;
    let fleet = Fleet::start(vec![HostSpec::new("followed-1", Os::Debian12).file(
        "/var/log/audit/audit.log",
        exec_syscall(1, base, "bob", 1001, "old") + &exec_rest(1, base, "old"),
    )]);
    let host = fleet.host("followed-1");
    let log = AuditDir {
        dir: host.dir.join("log/audit"),
    };
    let env = Env::new();
    fleet.install_client(&env.home, KnownHosts::Plain);
    let config = write_config(
        &env,
        "[[alert]]\nname = \"bob ran something\"\nkind = [\"exec\"]\nuser = [\"bob\"]\n",
    );
    let child = env
        .cmd(tool!("who-did"))
        .env("OPSKIT_CONFIG", &config)
        .args(["--follow", "--interval", "0.2", "--json", "--host"])
        .arg(host.target())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let lines = lines_of(&mut child.0);
    let mut err_pipe = child.0.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err_pipe, &mut text);
        text
    });
    let bob = |s: u64| {
        let t = base + s as i64;
        exec_syscall(s, t, "bob", 1001, "ls") + &exec_rest(s, t, "ls")
    };
    // Until the follower has found the end of the log, appended events are before its start.
    let mut serial = 10;
    let first = loop {
        serial += 1;
        log.append(bob(serial));
        if let Ok(line) = lines.recv_timeout(std::time::Duration::from_millis(500)) {
            break serde_json::from_str::<Value>(&line).unwrap();
        }
        assert!(serial < 200, "hang guard: the follower never alerted");
    };
    assert_eq!(first["host"], host.target());
    let mut seen = vec![first["serial"].as_u64().unwrap()];
    // The connection is cut (its TCP socket destroyed); events written meanwhile and after
    // come once each, over a new connection.
    let cut = Command::new("ss")
        .args([
            "-K",
            "dst",
            &host.address.to_string(),
            "dport",
            "=",
            &format!(":{}", host.port),
        ])
        .output()
        .unwrap();
    assert!(
        cut.status.success(),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    for s in 500..505 {
        log.append(bob(s));
    }
    log.rotate();
    for s in 505..510 {
        log.append(bob(s));
    }
    while seen.iter().filter(|s| **s >= 500).count() < 10 {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("hang guard: no alert within a minute after the connection was cut");
        let e: Value = serde_json::from_str(&line).unwrap();
        seen.push(e["serial"].as_u64().unwrap());
    }
    assert!(
        lines
            .recv_timeout(std::time::Duration::from_secs(2))
            .is_err(),
        "an event was alerted twice"
    );
    let mut after: Vec<u64> = seen.iter().copied().filter(|s| *s >= 500).collect();
    after.sort();
    assert_eq!(after, (500..510).collect::<Vec<_>>());
    // The follower said it lost the connection, and that it reads again.
    drop(child);
    let said = errors.join().unwrap();
    assert!(said.contains("connection lost"), "{said}");
    assert!(said.contains("reading again"), "{said}");
}

#[test]
fn who_did_report_daily_lists_yesterdays_news_and_nothing_else() {
    let env = Env::new();
    let log = AuditDir::new(env.dir.path().join("audit"));
    let config = write_config(
        &env,
        &format!("[audit]\nlog = \"{}\"\n", log.log().display()),
    );
    // Yesterday noon UTC, and the day before.
    let today = now_ms() / 86_400_000 * 86_400_000;
    let yesterday = today - 43_200_000;
    let before = today - 86_400_000 - 43_200_000;
    // alice was seen the day before; mallory is new; a root login from an address; a failed
    // login as root; a sudo by alice; a write to a watched file.
    log.append(exec_syscall(1, before, "alice", 1000, "ls") + &exec_rest(1, before, "ls"));
    log.append(exec_syscall(2, yesterday, "mallory", 1666, "nc") + &exec_rest(2, yesterday, "nc"));
    let s = |t: i64, n: u64| stamp(t, n);
    log.append(format!(
        "type=USER_START msg=audit({}): pid=7 uid=0 auid=0 ses=9 msg='op=PAM:session_open acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=192.0.2.9 addr=192.0.2.9 terminal=ssh res=success'{GS}UID=\"root\" AUID=\"root\"\n\
         type=USER_LOGIN msg=audit({}): pid=8 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.7 terminal=ssh res=failed'{GS}UID=\"root\" AUID=\"unset\"\n\
         type=USER_CMD msg=audit({}): pid=9 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd={} exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'{GS}UID=\"alice\" AUID=\"alice\"\n\
         type=USER_START msg=audit({}): pid=9 uid=0 auid=1000 ses=3 msg='op=PAM:session_open acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'{GS}UID=\"root\" AUID=\"alice\"\n",
        s(yesterday + 1000, 3),
        s(yesterday + 2000, 4),
        s(yesterday + 3000, 5),
        hex("systemctl stop auditd"),
        s(yesterday + 3001, 6),
    ));
    let out = scan_local(&env, &config);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = env
        .cmd(tool!("who-did"))
        .env("OPSKIT_CONFIG", &config)
        .args(["--report", "daily", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<(String, String, String)> = stdout(&out)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let f = |k: &str| v[k].as_str().unwrap_or("-").to_string();
            (f("section"), f("who"), f("what"))
        })
        .filter(|(section, ..)| section != "unreadable-log")
        .collect();
    let want = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        rows,
        [
            want("root-login", "root", "192.0.2.9"),
            want("failed-login", "203.0.113.7", "root"),
            want("sudo", "alice", "systemctl stop auditd"),
            // First seen yesterday: mallory, and root, who logged in as itself.
            want("new-person", "mallory", "-"),
            want("new-person", "root", "-"),
        ],
        "{}",
        stdout(&out)
    );
    // alice's exec of the day before is in no section; a catalog with nothing to report
    // prints nothing and exits 1, so cron mails nothing.
    assert!(!stdout(&out).contains("\"ls"), "{}", stdout(&out));
    let quiet = Env::new();
    let out = quiet.run(tool!("who-did"), &["--report", "daily"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}
