//! A real PostgreSQL server (Debian's binaries) in a temporary directory, on a free port of
//! 127.0.0.1, run by `nobody` (postgres refuses root, and the tests run as root), with a
//! superuser that logs in with a scram-sha-256 password, and optionally TLS with a throw-away
//! CA made by the `openssl` CLI.
//!
//! Every postgres process is started from one helper thread that lives as long as the test
//! process, with `PR_SET_PDEATHSIG`: the kernel sends the signal when the *thread* that forked
//! the child ends, so a test thread (which ends with its test) must not be that parent, and the
//! setting is cleared by a change of user, so it is made in `pre_exec` after the switch to
//! `nobody` rather than by `setpriv`. The shared server, a static that is never dropped, is also
//! killed and removed by an `atexit` handler when the test process exits normally; the death
//! signal covers the other ways it can end.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::require;

/// The superuser initdb creates.
const SUPERUSER: &str = "opskit_admin";

/// How long a server may take to accept connections.
const PATIENCE: Duration = Duration::from_secs(30);

/// How TLS is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    Off,
    Offered,
    Only,
}

/// How to start a [`PgServer`].
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    tls: Tls,
}

impl PgOptions {
    /// No TLS at all: the server answers an SSL request with no.
    pub fn plain() -> PgOptions {
        PgOptions { tls: Tls::Off }
    }

    /// TLS offered, plaintext allowed.
    pub fn tls() -> PgOptions {
        PgOptions { tls: Tls::Offered }
    }

    /// TLS offered and required: pg_hba.conf has `hostssl` lines only.
    pub fn tls_only() -> PgOptions {
        PgOptions { tls: Tls::Only }
    }
}

/// Fails the test with the install command when PostgreSQL's server binaries are missing.
pub fn require_postgres() -> PathBuf {
    require("psql", "postgresql");
    require("openssl", "openssl");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    dirs.retain(|d| d.join("initdb").is_file() && d.join("postgres").is_file());
    // The newest major version, when several are installed.
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server (initdb, postgres) is not installed: run scripts/test.sh, or \
             apt-get install postgresql"
        )
    })
}

/// The uid and gid of `nobody`, who runs the servers.
fn nobody() -> (u32, u32) {
    let user = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("the nobody user exists");
    (user.uid.as_raw(), user.gid.as_raw())
}

/// Makes `cmd` run as `nobody` with no supplementary groups, and when `tie` is set, die with
/// the thread that spawns it.
fn as_nobody(cmd: &mut Command, tie: bool) {
    let (uid, gid) = nobody();
    // SAFETY: only async-signal-safe calls (setgroups, setgid, setuid, prctl) between fork and
    // exec.
    unsafe {
        cmd.pre_exec(move || {
            let check = |rc: libc::c_int| {
                if rc == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            };
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setgid(gid))?;
            check(libc::setuid(uid))?;
            if tie {
                // After the user change, which would clear it.
                check(libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                ))?;
            }
            Ok(())
        });
    }
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Spawns `cmd` from the process-long helper thread (see the module comment).
fn spawn_tied(cmd: Command) -> Child {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("postgres-parent".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // The senders live in a static: this loop never ends, and neither does the
                // thread, until the process does.
            })
            .unwrap();
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    let program = format!("{cmd:?}");
    spawner.lock().unwrap().send((cmd, reply_tx)).unwrap();
    reply_rx
        .recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a command to completion, panicking with its output when it fails.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Makes a throw-away CA in `dir` (`NAME.crt`, `NAME.key`) and returns the certificate's path.
pub fn throwaway_ca(dir: &Path, name: &str) -> PathBuf {
    require("openssl", "openssl");
    let crt = dir.join(format!("{name}.crt"));
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj"])
        .arg(format!("/CN=opskit test CA {name}"))
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(&crt));
    crt
}

/// A server certificate for `localhost` and 127.0.0.1 signed by the CA `ca` in `dir`; returns
/// the certificate and key paths.
fn server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
    let key = dir.join("server.key");
    let csr = dir.join("server.csr");
    let crt = dir.join("server.crt");
    let ext = dir.join("server.ext");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(dir.join(format!("{ca}.crt")))
        .arg("-CAkey")
        .arg(dir.join(format!("{ca}.key")))
        .args(["-set_serial", "2", "-extfile"])
        .arg(&ext)
        .arg("-out")
        .arg(&crt));
    (crt, key)
}

/// A running PostgreSQL server; dropping it stops it and removes its directory.
pub struct PgServer {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    password: String,
    ca: Option<PathBuf>,
    postmaster: Mutex<Option<Child>>,
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl PgServer {
    /// initdb's a cluster and starts it.
    pub fn start(opts: PgOptions) -> PgServer {
        let bin = require_postgres();
        super::require_root();
        let dir = tempfile::Builder::new()
            .prefix("opskit-pg")
            .tempdir()
            .unwrap();
        let (uid, gid) = nobody();
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        let password = format!("pw-{}-{}", std::process::id(), unique());
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n")).unwrap();
        std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).unwrap();
        let data = dir.path().join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8"])
            .args(["--locale=C", "--no-sync", "--no-instructions"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .env("LC_ALL", "C");
        as_nobody(&mut initdb, false);
        run(&mut initdb);
        std::fs::remove_file(&pwfile).unwrap();

        let sock = dir.path().join("sock");
        std::fs::create_dir(&sock).unwrap();
        std::os::unix::fs::chown(&sock, Some(uid), Some(gid)).unwrap();
        let mut conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
             max_connections = 200\nshared_buffers = 16MB\n",
            sock.display()
        );
        let mut ca = None;
        if opts.tls != Tls::Off {
            let certs = dir.path().join("certs");
            std::fs::create_dir(&certs).unwrap();
            let ca_crt = throwaway_ca(&certs, "ca");
            let (crt, key) = server_cert(&certs, "ca");
            // postgres refuses a key others can read, and must own it.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&key, Some(uid), Some(gid)).unwrap();
            std::fs::set_permissions(&crt, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::os::unix::fs::chown(&certs, Some(uid), Some(gid)).unwrap();
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                crt.display(),
                key.display()
            ));
            ca = Some(ca_crt);
        }
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        file.write_all(conf.as_bytes()).unwrap();
        let host = if opts.tls == Tls::Only {
            "hostssl"
        } else {
            "host"
        };
        std::fs::write(
            data.join("pg_hba.conf"),
            format!("local all all scram-sha-256\n{host} all all 127.0.0.1/32 scram-sha-256\n"),
        )
        .unwrap();

        let server = PgServer {
            dir,
            bin,
            port: 0,
            password,
            ca,
            postmaster: Mutex::new(None),
        };
        server.launch_on_a_free_port()
    }

    /// One TLS-offering server for the whole test process, for tests that each make their own
    /// database on it. Never call [`PgServer::stop`], `kill` or `restart` on it.
    pub fn shared_tls() -> &'static PgServer {
        static SHARED: OnceLock<PgServer> = OnceLock::new();
        SHARED.get_or_init(|| {
            let server = PgServer::start(PgOptions::tls());
            extern "C" fn cleanup() {
                if let Some(server) = SHARED.get() {
                    server.kill();
                    let _ = std::fs::remove_dir_all(server.dir.path());
                }
            }
            // SAFETY: registering a plain function with no captured state.
            unsafe { libc::atexit(cleanup) };
            server
        })
    }

    /// Tries free ports until the server binds one.
    fn launch_on_a_free_port(mut self) -> PgServer {
        let mut failures = Vec::new();
        for _ in 0..5 {
            self.port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            match self.launch() {
                Ok(()) => return self,
                Err(why) => failures.push(why),
            }
        }
        panic!("postgres never started:\n{}", failures.join("\n"));
    }

    /// Starts the postmaster in the foreground and waits until it accepts connections.
    fn launch(&self) -> Result<(), String> {
        let log = self.dir.path().join("postgres.log");
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(self.bin.join("postgres"));
        cmd.arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-p")
            .arg(self.port.to_string())
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        as_nobody(&mut cmd, true);
        let mut child = spawn_tied(cmd);
        let deadline = Instant::now() + PATIENCE;
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Err(format!("postgres exited ({status}):\n{}", read_log()));
            }
            if read_log().contains("ready to accept connections")
                && TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok()
            {
                *self.postmaster.lock().unwrap() = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                kill_tree(&mut child);
                return Err(format!(
                    "postgres not ready after {PATIENCE:?}:\n{}",
                    read_log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The TCP port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgresql://USER@127.0.0.1:PORT/DB`, with no password in it.
    pub fn url(&self, db: &str, user: &str) -> String {
        format!("postgresql://{user}@127.0.0.1:{}/{db}", self.port)
    }

    /// The directory holding the server's unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    pub fn superuser_password(&self) -> &str {
        &self.password
    }

    /// The throw-away CA that signed the server's certificate (for `localhost` and 127.0.0.1).
    pub fn ca_cert_path(&self) -> &Path {
        self.ca
            .as_deref()
            .expect("this server was started without TLS")
    }

    /// Creates a database named NAME plus a suffix unique to this process, and returns its name.
    pub fn create_database(&self, name: &str) -> String {
        let unique = format!(
            "{}_{}_{}",
            name.to_ascii_lowercase(),
            std::process::id(),
            unique()
        );
        self.psql("postgres", &format!("CREATE DATABASE \"{unique}\""));
        unique
    }

    /// Drops a database, ending any session still on it.
    pub fn drop_database(&self, name: &str) {
        self.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        );
    }

    /// Creates a role with this password, allowed to log in when `login` is set.
    pub fn create_role(&self, name: &str, password: &str, login: bool) {
        let login = if login { "LOGIN" } else { "NOLOGIN" };
        self.psql(
            "postgres",
            &format!(
                "CREATE ROLE \"{name}\" {login} PASSWORD '{}'",
                password.replace('\'', "''")
            ),
        );
    }

    /// Runs SQL through Debian's psql as the superuser and returns its unaligned output lines;
    /// panics with psql's stderr when it fails.
    pub fn psql(&self, db: &str, sql: &str) -> Vec<String> {
        let mut cmd = Command::new("psql");
        for var in [
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGPASSFILE",
            "PGSERVICE",
            "PGSSLMODE",
            "PGOPTIONS",
        ] {
            cmd.env_remove(var);
        }
        let out = run(cmd
            .args([
                "-X",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                // As Env::sql prints a NULL on SQLite.
                "-P",
                "null=NULL",
                "-h",
                "127.0.0.1",
                "-p",
            ])
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER, "-d", db, "-c", sql])
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "10"));
        out.lines().map(str::to_string).collect()
    }

    /// Stops the server (fast shutdown) and starts it again on the same port.
    pub fn restart(&self) {
        self.stop();
        self.launch()
            .unwrap_or_else(|why| panic!("postgres did not restart: {why}"));
    }

    /// Stops the server: fast shutdown (sessions are ended), waited for.
    pub fn stop(&self) {
        if let Some(mut child) = self.postmaster.lock().unwrap().take() {
            // SAFETY: signalling our own child, which has not been reaped yet.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
            let deadline = Instant::now() + PATIENCE;
            while child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    kill_tree(&mut child);
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// SIGKILLs the postmaster and its backends, as a crash would.
    pub fn kill(&self) {
        if let Some(mut child) = self.postmaster.lock().unwrap().take() {
            kill_tree(&mut child);
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILLs a postmaster and its backends (which would otherwise linger until they notice),
/// and reaps it.
fn kill_tree(child: &mut Child) {
    let pid = child.id();
    let children = children_of(pid);
    let _ = child.kill();
    let _ = child.wait();
    for &c in &children {
        // SAFETY: a plain kill(2); a pid reused meanwhile is not ours to worry about within
        // these few microseconds, and postgres backends are what was listed.
        unsafe { libc::kill(c as libc::pid_t, libc::SIGKILL) };
    }
    // Wait for them to be gone (reaped by init once orphaned), so a restart finds the shared
    // memory free and no stray backend outlives the test.
    let deadline = Instant::now() + Duration::from_secs(10);
    while children
        .iter()
        .any(|c| Path::new(&format!("/proc/{c}")).exists())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pids whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let mut stat = String::new();
        if std::fs::File::open(format!("/proc/{p}/stat"))
            .and_then(|mut f| f.read_to_string(&mut stat))
            .is_err()
        {
            continue;
        }
        // The command is in parentheses and may hold spaces: fields after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|f| f.parse::<u32>().ok());
        if ppid == Some(pid) {
            found.push(p);
        }
    }
    found
}

/// A number unique within this process.
fn unique() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
