//! Real package databases for hosts the tests play: dpkg's (a status file and info/, read by
//! the real dpkg-query through DPKG_ADMINDIR, or mounted over /var/lib/dpkg) and rpm's (made by
//! the real rpm from tiny packages the real rpmbuild builds).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

use super::require;

/// One installed package, with the version as its manager prints it: dpkg's
/// `[epoch:]upstream[-revision]`, or rpm's `[epoch:]version-release`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub arch: String,
}

impl Package {
    pub fn new(name: &str, version: &str, arch: &str) -> Package {
        Package {
            name: name.to_string(),
            version: version.to_string(),
            arch: arch.to_string(),
        }
    }

    /// rpm's epoch, version and release.
    fn evr(&self) -> (Option<&str>, &str, &str) {
        let (epoch, rest) = match self.version.split_once(':') {
            Some((e, rest)) => (Some(e), rest),
            None => (None, self.version.as_str()),
        };
        let (version, release) = rest
            .rsplit_once('-')
            .unwrap_or_else(|| panic!("rpm version {} has no release", self.version));
        (epoch, version, release)
    }

    /// The line CentOS's `/etc/cron.daily/rpm` writes for it in `/var/log/rpmpkgs` (no epoch).
    pub fn rpmpkgs_line(&self) -> String {
        let (_, version, release) = self.evr();
        format!("{}-{version}-{release}.{}.rpm", self.name, self.arch)
    }
}

/// One package in a dpkg database.
#[derive(Debug, Clone)]
pub struct Pkg<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub arch: &'a str,
}

/// A real dpkg database directory (status file and info/), read by the real dpkg-query
/// through DPKG_ADMINDIR.
#[derive(Debug)]
pub struct DpkgDb {
    pub dir: TempDir,
}

impl DpkgDb {
    pub fn new(packages: &[Pkg<'_>]) -> DpkgDb {
        let db = DpkgDb {
            dir: tempfile::Builder::new().prefix("dpkgdb").tempdir().unwrap(),
        };
        db.write(packages.iter().cloned());
        db
    }

    /// A database of `count` generated packages named `pkg-N`.
    pub fn generated(count: usize, version: &str) -> DpkgDb {
        let names: Vec<String> = (0..count).map(|i| format!("pkg-{i:06}")).collect();
        let db = DpkgDb {
            dir: tempfile::Builder::new().prefix("dpkgdb").tempdir().unwrap(),
        };
        db.write(names.iter().map(|n| Pkg {
            name: n,
            version,
            arch: "amd64",
        }));
        db
    }

    /// Replaces the database's contents.
    pub fn write<'a>(&self, packages: impl Iterator<Item = Pkg<'a>>) {
        let root = self.dir.path();
        std::fs::create_dir_all(root.join("info")).unwrap();
        // The layout every dpkg since multi-arch (1.16.2) writes: files of Multi-Arch: same
        // packages are named `NAME:ARCH.*`, and dpkg looks for them there.
        std::fs::write(root.join("info/format"), "1\n").unwrap();
        std::fs::create_dir_all(root.join("updates")).unwrap();
        std::fs::write(root.join("status"), DpkgDb::status(packages)).unwrap();
    }

    /// Writes `info/NAME[:ARCH].list` for each package, as dpkg keeps the list of the files a
    /// package installed (`dpkg -L` reads them). Separate from [`DpkgDb::write`] because
    /// hundreds of thousands of tiny files would slow the big generated databases down.
    ///
    /// Each list gets its own modification time, an hour apart (dpkg dates a package by its
    /// list), so that a scanner that gave one package another's install time would be caught.
    pub fn write_lists<'a>(&self, packages: impl Iterator<Item = Pkg<'a>>) {
        let info = self.dir.path().join("info");
        std::fs::create_dir_all(&info).unwrap();
        for (i, p) in packages.enumerate() {
            // Multi-Arch: same packages (every non-`all` one here) are listed per architecture.
            let file = if p.arch == "all" {
                format!("{}.list", p.name)
            } else {
                format!("{}:{}.list", p.name, p.arch)
            };
            let text = format!(
                "/.\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/{}\n",
                p.name
            );
            std::fs::write(info.join(&file), text).unwrap();
            super::set_mtime(&info.join(&file), 1_700_000_000 - 3600 * i as u64);
        }
    }

    /// The text of a status file listing these packages as installed.
    pub fn status<'a>(packages: impl Iterator<Item = Pkg<'a>>) -> String {
        let mut status = String::new();
        for p in packages {
            if p.arch != "all" {
                // Lets the same package be installed for several architectures (libc6 amd64
                // and i386), as on a real multi-arch system.
                status.push_str("Multi-Arch: same\n");
            }
            status.push_str(&format!(
                "Package: {}\nStatus: install ok installed\nPriority: optional\nSection: misc\n\
                 Maintainer: Test <test@example.com>\nArchitecture: {}\nVersion: {}\n\
                 Description: test package\n\n",
                p.name, p.arch, p.version
            ));
        }
        status
    }
}

/// Writes at `path` an executable dpkg-query that answers as a dpkg older than 1.19.3 does:
/// such a dpkg has no `${db-fsys:Last-Modified}` and, like any dpkg, prints a field it does
/// not know empty. It runs the real dpkg-query at `real`, asking it for a field no dpkg has
/// instead, so everything else in the answer is the real one. Each run appends a line to the
/// returned file, so that a test can tell that the wrapper, not the real one, answered.
pub fn write_old_dpkg_query(path: &Path, real: &Path) -> PathBuf {
    let calls = path.with_extension("calls");
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n\
             for a; do shift; set -- \"$@\" \"$(printf '%s' \"$a\" | \
             sed 's/db-fsys:Last-Modified/No-Such-Field/')\"; done\nexec '{}' \"$@\"\n",
            calls.display(),
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    calls
}

/// A real rpm database in a temporary directory, for `rpm --dbpath` or to mount where rpm looks.
pub struct RpmDb {
    dir: TempDir,
}

impl RpmDb {
    /// A database holding `packages` (none: an empty database).
    pub fn new(packages: &[Package]) -> RpmDb {
        let dir = tempfile::Builder::new().prefix("rpmdb").tempdir().unwrap();
        RpmDb::create(&dir.path().join("db"), packages);
        RpmDb { dir }
    }

    /// The database directory.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    /// Makes a real rpm database at `dir` holding `packages` (none: an empty database): the
    /// one way every test gets one, so that `rpm --query --all` reads it as it reads a
    /// system's.
    pub fn create<'a>(dir: &Path, packages: impl IntoIterator<Item = &'a Package>) {
        require("rpm", "rpm");
        std::fs::create_dir_all(dir).unwrap();
        let run = |cmd: &mut Command| {
            let out: Output = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(Command::new("rpm").arg("--dbpath").arg(dir).arg("--initdb"));
        let files: Vec<PathBuf> = packages.into_iter().map(rpm_file).collect();
        if !files.is_empty() {
            // --justdb: record without unpacking; --nodeps and --ignore*: these packages are not
            // for this machine, and plain `-i` (not -U) lets two versions (kernels) coexist.
            run(Command::new("rpm")
                .arg("--dbpath")
                .arg(dir)
                .args(["-i", "--justdb", "--nodeps", "--ignorearch", "--ignoreos"])
                .args(files));
        }
    }
}

/// A tiny real rpm for `p`, built once with rpmbuild and cached under Cargo's temporary
/// directory for integration tests, so later runs and processes reuse it.
pub fn rpm_file(p: &Package) -> PathBuf {
    require("rpmbuild", "rpm");
    // Bump the suffix when the spec template changes.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("opskit-rpms-1");
    let path = cache.join(format!("{}-{}.{}.rpm", p.name, p.version, p.arch));
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let top = tempfile::Builder::new()
        .prefix("rpmbuild")
        .tempdir_in(&cache)
        .unwrap();
    let (epoch, version, release) = p.evr();
    let spec = format!(
        "Name: {}\n{}Version: {version}\nRelease: {release}\nSummary: opskit test package\n\
         License: MIT\nBuildArch: {}\n%description\nA package with no files, for tests.\n%files\n",
        p.name,
        epoch.map(|e| format!("Epoch: {e}\n")).unwrap_or_default(),
        p.arch
    );
    let spec_path = top.path().join("package.spec");
    std::fs::write(&spec_path, spec).unwrap();
    let mut cmd = Command::new("rpmbuild");
    cmd.args(["-bb", "--quiet", "--define"])
        .arg(format!("_topdir {}", top.path().display()));
    if p.arch != "noarch" {
        cmd.arg("--target").arg(format!("{}-linux", p.arch));
    }
    let out = cmd.arg(&spec_path).output().unwrap();
    assert!(
        out.status.success(),
        "rpmbuild for {p:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = std::fs::read_dir(top.path().join("RPMS").join(&p.arch))
        .unwrap()
        .next()
        .expect("rpmbuild made no package")
        .unwrap()
        .path();
    // rename is atomic: a process racing us finds either no file or a whole one.
    std::fs::rename(built, &path).unwrap();
    path
}
