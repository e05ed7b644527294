//! Host key checking against OpenSSH's `known_hosts`, with OpenSSH's rules.
//!
//! The file is read once per scan and matched here rather than through libssh2's known-hosts
//! code, which gives up on the first line it cannot parse (a certificate authority, a key type
//! it does not know). A host the file knows by any other key, of any type, is "changed", as
//! OpenSSH has it. Host patterns may be plain (with `*`, `?` and `!` negation) or hashed
//! (`|1|salt|hash`, HMAC-SHA1 of the name, as `HashKnownHosts yes` writes them); a host on a
//! port other than 22 is looked up as `[host]:port`. `@revoked` keys are refused;
//! `@cert-authority` lines are ignored (libssh2 does not do host certificates). Nothing here
//! touches a session: the caller hands over the key blob the server showed, so every verdict
//! and message is tested without a network.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// One usable line of a known_hosts file.
#[derive(Debug, Clone)]
struct Entry {
    revoked: bool,
    patterns: String,
    key_type: String,
    key: Vec<u8>,
}

/// The known hosts of one scan, and whether unknown hosts may be added.
#[derive(Debug)]
pub struct KnownHosts {
    path: PathBuf,
    entries: Vec<Entry>,
    accept_new: bool,
    /// Keys added during this scan (accept-new), so that two connections to one new host agree.
    added: Mutex<Vec<(String, Entry)>>,
}

/// How a presented key compares with what the file says of the host.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Known,
    Revoked,
    /// The host is known with another key (of any type).
    Changed,
    Unknown,
}

impl KnownHosts {
    /// Reads `path`; a missing file is an empty one (every host is unknown).
    pub fn load(path: &Path, accept_new: bool) -> Result<KnownHosts> {
        let text = match fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(Error::with_source(
                    ErrorKind::Config,
                    format!("reading {}", path.display()),
                    e,
                ));
            }
        };
        Ok(KnownHosts {
            path: path.to_path_buf(),
            entries: text.lines().filter_map(parse_line).collect(),
            accept_new,
            added: Mutex::new(Vec::new()),
        })
    }

    /// The file these hosts come from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The host key algorithms to offer, known ones for this host first, as OpenSSH orders
    /// them; `None` when the file knows nothing of the host.
    pub fn host_key_preferences(&self, host: &str, port: u16) -> Option<String> {
        let name = lookup_name(host, port);
        let mut known: Vec<&str> = Vec::new();
        for e in self.entries.iter().filter(|e| !e.revoked) {
            if host_matches(&e.patterns, &name) {
                for alg in algorithms_for(&e.key_type) {
                    if !known.contains(alg) {
                        known.push(alg);
                    }
                }
            }
        }
        if known.is_empty() {
            return None;
        }
        for alg in ALGORITHMS {
            if !known.contains(alg) {
                known.push(alg);
            }
        }
        Some(known.join(","))
    }

    /// Checks the key the server presented (its blob, in SSH wire format); with accept-new,
    /// records an unknown host's key.
    pub fn verify(&self, key: &[u8], host: &str, port: u16) -> Result<()> {
        let key_type = key_type_of(key).unwrap_or_else(|| "unknown".to_string());
        let fingerprint = fingerprint(key);
        let name = lookup_name(host, port);
        let added = self.added.lock().map(|a| a.clone()).unwrap_or_default();
        let verdict = verdict(
            self.entries
                .iter()
                .chain(added.iter().filter(|(n, _)| *n == name).map(|(_, e)| e)),
            &name,
            key,
        );
        match verdict {
            Verdict::Known => Ok(()),
            Verdict::Revoked => Err(Error::new(
                ErrorKind::Source,
                format!(
                    "host key {key_type} {fingerprint} of {name} is marked @revoked in {}: refused",
                    self.path.display()
                ),
            )),
            Verdict::Changed => Err(Error::new(
                ErrorKind::Source,
                format!(
                    "WARNING: HOST KEY OF {name} HAS CHANGED (now {key_type} {fingerprint}); \
                     this may be an attack and the host is refused; if the change is expected, \
                     remove the old key with: ssh-keygen -f {} -R '{name}'",
                    self.path.display()
                ),
            )),
            Verdict::Unknown if self.accept_new => {
                let entry = Entry {
                    revoked: false,
                    patterns: name.clone(),
                    key_type: key_type.clone(),
                    key: key.to_vec(),
                };
                self.append(&entry)?;
                if let Ok(mut a) = self.added.lock() {
                    a.push((name, entry));
                }
                Ok(())
            }
            Verdict::Unknown => Err(Error::new(
                ErrorKind::Source,
                format!(
                    "host key of {name} is not known ({key_type} {fingerprint}); check it and \
                     rerun with --accept-new, or add it to {}",
                    self.path.display()
                ),
            )),
        }
    }

    /// Appends one line in OpenSSH's plain format, creating the file (and `~/.ssh`) as ssh does.
    fn append(&self, entry: &Entry) -> Result<()> {
        let fail = |e| {
            Error::with_source(
                ErrorKind::Source,
                format!("adding a host key to {}", self.path.display()),
                e,
            )
        };
        if let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(fail)?;
        }
        let line = format!(
            "{} {} {}\n",
            entry.patterns,
            entry.key_type,
            STANDARD.encode(&entry.key)
        );
        // One write of one line with O_APPEND: concurrent scans append whole lines.
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(fail)
    }
}

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// The SHA-256 fingerprint of a host key blob, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(key)))
}

/// Host key algorithms libssh2 negotiates, in OpenSSH's default order.
const ALGORITHMS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
];

/// The algorithms that present a key of this known_hosts key type.
fn algorithms_for(key_type: &str) -> &'static [&'static str] {
    match key_type {
        "ssh-ed25519" => &["ssh-ed25519"],
        "ecdsa-sha2-nistp256" => &["ecdsa-sha2-nistp256"],
        "ecdsa-sha2-nistp384" => &["ecdsa-sha2-nistp384"],
        "ecdsa-sha2-nistp521" => &["ecdsa-sha2-nistp521"],
        "ssh-rsa" => &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
        _ => &[],
    }
}

/// The name a host is filed under: `host`, or `[host]:port` off port 22, in lower case, as
/// OpenSSH lowercases a host name before it looks it up (so a hashed entry, which hides the
/// case it was made with, is found whatever case the user typed).
fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// The key type named inside an SSH public key blob (a length-prefixed string first).
fn key_type_of(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4 + len)?;
    String::from_utf8(name.to_vec()).ok()
}

fn parse_line(line: &str) -> Option<Entry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut words = line.split_whitespace();
    let mut first = words.next()?;
    let mut revoked = false;
    if let Some(marker) = first.strip_prefix('@') {
        match marker {
            "revoked" => revoked = true,
            _ => return None, // @cert-authority: not supported by libssh2
        }
        first = words.next()?;
    }
    let key_type = words.next()?.to_string();
    let key = STANDARD.decode(words.next()?).ok()?;
    // The blob names its own type; a line whose two disagree is corrupt.
    if key_type_of(&key).as_deref() != Some(key_type.as_str()) {
        return None;
    }
    Some(Entry {
        revoked,
        patterns: first.to_string(),
        key_type,
        key,
    })
}

fn verdict<'a>(entries: impl Iterator<Item = &'a Entry>, name: &str, key: &[u8]) -> Verdict {
    let mut same_key = false;
    let mut changed = false;
    for e in entries {
        if !host_matches(&e.patterns, name) && !e.revoked {
            continue;
        }
        if e.revoked {
            // A revoked key is refused whichever host presents it.
            if e.key == key {
                return Verdict::Revoked;
            }
            continue;
        }
        // Any other key for the host, of whatever type, makes this one a change: OpenSSH
        // offers only the known types, so a host that shows another type is refused as
        // changed, not welcomed as new (a man in the middle holding only an ECDSA key must
        // not pass for a host known by its Ed25519 key).
        if e.key == key {
            same_key = true;
        } else {
            changed = true;
        }
    }
    if same_key {
        Verdict::Known
    } else if changed {
        Verdict::Changed
    } else {
        Verdict::Unknown
    }
}

/// Whether a comma-separated pattern list (or a hashed name) matches `name`, with OpenSSH's
/// rule that a matching negated pattern excludes the host whatever else matches.
fn host_matches(patterns: &str, name: &str) -> bool {
    if let Some(hashed) = patterns.strip_prefix("|1|") {
        return hashed_matches(hashed, name);
    }
    let lower = name.to_ascii_lowercase();
    let mut matched = false;
    for pattern in patterns.split(',') {
        let pattern = pattern.to_ascii_lowercase();
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard(negated.as_bytes(), lower.as_bytes()) {
                return false;
            }
        } else if wildcard(pattern.as_bytes(), lower.as_bytes()) {
            matched = true;
        }
    }
    matched
}

/// `salt|hash`, both base64: the entry is for `name` when HMAC-SHA1(salt, name) is the hash.
fn hashed_matches(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// Glob matching with `*` and `?`, as OpenSSH's match_pattern does.
pub(crate) fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real ed25519 public key blob (from ssh-keygen) and another one.
    const KEY_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIMYSphtWp84SReQGV1a+CImcw91oOidh4X9qodoHk3M2";
    const KEY_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAINQXcq8TxxFo0+JxMQ7zvXSaen6Q3x541CwHfdLYOBI8";
    // Their fingerprints as `ssh-keygen -l` prints them.
    const FP_A: &str = "SHA256:/T83yJyD3Jonuu2r0jYixKgsVU++hXSPbG1HIM6gFDQ";
    const FP_B: &str = "SHA256:5Qd8H0jL7Ml70mFS95H+mS6w1k83+PNP88qba40B3oE";

    fn blob(b64: &str) -> Vec<u8> {
        STANDARD.decode(b64).unwrap()
    }

    fn entries(text: &str) -> Vec<Entry> {
        text.lines().filter_map(parse_line).collect()
    }

    #[test]
    fn plain_ported_and_wildcard_patterns() {
        assert!(host_matches("web-1,192.0.2.1", "192.0.2.1"));
        assert!(host_matches("[127.0.1.3]:2222", "[127.0.1.3]:2222"));
        assert!(!host_matches("127.0.1.3", "[127.0.1.3]:2222"));
        assert!(host_matches("*.example.com", "Web.Example.com"));
        assert!(!host_matches(
            "*.example.com,!db.example.com",
            "db.example.com"
        ));
        assert!(host_matches("web-?", "web-7"));
        assert!(!host_matches("web-?", "web-17"));
    }

    #[test]
    fn hashed_entries_match_their_host_only() {
        // Made with: ssh-keygen -H on a file holding "[127.0.1.3]:2222 ssh-ed25519 …"
        let salt = STANDARD.encode(b"0123456789abcdefghij");
        let mut mac = Hmac::<Sha1>::new_from_slice(b"0123456789abcdefghij").unwrap();
        mac.update(b"[127.0.1.3]:2222");
        let hash = STANDARD.encode(mac.finalize().into_bytes());
        let pattern = format!("|1|{salt}|{hash}");
        assert!(host_matches(&pattern, "[127.0.1.3]:2222"));
        assert!(!host_matches(&pattern, "[127.0.1.4]:2222"));
        assert!(!host_matches("|1|garbage", "x"));
    }

    #[test]
    fn verdicts() {
        let file = format!(
            "# comment\n@cert-authority *.example.com ssh-ed25519 {KEY_B}\n\
             web-1 ssh-ed25519 {KEY_A}\nweb-2 ssh-ed25519 {KEY_B}\n\
             web-3 ssh-rsa {KEY_B}\nnot a valid line\n@revoked * ssh-ed25519 {KEY_B}\n"
        );
        let e = entries(&file);
        let v = |name: &str, key: &str| verdict(e.iter(), name, &blob(key));
        assert_eq!(v("web-1", KEY_A), Verdict::Known);
        assert_eq!(v("web-1", KEY_B), Verdict::Revoked);
        assert_eq!(v("web-9", KEY_A), Verdict::Unknown);
        assert_eq!(lookup_name("WEB-1", 22), "web-1");
        assert_eq!(lookup_name("LocalHost", 2224), "[localhost]:2224");
        let e2 = entries(&format!("web-1 ssh-ed25519 {KEY_A}\n"));
        assert_eq!(verdict(e2.iter(), "web-1", &blob(KEY_B)), Verdict::Changed);
        // A key of another type for the host is a change too, as OpenSSH has it: web-3 is
        // known by an ECDSA key (a blob that names its type is all a line needs here).
        let mut ecdsa = 19u32.to_be_bytes().to_vec();
        ecdsa.extend_from_slice(b"ecdsa-sha2-nistp256");
        ecdsa.extend_from_slice(&[7; 40]);
        let e3 = entries(&format!(
            "web-3 ecdsa-sha2-nistp256 {}\n",
            STANDARD.encode(&ecdsa)
        ));
        assert_eq!(e3.len(), 1);
        assert_eq!(verdict(e3.iter(), "web-3", &blob(KEY_A)), Verdict::Changed);
        assert_eq!(verdict(e3.iter(), "web-3", &ecdsa), Verdict::Known);
    }

    #[test]
    fn preferences_put_known_types_first() {
        let kh = KnownHosts {
            path: PathBuf::from("/dev/null"),
            entries: entries(&format!("[h]:2222 ssh-rsa {KEY_A}\n")),
            accept_new: false,
            added: Mutex::new(Vec::new()),
        };
        // KEY_A is an ed25519 blob; the line claims ssh-rsa, so it is dropped as corrupt.
        assert_eq!(kh.entries.len(), 0);
        let kh = KnownHosts {
            entries: entries(&format!("[h]:2222 ssh-ed25519 {KEY_A}\n")),
            ..kh
        };
        let prefs = kh.host_key_preferences("h", 2222).unwrap();
        assert!(prefs.starts_with("ssh-ed25519,"), "{prefs}");
        assert_eq!(kh.host_key_preferences("h", 22), None);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*", b""));
        assert!(wildcard(b"a*b*c", b"aXXbYYc"));
        assert!(!wildcard(b"a*b", b"aXXc"));
    }

    fn hosts(text: &str) -> KnownHosts {
        KnownHosts {
            path: PathBuf::from("/dev/null"),
            entries: entries(text),
            accept_new: false,
            added: Mutex::new(Vec::new()),
        }
    }

    /// A key blob of `key_type` (the type string, then some key bytes).
    fn typed_blob(key_type: &str) -> Vec<u8> {
        let mut b = (key_type.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(key_type.as_bytes());
        b.extend_from_slice(&[9; 32]);
        b
    }

    #[test]
    fn preferences_follow_openssh_order_after_the_known_types() {
        let rsa = STANDARD.encode(typed_blob("ssh-rsa"));
        let p256 = STANDARD.encode(typed_blob("ecdsa-sha2-nistp256"));
        let kh = hosts(&format!(
            "web-1 ssh-rsa {rsa}\nweb-1,web-2 ecdsa-sha2-nistp256 {p256}\n\
             @revoked web-3 ssh-ed25519 {KEY_A}\nweb-4 ssh-ed25519 {KEY_A}\n"
        ));
        assert_eq!(
            kh.host_key_preferences("web-1", 22).as_deref(),
            Some(
                "rsa-sha2-512,rsa-sha2-256,ssh-rsa,ecdsa-sha2-nistp256,\
                 ssh-ed25519,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"
            )
        );
        assert_eq!(
            kh.host_key_preferences("WEB-2", 22).as_deref(),
            Some(
                "ecdsa-sha2-nistp256,ssh-ed25519,ecdsa-sha2-nistp384,\
                 ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa"
            )
        );
        // A revoked key says nothing of what the host has.
        assert_eq!(kh.host_key_preferences("web-3", 22), None);
        assert_eq!(kh.host_key_preferences("web-2", 2222), None);
        assert_eq!(kh.path(), Path::new("/dev/null"));
    }

    #[test]
    fn every_key_type_offers_its_algorithms() {
        for alg in ["ssh-ed25519", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"] {
            assert_eq!(algorithms_for(alg), [alg]);
        }
        assert_eq!(
            algorithms_for("ecdsa-sha2-nistp256"),
            ["ecdsa-sha2-nistp256"]
        );
        assert_eq!(
            algorithms_for("ssh-rsa"),
            ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        );
        assert!(algorithms_for("ssh-dss").is_empty());
        assert_eq!(key_type_of(&blob(KEY_A)).as_deref(), Some("ssh-ed25519"));
        assert_eq!(
            key_type_of(&typed_blob("ssh-rsa")).as_deref(),
            Some("ssh-rsa")
        );
        // Too short for its length prefix, or for the name it announces.
        assert_eq!(key_type_of(&[0, 0, 0]), None);
        assert_eq!(key_type_of(&[0, 0, 0, 9, b's', b's', b'h']), None);
        assert_eq!(key_type_of(&[0, 0, 0, 0]).as_deref(), Some(""));
    }

    #[test]
    fn lines_that_are_not_entries() {
        let good = format!("web-1 ssh-ed25519 {KEY_A}");
        assert!(parse_line(&good).is_some());
        let revoked = parse_line(&format!("  @revoked web-1 ssh-ed25519 {KEY_A} c ")).unwrap();
        assert!(revoked.revoked);
        assert_eq!(revoked.patterns, "web-1");
        assert_eq!(revoked.key, blob(KEY_A));
        assert!(!parse_line(&good).unwrap().revoked);
        for bad in [
            String::new(),
            "   ".to_string(),
            format!("#{good}"),
            format!("  # {good}"),
            format!("@cert-authority {good}"),
            "@revoked".to_string(),
            "web-1".to_string(),
            "web-1 ssh-ed25519".to_string(),
            "web-1 ssh-ed25519 !!notbase64!!".to_string(),
            format!("web-1 ecdsa-sha2-nistp256 {KEY_A}"),
        ] {
            assert!(parse_line(&bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_revoked_key_is_refused_for_every_host_and_first() {
        // Revoked for another host's pattern: still refused for web-1.
        let e = entries(&format!(
            "web-1 ssh-ed25519 {KEY_A}\n@revoked db-9 ssh-ed25519 {KEY_A}\n"
        ));
        assert_eq!(verdict(e.iter(), "web-1", &blob(KEY_A)), Verdict::Revoked);
        // A revoked other key does not make the host changed, nor known.
        let e = entries(&format!("@revoked web-1 ssh-ed25519 {KEY_B}\n"));
        assert_eq!(verdict(e.iter(), "web-1", &blob(KEY_A)), Verdict::Unknown);
        // Known by this key and by another one: known (OpenSSH accepts any listed key).
        let e = entries(&format!(
            "web-1 ssh-ed25519 {KEY_B}\nweb-1 ssh-ed25519 {KEY_A}\n"
        ));
        assert_eq!(verdict(e.iter(), "web-1", &blob(KEY_A)), Verdict::Known);
        // Another host's key is not a change for this one.
        let e = entries(&format!("web-2 ssh-ed25519 {KEY_B}\n"));
        assert_eq!(verdict(e.iter(), "web-1", &blob(KEY_A)), Verdict::Unknown);
    }

    #[test]
    fn negation_and_case() {
        assert!(host_matches("WEB-1", "web-1"));
        assert!(!host_matches("!web-1", "web-1"));
        assert!(
            !host_matches("!web-2", "web-1"),
            "negation alone matches nothing"
        );
        assert!(!host_matches("web-*,!WEB-1", "web-1"));
        assert!(host_matches("web-*,!web-1", "web-2"));
        assert!(!host_matches("web-2", "web-1"));
        assert!(!host_matches("|1|c2FsdA==", "x"));
        assert!(!host_matches("|1|!!|!!", "x"));
    }

    #[test]
    fn more_wildcards() {
        assert!(wildcard(b"", b""));
        assert!(!wildcard(b"", b"a"));
        assert!(!wildcard(b"a", b""));
        assert!(wildcard(b"**", b""));
        assert!(wildcard(b"a*", b"a"));
        assert!(!wildcard(b"a?", b"a"));
        assert!(wildcard(b"?", b"x"));
        assert!(!wildcard(b"?", b"xy"));
        assert!(wildcard(b"*.example.com", b"a.b.example.com"));
        assert!(!wildcard(b"*.example.com", b"example.com"));
        assert!(wildcard(b"*a*a", b"aaa"));
        assert!(wildcard(b"*ab", b"aab"));
        assert!(!wildcard(b"*ab", b"aba"));
        assert!(wildcard(b"10.0.*.1", b"10.0.200.1"));
        assert!(!wildcard(b"10.0.*.1", b"10.0.200.12"));
        // After a backtrack the `*` is not a literal for a `*` in the text.
        assert!(wildcard(b"*?b", b"x*b"));
    }

    #[test]
    fn load_reads_a_file_and_append_writes_one_openssh_reads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/.ssh/known_hosts");
        // Missing: empty, every host unknown.
        let kh = KnownHosts::load(&path, true).unwrap();
        assert!(kh.entries.is_empty());
        assert_eq!(kh.path(), path);
        let entry = Entry {
            revoked: false,
            patterns: "[h]:2222".into(),
            key_type: "ssh-ed25519".into(),
            key: blob(KEY_A),
        };
        kh.append(&entry).unwrap();
        let second = Entry {
            patterns: "h2".into(),
            key: blob(KEY_B),
            ..entry
        };
        kh.append(&second).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("[h]:2222 ssh-ed25519 {KEY_A}\nh2 ssh-ed25519 {KEY_B}\n")
        );
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let back = KnownHosts::load(&path, false).unwrap();
        assert_eq!(back.entries.len(), 2);
        assert_eq!(
            verdict(back.entries.iter(), "[h]:2222", &blob(KEY_A)),
            Verdict::Known
        );
        assert_eq!(
            verdict(back.entries.iter(), "h2", &blob(KEY_A)),
            Verdict::Changed
        );
        // Not readable (a directory): an error naming the file, not an empty list.
        let err = KnownHosts::load(dir.path(), false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains(&dir.path().display().to_string()));
        // Cannot be written: an error, not a silent success.
        let blocked = KnownHosts {
            path: path.join("under-a-file"),
            ..back
        };
        assert!(blocked.append(&second).is_err());
    }

    #[test]
    fn fingerprints_are_ssh_keygens() {
        assert_eq!(fingerprint(&blob(KEY_A)), FP_A);
        assert_eq!(fingerprint(&blob(KEY_B)), FP_B);
    }

    #[test]
    fn verify_says_known_revoked_changed_or_unknown_and_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(
            &path,
            format!(
                "known ssh-ed25519 {KEY_A}\n@revoked bad ssh-ed25519 {KEY_B}\n\
                 moved ssh-ed25519 {KEY_B}\n"
            ),
        )
        .unwrap();
        let strict = KnownHosts::load(&path, false).unwrap();
        let a = blob(KEY_A);
        strict.verify(&a, "known", 22).unwrap();
        let err = |r: Result<()>| r.unwrap_err().to_string();
        // Revoked: refused for any host (the pattern of a @revoked line is not consulted).
        let revoked = err(strict.verify(&blob(KEY_B), "bad", 22));
        assert!(
            revoked.contains(&format!("ssh-ed25519 {FP_B} of bad is marked @revoked")),
            "{revoked}"
        );
        let changed = err(strict.verify(&a, "moved", 22));
        assert!(
            changed.contains(&format!(
                "HOST KEY OF moved HAS CHANGED (now ssh-ed25519 {FP_A})"
            )),
            "{changed}"
        );
        let unknown = err(strict.verify(&a, "new", 2222));
        assert!(
            unknown.contains(&format!(
                "host key of [new]:2222 is not known (ssh-ed25519 {FP_A})"
            )),
            "{unknown}"
        );
        // Refused, so nothing was written.
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }

    #[test]
    fn accept_new_records_the_key_and_holds_the_host_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ssh/known_hosts");
        let trusting = KnownHosts::load(&path, true).unwrap();
        let (a, b) = (blob(KEY_A), blob(KEY_B));
        trusting.verify(&a, "New", 2222).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("[new]:2222 ssh-ed25519 {KEY_A}\n")
        );
        // In this scan too: another key for that host is a changed key, not another new one;
        // another host is still new.
        trusting.verify(&a, "new", 2222).unwrap();
        let changed = trusting.verify(&b, "new", 2222).unwrap_err().to_string();
        assert!(
            changed.contains("HOST KEY OF [new]:2222 HAS CHANGED"),
            "{changed}"
        );
        trusting.verify(&b, "other", 22).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("[new]:2222 ssh-ed25519 {KEY_A}\nother ssh-ed25519 {KEY_B}\n")
        );
        // And the next scan reads them from the file.
        let next = KnownHosts::load(&path, false).unwrap();
        next.verify(&a, "new", 2222).unwrap();
        next.verify(&b, "other", 22).unwrap();
    }
}
