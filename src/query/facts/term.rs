//! host-where's terms, as typed: `FACT OP VALUE`, `FACT` (present) and `!FACT` (absent), where
//! OP is `=`, `!=`, `<`, `<=`, `>`, `>=`, `~` (regex) or `!~`, and FACT a [`Path`].
//!
//! Parsing here is syntax only. What VALUE means (a version, a size, a time) depends on the
//! fact's kind, known once the fact is found in the catalog; see [`super::value`].

use std::fmt;

use regex::Regex;

use crate::error::Error;

use super::path::Path;

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NoMatch,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Match => "~",
            Op::NoMatch => "!~",
        }
    }

    /// `<`, `<=`, `>`, `>=`: the operators that need an order.
    pub fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// What a term asks of a fact.
#[derive(Debug, Clone)]
pub enum Test {
    /// `FACT`: the host reports the fact (and the path leads to a value).
    Present,
    /// `!FACT`: it does not.
    Absent,
    /// `FACT OP VALUE`; `value_at` is where VALUE starts in the term (0-based, in characters).
    Compare {
        op: Op,
        value: String,
        value_at: usize,
    },
    /// `FACT~REGEX`, `FACT!~REGEX`: the value's text matches (or does not).
    Regex { regex: Regex, negate: bool },
}

/// One term of a question.
#[derive(Debug, Clone)]
pub struct Term {
    /// Its position among the terms, from 1, for messages.
    pub number: usize,
    /// The term as typed.
    pub text: String,
    pub path: Path,
    /// Where the path starts in the term (after a leading `!`).
    pub path_at: usize,
    pub test: Test,
}

/// A malformed term: the message names the term, its number, and the character where the
/// trouble is (from 1, as editors count).
pub fn error(number: usize, text: &str, at: usize, message: impl fmt::Display) -> Error {
    Error::usage(format!(
        "term {number} {text:?}, at character {}: {message}",
        at + 1
    ))
}

impl Term {
    /// Parses term number `number` (from 1).
    pub fn parse(number: usize, text: &str) -> Result<Term, Error> {
        let chars: Vec<char> = text.chars().collect();
        let fail = |at: usize, message: String| error(number, text, at, message);
        let negated = chars.first() == Some(&'!');
        let path_at = usize::from(negated);
        let (path, used) =
            Path::parse_prefix(&chars[path_at..]).map_err(|e| fail(path_at + e.at, e.message))?;
        let op_at = path_at + used;
        let rest = &chars[op_at..];
        if rest.is_empty() {
            return Ok(Term {
                number,
                text: text.to_string(),
                path,
                path_at,
                test: if negated { Test::Absent } else { Test::Present },
            });
        }
        if negated {
            return Err(fail(
                op_at,
                format!(
                    "unexpected {:?}: a term starting with '!' is !FACT alone (the fact is absent)",
                    rest[0]
                ),
            ));
        }
        let (op, len) = match rest {
            ['!', '=', ..] => (Op::Ne, 2),
            ['!', '~', ..] => (Op::NoMatch, 2),
            ['<', '=', ..] => (Op::Le, 2),
            ['>', '=', ..] => (Op::Ge, 2),
            ['=', '=', ..] => (Op::Eq, 2),
            ['=', ..] => (Op::Eq, 1),
            ['<', ..] => (Op::Lt, 1),
            ['>', ..] => (Op::Gt, 1),
            ['~', ..] => (Op::Match, 1),
            [c, ..] => {
                return Err(fail(
                    op_at,
                    format!(
                        "expected an operator (=, !=, <, <=, >, >=, ~, !~) or the end after {:?}, found {c:?}",
                        path.text
                    ),
                ));
            }
            [] => unreachable!("rest is not empty"),
        };
        let value_at = op_at + len;
        let value: String = chars[value_at..].iter().collect();
        if value.is_empty() {
            return Err(fail(
                value_at,
                format!("expected a value after {:?}", op.symbol()),
            ));
        }
        // `kernel<<6` and `memory>=<8G` are typos, not versions or sizes.
        if op.is_ordering() && value.starts_with(['<', '>', '=', '!', '~']) {
            return Err(fail(
                value_at,
                format!(
                    "expected a value after {:?}, found {:?}",
                    op.symbol(),
                    chars[value_at]
                ),
            ));
        }
        let test = match op {
            Op::Match | Op::NoMatch => Test::Regex {
                regex: Regex::new(&value).map_err(|e| fail(value_at, regex_message(&e)))?,
                negate: op == Op::NoMatch,
            },
            _ => Test::Compare {
                op,
                value,
                value_at,
            },
        };
        Ok(Term {
            number,
            text: text.to_string(),
            path,
            path_at,
            test,
        })
    }

    /// An error about this term at character `at` of it.
    pub fn error(&self, at: usize, message: impl fmt::Display) -> Error {
        error(self.number, &self.text, at, message)
    }
}

/// The regex crate's message on one line: its last line says what is wrong (the lines before
/// draw a caret under the pattern).
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let what = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .trim_start_matches("error: ");
    format!("bad regular expression: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(t: &Term) -> (Op, &str, usize) {
        match &t.test {
            Test::Compare {
                op,
                value,
                value_at,
            } => (*op, value.as_str(), *value_at),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_every_operator() {
        for (text, op, value) in [
            ("kernel<6.1", Op::Lt, "6.1"),
            ("kernel<=6.1", Op::Le, "6.1"),
            ("memory>8GiB", Op::Gt, "8GiB"),
            ("memory>=8GiB", Op::Ge, "8GiB"),
            ("os_id=debian", Op::Eq, "debian"),
            ("os_id==debian", Op::Eq, "debian"),
            ("os_id!=debian", Op::Ne, "debian"),
            ("label=a=b", Op::Eq, "a=b"),
            ("label!=<none>", Op::Ne, "<none>"),
        ] {
            let t = Term::parse(1, text).unwrap();
            assert_eq!(compare(&t).0, op, "{text}");
            assert_eq!(compare(&t).1, value, "{text}");
        }
        let t = Term::parse(1, "docker.ServerVersion<24").unwrap();
        assert_eq!(t.path.fact, "docker");
        assert_eq!(compare(&t).2, 21);
        assert!(matches!(
            Term::parse(1, "raid").unwrap().test,
            Test::Present
        ));
        let t = Term::parse(1, "!raid").unwrap();
        assert!(matches!(t.test, Test::Absent));
        assert_eq!((t.path.fact.as_str(), t.path_at), ("raid", 1));
        match Term::parse(1, "raid!~clean|ok").unwrap().test {
            Test::Regex { regex, negate } => {
                assert!(negate);
                assert!(regex.is_match("ok"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_terms_name_the_term_and_the_character() {
        for (text, want) in [
            (
                "kernel<<",
                "term 3 \"kernel<<\", at character 8: expected a value after \"<\", found '<'",
            ),
            ("kernel<", "at character 8: expected a value after \"<\""),
            ("<6.1", "at character 1: expected a fact name, found '<'"),
            ("!kernel<6", "at character 8: unexpected '<'"),
            ("a[x]<1", "at character 3: expected an index"),
            ("os_id=", "at character 7: expected a value"),
            (
                "x~(",
                "at character 3: bad regular expression: unclosed group",
            ),
            ("x!", "at character 2: expected an operator"),
            ("a b=1", "at character 2: expected an operator"),
        ] {
            let err = Term::parse(3, text).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::Usage);
            assert!(err.to_string().contains(want), "{text}: {err}");
        }
    }
}
