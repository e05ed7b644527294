//! `pkg-where`: which hosts have a package installed, at which version.

use crate::catalog::PackageLocation;
use crate::clock;
use crate::error::{Outcome, Result};
use crate::input;
use crate::output::{Field, OutputArgs, Printer, Record, Shape};
use crate::packages::Manager;

use super::{CommonArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, warn};

const NAME: &str = "pkg-where";

/// Which hosts have a package installed, at which version.
///
/// Lists every host in the catalog that currently has the package, with its version (in the
/// package manager's own notation), architecture, package manager, install time and when the
/// host was last scanned. NAME may be a glob (`openssl*`, `lib?ssl[0-9]*`); quote it so the
/// shell does not expand it. With no NAME, reads names from stdin, one per line.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// Package names or globs; read from stdin when absent or "-"
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The output fields of pkg-where.
pub const FIELDS: &[Field] = &[
    Field {
        name: "host",
        about: "Hostname as the host reports it.",
    },
    Field {
        name: "package",
        about: "Package name.",
    },
    Field {
        name: "version",
        about: "Full version as the package manager prints it ([epoch:]version[-release]).",
    },
    Field {
        name: "arch",
        about: "Package architecture.",
    },
    Field {
        name: "manager",
        about: "Package manager: dpkg, rpm, apk or pacman.",
    },
    Field {
        name: "installed",
        about: "Install time as the package manager records it (RFC 3339, UTC); for dpkg, when its file list was last written.",
    },
    Field {
        name: "last_seen",
        about: "When a scan last saw this version on this host (RFC 3339, UTC).",
    },
    Field {
        name: "first_seen",
        about: "When a scan first saw this version on this host (RFC 3339, UTC).",
    },
    Field {
        name: "epoch",
        about: "Version epoch, empty when none.",
    },
    Field {
        name: "upstream_version",
        about: "Version without epoch and release.",
    },
    Field {
        name: "release",
        about: "Debian revision, rpm release, apk -rN or pacman pkgrel.",
    },
];

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "pkg-where openssl",
                "Every host with openssl, and its version.",
            ),
            (
                "pkg-where 'linux-image-*'",
                "Every installed kernel package on every host.",
            ),
            (
                "pkg-where -f host,version bash | sort -k2 -V",
                "Hosts ordered by their bash version.",
            ),
            (
                "pkg-where --json openssl | jq -r 'select(.version | startswith(\"3.0\")) | .host'",
                "Hosts on OpenSSL 3.0.x.",
            ),
        ],
        fields: FIELDS,
        text_fields: 7,
        exit_status: QUERY_EXIT_STATUS,
    };

    fn run(self) -> Result<Outcome> {
        let mut printer = Printer::new(&self.output, FIELDS, Self::DOC.text_fields)?;
        let names = input::items(&self.names, "package names")?;
        let config = self.common.config()?;
        let catalog = self.common.open_catalog(&config)?;
        let mut records = Vec::new();
        let mut outcome = Outcome::Success;
        for name in &names {
            let found = catalog.package_locations(name)?;
            if found.is_empty() {
                warn(
                    NAME,
                    format!("{name}: not installed on any host in the catalog"),
                );
                outcome = Outcome::NothingFound;
            }
            records.extend(found.iter().map(record));
        }
        printer.print(&records, Shape::Table)?;
        Ok(outcome)
    }
}

fn record(p: &PackageLocation) -> Record {
    let version = Manager::from_name(&p.manager)
        .map(|m| m.full_version(&p.epoch, &p.version, &p.release))
        .unwrap_or_else(|| p.version.clone());
    let mut r = Record::new(FIELDS);
    r.set("host", p.host.as_str())
        .set("package", p.package.as_str())
        .set("version", version)
        .set("arch", p.arch.as_str())
        .set("manager", p.manager.as_str())
        .set("installed", p.install_time.map(clock::format))
        .set("last_seen", clock::format(p.last_seen))
        .set("first_seen", clock::format(p.first_seen))
        .set("epoch", p.epoch.as_str())
        .set("upstream_version", p.version.as_str())
        .set("release", p.release.as_str());
    r
}
