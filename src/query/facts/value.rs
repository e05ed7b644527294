//! What a fact's values are (text, number, time, true/false), how a term's VALUE is read for
//! each, and how values compare, sort and print.
//!
//! Text compares in version order ([`super::order`]); numbers numerically, with size units
//! (`8GiB`, `512M`, `2TB`); times against an age (`7d`: seven days before now) or a date
//! (`2026-11-01`, `2026-11-01T08:00:00Z`).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::clock;

use super::order::{sort_cmp, version_cmp};
use super::term::Op;

/// The kind of a fact's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text, in version order (`kernel`, `os_id`, a custom text fact).
    Text,
    /// A number; VALUE may carry a size unit (`memory`, `cpu_count`).
    Number,
    /// A time, stored as Unix seconds (`boot_time`, `last_seen`).
    Time,
    /// true or false (a JSON custom fact's flags).
    Bool,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text (version order)",
            Kind::Number => "number",
            Kind::Time => "time",
            Kind::Bool => "true/false",
        }
    }

    /// The kind of a custom fact, from the values hosts reported: numbers if every one is a
    /// number, true/false if every one is, text otherwise.
    pub fn infer<'v>(values: impl IntoIterator<Item = &'v Value>) -> Kind {
        let (mut numbers, mut bools, mut other) = (false, false, false);
        for v in values {
            match v {
                Value::Null => {}
                Value::Number(_) => numbers = true,
                Value::Bool(_) => bools = true,
                _ => other = true,
            }
        }
        match (numbers, bools, other) {
            (true, false, false) => Kind::Number,
            (false, true, false) => Kind::Bool,
            _ => Kind::Text,
        }
    }
}

/// A term's VALUE read in the fact's kind.
#[derive(Debug, Clone)]
pub enum Operand {
    Text(String),
    Number(f64),
    Time(i64),
    Bool(bool),
}

/// What was wrong with a VALUE: where in it (0-based, in characters) and why.
pub type OperandError = (usize, String);

impl Operand {
    /// Reads `text` as a value of `kind` for `op`; `now` anchors ages.
    pub fn parse(kind: Kind, op: Op, text: &str, now: i64) -> Result<Operand, OperandError> {
        match kind {
            Kind::Text => Ok(Operand::Text(text.to_string())),
            Kind::Number => parse_size(text).map(Operand::Number),
            Kind::Time => parse_time(text, now).map(Operand::Time),
            Kind::Bool => {
                if op.is_ordering() {
                    return Err((
                        0,
                        format!(
                            "the fact is true or false: compare it with = or !=, not {}",
                            op.symbol()
                        ),
                    ));
                }
                match text {
                    "true" => Ok(Operand::Bool(true)),
                    "false" => Ok(Operand::Bool(false)),
                    _ => Err((0, format!("expected true or false, found {text:?}"))),
                }
            }
        }
    }

    /// Whether `value` (one value a host reported) satisfies `value OP self`.
    pub fn holds(&self, op: Op, value: &Value) -> bool {
        let ord = match (self, value) {
            (Operand::Text(t), v) => {
                let Some(text) = scalar_text(v) else {
                    // An object or list: only (in)equality with its JSON text means anything.
                    let json = v.to_string();
                    return match op {
                        Op::Eq => json == *t,
                        Op::Ne => json != *t,
                        _ => false,
                    };
                };
                match op {
                    Op::Eq => return text == *t,
                    Op::Ne => return text != *t,
                    _ => version_cmp(&text, t),
                }
            }
            (Operand::Number(n), v) => match v.as_f64().and_then(|x| x.partial_cmp(n)) {
                Some(o) => o,
                None => return false,
            },
            (Operand::Time(t), v) => match v.as_i64() {
                Some(x) => x.cmp(t),
                None => return false,
            },
            (Operand::Bool(b), v) => match v.as_bool() {
                Some(x) => x.cmp(b),
                None => return false,
            },
        };
        match op {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Match | Op::NoMatch => false,
        }
    }
}

/// A scalar's text: a string as it is, a number or true/false as JSON writes them; `None` for
/// null, lists and objects.
fn scalar_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// The text a regex is matched against: a scalar's text, or a list's or object's JSON (so that
/// `raid~degraded` finds the word anywhere in a JSON fact).
pub fn match_text(value: &Value) -> Cow<'_, str> {
    scalar_text(value).unwrap_or_else(|| Cow::Owned(value.to_string()))
}

/// A value as host-where prints it: times as RFC 3339 (UTC), the rest as stored.
pub fn display(kind: Kind, value: &Value) -> Value {
    match (kind, value.as_i64()) {
        (Kind::Time, Some(t)) => Value::String(clock::format(t)),
        _ => value.clone(),
    }
}

/// The order `--count` lists values in: the kind's own, then by text so that it is total.
pub fn sort_cmp_values(kind: Kind, a: &Value, b: &Value) -> Ordering {
    let by_kind = match kind {
        Kind::Number => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (x, y) => x.is_none().cmp(&y.is_none()),
        },
        Kind::Time => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            (x, y) => x.is_none().cmp(&y.is_none()),
        },
        Kind::Bool => a.as_bool().cmp(&b.as_bool()),
        Kind::Text => Ordering::Equal,
    };
    by_kind.then_with(|| sort_cmp(&match_text(a), &match_text(b)))
}

/// Binary prefixes, as `free`, `df -h` and `ls -h` use them; a bare `G` is a GiB.
const UNITS: &[(&str, f64)] = &[
    ("", 1.0),
    ("b", 1.0),
    ("k", 1024.0),
    ("kib", 1024.0),
    ("m", 1048576.0),
    ("mib", 1048576.0),
    ("g", 1073741824.0),
    ("gib", 1073741824.0),
    ("t", 1099511627776.0),
    ("tib", 1099511627776.0),
    ("p", 1125899906842624.0),
    ("pib", 1125899906842624.0),
    ("kb", 1e3),
    ("mb", 1e6),
    ("gb", 1e9),
    ("tb", 1e12),
    ("pb", 1e15),
];

/// A number with an optional size unit: `16`, `0.5`, `8GiB`, `512M`, `2TB`, `-3`.
pub fn parse_size(text: &str) -> Result<f64, OperandError> {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && matches!(c, '-' | '+'))))
        .map_or(text.len(), |(i, _)| i);
    let (number, unit) = text.split_at(end);
    let n: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| (0, format!("expected a number, found {text:?}")))?;
    let lower = unit.trim().to_ascii_lowercase();
    let scale = UNITS
        .iter()
        .find(|(u, _)| *u == lower)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            (
                number.chars().count(),
                format!(
                    "unknown unit {unit:?} (sizes: KiB, MiB, GiB, TiB or K, M, G, T; kB, MB, GB, TB for powers of 1000)"
                ),
            )
        })?;
    Ok(n * scale)
}

/// An age before `now` (`90s`, `30m`, `12h`, `7d`, `2w`, `1y`), a date (`2026-11-01`, midnight
/// UTC) or an RFC 3339 time.
pub fn parse_time(text: &str, now: i64) -> Result<i64, OperandError> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>()
        && let Ok(ts) = date.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(ts.timestamp().as_second());
    }
    parse_age(text)
        .map(|age| now.saturating_sub(age))
        .map_err(|at| {
            (
                at,
                format!(
                    "expected an age (30m, 12h, 7d, 2w, 1y) or a date or time (2026-11-01, 2026-11-01T08:00:00Z), found {text:?}"
                ),
            )
        })
}

/// An age in seconds: digits and a unit; on error, where it went wrong.
pub fn parse_age(text: &str) -> Result<i64, usize> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| 0usize)?;
    let seconds = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => return Err(split),
    };
    n.checked_mul(seconds).ok_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_size("8GiB").unwrap(), 8.0 * 1073741824.0);
        assert_eq!(parse_size("8G").unwrap(), 8.0 * 1073741824.0);
        assert_eq!(parse_size("8gb").unwrap(), 8e9);
        assert_eq!(parse_size("0.5k").unwrap(), 512.0);
        assert_eq!(parse_size("16").unwrap(), 16.0);
        assert_eq!(parse_size("-3").unwrap(), -3.0);
        assert_eq!(parse_size("8Gix").unwrap_err().0, 1);
        assert_eq!(parse_size("GiB").unwrap_err().0, 0);
        assert_eq!(parse_size("1.2.3").unwrap_err().0, 0);
        assert!(parse_size("nan").is_err());
    }

    #[test]
    fn times_are_ages_dates_or_timestamps() {
        let now = 1_800_000_000;
        assert_eq!(parse_time("7d", now).unwrap(), now - 7 * 86_400);
        assert_eq!(parse_time("1970-01-02", now).unwrap(), 86_400);
        assert_eq!(parse_time("1970-01-01T00:01:00Z", now).unwrap(), 60);
        assert_eq!(parse_time("7x", now).unwrap_err().0, 1);
        assert!(parse_time("yesterday", now).is_err());
        assert!(parse_time("99999999999999999999d", now).is_err());
    }

    #[test]
    fn comparisons_follow_the_kind() {
        let text = |t: &str| Operand::Text(t.into());
        assert!(text("6.1").holds(Op::Lt, &json!("5.10.0-28-amd64")));
        assert!(!text("6.1").holds(Op::Lt, &json!("6.1.0-26-amd64")));
        assert!(text("debian").holds(Op::Eq, &json!("debian")));
        assert!(!text("debian").holds(Op::Eq, &json!("Debian")));
        assert!(text("debian").holds(Op::Ne, &json!("ubuntu")));
        assert!(text("24").holds(Op::Lt, &json!("20.10.24")));
        assert!(text("[1,2]").holds(Op::Eq, &json!([1, 2])));
        assert!(!text("1").holds(Op::Lt, &json!({"a": 0})));
        let gib = Operand::parse(Kind::Number, Op::Lt, "8GiB", 0).unwrap();
        assert!(gib.holds(Op::Lt, &json!(4294967296u64)));
        assert!(!gib.holds(Op::Lt, &json!(8589934592u64)));
        assert!(gib.holds(Op::Le, &json!(8589934592u64)));
        assert!(!gib.holds(Op::Lt, &json!("small")));
        let old = Operand::parse(Kind::Time, Op::Lt, "7d", 1_000_000).unwrap();
        assert!(old.holds(Op::Lt, &json!(1_000_000 - 8 * 86_400)));
        assert!(!old.holds(Op::Lt, &json!(1_000_000 - 86_400)));
        assert!(Operand::parse(Kind::Bool, Op::Lt, "true", 0).is_err());
        assert!(
            Operand::parse(Kind::Bool, Op::Ne, "true", 0)
                .unwrap()
                .holds(Op::Ne, &json!(false))
        );
    }

    #[test]
    fn kinds_are_inferred_from_every_value() {
        assert_eq!(
            Kind::infer(&[json!(1), json!(2.5), Value::Null]),
            Kind::Number
        );
        assert_eq!(Kind::infer(&[json!(true)]), Kind::Bool);
        assert_eq!(Kind::infer(&[json!(1), json!("2")]), Kind::Text);
        assert_eq!(Kind::infer(&[]), Kind::Text);
    }
}
