//! Version ordering checked against the package managers themselves: every generated pair is
//! compared by opskit and by `dpkg --compare-versions` (dpkg) or rpm's own `rpm.vercmp` (rpm),
//! and any disagreement fails the test with the pairs listed.
//!
//! The pairs come from a fixed-seed generator, so a failure reproduces. Most pairs are one small
//! edit apart (a digit changed, `~rc1` or `^git1` appended, a leading zero, an epoch, a release
//! dropped), because random strings almost never tie on their first segment and would test
//! little.
//!
//! Beyond the orders:
//! - dpkg's split of `epoch:upstream-revision` (the first colon, the last hyphen) is checked on
//!   versions whose upstream part holds hyphens and colons, against dpkg again.
//! - pacman: libalpm's own `alpm_pkg_vercmp` (the function pacman's `vercmp` wraps; Debian's
//!   `pacman-package-manager` ships libalpm but not the `vercmp` program, so it is called
//!   through Python's ctypes) judges both the sort order and the constraints.
//! - rpm constraints: rpm's own dependency rule (`rpmdsCompare`, through Debian's
//!   `python3-rpm`) judges whether an installed version satisfies `OP wanted`, as a
//!   `Requires:` would be judged against a `Provides:`.
//! - apk has no external oracle here: Debian 12 (bookworm), which this suite runs on and
//!   installs from, has no `apk-tools` package (`apt-cache policy apk-tools` finds none), and
//!   nothing but the package registries can be reached to build apk-tools from. Its order is
//!   covered by the known pairs and the property tests in `src/model/version.rs`.

use std::cmp::Ordering;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::require;
use opskit::model::Manager;
use opskit::model::version::{Constraint, compare};

/// How many pairs each manager is checked on.
const PAIRS: usize = 12_000;

/// A small linear congruential generator (Knuth's MMIX constants): deterministic, no crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A version as three parts; `None` parts are absent (no `E:`, no `-R`).
#[derive(Debug, Clone)]
struct Parts {
    epoch: Option<String>,
    version: String,
    release: Option<String>,
}

impl Parts {
    fn text(&self) -> String {
        let mut s = String::new();
        if let Some(e) = &self.epoch {
            s.push_str(e);
            s.push(':');
        }
        s.push_str(&self.version);
        if let Some(r) = &self.release {
            s.push('-');
            s.push_str(r);
        }
        s
    }
}

/// Separators each manager allows inside a version part (rpm also has `^`).
fn separators(manager: Manager) -> &'static [&'static str] {
    match manager {
        Manager::Rpm => &[".", ".", ".", "+", "_", "~", "^"],
        _ => &[".", ".", ".", "+", "~"],
    }
}

fn digits(rng: &mut Lcg) -> String {
    match rng.below(10) {
        // A long run: more digits than any machine integer holds.
        0 => (0..21 + rng.below(10))
            .map(|i| {
                let d = rng.below(10);
                char::from(b'0' + if i == 0 { 1 + d as u8 % 9 } else { d as u8 })
            })
            .collect(),
        1 => format!("0{}", rng.below(20)),
        2 => format!("00{}", rng.below(3)),
        _ => {
            let max = if rng.chance(70) { 10 } else { 1000 };
            rng.below(max).to_string()
        }
    }
}

fn letters(rng: &mut Lcg) -> String {
    rng.pick(&[
        "a", "b", "z", "A", "Z", "rc", "beta", "alpha", "git", "el", "deb", "ubuntu", "bpo", "p",
        "pre", "fc", "x",
    ])
    .to_string()
}

/// One version part: starts with a digit, then runs of digits, letters and separators.
fn part(rng: &mut Lcg, manager: Manager) -> String {
    let mut s = digits(rng);
    for _ in 0..rng.below(5) {
        match rng.below(4) {
            0 => s.push_str(&letters(rng)),
            _ => {
                s.push_str(rng.pick(separators(manager)));
                if rng.chance(70) {
                    s.push_str(&digits(rng));
                } else {
                    s.push_str(&letters(rng));
                }
            }
        }
    }
    s
}

fn generate(rng: &mut Lcg, manager: Manager) -> Parts {
    Parts {
        epoch: rng
            .chance(25)
            .then(|| rng.pick(&["0", "1", "2", "10", "01"]).to_string()),
        version: part(rng, manager),
        release: rng.chance(70).then(|| part(rng, manager)),
    }
}

/// A small edit of `p`, the kind that distinguishes close versions.
fn mutate(rng: &mut Lcg, manager: Manager, p: &Parts) -> Parts {
    let mut q = p.clone();
    let in_release = rng.chance(40);
    let target = match q.release.as_mut() {
        Some(r) if in_release => r,
        _ => &mut q.version,
    };
    match rng.below(12) {
        0 => target.push_str(&format!("~{}", letters(rng))),
        1 => target.push('~'),
        2 if manager == Manager::Rpm => target.push_str(&format!("^{}", part(rng, manager))),
        3 => target.push_str(&format!(".{}", digits(rng))),
        4 => target.push_str(&letters(rng)),
        5 => {
            // Change one digit.
            let positions: Vec<usize> = target
                .char_indices()
                .filter(|(_, c)| c.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            let i = positions[rng.below(positions.len())];
            let d = char::from(b'0' + rng.below(10) as u8);
            target.replace_range(i..i + 1, &d.to_string());
        }
        6 => {
            // A leading zero, which must not matter.
            if let Some(i) = target.find(|c: char| !c.is_ascii_digit()) {
                target.insert(i.min(1).saturating_sub(1), '0');
            }
        }
        7 => {
            q.epoch = if q.epoch.is_some() {
                None
            } else {
                Some("1".into())
            }
        }
        8 => {
            q.release = match q.release {
                Some(_) => None,
                None => Some(part(rng, manager)),
            }
        }
        9 => *target = target.replacen('.', rng.pick(separators(manager)), 1),
        10 => target.push_str(rng.pick(separators(manager))),
        _ => {} // identical
    }
    q
}

fn pairs(manager: Manager, seed: u64) -> Vec<(String, String)> {
    let mut rng = Lcg(seed);
    (0..PAIRS)
        .map(|_| {
            let a = generate(&mut rng, manager);
            let b = if rng.chance(75) {
                mutate(&mut rng, manager, &a)
            } else {
                generate(&mut rng, manager)
            };
            if rng.chance(50) {
                (a.text(), b.text())
            } else {
                (b.text(), a.text())
            }
        })
        .collect()
}

fn symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "lt",
        Ordering::Equal => "eq",
        Ordering::Greater => "gt",
    }
}

#[track_caller]
fn report(manager: Manager, pairs: &[(String, String)], theirs: &[String], tool: &str) {
    assert_eq!(theirs.len(), pairs.len(), "{tool} answered too few lines");
    let mut wrong = Vec::new();
    for ((a, b), t) in pairs.iter().zip(theirs) {
        let ours = symbol(compare(manager, a, b));
        if ours != t {
            wrong.push(format!(
                "  {a:?} vs {b:?}: {tool} says {t}, opskit says {ours}"
            ));
        }
    }
    let spread = ["lt", "eq", "gt"].map(|s| theirs.iter().filter(|t| *t == s).count());
    assert!(
        wrong.is_empty(),
        "{} of {} pairs disagree with {tool}; the first ones:\n{}",
        wrong.len(),
        pairs.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    // A generator that only made unequal pairs would not test the equal cases.
    assert!(
        spread.iter().all(|&n| n > pairs.len() / 20),
        "generator is lopsided: {spread:?}"
    );
}

#[test]
fn dpkg_order_matches_dpkg_compare_versions() {
    let pairs = pairs(Manager::Dpkg, 0x0d9c_0001);
    let theirs = ask_dpkg(&pairs);
    report(Manager::Dpkg, &pairs, &theirs, "dpkg --compare-versions");
}

/// dpkg's answers (`lt`, `eq` or `gt`) for each pair.
fn ask_dpkg(pairs: &[(String, String)]) -> Vec<String> {
    require("dpkg", "dpkg");
    // One `dpkg --compare-versions` per pair, asking only whether opskit's answer holds (one
    // process instead of up to three); pairs where it does not are asked again in full for the
    // report. Two shells split the pairs, one per core.
    let script = r#"while IFS=' ' read -r i a op b; do
        if dpkg --compare-versions "$a" "$op" "$b"; then echo "$i $op"; else
          for o in lt eq gt; do dpkg --compare-versions "$a" "$o" "$b" && echo "$i $o"; done
        fi
      done"#;
    let mut children = Vec::new();
    for half in 0..2 {
        let mut child = Command::new("sh")
            .args(["-c", script])
            .env("LC_ALL", "C")
            // dpkg warns of versions it still compares (a colon left in the revision when a
            // mutation drops the release); one it refuses shows in the report as `?`.
            .stderr(Stdio::null())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = String::new();
        for (i, (a, b)) in pairs.iter().enumerate().filter(|(i, _)| i % 2 == half) {
            let op = symbol(compare(Manager::Dpkg, a, b));
            input.push_str(&format!("{i} {a} {op} {b}\n"));
        }
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        children.push(child);
    }
    let mut theirs = vec![String::from("?"); pairs.len()];
    for child in children {
        let out = child.wait_with_output().unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (i, o) = line.split_once(' ').unwrap();
            theirs[i.parse::<usize>().unwrap()] = o.to_string();
        }
    }
    theirs
}

#[test]
fn rpm_order_matches_rpm_vercmp() {
    require("rpm", "rpm");
    let pairs = pairs(Manager::Rpm, 0x0c0f_fee0);
    // One rpm process runs a Lua script over every pair; the script is a file because 12,000
    // pairs are longer than one command-line argument may be.
    let dir = tempfile::tempdir().unwrap();
    let lua = dir.path().join("pairs.lua");
    let mut text = String::from("local p = {\n");
    for (a, b) in &pairs {
        text.push_str(&format!("{{{a:?}, {b:?}}},\n"));
    }
    text.push_str(
        "}\nlocal out = {}\nfor i, x in ipairs(p) do\n  local r = rpm.vercmp(x[1], x[2])\n  \
         out[i] = r < 0 and 'lt' or (r == 0 and 'eq' or 'gt')\nend\n\
         print(table.concat(out, '\\n'))\n",
    );
    std::fs::write(&lua, text).unwrap();
    let out = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: dofile({:?})}}", lua.to_str().unwrap()))
        .env("LC_ALL", "C")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rpm --eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    report(Manager::Rpm, &pairs, &theirs, "rpm.vercmp");
}

/// A dpkg version whose upstream part holds hyphens and colons, as `1:2.0-rc1-3` (upstream
/// `2.0-rc1`) or `2:1:4.2-1` (upstream `1:4.2`). dpkg allows a hyphen there when there is a
/// revision and a colon when there is an epoch, and finds them by splitting at the first colon
/// and the last hyphen.
fn punctuated(rng: &mut Lcg) -> Parts {
    let mut version = part(rng, Manager::Dpkg);
    for _ in 0..1 + rng.below(2) {
        version.push_str(rng.pick(&["-", "-", ":"]));
        version.push_str(&part(rng, Manager::Dpkg));
    }
    Parts {
        epoch: Some(rng.pick(&["0", "1", "2", "10"]).to_string()),
        version,
        release: Some(part(rng, Manager::Dpkg)),
    }
}

/// Pairs of [`punctuated`] versions: one small edit apart, one hyphen or colon of the upstream
/// part turned into another separator, or unrelated.
fn punctuated_pairs(seed: u64, count: usize) -> Vec<(String, String)> {
    let mut rng = Lcg(seed);
    (0..count)
        .map(|_| {
            let a = punctuated(&mut rng);
            let mut b = match rng.below(10) {
                0..=3 => mutate(&mut rng, Manager::Dpkg, &a),
                4..=6 => {
                    let mut b = a.clone();
                    let marks: Vec<usize> =
                        b.version.match_indices(['-', ':']).map(|m| m.0).collect();
                    let i = marks[rng.below(marks.len())];
                    let to = rng.pick(&[".", "-", ":", "+", "~"]);
                    b.version.replace_range(i..i + 1, to);
                    b
                }
                _ => punctuated(&mut rng),
            };
            // An upstream colon needs an epoch (without one, dpkg reads the colon as the end of
            // a non-numeric epoch and refuses the version); a dropped epoch becomes `0:`.
            if b.epoch.is_none() && b.version.contains(':') {
                b.epoch = Some("0".into());
            }
            if rng.chance(50) {
                (a.text(), b.text())
            } else {
                (b.text(), a.text())
            }
        })
        .collect()
}

#[test]
fn dpkg_splits_at_the_first_colon_and_the_last_hyphen_as_dpkg_does() {
    let pairs = punctuated_pairs(0x0d9c_0002, 3_000);
    assert!(
        pairs
            .iter()
            .filter(|(a, _)| a.matches('-').count() > 1 && a.matches(':').count() > 1)
            .count()
            > 100,
        "too few versions with both a hyphen and a colon in their upstream part"
    );
    let theirs = ask_dpkg(&pairs);
    report(Manager::Dpkg, &pairs, &theirs, "dpkg --compare-versions");
}

/// Runs `script` under `python` with one `a<TAB>b` line per pair on stdin and returns its
/// output lines, one per pair; a failure shows Python's stderr (which names the package to
/// install when a module or library is missing).
fn ask_python(python: &str, script: &str, pairs: &[(String, String)]) -> Vec<String> {
    let mut child = Command::new(python)
        .args(["-c", script])
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}): apt-get install python3"));
    let mut input = String::new();
    for (a, b) in pairs {
        input.push_str(&format!("{a}\t{b}\n"));
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{python} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), pairs.len(), "{python} answered too few lines");
    lines
}

/// libalpm's `alpm_pkg_vercmp` on each pair: `lt`, `eq` or `gt`.
fn ask_libalpm(pairs: &[(String, String)]) -> Vec<String> {
    require("python3", "python3");
    const SCRIPT: &str = r#"
import ctypes, ctypes.util, sys
name = ctypes.util.find_library("alpm")
if name is None:
    sys.exit("libalpm is not installed: apt-get install pacman-package-manager")
alpm = ctypes.CDLL(name)
alpm.alpm_pkg_vercmp.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
alpm.alpm_pkg_vercmp.restype = ctypes.c_int
out = []
for line in sys.stdin.buffer:
    a, b = line.rstrip(b"\n").split(b"\t")
    r = alpm.alpm_pkg_vercmp(a, b)
    out.append("lt" if r < 0 else "eq" if r == 0 else "gt")
sys.stdout.write("\n".join(out) + "\n")
"#;
    ask_python("python3", SCRIPT, pairs)
}

/// Whether a pacman version has a part (version or pkgrel) that ends in a separator: there
/// libalpm's comparison is not an order, and opskit's deliberately breaks libalpm's cycle (see
/// `alpm_rpmvercmp` in `src/model/version.rs`), so those pairs are not compared.
fn pacman_part_ends_in_separator(v: &str) -> bool {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let rest = match v.as_bytes().get(digits) {
        Some(b':') => &v[digits + 1..],
        _ => v,
    };
    let (version, pkgrel) = match rest.rsplit_once('-') {
        Some((version, pkgrel)) => (version, Some(pkgrel)),
        None => (rest, None),
    };
    let ends_badly = |s: &str| !s.bytes().last().is_some_and(|c| c.is_ascii_alphanumeric());
    ends_badly(version) || pkgrel.is_some_and(ends_badly)
}

/// The constraint operators checked against the package managers' own dependency rules, and
/// whether each holds for an installed version that compares `lt`, `eq` or `gt` to the wanted
/// one.
const OPS: [(&str, [bool; 3]); 5] = [
    ("<", [true, false, false]),
    ("<=", [true, true, false]),
    ("=", [false, true, false]),
    (">=", [false, true, true]),
    (">", [false, false, true]),
];

#[test]
fn pacman_order_and_constraints_match_libalpm() {
    let pairs = pairs(Manager::Pacman, 0x9ac0_0001);
    let theirs = ask_libalpm(&pairs);
    let mut wrong = Vec::new();
    let (mut compared, mut without_pkgrel) = (0, 0);
    for ((a, b), t) in pairs.iter().zip(&theirs) {
        if pacman_part_ends_in_separator(a) || pacman_part_ends_in_separator(b) {
            continue;
        }
        compared += 1;
        let t = t.as_str();
        // Sorting: libalpm's answer, except that where libalpm calls two versions equal only
        // because one has no pkgrel (it compares pkgrels only when both have one), the one
        // without sorts first: libalpm's relation is not an order there.
        let want = match t {
            "lt" => Ordering::Less,
            "gt" => Ordering::Greater,
            _ if a.contains('-') == b.contains('-') => Ordering::Equal,
            _ => {
                without_pkgrel += 1;
                if a.contains('-') {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
        };
        let ours = compare(Manager::Pacman, a, b);
        if ours != want {
            wrong.push(format!(
                "  order {a:?} vs {b:?}: libalpm says {t}, opskit sorts {}",
                symbol(ours)
            ));
        }
        // Constraints: libalpm's comparison itself, as pacman judges `depends=('b>=1.0')`.
        let column = ["lt", "eq", "gt"].iter().position(|s| *s == t).unwrap();
        for (op, holds) in OPS {
            let c = Constraint::parse(&format!("{op}{b}"))
                .unwrap_or_else(|e| panic!("{op}{b} does not parse: {e}"));
            if c.matches(Manager::Pacman, a) != holds[column] {
                wrong.push(format!(
                    "  {a:?} against {op}{b}: libalpm says {t}, opskit says it {}",
                    if holds[column] { "fails" } else { "holds" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements with libalpm's alpm_pkg_vercmp; the first ones:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    // Enough compared pairs, and enough of the one case where sorting leaves libalpm.
    assert!(compared > PAIRS / 2, "only {compared} pairs compared");
    assert!(
        without_pkgrel > 50,
        "only {without_pkgrel} pkgrel-less ties"
    );
}

/// rpm's dependency rule on each pair (installed, wanted): for each of [`OPS`], whether a
/// package that provides `p = installed` satisfies `Requires: p OP wanted` (`rpmdsCompare`,
/// through rpm's Python module), as one `0`/`1` per operator.
fn ask_rpm_dependency_rule(pairs: &[(String, String)]) -> Vec<String> {
    const SCRIPT: &str = r#"
import sys
try:
    import rpm
except ImportError:
    sys.exit("rpm's Python module is not installed: apt-get install python3-rpm")
L, E, G = rpm.RPMSENSE_LESS, rpm.RPMSENSE_EQUAL, rpm.RPMSENSE_GREATER
ops = [L, L | E, E, G | E, G]
out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    have = rpm.ds(("p", E, a), "provides")
    out.append("".join(str(int(have.Compare(rpm.ds(("p", op, b), "requires")))) for op in ops))
sys.stdout.write("\n".join(out) + "\n")
"#;
    // Debian's own interpreter, where python3-rpm installs its module: a python3 found first
    // on PATH (pyenv, a virtualenv) does not see it.
    let python = "/usr/bin/python3";
    assert!(
        Path::new(python).is_file(),
        "{python} is missing: apt-get install python3 python3-rpm"
    );
    ask_python(python, SCRIPT, pairs)
}

#[test]
fn rpm_constraints_match_rpm_dependency_rule() {
    // An installed rpm package always has a release (rpm refuses to build one without), and
    // only then is `p = installed` one version: without a release rpm reads it as every
    // release of that version, which overlaps both `<` and `>` of one of them.
    let pairs: Vec<_> = pairs(Manager::Rpm, 0x0c0f_fee1)
        .into_iter()
        .filter(|(installed, _)| installed.contains('-'))
        .take(4_000)
        .collect();
    let theirs = ask_rpm_dependency_rule(&pairs);
    let mut wrong = Vec::new();
    let mut held = [0usize; 5];
    for ((a, b), t) in pairs.iter().zip(&theirs) {
        for (k, (op, _)) in OPS.iter().enumerate() {
            let rpm_holds = t.as_bytes().get(k) == Some(&b'1');
            held[k] += usize::from(rpm_holds);
            let c = Constraint::parse(&format!("{op}{b}"))
                .unwrap_or_else(|e| panic!("{op}{b} does not parse: {e}"));
            let ours = c.matches(Manager::Rpm, a);
            if ours != rpm_holds {
                wrong.push(format!(
                    "  {a:?} against {op}{b}: rpm says it {}, opskit says it {}",
                    if rpm_holds { "holds" } else { "fails" },
                    if ours { "holds" } else { "fails" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements with rpm's dependency rule; the first ones:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    // Each operator both held and failed often enough to mean something.
    assert!(
        held.iter()
            .all(|&n| n > pairs.len() / 20 && n < pairs.len() * 19 / 20),
        "lopsided: {held:?} of {} held",
        pairs.len()
    );
}
