//! Pre-made package reports: files a host already writes about its packages, read instead of
//! running the package manager (the least invasive way to inventory a host).
//!
//! - `rpmpkgs`: `/var/log/rpmpkgs` as CentOS's `/etc/cron.daily/rpm` writes it, one
//!   `name-version-release.arch.rpm` per line (no epoch, no install time: the format has none).
//! - `dpkg-status`: a copy of dpkg's `status` file (RFC 822-style paragraphs).

use crate::error::{Error, ErrorKind, Result};

use super::{split_dpkg_version, split_name_version_release};
use crate::model::package::{Inventory, Manager, Package};

/// The report formats opskit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    RpmPkgs,
    DpkgStatus,
}

impl ReportFormat {
    /// The format named in the config.
    pub fn from_name(name: &str) -> Result<ReportFormat> {
        match name {
            "rpmpkgs" => Ok(ReportFormat::RpmPkgs),
            "dpkg-status" | "dpkg_status" => Ok(ReportFormat::DpkgStatus),
            other => Err(Error::new(
                ErrorKind::Config,
                format!("unknown package report format {other:?} (rpmpkgs or dpkg-status)"),
            )),
        }
    }
}

/// Parses a report into the inventory of the manager that wrote it.
pub fn parse(format: ReportFormat, text: &str) -> Result<Inventory> {
    let packages = match format {
        ReportFormat::RpmPkgs => parse_rpmpkgs(text),
        ReportFormat::DpkgStatus => Ok(parse_dpkg_status(text)),
    }
    .map_err(|line| {
        Error::new(
            ErrorKind::Source,
            format!("unexpected package report line {line:?}"),
        )
    })?;
    let manager = match format {
        ReportFormat::RpmPkgs => Manager::Rpm,
        ReportFormat::DpkgStatus => Manager::Dpkg,
    };
    Ok(Inventory { manager, packages })
}

/// `openssl-libs-3.0.7-24.el9.x86_64.rpm`: the arch follows the last dot, the release the last
/// dash and the version the dash before it; names may hold dashes and dots.
fn parse_rpmpkgs(text: &str) -> std::result::Result<Vec<Package>, String> {
    let mut packages = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = || line.to_string();
        let nvra = line.strip_suffix(".rpm").ok_or_else(bad)?;
        let (nvr, arch) = nvra.rsplit_once('.').ok_or_else(bad)?;
        let (name, version, release) = split_name_version_release(nvr).ok_or_else(bad)?;
        packages.push(Package::unqualified(name, version, release, arch));
    }
    Ok(packages)
}

/// The installed packages of a dpkg status file: paragraphs whose Status says the files are on
/// disk (as `dpkg-query` counts them: not `not-installed` and not `config-files`).
fn parse_dpkg_status(text: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for para in text.split("\n\n") {
        let field = |key: &str| {
            para.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (!l.starts_with([' ', '\t']) && k.eq_ignore_ascii_case(key))
                    .then(|| v.trim().to_string())
            })
        };
        let (Some(name), Some(version), Some(status)) =
            (field("Package"), field("Version"), field("Status"))
        else {
            continue;
        };
        let state = status.split_whitespace().nth(2).unwrap_or("");
        if matches!(state, "not-installed" | "config-files") {
            continue;
        }
        let arch = field("Architecture").unwrap_or_default();
        let (epoch, upstream, revision) = split_dpkg_version(&version);
        let multi_arch = field("Multi-Arch").is_some_and(|m| m == "same");
        packages.push(Package {
            qualified_name: if multi_arch {
                format!("{name}:{arch}")
            } else {
                name.clone()
            },
            name,
            epoch,
            version: upstream,
            release: revision,
            arch,
            install_time: None,
        });
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpmpkgs_lines_split_from_the_right() {
        let inv = parse(
            ReportFormat::RpmPkgs,
            "bash-5.1.8-6.el9.x86_64.rpm\nperl-IO-Socket-SSL-2.073-1.el9.noarch.rpm\ngpg-pubkey-fd431d51-4ae0493b.(none).rpm\n",
        )
        .unwrap();
        assert_eq!(inv.manager, Manager::Rpm);
        let p = &inv.packages[1];
        assert_eq!(
            (
                p.name.as_str(),
                p.version.as_str(),
                p.release.as_str(),
                p.arch.as_str()
            ),
            ("perl-IO-Socket-SSL", "2.073", "1.el9", "noarch")
        );
        assert_eq!(inv.packages[2].name, "gpg-pubkey");
        assert!(parse(ReportFormat::RpmPkgs, "not a package\n").is_err());
        assert!(parse(ReportFormat::RpmPkgs, "x.rpm\n").is_err());
    }

    #[test]
    fn dpkg_status_keeps_installed_packages() {
        let text = "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\nDescription: x\n continued: line\n\n\
                    Package: old\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
                    Package: libc6\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: i386\nVersion: 2.36-9\n";
        let inv = parse(ReportFormat::DpkgStatus, text).unwrap();
        assert_eq!(inv.packages.len(), 2);
        assert_eq!(inv.packages[0].release, "2+b2");
        assert_eq!(inv.packages[1].qualified_name, "libc6:i386");
        assert!(ReportFormat::from_name("yaml").is_err());
    }
}
