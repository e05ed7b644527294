//! Connecting to a PostgreSQL catalog the way libpq users expect.
//!
//! A team that shares one catalog names it the way every PostgreSQL tool does: a
//! `postgresql://` URL or a libpq `keyword=value` string, with the `PG*` environment variables,
//! `~/.pgpass` and `sslmode` meaning what `psql` taught them. This module turns such a spec into
//! a connected [`postgres::Client`], following libpq's rules where the driver has none of its
//! own (environment fallbacks, the password file and its permission check, `verify-ca`, the
//! root certificate locations), and differing from libpq on purpose in one place: a connection
//! is always bounded in time (10 s unless told otherwise), because opskit runs from cron and a
//! hung catalog must not pile up jobs.
//!
//! Passwords never leave this module in a message: errors and logs name the target by
//! [`PgSpec::redacted`], and the password is held in a type whose `Debug` hides it.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use postgres::config::{ChannelBinding, SslMode as DriverSslMode, TargetSessionAttrs};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, ErrorKind, Result};

/// libpq's default port.
const DEFAULT_PORT: u16 = 5432;

/// Where Debian's libpq looks for the server's socket when no host is given.
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// How long a connection may take when the spec does not say: libpq waits forever, but a cron
/// job must not.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Every keyword libpq 16 knows. A string whose first keyword is one of these is a connection
/// string, not a file name; a known keyword this module cannot honour is refused by name rather
/// than ignored, so that a spec never silently means less than it says.
const LIBPQ_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "requiressl",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
    "sslnegotiation",
];

/// True when `s` names a PostgreSQL database rather than a catalog file: a `postgres://` or
/// `postgresql://` URL, or a libpq `keyword=value` string whose first keyword is libpq's.
/// A file path never is, even one with `=` in it (`./a=b.db`).
pub(crate) fn is_postgres_spec(s: &str) -> bool {
    let s = s.trim_start();
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        return true;
    }
    let keyword: String = s
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if keyword.is_empty() || !LIBPQ_KEYWORDS.contains(&keyword.as_str()) {
        return false;
    }
    // libpq allows spaces around '=': `host = db`.
    s[keyword.len()..].trim_start().starts_with('=')
}

/// The environment libpq reads, captured once so that parsing is a pure function of it (and
/// tests need not touch the process environment).
#[derive(Clone, Default)]
pub(crate) struct PgEnv {
    host: Option<String>,
    port: Option<String>,
    user: Option<String>,
    password: Option<Secret>,
    database: Option<String>,
    passfile: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    connect_timeout: Option<String>,
    appname: Option<String>,
    options: Option<String>,
    home: Option<PathBuf>,
    os_user: Option<String>,
}

impl fmt::Debug for PgEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgEnv")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("passfile", &self.passfile)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("home", &self.home)
            .field("os_user", &self.os_user)
            .finish_non_exhaustive()
    }
}

impl PgEnv {
    /// The real process environment, and the effective user's name (libpq's default user).
    pub(crate) fn process() -> PgEnv {
        // An empty variable counts as unset, as in libpq.
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let os_user = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .map(|u| u.name);
        PgEnv {
            host: var("PGHOST"),
            port: var("PGPORT"),
            user: var("PGUSER"),
            password: var("PGPASSWORD").map(Secret),
            database: var("PGDATABASE"),
            passfile: var("PGPASSFILE"),
            sslmode: var("PGSSLMODE"),
            sslrootcert: var("PGSSLROOTCERT"),
            connect_timeout: var("PGCONNECT_TIMEOUT"),
            appname: var("PGAPPNAME"),
            options: var("PGOPTIONS"),
            home: var("HOME").map(PathBuf::from),
            os_user,
        }
    }

    /// An environment made of these pairs only (`PGHOST`, …, `HOME`, and `USER` standing for
    /// the OS user name); nothing is read from the process.
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> PgEnv {
        let mut env = PgEnv::default();
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            let value = value.to_string();
            match *name {
                "PGHOST" => env.host = Some(value),
                "PGPORT" => env.port = Some(value),
                "PGUSER" => env.user = Some(value),
                "PGPASSWORD" => env.password = Some(Secret(value)),
                "PGDATABASE" => env.database = Some(value),
                "PGPASSFILE" => env.passfile = Some(value),
                "PGSSLMODE" => env.sslmode = Some(value),
                "PGSSLROOTCERT" => env.sslrootcert = Some(value),
                "PGCONNECT_TIMEOUT" => env.connect_timeout = Some(value),
                "PGAPPNAME" => env.appname = Some(value),
                "PGOPTIONS" => env.options = Some(value),
                "HOME" => env.home = Some(PathBuf::from(value)),
                "USER" | "LOGNAME" => env.os_user = Some(value),
                _ => {}
            }
        }
        env
    }
}

/// A password: shown as `***` by `Debug`, so a spec or an environment can be logged.
#[derive(Clone, PartialEq, Eq)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// One server a spec names: libpq tries a spec's servers in order (`host=db1,db2`, or
/// `postgres://db1:5432,db2:5433/…`) and keeps the first that accepts the connection and, with
/// `target_session_attrs`, is what the spec asks for (a primary, say, not a standby).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    host: Host,
    hostaddr: Option<IpAddr>,
    port: u16,
}

impl Endpoint {
    /// `host:port` for messages, an IPv6 address in brackets.
    fn shown(&self) -> String {
        let host = match &self.host {
            Host::Tcp(h) if h.contains(':') => format!("[{h}]"),
            Host::Tcp(h) => encode(h),
            Host::Unix(dir) => encode(&dir.to_string_lossy()),
        };
        format!("{host}:{}", self.port)
    }

    /// The host name a password file line is matched against: a socket connection matches
    /// `localhost`, as in libpq.
    fn pgpass_host(&self) -> String {
        match &self.host {
            Host::Tcp(h) => h.clone(),
            Host::Unix(_) => "localhost".to_string(),
        }
    }
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// A host name or an IP address.
    Tcp(String),
    /// The directory holding the server's socket (a host starting with `/`, as in libpq).
    Unix(PathBuf),
}

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> std::result::Result<SslMode, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(format!(
                    "invalid sslmode \"{s}\": expected disable, allow, prefer, require, \
                     verify-ca or verify-full"
                ));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A parsed connection spec, with libpq's environment fallbacks applied (except the password
/// sources beyond the spec's own, which [`PgSpec::connect`] consults).
#[derive(Debug, Clone)]
pub(crate) struct PgSpec {
    /// At least one; tried in order.
    endpoints: Vec<Endpoint>,
    user: String,
    dbname: String,
    password: Option<Secret>,
    passfile: Option<PathBuf>,
    sslmode: SslMode,
    sslrootcert: Option<String>,
    connect_timeout: Duration,
    application_name: String,
    options: Option<String>,
    target_session_attrs: Option<TargetSessionAttrs>,
    channel_binding: Option<ChannelBinding>,
    keepalives: Option<bool>,
    keepalives_idle: Option<Duration>,
    keepalives_interval: Option<Duration>,
    keepalives_count: Option<u32>,
    tcp_user_timeout: Option<Duration>,
}

/// The keyword/value pairs a spec was written with, before the environment fills the gaps.
#[derive(Default)]
struct Params {
    host: Option<String>,
    hostaddr: Option<String>,
    port: Option<String>,
    user: Option<String>,
    dbname: Option<String>,
    password: Option<Secret>,
    passfile: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    connect_timeout: Option<String>,
    application_name: Option<String>,
    fallback_application_name: Option<String>,
    options: Option<String>,
    target_session_attrs: Option<String>,
    channel_binding: Option<String>,
    keepalives: Option<String>,
    keepalives_idle: Option<String>,
    keepalives_interval: Option<String>,
    keepalives_count: Option<String>,
    tcp_user_timeout: Option<String>,
}

impl Params {
    /// Records one keyword (the last occurrence wins, as in libpq). An empty value means
    /// "not given", as in libpq, except for the password.
    fn set(&mut self, keyword: &str, value: String) -> std::result::Result<(), String> {
        let slot = match keyword {
            "password" => {
                self.password = Some(Secret(value));
                return Ok(());
            }
            "host" => &mut self.host,
            "hostaddr" => &mut self.hostaddr,
            "port" => &mut self.port,
            "user" => &mut self.user,
            "dbname" => &mut self.dbname,
            "passfile" => &mut self.passfile,
            "sslmode" => &mut self.sslmode,
            "sslrootcert" => &mut self.sslrootcert,
            "connect_timeout" => &mut self.connect_timeout,
            "application_name" => &mut self.application_name,
            "fallback_application_name" => &mut self.fallback_application_name,
            "options" => &mut self.options,
            "target_session_attrs" => &mut self.target_session_attrs,
            "channel_binding" => &mut self.channel_binding,
            "keepalives" => &mut self.keepalives,
            "keepalives_idle" => &mut self.keepalives_idle,
            "keepalives_interval" => &mut self.keepalives_interval,
            "keepalives_count" => &mut self.keepalives_count,
            "tcp_user_timeout" => &mut self.tcp_user_timeout,
            // client_encoding is fixed at UTF8 by the driver, which is what libpq's "auto"
            // gives on any sane system; accept UTF8 and nothing else.
            "client_encoding" => {
                return if value.eq_ignore_ascii_case("utf8")
                    || value.eq_ignore_ascii_case("utf-8")
                    || value.eq_ignore_ascii_case("auto")
                    || value.is_empty()
                {
                    Ok(())
                } else {
                    Err(format!(
                        "client_encoding \"{value}\" is not supported (only UTF8)"
                    ))
                };
            }
            k if LIBPQ_KEYWORDS.contains(&k) => {
                return Err(format!("connection option \"{k}\" is not supported"));
            }
            k => return Err(format!("unknown connection option \"{k}\"")),
        };
        *slot = Some(value).filter(|v| !v.is_empty());
        Ok(())
    }
}

/// A parse failure: a usage error that never quotes the spec (it may hold a password).
fn bad_spec(why: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Usage,
        format!("catalog: invalid PostgreSQL connection string: {why}"),
    )
}

impl PgSpec {
    /// Parses a URL or keyword/value spec, filling what it leaves out from `env` as libpq does.
    pub(crate) fn parse(s: &str, env: &PgEnv) -> Result<PgSpec> {
        let s = s.trim();
        let params = if let Some(rest) = s
            .strip_prefix("postgresql://")
            .or_else(|| s.strip_prefix("postgres://"))
        {
            parse_url(rest)
        } else {
            parse_keywords(s)
        }
        .map_err(bad_spec)?;
        PgSpec::resolve(params, env).map_err(bad_spec)
    }

    fn resolve(p: Params, env: &PgEnv) -> std::result::Result<PgSpec, String> {
        let endpoints = endpoints(
            p.host.or_else(|| env.host.clone()).as_deref(),
            p.hostaddr.as_deref(),
            p.port.or_else(|| env.port.clone()).as_deref(),
        )?;
        let user = p
            .user
            .or_else(|| env.user.clone())
            .or_else(|| env.os_user.clone())
            .ok_or("no user given and the OS user name is unknown")?;
        let dbname = p
            .dbname
            .or_else(|| env.database.clone())
            .unwrap_or_else(|| user.clone());
        let sslmode = SslMode::parse(
            p.sslmode
                .as_deref()
                .or(env.sslmode.as_deref())
                .unwrap_or("prefer"),
        )?;
        let connect_timeout = match p.connect_timeout.or_else(|| env.connect_timeout.clone()) {
            None => DEFAULT_CONNECT_TIMEOUT,
            Some(text) => {
                let secs: i64 = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid connect_timeout \"{text}\": not a number"))?;
                match secs {
                    // libpq waits forever for 0; opskit never does, so 0 means the default.
                    ..=0 => DEFAULT_CONNECT_TIMEOUT,
                    // libpq's floor: a 1 s limit would fail on any hiccup.
                    1 => Duration::from_secs(2),
                    n => Duration::from_secs(n as u64),
                }
            }
        };
        let application_name = p
            .application_name
            .or_else(|| env.appname.clone())
            .or(p.fallback_application_name)
            .unwrap_or_else(|| "opskit".to_string());
        let target_session_attrs = p
            .target_session_attrs
            .map(|v| match v.as_str() {
                "any" => Ok(TargetSessionAttrs::Any),
                "read-write" => Ok(TargetSessionAttrs::ReadWrite),
                "read-only" => Ok(TargetSessionAttrs::ReadOnly),
                _ => Err(format!(
                    "invalid target_session_attrs \"{v}\": expected any, read-write or read-only"
                )),
            })
            .transpose()?;
        let channel_binding = p
            .channel_binding
            .map(|v| match v.as_str() {
                "disable" => Ok(ChannelBinding::Disable),
                "prefer" => Ok(ChannelBinding::Prefer),
                "require" => Ok(ChannelBinding::Require),
                _ => Err(format!(
                    "invalid channel_binding \"{v}\": expected disable, prefer or require"
                )),
            })
            .transpose()?;
        let keepalives = p
            .keepalives
            .map(|v| {
                v.parse::<i64>()
                    .map(|n| n != 0)
                    .map_err(|_| format!("invalid keepalives \"{v}\""))
            })
            .transpose()?;
        Ok(PgSpec {
            endpoints,
            user,
            dbname,
            password: p.password,
            passfile: p.passfile.map(PathBuf::from),
            sslmode,
            sslrootcert: p.sslrootcert.or_else(|| env.sslrootcert.clone()),
            connect_timeout,
            application_name,
            options: p.options.or_else(|| env.options.clone()),
            target_session_attrs,
            channel_binding,
            keepalives,
            keepalives_idle: seconds("keepalives_idle", p.keepalives_idle)?,
            keepalives_interval: seconds("keepalives_interval", p.keepalives_interval)?,
            keepalives_count: p
                .keepalives_count
                .map(|v| {
                    v.parse::<u32>()
                        .map_err(|_| format!("invalid keepalives_count \"{v}\""))
                })
                .transpose()?,
            // libpq's tcp_user_timeout is in milliseconds.
            tcp_user_timeout: p
                .tcp_user_timeout
                .map(|v| {
                    v.parse::<u64>()
                        .map(Duration::from_millis)
                        .map_err(|_| format!("invalid tcp_user_timeout \"{v}\""))
                })
                .transpose()?,
        })
    }

    /// The spec as a URL without its password, for messages: `postgres://user@host:5432/db`
    /// (`host1:5432,host2:5433` when it names several servers).
    pub(crate) fn redacted(&self) -> String {
        let hosts: Vec<String> = self.endpoints.iter().map(Endpoint::shown).collect();
        format!(
            "postgres://{}@{}/{}",
            encode(&self.user),
            hosts.join(","),
            encode(&self.dbname)
        )
    }

    /// Whether the spec itself holds a password (not the environment or a password file): such
    /// a spec should not sit in a world-readable configuration file.
    pub(crate) fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Connects, TLS and authentication included, to the first of the spec's servers that
    /// accepts, each within the connect timeout (as libpq, which applies it per server). When
    /// none does, the one-line error says why for each, in order.
    pub(crate) fn connect(&self, env: &PgEnv) -> Result<postgres::Client> {
        let fail = |why: String| {
            Error::new(
                ErrorKind::Catalog,
                format!("catalog {}: {why}", self.redacted()),
            )
        };
        // Once for every server: it may read the system's whole certificate store.
        let tls = self.tls(env).map_err(fail)?;
        let mut why = Vec::new();
        for endpoint in &self.endpoints {
            match self.connect_to(endpoint, tls.clone(), env) {
                Ok(client) => return Ok(client),
                // One server: its reason alone, as libpq words it.
                Err(e) if self.endpoints.len() == 1 => why.push(e),
                Err(e) => why.push(format!("{}: {e}", endpoint.shown())),
            }
        }
        Err(fail(why.join("; ")))
    }

    /// One attempt at one server; the error is why, in the spec's terms.
    fn connect_to(
        &self,
        endpoint: &Endpoint,
        tls: MakeRustlsConnect,
        env: &PgEnv,
    ) -> std::result::Result<postgres::Client, String> {
        let mut config = postgres::Config::new();
        match &endpoint.host {
            Host::Tcp(h) => config.host(h),
            Host::Unix(dir) => config.host_path(dir),
        };
        if let Some(addr) = endpoint.hostaddr {
            config.hostaddr(addr);
        }
        config
            .port(endpoint.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(&self.application_name)
            // The driver bounds only the socket connect with this; see below for the rest.
            .connect_timeout(self.connect_timeout)
            .ssl_mode(match self.sslmode {
                SslMode::Disable => DriverSslMode::Disable,
                // As libpq: TLS is never offered over a Unix socket, where it protects nothing
                // and would cost a round trip on every connection.
                SslMode::Allow | SslMode::Prefer if matches!(endpoint.host, Host::Unix(_)) => {
                    DriverSslMode::Disable
                }
                // libpq's allow tries plaintext first and TLS second; the driver cannot, and
                // TLS first is the safer order of the two.
                SslMode::Allow | SslMode::Prefer => DriverSslMode::Prefer,
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                    DriverSslMode::Require
                }
            });
        if let Some(password) = self.password(endpoint, env) {
            config.password(password.0.as_bytes());
        }
        if let Some(options) = &self.options {
            config.options(options);
        }
        if let Some(attrs) = self.target_session_attrs {
            config.target_session_attrs(attrs);
        }
        if let Some(binding) = self.channel_binding {
            config.channel_binding(binding);
        }
        if let Some(on) = self.keepalives {
            config.keepalives(on);
        }
        if let Some(idle) = self.keepalives_idle {
            config.keepalives_idle(idle);
        }
        if let Some(interval) = self.keepalives_interval {
            config.keepalives_interval(interval);
        }
        if let Some(count) = self.keepalives_count {
            config.keepalives_retries(count);
        }
        // Unacknowledged data (a peer that vanished mid-handshake) ends the socket within the
        // connect timeout unless the spec says otherwise; this also frees the helper thread
        // below sooner in that case.
        config.tcp_user_timeout(self.tcp_user_timeout.unwrap_or(self.connect_timeout));

        // tokio-postgres's connect_timeout covers only the TCP (or socket) connect: a server
        // that accepts and then never answers the TLS or startup exchange would hang it forever,
        // and keepalives cannot tell (the peer's kernel acknowledges them). postgres::Config
        // gives no way to wrap the whole exchange in a timer (its Client cannot be built from
        // tokio-postgres parts), so it runs on a helper thread that is abandoned at the
        // deadline: the caller gets its error on time, and the thread ends on its own when the
        // socket does (at the latest when the process, a short-lived command, exits).
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("pg-connect".to_string())
            .spawn(move || {
                let _ = tx.send(config.connect(tls));
            })
            .map_err(|e| format!("cannot start the connection thread: {e}"))?;
        match rx.recv_timeout(self.connect_timeout) {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(self.describe(&e)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "no answer within {} s (connect_timeout)",
                self.connect_timeout.as_secs()
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err("the connection attempt failed unexpectedly".to_string())
            }
        }
    }

    /// libpq's password sources, in its order: the spec, `PGPASSWORD`, the password file (its
    /// line for this server).
    fn password(&self, endpoint: &Endpoint, env: &PgEnv) -> Option<Secret> {
        if let Some(p) = &self.password {
            return Some(p.clone());
        }
        if let Some(p) = &env.password {
            return Some(p.clone());
        }
        let file = self
            .passfile
            .clone()
            .or_else(|| env.passfile.as_ref().map(PathBuf::from))
            .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")))?;
        read_pgpass(
            &file,
            &endpoint.pgpass_host(),
            endpoint.port,
            &self.dbname,
            &self.user,
        )
    }

    /// One line saying why a connection failed, in the terms of the spec.
    fn describe(&self, e: &postgres::Error) -> String {
        if let Some(db) = e.as_db_error() {
            return format!("{} (SQLSTATE {})", db.message(), db.code().code());
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cause {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return "connection refused".to_string();
                }
                if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    return describe_tls(tls);
                }
            }
            if let Some(tls) = err.downcast_ref::<rustls::Error>() {
                return describe_tls(tls);
            }
            cause = err.source();
        }
        // The driver's Display names only the kind ("error performing TLS handshake"); the
        // why is in the cause chain.
        let mut parts = vec![e.to_string()];
        let mut cause = std::error::Error::source(e);
        while let Some(err) = cause {
            parts.push(err.to_string());
            cause = err.source();
        }
        let text = parts.join(": ");
        if text.contains("password missing") {
            return "the server asks for a password and none was found (spec, PGPASSWORD, \
                    password file)"
                .to_string();
        }
        if text.contains("server does not support TLS") {
            return format!(
                "server does not accept TLS but sslmode={}",
                self.sslmode.name()
            );
        }
        text.split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// The TLS connector for this spec's sslmode and roots.
    fn tls(&self, env: &PgEnv) -> std::result::Result<MakeRustlsConnect, String> {
        // One provider, chosen here, for every connection: never rustls's process default,
        // which panics when two crates of a process enable different providers.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?;
        let check = match self.sslmode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer => None,
            // libpq: require with a root certificate file behaves as verify-ca.
            SslMode::Require => self.root_file(env).map(|_| SslMode::VerifyCa),
            mode => Some(mode),
        };
        let config = match check {
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoCertificateCheck(provider)))
                .with_no_client_auth(),
            Some(mode) => {
                let roots = Arc::new(self.roots(env)?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| format!("TLS set-up: {e}"))?;
                if mode == SslMode::VerifyFull {
                    builder.with_webpki_verifier(webpki).with_no_client_auth()
                } else {
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(ChainOnly(webpki)))
                        .with_no_client_auth()
                }
            }
        };
        Ok(MakeRustlsConnect::new(config))
    }

    /// The root certificate file in effect: `sslrootcert` (unless `system`), else
    /// `~/.postgresql/root.crt` when it exists.
    fn root_file(&self, env: &PgEnv) -> Option<PathBuf> {
        match self.sslrootcert.as_deref() {
            Some("system") => None,
            Some(file) => Some(PathBuf::from(file)),
            None => env
                .home
                .as_ref()
                .map(|h| h.join(".postgresql/root.crt"))
                .filter(|f| f.is_file()),
        }
    }

    /// The trust anchors: the root file's certificates, else the system store.
    fn roots(&self, env: &PgEnv) -> std::result::Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match self.root_file(env) {
            Some(file) => {
                let certs = CertificateDer::pem_file_iter(&file)
                    .and_then(|i| i.collect::<std::result::Result<Vec<_>, _>>())
                    .map_err(|e| format!("sslrootcert {}: {e}", file.display()))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(format!(
                        "sslrootcert {}: no usable certificate in it",
                        file.display()
                    ));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err(
                        "no trusted root certificates in the system store (set sslrootcert)"
                            .to_string(),
                    );
                }
            }
        }
        Ok(roots)
    }
}

/// The servers of a spec, from its `host`, `hostaddr` and `port` lists as libpq reads them:
/// comma-separated, an empty entry meaning the default; one port for every host or one per
/// host; a `hostaddr` per host when given.
fn endpoints(
    host: Option<&str>,
    hostaddr: Option<&str>,
    port: Option<&str>,
) -> std::result::Result<Vec<Endpoint>, String> {
    let addrs: Vec<Option<IpAddr>> = match hostaddr {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|a| match a.trim() {
                "" => Ok(None),
                a => a
                    .parse::<IpAddr>()
                    .map(Some)
                    .map_err(|_| format!("invalid hostaddr \"{a}\": not an IP address")),
            })
            .collect::<std::result::Result<_, _>>()?,
    };
    let hosts: Vec<Host> = match host {
        // No host: the default socket, once per hostaddr when there are several.
        None => vec![Host::Unix(PathBuf::from(DEFAULT_SOCKET_DIR)); addrs.len().max(1)],
        Some(list) => list
            .split(',')
            .map(|h| match h.trim() {
                "" => Host::Unix(PathBuf::from(DEFAULT_SOCKET_DIR)),
                h if h.starts_with('/') => Host::Unix(PathBuf::from(h)),
                h => Host::Tcp(h.to_string()),
            })
            .collect(),
    };
    if !addrs.is_empty() && addrs.len() != hosts.len() {
        return Err(format!(
            "{} hosts but {} hostaddr values: give one per host",
            hosts.len(),
            addrs.len()
        ));
    }
    let ports: Vec<u16> = match port {
        None => vec![DEFAULT_PORT],
        Some(list) => list
            .split(',')
            .map(|text| match text.trim() {
                "" => Ok(DEFAULT_PORT),
                t => t
                    .parse::<u16>()
                    .ok()
                    .filter(|&n| n != 0)
                    .ok_or_else(|| format!("invalid port \"{t}\"")),
            })
            .collect::<std::result::Result<_, _>>()?,
    };
    if ports.len() != 1 && ports.len() != hosts.len() {
        return Err(format!(
            "{} hosts but {} ports: give one port, or one per host",
            hosts.len(),
            ports.len()
        ));
    }
    Ok(hosts
        .into_iter()
        .enumerate()
        .map(|(i, host)| Endpoint {
            host,
            hostaddr: addrs.get(i).copied().flatten(),
            port: ports[if ports.len() == 1 { 0 } else { i }],
        })
        .collect())
}

/// Seconds, as libpq writes keepalive intervals.
fn seconds(keyword: &str, value: Option<String>) -> std::result::Result<Option<Duration>, String> {
    value
        .map(|v| {
            v.parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| format!("invalid {keyword} \"{v}\""))
        })
        .transpose()
}

fn describe_tls(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!("TLS certificate not valid for this host name (sslmode=verify-full): {e}"),
        rustls::Error::InvalidCertificate(_) => format!("TLS certificate not trusted: {e}"),
        _ => format!("TLS handshake failed: {e}"),
    }
}

/// Percent-encodes what cannot appear literally in a URL's user, host or path.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes a URL component; the result must be UTF-8.
fn decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("invalid percent-encoding in the URL")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-encoding in the URL is not UTF-8".to_string())
}

/// `[user[:password]@][host][:port][/dbname][?keyword=value&…]`, after the scheme.
fn parse_url(rest: &str) -> std::result::Result<Params, String> {
    let mut p = Params::default();
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = main.split_once('/').unwrap_or((main, ""));
    // The last '@': an unencoded '@' in a password is a common slip, and cannot be in a host.
    let hostport = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, pw)) => (u, Some(pw)),
                None => (userinfo, None),
            };
            p.set("user", decode(user)?)?;
            if let Some(pw) = password {
                p.set("password", decode(pw)?)?;
            }
            hostport
        }
        None => authority,
    };
    // Several servers: `host1:port1,host2,[::1]:port3`.
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for one in hostport.split(',') {
        let (host, port) = if let Some(bracketed) = one.strip_prefix('[') {
            let (addr, after) = bracketed
                .split_once(']')
                .ok_or("unterminated [ in the URL's host")?;
            let port = match after {
                "" => None,
                a => Some(
                    a.strip_prefix(':')
                        .ok_or("junk after ] in the URL's host")?,
                ),
            };
            (addr.to_string(), port)
        } else {
            match one.split_once(':') {
                Some((h, port)) => (decode(h)?, Some(port)),
                None => (decode(one)?, None),
            }
        };
        if host.contains(',') {
            return Err("a host name cannot contain a comma".to_string());
        }
        hosts.push(host);
        ports.push(port.map(decode).transpose()?);
    }
    p.set("host", hosts.join(","))?;
    if ports.iter().any(Option::is_some) {
        let ports: Vec<String> = ports.into_iter().map(Option::unwrap_or_default).collect();
        p.set("port", ports.join(","))?;
    }
    p.set("dbname", decode(path)?)?;
    for pair in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            format!(
                "URL parameter \"{}\" has no value",
                decode(pair).unwrap_or_default()
            )
        })?;
        let k = decode(k)?;
        // libpq accepts JDBC's ssl=true as sslmode=require.
        if k == "ssl" && v == "true" {
            p.set("sslmode", "require".to_string())?;
            continue;
        }
        p.set(&k, decode(v)?)?;
    }
    Ok(p)
}

/// libpq's `keyword = value …`, values optionally in single quotes, `\` escaping the next
/// character.
fn parse_keywords(s: &str) -> std::result::Result<Params, String> {
    let mut p = Params::default();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut keyword = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            keyword.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("missing \"=\" after \"{keyword}\""));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated quoted value for \"{keyword}\"")),
                    Some('\'') => break,
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => {
                            return Err(format!("unterminated quoted value for \"{keyword}\""));
                        }
                    },
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        value.push(next);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        p.set(&keyword, value)?;
    }
    Ok(p)
}

/// The password for this connection from a libpq password file, honouring libpq's rule that a
/// file others can read (or that is not a plain file) is ignored, with its warning.
fn read_pgpass(file: &Path, host: &str, port: u16, dbname: &str, user: &str) -> Option<Secret> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() {
        eprintln!(
            "WARNING: password file \"{}\" is not a plain file",
            file.display()
        );
        return None;
    }
    if meta.permissions().mode() & 0o077 != 0 {
        eprintln!(
            "WARNING: password file \"{}\" has group or world access; permissions should be \
             u=rw (0600) or less",
            file.display()
        );
        return None;
    }
    let text = std::fs::read(file).ok()?;
    pgpass_lookup(&String::from_utf8_lossy(&text), host, port, dbname, user)
}

/// The first line of a password file that matches: `host:port:database:user:password`, a bare
/// `*` matching anything in the first four fields, `\` escaping the next character (`\:`,
/// `\\`, and `\*` for a literal star), and the password ending at the next unescaped `:`, all
/// as libpq reads it.
fn pgpass_lookup(text: &str, host: &str, port: u16, dbname: &str, user: &str) -> Option<Secret> {
    let port = port.to_string();
    let wanted = [host, port.as_str(), dbname, user];
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass_line(line)?;
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field.wildcard || field.text == want);
            matches.then(|| Secret(fields[4].text.clone()))
        })
}

/// One field of a password file line, unescaped.
#[derive(Default)]
struct PgpassField {
    text: String,
    /// Written as a bare `*`.
    wildcard: bool,
    escaped: bool,
}

/// The five fields of a password file line; None when it has fewer.
fn split_pgpass_line(line: &str) -> Option<[PgpassField; 5]> {
    let mut fields = vec![PgpassField::default()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        let count = fields.len();
        let current = fields.last_mut().expect("never empty");
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.text.push(next);
                    current.escaped = true;
                }
            }
            ':' if count == 5 => break,
            ':' => fields.push(PgpassField::default()),
            c => current.text.push(c),
        }
    }
    let keys = fields.len().min(4);
    for f in &mut fields[..keys] {
        f.wildcard = f.text == "*" && !f.escaped;
    }
    fields.try_into().ok()
}

/// sslmode allow/prefer/require: no certificate check (as libpq), but the handshake signatures
/// are still verified, so the session is at least bound to the certificate the server sent.
#[derive(Debug)]
struct NoCertificateCheck(Arc<CryptoProvider>);

impl ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// sslmode verify-ca: the chain must lead to a trusted root, but the name in the certificate
/// is not compared with the host. webpki checks the name only after the chain has verified,
/// so a name mismatch is the one error that can be forgiven here.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// What a catalog connection sets at start-up unless its own options say otherwise: a statement
/// stuck behind a lock (someone's open transaction, a VACUUM FULL) ends in an error after
/// five minutes, far beyond any query on a 100-million-package fleet, instead of hanging a
/// cron job. And no JIT compilation: opskit's queries follow indexes, and on a fleet-sized
/// table the planner's cost estimates set the JIT off to compile for 10 to 100 ms what then
/// runs for a few (PostgreSQL's own advice for short queries).
const CATALOG_OPTIONS: &str = "-c statement_timeout=300s -c jit=off";

/// Opens the catalog connection a spec names, with the process's environment; returns the
/// client and the spec's display form for messages.
pub(crate) fn connect_catalog(spec: &str) -> Result<(postgres::Client, String)> {
    let mut parsed = PgSpec::parse(spec, &PgEnv::process())?;
    // Sent with the start-up message, before the connection's own options, which may set
    // another value (PostgreSQL applies the start-up `-c` settings in order).
    parsed.options = Some(match parsed.options.take() {
        Some(theirs) => format!("{CATALOG_OPTIONS} {theirs}"),
        None => CATALOG_OPTIONS.to_string(),
    });
    let client = parsed.connect(&PgEnv::process())?;
    Ok((client, parsed.redacted()))
}

/// Whether the connection string itself holds a password (one on the command line is
/// refused). A string that does not parse holds none that could be used.
pub(crate) fn spec_has_password(spec: &str) -> bool {
    PgSpec::parse(spec, &PgEnv::from_pairs(&[])).is_ok_and(|p| p.has_password())
}

/// Connects with an environment made of `env` only and says who the session is and whether it
/// is encrypted: `user=NAME tls=true`. For the integration tests.
pub(crate) fn check_connection(spec: &str, env: &[(&str, &str)]) -> Result<String> {
    let env = PgEnv::from_pairs(env);
    let parsed = PgSpec::parse(spec, &env)?;
    let mut client = parsed.connect(&env)?;
    let row = client
        .query_one(
            "SELECT current_user::text, \
             coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
            &[],
        )
        .map_err(|e| {
            Error::new(
                ErrorKind::Catalog,
                format!("catalog {}: {}", parsed.redacted(), parsed.describe(&e)),
            )
        })?;
    let user: String = row.get(0);
    let tls: bool = row.get(1);
    Ok(format!("user={user} tls={tls}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> PgEnv {
        PgEnv::from_pairs(&[("USER", "alice"), ("HOME", "/nonexistent")])
    }

    fn parse(s: &str) -> PgSpec {
        PgSpec::parse(s, &env()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn parse_err(s: &str) -> String {
        PgSpec::parse(s, &env()).unwrap_err().to_string()
    }

    #[test]
    fn specs_are_told_from_paths() {
        for yes in [
            "postgres://db/x",
            "postgresql://",
            "host=db dbname=opskit user=x",
            "dbname=opskit",
            "  host = db",
            "sslmode=require host=db",
        ] {
            assert!(is_postgres_spec(yes), "{yes}");
        }
        for no in [
            "./a=b.db",
            "a=b.db",
            "/var/lib/opskit/catalog.db",
            "catalog.db",
            "hostname=x",
            "host",
            "",
            "postgres:/x",
            "~/host=db",
        ] {
            assert!(!is_postgres_spec(no), "{no}");
        }
    }

    #[test]
    fn url_with_everything() {
        let s = parse(
            "postgresql://bob:s%40cret@db.example.com:5433/inv%20db?sslmode=verify-full&connect_timeout=3&application_name=cron",
        );
        assert_eq!(s.endpoints[0].host, Host::Tcp("db.example.com".into()));
        assert_eq!(s.endpoints[0].port, 5433);
        assert_eq!(s.user, "bob");
        assert_eq!(s.dbname, "inv db");
        assert_eq!(s.password, Some(Secret("s@cret".into())));
        assert_eq!(s.sslmode, SslMode::VerifyFull);
        assert_eq!(s.connect_timeout, Duration::from_secs(3));
        assert_eq!(s.application_name, "cron");
        assert!(s.has_password());
    }

    #[test]
    fn url_defaults_ipv6_and_sockets() {
        let s = parse("postgres://");
        assert_eq!(s.endpoints[0].host, Host::Unix(DEFAULT_SOCKET_DIR.into()));
        assert_eq!(
            (s.endpoints[0].port, s.user.as_str(), s.dbname.as_str()),
            (5432, "alice", "alice")
        );
        assert_eq!(s.sslmode, SslMode::Prefer);
        assert_eq!(s.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(s.application_name, "opskit");
        assert!(!s.has_password());

        let s = parse("postgres://u@[::1]:6000/d");
        assert_eq!(s.endpoints[0].host, Host::Tcp("::1".into()));
        assert_eq!(s.endpoints[0].port, 6000);
        assert_eq!(s.redacted(), "postgres://u@[::1]:6000/d");

        let s = parse("postgresql://%2Frun%2Fpostgresql/db");
        assert_eq!(s.endpoints[0].host, Host::Unix("/run/postgresql".into()));
        assert_eq!(s.redacted(), "postgres://alice@%2Frun%2Fpostgresql:5432/db");

        let s = parse("postgresql:///db?host=/tmp/sock&port=5444");
        assert_eq!(s.endpoints[0].host, Host::Unix("/tmp/sock".into()));
        assert_eq!(s.endpoints[0].port, 5444);
    }

    #[test]
    fn bad_urls_are_refused_clearly() {
        assert!(parse_err("postgres://h:notaport/d").contains("invalid port \"notaport\""));
        assert!(parse_err("postgres://h/d?sslmode=maybe").contains("invalid sslmode"));
        assert!(
            parse_err("postgres://h/d?frobnicate=1")
                .contains("unknown connection option \"frobnicate\"")
        );
        assert!(parse_err("postgres://h/d?sslcert=x").contains("\"sslcert\" is not supported"));
        assert!(parse_err("postgres://[::1/d").contains("unterminated ["));
        assert!(parse_err("postgres://h%zz/d").contains("percent-encoding"));
        assert!(parse_err("postgres://h/d?connect_timeout=soon").contains("connect_timeout"));
    }

    #[test]
    fn keyword_values_with_quotes_and_escapes() {
        let s = parse(
            r"host=db.internal port = 5999 dbname='my db' user=o\'neil password='it\'s \\ secret' sslmode=require",
        );
        assert_eq!(s.endpoints[0].host, Host::Tcp("db.internal".into()));
        assert_eq!(s.endpoints[0].port, 5999);
        assert_eq!(s.dbname, "my db");
        assert_eq!(s.user, "o'neil");
        assert_eq!(s.password, Some(Secret(r"it's \ secret".into())));
        assert_eq!(s.sslmode, SslMode::Require);

        let s = parse(
            "host=/run/postgresql dbname=x options='-c statement_timeout=5s' target_session_attrs=read-write keepalives=1 keepalives_idle=30",
        );
        assert_eq!(s.endpoints[0].host, Host::Unix("/run/postgresql".into()));
        assert_eq!(s.options.as_deref(), Some("-c statement_timeout=5s"));
        assert_eq!(s.target_session_attrs, Some(TargetSessionAttrs::ReadWrite));
        assert_eq!(s.keepalives_idle, Some(Duration::from_secs(30)));
    }

    #[test]
    fn bad_keyword_values_are_refused_clearly() {
        assert!(parse_err("host=db bogus=1").contains("unknown connection option \"bogus\""));
        assert!(parse_err("host=db dbname").contains("missing \"=\" after \"dbname\""));
        assert!(parse_err("host=db dbname='x").contains("unterminated quoted value"));
        assert!(parse_err("host=db gssencmode=require").contains("not supported"));
        assert!(parse_err("host=db target_session_attrs=primary").contains("target_session_attrs"));
        // The spec is never echoed: it may hold a password.
        let e = parse_err("host=db password=hunter2 bogus=1");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn environment_fills_what_the_spec_leaves_out() {
        let env = PgEnv::from_pairs(&[
            ("PGHOST", "envhost"),
            ("PGPORT", "6543"),
            ("PGUSER", "envuser"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "verify-ca"),
            ("PGSSLROOTCERT", "/etc/ca.pem"),
            ("PGCONNECT_TIMEOUT", "1"),
            ("PGAPPNAME", "envapp"),
            ("USER", "alice"),
        ]);
        let s = PgSpec::parse("dbname=given", &env).unwrap();
        assert_eq!(s.endpoints[0].host, Host::Tcp("envhost".into()));
        assert_eq!(s.endpoints[0].port, 6543);
        assert_eq!(s.user, "envuser");
        assert_eq!(s.dbname, "given");
        assert_eq!(s.sslmode, SslMode::VerifyCa);
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        // libpq's floor of 2 s.
        assert_eq!(s.connect_timeout, Duration::from_secs(2));
        assert_eq!(s.application_name, "envapp");
        let s = PgSpec::parse("postgres://h", &env).unwrap();
        assert_eq!(s.dbname, "envdb");
        // The database defaults to the user name.
        let s = PgSpec::parse("postgres://bob@h", &PgEnv::from_pairs(&[])).unwrap();
        assert_eq!(s.dbname, "bob");
        // PGPORT that is not a port is an error, not 5432.
        assert!(
            PgSpec::parse(
                "host=h",
                &PgEnv::from_pairs(&[("PGPORT", "x"), ("USER", "a")])
            )
            .is_err()
        );
    }

    #[test]
    fn password_sources_in_libpq_order() {
        let dir = tempfile::tempdir().unwrap();
        let pgpass = dir.path().join("pgpass");
        std::fs::write(&pgpass, "*:*:*:*:fromfile\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = pgpass.to_str().unwrap();
        let with = |pairs: &[(&str, &str)], spec: &str| {
            let env = PgEnv::from_pairs(pairs);
            let s = PgSpec::parse(spec, &env).unwrap();
            s.password(&s.endpoints[0], &env).map(|s| s.0)
        };
        let spec = "host=h user=u";
        assert_eq!(
            with(&[("PGPASSFILE", file)], spec).as_deref(),
            Some("fromfile")
        );
        assert_eq!(
            with(&[("PGPASSFILE", file), ("PGPASSWORD", "fromenv")], spec).as_deref(),
            Some("fromenv")
        );
        assert_eq!(
            with(
                &[("PGPASSWORD", "fromenv")],
                "host=h user=u password=fromspec"
            )
            .as_deref(),
            Some("fromspec")
        );
        assert_eq!(
            with(
                &[("PGPASSFILE", "/nonexistent")],
                &format!("host=h user=u passfile={file}")
            )
            .as_deref(),
            Some("fromfile")
        );
        // $HOME/.pgpass is the default.
        std::fs::copy(&pgpass, dir.path().join(".pgpass")).unwrap();
        let home = dir.path().to_str().unwrap();
        assert_eq!(with(&[("HOME", home)], spec).as_deref(), Some("fromfile"));
        // Group or world access: ignored.
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(with(&[("PGPASSFILE", file)], spec), None);
        // Not a plain file: ignored.
        assert_eq!(with(&[("PGPASSFILE", home)], spec), None);
    }

    #[test]
    fn pgpass_matching_and_escapes() {
        let text = "# comment\n\
                    other:5432:*:*:wrong-host\n\
                    db:5432:inv:bob:first\n\
                    db:5432:inv:bob:second\n\
                    *:*:*:carol:pw\\:with\\\\colon:and more\n\
                    local\\:host:*:*:dave:escaped-host\n\
                    localhost:5432:*:erin:socket\n\
                    short:line\n\
                    \\*:*:*:frank:literal-star\n";
        let find =
            |h: &str, port: u16, d: &str, u: &str| pgpass_lookup(text, h, port, d, u).map(|s| s.0);
        assert_eq!(find("db", 5432, "inv", "bob").as_deref(), Some("first"));
        assert_eq!(find("db", 5433, "inv", "bob"), None);
        // The password ends at the next unescaped colon.
        assert_eq!(
            find("any", 1, "x", "carol").as_deref(),
            Some("pw:with\\colon")
        );
        assert_eq!(
            find("local:host", 1, "x", "dave").as_deref(),
            Some("escaped-host")
        );
        // An escaped star is a literal star, not a wildcard.
        assert_eq!(find("db", 5432, "x", "frank"), None);
        assert_eq!(
            find("*", 5432, "x", "frank").as_deref(),
            Some("literal-star")
        );
        assert_eq!(find("db", 5432, "inv", "nobody"), None);

        // A socket connection matches localhost.
        let s = PgSpec::parse("host=/run/postgresql user=erin", &env()).unwrap();
        assert_eq!(
            pgpass_lookup(
                text,
                &s.endpoints[0].pgpass_host(),
                s.endpoints[0].port,
                &s.dbname,
                &s.user
            )
            .map(|s| s.0)
            .as_deref(),
            Some("socket")
        );
    }

    #[test]
    fn passwords_never_show() {
        for spec in [
            "postgresql://opskit:hunter2@db:5432/opskit",
            "host=db user=opskit password=hunter2 dbname=opskit",
        ] {
            let s = parse(spec);
            assert_eq!(s.redacted(), "postgres://opskit@db:5432/opskit");
            assert!(!format!("{s:?}").contains("hunter2"), "{s:?}");
            assert!(!s.redacted().contains("hunter2"));
        }
        let env = PgEnv::from_pairs(&[("PGPASSWORD", "hunter2")]);
        assert!(!format!("{env:?}").contains("hunter2"));
    }

    #[test]
    fn several_servers_as_libpq_reads_them() {
        let shown = |spec: &str| {
            let s = parse(spec);
            s.endpoints
                .iter()
                .map(|e| format!("{:?} {:?} {}", e.host, e.hostaddr, e.port))
                .collect::<Vec<_>>()
        };
        // One port for all, or one per host; an empty entry is the default.
        assert_eq!(
            shown("host=db1,db2 port=6000 user=u"),
            [r#"Tcp("db1") None 6000"#, r#"Tcp("db2") None 6000"#]
        );
        assert_eq!(
            shown("host=db1,/run/pg,db3 port=6000,,6002 user=u"),
            [
                r#"Tcp("db1") None 6000"#,
                r#"Unix("/run/pg") None 5432"#,
                r#"Tcp("db3") None 6002"#
            ]
        );
        assert_eq!(
            shown("host=a,b hostaddr=10.0.0.1,10.0.0.2 user=u"),
            [
                r#"Tcp("a") Some(10.0.0.1) 5432"#,
                r#"Tcp("b") Some(10.0.0.2) 5432"#
            ]
        );
        // URLs: each host its own port, IPv6 in brackets, a port given for some only.
        assert_eq!(
            shown("postgres://u@db1:6000,[::1]:6001,db3/x?target_session_attrs=read-write"),
            [
                r#"Tcp("db1") None 6000"#,
                r#"Tcp("::1") None 6001"#,
                r#"Tcp("db3") None 5432"#
            ]
        );
        assert_eq!(
            parse("postgresql://u:pw@db1,db2:6001/x").redacted(),
            "postgres://u@db1:5432,db2:6001/x"
        );
        // PGHOST and PGPORT may be lists too.
        let env = PgEnv::from_pairs(&[("PGHOST", "e1,e2"), ("PGPORT", "7001,7002")]);
        let s = PgSpec::parse("user=u", &env).unwrap();
        assert_eq!(s.redacted(), "postgres://u@e1:7001,e2:7002/u");

        assert!(parse_err("host=a,b,c port=1,2 user=u").contains("3 hosts but 2 ports"));
        assert!(parse_err("host=a,b hostaddr=10.0.0.1 user=u").contains("2 hosts but 1 hostaddr"));
        assert!(parse_err("host=a,b port=1,x user=u").contains("invalid port \"x\""));
        assert!(parse_err("postgres://u@a:1,[::1/x").contains("unterminated ["));
    }

    #[test]
    fn each_server_gets_its_own_password_file_line() {
        let dir = tempfile::tempdir().unwrap();
        let pgpass = dir.path().join("pgpass");
        std::fs::write(&pgpass, "db1:5432:*:u:one\ndb2:6000:*:u:two\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let env = PgEnv::from_pairs(&[("PGPASSFILE", pgpass.to_str().unwrap())]);
        let s = PgSpec::parse("postgres://u@db1,db2:6000,db3/x", &env).unwrap();
        let passwords: Vec<Option<String>> = s
            .endpoints
            .iter()
            .map(|e| s.password(e, &env).map(|p| p.0))
            .collect();
        assert_eq!(
            passwords,
            [Some("one".to_string()), Some("two".to_string()), None]
        );
    }

    #[test]
    fn several_refusing_servers_are_each_named_in_one_line() {
        let closed = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (a, b) = (closed(), closed());
        let env = env();
        let s = PgSpec::parse(
            &format!(
                "postgres://opskit:hunter2@127.0.0.1:{a},127.0.0.1:{b}/opskit?sslmode=disable"
            ),
            &env,
        )
        .unwrap();
        let Err(e) = s.connect(&env) else {
            panic!("connected to a closed port");
        };
        assert_eq!(
            e.to_string(),
            format!(
                "catalog postgres://opskit@127.0.0.1:{a},127.0.0.1:{b}/opskit: \
                 127.0.0.1:{a}: connection refused; 127.0.0.1:{b}: connection refused"
            )
        );
    }

    #[test]
    fn a_refused_connection_names_the_target_only() {
        // A port nothing listens on: bind one, note it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let env = env();
        let s = PgSpec::parse(
            &format!("postgres://opskit:hunter2@127.0.0.1:{port}/opskit?sslmode=disable"),
            &env,
        )
        .unwrap();
        let Err(e) = s.connect(&env) else {
            panic!("connected to a closed port");
        };
        let e = e.to_string();
        assert_eq!(
            e,
            format!("catalog postgres://opskit@127.0.0.1:{port}/opskit: connection refused")
        );
    }
}
