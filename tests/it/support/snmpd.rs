//! A real net-snmp agent (Debian `snmpd`) on loopback addresses at a free port, with SNMPv3
//! users made from `createUser` lines, for the privacy protocols snmpsim does not play faithfully
//! (DES). It serves this machine's own system group and IF-MIB.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

use super::peer::Peer;
use super::require;

/// One SNMPv3 user: name, auth protocol and pass phrase, privacy protocol and pass phrase, in
/// net-snmp's spelling (`SHA`, `MD5`; `DES`, `AES`, `AES192`, `AES256`).
pub struct SnmpdUser<'a> {
    pub name: &'a str,
    pub auth: (&'a str, &'a str),
    pub privacy: Option<(&'a str, &'a str)>,
}

/// A running snmpd; dropping it stops it.
pub struct Snmpd {
    peer: Peer,
    _dir: TempDir,
}

impl Snmpd {
    /// Starts snmpd on port PORT of each loopback `address` (so that each can play one device)
    /// with these users (read-only, at the security level their keys allow) and `sysName` set
    /// to `sys_name`.
    pub fn start(users: &[SnmpdUser<'_>], sys_name: &str, addresses: &[&str]) -> Snmpd {
        let program = PathBuf::from("/usr/sbin/snmpd");
        if !program.is_file() {
            require("snmpd", "snmpd");
        }
        let dir = tempfile::Builder::new().prefix("snmpd").tempdir().unwrap();
        let mut conf = format!("sysName {sys_name}\nsysLocation opskit test rack\n");
        for u in users {
            let (auth, auth_key) = u.auth;
            match u.privacy {
                Some((p, pk)) => {
                    conf.push_str(&format!(
                        "createUser {} {auth} \"{auth_key}\" {p} \"{pk}\"\nrouser {} priv\n",
                        u.name, u.name
                    ));
                }
                None => conf.push_str(&format!(
                    "createUser {} {auth} \"{auth_key}\"\nrouser {} auth\n",
                    u.name, u.name
                )),
            }
        }
        let conf_path = dir.path().join("snmpd.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let empty_mibs = dir.path().join("mibs");
        std::fs::create_dir_all(&empty_mibs).unwrap();
        let first: std::net::IpAddr = addresses[0].parse().unwrap();
        let peer = Peer::udp(first).start(
            |port| {
                let mut cmd = Command::new(&program);
                // -f: foreground; -C: no other configuration files; -Le: log to stderr, which
                // the peer keeps; -M/-m: no MIB files, whose parse warnings would only fill
                // the log.
                cmd.args(["-f", "-C", "-Le", "-c"])
                    .arg(&conf_path)
                    .arg("-p")
                    .arg(dir.path().join("snmpd.pid"))
                    .arg(format!(
                        "--persistentDir={}",
                        dir.path().join("persist").display()
                    ))
                    .arg("-M")
                    .arg(&empty_mibs)
                    .args(["-m", ""])
                    .arg(
                        addresses
                            .iter()
                            .map(|a| format!("udp:{a}:{port}"))
                            .collect::<Vec<_>>()
                            .join(","),
                    );
                cmd
            },
            // It logs its version once it has bound every address.
            |probe| {
                probe.output().contains("NET-SNMP version")
                    && UdpSocket::bind((first, probe.port)).is_err()
            },
        );
        Snmpd { peer, _dir: dir }
    }

    /// `ADDRESS:PORT` of the agent at a loopback address.
    pub fn at(&self, address: &str) -> String {
        format!("{address}:{}", self.peer.port())
    }
}
