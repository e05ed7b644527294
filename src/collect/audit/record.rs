//! One line of an audit log: `[node=N ]type=T msg=audit(SECONDS.MILLIS:SERIAL): k=v …`, with
//! auditd's ENRICHED part (after a 0x1d byte: `AUID="alice" UID="root"…`) and the nested
//! `msg='k=v …'` of user-space records.
//!
//! The line is bytes, not text: a host may write anything into a command line or a path, and
//! a byte offset into the log must stay a byte offset. Values are found by name on demand
//! (a record has a few dozen fields; the normaliser asks for a dozen), and decoded as auditd
//! encodes them: a quoted value is the text itself, an unquoted value of a field that carries
//! untrusted text (exe, comm, name, cmd, proctitle, EXECVE arguments…) is hex.

/// One parsed record, borrowing its line.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// The whole line, without its newline.
    pub line: &'a [u8],
    /// `SYSCALL`, `USER_LOGIN`, `UNKNOWN[1334]`…
    pub rtype: &'a [u8],
    pub time_ms: i64,
    pub serial: u64,
    pub node: Option<&'a [u8]>,
    /// The fields after `): `, up to the enrichment separator.
    body: &'a [u8],
    /// The enriched fields (upper-case names), empty in RAW logs.
    enriched: &'a [u8],
}

/// The byte auditd puts between the raw fields and the enriched ones.
const ENRICHMENT_SEPARATOR: u8 = 0x1d;

impl<'a> Record<'a> {
    /// Parses one line; `None` for a line that is not an audit record (no `type=` or no
    /// `msg=audit(…)` stamp, or a stamp that does not parse).
    pub fn parse(line: &'a [u8]) -> Option<Record<'a>> {
        let mut rest = line;
        let mut node = None;
        if let Some(after) = rest.strip_prefix(b"node=") {
            let end = after.iter().position(|&b| b == b' ')?;
            node = Some(&after[..end]);
            rest = &after[end + 1..];
        }
        let rest = rest.strip_prefix(b"type=")?;
        let end = rest.iter().position(|&b| b == b' ')?;
        let rtype = &rest[..end];
        let rest = rest[end + 1..].strip_prefix(b"msg=audit(")?;
        let close = rest.iter().position(|&b| b == b')')?;
        let (time_ms, serial) = parse_stamp(&rest[..close])?;
        let mut body = &rest[close + 1..];
        body = body.strip_prefix(b":").unwrap_or(body);
        body = body.strip_prefix(b" ").unwrap_or(body);
        let (body, enriched) = match body.iter().position(|&b| b == ENRICHMENT_SEPARATOR) {
            Some(i) => (&body[..i], &body[i + 1..]),
            None => (body, &b""[..]),
        };
        Some(Record {
            line,
            rtype,
            time_ms,
            serial,
            node,
            body,
            enriched,
        })
    }

    /// The record type as text.
    pub fn rtype(&self) -> &str {
        std::str::from_utf8(self.rtype).unwrap_or("?")
    }

    /// A raw field's value, undecoded (quotes kept), looked up in the record and in its
    /// nested `msg='…'`.
    pub fn raw(&self, name: &str) -> Option<&'a [u8]> {
        find(self.body, name.as_bytes(), true)
    }

    /// An enriched field (`AUID`, `UID`, `SYSCALL`…), unquoted.
    pub fn enriched(&self, name: &str) -> Option<&'a [u8]> {
        find(self.enriched, name.as_bytes(), false).map(unquote)
    }

    /// A field as text: quotes removed, an unquoted hex value of an encoded field decoded,
    /// auditd's "no value" spellings (`?`, `(null)`, `(none)`) as `None`.
    pub fn text(&self, name: &str) -> Option<String> {
        let raw = self.raw(name)?;
        decode(name, raw)
    }

    /// A numeric field; auditd writes an unset id as 4294967295 or -1, which is `None`.
    pub fn id(&self, name: &str) -> Option<u32> {
        let raw = unquote(self.raw(name)?);
        let text = std::str::from_utf8(raw).ok()?;
        match text.parse::<i64>().ok()? {
            -1 | 4_294_967_295 => None,
            n => u32::try_from(n).ok(),
        }
    }

    /// A number field as it was written.
    pub fn number(&self, name: &str) -> Option<i64> {
        let raw = unquote(self.raw(name)?);
        std::str::from_utf8(raw).ok()?.parse().ok()
    }

    /// A hexadecimal number field (`arch=c000003e`, `a1=241`).
    pub fn hex_number(&self, name: &str) -> Option<u64> {
        let raw = unquote(self.raw(name)?);
        u64::from_str_radix(std::str::from_utf8(raw).ok()?, 16).ok()
    }

    /// The whole line as text, for the raw records kept with an event.
    pub fn line_text(&self) -> String {
        String::from_utf8_lossy(self.line).replace(ENRICHMENT_SEPARATOR as char, " ")
    }
}

/// `1796232965.510:3` → (milliseconds, serial).
fn parse_stamp(stamp: &[u8]) -> Option<(i64, u64)> {
    let text = std::str::from_utf8(stamp).ok()?;
    let (time, serial) = text.split_once(':')?;
    let (secs, frac) = time.split_once('.').unwrap_or((time, "0"));
    let secs: i64 = secs.parse().ok()?;
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // auditd writes three digits; read any count as a fraction of a second.
    let millis: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
    let ms = secs.checked_mul(1000)?.checked_add(millis)?;
    Some((ms, serial.parse().ok()?))
}

/// Finds `name=` at a field boundary in `fields` and returns its raw value; with `nested`, also
/// inside a `msg='…'` value.
fn find<'a>(fields: &'a [u8], name: &[u8], nested: bool) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < fields.len() {
        while i < fields.len() && fields[i] == b' ' {
            i += 1;
        }
        let key_start = i;
        while i < fields.len() && fields[i] != b'=' && fields[i] != b' ' {
            i += 1;
        }
        if i >= fields.len() || fields[i] == b' ' {
            // A word without a value (`op=… foo …` in odd user messages): skip it.
            continue;
        }
        let key = &fields[key_start..i];
        i += 1;
        let value_start = i;
        let value_end = match fields.get(i) {
            Some(&q @ (b'"' | b'\'')) => match fields[i + 1..].iter().position(|&b| b == q) {
                Some(p) => i + 1 + p + 1,
                None => fields.len(),
            },
            _ => fields[i..]
                .iter()
                .position(|&b| b == b' ')
                .map_or(fields.len(), |p| i + p),
        };
        let value = &fields[value_start..value_end];
        if key == name {
            return Some(value);
        }
        if nested
            && key == b"msg"
            && value.first() == Some(&b'\'')
            && let Some(v) = find(unquote(value), name, false)
        {
            return Some(v);
        }
        i = value_end;
    }
    None
}

/// A value without its surrounding quotes.
fn unquote(v: &[u8]) -> &[u8] {
    match v {
        [q @ (b'"' | b'\''), inner @ ..] => inner.strip_suffix(&[*q]).unwrap_or(inner),
        _ => v,
    }
}

/// Whether auditd hex-encodes this field when its value holds anything but plain printable
/// text (a space, a quote, a control character, a byte above 0x7e).
pub fn is_encoded_field(name: &str) -> bool {
    matches!(
        name,
        "exe"
            | "comm"
            | "name"
            | "cwd"
            | "proctitle"
            | "cmd"
            | "acct"
            | "key"
            | "path"
            | "old"
            | "new"
            | "data"
            | "watch"
            | "dir"
            | "file"
            | "grp"
            | "new_group"
    ) || is_execve_argument(name)
}

/// `a0`, `a12`, `a3[1]`: EXECVE arguments (not `a0_len`, not SYSCALL's hex `a0` which is a
/// number: callers ask for those with [`Record::hex_number`]).
fn is_execve_argument(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('a') else {
        return false;
    };
    let digits = rest.split('[').next().unwrap_or("");
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !rest.contains('_')
}

/// Decodes a raw value.
fn decode(name: &str, raw: &[u8]) -> Option<String> {
    if matches!(raw, b"?" | b"(null)" | b"(none)" | b"\"?\"" | b"") {
        return None;
    }
    if let [b'"' | b'\'', ..] = raw {
        return Some(String::from_utf8_lossy(unquote(raw)).into_owned());
    }
    if is_encoded_field(name)
        && let Some(bytes) = hex_decode(raw)
    {
        return Some(bytes_to_text(&bytes, name == "key"));
    }
    Some(String::from_utf8_lossy(raw).into_owned())
}

/// Hex text to bytes; `None` when it is not hex.
pub fn hex_decode(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    raw.chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// Decoded bytes as text: NULs (between proctitle's arguments) become spaces, a key list's
/// 0x01 separators commas, and a trailing NUL is dropped.
fn bytes_to_text(bytes: &[u8], key: bool) -> String {
    let trimmed = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    let text = String::from_utf8_lossy(trimmed);
    text.chars()
        .map(|c| match c {
            '\0' => ' ',
            '\u{1}' if key => ',',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syscall_record_with_enrichment() {
        let line = b"type=SYSCALL msg=audit(1796232965.518:6): arch=c000003e syscall=59 success=yes exit=0 a0=558244ba8f30 items=2 ppid=1 pid=19761 auid=4294967295 uid=0 euid=0 tty=(none) ses=4294967295 comm=\"id\" exe=\"/usr/bin/id\" key=\"opskit-exec\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"unset\" UID=\"root\"";
        let r = Record::parse(line).unwrap();
        assert_eq!(r.rtype(), "SYSCALL");
        assert_eq!(r.time_ms, 1_796_232_965_518);
        assert_eq!(r.serial, 6);
        assert_eq!(r.text("exe").as_deref(), Some("/usr/bin/id"));
        assert_eq!(r.text("key").as_deref(), Some("opskit-exec"));
        assert_eq!(r.id("auid"), None);
        assert_eq!(r.id("uid"), Some(0));
        assert_eq!(r.text("tty"), None);
        assert_eq!(r.hex_number("arch"), Some(0xc000_003e));
        assert_eq!(r.enriched("SYSCALL"), Some(&b"execve"[..]));
        assert_eq!(r.enriched("UID"), Some(&b"root"[..]));
        assert_eq!(r.enriched("AUID"), Some(&b"unset"[..]));
        assert!(!r.line_text().contains('\x1d'));
    }

    #[test]
    fn nested_user_messages_and_hex() {
        let line = b"node=web-1 type=USER_CMD msg=audit(1796232965.526:8): pid=19762 uid=1000 auid=1000 ses=3 msg='cwd=\"/tmp\" cmd=6C73202D6C61202F726F6F74 exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'";
        let r = Record::parse(line).unwrap();
        assert_eq!(r.node, Some(&b"web-1"[..]));
        assert_eq!(r.text("cmd").as_deref(), Some("ls -la /root"));
        assert_eq!(r.text("res").as_deref(), Some("success"));
        assert_eq!(r.text("terminal").as_deref(), Some("pts/0"));
        assert_eq!(r.id("auid"), Some(1000));
    }

    #[test]
    fn proctitle_and_keys_decode() {
        let r =
            Record::parse(b"type=PROCTITLE msg=audit(1.5:7): proctitle=7375646F006964").unwrap();
        assert_eq!(r.time_ms, 1500);
        assert_eq!(r.text("proctitle").as_deref(), Some("sudo id"));
        let r = Record::parse(b"type=SYSCALL msg=audit(1.000:7): key=610162").unwrap();
        assert_eq!(r.text("key").as_deref(), Some("a,b"));
        // A number field that happens to look like hex is not decoded.
        let r = Record::parse(b"type=SYSCALL msg=audit(1.000:7): a0=41 uid=42").unwrap();
        assert_eq!(r.text("uid").as_deref(), Some("42"));
        assert_eq!(
            r.text("a0").as_deref(),
            Some("A"),
            "EXECVE-style a0 is hex text"
        );
    }

    #[test]
    fn garbage_is_not_a_record() {
        for bad in [
            &b""[..],
            b"type=SYSCALL",
            b"type=SYSCALL msg=audit(",
            b"type=SYSCALL msg=audit(x:1): a=b",
            b"type=SYSCALL msg=audit(1.000:x): a=b",
            b"type=SYSCALL msg=audit(99999999999999999999.000:1): a=b",
            b"hello world",
            b"node=",
            b"\xff\xfe type=X msg=audit(1.0:1):",
        ] {
            assert!(
                Record::parse(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Unterminated quotes and odd words do not panic and find nothing past them.
        let r = Record::parse(b"type=X msg=audit(1.000:1): a=\"open b=2 lonely c=3").unwrap();
        assert_eq!(r.text("b"), None);
        let r = Record::parse(b"type=X msg=audit(1.000:1): lonely c=3").unwrap();
        assert_eq!(r.text("c").as_deref(), Some("3"));
    }

    #[test]
    fn numbers_ids_and_the_line_as_text() {
        let r = Record::parse(
            b"type=SYSCALL msg=audit(1796232965.518:6): exit=-13 a1=\"241\" uid=\"1000\" auid=-1 \
              gid=5000000000 big=99999999999999999999 word=abc\x1dUID=\"root\"",
        )
        .unwrap();
        assert_eq!(r.number("exit"), Some(-13));
        assert_eq!(r.number("a1"), Some(241));
        assert_eq!(r.number("word"), None);
        assert_eq!(r.number("big"), None);
        assert_eq!(r.number("nope"), None);
        assert_eq!(r.id("uid"), Some(1000));
        assert_eq!(r.id("auid"), None, "-1 is unset");
        assert_eq!(r.id("gid"), None, "not a 32-bit id");
        assert_eq!(r.id("word"), None);
        assert_eq!(r.hex_number("a1"), Some(0x241));
        assert_eq!(r.hex_number("word"), Some(0xabc));
        assert_eq!(r.hex_number("exit"), None);
        assert_eq!(
            r.line_text(),
            "type=SYSCALL msg=audit(1796232965.518:6): exit=-13 a1=\"241\" uid=\"1000\" auid=-1 \
             gid=5000000000 big=99999999999999999999 word=abc UID=\"root\""
        );
        // No enrichment: enriched fields are absent, the raw ones are all there is.
        assert_eq!(r.enriched("UID"), Some(&b"root"[..]));
        let plain = Record::parse(b"type=SYSCALL msg=audit(1.000:1): uid=0").unwrap();
        assert_eq!(plain.enriched("UID"), None);
        assert_eq!(plain.rtype(), "SYSCALL");
        let odd = Record::parse(b"type=\xff msg=audit(1.000:1): uid=0").unwrap();
        assert_eq!(odd.rtype(), "?");
    }

    #[test]
    fn stamps_read_any_fraction_as_milliseconds() {
        let ms = |stamp: &str| {
            let line = format!("type=X msg=audit({stamp}): a=b");
            Record::parse(line.as_bytes()).map(|r| (r.time_ms, r.serial))
        };
        assert_eq!(ms("12.5:3"), Some((12_500, 3)));
        assert_eq!(ms("12.05:3"), Some((12_050, 3)));
        assert_eq!(ms("12.123456789:3"), Some((12_123, 3)));
        assert_eq!(ms("12:3"), Some((12_000, 3)));
        assert_eq!(ms("12.1234567890:3"), None, "ten digits");
        assert_eq!(ms("12.:3"), None);
        assert_eq!(ms("12.1a:3"), None);
        assert_eq!(ms("12.+5:3"), None);
        assert_eq!(ms("9223372036854775.807:1"), Some((i64::MAX, 1)));
        assert_eq!(ms("9223372036854775.808:1"), None, "past i64 milliseconds");
        assert_eq!(ms("9223372036854776.000:1"), None);
        // Without the ": " after the stamp the fields still start right after it.
        let r = Record::parse(b"type=X msg=audit(1.000:1)a=b").unwrap();
        assert_eq!(r.text("a").as_deref(), Some("b"));
        let r = Record::parse(b"type=X msg=audit(1.000:1):a=b").unwrap();
        assert_eq!(r.text("a").as_deref(), Some("b"));
        let r = Record::parse(b"node=n1 type=X msg=audit(1.000:1): a=b").unwrap();
        assert_eq!((r.node, r.rtype), (Some(&b"n1"[..]), &b"X"[..]));
    }

    #[test]
    fn fields_are_found_at_boundaries_only() {
        let r = Record::parse(
            b"type=X msg=audit(1.000:1): xuid=1 uid=2  name=\"a b\" ses=3 msg='op=x uid=9 res=ok' last=",
        )
        .unwrap();
        assert_eq!(r.text("uid").as_deref(), Some("2"));
        assert_eq!(r.text("xuid").as_deref(), Some("1"));
        assert_eq!(r.text("id"), None);
        assert_eq!(r.text("name").as_deref(), Some("a b"));
        assert_eq!(r.text("ses").as_deref(), Some("3"));
        // Nested fields are found when the outer record lacks them.
        assert_eq!(r.text("op").as_deref(), Some("x"));
        assert_eq!(r.text("res").as_deref(), Some("ok"));
        assert_eq!(r.raw("msg"), Some(&b"'op=x uid=9 res=ok'"[..]));
        assert_eq!(r.raw("last"), Some(&b""[..]));
        assert_eq!(r.text("last"), None);
        // A msg that is not quoted is not searched.
        let r = Record::parse(b"type=X msg=audit(1.000:1): msg=op=x").unwrap();
        assert_eq!(r.text("op"), None);
        // Enriched fields are not raw fields, and raw ones not enriched.
        let r =
            Record::parse(b"type=X msg=audit(1.000:1): uid=0\x1dAUID=\"alice\" UID=root").unwrap();
        assert_eq!(r.raw("AUID"), None);
        assert_eq!(r.enriched("uid"), None);
        assert_eq!(r.enriched("AUID"), Some(&b"alice"[..]));
        assert_eq!(r.enriched("UID"), Some(&b"root"[..]));
        // A line that ends in blanks, or in a word with no value: the fields are still found,
        // a missing one is not, and the search never reads past the end.
        for line in [
            &b"type=X msg=audit(1.000:1): uid=0   "[..],
            b"type=X msg=audit(1.000:1): uid=0 odd",
            b"type=X msg=audit(1.000:1): odd uid=0 words",
        ] {
            let r = Record::parse(line).unwrap();
            assert_eq!(r.text("uid").as_deref(), Some("0"));
            assert_eq!(r.text("gid"), None);
        }
    }

    #[test]
    fn values_decode_as_auditd_encodes_them() {
        let r = Record::parse(
            b"type=X msg=audit(1.000:1): exe=2F62696E2F7368 uid=41 a1=4142 a1_len=4142 \
              a2[1]=4344 path=(null) cwd=\"?\" comm=ABC name=(none) data=00 acct=\"root\" \
              dir=2f746d70 a=41",
        )
        .unwrap();
        assert_eq!(r.text("exe").as_deref(), Some("/bin/sh"));
        assert_eq!(r.text("uid").as_deref(), Some("41"), "not an encoded field");
        assert_eq!(r.text("a1").as_deref(), Some("AB"));
        assert_eq!(r.text("a1_len").as_deref(), Some("4142"));
        assert_eq!(r.text("a2[1]").as_deref(), Some("CD"));
        assert_eq!(r.text("a").as_deref(), Some("41"), "a alone is no argument");
        assert_eq!(r.text("path"), None);
        assert_eq!(r.text("cwd"), None);
        assert_eq!(r.text("name"), None);
        assert_eq!(
            r.text("comm").as_deref(),
            Some("ABC"),
            "odd length: not hex"
        );
        assert_eq!(r.text("data").as_deref(), Some(""), "a lone NUL is dropped");
        assert_eq!(r.text("acct").as_deref(), Some("root"));
        assert_eq!(r.text("dir").as_deref(), Some("/tmp"), "lower-case hex");
        for field in [
            "exe",
            "comm",
            "name",
            "cwd",
            "proctitle",
            "cmd",
            "acct",
            "key",
            "path",
            "old",
            "new",
            "data",
            "watch",
            "dir",
            "file",
            "grp",
            "new_group",
            "a0",
            "a12",
            "a3[1]",
        ] {
            assert!(is_encoded_field(field), "{field}");
        }
        for field in ["uid", "a", "a0_len", "ab", "a1b", "exit", "res", "", "a[1]"] {
            assert!(!is_encoded_field(field), "{field}");
        }
        assert_eq!(hex_decode(b"00ff7Fa0"), Some(vec![0, 255, 127, 160]));
        assert_eq!(hex_decode(b""), None);
        assert_eq!(hex_decode(b"abc"), None);
        assert_eq!(hex_decode(b"0g"), None);
        assert_eq!(hex_decode(b"g0"), None);
        // Each byte just outside a hex digit range.
        for bad in [b"/0", b"0:", b"@0", b"0G", b"`0", b"0g"] {
            assert_eq!(hex_decode(bad), None, "{bad:?}");
        }
        assert_eq!(hex_decode(b"09afAF"), Some(vec![0x09, 0xaf, 0xaf]));
        // A NUL between arguments is a space; 0x01 is a comma in keys only.
        assert_eq!(bytes_to_text(b"a\0b\x01c\0", true), "a b,c");
        assert_eq!(bytes_to_text(b"a\0b\x01c\0", false), "a b\u{1}c");
        assert_eq!(bytes_to_text(b"a\0\0", false), "a ");
        assert_eq!(unquote(b"\"x\""), b"x");
        assert_eq!(unquote(b"'x'"), b"x");
        assert_eq!(unquote(b"\"x"), b"x");
        assert_eq!(unquote(b"\"x'"), b"x'");
        assert_eq!(unquote(b"x\""), b"x\"");
    }
}
