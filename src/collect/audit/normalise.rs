//! One event's records reduced to who did what, as whom, from where, with what result.
//!
//! The kind comes from the record types first (a USER_LOGIN is a login whatever else the
//! event holds; a CONFIG_CHANGE is an audit change even though auditctl's SYSCALL rides along),
//! then from the syscall's effect (execve, unlink, a bind below 1024…). Names come from the
//! log's own enrichment, which is what the host called the user at the time, else from the
//! host's passwd as scanned with the log.

use std::collections::HashMap;

use crate::model::audit::{Event, Kind, RAW_LIMIT, User, WHAT_LIMIT, bound};

use super::record::{Record, hex_decode};
use super::syscalls::{self, Effect};

/// The user and group names a host's passwd and group files give, for logs without
/// enrichment.
#[derive(Debug, Default, Clone)]
pub struct Names {
    users: HashMap<u32, String>,
}

impl Names {
    /// Names from passwd-format text (`name:x:uid:…` per line); lines that do not parse are
    /// skipped.
    pub fn from_passwd(text: &str) -> Names {
        let mut users = HashMap::new();
        for line in text.lines() {
            let mut parts = line.split(':');
            let (Some(name), Some(_), Some(uid)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let Ok(uid) = uid.parse::<u32>() {
                // The first entry wins, as getpwuid answers.
                users.entry(uid).or_insert_with(|| name.to_string());
            }
        }
        Names { users }
    }

    pub fn user(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }
}

/// What the normaliser needs to know about an event beyond the event itself: the process, and
/// for a PAM session or credential record the account it was for, so that a sudo command can
/// be given the user it ran as (sudo logs the command first, then opens the target's
/// session from the same process).
#[derive(Debug)]
pub struct Normalised {
    pub event: Event,
    pub pid: Option<u32>,
    /// Set for USER_START, CRED_ACQ and CRED_REFR records: the session's account.
    pub session_account: Option<User>,
}

/// Record type numbers for logs that write `UNKNOWN[1112]`-style types, and the names the
/// normaliser looks for.
fn type_name(rtype: &str) -> &str {
    if let Some(num) = rtype
        .strip_prefix("UNKNOWN[")
        .and_then(|r| r.strip_suffix(']'))
    {
        return match num {
            "1100" => "USER_AUTH",
            "1112" => "USER_LOGIN",
            "1113" => "USER_LOGOUT",
            "1123" => "USER_CMD",
            "1105" => "USER_START",
            _ => rtype,
        };
    }
    rtype
}

/// Normalises one event's records (all with the same stamp, in log order).
pub fn normalise(records: &[Record<'_>], names: &Names) -> Normalised {
    let first = &records[0];
    let types: Vec<String> = records.iter().map(|r| r.rtype().to_string()).collect();
    let has = |t: &str| types.iter().any(|x| type_name(x) == t);
    let find = |t: &str| records.iter().find(|r| type_name(r.rtype()) == t);
    let syscall = find("SYSCALL");
    // The record that speaks for the event: the user-space message if there is one, else the
    // syscall, else the first.
    let user_msg = records
        .iter()
        .find(|r| is_user_message(type_name(r.rtype())));
    let main = user_msg.or(syscall).unwrap_or(first);

    let actor = user(main, "auid", "AUID", names);
    let process_user = user(main, "uid", "UID", names);
    let mut acting_as = match syscall {
        Some(s) if user_msg.is_none() => user(s, "euid", "EUID", names),
        _ => user(main, "uid", "UID", names),
    };
    let account = account(main, names);
    let exe = main
        .text("exe")
        .or_else(|| syscall.and_then(|s| s.text("exe")));
    let success = success(main).or_else(|| syscall.and_then(success));
    let session = main.id("ses");
    let terminal = main
        .text("terminal")
        .or_else(|| main.text("tty"))
        .filter(|t| t != "(none)");
    let addr = main.text("addr").or_else(|| {
        main.text("hostname")
            .filter(|h| h.parse::<std::net::IpAddr>().is_ok())
    });
    let key = records
        .iter()
        .find_map(|r| r.text("key"))
        .filter(|k| k != "(null)");
    let pid = main.id("pid");

    let mut what = None;
    let mut session_account = None;
    let kind = if has("USER_LOGIN") && success == Some(false) {
        what = account.as_ref().and_then(User::label);
        if let Some(a) = &account {
            acting_as = a.clone();
        }
        Kind::FailedLogin
    } else if has("USER_START") && exe.as_deref().is_some_and(is_login_program) {
        // A login is the session a login program opens: sshd writes a successful USER_LOGIN
        // only for sessions with a terminal (`ssh host command` has none), and always this.
        what = account.as_ref().and_then(User::label);
        if let Some(a) = &account {
            acting_as = a.clone();
        }
        Kind::Login
    } else if has("USER_LOGIN") {
        // The terminal's record of a login whose session start is the login event above.
        what = account.as_ref().and_then(User::label);
        if let Some(a) = &account {
            acting_as = a.clone();
        }
        Kind::Other
    } else if has("USER_LOGOUT") {
        if let Some(a) = &account {
            acting_as = a.clone();
        }
        Kind::Logout
    } else if has("USER_AUTH") || has("GRP_AUTH") {
        if let Some(a) = &account {
            acting_as = a.clone();
        }
        what = exe.clone();
        if success == Some(false) {
            Kind::AuthFailure
        } else {
            Kind::Auth
        }
    } else if has("USER_CMD") {
        what = main.text("cmd");
        // The target comes from the session sudo opens next (see `Normalised`).
        acting_as = User::default();
        Kind::Sudo
    } else if has("USER_START") && exe.as_deref().is_some_and(is_su) {
        if let Some(a) = &account {
            acting_as = a.clone();
            what = a.label();
        }
        Kind::Su
    } else if [
        "ADD_USER",
        "DEL_USER",
        "ADD_GROUP",
        "DEL_GROUP",
        "USER_CHAUTHTOK",
    ]
    .iter()
    .chain(&[
        "USER_MGMT",
        "GRP_MGMT",
        "ACCT_LOCK",
        "ACCT_UNLOCK",
        "GRP_CHAUTHTOK",
    ])
    .chain(&[
        "ROLE_ASSIGN",
        "ROLE_REMOVE",
        "USER_ROLE_CHANGE",
        "CHUSER_ID",
        "CHGRP_ID",
    ])
    .any(|t| has(t))
    {
        let op = main.text("op");
        let target = account.as_ref().and_then(User::label);
        what = match (op, target) {
            (Some(op), Some(t)) => Some(format!("{op} {t}")),
            (op, t) => op.or(t),
        };
        if let Some(a) = &account {
            acting_as = a.clone();
        }
        Kind::Account
    } else if [
        "CONFIG_CHANGE",
        "DAEMON_CONFIG",
        "USYS_CONFIG",
        "FEATURE_CHANGE",
    ]
    .iter()
    .any(|t| has(t))
    {
        let change = find("CONFIG_CHANGE")
            .or(find("USYS_CONFIG"))
            .unwrap_or(main);
        what = describe_config_change(change);
        Kind::AuditConfig
    } else if has("KERN_MODULE") {
        what = find("KERN_MODULE").and_then(|r| r.text("name"));
        Kind::Module
    } else if let Some(s) = syscall {
        // A rule key that names a kind says more than the syscall: a write to /etc/passwd is
        // an account change (see `rules`).
        let kind = key
            .as_deref()
            .and_then(super::rules::kind_of_key)
            .unwrap_or_else(|| syscall_kind(s, records));
        what = match kind {
            Kind::Exec => command_line(records),
            Kind::Bind => bound_address(records).map(|(a, _)| a),
            Kind::Module => records
                .iter()
                .find(|r| r.rtype == b"KERN_MODULE")
                .and_then(|r| r.text("name"))
                .or_else(|| file_path(records)),
            Kind::Time => file_path(records),
            _ => file_path(records),
        };
        kind
    } else {
        Kind::Other
    };

    if matches!(
        type_name(main.rtype()),
        "USER_START" | "CRED_ACQ" | "CRED_REFR"
    ) {
        session_account = account.clone();
    }

    Normalised {
        event: Event {
            time_ms: first.time_ms,
            serial: first.serial,
            node: first.node.map(|n| String::from_utf8_lossy(n).into_owned()),
            kind,
            actor,
            acting_as,
            uid: process_user,
            what: what.map(|w| bound(w, WHAT_LIMIT)),
            exe,
            addr,
            terminal,
            session,
            success,
            key,
            record_types: types,
            raw: raw_text(records),
        },
        pid,
        session_account,
    }
}

/// User-space messages (1100–1299 and 2100–2999) carry their own subject and result.
pub(super) fn is_user_message(t: &str) -> bool {
    t.starts_with("USER_")
        || t.starts_with("CRED_")
        || t.starts_with("ANOM_LOGIN")
        || matches!(
            t,
            "ADD_USER"
                | "DEL_USER"
                | "ADD_GROUP"
                | "DEL_GROUP"
                | "GRP_AUTH"
                | "GRP_MGMT"
                | "GRP_CHAUTHTOK"
                | "ACCT_LOCK"
                | "ACCT_UNLOCK"
                | "CHUSER_ID"
                | "CHGRP_ID"
                | "USYS_CONFIG"
                | "ROLE_ASSIGN"
                | "ROLE_REMOVE"
                | "SYSTEM_BOOT"
                | "SYSTEM_SHUTDOWN"
                | "SERVICE_START"
                | "SERVICE_STOP"
        )
}

fn is_su(exe: &str) -> bool {
    exe.rsplit('/').next() == Some("su")
}

/// Programs whose PAM session is a person logging in (not sudo, su, cron or systemd --user).
fn is_login_program(exe: &str) -> bool {
    matches!(
        exe.rsplit('/').next(),
        Some(
            "sshd"
                | "login"
                | "gdm-session-worker"
                | "lightdm"
                | "sddm-helper"
                | "xrdp-sesman"
                | "cockpit-session"
                | "dropbear"
        )
    )
}

/// A user field with its name: the enriched value (`AUID="alice"`), else the host's passwd.
fn user(r: &Record<'_>, field: &str, enriched: &str, names: &Names) -> User {
    let uid = r.id(field);
    let name = r
        .enriched(enriched)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        // auditd writes unknown(UID) for a uid it could not name (a user added a moment before).
        .filter(|n| n != "unset" && !n.starts_with("unknown(") && !n.is_empty() && uid.is_some())
        .or_else(|| uid.and_then(|u| names.user(u)).map(str::to_string));
    User { uid, name }
}

/// The account a user-space message is about: `acct="alice"` or `id=1000`.
fn account(r: &Record<'_>, names: &Names) -> Option<User> {
    if let Some(name) = r.text("acct") {
        let uid = r.id("id");
        return Some(User {
            uid,
            name: Some(name),
        });
    }
    let uid = r.id("id")?;
    let name = r
        .enriched("ID")
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .filter(|n| !n.starts_with("unknown") && !n.is_empty())
        .or_else(|| names.user(uid).map(str::to_string));
    Some(User {
        uid: Some(uid),
        name,
    })
}

/// `success=yes|no` (syscalls) or `res=success|failed|1|0` (user messages and config changes).
fn success(r: &Record<'_>) -> Option<bool> {
    let v = r.text("success").or_else(|| r.text("res"))?;
    match v.as_str() {
        "yes" | "success" | "1" => Some(true),
        "no" | "failed" | "0" => Some(false),
        _ => None,
    }
}

/// The syscall's name: the enrichment's, else the table's.
fn syscall_name(s: &Record<'_>) -> Option<String> {
    if let Some(n) = s.enriched("SYSCALL") {
        return Some(String::from_utf8_lossy(n).into_owned());
    }
    let arch = s.hex_number("arch")?;
    let number = u64::try_from(s.number("syscall")?).ok()?;
    syscalls::name(arch, number).map(str::to_string)
}

fn syscall_kind(s: &Record<'_>, records: &[Record<'_>]) -> Kind {
    let Some(name) = syscall_name(s) else {
        return Kind::Other;
    };
    match syscalls::effect(&name) {
        Some(Effect::Exec) => Kind::Exec,
        Some(Effect::Write) => Kind::Write,
        Some(Effect::Attr) => Kind::Attr,
        Some(Effect::Delete) => Kind::Delete,
        Some(Effect::Rename) => Kind::Write,
        Some(Effect::Module) => Kind::Module,
        Some(Effect::Time) => Kind::Time,
        Some(Effect::Open) => {
            let writes = syscalls::open_flags_argument(&name)
                .and_then(|a| s.hex_number(a))
                .is_some_and(syscalls::open_flags_write);
            // openat2 passes its flags in a struct the log does not show: a created file
            // says it wrote.
            let created = paths(records).any(|(_, t)| t.as_deref() == Some("CREATE"));
            if writes || created {
                Kind::Write
            } else {
                Kind::Other
            }
        }
        Some(Effect::Bind) => match bound_address(records) {
            Some((_, port)) if port < 1024 => Kind::Bind,
            _ => Kind::Other,
        },
        None => Kind::Other,
    }
}

/// The PATH records' names and name types, with relative names made absolute from CWD.
fn paths<'r>(records: &'r [Record<'r>]) -> impl Iterator<Item = (String, Option<String>)> + 'r {
    let cwd = records
        .iter()
        .find(|r| r.rtype == b"CWD")
        .and_then(|r| r.text("cwd"));
    records
        .iter()
        .filter(|r| r.rtype == b"PATH")
        .filter_map(move |r| {
            let name = r.text("name")?;
            let name = match (&cwd, name.starts_with('/')) {
                (Some(c), false) => format!("{}/{}", c.trim_end_matches('/'), name),
                _ => name,
            };
            Some((name, r.text("nametype")))
        })
}

/// The file an event acted on: a deleted or created name first, then any that is not a parent
/// directory, then any.
fn file_path(records: &[Record<'_>]) -> Option<String> {
    let all: Vec<(String, Option<String>)> = paths(records).collect();
    let with = |t: &str| {
        all.iter()
            .find(|(_, nt)| nt.as_deref() == Some(t))
            .map(|(n, _)| n.clone())
    };
    with("CREATE")
        .or_else(|| with("DELETE"))
        .or_else(|| {
            all.iter()
                .find(|(_, nt)| nt.as_deref() != Some("PARENT"))
                .map(|(n, _)| n.clone())
        })
        .or_else(|| all.first().map(|(n, _)| n.clone()))
}

/// The command line from EXECVE (`a0`, `a1`…, long ones split as `a1[0]`, `a1[1]`…), else
/// PROCTITLE. Arguments holding spaces or quotes are shell-quoted so the line reads back.
fn command_line(records: &[Record<'_>]) -> Option<String> {
    if let Some(e) = records.iter().find(|r| r.rtype == b"EXECVE") {
        let argc = e.number("argc").unwrap_or(0).clamp(0, 100_000);
        let mut line = String::new();
        for i in 0..argc {
            let arg = match e.text(&format!("a{i}")) {
                Some(a) => a,
                None => {
                    // Split argument: a{i}[0], a{i}[1]… each hex or quoted.
                    let mut joined = String::new();
                    let mut j = 0;
                    while let Some(part) = e.raw(&format!("a{i}[{j}]")) {
                        match hex_decode(part) {
                            Some(b) => joined.push_str(&String::from_utf8_lossy(&b)),
                            None => {
                                joined.push_str(String::from_utf8_lossy(part).trim_matches('"'))
                            }
                        }
                        j += 1;
                    }
                    if j == 0 {
                        // The kernel cut the record short: what it logged is all there is.
                        break;
                    }
                    joined
                }
            };
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&quote_argument(&arg));
            if line.len() > WHAT_LIMIT {
                break;
            }
        }
        if !line.is_empty() {
            return Some(line);
        }
    }
    records
        .iter()
        .find(|r| r.rtype == b"PROCTITLE")
        .and_then(|r| r.text("proctitle"))
}

fn quote_argument(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"'\"\\$`;&|<>(){}*?[]#~!".contains(&b))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The address a SOCKADDR record holds, as `addr:port`, and the port: IPv4 (family 2) and
/// IPv6 (family 10) only.
fn bound_address(records: &[Record<'_>]) -> Option<(String, u16)> {
    let raw = records
        .iter()
        .find(|r| r.rtype == b"SOCKADDR")?
        .raw("saddr")?;
    let bytes = hex_decode(raw)?;
    let family = u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]);
    let port = u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]);
    match family {
        2 => {
            let a: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            Some((format!("{}:{port}", std::net::Ipv4Addr::from(a)), port))
        }
        10 => {
            let a: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            Some((format!("[{}]:{port}", std::net::Ipv6Addr::from(a)), port))
        }
        _ => None,
    }
}

/// What a CONFIG_CHANGE or USYS_CONFIG record says changed: `add_rule key=…`,
/// `set audit_enabled=0 (was 1)`.
fn describe_config_change(r: &Record<'_>) -> Option<String> {
    let op = r.text("op");
    let key = r.text("key").filter(|k| k != "(null)");
    if let Some(v) = r.text("audit_enabled") {
        let old = r
            .text("old")
            .map(|o| format!(" (was {o})"))
            .unwrap_or_default();
        return Some(format!("audit_enabled={v}{old}"));
    }
    match (op, key) {
        (Some(op), Some(k)) => Some(format!("{op} key={k}")),
        (op, k) => op.or(k.map(|k| format!("key={k}"))),
    }
}

/// The raw records, joined and bounded.
fn raw_text(records: &[Record<'_>]) -> String {
    let mut out = String::new();
    for r in records {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&r.line_text());
        if out.len() > RAW_LIMIT {
            break;
        }
    }
    bound(out, RAW_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<Normalised> {
        let names = Names::from_passwd("root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n");
        let records: Vec<Record<'_>> = text
            .lines()
            .map(|l| Record::parse(l.as_bytes()).unwrap())
            .collect();
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=records.len() {
            if i == records.len() || records[i].serial != records[start].serial {
                out.push(normalise(&records[start..i], &names));
                start = i;
            }
        }
        out
    }

    #[test]
    fn an_exec_with_split_and_hex_arguments() {
        let e = &events(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=1000 uid=0 euid=0 ses=2 tty=pts0 exe=\"/usr/bin/rm\" key=\"exec\"\n\
             type=EXECVE msg=audit(10.000:1): argc=3 a0=\"rm\" a1=\"-rf\" a2_len=6 a2[0]=2F6574 a2[1]=\"c/x y\"\n\
             type=CWD msg=audit(10.000:1): cwd=\"/root\"",
        )[0]
        .event;
        assert_eq!(e.kind, Kind::Exec);
        assert_eq!(e.what.as_deref(), Some("rm -rf '/etc/x y'"));
        assert_eq!(e.actor.label().as_deref(), Some("alice"));
        assert_eq!(e.acting_as.label().as_deref(), Some("root"));
        assert_eq!(e.success, Some(true));
        assert_eq!(e.terminal.as_deref(), Some("pts0"));
        assert_eq!(e.key.as_deref(), Some("exec"));
    }

    #[test]
    fn a_delete_names_the_deleted_path_from_cwd() {
        let e = &events(
            "type=SYSCALL msg=audit(10.000:2): arch=c000003e syscall=263 success=yes exit=0 auid=1000 uid=1000 euid=1000 exe=\"/usr/bin/rm\"\n\
             type=CWD msg=audit(10.000:2): cwd=\"/srv/data\"\n\
             type=PATH msg=audit(10.000:2): item=0 name=\"/srv/data\" nametype=PARENT\n\
             type=PATH msg=audit(10.000:2): item=1 name=\"precious\" nametype=DELETE",
        )[0]
        .event;
        assert_eq!(e.kind, Kind::Delete);
        assert_eq!(e.what.as_deref(), Some("/srv/data/precious"));
    }

    #[test]
    fn a_privileged_bind_and_an_unprivileged_one() {
        // 127.0.0.1:7 and 0.0.0.0:8080.
        let low = &events(
            "type=SYSCALL msg=audit(10.000:3): arch=c000003e syscall=49 success=yes exit=0 auid=1000 uid=0 euid=0\n\
             type=SOCKADDR msg=audit(10.000:3): saddr=020000077F0000010000000000000000",
        )[0]
        .event;
        assert_eq!(low.kind, Kind::Bind);
        assert_eq!(low.what.as_deref(), Some("127.0.0.1:7"));
        let high = &events(
            "type=SYSCALL msg=audit(10.000:4): arch=c000003e syscall=49 success=yes exit=0 auid=1000 uid=0 euid=0\n\
             type=SOCKADDR msg=audit(10.000:4): saddr=02001F90000000000000000000000000",
        )[0]
        .event;
        assert_eq!(high.kind, Kind::Other);
    }

    #[test]
    fn logins_and_failures_name_the_account() {
        let ev = events(
            "type=USER_LOGIN msg=audit(10.000:5): pid=9 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=192.0.2.7 addr=192.0.2.7 terminal=ssh res=success'\n\
             type=USER_LOGIN msg=audit(11.000:6): pid=9 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"mallory\" exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.9 terminal=ssh res=failed'",
        );
        let ok = &ev[0].event;
        assert_eq!(
            ok.kind,
            Kind::Other,
            "a terminal's USER_LOGIN; the login is the session"
        );
        assert_eq!(ok.actor.label().as_deref(), Some("alice"));
        assert_eq!(ok.acting_as.label().as_deref(), Some("alice"));
        assert_eq!(ok.addr.as_deref(), Some("192.0.2.7"));
        let bad = &ev[1].event;
        assert_eq!(bad.kind, Kind::FailedLogin);
        assert_eq!(bad.actor, User::default());
        assert_eq!(bad.acting_as.label().as_deref(), Some("mallory"));
        assert_eq!(bad.success, Some(false));
    }

    #[test]
    fn a_login_is_the_session_a_login_program_opens() {
        // `ssh host command`: no USER_LOGIN, only the session sshd opens.
        let ev = events(
            "type=USER_START msg=audit(10.000:9): pid=9 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=192.0.2.7 addr=192.0.2.7 terminal=ssh res=success'\n\
             type=USER_START msg=audit(11.000:10): pid=10 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"root\" exe=\"/usr/sbin/cron\" hostname=? addr=? terminal=cron res=success'",
        );
        assert_eq!(ev[0].event.kind, Kind::Login);
        assert_eq!(ev[0].event.acting_as.label().as_deref(), Some("alice"));
        assert_eq!(ev[0].event.addr.as_deref(), Some("192.0.2.7"));
        assert_eq!(
            ev[1].event.kind,
            Kind::Other,
            "cron's session is nobody logging in"
        );
    }

    #[test]
    fn a_config_change_beats_its_syscall() {
        let e = &events(
            "type=CONFIG_CHANGE msg=audit(10.000:7): auid=1000 ses=2 op=remove_rule key=\"watch\" list=4 res=1\n\
             type=SYSCALL msg=audit(10.000:7): arch=c000003e syscall=44 success=yes exit=0 auid=1000 uid=0 euid=0 exe=\"/usr/sbin/auditctl\"",
        )[0]
        .event;
        assert_eq!(e.kind, Kind::AuditConfig);
        assert_eq!(e.what.as_deref(), Some("remove_rule key=watch"));
        assert_eq!(e.actor.label().as_deref(), Some("alice"));
    }

    #[test]
    fn sizes_are_bounded() {
        let long = "a".repeat(3 * RAW_LIMIT);
        let e = &events(&format!(
            "type=SYSCALL msg=audit(10.000:8): arch=c000003e syscall=59 success=yes auid=0 uid=0 euid=0\n\
             type=EXECVE msg=audit(10.000:8): argc=2 a0=\"x\" a1=\"{long}\""
        ))[0]
        .event;
        assert!(e.raw.len() <= RAW_LIMIT + 3, "{}", e.raw.len());
        assert!(e.what.as_ref().unwrap().len() <= WHAT_LIMIT + 3);
    }

    fn one(text: &str) -> Event {
        events(text).remove(0).event
    }

    #[test]
    fn a_setuid_program_acts_as_its_effective_user() {
        // alice runs passwd: the process is hers, the program runs as root.
        let e = one(
            "type=SYSCALL msg=audit(1700000000.123:200): arch=c000003e syscall=59 success=yes exit=0 a0=55d1 a1=55d2 a2=55d3 a3=0 items=2 ppid=1000 pid=1234 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"passwd\" exe=\"/usr/bin/passwd\" key=(null)\n\
             type=EXECVE msg=audit(1700000000.123:200): argc=1 a0=\"passwd\"\n\
             type=PROCTITLE msg=audit(1700000000.123:200): proctitle=\"passwd\"",
        );
        assert_eq!(e.kind, Kind::Exec);
        assert_eq!(e.time_ms, 1_700_000_000_123);
        assert_eq!(e.serial, 200);
        assert_eq!(e.actor.label().as_deref(), Some("alice"));
        assert_eq!(e.uid.label().as_deref(), Some("alice"));
        assert_eq!(e.acting_as.label().as_deref(), Some("root"));
        assert_eq!(e.exe.as_deref(), Some("/usr/bin/passwd"));
        assert_eq!(e.session, Some(3));
        assert_eq!(e.key, None, "key=(null) is no key");
        assert_eq!(e.record_types, ["SYSCALL", "EXECVE", "PROCTITLE"]);
        assert_eq!(
            e.raw,
            "type=SYSCALL msg=audit(1700000000.123:200): arch=c000003e syscall=59 success=yes exit=0 a0=55d1 a1=55d2 a2=55d3 a3=0 items=2 ppid=1000 pid=1234 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"passwd\" exe=\"/usr/bin/passwd\" key=(null)\n\
             type=EXECVE msg=audit(1700000000.123:200): argc=1 a0=\"passwd\"\n\
             type=PROCTITLE msg=audit(1700000000.123:200): proctitle=\"passwd\""
        );
    }

    #[test]
    fn a_user_message_speaks_for_its_event_even_with_a_syscall() {
        // A user-space message logged with the syscall that sent it (a rule auditing sendto):
        // the message's process user is whom it acted as, not the syscall's effective user.
        let e = one(
            "type=USER_ACCT msg=audit(10.000:1): pid=42 uid=1000 auid=1000 ses=3 msg='op=PAM:accounting grantors=pam_unix acct=\"alice\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'\n\
             type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=44 success=yes exit=200 a0=5 auid=1000 uid=1000 euid=0 ses=3 comm=\"sudo\" exe=\"/usr/bin/sudo\"",
        );
        assert_eq!(e.kind, Kind::Other);
        assert_eq!(e.acting_as.label().as_deref(), Some("alice"));
        assert_eq!(e.record_types, ["USER_ACCT", "SYSCALL"]);
    }

    #[test]
    fn raw_logs_name_user_messages_by_number() {
        let ev = events(
            "type=UNKNOWN[1100] msg=audit(10.000:1): pid=9 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=? acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=198.51.100.9 addr=198.51.100.9 terminal=ssh res=failed'\n\
             type=UNKNOWN[1112] msg=audit(10.000:2): pid=9 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.9 terminal=ssh res=failed'\n\
             type=UNKNOWN[1105] msg=audit(10.000:3): pid=9 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=192.0.2.7 addr=192.0.2.7 terminal=ssh res=success'\n\
             type=UNKNOWN[1123] msg=audit(10.000:4): pid=42 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd=\"true\" exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\n\
             type=UNKNOWN[1113] msg=audit(10.000:5): pid=9 uid=0 auid=1000 ses=3 msg='op=logout id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=? terminal=/dev/pts/0 res=success'\n\
             type=UNKNOWN[1999] msg=audit(10.000:6): pid=9 uid=0 auid=1000 ses=3 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" res=failed'",
        );
        let kinds: Vec<Kind> = ev.iter().map(|n| n.event.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::AuthFailure,
                Kind::FailedLogin,
                Kind::Login,
                Kind::Sudo,
                Kind::Logout,
                Kind::Other
            ]
        );
        assert_eq!(ev[0].event.what.as_deref(), Some("/usr/sbin/sshd"));
        assert_eq!(ev[1].event.what.as_deref(), Some("alice"));
        assert_eq!(
            ev[2]
                .session_account
                .as_ref()
                .and_then(User::label)
                .as_deref(),
            Some("alice")
        );
        assert_eq!(ev[3].event.what.as_deref(), Some("true"));
        assert_eq!(ev[4].event.acting_as.label().as_deref(), Some("alice"));
        assert_eq!(ev[5].event.record_types, ["UNKNOWN[1999]"]);
    }

    #[test]
    fn authentication_and_logout() {
        let ev = events(
            "type=USER_AUTH msg=audit(10.000:1): pid=42 uid=1000 auid=1000 ses=3 msg='op=PAM:authentication grantors=pam_unix acct=\"alice\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'\n\
             type=USER_AUTH msg=audit(10.000:2): pid=42 uid=1000 auid=1000 ses=3 msg='op=PAM:authentication grantors=? acct=\"alice\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=failed'\n\
             type=GRP_AUTH msg=audit(10.000:3): pid=50 uid=1000 auid=1000 ses=3 msg='op=changing-group acct=\"alice\" exe=\"/usr/bin/newgrp\" hostname=? addr=? terminal=pts/0 res=success'\n\
             type=USER_LOGOUT msg=audit(10.000:4): pid=9 uid=0 auid=1000 ses=3 msg='op=logout id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=? terminal=/dev/pts/0 res=success'",
        );
        let rows: Vec<(Kind, Option<bool>, Option<String>)> = ev
            .iter()
            .map(|n| (n.event.kind, n.event.success, n.event.acting_as.label()))
            .collect();
        assert_eq!(
            rows,
            [
                (Kind::Auth, Some(true), Some("alice".into())),
                (Kind::AuthFailure, Some(false), Some("alice".into())),
                (Kind::Auth, Some(true), Some("alice".into())),
                (Kind::Logout, Some(true), Some("alice".into())),
            ]
        );
        assert_eq!(ev[2].event.what.as_deref(), Some("/usr/bin/newgrp"));
        assert_eq!(ev[3].event.terminal.as_deref(), Some("/dev/pts/0"));
        assert_eq!(ev[3].event.what, None);
        // The account of a logout by id, named from passwd.
        assert_eq!(ev[3].event.acting_as.uid, Some(1000));
    }

    #[test]
    fn su_is_the_session_su_opens() {
        let ev = events(
            "type=USER_START msg=audit(10.000:1): pid=77 uid=1000 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_keyinit,pam_limits,pam_unix acct=\"root\" exe=\"/usr/bin/su\" hostname=? addr=? terminal=pts/0 res=success'\n\
             type=USER_START msg=audit(10.000:2): pid=78 uid=1000 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"root\" exe=\"/usr/local/bin/sux\" hostname=? addr=? terminal=pts/0 res=success'",
        );
        assert_eq!(ev[0].event.kind, Kind::Su);
        assert_eq!(ev[0].event.what.as_deref(), Some("root"));
        assert_eq!(ev[0].event.acting_as.label().as_deref(), Some("root"));
        assert_eq!(ev[0].event.actor.label().as_deref(), Some("alice"));
        assert_eq!(ev[1].event.kind, Kind::Other, "not su");
        assert_eq!(ev[1].event.what, None);
    }

    #[test]
    fn only_login_programs_open_logins() {
        for (exe, kind) in [
            ("/usr/sbin/sshd", Kind::Login),
            ("/bin/login", Kind::Login),
            ("/usr/libexec/gdm-session-worker", Kind::Login),
            ("/usr/sbin/lightdm", Kind::Login),
            ("/usr/lib/x86_64-linux-gnu/sddm/sddm-helper", Kind::Login),
            ("/usr/sbin/xrdp-sesman", Kind::Login),
            ("/usr/libexec/cockpit-session", Kind::Login),
            ("/usr/sbin/dropbear", Kind::Login),
            ("/usr/sbin/sshd-wrapper", Kind::Other),
            ("/usr/lib/systemd/systemd", Kind::Other),
        ] {
            let e = one(&format!(
                "type=USER_START msg=audit(10.000:1): pid=9 uid=0 auid=1000 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"alice\" exe=\"{exe}\" hostname=? addr=? terminal=tty1 res=success'"
            ));
            assert_eq!(e.kind, kind, "{exe}");
        }
    }

    #[test]
    fn names_come_from_the_enrichment_else_from_passwd() {
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=1001 uid=1002 euid=1003 ses=4 exe=\"/usr/bin/id\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"bob\" UID=\"unknown(1002)\" EUID=\"\"",
        );
        assert_eq!(
            e.actor,
            User {
                uid: Some(1001),
                name: Some("bob".into())
            }
        );
        assert_eq!(
            e.uid,
            User {
                uid: Some(1002),
                name: None
            }
        );
        assert_eq!(
            e.acting_as,
            User {
                uid: Some(1003),
                name: None
            }
        );
        // An unset id has no name, whatever the enrichment says.
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=4294967295 uid=0 euid=0 exe=\"/usr/bin/id\"\x1dAUID=\"unset\" UID=\"root\" EUID=\"root\"",
        );
        assert_eq!(e.actor, User::default());
        assert_eq!(e.uid.label().as_deref(), Some("root"));
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=-1 uid=1000 euid=1000 exe=\"/usr/bin/id\"\x1dAUID=\"alice\" UID=\"alice\" EUID=\"alice\"",
        );
        assert_eq!(e.actor, User::default());
        // The enrichment's name beats passwd's (the host's name at the time).
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=1000 uid=1000 euid=1000 exe=\"/usr/bin/id\"\x1dAUID=\"alice2\" UID=\"alice2\" EUID=\"alice2\"",
        );
        assert_eq!(e.actor.name.as_deref(), Some("alice2"));
        assert_eq!(e.uid.name.as_deref(), Some("alice2"));
        // "unknown(…)" and empty: passwd's name.
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=1000 uid=0 euid=0 exe=\"/usr/bin/id\"\x1dAUID=\"unknown(1000)\" UID=\"\" EUID=\"root\"",
        );
        assert_eq!(e.actor.name.as_deref(), Some("alice"));
        assert_eq!(e.uid.name.as_deref(), Some("root"));
    }

    #[test]
    fn account_changes_name_the_account() {
        let ev = events(
            "type=ADD_USER msg=audit(10.000:1): pid=3000 uid=0 auid=1000 ses=3 msg='op=add-user id=1001 exe=\"/usr/sbin/useradd\" hostname=web-1 addr=? terminal=pts/0 res=success'\x1dUID=\"root\" AUID=\"alice\" ID=\"bob\"\n\
             type=USER_MGMT msg=audit(10.000:2): pid=3001 uid=0 auid=1000 ses=3 msg='op=changing-password acct=\"bob\" exe=\"/usr/bin/passwd\" hostname=? addr=? terminal=pts/0 res=success'\n\
             type=DEL_USER msg=audit(10.000:3): pid=3002 uid=0 auid=1000 ses=3 msg='op=delete-user id=1001 exe=\"/usr/sbin/userdel\" hostname=web-1 addr=? terminal=pts/0 res=success'\x1dID=\"unknown(1001)\"\n\
             type=ACCT_LOCK msg=audit(10.000:4): pid=3003 uid=0 auid=1000 ses=3 msg='op=locking-account id=0 exe=\"/usr/sbin/usermod\" res=success'\n\
             type=CHGRP_ID msg=audit(10.000:5): pid=3004 uid=0 auid=1000 ses=3 msg='exe=\"/usr/bin/newgrp\" res=success'",
        );
        let rows: Vec<(Kind, Option<&str>)> = ev
            .iter()
            .map(|n| (n.event.kind, n.event.what.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                (Kind::Account, Some("add-user bob")),
                (Kind::Account, Some("changing-password bob")),
                (Kind::Account, Some("delete-user #1001")),
                (Kind::Account, Some("locking-account root")),
                (Kind::Account, None),
            ]
        );
        assert_eq!(
            ev[0].event.acting_as,
            User {
                uid: Some(1001),
                name: Some("bob".into())
            }
        );
        assert_eq!(ev[1].event.acting_as.uid, None);
        // Not a session: no account for a sudo to take.
        assert!(ev.iter().all(|n| n.session_account.is_none()));
    }

    #[test]
    fn audit_configuration_changes() {
        let ev = events(
            "type=CONFIG_CHANGE msg=audit(10.000:1): op=set audit_enabled=0 old=1 auid=1000 ses=3 subj=unconfined res=1\n\
             type=CONFIG_CHANGE msg=audit(10.000:2): auid=1000 ses=3 op=add_rule key=(null) list=4 res=1\n\
             type=CONFIG_CHANGE msg=audit(10.000:3): auid=1000 ses=3 key=\"watch\" list=4 res=1\n\
             type=CONFIG_CHANGE msg=audit(10.000:4): op=set audit_enabled=1 auid=1000 ses=3 res=1\n\
             type=DAEMON_CONFIG msg=audit(10.000:5): op=reconfigure state=changed auid=0 pid=1 subj=unconfined res=success\n\
             type=USYS_CONFIG msg=audit(10.000:6): pid=600 uid=0 auid=1000 ses=3 msg='op=changing-rules exe=\"/usr/sbin/auditctl\" res=success'\n\
             type=FEATURE_CHANGE msg=audit(10.000:7): feature=loginuid_immutable old=0 new=1 old_lock=0 new_lock=0 res=1\n\
             type=CONFIG_CHANGE msg=audit(10.000:8): auid=1000 ses=3 list=4 res=0",
        );
        let rows: Vec<(Kind, Option<&str>, Option<bool>)> = ev
            .iter()
            .map(|n| (n.event.kind, n.event.what.as_deref(), n.event.success))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    Kind::AuditConfig,
                    Some("audit_enabled=0 (was 1)"),
                    Some(true)
                ),
                (Kind::AuditConfig, Some("add_rule"), Some(true)),
                (Kind::AuditConfig, Some("key=watch"), Some(true)),
                (Kind::AuditConfig, Some("audit_enabled=1"), Some(true)),
                (Kind::AuditConfig, Some("reconfigure"), Some(true)),
                (Kind::AuditConfig, Some("changing-rules"), Some(true)),
                (Kind::AuditConfig, None, Some(true)),
                (Kind::AuditConfig, None, Some(false)),
            ]
        );
    }

    #[test]
    fn a_module_load() {
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=313 success=yes exit=0 auid=1000 uid=0 euid=0 exe=\"/usr/bin/kmod\" key=\"modules\"\n\
             type=KERN_MODULE msg=audit(10.000:1): name=\"nf_tables\"",
        );
        assert_eq!(
            (e.kind, e.what.as_deref()),
            (Kind::Module, Some("nf_tables"))
        );
        // Without its KERN_MODULE record (an older kernel), the rule key says it, and the
        // module file is the PATH.
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=175 success=yes exit=0 auid=1000 uid=0 euid=0 exe=\"/sbin/insmod\" key=\"modules\"\n\
             type=PATH msg=audit(10.000:1): item=0 name=\"/lib/modules/x/dummy.ko\" nametype=NORMAL",
        );
        assert_eq!(
            (e.kind, e.what.as_deref()),
            (Kind::Module, Some("/lib/modules/x/dummy.ko"))
        );
        // The syscall alone says it too.
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=313 success=no exit=-1 auid=1000 uid=0 euid=0 exe=\"/usr/bin/kmod\"",
        );
        assert_eq!((e.kind, e.success), (Kind::Module, Some(false)));
    }

    #[test]
    fn a_clock_change_names_what_it_changed() {
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=164 success=yes exit=0 auid=1000 uid=0 euid=0 exe=\"/usr/bin/date\" key=\"time-change\"\n\
             type=PATH msg=audit(10.000:1): item=0 name=\"/etc/localtime\" nametype=NORMAL",
        );
        assert_eq!(
            (e.kind, e.what.as_deref()),
            (Kind::Time, Some("/etc/localtime"))
        );
    }

    #[test]
    fn opens_are_writes_by_their_flags_or_a_created_file() {
        let open = |flags: &str, nametype: &str| {
            one(&format!(
                "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd a2={flags} a3=1b6 auid=1000 uid=1000 euid=1000 exe=\"/usr/bin/vi\"\n\
                 type=CWD msg=audit(10.000:1): cwd=\"/etc/nginx/\"\n\
                 type=PATH msg=audit(10.000:1): item=0 name=\"/etc/nginx/\" nametype=PARENT\n\
                 type=PATH msg=audit(10.000:1): item=1 name=\"nginx.conf\" nametype={nametype}"
            ))
        };
        let e = open("241", "NORMAL");
        assert_eq!(
            (e.kind, e.what.as_deref()),
            (Kind::Write, Some("/etc/nginx/nginx.conf"))
        );
        assert_eq!(open("0", "NORMAL").kind, Kind::Other, "read only");
        assert_eq!(
            open("0", "CREATE").kind,
            Kind::Write,
            "openat2 creating a file"
        );
        assert_eq!(open("2", "NORMAL").kind, Kind::Write, "O_RDWR");
    }

    #[test]
    fn the_file_acted_on() {
        let with = |items: &str| {
            one(&format!(
                "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=82 success=yes exit=0 auid=1000 uid=1000 euid=1000 exe=\"/usr/bin/mv\"\n{items}"
            ))
            .what
        };
        let path = |name: &str, nametype: &str| {
            format!("type=PATH msg=audit(10.000:1): item=0 name=\"{name}\" nametype={nametype}\n")
        };
        // rename: the created name, then the deleted one, then a name that is no parent.
        let both =
            path("/srv/", "PARENT") + &path("/srv/old", "DELETE") + &path("/srv/new", "CREATE");
        assert_eq!(with(&both).as_deref(), Some("/srv/new"));
        let deleted = path("/srv/", "PARENT") + &path("/srv/old", "DELETE");
        assert_eq!(with(&deleted).as_deref(), Some("/srv/old"));
        let normal = path("/srv/", "PARENT") + &path("/srv/file", "NORMAL");
        assert_eq!(with(&normal).as_deref(), Some("/srv/file"));
        let parents = path("/srv/", "PARENT") + &path("/tmp/", "PARENT");
        assert_eq!(with(&parents).as_deref(), Some("/srv/"));
        assert_eq!(with("").as_deref(), None);
        // A relative name without a CWD record stays as written; with one, it is joined.
        assert_eq!(with(&path("file", "NORMAL")).as_deref(), Some("file"));
        let cwd = "type=CWD msg=audit(10.000:1): cwd=\"/\"\n".to_string();
        assert_eq!(
            with(&(cwd + &path("file", "NORMAL"))).as_deref(),
            Some("/file")
        );
    }

    #[test]
    fn binds_below_1024_are_privileged() {
        let bind = |saddr: &str| {
            one(&format!(
                "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=49 success=yes exit=0 auid=1000 uid=0 euid=0 exe=\"/usr/sbin/nginx\"\n\
                 type=SOCKADDR msg=audit(10.000:1): saddr={saddr}"
            ))
        };
        // IPv4 0.0.0.0:1023, :1024; IPv6 [::1]:22; AF_UNIX.
        let e = bind("020003FF000000000000000000000000");
        assert_eq!(
            (e.kind, e.what.as_deref()),
            (Kind::Bind, Some("0.0.0.0:1023"))
        );
        assert_eq!(bind("02000400000000000000000000000000").kind, Kind::Other);
        // sockaddr_in6: family 10 (little-endian), port, flow info, address, scope id.
        let e = bind(
            &[
                "0A00",
                "0016",
                "00000000",
                "00000000000000000000000000000001",
                "00000000",
            ]
            .concat(),
        );
        assert_eq!((e.kind, e.what.as_deref()), (Kind::Bind, Some("[::1]:22")));
        assert_eq!(bind("01002F72756E2F782E736F636B00").kind, Kind::Other);
        // A cut SOCKADDR says nothing.
        assert_eq!(bind("0200").kind, Kind::Other);
    }

    #[test]
    fn command_lines_quote_what_a_shell_would_not_read_back() {
        let exec = |execve: &str| {
            one(&format!(
                "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=1000 uid=1000 euid=1000 exe=\"/usr/bin/sh\"\n\
                 type=EXECVE msg=audit(10.000:1): {execve}\n\
                 type=PROCTITLE msg=audit(10.000:1): proctitle=7368002D6300"
            ))
            .what
        };
        // sh -c 'echo $HOME' '' "it's" --x=1
        assert_eq!(
            exec("argc=5 a0=\"sh\" a1=\"-c\" a2=6563686F2024484F4D45 a3=\"\" a4=69742773")
                .as_deref(),
            Some(r"sh -c 'echo $HOME' '' 'it'\''s'")
        );
        assert_eq!(
            exec("argc=2 a0=\"ls\" a1=\"--color=auto\"").as_deref(),
            Some("ls --color=auto")
        );
        // The kernel cut the record short: what it logged.
        assert_eq!(exec("argc=4 a0=\"cat\" a1=\"x\"").as_deref(), Some("cat x"));
        // No arguments logged: the PROCTITLE.
        assert_eq!(exec("argc=0").as_deref(), Some("sh -c"));
        assert_eq!(exec("argc=3").as_deref(), Some("sh -c"));
        // A long argument in pieces, hex and quoted.
        assert_eq!(
            exec("argc=2 a0=\"echo\" a1_len=5 a1[0]=6869 a1[1]=\" x!\"").as_deref(),
            Some("echo 'hi x!'")
        );
        for arg in [
            "a;b", "a|b", "a&b", "a>b", "(a)", "{a}", "a*", "a?", "[a]", "#a", "~a", "!a", "`a`",
            "a\\b", "a\"b",
        ] {
            let hex: String = arg.bytes().map(|b| format!("{b:02X}")).collect();
            assert_eq!(
                exec(&format!("argc=1 a0={hex}")),
                Some(format!("'{arg}'")),
                "{arg}"
            );
        }
    }

    #[test]
    fn a_long_command_line_stops_after_the_limit() {
        let arg = "x".repeat(1000);
        let args: String = (0..10).map(|i| format!(" a{i}=\"{arg}\"")).collect();
        let e = one(&format!(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=0 uid=0 euid=0\n\
             type=EXECVE msg=audit(10.000:1): argc=10{args}"
        ));
        let what = e.what.unwrap();
        // Five arguments pass the limit; the line is then cut to it.
        assert_eq!(what.len(), WHAT_LIMIT + '…'.len_utf8());
        assert!(what.ends_with('…'));
        assert_eq!(what.matches(' ').count(), 4);
        // A line that reaches the limit exactly is not yet past it: the next argument still
        // comes, and the cut shows.
        let e = one(&format!(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 auid=0 uid=0 euid=0\n\
             type=EXECVE msg=audit(10.000:1): argc=2 a0=\"{}\" a1=\"y\"",
            "x".repeat(WHAT_LIMIT)
        ));
        assert_eq!(e.what.unwrap(), "x".repeat(WHAT_LIMIT) + "…");
    }

    #[test]
    fn the_raw_records_are_bounded() {
        let long = "b".repeat(RAW_LIMIT);
        let e = one(&format!(
            "type=SYSCALL msg=audit(10.000:8): arch=c000003e syscall=59 success=yes auid=0 uid=0 euid=0\n\
             type=EXECVE msg=audit(10.000:8): argc=1 a0=\"{long}\"\n\
             type=PROCTITLE msg=audit(10.000:8): proctitle=\"x\"\n\
             type=PATH msg=audit(10.000:8): item=0 name=\"/bin/x\""
        ));
        assert_eq!(e.raw.len(), RAW_LIMIT + '…'.len_utf8());
        assert!(e.raw.starts_with("type=SYSCALL msg=audit(10.000:8): arch=c000003e syscall=59 success=yes auid=0 uid=0 euid=0\ntype=EXECVE"));
        assert!(!e.raw.contains("PROCTITLE"));
        assert_eq!(e.record_types.len(), 4);
        // Records that fill the limit exactly: the next one still comes, and the cut shows.
        let syscall = "type=SYSCALL msg=audit(10.000:8): arch=c000003e syscall=59 success=yes auid=0 uid=0 euid=0";
        let execve = "type=EXECVE msg=audit(10.000:8): argc=1 a0=\"";
        let fill = "c".repeat(RAW_LIMIT - syscall.len() - 1 - execve.len() - 1);
        let e = one(&format!(
            "{syscall}\n{execve}{fill}\"\ntype=PROCTITLE msg=audit(10.000:8): proctitle=\"x\""
        ));
        assert_eq!(e.raw, format!("{syscall}\n{execve}{fill}\"…"));
    }

    #[test]
    fn success_spellings() {
        let res = |field: &str| {
            one(&format!(
                "type=USER_ACCT msg=audit(10.000:1): pid=9 uid=0 auid=1000 ses=3 msg='op=PAM:accounting acct=\"alice\" exe=\"/usr/sbin/cron\" {field}'"
            ))
            .success
        };
        assert_eq!(res("res=success"), Some(true));
        assert_eq!(res("res=1"), Some(true));
        assert_eq!(res("res=failed"), Some(false));
        assert_eq!(res("res=0"), Some(false));
        assert_eq!(res("res=maybe"), None);
        assert_eq!(res("x=1"), None);
        let sys = |v: &str| {
            one(&format!(
                "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=2 success={v} exit=-13 auid=1000 uid=1000 euid=1000"
            ))
            .success
        };
        assert_eq!(sys("no"), Some(false));
        assert_eq!(sys("yes"), Some(true));
    }

    #[test]
    fn the_syscall_name_from_the_enrichment_or_the_table() {
        // An enriched log names the syscall itself (here on an architecture the table lacks).
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=deadbeef syscall=9999 success=yes exit=0 auid=1000 uid=1000 euid=1000\x1dARCH=weird SYSCALL=unlinkat AUID=\"alice\"\n\
             type=PATH msg=audit(10.000:1): item=0 name=\"/tmp/x\" nametype=DELETE",
        );
        assert_eq!((e.kind, e.what.as_deref()), (Kind::Delete, Some("/tmp/x")));
        // Unknown to both: other.
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=deadbeef syscall=9999 success=yes exit=0 auid=1000 uid=1000 euid=1000",
        );
        assert_eq!(e.kind, Kind::Other);
        let e = one(
            "type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=90 success=yes exit=0 auid=1000 uid=1000 euid=1000\n\
             type=PATH msg=audit(10.000:1): item=0 name=\"/etc/shadow\" nametype=NORMAL",
        );
        assert_eq!(
            (e.kind, e.what.as_deref()),
            (Kind::Attr, Some("/etc/shadow"))
        );
    }

    #[test]
    fn passwd_names_the_first_entry_of_a_uid() {
        let names = Names::from_passwd(
            "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n# comment\nbroken\nbad:x:uid:0::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\n",
        );
        assert_eq!(names.user(0), Some("root"));
        assert_eq!(names.user(1000), Some("alice"));
        assert_eq!(names.user(1), None);
    }

    #[test]
    fn user_messages_are_recognised() {
        for t in [
            "USER_LOGIN",
            "USER_CMD",
            "CRED_ACQ",
            "ANOM_LOGIN_FAILURES",
            "ADD_USER",
            "GRP_MGMT",
            "USYS_CONFIG",
            "SYSTEM_BOOT",
            "SERVICE_START",
            "CHUSER_ID",
        ] {
            assert!(is_user_message(t), "{t}");
        }
        for t in [
            "SYSCALL",
            "EXECVE",
            "PATH",
            "CONFIG_CHANGE",
            "DAEMON_START",
            "KERN_MODULE",
            "ANOM_ABEND",
        ] {
            assert!(!is_user_message(t), "{t}");
        }
    }
}
