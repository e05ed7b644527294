//! A real snmpsim (PyPI `snmpsim`, in the test virtualenv) playing switches and routers from
//! `.snmprec` recordings, and what the tests read from those recordings themselves.
//!
//! snmpsim picks the recording by the SNMP v1/v2c community (v3: the context), which is the
//! file's base name: one data directory serves every device, as long as no two recordings
//! share a name.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::peer::Peer;

/// The recordings the tests crawl, real devices' (from LibreNMS) and the project's own
/// topology: `tests/fixtures/snmp/SOURCES.md` says where each comes from.
pub fn recordings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snmp")
}

/// An SNMPv3 user: name, auth protocol, auth key, and privacy protocol and key if any.
type V3User = (
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

/// SNMPv3 users every simulator accepts.
const V3_USERS: &[V3User] = &[
    ("opskit-sha", "SHA", "auctoritas", None),
    ("opskit-aes", "SHA", "auctoritas", Some(("AES", "privatus"))),
    (
        "opskit-md5aes",
        "MD5",
        "auctoritas",
        Some(("AES", "privatus")),
    ),
];

/// A real snmpsim serving the recordings of one directory on one port at each of several
/// loopback addresses, so that each address can play one device. Dropping it stops it.
pub struct Snmpsim {
    peer: Peer,
    _dir: TempDir,
}

impl Snmpsim {
    pub fn start(data_dir: &Path, addresses: &[&str]) -> Snmpsim {
        let venv = std::env::var_os("OPSKIT_TEST_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/var/tmp/opskit-test-venv"));
        let program = venv.join("bin/snmpsim-command-responder");
        assert!(
            program.is_file(),
            "snmpsim is not installed at {}: run scripts/test.sh (it creates that virtualenv)",
            program.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let peer = Peer::udp(Ipv4Addr::LOCALHOST)
            // It imports pysnmp and indexes every recording before it binds.
            .patience(Duration::from_secs(60))
            .start(
                |port| {
                    let mut cmd = Command::new(&program);
                    cmd.arg(format!("--data-dir={}", data_dir.display()));
                    for a in addresses {
                        cmd.arg(format!("--agent-udpv4-endpoint={a}:{port}"));
                    }
                    for (user, auth, auth_key, privacy) in V3_USERS {
                        cmd.arg(format!("--v3-user={user}"))
                            .arg(format!("--v3-auth-key={auth_key}"))
                            .arg(format!("--v3-auth-proto={auth}"));
                        if let Some((proto, key)) = privacy {
                            cmd.arg(format!("--v3-priv-key={key}"))
                                .arg(format!("--v3-priv-proto={proto}"));
                        }
                    }
                    cmd.args(["--process-user=root", "--process-group=root"])
                        .arg(format!(
                            "--cache-dir={}",
                            dir.path().join("cache").display()
                        ));
                    cmd
                },
                |probe| {
                    probe
                        .output()
                        .matches("Listening at UDP/IPv4 endpoint")
                        .count()
                        == addresses.len()
                },
            );
        // The first datagram to a loopback address other than 127.0.0.1 can be lost on this
        // sandbox's network stack, which turns a crawl's first request into a full timeout.
        // One junk datagram per address (snmpsim ignores it) settles that before the tests
        // start.
        let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        for a in addresses {
            let _ = probe.send_to(b"\0", (*a, peer.port()));
        }
        std::thread::sleep(Duration::from_millis(200));
        Snmpsim { peer, _dir: dir }
    }

    /// `ADDRESS:PORT` of the agent at a loopback address.
    pub fn at(&self, address: &str) -> String {
        format!("{address}:{}", self.peer.port())
    }
}

/// The MACs a recording's forwarding tables imply (dot1dTpFdbPort and dot1qTpFdbPort indexes),
/// decoded independently of opskit, from the file itself.
pub fn recorded_fdb_macs(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut macs = BTreeSet::new();
    for line in text.lines() {
        let Some(oid) = line.split('|').next() else {
            continue;
        };
        let arcs: Vec<&str> = if let Some(rest) = oid.strip_prefix("1.3.6.1.2.1.17.4.3.1.2.") {
            rest.split('.').collect()
        } else if let Some(rest) = oid.strip_prefix("1.3.6.1.2.1.17.7.1.2.2.1.2.") {
            rest.split('.').skip(1).collect()
        } else {
            continue;
        };
        let bytes: Vec<String> = arcs
            .iter()
            .map(|a| format!("{:02x}", a.parse::<u8>().unwrap()))
            .collect();
        macs.insert(bytes.join(":"));
    }
    macs
}
