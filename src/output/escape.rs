//! Escaping of untrusted text (sysName, DNS names, hostnames, tags) before it is printed.
//!
//! A switch or a host can put terminal escape sequences into the names it reports; printed raw
//! they could repaint the screen, hide lines or change the window title; bidirectional overrides
//! (U+202E …) make a line read differently from what it holds. Every control character (C0,
//! DEL and C1, which includes the 8-bit CSI) and every such invisible formatting character is
//! shown as a visible escape in text, written as `\uXXXX` in JSON (which decodes to the same
//! string), and a CSV cell a spreadsheet would run as a formula is defused.

use std::borrow::Cow;
use std::fmt::Write;

/// Escapes control characters for display on a terminal; backslashes are left as they are.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// Escapes for tab-separated output: control characters, and backslash itself so that the
/// escapes stay unambiguous and a value never spans two fields or two lines.
pub fn for_tsv(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// Characters that change how the text around them is shown without being seen: the
/// bidirectional marks, embeddings, overrides and isolates, and the line and paragraph
/// separators some terminals break lines at.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}'
    )
}

/// What JSON output writes as `\uXXXX`: what serde_json leaves raw (DEL, C1, the invisible
/// formatting characters); C0 it escapes already.
fn json_risky(c: char) -> bool {
    c.is_control() || invisible(c)
}

/// A CSV cell: control and invisible characters escaped as in text, and a cell that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return (which spreadsheets run as a formula) prefixed
/// with `'`, unless it is a plain number such as `-5`.
pub fn for_csv(text: &str) -> Cow<'_, str> {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r'])
        && text.trim().parse::<f64>().map_or(true, |n| !n.is_finite());
    let escaped = escape(text, false);
    if formula {
        Cow::Owned(format!("'{escaped}"))
    } else {
        escaped
    }
}

/// A serde_json formatter that writes what [`json_risky`] names as `\uXXXX` escapes, around
/// the compact or pretty formatter it wraps.
pub struct JsonSafe<F>(pub F);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name<W: ?Sized + std::io::Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> std::io::Result<()> {
            self.0.$name(w $(, $arg)*)
        })*
    };
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for JsonSafe<F> {
    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| json_risky(c)) {
            w.write_all(&rest.as_bytes()[..i])?;
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                write!(w, "\\u{u:04x}")?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }
}

fn escape(text: &str, backslash: bool) -> Cow<'_, str> {
    let needs = |c: char| c.is_control() || invisible(c) || (backslash && c == '\\');
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' if backslash => out.push_str("\\\\"),
            c if c.is_control() && (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || invisible(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            for_terminal("web-1.example.com"),
            Cow::Borrowed(_)
        ));
        assert_eq!(for_tsv("a b"), "a b");
    }

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(for_terminal("evil\x1b[31mname"), "evil\\x1b[31mname");
        assert_eq!(for_terminal("a\u{9b}2J"), "a\\x9b2J");
        assert_eq!(for_terminal("bell\x07 del\x7f"), "bell\\x07 del\\x7f");
    }

    #[test]
    fn bidi_overrides_become_visible() {
        assert_eq!(for_terminal("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        assert_eq!(for_tsv("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    #[test]
    fn csv_cells_are_not_formulas() {
        assert_eq!(
            for_csv("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(for_csv("+1+cmd|' /C calc'!A0"), "'+1+cmd|' /C calc'!A0");
        assert_eq!(for_csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(for_csv("\t=1"), "'\\t=1");
        assert_eq!(for_csv("-5"), "-5");
        assert_eq!(for_csv("-1.5e3"), "-1.5e3");
        assert_eq!(for_csv("-inf"), "'-inf");
        assert_eq!(for_csv("web-1"), "web-1");
        assert_eq!(for_csv("a\u{9b}b"), "a\\x9bb");
    }

    #[test]
    fn json_escapes_what_serde_json_leaves_raw() {
        let value = serde_json::json!({"k\u{9b}": "a\u{9b}2J\u{202e}b\x7f\u{1F600}\n"});
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            JsonSafe(serde_json::ser::CompactFormatter),
        );
        serde::Serialize::serialize(&value, &mut ser).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"k\\u009b\":\"a\\u009b2J\\u202eb\\u007f\u{1F600}\\n\"}"
        );
        assert!(text.is_ascii() || text.contains('\u{1F600}'));
        // The same string comes back.
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }

    #[test]
    fn tsv_keeps_fields_and_lines_intact() {
        assert_eq!(for_tsv("a\tb\nc\\d"), "a\\tb\\nc\\\\d");
        assert_eq!(for_terminal("c:\\dir"), "c:\\dir");
    }
}
