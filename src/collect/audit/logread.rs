//! Reading a host's audit log incrementally, over SSH or locally, with one fixed script.
//!
//! The script lists the log and its rotated files (LOG.N … LOG.1, LOG: oldest first) with
//! their device, inode and size, finds the file the checkpoint names by its identity (a
//! rotation renames it, so its name changes and its inode does not), and prints from the
//! checkpoint's offset to the end of the newest file, at most the byte cap. Nothing the host
//! sends is run: the only things put into the script are numbers and the log's path, single
//! quoted. The output is bytes, parsed here: each file's part is cut at its last complete
//! line, events still being written are held back (see [`super::Reader::finish_at`]), and
//! the checkpoint moves to where the next read must start, so that every event is stored
//! once across rescans, rotation, truncation and a partial last line.

use crate::model::audit::{AuditRead, CHECKPOINT_TAIL, Checkpoint};

use super::{Names, Reader, authlog};

/// What a read needs to know.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The audit log's path.
    pub log: String,
    /// Where the last read stopped on this host.
    pub checkpoint: Option<Checkpoint>,
    /// The most bytes of log read.
    pub max_bytes: u64,
}

/// How a scan reads audit logs: the configuration, and each host's checkpoint by hostname
/// (looked up by the name the host reports in the same scan).
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub log: String,
    /// Read through `sudo -n` when the user is not root.
    pub sudo: bool,
    pub max_bytes: u64,
    pub checkpoints: std::sync::Arc<std::collections::HashMap<String, Checkpoint>>,
}

impl AuditOptions {
    /// The read options for the host that reports `hostname`.
    pub fn for_host(&self, hostname: &str) -> ReadOptions {
        ReadOptions {
            log: self.log.clone(),
            checkpoint: self.checkpoints.get(hostname).cloned(),
            max_bytes: self.max_bytes,
        }
    }

    /// The command that runs the script on stdin.
    pub fn command(&self) -> &'static str {
        if self.sudo { "sudo -n sh -s" } else { "sh -s" }
    }
}

/// What a read that could not run says, with the read's own fields.
pub fn failed(options: &ReadOptions, problem: String) -> AuditRead {
    AuditRead {
        log: options.log.clone(),
        started_from: options.checkpoint.clone(),
        problem: Some(problem),
        ..AuditRead::default()
    }
}

/// Runs a read script on this machine: `sh -s`, or `sudo -n sh -s` when `sudo` and not
/// root. Its stdout, or one line saying what went wrong.
pub fn run_locally(sudo: bool, script: &str) -> std::result::Result<Vec<u8>, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let words: &[&str] = if sudo && !nix::unistd::geteuid().is_root() {
        &["sudo", "-n", "sh", "-s"]
    } else {
        &["sh", "-s"]
    };
    let mut child = Command::new(words[0])
        .args(&words[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {}: {e}", words[0]))?;
    let mut stdin = child.stdin.take().expect("piped");
    let script = script.to_string();
    // Written from a thread: a script larger than the pipe would otherwise wait on a reader
    // that waits on it.
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("running {}: {e}", words[0]))?;
    let _ = writer.join();
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{} failed: {}",
            words.join(" "),
            crate::collect::packages::summarize_stderr(&String::from_utf8_lossy(&out.stderr))
        ))
    }
}

/// The default audit log.
pub const DEFAULT_LOG: &str = "/var/log/audit/audit.log";

/// The default byte cap per host and scan.
pub const DEFAULT_MAX_MIB: usize = 16;

/// The script. `sh_quote` quotes the log's path for the shell.
pub fn script(marker: &str, options: &ReadOptions, sh_quote: impl Fn(&str) -> String) -> String {
    let (dev, ino, off, back) =
        options
            .checkpoint
            .as_ref()
            .map_or((String::new(), String::new(), 0, 0), |c| {
                let back = (c.tail.len() as u64).min(c.offset);
                (c.device.to_string(), c.inode.to_string(), c.offset, back)
            });
    let cursor = options
        .checkpoint
        .as_ref()
        .and_then(|c| c.cursor.as_deref())
        .map(&sh_quote)
        .unwrap_or_else(|| "''".to_string());
    format!(
        r#"LC_ALL=C; export LC_ALL
m={marker}
log={log}
dev='{dev}'; ino='{ino}'; off={off}; back={back}; cap={cap}; cursor={cursor}
s() {{ printf '\n%s %s\n' "$m" "$*"; }}
s now; date +%s
s zone; date +%z
s passwd; head -c 4194304 /etc/passwd 2>/dev/null
src=audit
if [ ! -r "$log" ]; then
  if [ -e "$log" ]; then s unreadable "$(id -un 2>/dev/null)"; else s absent; fi
  src=
  for a in /var/log/auth.log /var/log/secure; do
    if [ -r "$a" ]; then log=$a; src=authlog; break; fi
  done
  if [ -z "$src" ]; then
    command -v journalctl >/dev/null 2>&1 || {{ s end; exit 0; }}
    src=journal
  fi
fi
s source "$src" "$log"
if [ "$src" = journal ]; then
  s journal
  # Asked only where it ends (cap 0): its last entry, for the cursor.
  if [ "$cap" -eq 0 ]; then since=--lines=1; cap=1048576
  elif [ -n "$cursor" ]; then since="--after-cursor=$cursor"; else since=--since=-24h; fi
  journalctl --no-pager -q -o json "$since" SYSLOG_IDENTIFIER=sshd SYSLOG_IDENTIFIER=sudo     SYSLOG_IDENTIFIER=su 2>/dev/null | head -c "$cap"
  s end
  exit 0
fi
# Rotated files, oldest first (auditd's LOG.1…LOG.N, logrotate's LOG.1 or LOG-DATE; not .gz).
files="$(ls -1tr "$log".[0-9]* "$log"-[0-9]* 2>/dev/null | grep -v '\.gz$' | tr '\n' ' ')$log"
found=
for f in $files; do
  set -- $(stat -L -c '%d %i %s' "$f" 2>/dev/null)
  [ -n "$3" ] || continue
  s stat "$1" "$2" "$3"
  if [ "$1" = "$dev" ] && [ "$2" = "$ino" ]; then found=$f; fi
done
reading=
[ -z "$found" ] && reading=yes
for f in $files; do
  set -- $(stat -L -c '%d %i %s' "$f" 2>/dev/null)
  [ "$f" = "$found" ] && reading=yes
  [ -n "$reading" ] || continue
  [ -n "$3" ] || continue
  start=0
  if [ "$f" = "$found" ] && [ "$off" -le "$3" ]; then start=$((off - back)); fi
  [ "$cap" -gt 0 ] || break
  s file "$1" "$2" "$3" "$start"
  tail -c +$((start + 1)) "$f" 2>/dev/null | head -c "$cap"
  n=$(($3 - start)); [ "$n" -gt "$cap" ] && n=$cap; cap=$((cap - n))
done
s end
"#,
        log = sh_quote(&options.log),
        cap = options.max_bytes,
    )
}

/// One file part of the output.
struct Part<'a> {
    device: u64,
    inode: u64,
    start: u64,
    data: &'a [u8],
}

/// What the script's output says.
#[derive(Debug)]
pub enum Parsed {
    Read(Box<AuditRead>),
    /// The checkpoint's file holds other bytes before the offset than were read there: it was
    /// truncated and written again. Read it again from its start ([`from_start`]).
    Rewritten,
}

/// The options to read the checkpoint's file again from its start, after [`Parsed::Rewritten`].
pub fn from_start(options: &ReadOptions) -> ReadOptions {
    let mut again = options.clone();
    if let Some(c) = again.checkpoint.as_mut() {
        c.offset = 0;
        c.tail.clear();
    }
    again
}

/// Turns the script's output into a read: the events, the next checkpoint, what was left.
pub fn parse(marker: &str, output: &[u8], options: &ReadOptions) -> Parsed {
    match parse_read(marker, output, options) {
        Some(read) => Parsed::Read(Box::new(read)),
        None => Parsed::Rewritten,
    }
}

/// [`parse`], with `None` for a rewritten file.
fn parse_read(marker: &str, output: &[u8], options: &ReadOptions) -> Option<AuditRead> {
    let mut read = AuditRead {
        log: options.log.clone(),
        started_from: options.checkpoint.clone(),
        ..AuditRead::default()
    };
    let sections = sections(marker, output);
    let get = |name: &str| {
        sections
            .iter()
            .find(|(h, _)| h.split(' ').next() == Some(name))
    };
    if get("end").is_none() {
        read.problem = Some("the audit log read did not run to its end".into());
        return Some(read);
    }
    // Which log was read: the audit log, else the auth log or the journal (sshd, sudo and su
    // only), and why.
    let source = get("source").map(|(h, _)| {
        let mut words = h.splitn(3, ' ').skip(1);
        let kind = words.next().unwrap_or("").to_string();
        let path = words.next().unwrap_or("").to_string();
        (kind, path)
    });
    let instead = match &source {
        Some((kind, path)) if kind == "authlog" => format!("logins, sudo and su read from {path}"),
        Some((kind, _)) if kind == "journal" => "logins, sudo and su read from the journal".into(),
        _ => "nothing else to read".into(),
    };
    if get("absent").is_some() {
        read.absent = true;
        read.problem = Some(format!(
            "no audit log at {} (is auditd installed?): {instead}",
            options.log
        ));
    }
    if let Some((h, _)) = get("unreadable") {
        let user = h.split(' ').nth(1).unwrap_or("the SSH user");
        read.problem = Some(format!(
            "{} is not readable by {user} (scan as root, or set [audit] sudo = true to read \
             it through sudo -n): {instead}",
            options.log
        ));
    }
    let Some((kind, path)) = source else {
        return Some(read);
    };
    if kind != "audit" {
        read.log = if kind == "journal" {
            "journal".into()
        } else {
            path
        };
    }
    let now_ms = get("now")
        .and_then(|(_, body)| std::str::from_utf8(body).ok())
        .and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(|s| s.checked_mul(1000))
        .unwrap_or(i64::MAX);
    let names = get("passwd")
        .map(|(_, b)| Names::from_passwd(&String::from_utf8_lossy(b)))
        .unwrap_or_default();
    let offset = get("zone")
        .and_then(|(_, b)| std::str::from_utf8(b).ok())
        .and_then(|z| zone_seconds(z.trim()))
        .unwrap_or(0);
    let clock = authlog::HostClock {
        now: now_ms / 1000,
        offset,
    };
    if kind == "journal" {
        let body = get("journal").map(|(_, b)| *b).unwrap_or_default();
        let mut cursor = options.checkpoint.as_ref().and_then(|c| c.cursor.clone());
        let complete = match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => &body[..=i],
            None => &body[..0],
        };
        for line in complete.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match authlog::parse_journal(line) {
                Some((c, event)) => {
                    cursor = Some(c);
                    read.events.extend(event);
                }
                None => read.bad_lines += 1,
            }
        }
        if options.max_bytes == 0 {
            // Only the end was asked for: the last entry says where it is.
            read.events.clear();
        }
        read.checkpoint = Some(Checkpoint {
            cursor,
            last_time_ms: read.events.last().map(|e| e.time_ms),
            last_serial: read.events.last().map(|e| e.serial),
            ..Checkpoint::default()
        });
        return Some(read);
    }
    let mut parts = Vec::new();
    let mut stats = Vec::new();
    for (header, body) in &sections {
        let words: Vec<&str> = header.split(' ').collect();
        let num = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
        match words.first() {
            Some(&"stat") => stats.push((num(1), num(2), num(3))),
            Some(&"file") => {
                if let (Some(device), Some(inode), Some(start)) = (num(1), num(2), num(4)) {
                    parts.push(Part {
                        device,
                        inode,
                        start,
                        data: body,
                    });
                }
            }
            _ => {}
        }
    }

    if options.max_bytes == 0 && parts.is_empty() {
        // Asked only where the log ends (the start of a follow): the newest file's end.
        read.checkpoint = stats.last().and_then(|s| match *s {
            (Some(device), Some(inode), Some(offset)) => Some(Checkpoint {
                device,
                inode,
                offset,
                ..Checkpoint::default()
            }),
            _ => None,
        });
        return Some(read);
    }
    let mut reader = Reader::new(names);
    let mut events = Vec::new();
    // Global positions, to map a held event's first line back to its file.
    let mut spans: Vec<(u64, &Part<'_>)> = Vec::new();
    let mut global = 0u64;
    let mut end: Option<Checkpoint> = None;
    for part in &parts {
        spans.push((global, part));
        // The resumed file starts with the bytes read before its offset last time: the same
        // bytes, or the file was rewritten.
        let mut skip = 0usize;
        if let Some(c) = &options.checkpoint
            && (c.device, c.inode) == (part.device, part.inode)
            && part.start + (c.tail.len() as u64).min(c.offset) == c.offset
            && part.start < c.offset
        {
            skip = (c.offset - part.start) as usize;
            if part.data.get(..skip) != Some(&c.tail[c.tail.len() - skip..]) {
                return None;
            }
        }
        let data = &part.data[skip..];
        // Only complete lines: a partial last line is left for the next read.
        let complete = match data.iter().rposition(|&b| b == b'\n') {
            Some(i) => &data[..=i],
            None => &data[..0],
        };
        let mut pos = skip;
        for line in complete.split_inclusive(|&b| b == b'\n') {
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            if kind == "authlog" {
                events.extend(authlog::parse_line(text, clock));
            } else {
                reader.line(text, global + pos as u64, &mut |e| events.push(e));
            }
            pos += line.len();
        }
        end = Some(at(part, skip + complete.len()));
        global += part.data.len() as u64;
    }
    let held = reader.finish_at(now_ms, &mut |e| events.push(e));
    let mut checkpoint = end.or_else(|| options.checkpoint.clone());
    if let Some(held) = held
        && let Some((base, part)) = spans.iter().rev().find(|(base, _)| *base <= held)
    {
        checkpoint = Some(at(part, (held - base) as usize));
    }
    if let Some(c) = checkpoint.as_mut() {
        let last = events.last();
        c.last_time_ms = last
            .map(|e| e.time_ms)
            .or(options.checkpoint.as_ref().and_then(|c| c.last_time_ms));
        c.last_serial = last
            .map(|e| e.serial)
            .or(options.checkpoint.as_ref().and_then(|c| c.last_serial));
    }
    // What is left: the rest of the file the checkpoint is in and every newer file.
    if let Some(c) = &checkpoint {
        let mut after = false;
        for (dev, ino, size) in &stats {
            let (Some(dev), Some(ino), Some(size)) = (dev, ino, size) else {
                continue;
            };
            if *dev == c.device && *ino == c.inode {
                after = true;
                read.unread_bytes += size.saturating_sub(c.offset);
            } else if after {
                read.unread_bytes += size;
            }
        }
    }
    let read_bytes: u64 = parts.iter().map(|p| p.data.len() as u64).sum();
    if read.unread_bytes > 0 && read_bytes >= options.max_bytes {
        read.problem = Some(format!(
            "{} bytes of the audit log left for the next scan ([audit] max_read_mib)",
            read.unread_bytes
        ));
    }
    read.bad_lines = reader.stats().not_records;
    read.events = events;
    read.checkpoint = checkpoint;
    Some(read)
}

/// `+0100` → 3600.
fn zone_seconds(z: &str) -> Option<i64> {
    let (sign, digits) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// The checkpoint `rel` bytes into a part, with the bytes before it.
fn at(part: &Part<'_>, rel: usize) -> Checkpoint {
    let rel = rel.min(part.data.len());
    Checkpoint {
        device: part.device,
        inode: part.inode,
        offset: part.start + rel as u64,
        tail: part.data[rel.saturating_sub(CHECKPOINT_TAIL)..rel].to_vec(),
        ..Checkpoint::default()
    }
}

/// The output cut at the markers: (header words, body) in order. A body is everything up to
/// the newline the next marker line starts with.
fn sections<'a>(marker: &str, output: &'a [u8]) -> Vec<(String, &'a [u8])> {
    let delimiter = format!("\n{marker} ");
    let d = delimiter.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&output[i..], d) {
        starts.push(i + p);
        i += p + d.len();
    }
    let mut out = Vec::new();
    for (n, &s) in starts.iter().enumerate() {
        let header_start = s + d.len();
        let header_end = output[header_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(output.len(), |p| header_start + p);
        let body_start = (header_end + 1).min(output.len());
        let body_end = starts.get(n + 1).copied().unwrap_or(output.len());
        let header = String::from_utf8_lossy(&output[header_start..header_end]).into_owned();
        out.push((header, &output[body_start..body_end.max(body_start)]));
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    const M: &str = "OPSKIT-0123456789abcdef01234567";

    /// An execve record of `serial`, stamped `secs` (one record: one event).
    fn exec(secs: i64, serial: u64) -> String {
        format!(
            "type=SYSCALL msg=audit({secs}.000:{serial}): arch=c000003e syscall=59 success=yes \
             exit=0 ppid=1 pid=4242 auid=1000 uid=0 euid=0 ses=3 comm=\"id\" exe=\"/usr/bin/id\"\n"
        )
    }

    fn now() -> i64 {
        crate::clock::now()
    }

    fn options(log: &Path, checkpoint: Option<Checkpoint>, max_bytes: u64) -> ReadOptions {
        ReadOptions {
            log: log.to_str().unwrap().to_string(),
            checkpoint,
            max_bytes,
        }
    }

    /// Runs the read script in a real shell over real files, as a scan does on the host.
    fn run(options: &ReadOptions) -> Parsed {
        let script = script(M, options, crate::collect::hosts::remote::sh_quote);
        let out = run_locally(false, &script).unwrap();
        parse(M, &out, options)
    }

    fn read(options: &ReadOptions) -> AuditRead {
        match run(options) {
            Parsed::Read(read) => *read,
            Parsed::Rewritten => panic!("rewritten"),
        }
    }

    fn serials(read: &AuditRead) -> Vec<u64> {
        read.events.iter().map(|e| e.serial).collect()
    }

    fn identity(path: &Path) -> (u64, u64) {
        let meta = std::fs::metadata(path).unwrap();
        (meta.dev(), meta.ino())
    }

    fn append(path: &Path, text: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Sets a file's modification time `age` seconds back (rotated files are older).
    fn age(path: &Path, age: u64) {
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(age))
            .unwrap();
    }

    #[test]
    fn a_first_read_then_a_resumed_one() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let done = exec(1_700_000_000, 1) + &exec(1_700_000_001, 2) + &exec(1_700_000_002, 3);
        // auditd is in the middle of writing the fourth record.
        let partial = "type=SYSCALL msg=audit(1700000003.000:4): arch=c000003e syscall=59";
        std::fs::write(&log, format!("{done}{partial}")).unwrap();
        let first = read(&options(&log, None, 1 << 20));
        assert_eq!(serials(&first), [1, 2, 3]);
        assert_eq!(first.log, log.to_str().unwrap());
        assert_eq!(first.started_from, None);
        assert_eq!((first.problem.as_deref(), first.absent), (None, false));
        assert_eq!(first.bad_lines, 0);
        assert_eq!(first.unread_bytes, partial.len() as u64, "the partial line");
        let c = first.checkpoint.clone().unwrap();
        let (device, inode) = identity(&log);
        assert_eq!(
            (c.device, c.inode, c.offset),
            (device, inode, done.len() as u64)
        );
        assert_eq!(c.tail, &done.as_bytes()[done.len() - CHECKPOINT_TAIL..]);
        assert_eq!(
            (c.last_time_ms, c.last_serial),
            (Some(1_700_000_002_000), Some(3))
        );
        assert_eq!(c.cursor, None);

        // The line is finished and another written: the next read starts at the fourth.
        append(
            &log,
            &(" success=yes exit=0 auid=1000 uid=0 euid=0\n".to_string() + &exec(1_700_000_004, 5)),
        );
        let second = read(&options(&log, Some(c.clone()), 1 << 20));
        assert_eq!(serials(&second), [4, 5]);
        assert_eq!(
            second.bad_lines, 0,
            "the bytes before the offset are not read as a line"
        );
        assert_eq!(second.started_from.as_ref(), Some(&c));
        assert_eq!(second.unread_bytes, 0);
        let c2 = second.checkpoint.clone().unwrap();
        let size = std::fs::metadata(&log).unwrap().len();
        assert_eq!((c2.offset, c2.last_serial), (size, Some(5)));

        // Nothing new: the same place, and the last event is still the last one seen.
        let third = read(&options(&log, Some(c2.clone()), 1 << 20));
        assert!(third.events.is_empty());
        let c3 = third.checkpoint.unwrap();
        assert_eq!((c3.inode, c3.offset, c3.tail), (inode, size, c2.tail));
        assert_eq!(
            (c3.last_time_ms, c3.last_serial),
            (Some(1_700_000_004_000), Some(5))
        );
    }

    #[test]
    fn a_rotated_log_is_read_to_its_end_then_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let old = exec(1_700_000_000, 1) + &exec(1_700_000_001, 2);
        std::fs::write(&log, &old).unwrap();
        let c = read(&options(&log, None, 1 << 20)).checkpoint.unwrap();
        // More events, then auditd rotates: audit.log becomes audit.log.1.
        append(&log, &(exec(1_700_000_002, 3) + &exec(1_700_000_003, 4)));
        let rotated = dir.path().join("audit.log.1");
        std::fs::rename(&log, &rotated).unwrap();
        age(&rotated, 60);
        std::fs::write(&log, exec(1_700_000_004, 5)).unwrap();
        let r = read(&options(&log, Some(c), 1 << 20));
        assert_eq!(serials(&r), [3, 4, 5]);
        assert_eq!(r.bad_lines, 0);
        let end = r.checkpoint.unwrap();
        let (device, inode) = identity(&log);
        assert_eq!((end.device, end.inode), (device, inode));
        assert_eq!(end.offset, exec(1_700_000_004, 5).len() as u64);
        assert_eq!(
            r.unread_bytes, 0,
            "the rotated file, bigger, is behind the checkpoint"
        );
        assert_eq!(r.problem, None);
    }

    #[test]
    fn a_log_written_again_from_its_start_is_read_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        std::fs::write(&log, exec(1_700_000_000, 1) + &exec(1_700_000_001, 2)).unwrap();
        let opts = options(&log, None, 1 << 20);
        let c = read(&opts).checkpoint.unwrap();
        // Truncated and written again past the old offset (same inode, other bytes).
        let again = (exec(1_600_000_000, 7) + &exec(1_600_000_001, 8) + &exec(1_600_000_002, 9))
            .replace(
                "comm=\"id\" exe=\"/usr/bin/id\"",
                "comm=\"ls\" exe=\"/usr/bin/ls\"",
            );
        std::fs::write(&log, &again).unwrap();
        let opts = options(&log, Some(c.clone()), 1 << 20);
        assert!(matches!(run(&opts), Parsed::Rewritten));
        let restart = from_start(&opts);
        assert_eq!(restart.log, opts.log);
        assert_eq!(restart.max_bytes, opts.max_bytes);
        let rc = restart.checkpoint.clone().unwrap();
        assert_eq!((rc.device, rc.inode, rc.offset), (c.device, c.inode, 0));
        assert!(rc.tail.is_empty());
        assert_eq!(rc.last_serial, c.last_serial);
        let r = read(&restart);
        assert_eq!(serials(&r), [7, 8, 9]);
        let c = r.checkpoint.unwrap();
        assert_eq!(c.offset, again.len() as u64);
        // Truncated to less than the offset (logrotate's copytruncate): read from the start,
        // at once.
        std::fs::write(&log, exec(1_650_000_000, 1)).unwrap();
        let r = read(&options(&log, Some(c), 1 << 20));
        assert_eq!(serials(&r), [1]);
        assert_eq!(r.bad_lines, 0);
        assert_eq!(
            r.checkpoint.unwrap().offset,
            exec(1_650_000_000, 1).len() as u64
        );
    }

    #[test]
    fn the_byte_cap_leaves_the_rest_for_the_next_read() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let rotated = dir.path().join("audit.log.1");
        let e: Vec<String> = (1..=5).map(|s| exec(1_700_000_000 + s as i64, s)).collect();
        std::fs::write(&rotated, e[0].clone() + &e[1] + &e[2]).unwrap();
        age(&rotated, 60);
        std::fs::write(&log, e[3].clone() + &e[4]).unwrap();
        let cap = (e[0].len() + e[1].len() + 10) as u64;
        let r = read(&options(&log, None, cap));
        assert_eq!(serials(&r), [1, 2]);
        let c = r.checkpoint.clone().unwrap();
        assert_eq!((c.device, c.inode), identity(&rotated));
        assert_eq!(c.offset, (e[0].len() + e[1].len()) as u64);
        let left = e[2].len() + e[3].len() + e[4].len();
        assert_eq!(
            r.unread_bytes, left as u64,
            "the rest of .1 and all of the log"
        );
        assert_eq!(
            r.problem,
            Some(format!(
                "{left} bytes of the audit log left for the next scan ([audit] max_read_mib)"
            ))
        );
        // The next read goes on from there.
        let r = read(&options(&log, Some(c), 1 << 20));
        assert_eq!(serials(&r), [3, 4, 5]);
        assert_eq!(r.problem, None);
        // A cap the log fits in exactly leaves nothing and says nothing.
        let size = std::fs::metadata(&log).unwrap().len();
        std::fs::remove_file(&rotated).unwrap();
        let r = read(&options(&log, None, size));
        assert_eq!(
            (serials(&r), r.unread_bytes, r.problem),
            (vec![4, 5], 0, None)
        );
    }

    #[test]
    fn a_read_of_no_bytes_finds_where_the_log_ends() {
        // What a follow starts with: the end of the newest file, nothing read.
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let rotated = dir.path().join("audit.log.1");
        std::fs::write(&rotated, exec(1_700_000_000, 1)).unwrap();
        age(&rotated, 60);
        std::fs::write(&log, exec(1_700_000_001, 2) + &exec(1_700_000_002, 3)).unwrap();
        let r = read(&options(&log, None, 0));
        assert!(r.events.is_empty());
        let c = r.checkpoint.unwrap();
        let (device, inode) = identity(&log);
        assert_eq!(
            (c.device, c.inode, c.offset),
            (device, inode, std::fs::metadata(&log).unwrap().len())
        );
        assert!(c.tail.is_empty());
        // From there, only what comes after.
        append(&log, &exec(1_700_000_003, 4));
        assert_eq!(serials(&read(&options(&log, Some(c), 1 << 20))), [4]);
    }

    #[test]
    fn events_still_being_written_are_left_for_the_next_read() {
        // Stamped at the host's present (a little ahead, so that a slow run cannot age them
        // past the window): their other records may still come.
        let soon = now() + 10;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let old = exec(1_700_000_000, 1);
        std::fs::write(&log, old.clone() + &exec(soon, 2)).unwrap();
        let r = read(&options(&log, None, 1 << 20));
        assert_eq!(serials(&r), [1]);
        let c = r.checkpoint.unwrap();
        assert_eq!((c.inode, c.offset), (identity(&log).1, old.len() as u64));
        assert_eq!(
            (c.last_time_ms, c.last_serial),
            (Some(1_700_000_000_000), Some(1))
        );

        // Rotated just after: the held event is in audit.log.1, the new file holds another.
        let rotated = dir.path().join("audit.log.1");
        std::fs::rename(&log, &rotated).unwrap();
        age(&rotated, 5);
        std::fs::write(&log, exec(1_700_000_001, 3) + &exec(soon, 4)).unwrap();
        let r = read(&options(&log, Some(c.clone()), 1 << 20));
        assert_eq!(serials(&r), [3], "the held events wait");
        let held = r.checkpoint.unwrap();
        assert_eq!(
            (held.inode, held.offset),
            (identity(&rotated).1, old.len() as u64),
            "back to the first held line, in the rotated file"
        );
        // Only the new file's second event is recent: resume in the new file, past the first.
        std::fs::write(&rotated, old.clone() + &exec(1_700_000_000, 2)).unwrap();
        age(&rotated, 5);
        let r = read(&options(&log, Some(c), 1 << 20));
        assert_eq!(serials(&r), [2, 3]);
        let held = r.checkpoint.unwrap();
        assert_eq!(
            (held.inode, held.offset),
            (identity(&log).1, exec(1_700_000_001, 3).len() as u64)
        );
    }

    /// The output of a read that found no audit log but an auth log.
    fn authlog_output(auth: &str) -> Vec<u8> {
        format!(
            "\n{M} now\n1796234400\n{M} zone\n+0100\n{M} passwd\nroot:x:0:0::/root:/bin/sh\n\
             alice:x:1000:1000::/home/alice:/bin/bash\n{M} absent\n\
             {M} source authlog /var/log/auth.log\n{M} stat 2049 131 {size}\n\
             {M} file 2049 131 {size} 0\n{auth}\n{M} end\n",
            size = auth.len()
        )
        .into_bytes()
    }

    #[test]
    fn without_an_audit_log_the_auth_log_is_read() {
        let auth = "Dec  2 17:01:02 web-1 sshd[812]: Accepted publickey for alice from 192.0.2.7 port 50022 ssh2: ED25519 SHA256:abc\n\
                    Dec  2 17:02:00 web-1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id\n\
                    Dec  2 17:02:01 web-1 CRON[5]: pam_unix(cron:session): session opened for user root\n";
        let opts = ReadOptions {
            log: DEFAULT_LOG.into(),
            checkpoint: None,
            max_bytes: 1 << 20,
        };
        let Parsed::Read(r) = parse(M, &authlog_output(auth), &opts) else {
            panic!("rewritten")
        };
        assert!(r.absent);
        assert_eq!(
            r.problem.as_deref(),
            Some(
                "no audit log at /var/log/audit/audit.log (is auditd installed?): logins, sudo \
                 and su read from /var/log/auth.log"
            )
        );
        assert_eq!(r.log, "/var/log/auth.log");
        let kinds: Vec<_> = r.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                crate::model::audit::Kind::Login,
                crate::model::audit::Kind::Sudo
            ]
        );
        // 17:01:02 at +01:00 on the host's 2 December 2026 (18:00 UTC now).
        assert_eq!(r.events[0].time_ms, (1_796_234_400 - 7200 + 62) * 1000);
        let c = r.checkpoint.unwrap();
        assert_eq!(
            (c.device, c.inode, c.offset),
            (2049, 131, auth.len() as u64)
        );
        assert_eq!(r.unread_bytes, 0);
    }

    #[test]
    fn without_a_readable_log_the_journal_is_read() {
        let journal = "{\"__CURSOR\":\"s=abc;i=12\",\"__REALTIME_TIMESTAMP\":\"1796230800123456\",\"SYSLOG_IDENTIFIER\":\"sshd\",\"MESSAGE\":\"Accepted publickey for alice from 192.0.2.7 port 5 ssh2\"}\n\
                       {\"__CURSOR\":\"s=abc;i=13\",\"__REALTIME_TIMESTAMP\":\"1796230801000000\",\"SYSLOG_IDENTIFIER\":\"cron\",\"MESSAGE\":\"pam_unix(cron:session): session opened for user root\"}\n\
                       -- No entries --\n\
                       {\"__CURSOR\":\"s=abc;i=14\",\"__REALTIME_TIMESTAMP\":\"17962";
        let output = format!(
            "\n{M} now\n1796234400\n{M} zone\n+0000\n{M} passwd\n{M} unreadable alice\n\
             {M} source journal /var/log/audit/audit.log\n{M} journal\n{journal}\n{M} end\n"
        );
        let opts = |max_bytes| ReadOptions {
            log: DEFAULT_LOG.into(),
            checkpoint: Some(Checkpoint {
                cursor: Some("s=abc;i=11".into()),
                ..Checkpoint::default()
            }),
            max_bytes,
        };
        let Parsed::Read(r) = parse(M, output.as_bytes(), &opts(1 << 20)) else {
            panic!("rewritten")
        };
        assert!(!r.absent);
        assert_eq!(
            r.problem.as_deref(),
            Some(
                "/var/log/audit/audit.log is not readable by alice (scan as root, or set [audit] \
                 sudo = true to read it through sudo -n): logins, sudo and su read from the journal"
            )
        );
        assert_eq!(r.log, "journal");
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.bad_lines, 1, "one complete line that is no entry");
        let c = r.checkpoint.unwrap();
        assert_eq!(c.cursor.as_deref(), Some("s=abc;i=13"));
        assert_eq!(c.last_time_ms, Some(1_796_230_800_123));
        assert_eq!(c.last_serial, Some(r.events[0].serial));
        // Asked only where it ends: its cursor, no events.
        let Parsed::Read(r) = parse(M, output.as_bytes(), &opts(0)) else {
            panic!("rewritten")
        };
        assert!(r.events.is_empty());
        let c = r.checkpoint.unwrap();
        assert_eq!(
            (c.cursor.as_deref(), c.last_time_ms),
            (Some("s=abc;i=13"), None)
        );
        // Nothing new: the cursor stays.
        let quiet = format!(
            "\n{M} now\n1796234400\n{M} unreadable alice\n{M} source journal {DEFAULT_LOG}\n\
             {M} journal\n\n{M} end\n"
        );
        let Parsed::Read(r) = parse(M, quiet.as_bytes(), &opts(1 << 20)) else {
            panic!("rewritten")
        };
        assert_eq!(r.checkpoint.unwrap().cursor.as_deref(), Some("s=abc;i=11"));
    }

    #[test]
    fn a_read_that_did_not_finish_or_found_nothing_says_so() {
        let opts = ReadOptions {
            log: DEFAULT_LOG.into(),
            checkpoint: Some(Checkpoint {
                offset: 42,
                ..Checkpoint::default()
            }),
            max_bytes: 1 << 20,
        };
        let cut = format!("\n{M} now\n1796234400\n{M} stat 1 2 3\n");
        let Parsed::Read(r) = parse(M, cut.as_bytes(), &opts) else {
            panic!("rewritten")
        };
        assert_eq!(
            r.problem.as_deref(),
            Some("the audit log read did not run to its end")
        );
        assert_eq!((r.log.as_str(), r.checkpoint), (DEFAULT_LOG, None));
        assert_eq!(r.started_from.unwrap().offset, 42);
        let nothing = format!("\n{M} now\n1796234400\n{M} absent\n{M} end\n");
        let Parsed::Read(r) = parse(M, nothing.as_bytes(), &opts) else {
            panic!("rewritten")
        };
        assert!(r.absent);
        assert_eq!(
            r.problem.as_deref(),
            Some(
                "no audit log at /var/log/audit/audit.log (is auditd installed?): nothing else to read"
            )
        );
        assert_eq!(r.checkpoint, None);
    }

    #[test]
    fn a_read_that_found_no_file_keeps_its_checkpoint() {
        // The log was readable, but stat printed nothing for it: no file was read.
        let output = format!("\n{M} now\n1796234400\n{M} source audit {DEFAULT_LOG}\n{M} end\n");
        let checkpoint = Checkpoint {
            device: 2049,
            inode: 131,
            offset: 4096,
            last_serial: Some(9),
            ..Checkpoint::default()
        };
        let opts = ReadOptions {
            log: DEFAULT_LOG.into(),
            checkpoint: Some(checkpoint.clone()),
            max_bytes: 1 << 20,
        };
        let Parsed::Read(r) = parse(M, output.as_bytes(), &opts) else {
            panic!("rewritten")
        };
        assert!(r.events.is_empty());
        assert_eq!(r.checkpoint, Some(checkpoint));
        assert_eq!((r.unread_bytes, r.problem), (0, None));
    }

    #[test]
    fn zones_in_seconds() {
        assert_eq!(zone_seconds("+0100"), Some(3600));
        assert_eq!(zone_seconds("-0530"), Some(-19_800));
        assert_eq!(zone_seconds("+0545"), Some(20_700));
        assert_eq!(zone_seconds("+0000"), Some(0));
        for bad in ["0100", "+01", "+01000", "+01:00", "+0a00", "+-100", "", "Z"] {
            assert_eq!(zone_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_options_of_a_host_and_a_failed_read() {
        let checkpoint = Checkpoint {
            offset: 7,
            ..Checkpoint::default()
        };
        let audit = AuditOptions {
            log: "/var/log/audit/audit.log".into(),
            sudo: true,
            max_bytes: 99,
            checkpoints: std::sync::Arc::new(
                [("web-1".to_string(), checkpoint.clone())]
                    .into_iter()
                    .collect(),
            ),
        };
        assert_eq!(audit.command(), "sudo -n sh -s");
        assert_eq!(
            AuditOptions {
                sudo: false,
                ..audit.clone()
            }
            .command(),
            "sh -s"
        );
        let web = audit.for_host("web-1");
        assert_eq!((web.log.as_str(), web.max_bytes), (DEFAULT_LOG, 99));
        assert_eq!(web.checkpoint, Some(checkpoint.clone()));
        assert_eq!(audit.for_host("db-1").checkpoint, None);
        let f = failed(&web, "ssh: connection reset".into());
        assert_eq!(f.log, DEFAULT_LOG);
        assert_eq!(f.started_from, Some(checkpoint));
        assert_eq!(f.problem.as_deref(), Some("ssh: connection reset"));
        assert!(f.events.is_empty() && f.checkpoint.is_none());
    }

    #[test]
    fn scripts_run_locally_through_sudo_only_for_another_user() {
        let inherited = std::env::var("SUDO_COMMAND").unwrap_or_else(|_| "none".into());
        let probe = "echo \"${SUDO_COMMAND:-none}\"";
        assert_eq!(
            run_locally(false, probe).unwrap(),
            format!("{inherited}\n").into_bytes()
        );
        if nix::unistd::geteuid().is_root() {
            // Already root: sudo is not needed, and not used.
            assert_eq!(
                run_locally(true, probe).unwrap(),
                format!("{inherited}\n").into_bytes()
            );
        }
        let e = run_locally(false, "echo 'no such log' >&2; exit 3").unwrap_err();
        assert_eq!(e, "sh -s failed: no such log");
    }
}
