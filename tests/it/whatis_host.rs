//! `whatis-host` against a catalog filled by the real collector and a real DNS server.

use std::net::UdpSocket;

use crate::support::*;
use serde_json::Value;

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn joins_the_catalog_and_dns_for_a_scanned_host() {
    let env = Env::new();
    let db = DpkgDb::new(&[
        Pkg {
            name: "openssl",
            version: "3.0.11-1~deb12u2",
            arch: "amd64",
        },
        Pkg {
            name: "bash",
            version: "5.2.15-2+b2",
            arch: "amd64",
        },
    ]);
    assert_status(&env.scan_as("web-7", Some(&db)), 0);
    let dns = Dnsmasq::start(&[
        "--host-record=web-7.example.test,192.0.2.7,2001:db8::7",
        "--host-record=dns-only.example.test,198.51.100.9",
        // Authoritative for example.test: unknown names get NXDOMAIN, not REFUSED.
        "--local=/example.test/",
    ]);

    // By FQDN: the catalog matches the short hostname, DNS answers both families.
    let out = env.run(
        tool!("whatis-host"),
        &[
            "--dns-server",
            &dns.server(),
            "--json",
            "web-7.example.test",
        ],
    );
    assert_status(&out, 0);
    let cards = json_lines(&out);
    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_eq!(card["query"], "web-7.example.test");
    assert_eq!(card["host"], "web-7");
    assert_eq!(
        card["dns_addresses"],
        serde_json::json!(["192.0.2.7", "2001:db8::7"])
    );
    assert_eq!(card["dns_error"], Value::Null);
    assert_eq!(card["packages"], serde_json::json!({"dpkg": 2}));
    assert_eq!(card["package_count"], 2);
    assert_eq!(card["last_scan"], "scan-hosts local");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(card["kernel"], release.trim());
    let lo = card["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "lo")
        .expect("lo interface");
    assert!(
        lo["addresses"]
            .as_array()
            .unwrap()
            .contains(&Value::from("127.0.0.1/8"))
    );
    assert!(
        card["addresses"]
            .as_array()
            .unwrap()
            .contains(&Value::from("127.0.0.1/8"))
    );

    // A name only DNS knows is still an answer.
    let out = env.run(
        tool!("whatis-host"),
        &[
            "--dns-server",
            &dns.server(),
            "--json",
            "dns-only.example.test",
        ],
    );
    assert_status(&out, 0);
    let cards = json_lines(&out);
    assert_eq!(cards[0]["host"], Value::Null);
    assert_eq!(
        cards[0]["dns_addresses"],
        serde_json::json!(["198.51.100.9"])
    );

    // Nobody knows this one: exit 1, one line naming it; the known one still printed.
    let out = env.run_stdin(
        tool!("whatis-host"),
        &["--dns-server", &dns.server(), "-f", "query,host"],
        "web-7\nnobody.example.test\n",
    );
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "web-7\tweb-7\n");
    assert_eq!(
        stderr(&out),
        "whatis-host: nobody.example.test: not in the catalog or DNS\n"
    );
}

#[test]
fn a_dns_server_that_never_answers_times_out_and_the_catalog_still_answers() {
    let env = Env::new();
    assert_status(&env.scan_as("quiet-1", None), 0);
    // A socket that receives queries and never replies: a hung DNS server.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();
    let out = env.run(
        tool!("whatis-host"),
        &[
            "--dns-server",
            &server,
            "--dns-timeout",
            "0.3",
            "--json",
            "quiet-1",
            "missing-1",
        ],
    );
    assert_status(&out, 1);
    let cards = json_lines(&out);
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["host"], "quiet-1");
    assert!(
        cards[0]["dns_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{}",
        cards[0]
    );
    let err = stderr(&out);
    assert!(
        err.starts_with("whatis-host: missing-1: not in the catalog, and DNS failed:"),
        "{err}"
    );
}

#[test]
fn names_match_case_insensitively_by_short_name_and_without_dns() {
    let env = Env::new();
    assert_status(&env.scan_as("DB-Primary", None), 0);
    for query in ["DB-Primary", "db-primary", "DB-PRIMARY."] {
        let out = env.run(tool!("whatis-host"), &["--no-dns", "-f", "host", query]);
        assert_status(&out, 0);
        assert_eq!(stdout(&out), "DB-Primary\n", "{query}");
    }
    let out = env.run(tool!("whatis-host"), &["--no-dns", "db"]);
    assert_status(&out, 1);
    assert_eq!(stderr(&out), "whatis-host: db: not in the catalog\n");
}

#[test]
fn bad_input_is_a_usage_error() {
    let env = Env::new();
    let out = env.run(
        tool!("whatis-host"),
        &["--dns-server", "not-an-address", "x"],
    );
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("malformed DNS server"),
        "{}",
        stderr(&out)
    );
    let out = env.run(
        tool!("whatis-host"),
        &["--no-dns", "--dns-server", "127.0.0.1", "x"],
    );
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("--no-dns") && stderr(&out).contains("--dns-server"),
        "{}",
        stderr(&out)
    );
    // No names at all on stdin.
    let out = env.run_stdin(tool!("whatis-host"), &["--no-dns"], "\n# only a comment\n");
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("no host names given"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_terminal_gets_a_card() {
    let env = Env::new();
    assert_status(&env.scan_as("card-1", None), 0);
    let screen = run_in_pty(
        &env,
        &format!("{} --no-dns card-1", tool!("whatis-host").path().display()),
        &[("NO_COLOR", "1")],
        0,
    );
    let host_line = screen
        .lines()
        .find(|l| l.starts_with("host "))
        .unwrap_or_default();
    assert!(host_line.trim_end().ends_with("card-1"), "{screen}");
    // Interfaces are a sub-table under a line of column names, a row per interface.
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("interfaces "))
        .unwrap_or_else(|| panic!("{screen}"));
    let header: Vec<&str> = lines[at].split_whitespace().collect();
    assert_eq!(
        header[..4],
        ["interfaces", "name", "mac", "state"],
        "{screen}"
    );
    assert!(
        lines[at + 1..]
            .iter()
            .take_while(|l| l.starts_with(' '))
            .any(|l| l.split_whitespace().next() == Some("lo")),
        "{screen}"
    );
    // Empty fields are left out of a card.
    assert!(
        !screen.lines().any(|l| l.starts_with("dns_error")),
        "{screen}"
    );
}

#[test]
fn joins_dns_switch_ports_and_the_cloud_and_flags_disagreements() {
    let lab = crate::support::whatis_lab::lab();
    // An alias: the CNAME chain leads to web-7, which the catalog knows.
    let cards = lab.json(tool!("whatis-host"), &["www.example.test"], 0);
    assert_eq!(cards.len(), 1);
    let c = &cards[0];
    assert_eq!(c["host"], "web-7");
    assert_eq!(
        c["cnames"],
        serde_json::json!(["web.example.test", "web-7.example.test"])
    );
    let mut dns: Vec<&str> = c["dns_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    dns.sort();
    assert_eq!(dns, ["10.0.10.5", "10.0.10.50", "2001:db8:10::5"]);
    // The PTR of every address, DNS's and the host's own.
    let ptr: Vec<String> = c["ptr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {} {}", p["address"], p["name"], p["confirmed"]))
        .collect();
    for want in [
        "\"10.0.10.5\" \"web-7.example.test\" true",
        "\"2001:db8:10::5\" \"web-7.example.test\" true",
        "\"10.0.10.50\" \"web-7.example.test\" true",
    ] {
        assert!(ptr.contains(&want.to_string()), "{ptr:?}");
    }
    // The switch port of its interface's MAC, as which-switch decides it.
    let port = &c["switch_ports"][0];
    assert_eq!(port["interface"], "eth0");
    assert_eq!(port["mac"], crate::support::whatis_lab::WEB7_MAC);
    assert_eq!(
        (port["switch"].as_str(), port["port"].as_str()),
        (Some("access1"), Some("ge5"))
    );
    assert_eq!(port["vendor"], "Intel Corporate");
    // The EC2 instance named like it, with its tags.
    assert_eq!(c["ec2"][0]["id"], lab.fleet.web7.id);
    assert_eq!(c["ec2"][0]["tags"]["env"], "prod");
    // When each source last saw it.
    let seen = c["last_seen_by"].as_object().unwrap();
    for source in [
        "scan-hosts",
        "switch forwarding tables",
        "router ARP/neighbour tables",
        "ec2",
    ] {
        assert!(seen.contains_key(source), "{seen:?}");
    }
    // DNS gives an address the host does not have.
    assert_eq!(
        c["disagreements"],
        serde_json::json!(["DNS gives 10.0.10.50, which web-7 does not report on any interface"])
    );

    // A host not scanned for longer than --stale is flagged (the lab took seconds to build).
    let cards = lab.json(
        tool!("whatis-host"),
        &["--stale", "1s", "-f", "disagreements", "web-7"],
        0,
    );
    let flagged = cards[0]["disagreements"].as_array().unwrap();
    assert!(
        flagged
            .iter()
            .any(|d| d.as_str().unwrap().contains("longer ago than --stale")),
        "{flagged:?}"
    );

    // db-2: a PTR that does not resolve back, a confirmed one naming another host, and
    // addresses DNS does not give for the name (db-2 is not in DNS at all).
    let cards = lab.json(tool!("whatis-host"), &["db-2"], 0);
    let d: Vec<&str> = cards[0]["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        d.contains(&"db-2 reports 10.0.10.9, 10.0.10.10, which DNS does not give for the name"),
        "{d:?} {}",
        cards[0]
    );
    assert!(
        d.iter()
            .any(|x| x.starts_with("PTR old-db.example.test does not resolve back to 10.0.10.9")),
        "{d:?}"
    );
    assert!(
        d.contains(&"PTR of 10.0.10.10 is backup.example.test, not db-2"),
        "{d:?}"
    );

    // DNS still pointing at a stopped instance's address.
    let cards = lab.json(tool!("whatis-host"), &["old-1.example.test"], 0);
    assert_eq!(cards[0]["host"], Value::Null);
    assert_eq!(cards[0]["ec2"][0]["id"], lab.fleet.old1.id);
    assert_eq!(
        cards[0]["disagreements"],
        serde_json::json!([format!(
            "DNS gives {}, the address of EC2 instance {}, which is stopped",
            lab.fleet.old1.private_ip, lab.fleet.old1.id
        )])
    );
}

#[test]
fn names_with_control_characters_are_refused_and_many_names_resolve_together() {
    let lab = crate::support::whatis_lab::lab();
    let mut input = String::from("web\x1b]0;pwned\x07-7\n");
    for _ in 0..200 {
        input.push_str("web-7.example.test\nnobody.example.test\n");
    }
    let out = lab.run_stdin(tool!("whatis-host"), &["-f", "query,host"], &input);
    assert_status(&out, 1);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 200);
    assert!(lines.iter().all(|l| *l == "web-7.example.test\tweb-7"));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "whatis-host: web\\x1b]0;pwned\\x07-7: not a host name (control characters or spaces)\n"
        ),
        "{err}"
    );
    assert_eq!(
        err.matches("whatis-host: nobody.example.test: not in the catalog or DNS")
            .count(),
        200
    );
}
