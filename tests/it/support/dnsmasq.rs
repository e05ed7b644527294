//! A real dnsmasq on 127.0.0.1 at a free port, serving only the records it is given: the DNS
//! server whatis-ip and whatis-host ask.

use std::net::{Ipv4Addr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::peer::Peer;
use super::require;

/// A running dnsmasq; dropping it stops it.
pub struct Dnsmasq {
    peer: Peer,
    _dir: TempDir,
}

impl Dnsmasq {
    /// Starts dnsmasq with `--host-record`, `--cname` and `--ptr-record` style options.
    pub fn start(records: &[&str]) -> Dnsmasq {
        Dnsmasq::start_with_hosts(records, "")
    }

    /// Starts dnsmasq with options and a hosts file (`ADDRESS NAME…` lines, which give both
    /// the forward records and the PTRs, several addresses per name allowed).
    pub fn start_with_hosts(records: &[&str], hosts_file: &str) -> Dnsmasq {
        require("dnsmasq", "dnsmasq-base");
        let dir = tempfile::tempdir().unwrap();
        let hosts = dir.path().join("hosts");
        std::fs::write(&hosts, hosts_file).unwrap();
        let peer = Peer::udp(Ipv4Addr::LOCALHOST)
            .patience(Duration::from_secs(5))
            .start(
                |port| {
                    let mut cmd = Command::new("dnsmasq");
                    cmd.arg("--keep-in-foreground")
                        .arg(format!("--port={port}"))
                        .args([
                            "--listen-address=127.0.0.1",
                            "--bind-interfaces",
                            "--no-resolv",
                            "--no-hosts",
                        ])
                        .arg(format!("--addn-hosts={}", hosts.display()))
                        .args([
                            "--pid-file=",
                            "--user=root",
                            "--group=root",
                            "--conf-file=/dev/null",
                        ])
                        .args(records);
                    cmd
                },
                // The port is taken and the taker answers DNS (the peer then checks that ours
                // still runs: a dnsmasq that lost the port to another exits).
                |probe| {
                    UdpSocket::bind((Ipv4Addr::LOCALHOST, probe.port)).is_err()
                        && answers_dns(probe.port)
                },
            );
        Dnsmasq { peer, _dir: dir }
    }

    /// `127.0.0.1:PORT`, for `--dns-server`.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.peer.port())
    }
}

/// Whether a DNS server answers on 127.0.0.1:`port`: one query (A of probe.opskit.invalid),
/// any reply that carries its ID.
fn answers_dns(port: u16) -> bool {
    let Ok(socket) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_millis(500)));
    // Header: ID 0x6f70, RD, one question; then the name, type A, class IN.
    let mut query = vec![0x6f, 0x70, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["probe", "opskit", "invalid"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    if socket.send_to(&query, (Ipv4Addr::LOCALHOST, port)).is_err() {
        return false;
    }
    let mut reply = [0u8; 512];
    matches!(socket.recv(&mut reply), Ok(n) if n >= 12 && reply[..2] == query[..2] && reply[2] & 0x80 != 0)
}
