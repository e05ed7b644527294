//! Version ordering checked against the package managers themselves: every generated pair is
//! compared by opskit and by `dpkg --compare-versions` (dpkg) or rpm's own `rpm.vercmp` (rpm),
//! and any disagreement fails the test with the pairs listed.
//!
//! The pairs come from a fixed-seed generator, so a failure reproduces. Most pairs are one small
//! edit apart (a digit changed, `~rc1` or `^git1` appended, a leading zero, an epoch, a release
//! dropped), because random strings almost never tie on their first segment and would test
//! little.

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::require;
use opskit::model::Manager;
use opskit::model::version::compare;

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
    require("dpkg", "dpkg");
    let pairs = pairs(Manager::Dpkg, 0x0d9c_0001);
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
    report(Manager::Dpkg, &pairs, &theirs, "dpkg --compare-versions");
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
