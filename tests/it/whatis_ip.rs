//! `whatis-ip` against a catalog filled by the real collectors (scan-hosts in network
//! namespaces, crawl-switches from snmpsim, sync-ec2 from moto) and a real DNS server
//! (dnsmasq); see support/whatis_lab.rs for what the lab holds.

use std::net::UdpSocket;

use crate::support::whatis_lab::*;
use crate::support::*;
use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_address_is_joined_across_every_source() {
    let lab = lab();
    let rows = lab.json(tool!("whatis-ip"), &["10.0.10.5"], 0);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["address"], "10.0.10.5");
    assert_eq!(r["kind"], "private");
    assert!(
        r["kind_description"].as_str().unwrap().contains("RFC 1918"),
        "{r}"
    );
    assert_eq!(r["global"], false);
    // Subnets, most specific first, from the [whatis] subnets file.
    assert_eq!(r["subnet"], "servers (10.0.10.0/24)");
    let subnets: Vec<&str> = r["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subnets, ["servers", "dc1"]);
    assert_eq!(r["subnets"][0]["vlan"], 10);
    // Reverse DNS, forward-confirmed.
    assert_eq!(strings(&r["dns_names"]), ["web-7.example.test"]);
    assert_eq!(r["ptr"][0]["confirmed"], true);
    // The host that has it, with its interface and MAC.
    assert_eq!(strings(&r["host"]), ["web-7"]);
    assert_eq!(r["interfaces"][0]["interface"], "eth0");
    assert_eq!(r["interfaces"][0]["mac"], WEB7_MAC);
    assert_eq!(r["interfaces"][0]["prefix_len"], 24);
    // The router that saw it.
    assert_eq!(r["arp"][0]["router"], "router1");
    assert_eq!(r["arp"][0]["mac"], WEB7_MAC);
    assert_eq!(r["arp"][0]["current"], true);
    // Its MAC, vendor and switch port, as which-switch decides it.
    assert_eq!(strings(&r["mac"]), [WEB7_MAC]);
    assert_eq!(strings(&r["vendor"]), ["Intel Corporate"]);
    assert_eq!(strings(&r["switch"]), ["access1"]);
    assert_eq!(strings(&r["port"]), ["ge5"]);
    assert_eq!(r["switch_ports"][0]["role"], "access");
    let which = lab
        .env
        .run(tool!("which-switch"), &["--json", "--no-dns", WEB7_MAC]);
    let which: Value = serde_json::from_str(stdout(&which).trim()).unwrap();
    for field in ["switch", "port", "role", "vlan"] {
        assert_eq!(r["switch_ports"][0][field], which[field], "{field}");
    }
    // access1 answers BRIDGE-MIB's dot1dTpFdbTable only, which has no VLAN (see the next test
    // for a port that has one).
    assert_eq!(r["switch_ports"][0]["vlan"], Value::Null);
    // History: the host and the router's ARP entry, same MAC; no disagreement.
    let held_by: Vec<&str> = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["held_by"].as_str().unwrap())
        .collect();
    assert!(held_by.contains(&"web-7 eth0"), "{held_by:?}");
    assert!(held_by.contains(&"router1 ARP"), "{held_by:?}");
    assert_eq!(r["disagreements"], Value::Array(vec![]), "{r}");
    assert!(r["last_seen"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn ipv6_and_ipv4_mapped_addresses_are_understood() {
    let lab = lab();
    let rows = lab.json(
        tool!("whatis-ip"),
        &["2001:db8:10::5", "::ffff:10.0.10.5"],
        0,
    );
    let v6 = &rows[0];
    assert_eq!(v6["version"], 6);
    assert_eq!(v6["kind"], "documentation");
    assert_eq!(strings(&v6["dns_names"]), ["web-7.example.test"]);
    assert_eq!(strings(&v6["host"]), ["web-7"]);
    assert_eq!(v6["arp"][0]["router"], "router1");
    assert_eq!(strings(&v6["switch"]), ["access1"]);
    assert_eq!(v6["subnet"], "servers-v6 (2001:db8:10::/64)");
    // The mapped address is answered as the IPv4 address it carries.
    let mapped = &rows[1];
    assert_eq!(mapped["query"], "::ffff:10.0.10.5");
    assert_eq!(mapped["address"], "10.0.10.5");
    assert_eq!(mapped["embedded_ipv4"], "10.0.10.5");
    assert!(
        mapped["kind_description"]
            .as_str()
            .unwrap()
            .contains("IPv4-mapped"),
        "{mapped}"
    );
    assert_eq!(strings(&mapped["host"]), ["web-7"]);
}

#[test]
fn disagreements_between_sources_are_flagged() {
    let lab = lab();
    let rows = lab.json(
        tool!("whatis-ip"),
        &["10.0.10.9", "10.0.10.10", "10.0.30.1"],
        0,
    );
    // 10.0.10.9: a PTR that does not resolve back, and two MACs at once.
    let r = &rows[0];
    assert_eq!(
        strings(&r["dns_names"]),
        ["old-db.example.test (unconfirmed)"]
    );
    let mut macs = strings(&r["mac"]);
    macs.sort();
    assert_eq!(macs, [ARP_MAC_OF_10_0_10_9, DB2_MAC]);
    let found = strings(&r["disagreements"]);
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("PTR old-db.example.test does not resolve back to 10.0.10.9")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|d| d.starts_with("address conflict:")
            && d.contains(DB2_MAC)
            && d.contains(ARP_MAC_OF_10_0_10_9)),
        "{found:?}"
    );
    // The MAC router1's ARP table has is host D's, learned by core1 on ge-0/0/5 in its
    // Q-BRIDGE table, FDB 1, which is VLAN 10.
    let port = r["switch_ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["mac"] == ARP_MAC_OF_10_0_10_9)
        .unwrap_or_else(|| panic!("no switch port for the ARP MAC: {r}"));
    assert_eq!(
        (&port["switch"], &port["port"], &port["vlan"], &port["role"]),
        (
            &Value::from("core1"),
            &Value::from("ge-0/0/5"),
            &Value::from(10),
            &Value::from("access")
        )
    );
    // 10.0.10.10: confirmed PTR naming another host than db-2, which has it.
    let r = &rows[1];
    assert_eq!(strings(&r["host"]), ["db-2"]);
    assert_eq!(
        strings(&r["disagreements"]),
        ["PTR backup.example.test names another host than the one that has the address (db-2)"]
    );
    // 10.0.30.1: DNS names it, nothing has seen it.
    let r = &rows[2];
    assert_eq!(strings(&r["dns_names"]), ["ghost.example.test"]);
    assert!(r["host"].as_array().unwrap().is_empty());
    assert!(
        strings(&r["disagreements"])[0]
            .starts_with("DNS names it (ghost.example.test) but no collector has seen it"),
        "{r}"
    );
}

#[test]
fn ec2_instances_are_named_with_their_group() {
    let lab = lab();
    let web7 = lab.fleet.web7.private_ip.clone();
    let member = &lab.fleet.web_prod_healthy[0];
    let member_ip = lab.moto.private_ip("us-east-1", member);
    let rows = lab.json(tool!("whatis-ip"), &["--no-dns", &web7, &member_ip], 0);
    assert_eq!(rows[0]["ec2_instance"], lab.fleet.web7.id);
    let e = &rows[0]["ec2"][0];
    assert_eq!(e["name"], "web-7");
    assert_eq!(e["state"], "running");
    assert_eq!(e["tags"]["role"], "web");
    assert_eq!(e["current"], true);
    assert_eq!(rows[1]["ec2_instance"], member.as_str());
    assert_eq!(rows[1]["ec2"][0]["asg"], "web-prod");
    assert_eq!(rows[1]["history"][0]["source"], "ec2");
}

#[test]
fn a_prefix_lists_every_address_anything_knows_of() {
    let lab = lab();
    let out = lab.run(
        tool!("whatis-ip"),
        &["-f", "address,host,dns_names", "10.0.10.0/24"],
    );
    assert_status(&out, 0);
    // The catalog's addresses (hosts and ARP), plus every PTR in a prefix this small.
    assert_eq!(
        stdout(&out),
        "10.0.10.5\tweb-7\tweb-7.example.test\n\
         10.0.10.9\tdb-2\told-db.example.test (unconfirmed)\n\
         10.0.10.10\tdb-2\tbackup.example.test\n\
         10.0.10.50\t\tweb-7.example.test\n"
    );
    // Without DNS only the catalog's addresses; a host-bits prefix means its network.
    let out = lab.run(
        tool!("whatis-ip"),
        &["--no-dns", "-f", "query,address", "10.0.10.77/24"],
    );
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "10.0.10.77/24\t10.0.10.5\n10.0.10.77/24\t10.0.10.9\n10.0.10.77/24\t10.0.10.10\n"
    );
    // IPv6 prefixes too; an empty prefix is nothing found.
    let out = lab.run(
        tool!("whatis-ip"),
        &["--no-dns", "-f", "address", "2001:db8:10::/64"],
    );
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "2001:db8:10::5\n");
    let out = lab.run(tool!("whatis-ip"), &["--no-dns", "192.168.77.0/24"]);
    assert_status(&out, 1);
    assert_eq!(
        stderr(&out),
        "whatis-ip: 192.168.77.0/24: nothing known in this prefix\n"
    );
}

#[test]
fn bulk_input_is_answered_in_order_one_line_each() {
    let lab = lab();
    let mut input = String::new();
    let mut want = Vec::new();
    for i in 0..300 {
        let ip = match i % 3 {
            0 => "10.0.10.5".to_string(),
            1 => format!("10.0.10.{}", 100 + i / 3),
            _ => "2001:db8:10::5".to_string(),
        };
        input.push_str(&ip);
        input.push('\n');
        want.push(ip);
    }
    let out = lab.run_stdin(tool!("whatis-ip"), &["-f", "query,host"], &input);
    // Unknown addresses make it exit 1, each named on stderr; every line is still answered.
    assert_status(&out, 1);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let got: Vec<String> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    assert_eq!(lines[0], "10.0.10.5\tweb-7");
    assert_eq!(lines[1], "10.0.10.100\t");
    let unknown: String = (0..100)
        .map(|i| format!("whatis-ip: 10.0.10.{}: nothing known about it\n", 100 + i))
        .collect();
    assert_eq!(stderr(&out), unknown);
}

#[test]
fn bad_input_and_a_silent_dns_server() {
    let lab = lab();
    // Malformed addresses are named (control characters escaped) and the rest is answered.
    let out = lab.env.run(
        tool!("whatis-ip"),
        &[
            "--no-dns",
            "-f",
            "address,host",
            "10.0.10.256",
            "10.0.10.5",
            "web-7",
            "10.0.0.0/33",
            "10.0.10.5\x1b[2J",
        ],
    );
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "10.0.10.5\tweb-7\n");
    let err = stderr(&out);
    for bad in ["10.0.10.256", "web-7", "10.0.0.0/33", "10.0.10.5\\x1b[2J"] {
        assert!(
            err.contains(&format!(
                "whatis-ip: {bad}: not an IP address or CIDR prefix"
            )),
            "{err}"
        );
    }
    assert!(!err.contains('\x1b'), "{err:?}");

    // Nothing known: exit 1, but the kind of address is still an answer.
    let out = lab
        .env
        .run(tool!("whatis-ip"), &["--no-dns", "--json", "192.0.2.77"]);
    assert_status(&out, 1);
    let r: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(r["kind"], "documentation");
    assert_eq!(
        stderr(&out),
        "whatis-ip: 192.0.2.77: nothing known about it\n"
    );

    // A DNS server that never answers: the catalog still answers, DNS is an error note, and
    // after a few timeouts the rest of the input is not asked.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();
    // More lines than the resolver keeps in flight, so that later ones start after timeouts.
    let input: String = (0..300).map(|_| "10.0.10.5\n").collect();
    let out = lab.env.run_stdin(
        tool!("whatis-ip"),
        &["--json", "--dns-server", &server, "--dns-timeout", "0.3"],
        &input,
    );
    assert_status(&out, 0);
    let rows: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 300);
    assert!(rows.iter().all(|r| r["host"][0] == "web-7"));
    let errors: Vec<&str> = rows
        .iter()
        .map(|r| r["dns_error"].as_str().unwrap())
        .collect();
    assert!(errors.iter().any(|e| e.contains("time")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.starts_with("not asked")),
        "{errors:?}"
    );
}

#[test]
fn a_terminal_gets_a_card_with_every_known_field() {
    let lab = lab();
    let screen = run_in_pty(
        &lab.env,
        &format!(
            "{} --config {} --dns-server {} 10.0.10.5",
            tool!("whatis-ip").path().display(),
            lab.config.display(),
            lab.dns.server()
        ),
        &[("NO_COLOR", "1")],
        0,
    );
    for line in [
        "address ",
        "kind ",
        "subnet ",
        "dns_names ",
        "history ",
        "kind_description ",
        "arp ",
    ] {
        assert!(screen.contains(line), "{line:?} missing:\n{screen}");
    }
    assert!(screen.contains("web-7.example.test"), "{screen}");
    // The joined answers, each on its field's line.
    for (label, value) in [
        ("host", "web-7"),
        ("mac", WEB7_MAC),
        ("vendor", "Intel Corporate"),
        ("switch", "access1"),
        ("port", "ge5"),
    ] {
        assert!(
            screen
                .lines()
                .any(|l| l.split_whitespace().next() == Some(label) && l.contains(value)),
            "{label} {value} missing:\n{screen}"
        );
    }
    assert!(
        !screen.contains("ec2 "),
        "empty fields are left out:\n{screen}"
    );
}
