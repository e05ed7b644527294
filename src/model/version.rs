//! Version ordering exactly as each package manager orders its own versions, and version
//! constraints (`>=1.2-3`, `>=1.0,<2.0`) evaluated with that ordering.
//!
//! Every manager has its own rules, and "close enough" is wrong in exactly the cases people ask
//! about (`1.0~rc1` before `1.0`, epochs, `1.0^git1` after `1.0`, 30-digit snapshot dates), so
//! each comparison below is a transcription of the manager's own C code, checked differentially
//! against `dpkg --compare-versions` and rpm's `rpm.vercmp` by `tests/it/version_order.rs`:
//!
//! - dpkg: `verrevcmp` from dpkg's `lib/dpkg/version.c` on epoch, upstream version, revision.
//! - rpm: `rpmvercmp` from rpm's `rpmio/rpmvercmp.c` (with `~` and `^` as rpm ≥ 4.15 has them)
//!   on epoch, version, release as `rpmverCmp` does: a missing epoch is 0, a missing release
//!   sorts before any release.
//! - pacman: libalpm's `alpm_pkg_vercmp`: its own older `rpmvercmp` (no `~`/`^` rules, but
//!   separator lengths count) on epoch, version and pkgrel, pkgrel compared only when both have
//!   one. libalpm's comparison is not an order (see [`pacman_compare`]); sorting uses the
//!   nearest total order, constraints libalpm's own rule.
//!
//! Every comparison here is a total order (consistent with equality, antisymmetric,
//! transitive) whatever the input, because sorts rely on it and a host may report anything:
//! property tests below check it on generated hostile versions, and the `versions` fuzz target
//! (`fuzz/`) on whatever libFuzzer makes.
//! - apk: an approximation of apk-tools 2.x's token rules (digits, one letter, `_alpha`…`_p`
//!   suffixes, `-rN`): digit runs are compared as numbers of any length where apk-tools keeps
//!   them in a C `int`, a lone `0` after a dot is an ordinary number (apk-tools' leading-zero
//!   rule applies only to runs like `01`), and an unparsable version sorts by plain byte order
//!   instead of being "incomparable". No apk binary is available to check it against, so it is
//!   covered by known pairs only.

use std::cmp::Ordering;

use crate::error::{Error, Result};

use super::Manager;

/// Compares two full versions in `manager`'s notation (`[epoch:]version[-release]`, apk's
/// `version-rN`) the way that manager orders them.
pub fn compare(manager: Manager, a: &str, b: &str) -> Ordering {
    match manager {
        Manager::Dpkg => dpkg_compare(a, b),
        Manager::Rpm => rpm_compare(a, b),
        Manager::Pacman => pacman_compare(a, b),
        Manager::Apk => apk_compare(a, b),
    }
}

/// What C code sees of a string: the bytes before its first NUL. dpkg, rpm and libalpm read
/// versions as C strings and use NUL as the end inside their loops (as the transcriptions here
/// do); a NUL inside a Rust string would be an end that is not the end, which breaks their
/// orders (`"\0"` equal to both `""` and `"10"`). A real package never has one; a lying host
/// may send one.
fn c_string(s: &str) -> &str {
    s.split('\0').next().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// dpkg

/// dpkg's ordering of two Debian versions `[epoch:]upstream[-revision]`, as
/// `dpkg --compare-versions` decides it.
pub fn dpkg_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (c_string(a), c_string(b));
    let (ea, va, ra) = dpkg_split(a);
    let (eb, vb, rb) = dpkg_split(b);
    numeric_cmp(ea, eb)
        .then_with(|| verrevcmp(va.as_bytes(), vb.as_bytes()))
        .then_with(|| verrevcmp(ra.as_bytes(), rb.as_bytes()))
}

/// Splits as dpkg's `parseversion` does: the epoch ends at the first colon, the revision starts
/// after the last hyphen. Surrounding blanks are ignored, as dpkg ignores them.
fn dpkg_split(full: &str) -> (&str, &str, &str) {
    let full = full.trim();
    let (epoch, rest) = match full.split_once(':') {
        Some((e, rest)) => (e, rest),
        None => ("0", full),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v, r),
        None => (epoch, rest, ""),
    }
}

/// Two runs of decimal digits compared as numbers of any length: no overflow on a 30-digit
/// snapshot stamp.
fn numeric_cmp(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// dpkg's weight of a character in a non-digit run: `~` before everything (even the end),
/// then the end and digits, then letters, then everything else.
fn dpkg_order(c: u8) -> i32 {
    match c {
        b'0'..=b'9' | 0 => 0,
        b'a'..=b'z' | b'A'..=b'Z' => i32::from(c),
        b'~' => -1,
        _ => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternating non-digit runs (compared by [`dpkg_order`]) and digit runs
/// (compared numerically).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (dpkg_order(at(a, i)), dpkg_order(at(b, j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------------------------------------
// rpm

/// An rpm `[epoch:]version[-release]` split as rpm's `parseEVR` splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Evr<'a> {
    /// `None` when the string has no epoch (rpm then compares it as 0).
    epoch: Option<&'a str>,
    version: &'a str,
    /// `None` when the string has no release; `Some("")` for a trailing hyphen.
    release: Option<&'a str>,
}

/// rpm's `parseEVR`: leading digits followed by `:` are the epoch (an empty one is `0`); the
/// release follows the last hyphen after them.
fn rpm_split(evr: &str) -> Evr<'_> {
    let digits = evr.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = if evr.as_bytes().get(digits) == Some(&b':') {
        let e = &evr[..digits];
        (Some(if e.is_empty() { "0" } else { e }), &evr[digits + 1..])
    } else {
        (None, evr)
    };
    // The release hyphen is searched for from the end of the epoch digits, as rpm does; with an
    // epoch that is the same as searching the version part.
    let hyphen = evr[digits..].rfind('-').map(|i| i + digits);
    match hyphen {
        Some(h) if epoch.is_some() => Evr {
            epoch,
            version: &evr[digits + 1..h],
            release: Some(&evr[h + 1..]),
        },
        Some(h) => Evr {
            epoch,
            version: &evr[..h],
            release: Some(&evr[h + 1..]),
        },
        None => Evr {
            epoch,
            version: rest,
            release: None,
        },
    }
}

/// rpm's ordering of two `[epoch:]version[-release]` strings, as `rpm.vercmp` in rpm's Lua
/// (and `rpmverCmp` in C) decides it: epochs (missing = 0), then versions, then releases, where
/// a missing release sorts before any release.
pub fn rpm_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (rpm_split(c_string(a)), rpm_split(c_string(b)));
    rpmvercmp(a.epoch.unwrap_or("0"), b.epoch.unwrap_or("0"))
        .then_with(|| rpmvercmp(a.version, b.version))
        .then_with(|| match (a.release, b.release) {
            (Some(x), Some(y)) => rpmvercmp(x, y),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
}

/// rpm's dependency comparison (`rpmdsCompareEVR`) of an installed version against a wanted
/// one: a wanted version without a release matches every release of that version, as
/// `Requires: foo = 1.2` does.
fn rpm_compare_wanted(installed: &str, wanted: &str) -> Ordering {
    let (a, b) = (rpm_split(c_string(installed)), rpm_split(c_string(wanted)));
    let ord = rpmvercmp(a.epoch.unwrap_or("0"), b.epoch.unwrap_or("0"))
        .then_with(|| rpmvercmp(a.version, b.version));
    match (a.release, b.release) {
        (Some(x), Some(y)) if !x.is_empty() && !y.is_empty() => ord.then_with(|| rpmvercmp(x, y)),
        _ => ord,
    }
}

/// rpm's `rpmvercmp` on one part of a version: alphanumeric segments, digits numerically and
/// newer than letters, `~` before everything (even the end), `^` after the end but before
/// anything else.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (c_string(a), c_string(b));
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let sep = |c: u8| c != 0 && !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while sep(at(a, i)) {
            i += 1;
        }
        while sep(at(b, j)) {
            j += 1;
        }
        let (x, y) = (at(a, i), at(b, j));
        if x == b'~' || y == b'~' {
            if x != b'~' {
                return Ordering::Greater;
            }
            if y != b'~' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if x == b'^' || y == b'^' {
            if x == 0 {
                return Ordering::Less;
            }
            if y == 0 {
                return Ordering::Greater;
            }
            if x != b'^' {
                return Ordering::Greater;
            }
            if y != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if x == 0 || y == 0 {
            break;
        }
        let numeric = x.is_ascii_digit();
        let class = |c: u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (si, sj) = (i, j);
        while class(at(a, i)) {
            i += 1;
        }
        while class(at(b, j)) {
            j += 1;
        }
        let (mut one, mut two) = (&a[si..i], &b[sj..j]);
        // A segment of the other kind (or none) on the right: numbers are newer than letters.
        if two.is_empty() {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        if numeric {
            while one.first() == Some(&b'0') {
                one = &one[1..];
            }
            while two.first() == Some(&b'0') {
                two = &two[1..];
            }
            match one.len().cmp(&two.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match one.cmp(two) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

// ---------------------------------------------------------------------------------------------
// pacman

/// pacman's order for sorting: libalpm's `alpm_pkg_vercmp` (epoch, missing = 0; version; then
/// pkgrel, each with libalpm's own `rpmvercmp`), except that a version without a pkgrel sorts
/// just before the same version with one, as rpm sorts a missing release.
///
/// libalpm compares pkgrels only when both versions have one, so it calls `1.0` equal to both
/// `1.0-1` and `1.0-2`, which it orders: that is not an order, and a sort given it may panic
/// ("does not correctly implement a total order") or scramble. Only pairs libalpm calls equal
/// are ordered differently here; constraints keep libalpm's rule ([`pacman_vercmp`]).
pub fn pacman_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (c_string(a), c_string(b));
    pacman_parts(a, b).then_with(|| {
        let (a, b) = (rpm_split(a), rpm_split(b));
        match (a.release, b.release) {
            (Some(x), Some(y)) => alpm_rpmvercmp(x, y),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    })
}

/// libalpm's `alpm_pkg_vercmp` exactly, pkgrel compared only when both have one: what pacman
/// means by `foo=1.0` in a dependency (it matches `1.0-3`). Not an order; never sort with it.
fn pacman_vercmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (c_string(a), c_string(b));
    if a == b {
        return Ordering::Equal;
    }
    pacman_parts(a, b).then_with(|| match (rpm_split(a).release, rpm_split(b).release) {
        (Some(x), Some(y)) => alpm_rpmvercmp(x, y),
        _ => Ordering::Equal,
    })
}

/// Epoch and version of two pacman versions, as libalpm compares them.
fn pacman_parts(a: &str, b: &str) -> Ordering {
    let (a, b) = (rpm_split(a), rpm_split(b));
    alpm_rpmvercmp(a.epoch.unwrap_or("0"), b.epoch.unwrap_or("0"))
        .then_with(|| alpm_rpmvercmp(a.version, b.version))
}

/// libalpm's `rpmvercmp` (`lib/libalpm/version.c`) made a total order: like rpm's before
/// `~`/`^`, except that a longer run of separators wins and a trailing letter segment loses
/// against the end.
///
/// libalpm's own walk is not transitive (`:a0` < `~+.` < `1:` < `:a0`): a part that ends in
/// separators is compared against the other's next segment by its kind alone, whatever the
/// separators before it, while segments are compared by their separators first. Here a part is
/// a sequence of items (separators + segment, then how it ends), compared item by item with
/// one fixed order of items, which is a total order by construction. It gives libalpm's answer
/// on every pair where neither part ends in a separator (checked against a transcription of
/// libalpm's C in the tests); a part that does is placed as if its trailing separators were
/// one.
fn alpm_rpmvercmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (c_string(a), c_string(b));
    alpm_items(a.as_bytes()).cmp(alpm_items(b.as_bytes()))
}

/// The items libalpm's walk visits in a version part, each as a key whose order is libalpm's:
/// `(separators before, rank, digit count, text)`. A letter segment has rank 1, a digit
/// segment rank 3 (digits beat letters; leading zeros dropped, so a longer number is larger),
/// and the end rank 2: an end right after a segment sorts after a letter segment that follows
/// directly (`1.0a` < `1.0`) and before anything else; an end after separators sorts as one
/// separator between a letter and a digit segment (`1.0.a` < `1.0.` < `1.0.1`).
fn alpm_items(s: &[u8]) -> impl Iterator<Item = (usize, u8, usize, &[u8])> {
    let mut i = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let start = i;
        while i < s.len() && !s[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let seps = i - start;
        if i == s.len() {
            done = true;
            return Some((seps.min(1), 2, 0, &[][..]));
        }
        let numeric = s[i].is_ascii_digit();
        let begin = i;
        while i < s.len()
            && (if numeric {
                s[i].is_ascii_digit()
            } else {
                s[i].is_ascii_alphabetic()
            })
        {
            i += 1;
        }
        Some(if numeric {
            let digits = &s[begin..i];
            let digits = &digits[digits.iter().take_while(|&&c| c == b'0').count()..];
            (seps, 3, digits.len(), digits)
        } else {
            (seps, 1, 0, &s[begin..i])
        })
    })
}

// ---------------------------------------------------------------------------------------------
// apk

/// apk-tools' token kinds, in the order its comparison relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

/// A token's value: numbers of any length, compared as numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Num(String),
    Neg(i64),
}

impl Val {
    fn cmp(&self, other: &Val) -> Ordering {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => numeric_cmp(a, b),
            (Val::Neg(a), Val::Neg(b)) => a.cmp(b),
            (Val::Neg(_), Val::Num(_)) => Ordering::Less,
            (Val::Num(_), Val::Neg(_)) => Ordering::Greater,
        }
    }
}

const APK_PRE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const APK_POST: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// apk-tools' `next_token`: what kind of token starts at `s[*i]`, given the previous kind.
fn apk_next(prev: Tok, s: &[u8], i: &mut usize) -> Tok {
    let c = s.get(*i).copied().unwrap_or(0);
    let mut n = if c == 0 {
        Tok::End
    } else if matches!(prev, Tok::Digit | Tok::DigitOrZero) && c.is_ascii_lowercase() {
        Tok::Letter
    } else if prev == Tok::Letter && c.is_ascii_digit() {
        Tok::Digit
    } else if prev == Tok::Suffix && c.is_ascii_digit() {
        Tok::SuffixNo
    } else {
        let t = match c {
            b'.' => Tok::DigitOrZero,
            b'_' => Tok::Suffix,
            b'-' if s.get(*i + 1) == Some(&b'r') => {
                *i += 1;
                Tok::RevisionNo
            }
            _ => Tok::Invalid,
        };
        *i += 1;
        t
    };
    if n < prev
        && !((n == Tok::DigitOrZero && prev == Tok::Digit)
            || (n == Tok::Suffix && prev == Tok::SuffixNo)
            || (n == Tok::Digit && prev == Tok::Letter))
    {
        n = Tok::Invalid;
    }
    n
}

/// apk-tools' `get_token`: the value of the token of kind `*kind` at `s[*i]`, advancing past it
/// and setting `*kind` to the next token's kind.
fn apk_get(kind: &mut Tok, s: &[u8], i: &mut usize) -> Val {
    if *i >= s.len() {
        *kind = Tok::End;
        return Val::Num(String::new());
    }
    let rest = &s[*i..];
    let mut next = Tok::Invalid;
    let (value, len) = match *kind {
        Tok::DigitOrZero if rest[0] == b'0' && rest.get(1).is_some_and(u8::is_ascii_digit) => {
            // Leading zeros after a dot: "1.01" sorts before "1.1" (a fraction, not a number).
            // apk-tools 2.x as published also does this for a lone "0", which would put
            // "1.0_alpha1" after "1.0"; a lone zero is an ordinary number here.
            let zeros = rest.iter().take_while(|&&c| c == b'0').count();
            next = Tok::Digit;
            (Val::Neg(-(zeros as i64)), zeros)
        }
        Tok::DigitOrZero | Tok::Digit | Tok::SuffixNo | Tok::RevisionNo => {
            let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            (
                Val::Num(String::from_utf8_lossy(&rest[..n]).into_owned()),
                n,
            )
        }
        Tok::Letter => (Val::Num(format!("{:03}", rest[0])), 1),
        Tok::Suffix => {
            if let Some(v) = APK_PRE.iter().position(|p| rest.starts_with(p.as_bytes())) {
                (Val::Neg(v as i64 - APK_PRE.len() as i64), APK_PRE[v].len())
            } else if let Some(v) = APK_POST.iter().position(|p| rest.starts_with(p.as_bytes())) {
                (Val::Num(v.to_string()), APK_POST[v].len())
            } else {
                *kind = Tok::Invalid;
                return Val::Neg(-1);
            }
        }
        _ => {
            *kind = Tok::Invalid;
            return Val::Neg(-1);
        }
    };
    *i += len;
    if *i >= s.len() {
        *kind = Tok::End;
    } else if next != Tok::Invalid {
        *kind = next;
    } else {
        *kind = apk_next(*kind, s, i);
    }
    value
}

/// apk-tools' `apk_version_compare`: token by token; when one version runs out first, it is
/// older unless the other continues with a pre-release suffix (`_rc1`, `_alpha`).
pub fn apk_compare(a: &str, b: &str) -> Ordering {
    let (sa, sb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let (mut at, mut bt) = (Tok::Digit, Tok::Digit);
    let (mut av, mut bv) = (Val::Num(String::new()), Val::Num(String::new()));
    while at == bt && at != Tok::End && at != Tok::Invalid && av.cmp(&bv) == Ordering::Equal {
        av = apk_get(&mut at, sa, &mut i);
        bv = apk_get(&mut bt, sb, &mut j);
    }
    match av.cmp(&bv) {
        Ordering::Equal => {}
        other => return other,
    }
    if at == bt {
        // Both ended, or both hit something apk cannot parse: fall back to bytes so that the
        // order stays total (apk calls such versions incomparable).
        return if at == Tok::Invalid {
            a.cmp(b)
        } else {
            Ordering::Equal
        };
    }
    let pre = |kind: Tok, s: &[u8], i: usize| {
        let (mut k, mut i) = (kind, i);
        kind == Tok::Suffix && matches!(apk_get(&mut k, s, &mut i), Val::Neg(_))
    };
    if pre(at, sa, i) {
        return Ordering::Less;
    }
    if pre(bt, sb, j) {
        return Ordering::Greater;
    }
    // The one that goes on (a lower token kind) is newer; apk's END is the highest kind.
    bt.cmp(&at)
}

// ---------------------------------------------------------------------------------------------
// constraints

/// A comparison operator of a version constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// How an installed version stands against a constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every term holds.
    Satisfied,
    /// Older than a term allows (`=`, `>` or `>=` failed on the low side).
    Behind,
    /// Newer than a term allows (`=`, `<` or `<=` failed on the high side).
    Ahead,
    /// Exactly a version a `!=` term excludes.
    Excluded,
}

/// A version constraint: one or more `OP VERSION` terms that must all hold (`>=1.0,<2.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    terms: Vec<(Op, String)>,
}

impl Constraint {
    /// Parses `=V`, `==V`, `!=V`, `<V`, `<=V`, `>V`, `>=V` or a bare `V` (equals), or several
    /// of them separated by commas, all of which must hold. Blanks around terms are allowed.
    pub fn parse(text: &str) -> Result<Constraint> {
        let bad = |why: &str| Error::usage(format!("bad version constraint {text:?}: {why}"));
        if text.trim().is_empty() {
            return Err(bad("it is empty"));
        }
        let mut terms = Vec::new();
        for term in text.split(',') {
            let term = term.trim();
            if term.is_empty() {
                return Err(bad("a term between commas is empty"));
            }
            let (op, rest) = [
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("=", Op::Eq),
                ("<", Op::Lt),
                (">", Op::Gt),
            ]
            .iter()
            .find_map(|(s, op)| term.strip_prefix(s).map(|rest| (*op, rest.trim_start())))
            .unwrap_or((Op::Eq, term));
            if rest.is_empty() {
                return Err(bad(&format!("no version after {:?}", op.symbol())));
            }
            if let Some(c) = rest
                .chars()
                .find(|c| c.is_whitespace() || c.is_control() || "<>=!,".contains(*c))
            {
                return Err(bad(&format!("unexpected {c:?} in version {rest:?}")));
            }
            if !rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                return Err(bad(&format!(
                    "version {rest:?} does not start with a letter or digit"
                )));
            }
            if let Some((epoch, _)) = rest.split_once(':')
                && !epoch.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad(&format!("epoch {epoch:?} is not a number")));
            }
            terms.push((op, rest.to_string()));
        }
        Ok(Constraint { terms })
    }

    /// How `installed` (a full version in `manager`'s notation) stands against this constraint,
    /// by the first term that fails. For rpm, a term version without a release matches every
    /// release (rpm's own dependency rule); for dpkg, apk and pacman equality is their own
    /// comparison's (dpkg: exact; pacman: pkgrel only when both have one).
    pub fn verdict(&self, manager: Manager, installed: &str) -> Verdict {
        for (op, wanted) in &self.terms {
            let ord = match manager {
                Manager::Rpm => rpm_compare_wanted(installed, wanted),
                Manager::Pacman => pacman_vercmp(installed, wanted),
                _ => compare(manager, installed, wanted),
            };
            let holds = match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Ne => ord != Ordering::Equal,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                Op::Gt => ord == Ordering::Greater,
                Op::Ge => ord != Ordering::Less,
            };
            if !holds {
                return match (op, ord) {
                    (Op::Ne, _) => Verdict::Excluded,
                    (_, Ordering::Less) => Verdict::Behind,
                    (_, Ordering::Greater) => Verdict::Ahead,
                    // `<V` or `>V` failed on equality: the bound's side decides.
                    (Op::Lt, Ordering::Equal) => Verdict::Ahead,
                    (_, Ordering::Equal) => Verdict::Behind,
                };
            }
        }
        Verdict::Satisfied
    }

    /// True when `installed` satisfies every term.
    pub fn matches(&self, manager: Manager, installed: &str) -> bool {
        self.verdict(manager, installed) == Verdict::Satisfied
    }

    /// An exact version: a constraint that is one `=V` term.
    pub fn exact(version: &str) -> Constraint {
        Constraint {
            terms: vec![(Op::Eq, version.to_string())],
        }
    }
}

impl std::fmt::Display for Constraint {
    /// The canonical text: `=` spelled out, terms joined by commas.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|(op, v)| format!("{}{v}", op.symbol()))
            .collect();
        f.write_str(&terms.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[track_caller]
    fn check(manager: Manager, pairs: &[(&str, &str, Ordering)]) {
        for (a, b, want) in pairs {
            assert_eq!(compare(manager, a, b), *want, "{manager}: {a} vs {b}");
            assert_eq!(
                compare(manager, b, a),
                want.reverse(),
                "{manager}: {b} vs {a}"
            );
        }
    }

    /// libalpm's `rpmvercmp` transcribed from its C, not a total order: the reference that
    /// [`alpm_rpmvercmp`] must agree with wherever neither part ends in a separator.
    fn libalpm_rpmvercmp(a: &str, b: &str) -> Ordering {
        // C strings end at the first NUL.
        let (a, b) = (c_string(a), c_string(b));
        if a == b {
            return Ordering::Equal;
        }
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
        let (mut one, mut two) = (0usize, 0usize);
        let (mut p1, mut p2) = (0usize, 0usize);
        while one < a.len() && two < b.len() {
            while one < a.len() && !a[one].is_ascii_alphanumeric() {
                one += 1;
            }
            while two < b.len() && !b[two].is_ascii_alphanumeric() {
                two += 1;
            }
            if one >= a.len() || two >= b.len() {
                break;
            }
            if one - p1 != two - p2 {
                return (one - p1).cmp(&(two - p2));
            }
            p1 = one;
            p2 = two;
            let numeric = a[p1].is_ascii_digit();
            let class = |c: u8| {
                if numeric {
                    c.is_ascii_digit()
                } else {
                    c.is_ascii_alphabetic()
                }
            };
            while class(at(a, p1)) {
                p1 += 1;
            }
            while class(at(b, p2)) {
                p2 += 1;
            }
            let (mut x, mut y) = (&a[one..p1], &b[two..p2]);
            if y.is_empty() {
                return if numeric {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            if numeric {
                while x.first() == Some(&b'0') {
                    x = &x[1..];
                }
                while y.first() == Some(&b'0') {
                    y = &y[1..];
                }
                match x.len().cmp(&y.len()) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            match x.cmp(y) {
                Ordering::Equal => {}
                other => return other,
            }
            one = p1;
            two = p2;
        }
        let (x, y) = (at(a, one), at(b, two));
        if x == 0 && y == 0 {
            return Ordering::Equal;
        }
        // libalpm: a remaining letter segment never beats the end ("1.0a" < "1.0"), anything else does.
        if (x == 0 && !y.is_ascii_alphabetic()) || x.is_ascii_alphabetic() {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    }

    /// A tiny deterministic generator (xorshift64*): reproducible, no crate.
    struct Gen(u64);

    impl Gen {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }

        /// A version built from pieces that every manager's parser treats specially: every
        /// separator, epochs and revisions, apk's suffixes, leading zeros, letters of both
        /// cases, and empty parts (adjacent separators, a leading or trailing one).
        fn version(&mut self) -> String {
            const PIECES: [&str; 37] = [
                "0", "1", "2", "9", "00", "01", "10", "007", "a", "b", "z", "A", "Z", "+", ",",
                "-", ":", "~", "^", ".", "_", "-r", "-r1", "_rc", "_alpha", "_p", "_git", "1:",
                "0:", ".0", "~rc1", "^git", "..", "--", "\0", "\u{1f}", "é",
            ];
            (0..self.below(7))
                .map(|_| PIECES[self.below(PIECES.len())])
                .collect()
        }
    }

    /// Checks that `cmp` is a total order on `pool` (consistent with equality, antisymmetric,
    /// transitive): sort it with a sort that never trusts the comparator to be consistent,
    /// rank the sorted run by adjacent comparisons, and require every pair to compare exactly
    /// as their ranks do. A failure names a violating triple.
    #[track_caller]
    fn assert_total(name: &str, cmp: impl Fn(&str, &str) -> Ordering, pool: &[String]) {
        for a in pool {
            assert_eq!(cmp(a, a), Equal, "{name}: {a:?} is not equal to itself");
        }
        let mut sorted: Vec<&str> = Vec::with_capacity(pool.len());
        for v in pool {
            let at = sorted.partition_point(|s| cmp(s, v) != Greater);
            sorted.insert(at, v);
        }
        let mut rank = vec![0usize; sorted.len()];
        for k in 1..sorted.len() {
            rank[k] = rank[k - 1] + usize::from(cmp(sorted[k - 1], sorted[k]) != Equal);
        }
        for i in 0..sorted.len() {
            for j in i + 1..sorted.len() {
                let want = rank[i].cmp(&rank[j]);
                let (a, b) = (sorted[i], sorted[j]);
                if cmp(a, b) == want && cmp(b, a) == want.reverse() {
                    continue;
                }
                assert_eq!(
                    cmp(b, a),
                    cmp(a, b).reverse(),
                    "{name}: {a:?} vs {b:?} not antisymmetric"
                );
                // A transitivity failure: some element between them breaks the chain.
                for &m in &sorted[i..=j] {
                    let (x, y, z) = (cmp(a, m), cmp(m, b), cmp(a, b));
                    let implied = match (x, y) {
                        (Equal, o) | (o, Equal) => Some(o),
                        (Less, Less) => Some(Less),
                        (Greater, Greater) => Some(Greater),
                        _ => None,
                    };
                    assert!(
                        implied.is_none_or(|o| o == z),
                        "{name}: not transitive: {a:?} {x:?} {m:?}, {m:?} {y:?} {b:?}, but {a:?} {z:?} {b:?}"
                    );
                }
                panic!(
                    "{name}: {a:?} vs {b:?} is {:?}, its rank says {want:?}",
                    cmp(a, b)
                );
            }
        }
    }

    /// Checks `cmp` on 60 pools of 120 generated versions (so that a failure is small enough
    /// to read).
    #[track_caller]
    fn assert_total_on_generated(name: &str, cmp: impl Fn(&str, &str) -> Ordering) {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for _ in 0..60 {
            let pool: Vec<String> = (0..120).map(|_| g.version()).collect();
            assert_total(name, &cmp, &pool);
        }
    }

    #[test]
    fn dpkg_order_is_total() {
        assert_total_on_generated("dpkg", dpkg_compare);
    }

    #[test]
    fn rpm_order_is_total() {
        assert_total_on_generated("rpm", rpm_compare);
        assert_total_on_generated("rpmvercmp", rpmvercmp);
    }

    #[test]
    fn pacman_order_is_total() {
        assert_total_on_generated("pacman", pacman_compare);
        assert_total_on_generated("alpm_rpmvercmp", alpm_rpmvercmp);
    }

    /// The total order is libalpm's on every pair of parts that do not end in a separator,
    /// and it breaks libalpm's cycle where one does.
    #[test]
    fn alpm_order_agrees_with_libalpm() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        let pool: Vec<String> = (0..400).map(|_| g.version()).collect();
        let ends_in_separator = |v: &str| {
            c_string(v)
                .bytes()
                .last()
                .is_some_and(|c| !c.is_ascii_alphanumeric())
        };
        let mut compared = 0;
        for a in pool.iter().filter(|v| !ends_in_separator(v)) {
            for b in pool.iter().filter(|v| !ends_in_separator(v)) {
                assert_eq!(
                    alpm_rpmvercmp(a, b),
                    libalpm_rpmvercmp(a, b),
                    "{a:?} vs {b:?}"
                );
                compared += 1;
            }
        }
        assert!(compared > 50_000, "only {compared} pairs");
        // libalpm: ":a0" < "~+." < "1:" < ":a0". The cycle breaks at the part that is only
        // separators, which sorts as one separator before a digit segment.
        assert_eq!(alpm_rpmvercmp(":a0", "~+."), Less);
        assert_eq!(alpm_rpmvercmp("1:", ":a0"), Less);
        assert_eq!(libalpm_rpmvercmp("~+.", "1:"), Less);
        assert_eq!(alpm_rpmvercmp("~+.", "1:"), Greater);
    }

    #[test]
    fn apk_order_is_total() {
        assert_total_on_generated("apk", apk_compare);
    }

    /// The pacman versions that made `pkg-where --summary` panic.
    #[test]
    fn pacman_order_is_total_on_the_reported_set() {
        let pool: Vec<String> = ["1+0-2", "1,0", "1.0-1", "1.0", "1.0-2", "1+0", "1,0-1"]
            .map(String::from)
            .to_vec();
        assert_total("pacman", pacman_compare, &pool);
    }

    #[test]
    fn dpkg_tricky_pairs() {
        check(
            Manager::Dpkg,
            &[
                ("1.0~rc1", "1.0", Less),
                ("1.0~~", "1.0~", Less),
                ("1.0~", "1.0", Less),
                ("1.0", "1.0+b1", Less),
                ("1.0a", "1.0", Greater),
                ("1.0a", "1.0+", Less),
                ("1:0.1", "2.0", Greater),
                ("001:1.0", "1:1.0", Equal),
                ("1.0-1", "1.0-1~bpo1", Greater),
                ("1.0", "1.0-0", Equal),
                ("1.01", "1.1", Equal),
                ("2.36-9+deb12u4", "2.36-9+deb12u10", Less),
                (
                    "123456789012345678901234567890",
                    "123456789012345678901234567891",
                    Less,
                ),
                ("1.0.0", "1.0", Greater),
                ("1.0A", "1.0a", Less),
                ("3.0.11-1~deb12u2", "3.0.13-1~deb12u1", Less),
            ],
        );
    }

    #[test]
    fn rpm_tricky_pairs() {
        check(
            Manager::Rpm,
            &[
                ("1.0~rc1", "1.0", Less),
                ("1.0^git1", "1.0", Greater),
                ("1.0^git1", "1.0.1", Less),
                ("1.0~rc1^git1", "1.0~rc1", Greater),
                ("1.0a", "1.0", Greater),
                ("1.0a", "1.0.1", Less),
                ("1.0", "1.0-1", Less),
                ("1.0-~", "1.0", Greater),
                ("2:1.0", "10.0", Greater),
                ("0:1.0", "1.0", Equal),
                (":1.0", "1.0", Equal),
                ("1.0_1", "1.0.1", Equal),
                ("1.01", "1.1", Equal),
                ("1.0-1.el9", "1.0-1.el9_2", Less),
                ("a", "1", Less),
                ("99999999999999999999999", "100000000000000000000000", Less),
            ],
        );
        assert_eq!(rpmvercmp("1.0", "1.0^"), Less);
        assert_eq!(rpmvercmp("", "~"), Greater);
    }

    #[test]
    fn pacman_tricky_pairs() {
        check(
            Manager::Pacman,
            &[
                ("1.0a", "1.0", Less),
                ("1.0", "1.0.a", Less),
                ("1.0.1", "1.0a", Greater),
                ("1:1.0", "2.0", Greater),
                // libalpm calls these equal; sorting puts the one without a pkgrel first.
                ("1.0-1", "1.0", Greater),
                ("1.0-1", "1.0-2", Less),
                ("1..0", "1.0", Greater),
                ("1.0.0", "1.0", Greater),
                // An epoch of 0, written or empty, is no epoch; the colon is not part of the
                // version (libalpm's parseEVR), which matters here where separators count.
                ("0:1.0", "1.0", Equal),
                (":1.0", "1.0", Equal),
                ("0:1.0-1", "1.0-1", Equal),
                ("0:1.0-1", "1.0-2", Less),
            ],
        );
    }

    #[test]
    fn apk_tricky_pairs() {
        check(
            Manager::Apk,
            &[
                ("1.0_alpha1", "1.0", Less),
                ("1.0_rc1", "1.0_beta2", Greater),
                ("1.0_p1", "1.0", Greater),
                ("1.0a", "1.0", Greater),
                ("1.0-r1", "1.0-r0", Greater),
                ("1.0-r1", "1.0", Greater),
                ("1.2.3-r10", "1.2.3-r9", Greater),
                ("1.0.1", "1.0_rc1", Greater),
                ("1.01", "1.1", Less),
                ("1.0", "1.0", Equal),
                // Numbers after a letter and after a suffix are numbers, not bytes.
                ("1.0a10", "1.0a9", Greater),
                ("1.0_rc10", "1.0_rc9", Greater),
                // A suffix without a number sorts before the same suffix with one.
                ("1.0_p-r1", "1.0_p0-r1", Less),
                // `-` not followed by `r` is unparsable: plain byte order.
                ("1.0-x10", "1.0-x9", Less),
                // So are a dot after a letter, a suffix number or a revision, and a suffix
                // after a revision: apk's tokens only go one way.
                ("1.0a.10", "1.0a.9", Less),
                ("1.0_rc1.10", "1.0_rc1.9", Less),
                ("1.0-r1_p10", "1.0-r1_p9", Less),
                // More leading zeros after a dot: a smaller fraction.
                ("1.001", "1.01", Less),
                // An unknown suffix sorts after every pre-release suffix.
                ("1.0_alpha", "1.0_xyz", Less),
                // An unknown suffix against `rc` then something unparsable: byte order.
                ("1.0_a", "1.0_rc!", Less),
                (
                    "1.123456789012345678901234567890",
                    "1.123456789012345678901234567891",
                    Less,
                ),
            ],
        );
    }

    #[test]
    fn constraints_parse_and_reject() {
        let c = Constraint::parse(">= 1.0, <2.0").unwrap();
        assert_eq!(c.to_string(), ">=1.0,<2.0");
        assert_eq!(Constraint::parse("1.2-3").unwrap().to_string(), "=1.2-3");
        assert_eq!(Constraint::parse("==1").unwrap().to_string(), "=1");
        for bad in [
            "", " ", ">=", ">=1.0,", ",1", "=>1", "<>1", ">=1 .0", "x:1.0", ">=~1", "1.0!",
        ] {
            let err = Constraint::parse(bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::Usage, "{bad}");
            assert!(err.to_string().contains("bad version constraint"), "{err}");
        }
    }

    #[test]
    fn constraint_verdicts() {
        let c = Constraint::parse(">=3.0.11,<4").unwrap();
        assert_eq!(
            c.verdict(Manager::Dpkg, "3.0.11-1~deb12u2"),
            Verdict::Satisfied
        );
        assert_eq!(c.verdict(Manager::Dpkg, "3.0.11~rc1-1"), Verdict::Behind);
        assert_eq!(c.verdict(Manager::Dpkg, "1:3.0.0-1"), Verdict::Ahead);
        assert_eq!(c.verdict(Manager::Dpkg, "4"), Verdict::Ahead);
        let ne = Constraint::parse("!=1.0-1").unwrap();
        assert_eq!(ne.verdict(Manager::Dpkg, "1.0-1"), Verdict::Excluded);
        assert!(ne.matches(Manager::Dpkg, "1.0-2"));
    }

    #[test]
    fn rpm_equality_without_a_release_matches_any_release() {
        let c = Constraint::parse("=3.0.7").unwrap();
        assert!(c.matches(Manager::Rpm, "3.0.7-24.el9"));
        assert!(c.matches(Manager::Rpm, "0:3.0.7-1"));
        assert!(!c.matches(Manager::Rpm, "1:3.0.7-24.el9"));
        assert!(
            !Constraint::parse("<3.0.7")
                .unwrap()
                .matches(Manager::Rpm, "3.0.7-24.el9")
        );
        assert!(
            Constraint::parse("<=3.0.7")
                .unwrap()
                .matches(Manager::Rpm, "3.0.7-24.el9")
        );
        assert!(
            !Constraint::parse("=3.0.7-25")
                .unwrap()
                .matches(Manager::Rpm, "3.0.7-24")
        );
        // pacman, as libalpm: a pkgrel is compared only when both sides have one.
        assert!(c.matches(Manager::Pacman, "3.0.7-24"));
        assert!(
            Constraint::parse("=3.0.7-24")
                .unwrap()
                .matches(Manager::Pacman, "3.0.7")
        );
        assert!(
            !Constraint::parse(">3.0.7")
                .unwrap()
                .matches(Manager::Pacman, "3.0.7-24")
        );
        // dpkg is exact: 1.0 is not 1.0-1.
        assert!(!c.matches(Manager::Dpkg, "3.0.7-1"));
    }

    /// rpm's `rpmdsCompareEVR` compares releases only when both are non-empty, so a wanted
    /// version with a trailing hyphen (an empty release) wants every release of that version.
    #[test]
    fn rpm_an_empty_wanted_release_matches_any_release() {
        for (wanted, installed) in [("=1.0-", "1.0-5"), ("=1:1.0-", "1:1.0-5.el9")] {
            let c = Constraint::parse(wanted).unwrap();
            assert!(c.matches(Manager::Rpm, installed), "{wanted} {installed}");
        }
        let c = Constraint::parse("=1.0-").unwrap();
        assert!(!c.matches(Manager::Rpm, "1.1-5"));
        assert_eq!(c.verdict(Manager::Rpm, "0.9-5"), Verdict::Behind);
        // An installed version with an empty release matches any wanted release, too.
        assert!(
            Constraint::parse("=1.0-3")
                .unwrap()
                .matches(Manager::Rpm, "1.0-")
        );
        assert!(
            !Constraint::parse("=1.0-3")
                .unwrap()
                .matches(Manager::Rpm, "1.0-2")
        );
    }

    /// pacman constraints use libalpm's comparison: versions in order, the pkgrel compared
    /// when both sides have one.
    #[test]
    fn pacman_constraint_verdicts() {
        let verdict = |c: &str, v: &str| Constraint::parse(c).unwrap().verdict(Manager::Pacman, v);
        assert_eq!(verdict(">=2.0", "1.9-1"), Verdict::Behind);
        assert_eq!(verdict(">=2.0", "2.0.1-1"), Verdict::Satisfied);
        assert_eq!(verdict("<2.0", "2.1-1"), Verdict::Ahead);
        assert_eq!(verdict("=1.0-2", "1.0-3"), Verdict::Ahead);
        assert_eq!(verdict("=1.0-2", "1.0-1"), Verdict::Behind);
        assert_eq!(verdict("=1.0-2", "1.0-2"), Verdict::Satisfied);
        assert_eq!(verdict("!=1:1.0", "1:1.0-7"), Verdict::Excluded);
        assert_eq!(verdict("!=1:1.0", "1.0-7"), Verdict::Satisfied);
    }
}
