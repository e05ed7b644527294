//! Helpers shared by the integration tests: an isolated environment per test (its own HOME,
//! catalog and config), the real binaries, hostnames and networks of their own (UTS and network
//! namespaces), dpkg and rpm databases, and a check that names the install command when a peer
//! is missing. The real servers the tests talk to each have a module; [`peer`] starts them all.

pub mod auditd;
pub mod dnsmasq;
pub mod gen_docs;
pub mod moto;
pub mod packages;
pub mod peer;
pub mod postgres;
pub mod responder;
pub mod snmpd;
pub mod snmpsim;
pub mod sshd;
pub mod whatis_lab;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

pub use dnsmasq::Dnsmasq;
pub use packages::{DpkgDb, Package, Pkg, RpmDb, write_old_dpkg_query};
pub use peer::{Peer, free_udp_port};
pub use responder::{Agent, Misbehaviour, Responder};
pub use snmpsim::{Snmpsim, recorded_fdb_macs, recordings};

/// One of opskit's binaries, as Cargo built it for this test run: `tool!("pkg-where")`.
///
/// A macro, so that each call site reads its own `CARGO_BIN_EXE_<name>` at compile time: a
/// misspelt or missing binary fails to compile, and there is no list of binaries here that a
/// new one would have to be added to.
macro_rules! tool {
    ($name:literal) => {
        $crate::support::Tool {
            name: $name,
            path: env!(concat!("CARGO_BIN_EXE_", $name)),
        }
    };
}
pub(crate) use tool;

/// A binary of opskit's, from [`tool!`].
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// Its name, as it names itself in messages.
    pub name: &'static str,
    pub path: &'static str,
}

impl Tool {
    pub fn path(self) -> &'static Path {
        Path::new(self.path)
    }
}

/// Fails the test with the install command when a program the test needs is missing: a missing
/// peer must never make a test pass silently.
pub fn require(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed: run scripts/test.sh, or apt-get install {package}"
    );
}

/// Fails the test unless it runs as root (namespaces, other users).
pub fn require_root() {
    assert!(
        nix_is_root(),
        "this test needs root (unshare, setpriv): run the suite as root, as CI does"
    );
}

pub fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Which catalog backend the tests run on: `OPSKIT_TEST_CATALOG=postgres` puts every
/// catalog-facing test on PostgreSQL (a real server the tests start, one database per test);
/// unset or `sqlite`, on the embedded SQLite file. `scripts/test.sh` runs the suite on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("OPSKIT_TEST_CATALOG").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Ok("") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("OPSKIT_TEST_CATALOG={other}: say sqlite or postgres"),
    }
}

/// A test's own PostgreSQL catalog: a fresh database on the shared server, dropped at the end.
pub struct PgCatalog {
    pub server: &'static self::postgres::PgServer,
    pub db: String,
    /// What `OPSKIT_CATALOG` is set to: no password in it (that goes in `PGPASSWORD`).
    pub url: String,
}

/// An isolated environment: a temporary HOME (so no user config leaks in) and a catalog of
/// its own, a SQLite file or a PostgreSQL database as [`backend`] says.
pub struct Env {
    pub dir: TempDir,
    /// The SQLite catalog's path (also set, and unused, on PostgreSQL).
    pub catalog: PathBuf,
    pub home: PathBuf,
    pub pg: Option<PgCatalog>,
}

impl Env {
    /// An environment on the backend under test.
    pub fn new() -> Env {
        match backend() {
            Backend::Sqlite => Env::on_sqlite(),
            Backend::Postgres => Env::postgres(),
        }
    }

    /// An environment on SQLite whatever the backend under test: for the tests of the
    /// catalog file itself (its permissions, locks, a foreign file in its place). `why` says
    /// why the test cannot run on PostgreSQL, as the suite's rule asks.
    pub fn sqlite_only(why: &str) -> Env {
        assert!(!why.is_empty());
        Env::on_sqlite()
    }

    fn on_sqlite() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("opskit-test")
            .tempdir()
            .unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let catalog = dir.path().join("catalog.db");
        Env {
            dir,
            catalog,
            home,
            pg: None,
        }
    }

    /// An environment on PostgreSQL whatever the backend under test (the shared server).
    pub fn postgres() -> Env {
        Env::on_server(self::postgres::PgServer::shared_tls())
    }

    /// An environment with a fresh database on `server`, reached through its Unix socket
    /// (which works from a test's own network namespace too), as libpq's key=value string.
    pub fn on_server(server: &'static self::postgres::PgServer) -> Env {
        let mut env = Env::on_sqlite();
        let db = server.create_database("catalog");
        env.pg = Some(PgCatalog {
            url: format!(
                "host={} port={} dbname={db} user={}",
                server.socket_dir().display(),
                server.port(),
                server.superuser()
            ),
            server,
            db,
        });
        env
    }

    /// The backend this environment's catalog is on.
    pub fn backend(&self) -> Backend {
        if self.pg.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// What `--catalog` / `OPSKIT_CATALOG` names this environment's catalog by.
    pub fn catalog_arg(&self) -> std::ffi::OsString {
        match &self.pg {
            Some(pg) => pg.url.clone().into(),
            None => self.catalog.clone().into(),
        }
    }

    /// A command for one of opskit's tools, in this environment.
    pub fn cmd(&self, tool: Tool) -> Command {
        let mut cmd = Command::new(tool.path());
        self.isolate(&mut cmd);
        cmd
    }

    /// Points a command at this environment's HOME and catalog, and nothing else.
    pub fn isolate(&self, cmd: &mut Command) {
        for var in [
            "OPSKIT_CONFIG",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_STATE_HOME",
            "NO_COLOR",
            "DPKG_ADMINDIR",
            // The developer's agent would lend the tests keys they are not meant to have.
            "SSH_AUTH_SOCK",
        ] {
            cmd.env_remove(var);
        }
        for var in [
            "PGPASSWORD",
            "PGPASSFILE",
            "PGHOST",
            "PGSSLMODE",
            "PGSSLROOTCERT",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("OPSKIT_CATALOG", self.catalog_arg())
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        if let Some(pg) = &self.pg {
            cmd.env("PGPASSWORD", pg.server.superuser_password());
        }
    }

    /// Runs a tool to completion with these arguments.
    pub fn run(&self, tool: Tool, args: &[&str]) -> Output {
        self.cmd(tool).args(args).output().unwrap()
    }

    /// Runs a tool with `input` on stdin.
    pub fn run_stdin(&self, tool: Tool, args: &[&str], input: &str) -> Output {
        run_with_stdin(self.cmd(tool).args(args), input)
    }

    /// `scan-hosts --local` as a host named `hostname` (its own UTS namespace) whose dpkg
    /// database is `dpkg` (when given), so one machine can play many hosts.
    pub fn scan_as(&self, hostname: &str, dpkg: Option<&DpkgDb>) -> Output {
        self.scan_as_cmd(hostname, dpkg).output().unwrap()
    }

    /// The command behind [`Env::scan_as`], to spawn and control.
    pub fn scan_as_cmd(&self, hostname: &str, dpkg: Option<&DpkgDb>) -> Command {
        require_root();
        require("unshare", "util-linux");
        require("python3", "python3");
        // sethostname(2) takes any bytes, unlike hostname(1): python calls it directly, then
        // execs the scanner inside the new UTS namespace.
        let mut cmd = Command::new("unshare");
        cmd.args(["--uts", "--", "python3", "-c"])
            .arg("import os,socket,sys; socket.sethostname(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])")
            .arg(hostname)
            .arg(tool!("scan-hosts").path())
            .arg("--local");
        self.isolate(&mut cmd);
        if let Some(db) = dpkg {
            cmd.env("DPKG_ADMINDIR", db.dir.path());
        }
        cmd
    }

    /// `scan-hosts --local` as a host named `hostname` with its own network: a new network
    /// namespace holding an interface per entry, with the MAC and addresses given, so
    /// the scan reports exactly those (the kernel's real view, through getifaddrs and
    /// /sys/class/net, remounted for the namespace).
    pub fn scan_with_interfaces(&self, hostname: &str, interfaces: &[TestInterface<'_>]) -> Output {
        require_root();
        require("unshare", "util-linux");
        require("ip", "iproute2");
        let mut setup = String::from("set -e; mount -t sysfs sysfs /sys; ip link set lo up; ");
        for i in interfaces {
            setup.push_str(&format!(
                // A dummy interface where the kernel has the module, else a bridge with no
                // ports: either is one interface whose MAC can be set.
                "ip link add {n} type dummy 2>/dev/null || ip link add {n} type bridge; \
                 ip link set {n} address {m}; ip link set {n} up; ",
                n = i.name,
                m = i.mac
            ));
            for a in i.addresses {
                // nodad: an IPv6 address is usable (and listed) at once, not after DAD.
                let extra = if a.contains(':') { " nodad" } else { "" };
                setup.push_str(&format!("ip addr add {a} dev {}{extra}; ", i.name));
            }
        }
        setup.push_str(
            "exec python3 -c 'import os,socket,sys; socket.sethostname(sys.argv[1]); \
             os.execv(sys.argv[2], sys.argv[2:])' \"$0\" \"$1\" --local",
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["--uts", "--net", "--mount", "--", "sh", "-c", &setup])
            .arg(hostname)
            .arg(tool!("scan-hosts").path());
        self.isolate(&mut cmd);
        cmd.output().unwrap()
    }

    /// Runs one SQL query on the catalog and returns the first column of every row as text
    /// (NULL as `NULL`). The query must mean the same in SQLite and PostgreSQL.
    pub fn sql(&self, query: &str) -> Vec<String> {
        if let Some(pg) = &self.pg {
            return pg.server.psql(&pg.db, query);
        }
        let conn = rusqlite::Connection::open(&self.catalog).unwrap();
        let mut stmt = conn.prepare(query).unwrap();
        stmt.query_map([], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Null => "NULL".to_string(),
                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                rusqlite::types::ValueRef::Real(f) => f.to_string(),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    String::from_utf8_lossy(t).into_owned()
                }
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(pg) = &self.pg {
            pg.server.drop_database(&pg.db);
        }
    }
}

pub fn set_mtime(path: &Path, unix_seconds: u64) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + Duration::from_secs(unix_seconds))
        .unwrap();
}

/// Runs a command to completion with `input` (text, or bytes that need not be) on its stdin.
pub fn run_with_stdin(cmd: &mut Command, input: impl AsRef<[u8]>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_ref())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Stdout of a finished command, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr of a finished command, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts an exit status, showing both streams when it differs.
#[track_caller]
pub fn assert_status(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        stdout(out),
        stderr(out)
    );
}

/// A network interface for [`Env::scan_with_interfaces`].
pub struct TestInterface<'a> {
    pub name: &'a str,
    pub mac: &'a str,
    /// ADDRESS/PREFIX, IPv4 or IPv6.
    pub addresses: &'a [&'a str],
}

/// Runs `command` under a pseudo-terminal (util-linux `script`), as a user at a shell would,
/// asserts that it exits with `status` (`script -e` passes the command's status on), and
/// returns what it printed: a screen that looks right from a command that failed is a failure.
#[track_caller]
pub fn run_in_pty(
    env: &Env,
    shell_command: &str,
    extra_env: &[(&str, &str)],
    status: i32,
) -> String {
    require("script", "util-linux");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", shell_command, "/dev/null"]);
    env.isolate(&mut cmd);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(status),
        "exit status of {shell_command:?} on a terminal\n--- screen\n{screen}\n--- stderr\n{}",
        stderr(&out)
    );
    screen
}

/// The directory of the binaries, for shell pipelines that call them by name.
pub fn bin_dir() -> PathBuf {
    tool!("pkg-where").path().parent().unwrap().to_path_buf()
}

/// Reads a whole file.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// Runs a command to completion and returns its output with its peak resident memory in KiB.
/// VmHWM is the process's peak so far: the last reading before it exits is its peak for the
/// whole run.
pub fn run_measuring_peak_memory(cmd: &mut Command) -> (Output, u64) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    while child.try_wait().unwrap().is_none() {
        let reading = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        });
        peak_kib = peak_kib.max(reading.unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(peak_kib > 0, "no memory reading was taken");
    (out, peak_kib)
}

/// Writes a configuration file readable by its owner only (it holds communities).
pub fn write_config(env: &Env, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = env.dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

impl Env {
    /// `scan-hosts --local` as a host named `hostname` whose rpm database is `rpm`: the
    /// database is bind-mounted, in a private mount namespace, where rpm looks by default and
    /// where an rpm-based system keeps it (/var/lib/rpm: Debian's rpm looks in ~/.rpmdb), and
    /// dpkg is pointed at an empty database so that only rpm reports packages.
    pub fn scan_rpm_as(&self, hostname: &str, rpm: &RpmDb) -> Output {
        require_root();
        require("unshare", "util-linux");
        require("python3", "python3");
        let mut eval = Command::new("rpm");
        eval.args(["--eval", "%{_dbpath}"]);
        self.isolate(&mut eval);
        let target = String::from_utf8(eval.output().unwrap().stdout).unwrap();
        let target = target.trim().to_string();
        assert!(target.starts_with('/'), "rpm's dbpath: {target:?}");
        let empty_dpkg = DpkgDb::new(&[]);
        let mut cmd = Command::new("unshare");
        cmd.args(["--uts", "--mount", "--", "sh", "-c"])
            .arg(
                "mkdir -p \"$3\" /var/lib/rpm && mount --bind \"$2\" \"$3\" \
                 && mount --bind \"$2\" /var/lib/rpm && exec python3 -c \
                 'import os,socket,sys; socket.sethostname(sys.argv[1]); os.execv(sys.argv[2], sys.argv[2:])' \
                 \"$1\" \"$4\" --local",
            )
            .arg("sh")
            .arg(hostname)
            .arg(rpm.path())
            .arg(&target)
            .arg(tool!("scan-hosts").path());
        self.isolate(&mut cmd);
        cmd.env("DPKG_ADMINDIR", empty_dpkg.dir.path());
        cmd.output().unwrap()
    }
}
