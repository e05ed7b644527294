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
