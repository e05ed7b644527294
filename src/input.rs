//! Where a command's items come from: its positional arguments, or one item per line on stdin
//! when there are none (or when the only argument is `-`), so that commands compose in pipes.

use std::io::{self, BufRead, IsTerminal};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Lines of stdin that were not UTF-8 text and were skipped, for the exit status.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// How many lines of stdin were skipped because they were not text: the command answered the
/// others, and exits 1 so that a script notices.
pub fn skipped() -> usize {
    SKIPPED.load(Ordering::Relaxed)
}

/// The items to work on: the arguments, or stdin's non-blank, non-comment lines.
///
/// Reading stdin when it is a terminal and no argument was given would wait silently for typing;
/// that is a usage error instead, naming what was expected.
pub fn items(args: &[String], what: &str) -> Result<Vec<String>> {
    let from_stdin = args.is_empty() || (args.len() == 1 && args[0] == "-");
    if !from_stdin {
        return Ok(args.to_vec());
    }
    let stdin = io::stdin();
    if args.is_empty() && stdin.is_terminal() {
        return Err(Error::usage(format!(
            "no {what} given (pass them as arguments or one per line on stdin)"
        )));
    }
    let mut items = Vec::new();
    // Lines as bytes: one line that is not UTF-8 (a Latin-1 name, a binary pasted by mistake)
    // is named and skipped, not a reason to answer none of the others.
    for (n, line) in stdin.lock().split(b'\n').enumerate() {
        let line = line.map_err(|e| Error::io("reading stdin", e))?;
        let Ok(line) = std::str::from_utf8(&line) else {
            SKIPPED.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "{}: stdin line {}: not UTF-8 text, skipped",
                program(),
                n + 1
            );
            continue;
        };
        let item = line.trim();
        if !item.is_empty() && !item.starts_with('#') {
            items.push(item.to_string());
        }
    }
    if items.is_empty() {
        return Err(Error::usage(format!("no {what} given on stdin")));
    }
    Ok(items)
}

/// This program's name, for a message printed before the command knows it failed.
fn program() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "opskit".to_string())
}

/// Shell-style glob matching as SQLite's GLOB does it: `*` any run, `?` one character,
/// `[abc]`, `[a-z]` and `[^…]`/`[!…]` classes; everything else literal and case-sensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point for the latest `*`: linear for the patterns
    // people write, and no recursion on hostile input.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => class_match(&p, pi, t[ti]),
            Some(c) if *c == t[ti] => Some(pi + 1),
            _ => None,
        };
        match (step, star) {
            (Some(next), _) => {
                pi = next;
                ti += 1;
            }
            (None, Some((sp, st))) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[start] == '['`; the index after the class when
/// it matches. An unclosed `[` is a literal.
fn class_match(p: &[char], start: usize, c: char) -> Option<usize> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('^' | '!'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    while let Some(&x) = p.get(i) {
        if x == ']' && !first {
            return (found != negate).then_some(i + 1);
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&y| y != ']') {
            found |= x <= c && c <= p[i + 2];
            i += 3;
        } else {
            found |= x == c;
            i += 1;
        }
    }
    (c == '[').then_some(start + 1)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_like_sqlite() {
        assert!(glob_match("web-*", "web-1"));
        assert!(glob_match("web-*", "web-"));
        assert!(!glob_match("web-*", "db-1"));
        assert!(glob_match("db-?", "db-1"));
        assert!(!glob_match("db-?", "db-10"));
        assert!(glob_match("*-[0-9]", "app-7"));
        assert!(!glob_match("*-[!0-9]", "app-7"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("exact", "exact"));
        assert!(glob_match("[]]", "]"));
    }
}
