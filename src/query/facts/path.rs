//! A fact and a path into its JSON value: `kernel`, `docker.ServerVersion`,
//! `raid.arrays[*].state`, `disks[0]`, `"name.with.dots".key`.
//!
//! A path selects any number of values: none (the fact is absent, or the path leads nowhere),
//! one, or several through `[*]`, which takes every element of an array or every value of an
//! object.

use serde_json::Value;

/// One step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `.key`: a member of an object.
    Key(String),
    /// `[N]`: an element of an array, from 0.
    Index(usize),
    /// `[*]`: every element of an array, or every member value of an object.
    Any,
}

/// A fact name and the steps into its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// The fact's name, as the catalog stores it.
    pub fact: String,
    pub steps: Vec<Step>,
    /// Where each step starts in the text parsed (0-based, in characters), for messages.
    pub step_at: Vec<usize>,
    /// The path as written, for column names and messages.
    pub text: String,
}

/// A path that could not be parsed: what was wrong, and where (0-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub at: usize,
    pub message: String,
}

/// Characters that end a bare name: the operators of a term, and path punctuation.
pub fn ends_name(c: char) -> bool {
    matches!(c, '.' | '[' | ']' | '"' | '=' | '!' | '<' | '>' | '~') || c.is_whitespace()
}

impl Path {
    /// Parses a path at the start of `chars`; returns it and how many characters it took. It
    /// stops at the first character that cannot continue a path (an operator).
    pub fn parse_prefix(chars: &[char]) -> Result<(Path, usize), PathError> {
        let mut i = 0;
        let fact = name(chars, &mut i, "a fact name")?;
        let mut steps = Vec::new();
        let mut step_at = Vec::new();
        loop {
            match chars.get(i) {
                Some('.') => {
                    step_at.push(i);
                    i += 1;
                    steps.push(Step::Key(name(chars, &mut i, "a key after '.'")?));
                }
                Some('[') => {
                    step_at.push(i);
                    let start = i;
                    i += 1;
                    let inner_start = i;
                    while chars.get(i).is_some_and(|&c| c != ']') {
                        i += 1;
                    }
                    if chars.get(i) != Some(&']') {
                        return Err(PathError {
                            at: start,
                            message: "'[' is not closed by ']'".into(),
                        });
                    }
                    let inner: String = chars[inner_start..i].iter().collect();
                    i += 1;
                    steps.push(match inner.as_str() {
                        "*" => Step::Any,
                        n => Step::Index(n.parse().map_err(|_| PathError {
                            at: inner_start,
                            message: format!(
                                "expected an index or * between [ and ], found {inner:?}"
                            ),
                        })?),
                    });
                }
                _ => break,
            }
        }
        let text = chars[..i].iter().collect();
        Ok((
            Path {
                fact,
                steps,
                step_at,
                text,
            },
            i,
        ))
    }

    /// Parses a whole path (`--count FACT`, `-f FACT`).
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let chars: Vec<char> = text.chars().collect();
        let (path, used) = Path::parse_prefix(&chars)?;
        if used < chars.len() {
            return Err(PathError {
                at: used,
                message: format!("unexpected {:?} in a fact name", chars[used]),
            });
        }
        Ok(path)
    }

    /// A fact's whole value, whatever characters its name has.
    pub fn whole(fact: String) -> Path {
        Path {
            text: fact.clone(),
            fact,
            steps: Vec::new(),
            step_at: Vec::new(),
        }
    }

    /// The values the path selects in a fact's value.
    pub fn select<'v>(&self, value: &'v Value) -> Vec<&'v Value> {
        select(&self.steps, value)
    }
}

/// The values `steps` select in `value`.
pub fn select<'v>(steps: &[Step], value: &'v Value) -> Vec<&'v Value> {
    let mut now = vec![value];
    for step in steps {
        let mut next = Vec::new();
        for v in now {
            match (step, v) {
                (Step::Key(k), Value::Object(o)) => next.extend(o.get(k)),
                (Step::Index(n), Value::Array(a)) => next.extend(a.get(*n)),
                (Step::Any, Value::Array(a)) => next.extend(a.iter()),
                (Step::Any, Value::Object(o)) => next.extend(o.values()),
                _ => {}
            }
        }
        now = next;
    }
    now
}

/// A name: a run of characters that are not punctuation, or a double-quoted string in which
/// `\"` and `\\` stand for themselves (for names with dots or spaces).
fn name(chars: &[char], i: &mut usize, what: &str) -> Result<String, PathError> {
    let start = *i;
    if chars.get(*i) == Some(&'"') {
        *i += 1;
        let mut out = String::new();
        loop {
            match chars.get(*i) {
                None => {
                    return Err(PathError {
                        at: start,
                        message: "'\"' is not closed".into(),
                    });
                }
                Some('"') => {
                    *i += 1;
                    break;
                }
                Some('\\') if matches!(chars.get(*i + 1), Some('"' | '\\')) => {
                    out.push(chars[*i + 1]);
                    *i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    *i += 1;
                }
            }
        }
        if out.is_empty() {
            return Err(PathError {
                at: start,
                message: format!("expected {what}, found \"\""),
            });
        }
        return Ok(out);
    }
    while chars.get(*i).is_some_and(|&c| !ends_name(c)) {
        *i += 1;
    }
    if *i == start {
        return Err(PathError {
            at: start,
            message: match chars.get(start) {
                Some(c) => format!("expected {what}, found {c:?}"),
                None => format!("expected {what}"),
            },
        });
    }
    Ok(chars[start..*i].iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_keys_indexes_and_wildcards() {
        let p = Path::parse("raid.arrays[*].state").unwrap();
        assert_eq!(p.fact, "raid");
        assert_eq!(
            p.steps,
            [
                Step::Key("arrays".into()),
                Step::Any,
                Step::Key("state".into())
            ]
        );
        assert_eq!(p.step_at, [4, 11, 14]);
        let p = Path::parse(r#""a.b"."c\"d"[2]"#).unwrap();
        assert_eq!(p.fact, "a.b");
        assert_eq!(p.steps, [Step::Key("c\"d".into()), Step::Index(2)]);
    }

    #[test]
    fn stops_at_an_operator() {
        let chars: Vec<char> = "docker.ServerVersion<24".chars().collect();
        let (p, used) = Path::parse_prefix(&chars).unwrap();
        assert_eq!((p.text.as_str(), used), ("docker.ServerVersion", 20));
    }

    #[test]
    fn malformed_paths_say_where() {
        for (text, at) in [
            ("", 0),
            (".x", 0),
            ("a.", 2),
            ("a[", 1),
            ("a[x]", 2),
            ("a[-1]", 2),
            ("\"a", 0),
            ("a..b", 2),
            ("a b", 1),
        ] {
            let err = Path::parse(text).unwrap_err();
            assert_eq!(err.at, at, "{text}: {err:?}");
        }
    }

    #[test]
    fn selects_through_arrays_and_objects() {
        let v = json!({"arrays": [{"state": "clean"}, {"state": "degraded"}], "n": 3});
        let p = |t: &str| Path::parse(&format!("f{t}")).unwrap();
        assert_eq!(
            p(".arrays[*].state").select(&v),
            [&json!("clean"), &json!("degraded")]
        );
        assert_eq!(p(".arrays[1].state").select(&v), [&json!("degraded")]);
        assert!(p(".arrays[2].state").select(&v).is_empty());
        assert!(p(".n.x").select(&v).is_empty());
        assert_eq!(p("[*]").select(&v).len(), 2);
        assert_eq!(p("").select(&v), [&v]);
    }
}
