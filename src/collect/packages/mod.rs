//! Installed packages: the package managers opskit knows (dpkg, rpm, apk, pacman), the commands
//! that list what they have installed in a machine-readable form, and the parsers for that output.
//!
//! The commands are argument vectors, never shell lines, so the same list can be run locally or
//! (later) over SSH without pasting anything into a shell.

pub mod report;

use crate::error::{Error, ErrorKind, Result};
use crate::model::package::{Inventory, Manager, Package};

/// Parses the output of `manager`'s [`Manager::query_command`].
pub fn parse(manager: Manager, output: &str) -> Result<Vec<Package>> {
    let parsed = match manager {
        Manager::Dpkg => parse_dpkg(output),
        Manager::Rpm => parse_rpm(output),
        Manager::Apk => parse_apk(output),
        Manager::Pacman => Ok(parse_pacman(output)),
    };
    parsed.map_err(|line| {
        Error::new(
            ErrorKind::Source,
            format!("unexpected {manager} output line {line:?}"),
        )
    })
}

/// Turns what `manager`'s [`Manager::query_command`] printed into its inventory, wherever it
/// ran. `failure` describes a non-zero exit (its stderr becomes the error); `None` when the
/// manager lists no packages at all (rpm installed on a Debian machine to build packages has an
/// empty database: that host is not an rpm host).
pub fn inventory_from_output(
    manager: Manager,
    failure: Option<String>,
    stdout: &str,
    stderr: &str,
) -> Result<Option<Inventory>> {
    if let Some(status) = failure {
        let program = manager.query_command().0;
        return Err(Error::new(
            ErrorKind::Source,
            format!("{program} failed ({status}): {}", summarize_stderr(stderr)),
        ));
    }
    let packages = parse(manager, stdout)?;
    Ok((!packages.is_empty()).then_some(Inventory { manager, packages }))
}

/// A program's stderr on one line, cut to 400 bytes: enough to say why, short enough for a
/// one-line error.
pub fn summarize_stderr(stderr: &str) -> String {
    let said: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut said = said.join(" ");
    if said.len() > 400 {
        let cut = (0..=400)
            .rev()
            .find(|&i| said.is_char_boundary(i))
            .unwrap_or(0);
        said.truncate(cut);
        said.push('…');
    }
    said
}

/// Splits a Debian version `[epoch:]upstream[-revision]` into its three parts.
pub fn split_dpkg_version(full: &str) -> (String, String, String) {
    let (epoch, rest) = match full.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, rest),
        _ => ("", full),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    (
        epoch.to_string(),
        upstream.to_string(),
        revision.to_string(),
    )
}

fn parse_dpkg(output: &str) -> Result<Vec<Package>, String> {
    let mut packages = Vec::new();
    for line in output.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [status, name, version, arch, qualified, modified] = fields[..] else {
            return Err(line.to_string());
        };
        // The second letter is the current state: n(ot-installed) and c(onfig-files only)
        // mean the package's files are not there; every other state has them on disk.
        if matches!(status.as_bytes().get(1), Some(b'n' | b'c') | None) || version.is_empty() {
            continue;
        }
        let (epoch, upstream, revision) = split_dpkg_version(version);
        packages.push(Package {
            name: name.to_string(),
            epoch,
            version: upstream,
            release: revision,
            arch: arch.to_string(),
            install_time: modified.parse().ok(),
            qualified_name: qualified.to_string(),
        });
    }
    Ok(packages)
}

/// Whether a dpkg inventory came without install times because the host's dpkg is older than
/// 1.19.3 (it prints `${db-fsys:Last-Modified}` empty for every package): the caller then reads
/// the file lists' times itself. A newer dpkg leaves the field empty only for a package without
/// a file list, which no other way would date either.
pub fn needs_dpkg_times(inventory: &Inventory) -> bool {
    inventory.manager == Manager::Dpkg
        && !inventory.packages.is_empty()
        && inventory.packages.iter().all(|p| p.install_time.is_none())
}

fn none_to_empty(s: &str) -> String {
    if s == "(none)" {
        String::new()
    } else {
        s.to_string()
    }
}

fn parse_rpm(output: &str) -> Result<Vec<Package>, String> {
    let mut packages = Vec::new();
    for line in output.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, epoch, version, release, arch, installed] = fields[..] else {
            return Err(line.to_string());
        };
        packages.push(Package {
            name: name.to_string(),
            epoch: none_to_empty(epoch),
            version: version.to_string(),
            release: none_to_empty(release),
            arch: none_to_empty(arch),
            install_time: installed.parse().ok(),
            qualified_name: name.to_string(),
        });
    }
    Ok(packages)
}

/// Splits `name-version-release` from the right: names may hold dashes, versions and releases
/// may not (rpm's and apk's rule). `None` when a part is missing.
pub fn split_name_version_release(nvr: &str) -> Option<(&str, &str, &str)> {
    let (rest, release) = nvr.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    (!name.is_empty() && !version.is_empty() && !release.is_empty())
        .then_some((name, version, release))
}

/// `apk list --installed`: `musl-1.2.4-r2 x86_64 {musl} (MIT) [installed]`. apk versions always
/// end in `-rN`, so the name is everything before the second-to-last dash.
fn parse_apk(output: &str) -> Result<Vec<Package>, String> {
    let mut packages = Vec::new();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with("WARNING") {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(nvr), Some(arch)) = (words.next(), words.next()) else {
            return Err(line.to_string());
        };
        let Some((name, version, release)) = split_name_version_release(nvr) else {
            return Err(line.to_string());
        };
        if !release.starts_with('r') {
            return Err(line.to_string());
        }
        packages.push(Package::unqualified(name, version, release, arch));
    }
    Ok(packages)
}

/// `pacman -Qi` (run with LC_ALL=C): blocks of `Key : value` lines separated by blank lines.
fn parse_pacman(output: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for block in output.split("\n\n") {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
        };
        let (Some(name), Some(full)) = (field("Name"), field("Version")) else {
            continue;
        };
        let (epoch, version, release) = split_dpkg_version(&full);
        packages.push(Package {
            qualified_name: name.clone(),
            name,
            epoch,
            version,
            release,
            arch: field("Architecture").unwrap_or_default(),
            install_time: None,
        });
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_versions_split_into_epoch_upstream_revision() {
        let s = |v| split_dpkg_version(v);
        assert_eq!(
            s("1:2.3.4-5ubuntu1"),
            ("1".into(), "2.3.4".into(), "5ubuntu1".into())
        );
        assert_eq!(
            s("2.36-9+deb12u4"),
            ("".into(), "2.36".into(), "9+deb12u4".into())
        );
        assert_eq!(s("1.0"), ("".into(), "1.0".into(), "".into()));
        assert_eq!(s("1:1.2-3-4"), ("1".into(), "1.2-3".into(), "4".into()));
        assert_eq!(s("a:1"), ("".into(), "a:1".into(), "".into()));
    }

    #[test]
    fn dpkg_output_skips_removed_packages() {
        let out = "ii \tbash\t5.2.15-2+b2\tamd64\tbash\t1700000000\n\
                   rc \told\t1.0-1\tamd64\told\t\n\
                   ii \tlibc6\t2.36-9\ti386\tlibc6:i386\t\n";
        let p = parse(Manager::Dpkg, out).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].qualified_name, "libc6:i386");
        assert_eq!(p[0].install_time, Some(1_700_000_000));
        assert_eq!(p[1].install_time, None);
        assert_eq!(
            Manager::Dpkg.full_version(&p[0].epoch, &p[0].version, &p[0].release),
            "5.2.15-2+b2"
        );
    }

    #[test]
    fn only_a_dpkg_that_dates_nothing_needs_the_file_lists_read() {
        let inventory = |out: &str| Inventory {
            manager: Manager::Dpkg,
            packages: parse(Manager::Dpkg, out).unwrap(),
        };
        // dpkg before 1.19.3 prints the field it does not know empty.
        assert!(needs_dpkg_times(&inventory(
            "ii \ta\t1\tall\ta\t\nii \tb\t1\tall\tb\t\n"
        )));
        assert!(!needs_dpkg_times(&inventory(
            "ii \ta\t1\tall\ta\t1700000000\nii \tb\t1\tall\tb\t\n"
        )));
    }

    #[test]
    fn rpm_output_maps_none_to_empty() {
        let out = "bash\t(none)\t5.1.8\t6.el9\tx86_64\t1700000000\ngpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t1700000001\nopenssl\t1\t3.0.7\t24.el9\tx86_64\t1700000002\n";
        let p = parse(Manager::Rpm, out).unwrap();
        assert_eq!(p[0].epoch, "");
        assert_eq!(p[1].arch, "");
        assert_eq!(p[2].install_time, Some(1_700_000_002));
        assert_eq!(
            Manager::Rpm.full_version("1", "3.0.7", "24.el9"),
            "1:3.0.7-24.el9"
        );
    }

    #[test]
    fn apk_names_may_contain_dashes() {
        let out = "py3-foo-bar-1.2.3-r0 x86_64 {py3-foo-bar} (MIT) [installed]\n";
        let p = parse(Manager::Apk, out).unwrap();
        assert_eq!(
            (
                p[0].name.as_str(),
                p[0].version.as_str(),
                p[0].release.as_str()
            ),
            ("py3-foo-bar", "1.2.3", "r0")
        );
        assert!(parse(Manager::Apk, "garbage\n").is_err());
    }

    #[test]
    fn pacman_info_blocks() {
        let out = "Name            : glibc\nVersion         : 2.39-1\nArchitecture    : x86_64\n\nName            : vim\nVersion         : 1:9.1.0-2\nArchitecture    : x86_64\n";
        let p = parse(Manager::Pacman, out).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (
                p[1].epoch.as_str(),
                p[1].version.as_str(),
                p[1].release.as_str()
            ),
            ("1", "9.1.0", "2")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(Manager::Dpkg, "no tabs here\n").is_err());
        assert!(parse(Manager::Rpm, "a\tb\n").is_err());
    }
}
