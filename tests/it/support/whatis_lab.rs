//! The world whatis-ip and whatis-host join, filled by the real collectors from real peers:
//!
//! - hosts: `scan-hosts --local` run in network namespaces with dummy interfaces, so each host
//!   reports its own MACs and addresses: web-7 (eth0 = host A of the SNMP fixtures,
//!   10.0.10.5/24 and 2001:db8:10::5/64) and db-2 (10.0.10.9 and 10.0.10.10, with a MAC that is
//!   not the one router1's ARP table has for 10.0.10.9: an address conflict);
//! - switches: snmpsim serving tests/fixtures/snmp (core1, access1, access2, router1; router1's
//!   ARP and neighbour tables bind 10.0.10.5 and 2001:db8:10::5 to host A, 10.0.10.9 to host D),
//!   crawled by crawl-switches;
//! - cloud: moto with the sshec2 fleet (web-7, the stopped old-1, groups), synced by sync-ec2;
//! - DNS: dnsmasq with forward and reverse records, a CNAME chain, a PTR that does not resolve
//!   back, a PTR naming another host, and a name pointing at an address nothing has seen;
//! - a subnets file in CSV.

use std::path::PathBuf;

use super::moto::{Fleet, Moto};
use super::*;

/// Host A of the SNMP fixtures: learned on access1 ge5, in router1's ARP as 10.0.10.5.
pub const WEB7_MAC: &str = "00:1b:21:0a:00:01";
/// db-2's MAC; router1's ARP table has 00:1b:21:0d:00:04 for the same 10.0.10.9.
pub const DB2_MAC: &str = "00:1b:21:0d:00:99";
pub const ARP_MAC_OF_10_0_10_9: &str = "00:1b:21:0d:00:04";

pub struct Lab {
    pub env: Env,
    pub moto: Moto,
    pub fleet: Fleet,
    pub dns: Dnsmasq,
    /// --config FILE with the switches, the EC2 regions and the subnets file.
    pub config: PathBuf,
}

impl Lab {
    /// Runs a whatis tool against this lab's catalog, config and DNS server.
    pub fn run(&self, tool: Tool, args: &[&str]) -> Output {
        self.env.cmd(tool).args(self.args(args)).output().unwrap()
    }

    /// Like [`Lab::run`], with `input` on stdin.
    pub fn run_stdin(&self, tool: Tool, args: &[&str], input: &str) -> Output {
        run_with_stdin(self.env.cmd(tool).args(self.args(args)), input)
    }

    /// The lab's config and DNS server (unless `--no-dns` is among them), then `args`.
    fn args(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["--config".to_string(), self.config.display().to_string()];
        if !args.contains(&"--no-dns") {
            all.extend(["--dns-server".to_string(), self.dns.server()]);
        }
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// The JSON objects a run printed, one per line, after checking its exit status.
    pub fn json(&self, tool: Tool, args: &[&str], status: i32) -> Vec<serde_json::Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(tool, &all);
        assert_status(&out, status);
        stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Builds the lab: hosts scanned, switches crawled, EC2 synced, DNS started.
pub fn lab() -> Lab {
    let env = Env::new();
    let web7 = env.scan_with_interfaces(
        "web-7",
        &[TestInterface {
            name: "eth0",
            mac: WEB7_MAC,
            addresses: &["10.0.10.5/24", "2001:db8:10::5/64"],
        }],
    );
    assert_status(&web7, 0);
    let db2 = env.scan_with_interfaces(
        "db-2",
        &[TestInterface {
            name: "eth0",
            mac: DB2_MAC,
            addresses: &["10.0.10.9/24", "10.0.10.10/24"],
        }],
    );
    assert_status(&db2, 0);

    let sim = Snmpsim::start(
        &recordings(),
        &["127.0.2.1", "127.0.2.2", "127.0.2.3", "127.0.2.4"],
    );
    let moto = Moto::start();
    let fleet = moto.fleet();

    let subnets = env.home.join("subnets.csv");
    std::fs::write(
        &subnets,
        "prefix,name,vlan,site,description\n\
         10.0.0.0/16,dc1,,ams1,the first data centre\n\
         10.0.10.0/24,servers,10,ams1,web and database servers\n\
         2001:db8:10::/64,servers-v6,10,ams1,\n",
    )
    .unwrap();
    let mut config = String::from("[snmp]\ntimeout = 15\n\n");
    for (addr, community, role) in [
        ("127.0.2.1", "core1", "switch"),
        ("127.0.2.2", "access1", "switch"),
        ("127.0.2.3", "access2", "switch"),
        ("127.0.2.4", "router1", "router"),
    ] {
        config.push_str(&format!(
            "[[switch]]\naddress = \"{}\"\ncommunity = \"{community}\"\nrole = \"{role}\"\n\n",
            sim.at(addr)
        ));
    }
    config.push_str("[ec2]\nregions = [\"us-east-1\", \"eu-west-1\"]\n\n");
    config.push_str(&format!("[whatis]\nsubnets = \"{}\"\n", subnets.display()));
    let config_path = write_config(&env, &config);
    let c = config_path.to_str().unwrap();
    assert_status(&env.run(tool!("crawl-switches"), &["--config", c]), 0);
    // The whatis tools read the catalog; nothing asks the switches again.
    drop(sim);
    let mut sync = env.cmd(tool!("sync-ec2"));
    moto.env(&mut sync);
    assert_status(&sync.args(["--config", c]).output().unwrap(), 0);

    let old1 = format!("--host-record=old-1.example.test,{}", fleet.old1.private_ip);
    let dns = Dnsmasq::start_with_hosts(
        &[
            // Authoritative for these zones: unknown names are NXDOMAIN, not REFUSED.
            "--local=/example.test/",
            "--domain-needed",
            "--local=/10.in-addr.arpa/",
            "--local=/8.b.d.0.1.0.0.2.ip6.arpa/",
            "--host-record=web-7.example.test,10.0.10.5,2001:db8:10::5",
            "--cname=www.example.test,web.example.test",
            "--cname=web.example.test,web-7.example.test",
            // A PTR whose name has no address: not forward-confirmed.
            "--ptr-record=9.10.0.10.in-addr.arpa,old-db.example.test",
            // Confirmed, but db-2 has the address.
            "--host-record=backup.example.test,10.0.10.10",
            // Nothing has ever been seen on it.
            "--host-record=ghost.example.test,10.0.30.1",
            &old1,
        ],
        // web-7 has a second A record that the host does not report.
        "10.0.10.50 web-7.example.test\n",
    );
    Lab {
        env,
        moto,
        fleet,
        dns,
        config: config_path,
    }
}
