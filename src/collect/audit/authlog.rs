//! Logins, sudo and su from the auth log (`/var/log/auth.log`, `/var/log/secure`) or the
//! journal, for hosts without auditd: what sshd, sudo, su and PAM say about themselves, as
//! events of the same shape as the audit log's.
//!
//! Only the messages that say who did what are read; everything else in the log is skipped,
//! not counted as bad input (an auth log holds cron's and systemd's lines too). An event's
//! serial is a hash of its line, so that reading a line again gives the same event.

use crate::model::audit::{Event, Kind, User, WHAT_LIMIT, bound};

/// When a syslog line was written, for the traditional format (`Dec  2 18:01:02`), which has
/// no year and no zone: the host's clock and zone, as the read script reports them.
#[derive(Debug, Clone, Copy)]
pub struct HostClock {
    /// The host's time now, Unix seconds.
    pub now: i64,
    /// The host's offset from UTC, seconds (`date +%z`).
    pub offset: i64,
}

/// One auth-log line as an event, if it is one of the messages read.
pub fn parse_line(line: &[u8], clock: HostClock) -> Option<Event> {
    let text = String::from_utf8_lossy(line);
    let (time_ms, rest) = timestamp(&text, clock)?;
    // `host program[pid]: message`
    let rest = rest.trim_start();
    let (_host, rest) = rest.split_once(' ')?;
    let (tag, message) = rest.split_once(": ")?;
    let program = tag.split('[').next().unwrap_or(tag);
    let mut event = message_event(program, message)?;
    event.what = event.what.map(|w| bound(w, WHAT_LIMIT));
    event.time_ms = time_ms;
    event.serial = fnv(line);
    event.exe = Some(program.to_string());
    event.raw = text.chars().take(crate::model::audit::RAW_LIMIT).collect();
    event.record_types = vec!["AUTHLOG".to_string()];
    Some(event)
}

/// One journal entry (`journalctl -o json`) as an event, if it is one of the messages read;
/// with its cursor.
pub fn parse_journal(line: &[u8]) -> Option<(String, Option<Event>)> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let cursor = v.get("__CURSOR")?.as_str()?.to_string();
    let field = |k: &str| v.get(k).and_then(|x| x.as_str());
    let message = match v.get("MESSAGE") {
        Some(serde_json::Value::String(s)) => s.clone(),
        // journalctl writes a message that is not UTF-8 as an array of bytes.
        Some(serde_json::Value::Array(bytes)) => String::from_utf8_lossy(
            &bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Vec<u8>>(),
        )
        .into_owned(),
        _ => return Some((cursor, None)),
    };
    let program = field("SYSLOG_IDENTIFIER").or(field("_COMM")).unwrap_or("");
    let Some(mut event) = message_event(program, &message) else {
        return Some((cursor, None));
    };
    event.what = event.what.map(|w| bound(w, WHAT_LIMIT));
    let micros: i64 = field("__REALTIME_TIMESTAMP")?.parse().ok()?;
    event.time_ms = micros / 1000;
    event.serial = fnv(cursor.as_bytes());
    event.exe = Some(program.to_string());
    event.raw = String::from_utf8_lossy(line)
        .chars()
        .take(crate::model::audit::RAW_LIMIT)
        .collect();
    event.record_types = vec!["JOURNAL".to_string()];
    Some((cursor, Some(event)))
}

/// FNV-1a, 63 bits (the catalog's integers are signed): a stable serial for a line.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h >> 1
}

fn named(name: &str) -> User {
    User {
        uid: None,
        name: Some(name.to_string()),
    }
}

fn blank(kind: Kind) -> Event {
    Event {
        time_ms: 0,
        serial: 0,
        node: None,
        kind,
        actor: User::default(),
        acting_as: User::default(),
        uid: User::default(),
        what: None,
        exe: None,
        addr: None,
        terminal: None,
        session: None,
        success: None,
        key: None,
        record_types: Vec::new(),
        raw: String::new(),
    }
}

/// The event a program's message says, for the messages read.
fn message_event(program: &str, m: &str) -> Option<Event> {
    match program {
        "sshd" => sshd(m),
        "sudo" => sudo(m),
        "su" => su(m),
        _ => None,
    }
}

/// `Accepted publickey for alice from 192.0.2.7 port 50022 ssh2: ED25519 SHA256:…`,
/// `Failed password for [invalid user ]bob from 198.51.100.9 port 4242 ssh2`,
/// `pam_unix(sshd:session): session closed for user alice`.
fn sshd(m: &str) -> Option<Event> {
    let login = |rest: &str, kind: Kind, success: bool| -> Option<Event> {
        let (method, rest) = rest.split_once(" for ")?;
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        let (user, rest) = rest.rsplit_once(" from ")?;
        let addr = rest.split_whitespace().next()?;
        let mut e = blank(kind);
        if success {
            e.actor = named(user);
        }
        e.acting_as = named(user);
        e.what = Some(format!("{user} ({method})"));
        e.addr = Some(addr.to_string());
        e.terminal = Some("ssh".into());
        e.success = Some(success);
        Some(e)
    };
    if let Some(rest) = m.strip_prefix("Accepted ") {
        return login(rest, Kind::Login, true);
    }
    if let Some(rest) = m.strip_prefix("Failed ") {
        return login(rest, Kind::FailedLogin, false);
    }
    if let Some(user) = m.strip_prefix("pam_unix(sshd:session): session closed for user ") {
        let mut e = blank(Kind::Logout);
        let user = user.trim();
        e.actor = named(user);
        e.acting_as = named(user);
        e.what = Some(user.to_string());
        e.success = Some(true);
        return Some(e);
    }
    None
}

/// `    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id -u`,
/// `alice : 3 incorrect password attempts ; TTY=… ; COMMAND=…`,
/// `alice : user NOT in sudoers ; TTY=… ; COMMAND=…`.
fn sudo(m: &str) -> Option<Event> {
    let (who, rest) = m.trim_start().split_once(" : ")?;
    if who.contains(' ') || who.is_empty() {
        return None;
    }
    let parts: Vec<&str> = rest.split(" ; ").collect();
    let field = |k: &str| {
        parts
            .iter()
            .find_map(|p| p.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
    };
    let command = field("COMMAND")?;
    let first = parts.first().copied().unwrap_or("");
    let failed = !first.starts_with("TTY=") && !first.starts_with("PWD=");
    let mut e = blank(if failed && first.contains("incorrect password") {
        Kind::AuthFailure
    } else {
        Kind::Sudo
    });
    e.actor = named(who);
    e.acting_as = named(field("USER").unwrap_or("root"));
    e.what = Some(command.to_string());
    e.terminal = field("TTY").map(str::to_string);
    e.success = Some(!failed);
    Some(e)
}

/// `pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)` (older:
/// `… for user root by alice(uid=1000)`), `FAILED SU (to root) alice on pts/0`.
fn su(m: &str) -> Option<Event> {
    let name = |s: &str| s.split('(').next().unwrap_or(s).trim().to_string();
    if let Some(rest) = m
        .strip_prefix("pam_unix(su:session): session opened for user ")
        .or_else(|| m.strip_prefix("pam_unix(su-l:session): session opened for user "))
    {
        let (target, by) = rest.split_once(" by ")?;
        let mut e = blank(Kind::Su);
        let by = name(by);
        if !by.is_empty() {
            e.actor = named(&by);
        }
        e.acting_as = named(&name(target));
        e.what = Some(name(target));
        e.success = Some(true);
        return Some(e);
    }
    if let Some(rest) = m.strip_prefix("FAILED SU (to ") {
        let (target, rest) = rest.split_once(") ")?;
        let (who, tty) = rest.split_once(" on ").unwrap_or((rest, ""));
        let mut e = blank(Kind::AuthFailure);
        e.actor = named(who.trim());
        e.acting_as = named(target);
        e.what = Some(format!("su {target}"));
        e.terminal = Some(tty.trim().to_string()).filter(|t| !t.is_empty());
        e.success = Some(false);
        return Some(e);
    }
    None
}

/// The line's time and the rest: RFC 3339 (`2026-12-02T18:01:02.123456+01:00 host …`, rsyslog's
/// high-precision format) or traditional (`Dec  2 18:01:02 host …`, in the host's zone, in the
/// year that puts it no later than a day after the host's now).
fn timestamp(text: &str, clock: HostClock) -> Option<(i64, &str)> {
    let first = text.split(' ').next()?;
    if first.len() > 19 && first.as_bytes().get(10) == Some(&b'T') {
        let t: jiff::Timestamp = first.parse().ok()?;
        return Some((t.as_millisecond(), &text[first.len()..]));
    }
    let month = text.get(..3)?;
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months.iter().position(|x| *x == month)? as i8 + 1;
    let rest = text.get(3..)?.trim_start();
    let (day, rest) = rest.split_once(' ')?;
    let day: i8 = day.parse().ok()?;
    let (hms, rest) = rest.split_once(' ')?;
    let mut parts = hms.split(':');
    let (h, mi, s): (i8, i8, i8) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    let zone = jiff::tz::TimeZone::fixed(
        jiff::tz::Offset::from_seconds(i32::try_from(clock.offset).ok()?).ok()?,
    );
    let now_year = jiff::Timestamp::from_second(clock.now)
        .ok()?
        .to_zoned(zone.clone())
        .year();
    for year in [now_year, now_year - 1] {
        // Checked constructors: a host may write any numbers there (and Feb 29 is only in
        // some years).
        let Ok(civil) = jiff::civil::DateTime::new(year, m, day, h, mi, s, 0) else {
            continue;
        };
        let Ok(dt) = civil.to_zoned(zone.clone()) else {
            continue;
        };
        let secs = dt.timestamp().as_second();
        if secs <= clock.now + 86_400 {
            return Some((secs * 1000, rest));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOCK: HostClock = HostClock {
        // 2026-12-02T18:00:00Z
        now: 1_796_234_400,
        offset: 0,
    };

    fn parse(line: &str) -> Event {
        parse_line(line.as_bytes(), CLOCK).unwrap_or_else(|| panic!("not read: {line}"))
    }

    #[test]
    fn sshd_logins_failures_and_logouts() {
        let e = parse(
            "Dec  2 17:01:02 web-1 sshd[812]: Accepted publickey for alice from 192.0.2.7 port 50022 ssh2: ED25519 SHA256:abc",
        );
        assert_eq!(e.kind, Kind::Login);
        assert_eq!(e.actor.label().as_deref(), Some("alice"));
        assert_eq!(e.addr.as_deref(), Some("192.0.2.7"));
        assert_eq!(e.time_ms, (CLOCK.now - 3600 + 62) * 1000);
        let e = parse(
            "2026-12-02T17:01:02.500000+01:00 web-1 sshd[813]: Failed password for invalid user bob from 198.51.100.9 port 4242 ssh2",
        );
        assert_eq!(e.kind, Kind::FailedLogin);
        assert_eq!(e.actor, User::default());
        assert_eq!(e.acting_as.label().as_deref(), Some("bob"));
        assert_eq!(e.time_ms, (CLOCK.now - 7200 + 62) * 1000 + 500);
        let e = parse(
            "Dec  2 17:05:00 web-1 sshd[812]: pam_unix(sshd:session): session closed for user alice",
        );
        assert_eq!(e.kind, Kind::Logout);
    }

    #[test]
    fn sudo_commands_and_failures() {
        let e = parse(
            "Dec  2 17:02:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
        );
        assert_eq!(e.kind, Kind::Sudo);
        assert_eq!(e.actor.label().as_deref(), Some("alice"));
        assert_eq!(e.acting_as.label().as_deref(), Some("root"));
        assert_eq!(e.what.as_deref(), Some("/usr/bin/systemctl restart nginx"));
        assert_eq!(e.terminal.as_deref(), Some("pts/0"));
        let e = parse(
            "Dec  2 17:03:00 web-1 sudo:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh",
        );
        assert_eq!(e.kind, Kind::Sudo);
        assert_eq!(e.success, Some(false));
        let e = parse(
            "Dec  2 17:03:00 web-1 sudo:      bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh",
        );
        assert_eq!(e.kind, Kind::AuthFailure);
    }

    #[test]
    fn su_sessions_and_failures() {
        let e = parse(
            "Dec  2 17:04:00 web-1 su[900]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)",
        );
        assert_eq!(e.kind, Kind::Su);
        assert_eq!(e.actor.label().as_deref(), Some("alice"));
        assert_eq!(e.acting_as.label().as_deref(), Some("root"));
        let e = parse("Dec  2 17:04:30 web-1 su[901]: FAILED SU (to root) bob on pts/1");
        assert_eq!(e.kind, Kind::AuthFailure);
        assert_eq!(e.terminal.as_deref(), Some("pts/1"));
    }

    #[test]
    fn a_traditional_date_after_now_is_last_year_and_other_lines_are_skipped() {
        let e = parse(
            "Dec 31 23:59:59 web-1 sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2",
        );
        assert_eq!(e.time_ms / 1000, 1_767_225_599, "2025-12-31T23:59:59Z");
        for skipped in [
            "Dec  2 17:00:00 web-1 CRON[5]: pam_unix(cron:session): session opened for user root",
            "Dec  2 17:00:00 web-1 sshd[5]: Connection closed by 192.0.2.1 port 22",
            "garbage",
            "Dec 99 17:00:00 web-1 sshd[5]: Accepted password for a from b port 1 ssh2",
            "",
        ] {
            assert!(parse_line(skipped.as_bytes(), CLOCK).is_none(), "{skipped}");
        }
    }

    #[test]
    fn a_long_command_is_cut() {
        let long = format!(
            "Dec  2 17:02:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/echo {}",
            "é".repeat(10_000)
        );
        let e = parse(&long);
        let what = e.what.unwrap();
        assert!(what.len() <= WHAT_LIMIT + '…'.len_utf8(), "{}", what.len());
        assert!(what.ends_with('…'));
    }

    #[test]
    fn journal_entries() {
        let line = br#"{"__CURSOR":"s=abc;i=12","__REALTIME_TIMESTAMP":"1796230800123456","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted publickey for alice from 192.0.2.7 port 5 ssh2"}"#;
        let (cursor, e) = parse_journal(line).unwrap();
        assert_eq!(cursor, "s=abc;i=12");
        let e = e.unwrap();
        assert_eq!(e.kind, Kind::Login);
        assert_eq!(e.time_ms, 1_796_230_800_123);
        let other = br#"{"__CURSOR":"s=abc;i=13","__REALTIME_TIMESTAMP":"1","SYSLOG_IDENTIFIER":"cron","MESSAGE":[104,105]}"#;
        assert!(parse_journal(other).unwrap().1.is_none());
        assert!(parse_journal(b"{not json").is_none());
    }
}
