//! A real net-snmp agent (Debian `snmpd`) on 127.0.0.1 at a free port, with SNMPv3 users made
//! from `createUser` lines, for the privacy protocols snmpsim does not play faithfully (DES).
//! It serves this machine's own system group and IF-MIB.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{free_udp_port, require};

/// One SNMPv3 user: name, auth protocol and pass phrase, privacy protocol and pass phrase, in
/// net-snmp's spelling (`SHA`, `MD5`; `DES`, `AES`, `AES192`, `AES256`).
pub struct SnmpdUser<'a> {
    pub name: &'a str,
    pub auth: (&'a str, &'a str),
    pub privacy: Option<(&'a str, &'a str)>,
}

/// A running snmpd; dropping it stops it.
pub struct Snmpd {
    child: Child,
    pub port: u16,
    pub sys_name: String,
    pub dir: TempDir,
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
        for _attempt in 0..5 {
            let port = free_udp_port();
            let log_path = dir.path().join("snmpd.log");
            let mut child = Command::new(&program)
                // -f: foreground; -C: no other configuration files; -M/-m: no MIB files, whose
                // parse warnings would only fill the log.
                .args(["-f", "-C", "-Lf"])
                .arg(&log_path)
                .arg("-c")
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
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken, or a bad configuration (see the log)
                }
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                if log.contains("NET-SNMP version")
                    && UdpSocket::bind((addresses[0], port)).is_err()
                {
                    return Snmpd {
                        child,
                        port,
                        sys_name: sys_name.to_string(),
                        dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            eprintln!(
                "snmpd did not start:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        panic!("snmpd did not start after 5 attempts");
    }

    /// `ADDRESS:PORT` of the agent at a loopback address.
    pub fn at(&self, address: &str) -> String {
        format!("{address}:{}", self.port)
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
