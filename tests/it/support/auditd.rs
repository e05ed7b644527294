//! A real `auditd` on the real kernel audit subsystem, for the audit-trail tests, and
//! [`real_actions`]: real people doing real things on this machine so that the kernel, PAM,
//! sshd, sudo and su write the records a production host would.
//!
//! The kernel has one audit subsystem per machine and takes one daemon at a time, so an
//! [`Auditd`] holds a process-wide lock for its whole life (tests that use it run one after
//! another), runs its own daemon (`auditd -c DIR -n`, a child of the test, with its own
//! `auditd.conf` and a log in a directory the test chooses), and on drop deletes exactly the
//! rules it added (each carries a key with this run's prefix, `opskit-t<PID>-…`), stops its daemon
//! by its pid, and puts `auditctl -e` back to what it was. An auditd that is not ours is never
//! touched: [`Auditd::start`] fails instead.
//!
//! # What Debian 12 really writes (auditd 3.0.9, sudo 1.9.13, OpenSSH 9.2p1, PAM 1.5.2)
//!
//! Found by running [`real_actions`]; `tests/it/fixtures/audit/debian12-actions.log` (ENRICHED)
//! and `debian12-actions-raw.log` (RAW) are such runs. In ENRICHED logs each record ends with
//! a `\x1d` (GS) byte and then the interpreted fields in capitals (`AUID="alice" UID="root"`);
//! RAW logs stop before it. The names are auditd's, looked up when it wrote the record: a uid
//! added a moment before reads `ID="unknown(1001)"`. Records of one event share `msg=audit(SECONDS.MILLIS:SERIAL)`;
//! kernel events end with PROCTITLE (no EOE record is written to the log).
//!
//! - **SSH login with a password (success)**, all user-space records from sshd (pid = sshd's
//!   privileged child), before the login `auid=4294967295`, after it the user's uid:
//!   `USER_AUTH` (`op=PAM:authentication grantors=pam_permit,pam_cap acct="U"
//!   exe="/usr/sbin/sshd" hostname=127.0.0.1 addr=127.0.0.1 terminal=ssh res=success`),
//!   `USER_ACCT` (`op=PAM:accounting`), `CRED_ACQ` (`op=PAM:setcred`), `LOGIN` (kernel, from
//!   pam_loginuid: `old-auid=4294967295 auid=UID tty=(none) old-ses=4294967295 ses=N res=1`),
//!   `USER_START` (`op=PAM:session_open`), then **only when the session has a terminal** (`ssh
//!   -t`) `USER_LOGIN` (`op=login id=UID exe="/usr/sbin/sshd" hostname=127.0.0.1 addr=127.0.0.1
//!   terminal=/dev/pts/N res=success`): a non-interactive `ssh host command` writes no
//!   successful USER_LOGIN at all, so aureport `--login` does not count it. At logout
//!   `USER_END` (`op=PAM:session_close`) and `CRED_DISP`. No `USER_LOGOUT` is written by this
//!   sshd.
//! - **SSH login, wrong password**: `USER_AUTH` (`grantors=? acct="U" exe="/usr/sbin/sshd" …
//!   res=failed`), then about 2 s later (pam_faildelay) `USER_LOGIN` (`op=login acct="U"
//!   exe="/usr/sbin/sshd" hostname=? addr=127.0.0.1 terminal=sshd res=failed`). Note the
//!   failed USER_LOGIN names the account with `acct=`, the successful one with `id=`.
//! - **sudo** (with the password on first use): kernel `SYSCALL` (syscall=59, `euid=0 uid=UID
//!   auid=UID comm="sudo" exe="/usr/bin/sudo"`, rule key) + `BPRM_FCAPS` + `EXECVE`
//!   (`argc=… a0="sudo" …`, arguments with spaces hex-encoded) + `CWD` + `PATH` ×2 +
//!   `PROCTITLE`; then from sudo itself `USER_AUTH` (`acct="U" exe="/usr/bin/sudo" …
//!   res=success`, only when it asked for the password), `USER_ACCT`, `USER_CMD`
//!   (`cwd="/home/U" cmd=6964202D75 exe="/usr/bin/sudo" terminal=pts/N res=success`: `cmd` is
//!   the command as typed, without its path, in quotes when it is one plain word (`cmd="id"`),
//!   else hex, as every audit value with a space, quote or control byte), `CRED_REFR`
//!   (`acct="root"`), `USER_START` (`acct="root"`), `USER_END`, `CRED_DISP`. The command run
//!   as root, when a rule asks for it (`-S execve -F euid=0 -F auid=UID`), is a further
//!   SYSCALL+EXECVE with `uid=0 auid=UID`.
//! - **su** (password on stdin, works without a terminal): kernel `SYSCALL`+`EXECVE` (`a0="su"
//!   a1="-c" a2="id" a3="B"`); `USER_AUTH` (`acct="B" exe="/usr/bin/su" … res=success`),
//!   `USER_ACCT`, `CRED_ACQ`, `USER_START`, `USER_END`, `CRED_DISP`, all with `uid=UID auid=UID`
//!   of the person and `acct=` the target. A wrong password: `USER_AUTH … acct="B"
//!   exe="/usr/bin/su" … res=failed` only (Debian's su writes no USER_ERR / USER_LOGIN).
//! - **exec of a watched binary** (`-w PATH -p x`): `SYSCALL` (syscall=59, `exe=PATH`, key) +
//!   `EXECVE` + `CWD` + `PATH` (item 0 = the binary, item 1 = the ELF interpreter) + `PROCTITLE`.
//! - **write to a watched file** (`-w PATH -p wa`): `SYSCALL` (syscall=257 openat, key) + `CWD` +
//!   `PATH` (`name=PATH nametype=NORMAL`, or `PARENT` + `CREATE` when created) + `PROCTITLE`.
//! - **delete in a watched directory** (`-w DIR -p wa`): `SYSCALL` (syscall=263 unlinkat, key)
//!   + `CWD` + `PATH` (`nametype=PARENT`) + `PATH` (`name=DIR/FILE nametype=DELETE`) + `PROCTITLE`.
//! - **bind below 1024** (`-S bind -F auid=UID`): `SYSCALL` (syscall=49, `exit=0`) +
//!   `SOCKADDR` (`saddr=02000007 7F000001…` in RAW; ENRICHED adds `SADDR={ saddr_fam=inet
//!   laddr=127.0.0.1 lport=7 }`) + `PROCTITLE`. The same rule also catches sshd's and sudo's
//!   binds of their audit netlink socket (`saddr=1000…`, `saddr_fam=netlink`): a normaliser must
//!   look at the family and port.
//! - **the test's own setup**: `useradd` writes `ADD_USER`/`ADD_GROUP`, `chpasswd`
//!   `USER_CHAUTHTOK`, `userdel` `DEL_USER`/`DEL_GROUP`, `auditctl` `CONFIG_CHANGE`
//!   (`op=add_rule key="…" list=4 res=1`) with its SYSCALL+SOCKADDR(netlink), the daemon
//!   `DAEMON_START`, `DAEMON_ROTATE`, `DAEMON_END` (serials of their own, not the kernel's).
//!
//! # Namespaces
//!
//! Records from processes in other UTS, mount and network namespaces (as the Fleet's hosts run)
//! arrive in this one log, like any other: the kernel audits per machine, and nothing in a
//! record names the UTS hostname of the process (`node=` is auditd's own `name_format`). The
//! harness test writes a watched file from `unshare --uts --mount --net` and sees it. So one
//! machine cannot play several audited hosts through the kernel: a Fleet host's audit log is a
//! file put in its private `/var/log/audit/`.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::peer::Peer;
use super::{require, require_root};

/// How long [`Auditd::wait_for`] and the daemon's start and stop may take before the test
/// fails saying what it waited for: a guard against hanging, not a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);

/// Serialises every user of the kernel's one audit subsystem in this process.
static KERNEL_AUDIT: Mutex<()> = Mutex::new(());

/// Holds the kernel's audit subsystem without a daemon: for a test that checks, after its
/// [`Auditd`] is dropped, that the machine is as it was, while no other test's daemon runs.
pub fn hold_kernel_audit() -> MutexGuard<'static, ()> {
    KERNEL_AUDIT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Successive daemons of one process, so that their rule keys differ too.
static RUN: AtomicU32 = AtomicU32::new(0);

/// `log_format` in auditd.conf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// What the kernel and programs sent, and after a `\x1d` the interpreted names (the default).
    Enriched,
    /// What the kernel and programs sent, nothing more.
    Raw,
}

/// `flush` (and `freq`) in auditd.conf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// Every record is on disk before the next (the default here: tests see records at once).
    Sync,
    /// What Debian ships: written at once, synced every `freq` records.
    IncrementalAsync { freq: u32 },
}

/// The daemon's settings a test may choose.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: LogFormat,
    pub flush: Flush,
    /// `max_log_file`, in MiB (auditd's unit); the log rotates past it.
    pub max_log_file_mib: u32,
    /// `num_logs`: how many files rotation keeps, the current one included.
    pub num_logs: u32,
    /// `max_log_file_action`: `ROTATE` (the default here), `KEEP_LOGS`, `IGNORE`…
    pub max_log_file_action: &'static str,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            format: LogFormat::Enriched,
            flush: Flush::Sync,
            max_log_file_mib: 8,
            num_logs: 5,
            max_log_file_action: "ROTATE",
        }
    }
}

/// A running auditd of this test's; dropping it deletes its rules, stops it and restores the
/// kernel's `enabled` flag.
pub struct Auditd {
    child: Option<Child>,
    conf: TempDir,
    log_file: PathBuf,
    prefix: String,
    keys: Vec<String>,
    /// `enabled` from `auditctl -s` before we started (0 off, 1 on, 2 locked).
    enabled_before: u32,
    // Last field: released only after Drop has cleaned up.
    _lock: MutexGuard<'static, ()>,
}

impl Auditd {
    /// Starts auditd with the default [`Options`], logging to `log_dir/audit.log`.
    pub fn start(log_dir: &Path) -> Auditd {
        Auditd::start_with(log_dir, Options::default())
    }

    /// Starts auditd logging to `log_dir/audit.log` with these settings, and returns once it is
    /// the kernel's audit daemon and has written its DAEMON_START record.
    pub fn start_with(log_dir: &Path, options: Options) -> Auditd {
        require_root();
        for program in ["/usr/sbin/auditd", "/usr/sbin/auditctl"] {
            assert!(
                Path::new(program).is_file(),
                "{program} is missing: run scripts/test.sh, or apt-get install auditd"
            );
        }
        let lock = KERNEL_AUDIT.lock().unwrap_or_else(|e| e.into_inner());
        let status = audit_status();
        let enabled_before = status_field(&status, "enabled");
        let kernel_pid = status_field(&status, "pid");
        // The kernel forgets a daemon whose netlink socket closed, so a pid here is alive.
        assert_eq!(
            kernel_pid, 0,
            "an audit daemon that is not this test's runs (pid {kernel_pid}): the tests will not \
             stop it; stop it (systemctl stop auditd) or run them on a machine without one"
        );
        assert_ne!(
            enabled_before, 2,
            "the audit configuration is locked (auditctl -e 2) until reboot"
        );
        remove_stale_rules();

        std::fs::create_dir_all(log_dir).unwrap();
        let conf = tempfile::Builder::new()
            .prefix("opskit-auditd")
            .tempdir()
            .unwrap();
        let log_file = log_dir.join("audit.log");
        let (flush, freq) = match options.flush {
            Flush::Sync => ("SYNC", 0),
            Flush::IncrementalAsync { freq } => ("INCREMENTAL_ASYNC", freq),
        };
        let format = match options.format {
            LogFormat::Enriched => "ENRICHED",
            LogFormat::Raw => "RAW",
        };
        // Space checks are set so low, and their actions to IGNORE, that a nearly full test
        // disk never suspends logging (Debian's SUSPEND would silently stop the records).
        let text = format!(
            "local_events = yes\nwrite_logs = yes\nlog_file = {}\nlog_format = {format}\n\
             log_group = root\nflush = {flush}\nfreq = {freq}\nmax_log_file = {}\n\
             num_logs = {}\nmax_log_file_action = {}\npriority_boost = 0\nname_format = NONE\n\
             space_left = 2\nspace_left_action = IGNORE\nadmin_space_left = 1\n\
             admin_space_left_action = IGNORE\ndisk_full_action = IGNORE\n\
             disk_error_action = IGNORE\nuse_libwrap = no\nplugin_dir = {}\n\
             end_of_event_timeout = 2\n",
            log_file.display(),
            options.max_log_file_mib,
            options.num_logs,
            options.max_log_file_action,
            conf.path().join("plugins.d").display(),
        );
        std::fs::create_dir(conf.path().join("plugins.d")).unwrap();
        std::fs::write(conf.path().join("auditd.conf"), text).unwrap();
        let output = std::fs::File::create(conf.path().join("output")).unwrap();
        // -n: stays our child (its pid is ours to signal and reap); not -f, which would send
        // the records to stderr instead of the log.
        let child = Command::new("/usr/sbin/auditd")
            .arg("-c")
            .arg(conf.path())
            .arg("-n")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        let pid = child.id();
        let prefix = format!(
            "opskit-t{}-{}-",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        );
        let mut auditd = Auditd {
            child: Some(child),
            conf,
            log_file,
            prefix,
            keys: Vec::new(),
            enabled_before,
            _lock: lock,
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = auditd.child.as_mut().unwrap().try_wait().unwrap() {
                auditd.child = None;
                panic!(
                    "auditd exited at start ({status}); its output:\n{}",
                    auditd.output()
                );
            }
            let ours = status_field(&audit_status(), "pid") == pid;
            if ours && auditd.log_text().contains("type=DAEMON_START") {
                return auditd;
            }
            assert!(
                Instant::now() < deadline,
                "auditd (pid {pid}) did not become the kernel's audit daemon and write \
                 DAEMON_START within {PATIENCE:?}; its output:\n{}",
                auditd.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `enabled` as `auditctl -s` said before this daemon started, read under the lock (what
    /// drop restores). A test must not read it itself before starting: another test's daemon
    /// may be running then.
    pub fn enabled_before(&self) -> u32 {
        self.enabled_before
    }

    /// The key prefix every rule of this daemon carries: `opskit-t<PID>-<N>-`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A rule key of this run: the prefix and `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The current log file (`audit.log` in the test's directory).
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Adds one rule, in auditctl's syntax (`-w /etc/passwd -p wa -k KEY`, `-a always,exit -F
    /// arch=b64 -S execve -F key=KEY`); its key must start with [`Auditd::prefix`], so that drop
    /// can delete it and nothing else. Split on white space: rules have no quoted values.
    pub fn add_rule(&mut self, rule: &str) {
        let key = self.checked_key(rule);
        let args: Vec<&str> = rule.split_whitespace().collect();
        let out = Command::new("/usr/sbin/auditctl")
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "auditctl {rule}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.remember(key);
    }

    /// Loads a rules file with `auditctl -R`. Only rules (`-a`, `-A`, `-w`) are allowed, each
    /// with a key of this run: control lines (`-D`, `-e`, `-b`, `-f`…) would change the
    /// machine's state beyond what drop restores.
    pub fn load_rules_file(&mut self, path: &Path) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut keys = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            assert!(
                ["-a ", "-A ", "-w "].iter().any(|p| line.starts_with(p)),
                "{}: only rules may be loaded by a test, not {line:?}",
                path.display()
            );
            keys.push(self.checked_key(line));
        }
        // Remembered first: a file that loads halfway still has its loaded rules deleted.
        for key in keys {
            self.remember(key);
        }
        let out = Command::new("/usr/sbin/auditctl")
            .arg("-R")
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "auditctl -R {}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn remember(&mut self, key: String) {
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
    }

    /// The key a rule carries (`-k KEY` or `-F key=KEY`), which must be one of this run's.
    fn checked_key(&self, rule: &str) -> String {
        let words: Vec<&str> = rule.split_whitespace().collect();
        let key = words
            .windows(2)
            .find_map(|w| match w {
                ["-k", key] => Some(key.to_string()),
                ["-F", field] => field.strip_prefix("key=").map(str::to_string),
                _ => None,
            })
            .unwrap_or_else(|| panic!("rule without a key: {rule:?}"));
        assert!(
            key.starts_with(&self.prefix),
            "rule key {key:?} does not start with this run's prefix {:?}: {rule:?}",
            self.prefix
        );
        key
    }

    /// The rules the kernel holds now (`auditctl -l`).
    pub fn rules(&self) -> String {
        listed_rules()
    }

    /// Rotates the log as `service auditd rotate` does (SIGUSR1), and returns once the new
    /// file is in place with its DAEMON_ROTATE record.
    pub fn rotate(&self) {
        use std::os::unix::fs::MetadataExt;
        let before = std::fs::metadata(&self.log_file).map(|m| m.ino()).ok();
        // SAFETY: signalling our own child, not yet reaped (it is in self.child).
        unsafe { libc::kill(self.pid() as i32, libc::SIGUSR1) };
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = std::fs::metadata(&self.log_file).map(|m| m.ino()).ok();
            let fresh = now.is_some() && now != before;
            if fresh
                && std::fs::read_to_string(&self.log_file)
                    .unwrap_or_default()
                    .contains("type=DAEMON_ROTATE")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "auditd did not rotate {} within {PATIENCE:?} of SIGUSR1",
                self.log_file.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log files, oldest first: `audit.log.N` … `audit.log.1`, then `audit.log`.
    pub fn log_files(&self) -> Vec<PathBuf> {
        let mut rotated: Vec<(u32, PathBuf)> = Vec::new();
        let name = self.log_file.file_name().unwrap().to_string_lossy();
        if let Ok(entries) = std::fs::read_dir(self.log_file.parent().unwrap()) {
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                if let Some(n) = file
                    .strip_prefix(&*name)
                    .and_then(|s| s.strip_prefix('.'))
                    .and_then(|s| s.parse::<u32>().ok())
                {
                    rotated.push((n, e.path()));
                }
            }
        }
        rotated.sort_by_key(|r| std::cmp::Reverse(r.0));
        let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
        if self.log_file.exists() {
            files.push(self.log_file.clone());
        }
        files
    }

    /// Every log file's bytes, oldest first, one after the other.
    pub fn log_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for f in self.log_files() {
            if let Ok(mut file) = std::fs::File::open(f) {
                file.read_to_end(&mut all).unwrap();
            }
        }
        all
    }

    /// The logs as text (lossy), oldest first.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.log_bytes()).into_owned()
    }

    /// Waits until `ready` holds for the logs' text and returns that text; fails after
    /// [`PATIENCE`] naming `what` it waited for.
    #[track_caller]
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.log_text();
            if ready(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "the audit log never showed {what} within {PATIENCE:?}; it holds:\n{}",
                tail(&text, 40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the daemon printed.
    fn output(&self) -> String {
        std::fs::read_to_string(self.conf.path().join("output")).unwrap_or_default()
    }
}

impl Drop for Auditd {
    fn drop(&mut self) {
        // Never panics: it runs while a failed test unwinds too, and must clean up then.
        for key in &self.keys {
            match Command::new("/usr/sbin/auditctl")
                .args(["-D", "-k", key])
                .output()
            {
                Ok(out) if out.status.success() => {}
                other => eprintln!("auditd harness: cannot delete rules keyed {key}: {other:?}"),
            }
        }
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child, not yet reaped.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + PATIENCE;
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        eprintln!("auditd harness: auditd ignored SIGTERM; killing it");
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        // auditd enables auditing when it starts and leaves it so when it stops.
        if let Err(e) = Command::new("/usr/sbin/auditctl")
            .args(["-e", &self.enabled_before.to_string()])
            .output()
        {
            eprintln!("auditd harness: cannot restore auditctl -e: {e}");
        }
    }
}

/// `auditctl -s`.
pub fn audit_status() -> String {
    let out = Command::new("/usr/sbin/auditctl")
        .arg("-s")
        .output()
        .unwrap();
    assert!(out.status.success(), "auditctl -s: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A numeric field of `auditctl -s` (`enabled`, `pid`, `lost`…).
pub fn status_field(status: &str, name: &str) -> u32 {
    status
        .lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(name)).then(|| words.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no {name} in auditctl -s:\n{status}"))
}

/// `auditctl -l`.
pub fn listed_rules() -> String {
    let out = Command::new("/usr/sbin/auditctl")
        .arg("-l")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Deletes rules left by a test process of ours that died without cleaning up (killed, or the
/// machine's test run aborted): keys `opskit-t<PID>-` whose process is gone.
fn remove_stale_rules() {
    let rules = listed_rules();
    let mut stale: Vec<&str> = rules
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("key=").or(Some(w)))
        .filter(|w| {
            w.strip_prefix("opskit-t")
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        })
        .collect();
    stale.sort();
    stale.dedup();
    for key in stale {
        let _ = Command::new("/usr/sbin/auditctl")
            .args(["-D", "-k", key])
            .output();
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---------------------------------------------------------------------------------------------
// Real actions

/// What a person did, as a normaliser should report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Login,
    FailedLogin,
    Sudo,
    Su,
    Exec,
    FileWrite,
    Delete,
    PrivilegedPortBind,
}

/// A record an action must have left: one log line of type `record` holding every string of
/// `contains`, in an event (same `msg=audit(…)`) that also holds records of the types `with`.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub record: &'static str,
    pub contains: Vec<String>,
    pub with: &'static [&'static str],
}

/// One thing done, and the records it must have left.
#[derive(Debug, Clone)]
pub struct Action {
    /// The login name of the person (the auid), or the account tried for a failed login.
    pub actor: String,
    /// The account it ran as.
    pub acting_as: String,
    pub kind: Kind,
    /// The command line, the path, `ADDRESS:PORT` for a bind, or the sshd for a login.
    pub what: String,
    /// The remote address of a login.
    pub from: Option<String>,
    pub success: bool,
    /// The rule key that caught it, for kernel records.
    pub key: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// What [`real_actions`] did and the log it left.
#[derive(Debug, Clone)]
pub struct ActionLog {
    /// Every log file's bytes, oldest first (the run rotates the log once in the middle).
    pub log: Vec<u8>,
    pub actions: Vec<Action>,
    /// The person (`okt<PID>n<N>a`) and the account they su to (`…b`), both deleted since.
    pub user: String,
    pub other_user: String,
    pub uid: u32,
    pub other_uid: u32,
}

/// Test users, their sudoers drop-in and their homes, removed on drop (also when the test
/// fails half way).
struct TestUsers {
    names: Vec<String>,
    sudoers: PathBuf,
}

impl Drop for TestUsers {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.sudoers);
        for name in &self.names {
            // -f: also when a session of theirs is still closing.
            match Command::new("/usr/sbin/userdel")
                .args(["-r", "-f", name])
                .output()
            {
                Ok(out) if out.status.success() || out.status.code() == Some(6) => {}
                other => eprintln!("auditd harness: userdel {name}: {other:?}"),
            }
        }
    }
}

static USERS: AtomicU32 = AtomicU32::new(0);

/// A password nobody guesses, for a user that lives a few seconds.
fn password(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("Pw-{tag}-{}-{nanos:09}", std::process::id())
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Upper-case hex of `text`, as audit encodes values with spaces, quotes or control bytes.
pub fn audit_hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02X}")).collect()
}

/// A value as audit writes it: in double quotes, or in hex when it holds a space, a double
/// quote, a control byte or a byte past ASCII (libaudit's `audit_value_needs_encoding`).
pub fn audit_value(text: &str) -> String {
    if text.bytes().any(|b| b == b'"' || b <= b' ' || b >= 0x7f) {
        audit_hex(text)
    } else {
        format!("\"{text}\"")
    }
}

/// A TCP port below 1024 that is free on 127.0.0.1 (we are root, so we may try).
fn free_privileged_port() -> u16 {
    (600..1024)
        .rev()
        .find(|&p| std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok())
        .expect("no free TCP port below 1024 on 127.0.0.1")
}

/// What the person runs inside their SSH session. `$1` the work directory, `$2` the other
/// user, `$3` the port to bind. Passwords come from files only they can read, so that no
/// command line (EXECVE, PROCTITLE, USER_CMD) carries one. Each step prints `STEP name status`.
/// `rm -f`: the file is root's, and rm on a terminal would ask before deleting it.
const SESSION_SCRIPT: &str = r#"set -u
# Nothing may wait for an answer on the terminal: a prompt would hang the session.
exec </dev/null
pa=$(cat "$1/secret-a"); pb=$(cat "$1/secret-b")
printf '%s\n' "$pa" | sudo -S -p '' id -u >/dev/null; echo "STEP sudo $?"
echo "changed by $(id -un)" >> "$1/watched/file"; echo "STEP write $?"
rm -f "$1/drop/doomed"; echo "STEP delete $?"
"$1/bin/opskit-tool"; echo "STEP exec $?"
printf '%s\n' "$pa" | sudo -S -p '' python3 -c "$(cat "$1/bind.py")" "$3"; echo "STEP bind $?"
printf '%s\n' "$pb" | su -c id "$2" >/dev/null; echo "STEP su $?"
printf '%s\n' wrong | su -c id "$2" >/dev/null 2>&1; echo "STEP su-failed $?"
"#;

/// Binds the port given, as root, and says so.
const BIND_PY: &str = "import socket,sys; s = socket.socket(); \
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))";

/// With `auditd` running, creates two users with passwords (the person may sudo), starts an
/// sshd with `UsePAM yes` and password authentication on 127.0.0.1, and does, as that person:
/// a failed SSH password login, then a successful one with a terminal in which they sudo, write
/// a watched file, delete a file in a watched directory, run a watched binary, bind a port below
/// 1024 as root (through sudo), su to the other user, and fail to su with a wrong password.
/// The log is rotated once between the two logins, so it spans two files. Returns the logs
/// (after the users are deleted, so `DEL_USER` is in them too) and the expected actions.
pub fn real_actions(auditd: &mut Auditd) -> ActionLog {
    require_root();
    for (program, package) in [
        ("sshpass", "sshpass"),
        ("ssh", "openssh-client"),
        ("ssh-keygen", "openssh-client"),
        ("sudo", "sudo"),
        ("su", "util-linux"),
        ("python3", "python3"),
    ] {
        require(program, package);
    }
    for program in ["/usr/sbin/sshd", "/usr/sbin/useradd", "/usr/sbin/chpasswd"] {
        assert!(
            Path::new(program).is_file(),
            "{program} is missing: run scripts/test.sh"
        );
    }

    let n = USERS.fetch_add(1, Ordering::Relaxed);
    let base = format!("okt{}n{n}", std::process::id());
    let (user, other) = (format!("{base}a"), format!("{base}b"));
    let users = TestUsers {
        names: vec![user.clone(), other.clone()],
        sudoers: PathBuf::from(format!("/etc/sudoers.d/opskit-{base}")),
    };
    let (pw_a, pw_b) = (password("a"), password("b"));
    for (name, pw) in [(&user, &pw_a), (&other, &pw_b)] {
        run(Command::new("/usr/sbin/useradd").args(["-m", "-s", "/bin/bash", name]));
        run_stdin(
            &mut Command::new("/usr/sbin/chpasswd"),
            format!("{name}:{pw}\n"),
        );
    }
    let uid = id_of(&user);
    let other_uid = id_of(&other);
    std::fs::write(&users.sudoers, format!("{user} ALL=(ALL:ALL) ALL\n")).unwrap();
    std::fs::set_permissions(&users.sudoers, std::fs::Permissions::from_mode(0o440)).unwrap();
    run(Command::new("/usr/sbin/visudo")
        .arg("-cf")
        .arg(&users.sudoers));

    // The person's playground: world-traversable, with what the rules watch.
    let work = tempfile::Builder::new()
        .prefix("opskit-actions")
        .tempdir()
        .unwrap();
    let w = work.path();
    let mode = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    mode(w, 0o755);
    for d in ["watched", "drop", "bin"] {
        std::fs::create_dir(w.join(d)).unwrap();
        mode(&w.join(d), 0o755);
    }
    let watched_file = w.join("watched/file");
    std::fs::write(&watched_file, "first line\n").unwrap();
    mode(&watched_file, 0o666);
    let doomed = w.join("drop/doomed");
    std::fs::write(&doomed, "delete me\n").unwrap();
    // The person may delete in it; the directory is what the rule watches.
    mode(&w.join("drop"), 0o777);
    let tool = w.join("bin/opskit-tool");
    std::fs::copy("/usr/bin/true", &tool).unwrap();
    mode(&tool, 0o755);
    std::fs::write(w.join("session.sh"), SESSION_SCRIPT).unwrap();
    std::fs::write(w.join("bind.py"), BIND_PY).unwrap();
    for (file, pw) in [("secret-a", &pw_a), ("secret-b", &pw_b)] {
        std::fs::write(w.join(file), format!("{pw}\n")).unwrap();
        std::os::unix::fs::chown(w.join(file), Some(uid), None).unwrap();
        mode(&w.join(file), 0o400);
    }
    let port = free_privileged_port();

    let key = |name: &str| auditd.key(name);
    let (k_file, k_dir, k_exec, k_bind, k_sudo, k_su, k_root) = (
        key("file"),
        key("delete"),
        key("exec"),
        key("bind"),
        key("sudo"),
        key("su"),
        key("root-cmd"),
    );
    // First match wins on the exit list: sudo and su before the catch-all for root commands.
    for rule in [
        format!("-w {} -p wa -k {k_file}", watched_file.display()),
        format!("-w {} -p wa -k {k_dir}", w.join("drop").display()),
        format!("-w {} -p x -k {k_exec}", tool.display()),
        format!("-a always,exit -F arch=b64 -S bind -F auid={uid} -k {k_bind}"),
        format!("-a always,exit -F arch=b64 -S execve -F path=/usr/bin/sudo -k {k_sudo}"),
        format!("-a always,exit -F arch=b64 -S execve -F path=/usr/bin/su -k {k_su}"),
        format!("-a always,exit -F arch=b64 -S execve -F euid=0 -F auid={uid} -k {k_root}"),
    ] {
        auditd.add_rule(&rule);
    }

    let sshd = PamSshd::start(&user);
    let client_home = tempfile::Builder::new()
        .prefix("opskit-ssh-client")
        .tempdir()
        .unwrap();
    let ssh = |password: &str, tty: bool, command: &str| {
        let mut cmd = Command::new("sshpass");
        cmd.arg("-e")
            .env("SSHPASS", password)
            .env("HOME", client_home.path())
            .env_remove("SSH_AUTH_SOCK")
            .args(["ssh", "-F", "none"])
            .args(["-o", "StrictHostKeyChecking=yes", "-o"])
            .arg(format!("UserKnownHostsFile={}", sshd.known_hosts.display()))
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .args(["-o", "PubkeyAuthentication=no"])
            .args(["-o", "PreferredAuthentications=password"])
            .args(["-o", "NumberOfPasswordPrompts=1"])
            .args(["-o", "ConnectTimeout=20"])
            .args(["-p", &sshd.port.to_string()]);
        if tty {
            // A terminal makes it a login sshd records as one (USER_LOGIN res=success).
            cmd.arg("-tt");
        }
        cmd.arg(format!("{user}@127.0.0.1")).arg(command);
        output_within(&mut cmd, SESSION_PATIENCE)
    };

    // A wrong password: one attempt, refused.
    let failed = ssh("not-the-password", false, "true");
    assert!(
        !failed.status.success(),
        "a wrong password was accepted: {failed:?}"
    );
    auditd.wait_for("the failed SSH login", |t| {
        t.lines().any(|l| {
            l.starts_with("type=USER_LOGIN")
                && l.contains(&format!("acct=\"{user}\""))
                && l.contains("res=failed")
        })
    });
    // The log spans two files, as a real one does.
    auditd.rotate();

    let session = ssh(
        &pw_a,
        true,
        &format!(
            "bash {}/session.sh {} {other} {port}",
            w.display(),
            w.display()
        ),
    );
    let printed = String::from_utf8_lossy(&session.stdout).replace('\r', "");
    let step = |name: &str| -> Option<i32> {
        printed.lines().find_map(|l| {
            // su's "Password: " prompt has no newline: the marker may follow it on its line.
            let mut words = l[l.find("STEP ")?..].split_whitespace();
            (words.next() == Some("STEP") && words.next() == Some(name))
                .then(|| words.next()?.parse().ok())?
        })
    };
    for name in ["sudo", "write", "delete", "exec", "bind", "su"] {
        assert_eq!(
            step(name),
            Some(0),
            "step {name} of the session failed; it printed:\n{printed}\n{}",
            String::from_utf8_lossy(&session.stderr)
        );
    }
    assert_eq!(
        step("su-failed"),
        Some(1),
        "su with a wrong password did not fail as expected:\n{printed}"
    );
    assert!(session.status.success(), "the SSH session: {session:?}");
    auditd.wait_for("the session's end (USER_END from sshd)", |t| {
        t.lines().any(|l| {
            l.starts_with("type=USER_END")
                && l.contains("exe=\"/usr/sbin/sshd\"")
                && l.contains(&format!("acct=\"{user}\""))
        })
    });
    drop(sshd);
    drop(users);
    auditd.wait_for("the test users' deletion (DEL_USER)", |t| {
        t.lines().filter(|l| l.starts_with("type=DEL_USER")).count() >= 2
    });

    let s = |v: &str| v.to_string();
    let acct = format!("acct=\"{user}\"");
    let auid = format!("auid={uid}");
    let bind_cmd = format!("python3 -c {BIND_PY} {port}");
    let sockaddr = format!("saddr=0200{port:04X}7F000001");
    let actions = vec![
        Action {
            actor: user.clone(),
            acting_as: user.clone(),
            kind: Kind::FailedLogin,
            what: s("sshd"),
            from: Some(s("127.0.0.1")),
            success: false,
            key: None,
            evidence: vec![
                Evidence {
                    record: "USER_AUTH",
                    contains: vec![acct.clone(), s("exe=\"/usr/sbin/sshd\""), s("res=failed")],
                    with: &[],
                },
                Evidence {
                    record: "USER_LOGIN",
                    contains: vec![
                        acct.clone(),
                        s("exe=\"/usr/sbin/sshd\""),
                        s("addr=127.0.0.1"),
                        s("res=failed"),
                    ],
                    with: &[],
                },
            ],
        },
        Action {
            actor: user.clone(),
            acting_as: user.clone(),
            kind: Kind::Login,
            what: s("sshd"),
            from: Some(s("127.0.0.1")),
            success: true,
            key: None,
            evidence: vec![
                Evidence {
                    record: "USER_AUTH",
                    contains: vec![acct.clone(), s("exe=\"/usr/sbin/sshd\""), s("res=success")],
                    with: &[],
                },
                Evidence {
                    record: "USER_ACCT",
                    contains: vec![acct.clone(), s("exe=\"/usr/sbin/sshd\"")],
                    with: &[],
                },
                Evidence {
                    record: "CRED_ACQ",
                    contains: vec![acct.clone(), s("exe=\"/usr/sbin/sshd\"")],
                    with: &[],
                },
                Evidence {
                    record: "LOGIN",
                    contains: vec![s("old-auid=4294967295"), format!(" {auid} ")],
                    with: &[],
                },
                Evidence {
                    record: "USER_START",
                    contains: vec![acct.clone(), s("exe=\"/usr/sbin/sshd\""), auid.clone()],
                    with: &[],
                },
                Evidence {
                    record: "USER_LOGIN",
                    contains: vec![
                        format!("id={uid} "),
                        s("exe=\"/usr/sbin/sshd\""),
                        s("addr=127.0.0.1"),
                        s("terminal=/dev/pts/"),
                        s("res=success"),
                    ],
                    with: &[],
                },
                Evidence {
                    record: "USER_END",
                    contains: vec![acct.clone(), s("exe=\"/usr/sbin/sshd\"")],
                    with: &[],
                },
                Evidence {
                    record: "CRED_DISP",
                    contains: vec![acct.clone(), s("exe=\"/usr/sbin/sshd\"")],
                    with: &[],
                },
            ],
        },
        Action {
            actor: user.clone(),
            acting_as: s("root"),
            kind: Kind::Sudo,
            what: s("id -u"),
            from: None,
            success: true,
            key: Some(k_sudo.clone()),
            evidence: vec![
                Evidence {
                    record: "SYSCALL",
                    contains: vec![
                        format!("key=\"{k_sudo}\""),
                        s("syscall=59"),
                        auid.clone(),
                        s("exe=\"/usr/bin/sudo\""),
                    ],
                    with: &["EXECVE", "CWD", "PATH", "PROCTITLE"],
                },
                Evidence {
                    record: "EXECVE",
                    contains: vec![s("a0=\"sudo\""), s("\"id\" a5=\"-u\"")],
                    with: &["SYSCALL"],
                },
                Evidence {
                    record: "USER_AUTH",
                    contains: vec![acct.clone(), s("exe=\"/usr/bin/sudo\""), s("res=success")],
                    with: &[],
                },
                Evidence {
                    record: "USER_CMD",
                    contains: vec![
                        auid.clone(),
                        format!("cmd={}", audit_value("id -u")),
                        s("exe=\"/usr/bin/sudo\""),
                        s("res=success"),
                    ],
                    with: &[],
                },
                Evidence {
                    record: "USER_START",
                    contains: vec![s("acct=\"root\""), s("exe=\"/usr/bin/sudo\""), auid.clone()],
                    with: &[],
                },
                Evidence {
                    record: "SYSCALL",
                    contains: vec![
                        format!("key=\"{k_root}\""),
                        s("comm=\"id\""),
                        auid.clone(),
                        s(" uid=0 "),
                    ],
                    with: &["EXECVE"],
                },
            ],
        },
        Action {
            actor: user.clone(),
            acting_as: s("root"),
            kind: Kind::Sudo,
            what: bind_cmd.clone(),
            from: None,
            success: true,
            key: Some(k_sudo.clone()),
            evidence: vec![Evidence {
                record: "USER_CMD",
                contains: vec![
                    auid.clone(),
                    format!("cmd={}", audit_value(&bind_cmd)),
                    s("res=success"),
                ],
                with: &[],
            }],
        },
        Action {
            actor: user.clone(),
            acting_as: user.clone(),
            kind: Kind::FileWrite,
            what: watched_file.display().to_string(),
            from: None,
            success: true,
            key: Some(k_file.clone()),
            evidence: vec![Evidence {
                record: "SYSCALL",
                contains: vec![
                    format!("key=\"{k_file}\""),
                    s("syscall=257"),
                    s("success=yes"),
                    auid.clone(),
                    format!(" uid={uid} "),
                ],
                with: &["CWD", "PATH", "PROCTITLE"],
            }],
        },
        Action {
            actor: user.clone(),
            acting_as: user.clone(),
            kind: Kind::Delete,
            what: doomed.display().to_string(),
            from: None,
            success: true,
            key: Some(k_dir.clone()),
            evidence: vec![
                Evidence {
                    record: "SYSCALL",
                    contains: vec![
                        format!("key=\"{k_dir}\""),
                        s("syscall=263"),
                        s("success=yes"),
                        auid.clone(),
                    ],
                    with: &["CWD", "PATH", "PROCTITLE"],
                },
                Evidence {
                    record: "PATH",
                    contains: vec![
                        format!("name=\"{}\"", doomed.display()),
                        s("nametype=DELETE"),
                    ],
                    with: &["SYSCALL"],
                },
            ],
        },
        Action {
            actor: user.clone(),
            acting_as: user.clone(),
            kind: Kind::Exec,
            what: tool.display().to_string(),
            from: None,
            success: true,
            key: Some(k_exec.clone()),
            evidence: vec![Evidence {
                record: "SYSCALL",
                contains: vec![
                    format!("key=\"{k_exec}\""),
                    s("syscall=59"),
                    format!("exe=\"{}\"", tool.display()),
                    auid.clone(),
                ],
                with: &["EXECVE", "CWD", "PATH", "PROCTITLE"],
            }],
        },
        Action {
            actor: user.clone(),
            acting_as: s("root"),
            kind: Kind::PrivilegedPortBind,
            what: format!("127.0.0.1:{port}"),
            from: None,
            success: true,
            key: Some(k_bind.clone()),
            evidence: vec![
                Evidence {
                    record: "SYSCALL",
                    contains: vec![
                        format!("key=\"{k_bind}\""),
                        s("syscall=49"),
                        s("success=yes"),
                        auid.clone(),
                        s(" euid=0 "),
                        s("comm=\"python3\""),
                    ],
                    with: &["SOCKADDR", "PROCTITLE"],
                },
                Evidence {
                    record: "SOCKADDR",
                    contains: vec![sockaddr],
                    with: &["SYSCALL"],
                },
            ],
        },
        Action {
            actor: user.clone(),
            acting_as: other.clone(),
            kind: Kind::Su,
            what: s("id"),
            from: None,
            success: true,
            key: Some(k_su.clone()),
            evidence: vec![
                Evidence {
                    record: "SYSCALL",
                    contains: vec![
                        format!("key=\"{k_su}\""),
                        s("syscall=59"),
                        s("exe=\"/usr/bin/su\""),
                        auid.clone(),
                    ],
                    with: &["EXECVE", "PROCTITLE"],
                },
                Evidence {
                    record: "USER_AUTH",
                    contains: vec![
                        format!("acct=\"{other}\""),
                        s("exe=\"/usr/bin/su\""),
                        auid.clone(),
                        s("res=success"),
                    ],
                    with: &[],
                },
                Evidence {
                    record: "USER_START",
                    contains: vec![
                        format!("acct=\"{other}\""),
                        s("exe=\"/usr/bin/su\""),
                        auid.clone(),
                    ],
                    with: &[],
                },
            ],
        },
        Action {
            actor: user.clone(),
            acting_as: other.clone(),
            kind: Kind::Su,
            what: s("id"),
            from: None,
            success: false,
            key: Some(k_su.clone()),
            evidence: vec![Evidence {
                record: "USER_AUTH",
                contains: vec![
                    format!("acct=\"{other}\""),
                    s("exe=\"/usr/bin/su\""),
                    auid.clone(),
                    s("res=failed"),
                ],
                with: &[],
            }],
        },
    ];
    // Taken before the playground is deleted: deleting watched paths is the test's own doing,
    // and the kernel drops a watch whose path is gone (CONFIG_CHANGE op=remove_rule).
    let log = auditd.log_bytes();
    drop(work);
    ActionLog {
        log,
        actions,
        user,
        other_user: other,
        uid,
        other_uid,
    }
}

/// How long one SSH session of the real actions may take (a failed password costs ~2 s, a
/// failed su ~2 s more) before the test fails: a hang guard.
const SESSION_PATIENCE: Duration = Duration::from_secs(120);

/// Runs `cmd` to completion, or kills it (by its pid) and fails after `patience`, showing what
/// it printed: a session waiting for an answer must fail the test, not hang it.
fn output_within(cmd: &mut Command, patience: Duration) -> std::process::Output {
    let dir = tempfile::Builder::new()
        .prefix("opskit-output")
        .tempdir()
        .unwrap();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let deadline = Instant::now() + patience;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} did not finish within {patience:?}; it printed:\n{}\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default(),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

fn id_of(user: &str) -> u32 {
    let out = run(Command::new("id").args(["-u", user]));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn run_stdin(cmd: &mut Command, input: String) {
    let out = super::run_with_stdin(cmd, input);
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

/// A real sshd on 127.0.0.1 as a production host runs it: PAM (so pam_loginuid sets the auid
/// and PAM writes its audit records) and passwords, allowing only the test user.
struct PamSshd {
    _peer: Peer,
    port: u16,
    known_hosts: PathBuf,
    _dir: TempDir,
}

impl PamSshd {
    fn start(user: &str) -> PamSshd {
        let dir = tempfile::Builder::new()
            .prefix("opskit-pam-sshd")
            .tempdir()
            .unwrap();
        let key = dir.path().join("host_key");
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "opskit-test", "-f"])
            .arg(&key));
        // sshd refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let config = dir.path().join("sshd_config");
        let peer = Peer::tcp(Ipv4Addr::LOCALHOST)
            .patience(Duration::from_secs(20))
            .start(
                |port| {
                    std::fs::write(
                        &config,
                        format!(
                            "ListenAddress 127.0.0.1:{port}\nHostKey {}\nUsePAM yes\n\
                             PasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
                             PubkeyAuthentication no\nPermitRootLogin no\nAllowUsers {user}\n\
                             # Not the machine's /run/sshd.pid.\nPidFile none\nUseDNS no\n\
                             PrintMotd no\nPrintLastLog no\nLogLevel VERBOSE\n",
                            key.display()
                        ),
                    )
                    .unwrap();
                    let mut cmd = Command::new("/usr/sbin/sshd");
                    cmd.args(["-D", "-e", "-f"]).arg(&config);
                    cmd
                },
                |probe| sends_banner(probe.port),
            );
        let port = peer.port();
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(
            &known_hosts,
            format!("[127.0.0.1]:{port} {}\n", public.join(" ")),
        )
        .unwrap();
        PamSshd {
            _peer: peer,
            port,
            known_hosts,
            _dir: dir,
        }
    }
}

/// Whether sshd answers on 127.0.0.1:port with an SSH banner.
fn sends_banner(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("SSH-2.0-")
}
