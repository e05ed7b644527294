//! The audit trail's vocabulary: one normalised event (who did what, as whom, on which host,
//! when, from where, with what result), and the kinds of event `who-did` reports.
//!
//! An event is what auditd logs as one `msg=audit(TIME:SERIAL)` group of records (or one line of
//! an auth log), reduced to the questions an administrator asks. The raw records are kept
//! beside it, bounded, so that nothing the normaliser did not understand is lost.

use std::fmt;
use std::str::FromStr;

/// What kind of thing an event records. The names are the `--kind` values and the JSON values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A successful login (USER_LOGIN, sshd's "Accepted …").
    Login,
    /// A failed login.
    FailedLogin,
    Logout,
    /// A command run through sudo.
    Sudo,
    /// A session opened with su.
    Su,
    /// A successful authentication that is not itself a login (PAM's USER_AUTH).
    Auth,
    /// A failed authentication (a wrong password to sudo, su or sshd's PAM stack).
    AuthFailure,
    /// A program executed (execve).
    Exec,
    /// A file written, created, truncated or renamed into place.
    Write,
    /// A file's mode, owner or extended attributes changed.
    Attr,
    /// A file or directory deleted.
    Delete,
    /// A socket bound to a port below 1024.
    Bind,
    /// An account or group added, deleted or changed, or a password changed.
    Account,
    /// The audit configuration changed (rules added or removed, auditing turned off).
    AuditConfig,
    /// A kernel module loaded or removed.
    Module,
    /// The system clock changed.
    Time,
    /// Anything else.
    Other,
}

impl Kind {
    /// Every kind, in the order reports list them.
    pub const ALL: [Kind; 17] = [
        Kind::Login,
        Kind::FailedLogin,
        Kind::Logout,
        Kind::Sudo,
        Kind::Su,
        Kind::Auth,
        Kind::AuthFailure,
        Kind::Exec,
        Kind::Write,
        Kind::Attr,
        Kind::Delete,
        Kind::Bind,
        Kind::Account,
        Kind::AuditConfig,
        Kind::Module,
        Kind::Time,
        Kind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::FailedLogin => "failed-login",
            Kind::Logout => "logout",
            Kind::Sudo => "sudo",
            Kind::Su => "su",
            Kind::Auth => "auth",
            Kind::AuthFailure => "auth-failure",
            Kind::Exec => "exec",
            Kind::Write => "write",
            Kind::Attr => "attr",
            Kind::Delete => "delete",
            Kind::Bind => "bind",
            Kind::Account => "account",
            Kind::AuditConfig => "audit-config",
            Kind::Module => "module",
            Kind::Time => "time",
            Kind::Other => "other",
        }
    }

    /// What the kind means, for the manual.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Login => "a successful login",
            Kind::FailedLogin => "a failed login",
            Kind::Logout => "a logout",
            Kind::Sudo => "a command run with sudo",
            Kind::Su => "a session opened with su",
            Kind::Auth => "a successful authentication that is not a login",
            Kind::AuthFailure => "a failed authentication (wrong password to sudo, su, sshd)",
            Kind::Exec => "a program executed",
            Kind::Write => "a file written, created, truncated or renamed into place",
            Kind::Attr => "a file's mode, owner or extended attributes changed",
            Kind::Delete => "a file or directory deleted",
            Kind::Bind => "a socket bound to a port below 1024",
            Kind::Account => "an account or group added, deleted or changed, or a password changed",
            Kind::AuditConfig => "the audit configuration changed",
            Kind::Module => "a kernel module loaded or removed",
            Kind::Time => "the system clock set",
            Kind::Other => "anything else auditd logged",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown kind {s:?} (one of {})", names.join(", "))
            })
    }
}

/// A user as an event names it: the number the kernel logged and the name the host gave it at
/// the time (from the log's own enrichment, else the host's passwd as scanned with it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    pub uid: Option<u32>,
    pub name: Option<String>,
}

impl User {
    /// The name when known, else the number as `#1000`, else nothing.
    pub fn label(&self) -> Option<String> {
        match (&self.name, self.uid) {
            (Some(n), _) => Some(n.clone()),
            (None, Some(u)) => Some(format!("#{u}")),
            (None, None) => None,
        }
    }

    pub fn is_known(&self) -> bool {
        self.uid.is_some() || self.name.is_some()
    }
}

/// One normalised event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the Unix epoch, as the host's clock said.
    pub time_ms: i64,
    /// The event's serial number on its host (restarts at boot): with the time, its identity.
    pub serial: u64,
    /// The `node=` name the host wrote, when its auditd names nodes.
    pub node: Option<String>,
    pub kind: Kind,
    /// The person: the login user (auid), which su and sudo do not change.
    pub actor: User,
    /// Whom the action ran as: the effective user of a syscall, the target of sudo or su, the
    /// account a login or authentication was for.
    pub acting_as: User,
    /// The user the process that logged the event ran as (its uid).
    pub uid: User,
    /// The command line, the file path, the target account or the port.
    pub what: Option<String>,
    /// The program that did it.
    pub exe: Option<String>,
    /// Where from: the remote address.
    pub addr: Option<String>,
    pub terminal: Option<String>,
    /// The audit session id.
    pub session: Option<u32>,
    /// Whether it succeeded, when the records say.
    pub success: Option<bool>,
    /// The audit rule key(s), comma-separated.
    pub key: Option<String>,
    /// The record types, in the order they came (SYSCALL, EXECVE, PATH…).
    pub record_types: Vec<String>,
    /// The raw records, bounded by [`RAW_LIMIT`].
    pub raw: String,
}

/// How much of an event's raw records is kept: a hostile or merely huge event (a 2 MB EXECVE)
/// must not bloat the catalog. The cut is marked.
pub const RAW_LIMIT: usize = 16 * 1024;

/// How much of the `what` of an event is kept (a command line can be 128 KiB).
pub const WHAT_LIMIT: usize = 4096;

/// Cuts text to at most `limit` bytes on a character boundary, marking the cut with `…`.
pub fn bound(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
}

impl Event {
    /// Seconds since the epoch.
    pub fn time(&self) -> i64 {
        self.time_ms.div_euclid(1000)
    }
}

/// Where a read of a host's audit log stopped: the file (its device and inode, which survive
/// a rename when auditd rotates) and the offset after the last line read, with the last
/// event's stamp.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    pub device: u64,
    pub inode: u64,
    pub offset: u64,
    pub last_time_ms: Option<i64>,
    pub last_serial: Option<u64>,
    /// The bytes just before `offset` (at most [`CHECKPOINT_TAIL`]): a file truncated and
    /// written again past the offset has other bytes there, and is read from its start.
    pub tail: Vec<u8>,
    /// For a host read through the journal (no audit log, no auth log): the journal's cursor
    /// after the last entry read.
    pub cursor: Option<String>,
}

/// How many bytes before a checkpoint's offset are kept to recognise the file.
pub const CHECKPOINT_TAIL: usize = 64;

/// What one scan read from a host's audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditRead {
    /// The log read (`/var/log/audit/audit.log`).
    pub log: String,
    /// The checkpoint the read started from (to check, when storing, that it was this host's).
    pub started_from: Option<Checkpoint>,
    /// Where the next read starts; `None` when nothing could be read.
    pub checkpoint: Option<Checkpoint>,
    pub events: Vec<Event>,
    /// Bytes left for the next read by the per-scan cap.
    pub unread_bytes: u64,
    /// Why nothing (or not everything) could be read: one line.
    pub problem: Option<String>,
    /// Lines that were not audit records.
    pub bad_lines: u64,
    /// The host has no audit log: a state, not a failure.
    pub absent: bool,
}

/// Which events a question asks for; every set condition must hold. Users match by name or
/// number (`alice`, `1000`, `#1000`); text matches the command or path anywhere, ignoring case.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub users: Vec<String>,
    pub acting_as: Vec<String>,
    pub kinds: Vec<Kind>,
    pub keys: Vec<String>,
    /// Milliseconds since the epoch, inclusive.
    pub since_ms: Option<i64>,
    /// Milliseconds since the epoch, exclusive.
    pub until_ms: Option<i64>,
    /// Lower-case text to find in `what`.
    pub text: Option<String>,
    /// Only failed events (`Some(false)`) or successful ones.
    pub success: Option<bool>,
}

impl Filter {
    /// Whether `event` passes every condition but the host's.
    pub fn matches(&self, event: &Event) -> bool {
        let user_is = |u: &User, wanted: &[String]| {
            wanted.is_empty() || wanted.iter().any(|w| user_matches(u, w))
        };
        user_is(&event.actor, &self.users)
            && user_is(&event.acting_as, &self.acting_as)
            && (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && (self.keys.is_empty()
                || event
                    .key
                    .as_deref()
                    .is_some_and(|k| k.split(',').any(|k| self.keys.iter().any(|w| w == k))))
            && self.since_ms.is_none_or(|s| event.time_ms >= s)
            && self.until_ms.is_none_or(|u| event.time_ms < u)
            && self.text.as_deref().is_none_or(|t| {
                event
                    .what
                    .as_deref()
                    .is_some_and(|w| w.to_lowercase().contains(t))
            })
            && self.success.is_none_or(|s| event.success == Some(s))
    }
}

/// Whether a user is the one `wanted` names: its name, its number, or `#number`.
pub fn user_matches(user: &User, wanted: &str) -> bool {
    let number = wanted.strip_prefix('#').unwrap_or(wanted);
    user.name.as_deref() == Some(wanted)
        || (number.parse::<u32>().ok().is_some() && user.uid == number.parse::<u32>().ok())
}

/// An alert rule: an event that matches every condition set is printed by `who-did
/// --follow` (and handed to its `--exec` command). Lists match any of their items; globs are
/// shell-style (`*`, `?`, `[…]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alert {
    pub name: String,
    pub kinds: Vec<Kind>,
    /// Globs on the person (the login user's name, or `#uid`).
    pub users: Vec<String>,
    /// Globs on whom it ran as.
    pub acting_as: Vec<String>,
    /// Globs on what (a path, a command line, an account, an address).
    pub what: Vec<String>,
    /// Globs on the host.
    pub hosts: Vec<String>,
    /// Rule keys, or globs on them.
    pub keys: Vec<String>,
    /// Only failed (`Some(false)`) or successful events.
    pub success: Option<bool>,
}

impl Alert {
    pub fn matches(&self, host: &str, event: &Event) -> bool {
        let any = |globs: &[String], value: Option<&str>| {
            globs.is_empty()
                || value.is_some_and(|v| globs.iter().any(|g| crate::input::glob_match(g, v)))
        };
        (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && any(&self.users, event.actor.label().as_deref())
            && any(&self.acting_as, event.acting_as.label().as_deref())
            && any(&self.what, event.what.as_deref())
            && any(&self.hosts, Some(host))
            && (self.keys.is_empty()
                || event
                    .key
                    .as_deref()
                    .is_some_and(|k| k.split(',').any(|k| any(&self.keys, Some(k)))))
            && self.success.is_none_or(|s| event.success == Some(s))
    }

    /// The alerts when the configuration names none: root logins, failed root logins, watched
    /// programs run, deletes where they hurt, changes to who may do what, and to auditing.
    pub fn defaults() -> Vec<Alert> {
        let alert = |name: &str| Alert {
            name: name.to_string(),
            ..Alert::default()
        };
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        vec![
            Alert {
                kinds: vec![Kind::Login],
                acting_as: strings(&["root", "#0"]),
                ..alert("root login")
            },
            Alert {
                kinds: vec![Kind::FailedLogin],
                acting_as: strings(&["root", "#0"]),
                ..alert("failed root login")
            },
            Alert {
                kinds: vec![Kind::Exec],
                keys: strings(&["*-exec"]),
                ..alert("watched program run")
            },
            Alert {
                kinds: vec![Kind::Delete, Kind::Write],
                keys: strings(&["*-delete"]),
                ..alert("delete in a watched directory")
            },
            Alert {
                kinds: vec![Kind::Write, Kind::Attr, Kind::Delete, Kind::Account],
                what: strings(&[
                    "/etc/sudoers",
                    "/etc/sudoers.d/*",
                    "/etc/passwd",
                    "/etc/shadow",
                    "/etc/group",
                    "/etc/gshadow",
                ]),
                ..alert("sudoers or account files changed")
            },
            Alert {
                kinds: vec![Kind::AuditConfig],
                ..alert("audit configuration changed")
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for k in Kind::ALL {
            assert_eq!(k.name().parse::<Kind>().unwrap(), k);
        }
        let err = "root".parse::<Kind>().unwrap_err();
        assert!(err.contains("failed-login"), "{err}");
    }

    #[test]
    fn users_label_by_name_then_number() {
        let named = User {
            uid: Some(1000),
            name: Some("alice".into()),
        };
        assert_eq!(named.label().as_deref(), Some("alice"));
        let numbered = User {
            uid: Some(1000),
            name: None,
        };
        assert_eq!(numbered.label().as_deref(), Some("#1000"));
        assert_eq!(User::default().label(), None);
    }
}
