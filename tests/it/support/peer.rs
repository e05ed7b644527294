//! A real server process the tests talk to (dnsmasq, snmpsim, snmpd, moto, sshd, the
//! misbehaving SNMP agent): started on a port that was free a moment ago, waited for until the
//! caller's readiness probe says it answers, and killed and reaped when dropped.
//!
//! Every peer starts the same way, so the races are handled once: between picking a free port
//! and the server binding it another process can take it, so a server that exits, or is not
//! ready in time, is killed and started again on another port. A server that never becomes
//! ready fails the test with its command line and everything it printed.

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How many ports a peer is tried on before the test gives up.
const ATTEMPTS: usize = 5;

/// How often the readiness probe is asked.
const POLL: Duration = Duration::from_millis(20);

/// A UDP port on 127.0.0.1 that nothing listens on right now.
pub fn free_udp_port() -> u16 {
    free_port(Transport::Udp, Ipv4Addr::LOCALHOST.into())
}

/// The transport a peer listens on, for picking a port that is free on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

/// A port on `address` that was free a moment ago.
pub fn free_port(transport: Transport, address: IpAddr) -> u16 {
    match transport {
        Transport::Tcp => TcpListener::bind((address, 0)).unwrap().local_addr(),
        Transport::Udp => UdpSocket::bind((address, 0)).unwrap().local_addr(),
    }
    .unwrap()
    .port()
}

/// What a readiness probe can look at while the peer starts.
pub struct Probe<'a> {
    /// The port the peer was told to listen on.
    pub port: u16,
    log: &'a Path,
}

impl Probe<'_> {
    /// Everything the peer printed so far, stdout and stderr together.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.log).unwrap_or_default()
    }
}

/// How to start a peer: see [`Peer::tcp`] and [`Peer::udp`].
pub struct Launch {
    transport: Transport,
    address: IpAddr,
    patience: Duration,
}

impl Launch {
    /// How long one attempt may take to become ready (default 10 s). Python servers need more
    /// on a busy machine: they import a lot before they bind.
    pub fn patience(mut self, patience: Duration) -> Launch {
        self.patience = patience;
        self
    }

    /// Spawns `command(port)` with stdout and stderr going to a file, and returns once
    /// `ready` says yes while the process still runs (a server that lost its port to another
    /// process may answer through the other one and then exit). Panics with the command and its
    /// output when no attempt becomes ready.
    pub fn start(
        self,
        mut command: impl FnMut(u16) -> Command,
        mut ready: impl FnMut(&Probe<'_>) -> bool,
    ) -> Peer {
        let dir = tempfile::Builder::new().prefix("peer").tempdir().unwrap();
        let log = dir.path().join("output");
        let mut failures = Vec::new();
        for _attempt in 0..ATTEMPTS {
            let port = free_port(self.transport, self.address);
            let mut cmd = command(port);
            let out = File::create(&log).unwrap();
            cmd.stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out);
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
            let probe = Probe { port, log: &log };
            let deadline = Instant::now() + self.patience;
            let why = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break format!("exited ({status})");
                }
                if ready(&probe) && child.try_wait().unwrap().is_none() {
                    return Peer {
                        child,
                        port,
                        _dir: dir,
                    };
                }
                if Instant::now() > deadline {
                    break format!("not ready after {:?}", self.patience);
                }
                std::thread::sleep(POLL);
            };
            let _ = child.kill();
            let _ = child.wait();
            failures.push(format!(
                "{cmd:?}: {why}; its output:\n{}",
                probe.output().trim_end()
            ));
        }
        panic!(
            "a test peer never became ready ({ATTEMPTS} attempts):\n{}",
            failures.join("\n")
        );
    }
}

/// A running server; dropping it kills and reaps it.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    port: u16,
    /// Holds its output file until it stops.
    _dir: TempDir,
}

impl Peer {
    /// A peer listening on a TCP port that is free on `address`.
    pub fn tcp(address: impl Into<IpAddr>) -> Launch {
        Peer::launch(Transport::Tcp, address.into())
    }

    /// A peer listening on a UDP port that is free on `address` (a peer serving several
    /// addresses at one port is retried when the port is taken on another).
    pub fn udp(address: impl Into<IpAddr>) -> Launch {
        Peer::launch(Transport::Udp, address.into())
    }

    fn launch(transport: Transport, address: IpAddr) -> Launch {
        Launch {
            transport,
            address,
            patience: Duration::from_secs(10),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pid of the process started (which may have children of its own).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped process.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
