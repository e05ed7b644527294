//! The audit rules `who-did --rules` recommends: what the audit trail needs auditd to log, each
//! rule with a key the normaliser turns into a kind (see [`kind_of_key`]).
//!
//! sudo, su and logins need no rule: PAM and sshd log them (USER_CMD, USER_START, USER_LOGIN,
//! USER_AUTH) whatever the rules. The rules add what only the kernel sees: writes to the files
//! that define who may do what, deletes where deleting hurts, programs that change accounts or
//! the firewall, privileged binds, module loads, clock changes and changes to auditing itself.

use crate::model::audit::Kind;

/// The keys the rules use. A key may carry a prefix (`site-identity`): the kind comes from its
/// last word.
pub const KEY_IDENTITY: &str = "opskit-identity";
pub const KEY_AUDIT: &str = "opskit-audit-config";
pub const KEY_EXEC: &str = "opskit-exec";
pub const KEY_DELETE: &str = "opskit-delete";
pub const KEY_BIND: &str = "opskit-bind";
pub const KEY_MODULES: &str = "opskit-modules";
pub const KEY_TIME: &str = "opskit-time";

/// The kind an event with this rule key is, when the key says more than its syscall: a write
/// to /etc/passwd is an account change, one to /etc/audit/ an audit configuration change.
pub fn kind_of_key(key: &str) -> Option<Kind> {
    key.split(',').find_map(|k| {
        let last = k.rsplit('-').next().unwrap_or(k);
        match last {
            "identity" => Some(Kind::Account),
            "config" if k.ends_with("audit-config") => Some(Kind::AuditConfig),
            "modules" => Some(Kind::Module),
            "time" => Some(Kind::Time),
            _ => None,
        }
    })
}

/// Programs whose every run is worth a line: they change accounts, privileges, the firewall,
/// scheduled jobs or the audit trail itself.
pub const WATCHED_PROGRAMS: &[&str] = &[
    "/usr/sbin/useradd",
    "/usr/sbin/userdel",
    "/usr/sbin/usermod",
    "/usr/sbin/groupadd",
    "/usr/sbin/groupdel",
    "/usr/sbin/groupmod",
    "/usr/bin/passwd",
    "/usr/sbin/chpasswd",
    "/usr/bin/chage",
    "/usr/sbin/visudo",
    "/usr/bin/crontab",
    "/usr/sbin/iptables",
    "/usr/sbin/nft",
    "/usr/sbin/insmod",
    "/usr/sbin/modprobe",
    "/usr/sbin/rmmod",
    "/usr/sbin/auditctl",
    "/usr/sbin/augenrules",
];

/// Files and directories whose writes and attribute changes define who may do what.
pub const IDENTITY_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh/sshd_config",
    "/etc/pam.d",
    "/root/.ssh",
];

/// Directories where a delete is worth a line.
pub const DELETE_WATCHED: &[&str] = &["/etc", "/boot", "/usr/bin", "/usr/sbin", "/var/log"];

/// The rules file, as `auditctl -R` and /etc/audit/rules.d/ read it.
pub fn rules_file() -> String {
    let mut s = String::from(
        "## Audit rules for opskit's who-did: who did what, as whom, on which host.\n\
         ## Install: who-did --rules > /etc/audit/rules.d/50-opskit.rules && augenrules --load\n\
         ## Logins, sudo and su are logged by PAM and sshd without rules.\n\n",
    );
    s.push_str("## Who may do what: writes and attribute changes.\n");
    for f in IDENTITY_FILES {
        s.push_str(&format!("-w {f} -p wa -k {KEY_IDENTITY}\n"));
    }
    s.push_str("\n## Auditing itself.\n");
    for f in ["/etc/audit", "/etc/libaudit.conf"] {
        s.push_str(&format!("-w {f} -p wa -k {KEY_AUDIT}\n"));
    }
    s.push_str("\n## Programs whose every run matters.\n");
    for p in WATCHED_PROGRAMS {
        s.push_str(&format!("-w {p} -p x -k {KEY_EXEC}\n"));
    }
    s.push_str("\n## Deletes and renames away in directories where they hurt.\n");
    for arch in ["b64", "b32"] {
        for d in DELETE_WATCHED {
            s.push_str(&format!(
                "-a always,exit -F arch={arch} -S unlink,unlinkat,rename,renameat,rmdir \
                 -F dir={d} -F auid!=unset -k {KEY_DELETE}\n"
            ));
        }
    }
    s.push_str(
        "\n## Binds as root (a port below 1024 needs privilege); who-did keeps those below 1024.\n",
    );
    for arch in ["b64", "b32"] {
        s.push_str(&format!(
            "-a always,exit -F arch={arch} -S bind -F euid=0 -F auid!=unset -k {KEY_BIND}\n"
        ));
    }
    s.push_str("\n## Kernel modules.\n");
    for arch in ["b64", "b32"] {
        s.push_str(&format!(
            "-a always,exit -F arch={arch} -S init_module,finit_module,delete_module -k {KEY_MODULES}\n"
        ));
    }
    s.push_str("\n## The clock.\n");
    for arch in ["b64", "b32"] {
        s.push_str(&format!(
            "-a always,exit -F arch={arch} -S settimeofday,clock_settime,adjtimex -k {KEY_TIME}\n"
        ));
    }
    s.push_str(&format!("-w /etc/localtime -p wa -k {KEY_TIME}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_kind_with_or_without_a_prefix() {
        assert_eq!(kind_of_key(KEY_IDENTITY), Some(Kind::Account));
        assert_eq!(kind_of_key("site-identity"), Some(Kind::Account));
        assert_eq!(kind_of_key(KEY_AUDIT), Some(Kind::AuditConfig));
        assert_eq!(kind_of_key("x,opskit-modules"), Some(Kind::Module));
        assert_eq!(kind_of_key(KEY_TIME), Some(Kind::Time));
        assert_eq!(kind_of_key(KEY_EXEC), None);
        assert_eq!(kind_of_key("config"), None);
    }

    #[test]
    fn every_rule_has_a_key() {
        for line in rules_file().lines() {
            if line.starts_with('-') {
                assert!(line.contains(" -k opskit-"), "{line}");
            }
        }
    }
}
