//! `crawl-switches` against real SNMP agents: snmpsim serving recordings of real devices (from
//! LibreNMS, see tests/fixtures/snmp/SOURCES.md) and the project's own, over v2c and v3; net-snmp's
//! snmpd for DES; and agents that misbehave on purpose (the tests' own responder).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};

use crate::support::responder::{Table, Val, load_recordings};
use crate::support::*;

/// The five real recordings, each played by its own loopback address.
pub(crate) const REAL: &[(&str, &str)] = &[
    ("127.0.1.1", "advantech_eki-7712g-4fp"),
    ("127.0.1.2", "XMG1915-10EP"),
    ("127.0.1.3", "ciscosb_c1200-8t-e-2g"),
    ("127.0.1.4", "Cisco_sfe2000"),
    ("127.0.1.5", "alaxala_ax3640s"),
];

pub(crate) fn real_agents() -> Snmpsim {
    let addresses: Vec<&str> = REAL.iter().map(|(a, _)| *a).collect();
    Snmpsim::start(&recordings(), &addresses)
}

pub(crate) fn switches_config(sim: &Snmpsim) -> String {
    REAL.iter()
        .map(|(addr, community)| {
            format!(
                "[[switch]]\naddress = \"{}\"\ncommunity = \"{community}\"\n\n",
                sim.at(addr)
            )
        })
        .collect()
}

/// A number of a recording: an INTEGER or an unsigned type (dot1qPvid is a Gauge32).
fn number(val: &Val) -> Option<i64> {
    match val {
        Val::Int(i) => Some(*i),
        Val::Gauge32(u) | Val::Counter32(u) => Some(i64::from(*u)),
        _ => None,
    }
}

/// A number of a recording, by OID.
fn int_at(table: &Table, oid: &[u32]) -> Option<i64> {
    table.get(oid).and_then(number)
}

/// Text of a recording's OCTET STRING, as a person reads it.
fn text_at(table: &Table, oid: &[u32]) -> Option<String> {
    match table.get(oid) {
        Some(Val::Octets(b)) => Some(
            String::from_utf8_lossy(b)
                .trim_end_matches('\0')
                .to_string(),
        ),
        _ => None,
    }
}

/// The rows of a table column: each row's index arcs with its value.
fn column<'t>(table: &'t Table, prefix: &[u32]) -> impl Iterator<Item = (&'t [u32], &'t Val)> {
    table
        .range(prefix.to_vec()..)
        .take_while(move |(oid, _)| oid.starts_with(prefix))
        .map(move |(oid, val)| (&oid[prefix.len()..], val))
}

const IF_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2];
const IF_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1];
const BASE_PORT_IF_INDEX: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2];
const DOT1Q_PVID: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 5, 1, 1];
const DOT1D_FDB_PORT: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1, 2];
const DOT1Q_FDB_PORT: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2];
const DOT1Q_VLAN_FDB_ID: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, 3];

/// A recording's ports, decoded by the test itself: `IFINDEX NAME DESCR` per ifTable row.
fn recorded_ports(table: &Table) -> BTreeSet<String> {
    column(table, IF_DESCR)
        .map(|(index, _)| {
            let i = index[0];
            let name = text_at(table, &[IF_NAME, &[i]].concat()).unwrap_or("-".into());
            let descr = text_at(table, &[IF_DESCR, &[i]].concat()).unwrap_or("-".into());
            format!("{i} {name} {descr}")
        })
        .collect()
}

/// The ifIndex of a bridge port (dot1dBasePortIfIndex).
fn if_index_of(table: &Table, bridge_port: i64) -> Option<i64> {
    int_at(table, &[BASE_PORT_IF_INDEX, &[bridge_port as u32]].concat())
}

/// A recording's untagged VLAN per port: `IFINDEX PVID` (dot1qPvid is indexed by bridge port).
fn recorded_pvids(table: &Table) -> BTreeSet<String> {
    column(table, DOT1Q_PVID)
        .filter_map(|(index, val)| {
            let vlan = number(val)?;
            let if_index = if_index_of(table, i64::from(index[0]))?;
            Some(format!("{if_index} {vlan}"))
        })
        .collect()
}

/// A recording's forwarding entries: `MAC VLAN IFINDEX`. BRIDGE-MIB entries have no VLAN
/// (`-`); Q-BRIDGE entries are indexed by filtering database, which is the VLAN unless
/// dot1qVlanFdbId maps a VLAN to another one. A port that maps to no interface is `-`.
fn recorded_fdb(table: &Table) -> BTreeSet<String> {
    let mac = |arcs: &[u32]| {
        arcs.iter()
            .map(|a| format!("{a:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let port = |val: &Val| {
        number(val)
            .and_then(|p| if_index_of(table, p))
            .map_or("-".to_string(), |i| i.to_string())
    };
    // dot1qVlanFdbId is indexed by (time mark, VLAN): the FDB id each VLAN uses.
    let vlan_of_fdb: std::collections::BTreeMap<i64, u32> = column(table, DOT1Q_VLAN_FDB_ID)
        .filter_map(|(index, val)| match number(val) {
            Some(fdb) if fdb != 0 => Some((fdb, *index.last()?)),
            _ => None,
        })
        .collect();
    let mut entries: BTreeSet<String> = column(table, DOT1D_FDB_PORT)
        .map(|(index, val)| format!("{} - {}", mac(index), port(val)))
        .collect();
    entries.extend(column(table, DOT1Q_FDB_PORT).map(|(index, val)| {
        let fdb = index[0];
        let vlan = vlan_of_fdb.get(&i64::from(fdb)).copied().unwrap_or(fdb);
        format!("{} {vlan} {}", mac(&index[1..]), port(val))
    }));
    entries
}

#[test]
fn real_recordings_crawl_and_every_forwarding_entry_is_found() {
    let sim = real_agents();
    let env = Env::new();
    let config = write_config(
        &env,
        &format!("[snmp]\ntimeout = 15\n\n{}", switches_config(&sim)),
    );
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    assert_status(&out, 0);
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), "");

    let all = load_recordings(&recordings()).unwrap();
    for (addr, name) in REAL {
        let device = sim.at(addr);
        let recording = &all[*name];
        let rows = |sql: &str| -> BTreeSet<String> {
            env.sql(&sql.replace("{device}", &device))
                .into_iter()
                .collect()
        };
        // Every port, by ifIndex, with its ifName and ifDescr.
        let want = recorded_ports(recording);
        assert!(
            want.len() >= 8,
            "{name}: only {} ports recorded",
            want.len()
        );
        let got = rows(
            "SELECT p.if_index || ' ' || coalesce(p.name, '-') || ' ' || coalesce(p.descr, '-') \
             FROM device_ports p JOIN devices d ON d.id = p.device_id \
             WHERE d.address = '{device}' AND p.current = 1",
        );
        assert_eq!(got, want, "{name}: ports");
        // Each port's untagged VLAN (dot1qPvid), where the recording has one.
        let got = rows(
            "SELECT p.if_index || ' ' || p.pvid \
             FROM device_ports p JOIN devices d ON d.id = p.device_id \
             WHERE d.address = '{device}' AND p.current = 1 AND p.pvid IS NOT NULL",
        );
        assert_eq!(got, recorded_pvids(recording), "{name}: port VLANs");
        // Every forwarding entry: MAC, VLAN and the port it was learned on.
        let want = recorded_fdb(recording);
        let got = rows(
            "SELECT f.mac || ' ' || coalesce(CAST(f.vlan AS TEXT), '-') || ' ' || coalesce(CAST(f.if_index AS TEXT), '-') \
             FROM fdb_entries f JOIN devices d ON d.id = f.device_id \
             WHERE d.address = '{device}' AND f.current = 1",
        );
        assert_eq!(got, want, "{name}: forwarding entries");
        let macs: BTreeSet<String> = want
            .iter()
            .map(|e| e.split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(
            macs,
            recorded_fdb_macs(&recordings().join(format!("{name}.snmprec"))),
            "{name}"
        );
        // Cisco_sfe2000's recording holds no forwarding entry (neither BRIDGE-MIB's nor
        // Q-BRIDGE-MIB's table has a row): it is checked on its ports and VLANs, and on not
        // inventing entries. Every other device must have real entries to compare.
        if *name == "Cisco_sfe2000" {
            assert!(want.is_empty(), "{name}: the recording has entries now");
        } else {
            assert!(want.len() >= 5, "{name}: only {} entries", want.len());
        }
    }
    let count = |sql: &str| env.sql(sql)[0].clone();
    // Catalyst 1200: one LLDP neighbour on gi8 with its chassis MAC and management address,
    // two ARP entries and one IPv6 neighbour (link-local, zone stripped).
    let c1200 = sim.at("127.0.1.3");
    assert_eq!(
        env.sql(&format!(
            "SELECT n.chassis_id || ' ' || n.port_id || ' ' || p.name || ' ' || n.mgmt_address \
             FROM neighbors n JOIN devices d ON d.id = n.device_id \
             JOIN device_ports p ON p.device_id = d.id AND p.if_index = n.local_if_index \
             WHERE d.address = '{c1200}'"
        )),
        ["94:18:65:7f:88:89 g8 gi8 192.168.0.5"]
    );
    let arp: BTreeSet<String> = env
        .sql(&format!(
            "SELECT a.address || ' ' || a.mac FROM arp_entries a JOIN devices d ON d.id = a.device_id \
             WHERE d.address = '{c1200}'"
        ))
        .into_iter()
        .collect();
    assert!(arp.contains("192.168.0.1 10:3c:59:c2:81:2c"), "{arp:?}");
    assert!(arp.contains("192.168.0.6 02:11:32:28:c2:20"), "{arp:?}");
    assert_eq!(
        arp.iter().filter(|a| a.starts_with("fe80::")).count(),
        1,
        "{arp:?}"
    );
    // SFE2000: six LLDP neighbours, four of them with a network-address chassis id.
    let sfe = sim.at("127.0.1.4");
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM neighbors n JOIN devices d ON d.id = n.device_id WHERE d.address = '{sfe}'"
        )),
        "6"
    );
    // XMG1915: FDB id 1 with no VLAN table is VLAN 1; the port-0 entry is the switch itself.
    let xmg = sim.at("127.0.1.2");
    assert_eq!(
        env.sql(&format!(
            "SELECT DISTINCT f.vlan FROM fdb_entries f JOIN devices d ON d.id = f.device_id WHERE d.address = '{xmg}'"
        )),
        ["1"]
    );
    assert_eq!(
        env.sql(&format!(
            "SELECT f.mac FROM fdb_entries f JOIN devices d ON d.id = f.device_id \
             WHERE d.address = '{xmg}' AND f.status = 'self'"
        )),
        ["f4:4d:5c:7b:87:30"]
    );
    // Ports: the C1200's ifName, ifAlias and speed.
    assert_eq!(
        env.sql(&format!(
            "SELECT p.name || '|' || p.alias || '|' || p.speed_mbps || '|' || p.oper_status FROM device_ports p \
             JOIN devices d ON d.id = p.device_id WHERE d.address = '{c1200}' AND p.if_index = 8"
        )),
        ["gi8|Uplink to Netgear|1000|up"]
    );
    if env.backend() == Backend::Sqlite {
        // (PostgreSQL has no whole-database check to ask for; its pages are checksummed.)
        assert_eq!(env.sql("PRAGMA integrity_check"), ["ok"]);
    }
}

#[test]
fn snmpv3_with_authentication_and_privacy() {
    let sim = Snmpsim::start(&recordings(), &["127.0.1.1", "127.0.1.2", "127.0.1.3"]);
    let env = Env::new();
    let config = write_config(
        &env,
        &format!(
            "[snmp]\nversion = \"3\"\ntimeout = 15\nretries = 1\n\n\
             [[switch]]\naddress = \"{}\"\nuser = \"opskit-aes\"\nauth_protocol = \"sha\"\nauth_key = \"auctoritas\"\n\
             priv_protocol = \"aes\"\npriv_key = \"privatus\"\ncontext = \"advantech_eki-7712g-4fp\"\n\n\
             [[switch]]\naddress = \"{}\"\nuser = \"opskit-sha\"\nauth_protocol = \"sha\"\nauth_key = \"auctoritas\"\n\
             context = \"XMG1915-10EP\"\n\n\
             [[switch]]\naddress = \"{}\"\nuser = \"opskit-aes\"\nauth_protocol = \"sha\"\nauth_key = \"auctoritas\"\n\
             priv_protocol = \"aes\"\npriv_key = \"wrong-key!\"\ncontext = \"ciscosb_c1200-8t-e-2g\"\n\
             timeout = 2\nretries = 0\n",
            sim.at("127.0.1.1"),
            sim.at("127.0.1.2"),
            sim.at("127.0.1.3")
        ),
    );
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    // The device with the wrong privacy key fails, alone, on one line; the others are stored.
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("crawl-switches: {}: ", sim.at("127.0.1.3"))),
        "{err}"
    );
    let count = |addr: &str| {
        env.sql(&format!(
            "SELECT count(*) FROM fdb_entries f JOIN devices d ON d.id = f.device_id WHERE d.address = '{}'",
            sim.at(addr)
        ))[0]
            .clone()
    };
    assert_eq!(count("127.0.1.1"), "164");
    assert_eq!(count("127.0.1.2"), "25");
    assert_eq!(count("127.0.1.3"), "0");
    assert_eq!(
        env.sql("SELECT count(*) FROM scans WHERE error IS NOT NULL"),
        ["1"]
    );
}

#[test]
fn unreachable_and_wrong_community_fail_alone_and_quickly() {
    let sim = Snmpsim::start(&recordings(), &["127.0.1.1", "127.0.1.2"]);
    let env = Env::new();
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let wrong = sim.at("127.0.1.2");
    let config = write_config(
        &env,
        &format!(
            "[snmp]\ntimeout = 0.5\nretries = 1\n\n\
             [[switch]]\naddress = \"{}\"\ncommunity = \"advantech_eki-7712g-4fp\"\ntimeout = 15\n\n\
             [[switch]]\naddress = \"{dead}\"\n\n\
             [[switch]]\naddress = \"{wrong}\"\ncommunity = \"wrong\"\n",
            sim.at("127.0.1.1"),
        ),
    );
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    for device in [&dead, &wrong] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!(
                "crawl-switches: {device}: walking 1.3.6.1.2.1.1: no answer"
            ))),
            "{err}"
        );
    }
    assert_eq!(
        env.sql("SELECT count(*) FROM fdb_entries WHERE current = 1"),
        ["164"]
    );
}

#[test]
fn bad_configuration_and_addresses_are_usage_errors() {
    let env = Env::new();
    let out = env.run(tool!("crawl-switches"), &[]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("nothing to crawl"),
        "{}",
        stderr(&out)
    );
    let out = env.run(tool!("crawl-switches"), &["no such host.invalid"]);
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).starts_with("crawl-switches: bad switch address \"no such host.invalid\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let config = write_config(
        &env,
        "[[switch]]\naddress = \"127.0.0.1\"\nversion = \"3\"\n",
    );
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("SNMPv3 needs a user"),
        "{}",
        stderr(&out)
    );
    // A community in a world-readable config is refused before anything is crawled.
    let config = write_config(&env, "[snmp]\ncommunity = \"s3cret\"\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap(), "127.0.0.1"],
    );
    assert_status(&out, 2);
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
}

#[test]
fn a_forwarding_table_of_100000_entries_crawls_in_bounded_memory() {
    // A recording written for this test: 100,000 learned MACs on 48 bridge ports.
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("1.3.6.1.2.1.1.1.0|4|a very busy switch\n1.3.6.1.2.1.1.5.0|4|big1\n");
    for p in 1..=48 {
        text.push_str(&format!("1.3.6.1.2.1.17.1.4.1.2.{p}|2|{p}\n"));
    }
    for i in 0..100_000u32 {
        text.push_str(&format!(
            "1.3.6.1.2.1.17.4.3.1.2.0.27.{}.{}.{}.1|2|{}\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            i % 48 + 1
        ));
    }
    std::fs::write(dir.path().join("big1.snmprec"), text).unwrap();
    let sim = Snmpsim::start(dir.path(), &["127.0.1.9"]);
    let env = Env::new();
    let config = write_config(
        &env,
        &format!(
            "[snmp]\ntimeout = 20\nmax_repetitions = 100\n\n[[switch]]\naddress = \"{}\"\ncommunity = \"big1\"\n",
            sim.at("127.0.1.9")
        ),
    );
    let (out, peak_kib) = run_measuring_peak_memory(
        env.cmd(tool!("crawl-switches"))
            .args(["--config", config.to_str().unwrap()]),
    );
    assert_status(&out, 0);
    assert_eq!(
        env.sql("SELECT count(*) FROM fdb_entries WHERE current = 1"),
        ["100000"]
    );
    assert!(peak_kib < 256 * 1024, "peak resident memory {peak_kib} KiB");
}

/// A UDP socket on 127.0.0.1 that answers every datagram with bytes that are not SNMP (random
/// bytes, then a SEQUENCE header whose length runs past the end), counting its answers.
struct GarbageAgent {
    port: u16,
    sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl GarbageAgent {
    fn start() -> GarbageAgent {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // Wakes the loop to look at the stop flag; not a bound on anything tested.
        socket
            .set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let sent = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, done) = (Arc::clone(&sent), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 65_536];
            let mut noise: u64 = 0x9e37_79b9_7f4a_7c15;
            while !done.load(AtomicOrdering::SeqCst) {
                let Ok((_, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let mut reply: Vec<u8> = (0..64)
                    .map(|_| {
                        noise ^= noise << 13;
                        noise ^= noise >> 7;
                        noise ^= noise << 17;
                        noise as u8
                    })
                    .collect();
                reply.extend_from_slice(&[0x30, 0x82, 0xff, 0xff]);
                socket.send_to(&reply, peer).unwrap();
                count.fetch_add(1, AtomicOrdering::SeqCst);
            }
        });
        GarbageAgent {
            port,
            sent,
            stop,
            thread,
        }
    }

    /// Stops the socket and returns how many garbage answers it sent.
    fn stop(self) -> usize {
        self.stop.store(true, AtomicOrdering::SeqCst);
        self.thread.join().unwrap();
        self.sent.load(AtomicOrdering::SeqCst)
    }
}

#[test]
fn looping_garbage_and_silent_agents_fail_cleanly() {
    let python = std::env::var_os("OPSKIT_TEST_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("/var/tmp/opskit-test-venv"))
        .join("bin/python3");
    assert!(
        python.is_file(),
        "no {}: run scripts/test.sh",
        python.display()
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents/misbehaving_snmp_agent.py");
    let agent = Peer::udp(std::net::Ipv4Addr::LOCALHOST)
        // It imports pysnmp before it binds.
        .patience(std::time::Duration::from_secs(60))
        .start(
            |port| {
                let mut cmd = std::process::Command::new(&python);
                cmd.arg(&script).arg(port.to_string());
                cmd
            },
            // It prints this line once its socket is bound.
            |probe| probe.output().lines().any(|l| l == "ready"),
        );
    let port = agent.port();

    // The garbage device: a socket of the test's own on 127.0.0.1 (not `localhost`, which may
    // be ::1 where nothing listens) that answers every datagram with bytes that are not SNMP,
    // and counts them, so that the test knows the garbage reached the crawler.
    let garbage = GarbageAgent::start();
    let gport = garbage.port;

    let env = Env::new();
    let config = write_config(
        &env,
        &format!(
            "[snmp]\ntimeout = 1\nretries = 0\n\n\
             [[switch]]\naddress = \"127.0.0.1:{port}\"\ncommunity = \"loop\"\n\n\
             [[switch]]\naddress = \"127.0.0.1:{gport}\"\ncommunity = \"public\"\n"
        ),
    );
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    drop(agent);
    let garbage_sent = garbage.stop();
    assert_status(&out, 1);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "crawl-switches: 127.0.0.1:{port}: walking 1.3.6.1.2.1.1: agent broke the walk"
        ))),
        "{err}"
    );
    // Bytes that are not SNMP are no answer: the client drops what it cannot decode and waits
    // for a real response (as net-snmp does; a datagram that fails to decode cannot be tied to
    // a request, and a forged one must not end it), so the device fails with exactly the
    // no-answer error, after its one request was answered with garbage.
    assert!(
        lines.contains(
            &format!(
                "crawl-switches: 127.0.0.1:{gport}: walking 1.3.6.1.2.1.1: no answer (timeout: \
             unreachable, or wrong community or credentials)"
            )
            .as_str()
        ),
        "{err}"
    );
    assert_eq!(
        garbage_sent, 1,
        "garbage answers sent (retries = 0: one request)"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(env.sql("SELECT count(*) FROM devices"), ["0"]);
    assert_eq!(
        env.sql("SELECT count(*) FROM scans WHERE error IS NOT NULL"),
        ["2"]
    );
}

#[test]
fn snmpv3_des_and_aes_against_a_real_net_snmp_agent() {
    use crate::support::snmpd::{Snmpd, SnmpdUser};
    let user = |name, auth, privacy| SnmpdUser {
        name,
        auth: (auth, "auctoritas"),
        privacy: Some((privacy, "privatus")),
    };
    let agent = Snmpd::start(
        &[
            user("opskit-des", "SHA", "DES"),
            user("opskit-md5des", "MD5", "DES"),
            user("opskit-aes", "SHA", "AES"),
            user("opskit-aes192", "SHA", "AES192"),
            user("opskit-aes256", "SHA", "AES256"),
        ],
        "des-test-agent",
        &[
            "127.0.2.1",
            "127.0.2.2",
            "127.0.2.3",
            "127.0.2.4",
            "127.0.2.5",
            "127.0.2.6",
        ],
    );
    // One device per user, each at its own address; snmpd has no BRIDGE-MIB, so they are
    // routers (a switch without bridge data is reported as a failure).
    let device = |addr: &str, user: &str, auth: &str, privacy: &str, key: &str| {
        format!(
            "[[switch]]\naddress = \"{}\"\nrole = \"router\"\nuser = \"{user}\"\n\
             auth_protocol = \"{auth}\"\nauth_key = \"auctoritas\"\n\
             priv_protocol = \"{privacy}\"\npriv_key = \"{key}\"\n\n",
            agent.at(addr)
        )
    };
    let good = [
        ("127.0.2.1", "opskit-des", "sha", "des"),
        ("127.0.2.2", "opskit-md5des", "md5", "des"),
        ("127.0.2.3", "opskit-aes", "sha", "aes"),
        ("127.0.2.4", "opskit-aes192", "sha", "aes192"),
        ("127.0.2.5", "opskit-aes256", "sha", "aes256"),
    ];
    let mut text = String::from("[snmp]\nversion = \"3\"\ntimeout = 5\nretries = 1\n\n");
    for (addr, user, auth, privacy) in good {
        text.push_str(&device(addr, user, auth, privacy, "privatus"));
    }
    text.push_str(&device(
        "127.0.2.6",
        "opskit-des",
        "sha",
        "des",
        "wrong-key!",
    ));
    text.push_str("timeout = 1\nretries = 0\n");
    let env = Env::new();
    let config = write_config(&env, &text);

    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    // The device with the wrong DES key fails, alone, on one line; the others are stored.
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("crawl-switches: {}: ", agent.at("127.0.2.6"))),
        "{err}"
    );
    for (addr, user, ..) in good {
        let device = agent.at(addr);
        assert_eq!(
            env.sql(&format!(
                "SELECT sys_name || '|' || sys_location FROM devices WHERE address = '{device}'"
            )),
            ["des-test-agent|opskit test rack"],
            "{user}"
        );
        // IF-MIB: the agent's machine has a loopback interface.
        let ports = env.sql(&format!(
            "SELECT p.descr FROM device_ports p JOIN devices d ON d.id = p.device_id \
             WHERE d.address = '{device}'"
        ));
        assert!(ports.iter().any(|p| p == "lo"), "{user}: {ports:?}");
    }
    assert_eq!(
        env.sql(&format!(
            "SELECT count(*) FROM devices WHERE address = '{}'",
            agent.at("127.0.2.6")
        )),
        ["0"]
    );

    // DES took a durable epoch beside the catalog (a server catalog: beside the default
    // file's place), private, and the next run takes the next one.
    let state = match env.backend() {
        Backend::Sqlite => env.dir.path().join("snmp-des-state"),
        Backend::Postgres => env.home.join(".local/share/opskit/snmp-des-state"),
    };
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "1\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap(), &agent.at("127.0.2.1")],
    );
    assert_status(&out, 0);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "2\n");

    // $XDG_STATE_HOME, when set, holds it instead.
    let state_home = env.dir.path().join("state");
    let out = env
        .cmd(tool!("crawl-switches"))
        .env("XDG_STATE_HOME", &state_home)
        .args(["--config", config.to_str().unwrap(), &agent.at("127.0.2.2")])
        .output()
        .unwrap();
    assert_status(&out, 0);
    assert_eq!(
        std::fs::read_to_string(state_home.join("opskit/snmp-des-state")).unwrap(),
        "1\n"
    );

    // A run without DES devices writes no state.
    let env2 = Env::new();
    let config2 = write_config(
        &env2,
        &format!(
            "[snmp]\nversion = \"3\"\ntimeout = 5\n\n{}",
            device("127.0.2.3", "opskit-aes", "sha", "aes", "privatus")
        ),
    );
    let out = env2.run(
        tool!("crawl-switches"),
        &["--config", config2.to_str().unwrap()],
    );
    assert_status(&out, 0);
    assert!(!env2.dir.path().join("snmp-des-state").exists());
}

#[test]
fn a_progress_bar_on_a_terminal_and_none_when_piped() {
    let sim = Snmpsim::start(&recordings(), &["127.0.1.1"]);
    let env = Env::new();
    let dead = format!("127.0.0.1:{}", free_udp_port());
    let config = write_config(
        &env,
        &format!(
            // A busy simulator can drop a datagram: the live device gets retries, so that only
            // the dead one fails.
            "[snmp]\ntimeout = 5\nretries = 0\n\n\
             [[switch]]\naddress = \"{}\"\ncommunity = \"advantech_eki-7712g-4fp\"\nretries = 4\n\n\
             [[switch]]\naddress = \"{dead}\"\ntimeout = 2\n",
            sim.at("127.0.1.1")
        ),
    );
    let command = format!(
        "{} --config {}",
        tool!("crawl-switches").path().display(),
        config.display()
    );
    let screen = run_in_pty(&env, &command, &[], 1);
    assert!(screen.contains("crawl-switches: ["), "{screen:?}");
    assert!(screen.contains("/2 done ("), "{screen:?}");
    // The bar is gone at the end: the failure and the summary follow on lines of their own.
    assert!(
        screen.contains(&format!("crawl-switches: {dead}: walking")),
        "{screen:?}"
    );
    assert!(
        screen.contains("crawl-switches: 1 devices crawled, 1 failed"),
        "{screen:?}"
    );

    // Piped (as under cron): the failure line only.
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
}

// The tests below play hostile and broken agents with the tests' own responder
// (support/responder.rs): no real agent can be made to lie on demand.

fn oid(text: &str) -> Vec<u32> {
    text.split('.').map(|a| a.parse().unwrap()).collect()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// A recording of tests/fixtures/snmp as a responder table.
fn fixture(name: &str) -> Table {
    let all = load_recordings(&recordings()).unwrap();
    (*all[name]).clone()
}

/// The system group of a device called `name`.
fn system(name: &str) -> Table {
    Table::from([
        (
            oid("1.3.6.1.2.1.1.1.0"),
            Val::Octets(b"a test agent".to_vec()),
        ),
        (
            oid("1.3.6.1.2.1.1.5.0"),
            Val::Octets(name.as_bytes().to_vec()),
        ),
    ])
}

fn crawl(env: &Env, config: &str) -> std::process::Output {
    let config = write_config(env, config);
    env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    )
}

#[test]
fn the_responder_walks_every_recording_as_snmpsim_does() {
    require("snmpbulkwalk", "snmp");
    let names: Vec<String> = load_recordings(&recordings())
        .unwrap()
        .into_keys()
        .collect();
    let sim = Snmpsim::start(&recordings(), &["127.0.1.31"]);
    let all = load_recordings(&recordings()).unwrap();
    let responder = Responder::start(vec![(
        ip("127.0.1.32"),
        Agent {
            communities: all,
            ..Agent::default()
        },
    )])
    .unwrap();
    let walk = |community: &str, at: String| {
        let out = std::process::Command::new("snmpbulkwalk")
            .args(["-v2c", "-c", community, "-On", "-Oe", "-t", "10", "-r", "3"])
            .arg(at)
            .arg(".1")
            .env("MIBS", "")
            .output()
            .unwrap();
        assert!(out.status.success(), "{community}: {}", stderr(&out));
        stdout(&out)
    };
    for name in &names {
        let want = walk(name, sim.at("127.0.1.31"));
        let got = walk(name, responder.at("127.0.1.32"));
        assert!(want.lines().count() > 10, "{name}: {want}");
        // The first line that differs, rather than two walks of a thousand lines.
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
        let first = (0..w.len().max(g.len())).find(|&i| w.get(i) != g.get(i));
        assert_eq!(
            first.map(|i| (i, w.get(i), g.get(i))),
            None,
            "{name}: line, snmpsim's, the responder's"
        );
    }
}

#[test]
fn answers_from_another_address_are_not_accepted() {
    let device = fixture("advantech_eki-7712g-4fp");
    let responder = Responder::start(vec![
        (
            ip("127.0.0.1"),
            Agent::new("c", device.clone()).misbehaving(Misbehaviour::WrongSource(ip("127.0.0.2"))),
        ),
        (ip("127.0.1.21"), Agent::new("c", device)),
    ])
    .unwrap();
    let (bad, good) = (responder.at("127.0.0.1"), responder.at("127.0.1.21"));
    let env = Env::new();
    let out = crawl(
        &env,
        &format!(
            "[snmp]\ncommunity = \"c\"\ntimeout = 1\nretries = 0\n\n\
             [[switch]]\naddress = \"{bad}\"\n\n[[switch]]\naddress = \"{good}\"\ntimeout = 10\n"
        ),
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "crawl-switches: {bad}: walking 1.3.6.1.2.1.1: no answer"
        )),
        "{err}"
    );
    assert_eq!(
        env.sql("SELECT address FROM devices"),
        [good],
        "only the device that answered from its own address is stored"
    );
}

#[test]
fn a_device_of_200000_ports_crawls_and_every_port_is_matched() {
    let ports = 200_000u32;
    let mut t = system("wide1");
    for i in 1..=ports {
        t.insert(
            oid(&format!("1.3.6.1.2.1.2.2.1.2.{i}")),
            Val::Octets(format!("port{i}").into_bytes()),
        );
        // Bridge port i is ifIndex i + 1: a port is matched to its bridge port by value.
        t.insert(
            oid(&format!("1.3.6.1.2.1.17.1.4.1.2.{i}")),
            Val::Int(i64::from(i) + 1),
        );
        // Every port but the first is a member of the aggregate ifIndex 1.
        t.insert(
            oid(&format!("1.2.840.10006.300.43.1.2.1.1.13.{i}")),
            Val::Int(1),
        );
        // One ARP entry per port.
        t.insert(
            oid(&format!(
                "1.3.6.1.2.1.4.22.1.2.{i}.10.{}.{}.{}",
                i >> 16,
                (i >> 8) & 255,
                i & 255
            )),
            Val::Octets(vec![2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8]),
        );
    }
    for e in 0..2_000u32 {
        t.insert(
            oid(&format!(
                "1.3.6.1.2.1.17.4.3.1.2.0.27.0.{}.{}.1",
                e >> 8,
                e & 255
            )),
            Val::Int(i64::from(e % 48 + 1)),
        );
    }
    let responder = Responder::start(vec![(ip("127.0.1.22"), Agent::new("c", t))]).unwrap();
    let env = Env::new();
    let out = crawl(
        &env,
        &format!(
            "[snmp]\ncommunity = \"c\"\ntimeout = 20\nmax_repetitions = 100\n\n\
             [[switch]]\naddress = \"{}\"\n",
            responder.at("127.0.1.22")
        ),
    );
    assert_status(&out, 0);
    assert_eq!(stderr(&out), "");
    assert_eq!(
        env.sql(
            "SELECT count(*) || '|' || count(bridge_port) || '|' || \
             sum(CASE WHEN bridge_port = if_index - 1 THEN 1 ELSE 0 END) || '|' || count(lag_if_index) FROM device_ports"
        ),
        ["200000|199999|199999|199999"]
    );
    assert_eq!(
        env.sql("SELECT count(*) || '|' || count(DISTINCT address) FROM arp_entries"),
        ["200000|200000"]
    );
    // Forwarding entries on bridge port P are on ifIndex P + 1.
    assert_eq!(
        env.sql("SELECT count(*) || '|' || sum(CASE WHEN if_index = bridge_port + 1 THEN 1 ELSE 0 END) FROM fdb_entries"),
        ["2000|2000"]
    );
}

#[test]
fn vtp_vlans_are_range_checked_and_capped() {
    // 4,000 operational VLANs (1..=4000) and five that cannot exist, no Q-BRIDGE table: the
    // crawler reads per-VLAN bridge instances through community@VLAN. Each instance answers
    // with one forwarding entry.
    let mut t = system("cisco-many-vlans");
    t.insert(oid("1.3.6.1.2.1.17.1.4.1.2.1"), Val::Int(1));
    t.insert(oid("1.3.6.1.2.1.2.2.1.2.1"), Val::Octets(b"Gi0/1".to_vec()));
    for vlan in (1..=4000u32).chain([0, 4095, 5000, 65536, u32::MAX]) {
        t.insert(
            oid(&format!("1.3.6.1.4.1.9.9.46.1.3.1.1.2.1.{vlan}")),
            Val::Int(1),
        );
    }
    let mut agent = Agent::new("vl", t);
    for vlan in 1..=4094u32 {
        let instance = Table::from([
            (oid("1.3.6.1.2.1.17.1.4.1.2.1"), Val::Int(1)),
            (
                oid(&format!(
                    "1.3.6.1.2.1.17.4.3.1.2.0.27.0.{}.{}.1",
                    vlan >> 8,
                    vlan & 255
                )),
                Val::Int(1),
            ),
        ]);
        agent = agent.with(&format!("vl@{vlan}"), instance);
    }
    let responder = Responder::start(vec![(ip("127.0.1.23"), agent)]).unwrap();
    let device = responder.at("127.0.1.23");
    let env = Env::new();
    let out = crawl(
        &env,
        &format!(
            "[snmp]\ncommunity = \"vl\"\ntimeout = 5\nretries = 0\n\n\
             [[switch]]\naddress = \"{device}\"\n"
        ),
    );
    // The device is stored with what was read, and the skipped VLANs are reported.
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("crawl-switches: {device}: "))
            && err.contains("5 VLAN ids out of range")
            && err.contains("3996 VLANs listed, the first 1024 read"),
        "{err}"
    );
    assert_eq!(
        env.sql(
            "SELECT count(DISTINCT vlan) || '|' || min(vlan) || '|' || max(vlan) FROM fdb_entries"
        ),
        // 1002-1005 are Cisco's FDDI and Token Ring defaults, never read.
        ["1024|1|1028"]
    );
    let asked: Vec<u32> = responder
        .communities_asked()
        .iter()
        .filter_map(|c| c.strip_prefix("vl@"))
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(asked.len(), 1024, "{asked:?}");
    assert!(asked.iter().all(|v| (1..=4094).contains(v)), "{asked:?}");
}

#[test]
fn a_nul_inside_a_value_is_stored_as_a_replacement_character_on_either_backend() {
    // PostgreSQL's text cannot hold NUL, SQLite's can: both store U+FFFD, so a switch that
    // sends one is crawled and answered the same on either (a trailing NUL, common in real
    // agents' strings, is dropped as before).
    let mut t = system("nul\0switch");
    t.insert(
        oid("1.3.6.1.2.1.2.2.1.2.1"),
        Val::Octets(b"Gi0/1\0evil\0".to_vec()),
    );
    t.insert(oid("1.3.6.1.2.1.17.1.4.1.2.1"), Val::Int(1));
    let responder = Responder::start(vec![(ip("127.0.1.25"), Agent::new("c", t))]).unwrap();
    let device = responder.at("127.0.1.25");
    let env = Env::new();
    let config = write_config(
        &env,
        &format!("[snmp]\ncommunity = \"c\"\n\n[[switch]]\naddress = \"{device}\"\n"),
    );
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    assert_status(&out, 0);
    assert_eq!(
        env.sql("SELECT sys_name || '|' || p.descr FROM devices d JOIN device_ports p ON p.device_id = d.id"),
        ["nul\u{FFFD}switch|Gi0/1\u{FFFD}evil"]
    );
}

#[test]
fn huge_values_are_cut_and_the_catalog_stays_small() {
    // 3,000 ports whose ifDescr is 60 kB each.
    let mut t = system("verbose1");
    for i in 1..=3_000u32 {
        t.insert(
            oid(&format!("1.3.6.1.2.1.2.2.1.2.{i}")),
            Val::Octets(vec![b'x'; 60_000]),
        );
        t.insert(
            oid(&format!("1.3.6.1.2.1.17.1.4.1.2.{i}")),
            Val::Int(i64::from(i)),
        );
    }
    let responder = Responder::start(vec![(ip("127.0.1.24"), Agent::new("c", t))]).unwrap();
    let device = responder.at("127.0.1.24");
    let env = Env::new();
    let config = write_config(
        &env,
        &format!("[snmp]\ncommunity = \"c\"\ntimeout = 20\n\n[[switch]]\naddress = \"{device}\"\n"),
    );
    let (out, peak_kib) = run_measuring_peak_memory(
        env.cmd(tool!("crawl-switches"))
            .args(["--config", config.to_str().unwrap()]),
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(
        err,
        format!("crawl-switches: {device}: 3000 values longer than 4096 bytes were cut to 4096\n")
    );
    assert_eq!(
        env.sql(
            "SELECT count(*) || '|' || max(length(descr)) || '|' || sum(length(descr)) \
             FROM device_ports"
        ),
        [format!("3000|4096|{}", 3000 * 4096)]
    );
    let catalog = match env.backend() {
        Backend::Sqlite => {
            std::fs::metadata(&env.catalog).unwrap().len()
                + std::fs::metadata(env.catalog.with_extension("db-wal"))
                    .map(|m| m.len())
                    .unwrap_or(0)
        }
        Backend::Postgres => env.sql("SELECT pg_database_size(current_database())")[0]
            .parse()
            .unwrap(),
    };
    assert!(catalog < 64 << 20, "catalog and its log: {catalog} bytes");
    assert!(peak_kib < 160 * 1024, "peak resident memory {peak_kib} KiB");
}

#[test]
fn a_device_sending_more_than_64_mib_fails_alone_and_nothing_of_it_is_stored() {
    // 17,000 ports with a 4,000-byte ifAlias each: 68 MB, none of it over the value cap.
    let mut t = system("flood1");
    for i in 1..=17_000u32 {
        t.insert(
            oid(&format!("1.3.6.1.2.1.31.1.1.1.18.{i}")),
            Val::Octets(vec![b'y'; 4_000]),
        );
    }
    let responder = Responder::start(vec![
        (ip("127.0.1.25"), Agent::new("c", t)),
        (ip("127.0.1.26"), Agent::new("c", fixture("XMG1915-10EP"))),
    ])
    .unwrap();
    let (flood, good) = (responder.at("127.0.1.25"), responder.at("127.0.1.26"));
    let env = Env::new();
    let out = crawl(
        &env,
        &format!(
            "[snmp]\ncommunity = \"c\"\ntimeout = 20\n\n\
             [[switch]]\naddress = \"{flood}\"\n\n[[switch]]\naddress = \"{good}\"\n"
        ),
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("crawl-switches: {flood}: "))
            && err.contains("more than 64 MiB of values"),
        "{err}"
    );
    assert_eq!(env.sql("SELECT address FROM devices"), [good]);
    assert_eq!(
        env.sql("SELECT count(*) FROM device_ports WHERE alias LIKE 'yyy%'"),
        ["0"]
    );
}

#[test]
fn non_increasing_and_endless_agents_fail_alone() {
    let device = fixture("XMG1915-10EP");
    let responder = Responder::start(vec![
        (
            ip("127.0.1.27"),
            Agent::new("c", device.clone()).misbehaving(Misbehaviour::NonIncreasing),
        ),
        (
            ip("127.0.1.28"),
            Agent::new("c", device.clone()).misbehaving(Misbehaviour::Endless),
        ),
        (ip("127.0.1.29"), Agent::new("c", device)),
    ])
    .unwrap();
    let (looping, endless, good) = (
        responder.at("127.0.1.27"),
        responder.at("127.0.1.28"),
        responder.at("127.0.1.29"),
    );
    let env = Env::new();
    let out = crawl(
        &env,
        &format!(
            "[snmp]\ncommunity = \"c\"\ntimeout = 10\ndeadline = 3\n\n\
             [[switch]]\naddress = \"{looping}\"\n\n[[switch]]\naddress = \"{endless}\"\n\n\
             [[switch]]\naddress = \"{good}\"\n"
        ),
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.lines().any(|l| l.starts_with(&format!(
            "crawl-switches: {looping}: walking 1.3.6.1.2.1.1: agent broke the walk"
        ))),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l
            == format!(
                "crawl-switches: {endless}: not finished after the deadline of 3 s ([snmp] deadline)"
            )),
        "{err}"
    );
    assert_eq!(env.sql("SELECT address FROM devices"), [good]);
}
