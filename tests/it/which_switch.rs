//! `which-switch` over a catalog filled by crawl-switches from snmpsim serving the project's
//! own topology (tests/fixtures/snmp/generate.py draws it), plus scan-hosts for host names.

use crate::support::*;
use serde_json::Value;

const HOST_A: &str = "00:1b:21:0a:00:01";
const HOST_B: &str = "00:1b:21:0b:00:02";
const HOST_D: &str = "00:1b:21:0d:00:04";
const AP_MAC: &str = "00:1b:21:06:00:03";
const ROUTER_AE0: &str = "02:00:00:00:04:01";

/// The topology: each device at its own loopback address.
const TOPOLOGY: &[(&str, &str, &str)] = &[
    ("127.0.2.1", "core1", "switch"),
    ("127.0.2.2", "access1", "switch"),
    ("127.0.2.3", "access2", "switch"),
    ("127.0.2.4", "router1", "router"),
];

struct Lab {
    sim: Snmpsim,
    env: Env,
}

fn config(sim: &Snmpsim, devices: &[(&str, &str, &str)]) -> String {
    // Generous timeouts: other tests' simulators share the two cores.
    let switches: String = devices
        .iter()
        .map(|(addr, community, role)| {
            format!(
                "[[switch]]\naddress = \"{}\"\ncommunity = \"{community}\"\nrole = \"{role}\"\n\n",
                sim.at(addr)
            )
        })
        .collect();
    format!("[snmp]\ntimeout = 15\n\n{switches}")
}

fn crawl(lab: &Lab, devices: &[(&str, &str, &str)]) {
    let path = write_config(&lab.env, &config(&lab.sim, devices));
    let out = lab.env.run(
        tool!("crawl-switches"),
        &["--config", path.to_str().unwrap()],
    );
    assert_status(&out, 0);
}

fn lab() -> Lab {
    let sim = Snmpsim::start(
        &recordings(),
        &[
            "127.0.2.1",
            "127.0.2.2",
            "127.0.2.3",
            "127.0.2.4",
            "127.0.2.5",
        ],
    );
    let lab = Lab {
        sim,
        env: Env::new(),
    };
    crawl(&lab, TOPOLOGY);
    lab
}

fn answer(lab: &Lab, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--json", "--no-dns"];
    all.extend_from_slice(args);
    let out = lab.env.run(tool!("which-switch"), &all);
    assert_status(&out, 0);
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_access_port_is_chosen_over_uplinks_with_the_evidence() {
    let lab = lab();
    // Host A is seen on core1 (LLDP neighbour access1), access2 (learns core1's MAC) and
    // access1 ge5, its own port.
    let rows = answer(&lab, &[HOST_A]);
    assert_eq!(rows.len(), 1);
    let a = &rows[0];
    assert_eq!(
        (a["switch"].as_str(), a["port"].as_str(), a["role"].as_str()),
        (Some("access1"), Some("ge5"), Some("access"))
    );
    assert_eq!(a["port_alias"], "web-7 eth0");
    assert_eq!(a["vendor"], "Intel Corporate");
    assert_eq!(a["macs_on_port"], 1);
    assert!(
        a["why"]
            .as_str()
            .unwrap()
            .contains("also seen on 2 other port(s)"),
        "{a}"
    );

    // --port: what is on access1's ge5, the switch named by sysName, by its address alone, or
    // with the port it is polled at; a `%` or `_` in it is a character, not a wildcard.
    let on_port = |switch: &str| {
        let out = lab.env.run(
            tool!("which-switch"),
            &["--json", "--no-dns", "--port", switch, "ge5"],
        );
        let rows: Vec<Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (out.status.code(), rows)
    };
    for switch in ["access1", "127.0.2.2", &lab.sim.at("127.0.2.2")] {
        let (status, rows) = on_port(switch);
        assert_eq!(status, Some(0), "{switch}");
        assert!(
            rows.iter()
                .any(|r| r["switch"] == "access1" && r["port"] == "ge5"),
            "{switch}: {rows:?}"
        );
    }
    for pattern in ["127.0.2._", "127.0.2.%", "%"] {
        let (status, rows) = on_port(pattern);
        assert_eq!((status, rows.len()), (Some(1), 0), "{pattern}: {rows:?}");
    }

    // --all shows every place with its role and evidence.
    let rows = answer(&lab, &["--all", HOST_A]);
    let summary: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["switch"].as_str().unwrap(),
                r["port"].as_str().unwrap(),
                r["role"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(summary.len(), 3, "{summary:?}");
    assert!(
        summary.contains(&"core1 ge-0/0/1 uplink".to_string()),
        "{summary:?}"
    );
    assert!(
        summary.contains(&"access2 Gi0/1 uplink".to_string()),
        "{summary:?}"
    );
    assert!(
        summary.contains(&"access1 ge5 access".to_string()),
        "{summary:?}"
    );
    let core = rows.iter().find(|r| r["switch"] == "core1").unwrap();
    assert_eq!(
        core["why"],
        "uplink: LLDP neighbour access1 is a crawled device"
    );
    assert_eq!(core["vlan"], 10); // FDB id 1 is VLAN 10 through dot1qVlanFdbId
    let acc2 = rows.iter().find(|r| r["switch"] == "access2").unwrap();
    assert_eq!(acc2["why"], "uplink: learns the own MAC of core1");

    // Host B: behind access2, which runs no LLDP; core1's port is an uplink because it learns
    // access2's own MAC. VLAN 20 through FDB id 2.
    let b = &answer(&lab, &[HOST_B])[0];
    assert_eq!(
        (b["switch"].as_str(), b["port"].as_str()),
        (Some("access2"), Some("Gi0/12"))
    );
    let core_b = answer(&lab, &["--all", HOST_B])
        .into_iter()
        .find(|r| r["switch"] == "core1")
        .unwrap();
    assert_eq!(
        (core_b["vlan"].as_i64(), core_b["role"].as_str()),
        (Some(20), Some("uplink"))
    );

    // Host D is directly on core1.
    let d = &answer(&lab, &[HOST_D])[0];
    assert_eq!(
        (d["switch"].as_str(), d["port"].as_str(), d["role"].as_str()),
        (Some("core1"), Some("ge-0/0/5"), Some("access"))
    );

    // An access point with six MACs behind it: labelled, not hidden.
    let ap = &answer(&lab, &[AP_MAC])[0];
    assert_eq!(
        (
            ap["switch"].as_str(),
            ap["port"].as_str(),
            ap["role"].as_str()
        ),
        (Some("access1"), Some("ge6"), Some("shared"))
    );
    assert_eq!(ap["macs_on_port"], 6);

    // The router's MAC, learned on a LAG member: rolled up to the aggregate, and the port
    // facing the router is its access port even though LLDP sees the router there.
    let r = &answer(&lab, &[ROUTER_AE0])[0];
    assert_eq!(
        (
            r["switch"].as_str(),
            r["port"].as_str(),
            r["member_port"].as_str(),
            r["role"].as_str()
        ),
        (Some("core1"), Some("ae0"), Some("ge-0/0/3"), Some("access"))
    );

    // A switch's own MAC: the answer is where that switch is plugged in, on the port that
    // faces it; on the switch itself it is only its own address.
    let own = &answer(&lab, &["02:00:00:00:02:00"])[0];
    assert_eq!(
        (
            own["switch"].as_str(),
            own["port"].as_str(),
            own["role"].as_str()
        ),
        (Some("core1"), Some("ge-0/0/1"), Some("access"))
    );
    assert_eq!(
        own["why"].as_str().unwrap().split(';').next(),
        Some("the port faces access1, a crawled device that owns this MAC")
    );
    let own_all = answer(&lab, &["--all", "02:00:00:00:02:00"]);
    assert!(
        own_all
            .iter()
            .any(|r| r["switch"] == "access1" && r["role"] == "self"),
        "{own_all:?}"
    );
}

#[test]
fn addresses_become_macs_through_arp_and_neighbour_tables() {
    let lab = lab();
    for (query, via) in [
        ("10.0.10.5", "arp"),
        ("2001:db8:10::5", "arp"),
        ("2001:0db8:0010:0000:0000:0000:0000:0005", "arp"),
    ] {
        let rows = answer(&lab, &["-f", "query,mac,switch,port,via", query]);
        assert_eq!(rows.len(), 1, "{query}");
        assert_eq!(rows[0]["mac"], HOST_A, "{query}");
        assert_eq!(rows[0]["port"], "ge5", "{query}");
        assert_eq!(rows[0]["via"], via, "{query}");
    }
    // Only in the older ipNetToMediaTable.
    assert_eq!(answer(&lab, &["10.0.10.9"])[0]["mac"], HOST_D);
    // Any MAC notation, from stdin.
    let out = lab.env.run_stdin(
        tool!("which-switch"),
        &["-f", "mac,switch,port"],
        "001B.210B.0002\n00-1B-21-0D-00-04\n",
    );
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("{HOST_B}\taccess2\tGi0/12\n{HOST_D}\tcore1\tge-0/0/5\n")
    );
}

#[test]
fn unknown_and_malformed_inputs() {
    let lab = lab();
    let out = lab.env.run(
        tool!("which-switch"),
        &[
            "--no-dns",
            "10.9.9.9",
            "02:00:5e:ff:ff:ff",
            "nohost",
            "gg:00:00:00:00:00",
            HOST_A,
        ],
    );
    assert_status(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("which-switch: 10.9.9.9: no MAC known for it"),
        "{err}"
    );
    assert!(
        err.contains(
            "which-switch: 02:00:5e:ff:ff:ff: 02:00:5e:ff:ff:ff (mac) is in no forwarding table"
        ),
        "{err}"
    );
    assert!(err.contains("which-switch: nohost: no MAC known"), "{err}");
    assert!(
        err.contains("which-switch: gg:00:00:00:00:00: no MAC known"),
        "{err}"
    );
    // The known one is still answered.
    assert_eq!(stdout(&out).lines().count(), 1);
}

#[test]
fn history_shows_where_a_mac_was_before() {
    let lab = lab();
    // Nothing has moved yet: --moves reports nothing and exits 1.
    let out = lab.env.run(
        tool!("which-switch"),
        &["--json", "--moves", "--since", "1d"],
    );
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "");
    // Host A moves from ge5 to ge7 on access1 (same device, recrawled).
    crawl(&lab, &[("127.0.2.2", "access1-moved", "switch")]);
    // --moves names the port it came from (this once panicked: moved_from was no field).
    let moves = answer(&lab, &["--moves", "--since", "1d"]);
    let host_a: Vec<(&str, &str)> = moves
        .iter()
        .filter(|r| r["mac"] == HOST_A)
        .map(|r| {
            (
                r["port"].as_str().unwrap(),
                r["moved_from"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(host_a, [("ge7", "ge5")], "{moves:?}");
    let now = &answer(&lab, &[HOST_A])[0];
    assert_eq!(now["port"], "ge7");
    let history = answer(&lab, &["--history", HOST_A]);
    let access1: Vec<(String, bool)> = history
        .iter()
        .filter(|r| r["switch"] == "access1")
        .map(|r| {
            (
                r["port"].as_str().unwrap().to_string(),
                r["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        access1,
        [("ge5".to_string(), false), ("ge7".to_string(), true)]
    );
}

#[test]
fn hosts_resolve_through_their_scanned_interfaces_and_names_are_escaped() {
    let lab = lab();
    // An empty bridge table crawls cleanly; a sysName with escape sequences is stored as is.
    crawl(&lab, &[("127.0.2.5", "empty1", "switch")]);
    crawl(&lab, &[("127.0.2.5", "evil1", "switch")]);
    let screen = run_in_pty(
        &lab.env,
        &format!(
            "{} --no-dns 00:1b:21:0f:00:06",
            tool!("which-switch").path().display()
        ),
        &[("NO_COLOR", "1")],
        0,
    );
    assert!(
        screen.contains("evil\\x1b[2J\\x1b]0;pwned\\x07switch"),
        "{screen:?}"
    );
    assert!(
        !screen.contains('\x1b') && !screen.contains('\x07'),
        "{screen:?}"
    );

    // A scanned host's interface MACs: this machine's own MACs are in no forwarding table, so
    // the answer says so on stderr and exits 1, naming each MAC.
    assert_status(&lab.env.scan_as("web-7", None), 0);
    let out = lab.env.run(tool!("which-switch"), &["--no-dns", "web-7"]);
    let macs = lab
        .env
        .sql("SELECT mac FROM host_interfaces WHERE mac IS NOT NULL AND current = 1");
    if macs.is_empty() {
        assert_status(&out, 1);
        assert!(
            stderr(&out).contains("web-7: no MAC known"),
            "{}",
            stderr(&out)
        );
    } else {
        assert_status(&out, 1);
        for mac in macs {
            assert!(
                stderr(&out).contains(&format!("{mac} (host) is in no forwarding table")),
                "{}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn cisco_per_vlan_bridges_are_read_through_community_at_vlan() {
    let sim = Snmpsim::start(&recordings(), &["127.0.2.1", "127.0.2.6"]);
    let lab = Lab {
        sim,
        env: Env::new(),
    };
    crawl(
        &lab,
        &[
            ("127.0.2.1", "core1", "switch"),
            ("127.0.2.6", "ciscosw", "switch"),
        ],
    );
    // VLANs 10 and 20 exist only in their own instances (ciscosw@10, ciscosw@20); bridge
    // ports map to ifIndexes 101xx per instance.
    let y = &answer(&lab, &["00:1b:21:1b:00:02"])[0];
    assert_eq!(
        (y["switch"].as_str(), y["port"].as_str(), y["vlan"].as_i64()),
        (Some("ciscosw"), Some("Gi1/0/2"), Some(10))
    );
    let z = &answer(&lab, &["00:1b:21:1c:00:03"])[0];
    assert_eq!(
        (z["port"].as_str(), z["vlan"].as_i64()),
        (Some("Gi1/0/1"), Some(20))
    );
    let x = &answer(&lab, &["00:1b:21:1a:00:01"])[0];
    assert_eq!(
        (x["port"].as_str(), x["vlan"].as_i64()),
        (Some("Gi1/0/1"), Some(1))
    );
    // core1's MAC on Gi1/0/3, whose CDP neighbour is core1: an uplink in both VLANs.
    let core_on_cisco: Vec<Value> = answer(&lab, &["--all", "02:00:00:00:01:00"])
        .into_iter()
        .filter(|r| r["switch"] == "ciscosw")
        .collect();
    assert_eq!(core_on_cisco.len(), 2);
    for row in &core_on_cisco {
        assert_eq!(row["port"], "Gi1/0/3");
    }
    // The VLAN 1002 the VTP table lists is skipped, and nothing is left without a VLAN.
    assert_eq!(
        lab.env.sql("SELECT count(*) FROM fdb_entries f JOIN devices d ON d.id = f.device_id WHERE d.sys_name = 'ciscosw' AND (f.vlan IS NULL OR f.vlan = 1002)"),
        ["0"]
    );
}

#[test]
fn live_recrawls_the_switches_concerned_before_answering() {
    let lab = lab();
    assert_eq!(answer(&lab, &[HOST_A])[0]["port"], "ge5");
    // Since the last crawl host A moved: access1 now answers with the moved recording.
    let moved: Vec<(&str, &str, &str)> = TOPOLOGY
        .iter()
        .map(|&(a, c, r)| {
            if c == "access1" {
                (a, "access1-moved", r)
            } else {
                (a, c, r)
            }
        })
        .collect();
    let path = write_config(&lab.env, &config(&lab.sim, &moved));
    let scans_before: usize = lab.env.sql("SELECT count(*) FROM scans")[0]
        .parse()
        .unwrap();
    let rows = answer(
        &lab,
        &["--live", "--config", path.to_str().unwrap(), HOST_A],
    );
    assert_eq!(
        (rows[0]["switch"].as_str(), rows[0]["port"].as_str()),
        (Some("access1"), Some("ge7"))
    );
    // Crawled: the three switches host A is seen on, and the router; nothing else exists.
    let crawled = lab.env.sql(&format!(
        "SELECT count(*) FROM scans WHERE collector = 'which-switch' AND id > {scans_before} AND error IS NULL"
    ));
    assert_eq!(crawled, ["4"]);
}
