//! SSH: reaching a host the way the user's own `ssh` would, and running one command on it.
//!
//! Built on the `ssh2` crate (libssh2). Where a target points (HostName, User, Port,
//! IdentityFile) comes from [`target`], which reads the user's `~/.ssh/config`. Host keys are
//! checked against `~/.ssh/known_hosts` in [`known_hosts`], with OpenSSH's rules: an unknown
//! host is refused unless accept-new was asked for, a changed key always is. Authentication
//! tries the ssh-agent's keys, then the key files. Every blocking step has a timeout, so a host
//! that accepts the connection and then says nothing costs one timeout, not a hung scan.

pub mod exec;
pub mod known_hosts;
pub mod target;

use std::io::Read;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ssh2::Session;

use crate::error::{Error, ErrorKind, Result};

pub use known_hosts::KnownHosts;
pub use target::{Endpoint, Target};

/// How long to wait and how much to read.
#[derive(Debug, Clone)]
pub struct Limits {
    /// For the TCP connection, the SSH handshake and authentication.
    pub connect_timeout: Duration,
    /// For the remote command (or file transfer), from start to end.
    pub command_timeout: Duration,
    /// The most bytes of output kept from one host; a host that prints more fails, so that one
    /// host cannot make the scanner's memory grow without bound.
    pub max_output: usize,
    /// The most bytes of output held at once across every host being scanned: 64 hosts in
    /// flight at `max_output` each would otherwise be 16 GiB. A host whose output would pass
    /// it fails (the others go on), and what it held is given back.
    pub max_total_output: usize,
}

/// Bytes of command output held right now by every connection of this process.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// A share of [`HELD`], given back when dropped (with the output it accounts for).
#[derive(Debug, Default)]
pub struct Held(usize);

impl Held {
    /// Takes `n` more bytes; false (and nothing taken) when that would pass `total`.
    fn take(&mut self, n: usize, total: usize) -> bool {
        let before = HELD.fetch_add(n, Ordering::SeqCst);
        if before + n > total {
            HELD.fetch_sub(n, Ordering::SeqCst);
            return false;
        }
        self.0 += n;
        true
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.fetch_sub(self.0, Ordering::SeqCst);
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(120),
            max_output: 256 << 20,
            max_total_output: 1 << 30,
        }
    }
}

/// An authenticated SSH session with one host.
pub struct Connection {
    session: Session,
    endpoint: Endpoint,
    limits: Limits,
}

/// What a remote command printed, and how it ended.
#[derive(Debug)]
pub struct CommandOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_status: i32,
    /// The output's share of the total budget, given back when the output is dropped.
    pub held: Held,
}

fn source(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Source, message)
}

fn ssh_error(what: &str, e: ssh2::Error) -> Error {
    // libssh2 reports a blocking call that ran out of time as LIBSSH2_ERROR_TIMEOUT (-9).
    if e.code() == ssh2::ErrorCode::Session(-9) {
        return source(format!("{what}: timed out"));
    }
    Error::with_source(ErrorKind::Source, what.to_string(), e)
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(1)
}

impl Connection {
    /// Connects, checks the host key and authenticates.
    pub fn open(endpoint: &Endpoint, known: &KnownHosts, limits: &Limits) -> Result<Connection> {
        let deadline = Instant::now() + limits.connect_timeout;
        let tcp = tcp_connect(endpoint, limits.connect_timeout)?;
        let mut session = Session::new().map_err(|e| ssh_error("starting SSH", e))?;
        session.set_tcp_stream(tcp);
        session.set_timeout(millis(limits.connect_timeout));
        // Offer first the host key types known_hosts has for this host, as OpenSSH does, so
        // that a host known by its ECDSA key is not refused for showing its Ed25519 key.
        if let Some(prefs) = known.host_key_preferences(&endpoint.host, endpoint.port) {
            let _ = session.method_pref(ssh2::MethodType::HostKey, &prefs);
        }
        session
            .handshake()
            .map_err(|e| ssh_error("SSH handshake", e))?;
        let Some((key, _)) = session.host_key() else {
            return Err(Error::new(
                ErrorKind::Source,
                "the server showed no host key",
            ));
        };
        known.verify(key, &endpoint.host, endpoint.port)?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        session.set_timeout(millis(remaining.max(Duration::from_millis(500))));
        authenticate(&session, endpoint)?;
        Ok(Connection {
            session,
            endpoint: endpoint.clone(),
            limits: limits.clone(),
        })
    }

    /// The host key the server showed, as OpenSSH prints it (`SHA256:…`); it was checked
    /// against known_hosts when the connection opened.
    pub fn host_key_fingerprint(&self) -> String {
        self.session
            .host_key()
            .map(|(key, _)| known_hosts::fingerprint(key))
            .unwrap_or_default()
    }

    /// Runs `command` (a remote shell line that holds no user input), writes `stdin` to it and
    /// collects its output, within the command timeout and the output limit.
    pub fn run(&self, command: &str, stdin: &[u8]) -> Result<CommandOutput> {
        let deadline = Instant::now() + self.limits.command_timeout;
        self.session
            .set_timeout(millis(self.limits.command_timeout));
        let mut channel = self
            .session
            .channel_session()
            .map_err(|e| ssh_error("opening a channel", e))?;
        channel
            .exec(command)
            .map_err(|e| ssh_error("starting the remote command", e))?;
        std::io::Write::write_all(&mut channel, stdin)
            .map_err(|e| Error::with_source(ErrorKind::Source, "sending the script", e))?;
        channel
            .send_eof()
            .map_err(|e| ssh_error("sending the script", e))?;
        let mut held = Held::default();
        let stdout = read_limited(&mut channel, &self.limits, &mut held, deadline, "output")?;
        let limits = Limits {
            max_output: 1 << 20,
            ..self.limits.clone()
        };
        let stderr = read_limited(
            &mut channel.stderr(),
            &limits,
            &mut held,
            deadline,
            "error output",
        )?;
        channel
            .wait_close()
            .map_err(|e| ssh_error("closing the channel", e))?;
        let exit_status = channel
            .exit_status()
            .map_err(|e| ssh_error("reading the exit status", e))?;
        Ok(CommandOutput {
            stdout,
            stderr,
            exit_status,
            held,
        })
    }

    /// Reads a remote file over SFTP, within the command timeout and the output limit.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        let deadline = Instant::now() + self.limits.command_timeout;
        self.session
            .set_timeout(millis(self.limits.command_timeout));
        let what = |e| ssh_error(&format!("reading {path} over SFTP"), e);
        let sftp = self.session.sftp().map_err(what)?;
        let mut file = sftp.open(std::path::Path::new(path)).map_err(what)?;
        read_limited(
            &mut file,
            &self.limits,
            &mut Held::default(),
            deadline,
            path,
        )
    }

    /// Where this connection goes.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.session.disconnect(None, "scan done", None);
    }
}

/// Reads to the end, failing past the limits (this host's, and all hosts' together, counted in
/// `held`) or `deadline`: libssh2's timeout bounds each read, and the deadline bounds a host
/// that trickles output forever.
fn read_limited(
    reader: &mut impl Read,
    limits: &Limits,
    held: &mut Held,
    deadline: Instant,
    what: &str,
) -> Result<Vec<u8>> {
    let limit = limits.max_output;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        if Instant::now() > deadline {
            return Err(source(format!("reading {what}: timed out")));
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(source(format!("reading {what}: timed out")));
            }
            Err(e) => {
                // ssh2 maps LIBSSH2_ERROR_TIMEOUT to an io::Error of kind Other.
                if e.to_string().contains("Timed out") || e.to_string().contains("timed out") {
                    return Err(source(format!("reading {what}: timed out")));
                }
                return Err(Error::with_source(
                    ErrorKind::Source,
                    format!("reading {what}"),
                    e,
                ));
            }
        };
        if out.len() + n > limit {
            return Err(source(format!(
                "reading {what}: more than {} MiB, refused",
                limit >> 20
            )));
        }
        if !held.take(n, limits.max_total_output) {
            return Err(source(format!(
                "reading {what}: the hosts scanned at once hold {} MiB of output, the most \
                 allowed ([ssh] max_total_output_mib): this host is dropped; scan it again, \
                 or with a lower --concurrency",
                limits.max_total_output >> 20
            )));
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Connects to the first address of the endpoint that answers, within the timeout.
fn tcp_connect(endpoint: &Endpoint, timeout: Duration) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()
        .map_err(|e| {
            Error::with_source(ErrorKind::Source, format!("resolving {}", endpoint.host), e)
        })?
        .collect();
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    Err(match last {
        Some((addr, e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            source(format!("connecting to {addr}: timed out"))
        }
        Some((addr, e)) => {
            Error::with_source(ErrorKind::Source, format!("connecting to {addr}"), e)
        }
        None => source(format!("{} has no address", endpoint.host)),
    })
}

/// Tries the agent's keys, then each key file, as `ssh` does with its defaults.
fn authenticate(session: &Session, endpoint: &Endpoint) -> Result<()> {
    let user = endpoint.user.as_str();
    let mut tried = Vec::new();
    if std::env::var_os("SSH_AUTH_SOCK").is_some()
        && let Ok(mut agent) = session.agent()
        && agent.connect().is_ok()
        && agent.list_identities().is_ok()
    {
        let identities = agent.identities().unwrap_or_default();
        for identity in &identities {
            if agent.userauth(user, identity).is_ok() && session.authenticated() {
                let _ = agent.disconnect();
                return Ok(());
            }
        }
        tried.push(format!("{} agent keys", identities.len()));
        let _ = agent.disconnect();
    }
    for key in &endpoint.identity_files {
        if !key.is_file() {
            continue;
        }
        let public: Option<PathBuf> = {
            let mut p = key.clone().into_os_string();
            p.push(".pub");
            let p = PathBuf::from(p);
            p.is_file().then_some(p)
        };
        match session.userauth_pubkey_file(user, public.as_deref(), key, None) {
            Ok(()) if session.authenticated() => return Ok(()),
            Ok(()) => {}
            Err(e) if e.code() == ssh2::ErrorCode::Session(-9) => {
                return Err(source("authentication: timed out"));
            }
            Err(_) => {}
        }
        tried.push(key.display().to_string());
    }
    if tried.is_empty() {
        return Err(source(format!(
            "no key to authenticate {user} with (no ssh-agent, no key file: {})",
            endpoint
                .identity_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Err(source(format!(
        "authentication as {user} failed (tried {})",
        tried.join(", ")
    )))
}
