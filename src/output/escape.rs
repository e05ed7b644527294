//! Escaping of untrusted text (sysName, DNS names, hostnames, tags) before it is printed.
//!
//! A switch or a host can put terminal escape sequences into the names it reports; printed raw
//! they could repaint the screen, hide lines or change the window title. Every control
//! character (C0, DEL and C1, which includes the 8-bit CSI) is shown as a visible escape.

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

fn escape(text: &str, backslash: bool) -> Cow<'_, str> {
    let needs = |c: char| c.is_control() || (backslash && c == '\\');
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
            c if c.is_control() => {
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
    fn tsv_keeps_fields_and_lines_intact() {
        assert_eq!(for_tsv("a\tb\nc\\d"), "a\\tb\\nc\\\\d");
        assert_eq!(for_terminal("c:\\dir"), "c:\\dir");
    }
}
