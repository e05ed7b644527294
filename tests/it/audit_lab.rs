//! The audit lab itself: that the auditd harness (`support::auditd`) drives the real kernel
//! audit subsystem and leaves the machine as it found it, and that the real actions (SSH
//! logins, sudo, su, watched files, binds) leave the raw records the audit-trail normaliser is
//! written against, in both log formats.
//!
//! `OPSKIT_WRITE_AUDIT_FIXTURES=1 cargo test --test it audit_lab` also writes the logs of the
//! real actions to `tests/it/fixtures/audit/debian12-actions.log` (ENRICHED) and
//! `debian12-actions-raw.log` (RAW), the committed copies of such a run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::auditd::{
    Action, ActionLog, Auditd, Flush, Kind, LogFormat, Options, audit_status, hold_kernel_audit,
    listed_rules, real_actions, status_field,
};

/// Records grouped into events by their `msg=audit(TIME:SERIAL)`, in order of first record.
fn events(text: &str) -> BTreeMap<&str, Vec<&str>> {
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(id) = event_id(line) {
            by_id.entry(id).or_default().push(line);
        }
    }
    by_id
}

fn event_id(line: &str) -> Option<&str> {
    let start = line.find("msg=audit(")? + "msg=audit(".len();
    let len = line[start..].find(')')?;
    Some(&line[start..start + len])
}

fn record_type(line: &str) -> &str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("type="))
        .unwrap_or("")
}

/// Writes `text` to `path` from a thread started now, once the daemon runs. The kernel decides
/// whether a task is audited when the task is created, and gives none an audit context until
/// auditing has been enabled once since boot (`audit_alloc`): on a fresh machine, the test's
/// own thread, started before the first daemon enabled auditing, is never audited, whatever
/// the rules say (seen: a watch that never fired for the test thread's write).
fn write_audited(path: &Path, text: &str) {
    let (path, text) = (path.to_path_buf(), text.to_string());
    std::thread::spawn(move || std::fs::write(path, text))
        .join()
        .unwrap()
        .unwrap();
}

#[test]
fn harness_rule_fires_from_any_namespace_rotates_and_is_removed() {
    let dir = tempfile::Builder::new()
        .prefix("opskit-audit-lab")
        .tempdir()
        .unwrap();
    let watched = dir.path().join("watched");
    std::fs::write(&watched, "").unwrap();
    // Debian's own flush mode: records are written at once, synced every `freq`.
    let mut auditd = Auditd::start_with(
        &dir.path().join("log"),
        Options {
            flush: Flush::IncrementalAsync { freq: 50 },
            ..Options::default()
        },
    );
    let enabled_before = auditd.enabled_before();
    let key = auditd.key("watch");
    assert!(key.starts_with(&format!("opskit-t{}-", std::process::id())));
    auditd.add_rule(&format!("-w {} -p wa -k {key}", watched.display()));
    assert!(auditd.rules().contains(&key), "{}", auditd.rules());

    // A rule with someone else's key would be left behind by drop: refused.
    let foreign = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        auditd.add_rule(&format!("-w {} -p r -k not-ours", watched.display()));
    }));
    assert!(
        foreign.is_err(),
        "a rule without the run's prefix was added"
    );

    let hits = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("type=SYSCALL") && l.contains(&format!("key=\"{key}\"")))
            .count()
    };
    write_audited(&watched, "from the test\n");
    auditd.wait_for("the write by the test process", |t| hits(t) >= 1);

    // From the namespaces a Fleet host lives in (and a network of its own): the same kernel
    // audits it, into the same log.
    let out = Command::new("unshare")
        .args(["--uts", "--mount", "--net", "--", "sh", "-c"])
        .arg("hostname elsewhere && echo from-elsewhere >> \"$0\"")
        .arg(&watched)
        .output()
        .unwrap();
    assert!(out.status.success(), "unshare: {out:?}");
    let text = auditd.wait_for("the write from other namespaces", |t| hits(t) >= 2);
    assert!(
        !text.contains("elsewhere\"") && !text.contains("node=elsewhere"),
        "a record names the namespace's hostname: the module doc is wrong"
    );

    auditd.rotate();
    assert_eq!(auditd.log_files().len(), 2, "{:?}", auditd.log_files());
    write_audited(&watched, "after rotation\n");
    let text = auditd.wait_for("the write after rotation", |t| hits(t) >= 3);
    assert!(text.contains("type=DAEMON_ROTATE"));
    let current = std::fs::read_to_string(auditd.log_file()).unwrap();
    assert_eq!(hits(&current), 1, "the new file holds the last write only");

    // A rules file, as `who-did --rules` will print one.
    let other = dir.path().join("other");
    std::fs::write(&other, "").unwrap();
    let file_key = auditd.key("from-file");
    let rules = dir.path().join("test.rules");
    std::fs::write(
        &rules,
        format!(
            "# a comment\n\n-w {} -p wa -k {file_key}\n",
            other.display()
        ),
    )
    .unwrap();
    auditd.load_rules_file(&rules);
    write_audited(&other, "x\n");
    auditd.wait_for("the write caught by the loaded rule", |t| {
        t.contains(&format!("key=\"{file_key}\""))
    });

    let pid = auditd.pid();
    let log_file = auditd.log_file().to_path_buf();
    drop(auditd);
    let _held = hold_kernel_audit();
    for k in [&key, &file_key] {
        assert!(
            !listed_rules().contains(k.as_str()),
            "rule {k} survived the harness:\n{}",
            listed_rules()
        );
    }
    let status = audit_status();
    assert_eq!(status_field(&status, "enabled"), enabled_before, "{status}");
    assert_eq!(status_field(&status, "pid"), 0, "{status}");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "auditd {pid} still runs"
    );
    let last = std::fs::read_to_string(log_file).unwrap();
    assert!(last.contains("type=DAEMON_END"), "{last}");
}

/// Runs the real actions under a daemon writing `format`, and checks every action's evidence.
fn real_actions_in(format: LogFormat, fixture: &str) -> ActionLog {
    let dir = tempfile::Builder::new()
        .prefix("opskit-audit-lab")
        .tempdir()
        .unwrap();
    let log = dir.path().join("log");
    let mut auditd = match format {
        LogFormat::Enriched => Auditd::start(&log),
        LogFormat::Raw => Auditd::start_with(
            &log,
            Options {
                format,
                ..Options::default()
            },
        ),
    };
    let prefix = auditd.prefix().to_string();
    let enabled_before = auditd.enabled_before();
    let done = real_actions(&mut auditd);
    assert!(
        auditd.log_files().len() >= 2,
        "the actions span a rotation: {:?}",
        auditd.log_files()
    );
    drop(auditd);
    let held = hold_kernel_audit();
    assert!(!listed_rules().contains(&prefix), "{}", listed_rules());
    assert_eq!(status_field(&audit_status(), "enabled"), enabled_before);
    drop(held);
    assert!(
        !Path::new(&format!("/home/{}", done.user)).exists(),
        "the test user's home is left"
    );
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert!(!passwd.contains(&done.user) && !passwd.contains(&done.other_user));

    let text = String::from_utf8_lossy(&done.log);
    match format {
        LogFormat::Enriched => assert!(text.contains('\x1d'), "no enriched fields"),
        LogFormat::Raw => assert!(!text.contains('\x1d'), "enriched fields in a RAW log"),
    }
    let by_event = events(&text);
    for action in &done.actions {
        eprintln!(
            "{:?} actor={} as={} what={} from={:?} success={} key={:?}",
            action.kind,
            action.actor,
            action.acting_as,
            action.what,
            action.from,
            action.success,
            action.key
        );
        assert_eq!(action.actor, done.user, "every action is the person's");
        let root = [Kind::Sudo, Kind::PrivilegedPortBind].contains(&action.kind);
        let su = action.kind == Kind::Su;
        assert_eq!(action.acting_as == "root", root, "{action:?}");
        assert_eq!(action.acting_as == done.other_user, su, "{action:?}");
        assert_eq!(action.from.is_some(), action.key.is_none(), "{action:?}");
        check(action, &by_event);
    }
    // The person's uid is the auid of everything after the login; the other's is what su
    // became.
    assert!(text.contains(&format!(" auid={} ", done.uid)));
    assert!(done.other_uid != done.uid);
    // The users' creation and deletion are account changes a report lists.
    for t in ["ADD_USER", "DEL_USER", "USER_CHAUTHTOK", "CONFIG_CHANGE"] {
        assert!(
            text.lines().any(|l| record_type(l) == t),
            "no {t} record in the log"
        );
    }
    if std::env::var_os("OPSKIT_WRITE_AUDIT_FIXTURES").is_some() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/fixtures/audit")
            .join(fixture);
        std::fs::write(path, &done.log).unwrap();
    }
    done
}

/// Every evidence of `action` is one record of its type holding all its strings, in an event
/// that also holds the record types it names.
#[track_caller]
fn check(action: &Action, by_event: &BTreeMap<&str, Vec<&str>>) {
    for evidence in &action.evidence {
        let found = by_event.values().any(|records| {
            records.iter().any(|line| {
                record_type(line) == evidence.record
                    && evidence.contains.iter().all(|s| line.contains(s.as_str()))
            }) && evidence
                .with
                .iter()
                .all(|t| records.iter().any(|line| record_type(line) == *t))
        });
        if !found {
            let candidates: Vec<&str> = by_event
                .values()
                .flatten()
                .filter(|l| record_type(l) == evidence.record)
                .copied()
                .collect();
            panic!(
                "{:?} {} ({}): no {} record with {:?} (and {:?} in its event); the {} records:\n{}",
                action.kind,
                action.what,
                if action.success { "success" } else { "failure" },
                evidence.record,
                evidence.contains,
                evidence.with,
                evidence.record,
                candidates.join("\n")
            );
        }
    }
}

#[test]
fn real_actions_leave_their_records_enriched() {
    let done = real_actions_in(LogFormat::Enriched, "debian12-actions.log");
    // The enriched part names the person where the raw part has numbers.
    let text = String::from_utf8_lossy(&done.log);
    assert!(
        text.contains(&format!("AUID=\"{}\"", done.user)),
        "no AUID name in the enriched fields"
    );
    assert!(text.contains("saddr_fam=inet laddr=127.0.0.1 lport="));
    normalised(&done, LogFormat::Enriched);
}

#[test]
fn real_actions_leave_their_records_raw() {
    let done = real_actions_in(LogFormat::Raw, "debian12-actions-raw.log");
    normalised(&done, LogFormat::Raw);
}

/// The label who-did gives a user of the actions: the name where the log names it (ENRICHED),
/// else `#uid` (the test users are deleted before the log is read).
fn label(done: &ActionLog, format: LogFormat, name: &str) -> String {
    if format == LogFormat::Enriched || name == "root" {
        return name.to_string();
    }
    let uid = if name == done.user {
        done.uid
    } else {
        done.other_uid
    };
    format!("#{uid}")
}

/// Whether who-did's `event` is what `action` should have become.
fn reports(
    event: &serde_json::Value,
    action: &Action,
    done: &ActionLog,
    format: LogFormat,
) -> bool {
    let field = |k: &str| event[k].as_str().unwrap_or("");
    let kind = match (action.kind, action.success) {
        (Kind::Login, _) => "login",
        (Kind::FailedLogin, _) => "failed-login",
        (Kind::Sudo, _) => "sudo",
        (Kind::Su, true) => "su",
        (Kind::Su, false) => "auth-failure",
        (Kind::Exec, _) => "exec",
        (Kind::FileWrite, _) => "write",
        (Kind::Delete, _) => "delete",
        (Kind::PrivilegedPortBind, _) => "bind",
    };
    // Accounts a PAM record names (acct="…") are names in any format; users the kernel logs
    // (euid) are named from the log's enrichment or the passwd.
    let acting_as = match action.kind {
        Kind::Login | Kind::FailedLogin | Kind::Su | Kind::Sudo => action.acting_as.clone(),
        _ => label(done, format, &action.acting_as),
    };
    let actor = match action.kind {
        // A failed login has no audit uid yet: the account tried is whom it was "as".
        Kind::FailedLogin => String::new(),
        _ => label(done, format, &action.actor),
    };
    let what_ok = match action.kind {
        Kind::Login | Kind::FailedLogin => field("exe").ends_with(&action.what),
        Kind::Exec => field("exe") == action.what,
        Kind::Su => true,
        _ => field("what") == action.what,
    };
    field("kind") == kind
        && field("user") == actor
        && field("as") == acting_as
        && what_ok
        && field("result") == if action.success { "success" } else { "failed" }
        && action.from.as_deref().is_none_or(|f| field("from") == f)
}

/// who-did reads the actions' log directly, through scan-hosts --local and over SSH, and
/// reports every action once, as what it was; a rescan adds nothing.
fn normalised(done: &ActionLog, format: LogFormat) {
    use crate::support::sshd::{Fleet, HostSpec, KnownHosts, Os};
    use crate::support::{Env, stderr, stdout, tool, write_config};
    let env = Env::new();
    let dir = env.dir.path().join("audit");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("audit.log"), &done.log).unwrap();
    let parse = |out: &std::process::Output| -> Vec<serde_json::Value> {
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(out));
        stdout(out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let check_all = |events: &[serde_json::Value], how: &str| {
        for action in &done.actions {
            let n = events
                .iter()
                .filter(|e| reports(e, action, done, format))
                .count();
            assert_eq!(
                n,
                1,
                "{how}: {action:?} is reported {n} times; the events:\n{}",
                events
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    };
    let fields = "kind,user,as,what,result,from,exe,serial,time,host";
    // Directly.
    let out = env
        .cmd(tool!("who-did"))
        .args(["--json", "-f", fields, "--passwd", "/etc/passwd", "--input"])
        .arg(dir.join("audit.log"))
        .output()
        .unwrap();
    let direct = parse(&out);
    check_all(&direct, "who-did --input");

    // Through scan-hosts --local, twice.
    let config = write_config(
        &env,
        &format!("[audit]\nlog = \"{}\"\n", dir.join("audit.log").display()),
    );
    let stored = |env: &Env| {
        parse(
            &env.cmd(tool!("who-did"))
                .env("OPSKIT_CONFIG", &config)
                .args(["--json", "-f", fields])
                .output()
                .unwrap(),
        )
    };
    // The kernel's last events may still be getting records when a scan reads them, and are
    // left for the next scan: wait until the newest is past that window.
    let newest = direct
        .iter()
        .filter_map(|e| e["time"].as_str())
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
        .max()
        .unwrap();
    while jiff::Timestamp::now() < newest + std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for scan in ["first scan", "rescan"] {
        let out = env
            .cmd(tool!("scan-hosts"))
            .env("OPSKIT_CONFIG", &config)
            .arg("--local")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{scan}: {}", stderr(&out));
        let events = stored(&env);
        assert_eq!(events.len(), direct.len(), "{scan}: stored once each");
        check_all(&events, scan);
    }

    // Over SSH, from a host whose /var/log/audit/audit.log it is, twice.
    let fleet = Fleet::start(vec![
        HostSpec::new("audited-9", Os::Debian12).file("/var/log/audit/audit.log", done.log.clone()),
    ]);
    let remote = Env::new();
    fleet.install_client(&remote.home, KnownHosts::Plain);
    let hosts = fleet.hosts_file([fleet.host("audited-9")]);
    for scan in ["first scan over SSH", "rescan over SSH"] {
        let out = remote
            .cmd(tool!("scan-hosts"))
            .arg("--hosts-file")
            .arg(&hosts)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{scan}: {}", stderr(&out));
        let events = parse(
            &remote
                .cmd(tool!("who-did"))
                .args(["--json", "-f", fields, "--host", "audited-9"])
                .output()
                .unwrap(),
        );
        assert_eq!(events.len(), direct.len(), "{scan}: stored once each");
        check_all(&events, scan);
    }
}

/// Runs `script` with `sh -c` as a logged-in process (audit uid `auid`): the recommended rules
/// leave daemons (no audit uid) out, so what a test does must look like a person's.
fn as_person(auid: u32, script: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("echo {auid} > /proc/self/loginuid && {script}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn who_did_rules_load_into_the_kernel_and_each_kind_of_rule_fires() {
    use crate::support::{Env, stderr, stdout, tool};
    let env = Env::new();
    let out = env.run(tool!("who-did"), &["--rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = tempfile::Builder::new()
        .prefix("opskit-audit-rules")
        .tempdir()
        .unwrap();
    let mut auditd = Auditd::start(&dir.path().join("log"));
    // The rules as printed, with this run's key prefix (the harness deletes only its own), so
    // `opskit-identity` becomes `<prefix>identity`: the kind still comes from the last word.
    let rules = stdout(&out).replace("-k opskit-", &format!("-k {}", auditd.prefix()));
    let file = dir.path().join("50-opskit.rules");
    std::fs::write(&file, &rules).unwrap();
    auditd.load_rules_file(&file);
    let loaded = auditd
        .rules()
        .lines()
        .filter(|l| l.contains(auditd.prefix()))
        .count();
    let written = rules.lines().filter(|l| l.starts_with('-')).count();
    assert_eq!(loaded, written, "every rule loads:\n{}", auditd.rules());

    // One action per kind of rule, each harmless: the same mode set again, a program's --help,
    // a file made and deleted in /etc, a bind below 1024, a module call that fails on a bad
    // descriptor, the clock read with adjtimex (modes 0) and settimeofday(NULL, NULL).
    let auid = 4242;
    let doomed = format!("/etc/opskit-rules-{}", std::process::id());
    as_person(
        auid,
        &format!(
            "chmod \"$(stat -c %a /etc/passwd)\" /etc/passwd && \
             chmod \"$(stat -c %a /etc/audit)\" /etc/audit && \
             /usr/sbin/useradd --help >/dev/null && \
             : > {doomed} && rm -f {doomed}"
        ),
    );
    as_person(
        auid,
        "python3 -c '
import ctypes, socket
for port in range(1000, 600, -1):
    s = socket.socket()
    try:
        s.bind((\"127.0.0.1\", port))
        break
    except OSError:
        s.close()
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall(313, -1, b\"\", 0)  # finit_module(-1): EBADF (x86_64)
buf = ctypes.create_string_buffer(512)
libc.adjtimex(buf)
libc.syscall(164, None, None)  # settimeofday(NULL, NULL): sets nothing (x86_64)
'",
    );
    let expected = [
        ("identity", "account"),
        ("audit-config", "audit-config"),
        ("exec", "exec"),
        ("delete", "delete"),
        ("bind", "bind"),
        ("modules", "module"),
        ("time", "time"),
    ];
    let keys: Vec<String> = expected.iter().map(|(k, _)| auditd.key(k)).collect();
    // A kernel record with each key (the CONFIG_CHANGE of loading a rule names its key too).
    auditd.wait_for("a syscall record of every rule key", |log| {
        keys.iter().all(|k| {
            let key = format!("key=\"{k}\"");
            log.lines()
                .any(|l| l.starts_with("type=SYSCALL") && l.contains(&key))
        })
    });
    let log = dir.path().join("copy.log");
    std::fs::write(&log, auditd.log_bytes()).unwrap();
    drop(auditd);

    let out = env
        .cmd(tool!("who-did"))
        .args(["--json", "-f", "kind,key,user,what", "--input"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for ((name, kind), key) in expected.iter().zip(&keys) {
        let fired: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| {
                e["key"]
                    .as_str()
                    .is_some_and(|k| k.split(',').any(|k| k == key))
            })
            .filter(|e| e["user"] == format!("#{auid}"))
            .collect();
        assert!(
            fired.iter().any(|e| e["kind"] == *kind),
            "rule {name}: no {kind} event by the person among {fired:?}; with the key: {:?}",
            events
                .iter()
                .filter(|e| e["key"].as_str().is_some_and(|k| k.contains(name)))
                .collect::<Vec<_>>()
        );
    }
    // The delete names the file deleted (the bind is a bind only below 1024).
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "delete" && e["what"] == doomed.as_str()),
        "no delete of {doomed}"
    );
}
