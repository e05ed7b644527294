//! Installed packages as opskit sees them: the package managers it knows (dpkg, rpm, apk,
//! pacman), one package, and one manager's inventory of a host.

use std::fmt;

/// A package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Manager {
    /// Debian and derivatives.
    Dpkg,
    /// Red Hat, SUSE and derivatives.
    Rpm,
    /// Alpine.
    Apk,
    /// Arch.
    Pacman,
}

impl Manager {
    /// Every manager, in the order they are tried.
    pub const ALL: [Manager; 4] = [Manager::Dpkg, Manager::Rpm, Manager::Apk, Manager::Pacman];

    /// The name stored in the catalog and shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Manager::Dpkg => "dpkg",
            Manager::Rpm => "rpm",
            Manager::Apk => "apk",
            Manager::Pacman => "pacman",
        }
    }

    /// The manager with this name.
    pub fn from_name(name: &str) -> Option<Manager> {
        Manager::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The program and arguments that list installed packages in the format [`parse`] reads.
    ///
    /// dpkg keeps no install time; `${db-fsys:Last-Modified}` (dpkg 1.19.3 and later) is the
    /// modification time of the package's file list in `<admindir>/info/`, which is when it was
    /// last unpacked. Asking dpkg-query for it costs a stat per package inside the one process
    /// that lists them; older dpkg prints it empty, and [`needs_dpkg_times`] says so.
    pub fn query_command(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Manager::Dpkg => (
                "dpkg-query",
                &[
                    "--show",
                    "--showformat=${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\t${binary:Package}\\t${db-fsys:Last-Modified}\\n",
                ],
            ),
            Manager::Rpm => (
                "rpm",
                &[
                    "--query",
                    "--all",
                    "--queryformat",
                    "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\n",
                ],
            ),
            Manager::Apk => ("apk", &["list", "--installed"]),
            Manager::Pacman => ("pacman", &["--query", "--info"]),
        }
    }

    /// Paths of which at least one exists where this manager keeps a package database; `None`
    /// for dpkg, which is asked whenever it is installed (`DPKG_ADMINDIR` can move its
    /// database, and a Debian-family host always has one).
    ///
    /// A manager without a database is not started at all: scanning pays for every process on
    /// every host. rpm's are where rpm-based systems keep them (`/var/lib/rpm`, or
    /// `/usr/lib/sysimage/rpm` since Fedora 36 and openSUSE), in any of rpm's formats (sqlite,
    /// Berkeley DB, ndb). Debian's own rpm, installed to build packages, keeps a per-user
    /// database in `~/.rpmdb` and creates it on the first query: that is not the host's
    /// package set, and a scan should not leave one behind.
    pub fn database_paths(self) -> Option<&'static [&'static str]> {
        match self {
            Manager::Dpkg => None,
            Manager::Rpm => Some(&[
                "/var/lib/rpm/rpmdb.sqlite",
                "/var/lib/rpm/Packages",
                "/var/lib/rpm/Packages.db",
                "/usr/lib/sysimage/rpm/rpmdb.sqlite",
                "/usr/lib/sysimage/rpm/Packages",
                "/usr/lib/sysimage/rpm/Packages.db",
            ]),
            Manager::Apk => Some(&["/lib/apk/db/installed"]),
            Manager::Pacman => Some(&["/var/lib/pacman/local"]),
        }
    }

    /// Formats a version the way this manager's own tools print it.
    pub fn full_version(self, epoch: &str, version: &str, release: &str) -> String {
        let mut out = String::new();
        // rpm prints no epoch 0; dpkg and pacman print any epoch they were given.
        let hide = epoch.is_empty() || (self == Manager::Rpm && epoch == "0");
        if !hide {
            out.push_str(epoch);
            out.push(':');
        }
        out.push_str(version);
        if !release.is_empty() {
            out.push('-');
            out.push_str(release);
        }
        out
    }
}

impl fmt::Display for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// Empty when the package has none.
    pub epoch: String,
    /// The upstream version, without epoch and release.
    pub version: String,
    /// Debian revision, rpm release, apk `rN` or pacman pkgrel; empty when there is none.
    pub release: String,
    pub arch: String,
    /// Unix seconds, where the manager records it.
    pub install_time: Option<i64>,
    /// dpkg's `name:arch` for multi-arch packages, used to find its file list; else the name.
    pub qualified_name: String,
}

impl Package {
    /// A package without epoch or install time whose name is its own qualified name, as apk
    /// lists and rpmpkgs reports give them.
    pub fn unqualified(name: &str, version: &str, release: &str, arch: &str) -> Package {
        Package {
            name: name.to_string(),
            epoch: String::new(),
            version: version.to_string(),
            release: release.to_string(),
            arch: arch.to_string(),
            install_time: None,
            qualified_name: name.to_string(),
        }
    }
}

/// The packages one manager reported.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub manager: Manager,
    pub packages: Vec<Package>,
}
