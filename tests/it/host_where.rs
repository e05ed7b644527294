//! `host-where` against catalogs filled by the real scan-hosts: a fleet of real sshd hosts with
//! distinct os-release files and custom facts (text, JSON, a huge JSON document, one with
//! escapes, one that changes between scans), and this machine scanned locally.

use std::process::Output;

use serde_json::{Value, json};

use crate::support::sshd::{Fleet, HostSpec, KnownHosts, Os};
use crate::support::*;

/// The custom facts: text, JSON from files each host carries, a value full of escapes, and a
/// JSON document of about a megabyte. `docker` reads `DOCKER`, so that a second scan can read
/// another file.
fn facts_config(docker: &str, extra: &str) -> String {
    format!(
        "[[fact]]\nname = \"role\"\ncommand = [\"cat\", \"/root/role\"]\n\
         [[fact]]\nname = \"docker\"\nformat = \"json\"\n\
         command = [\"sh\", \"-c\", \"cat {docker} 2>/dev/null || echo null\"]\n\
         [[fact]]\nname = \"raid\"\nformat = \"json\"\ncommand = [\"cat\", \"/root/raid.json\"]\n\
         [[fact]]\nname = \"motd\"\ncommand = [\"printf\", \"%b\", \"tab\\\\there \\\"q\\\" back\\\\\\\\slash \\\\033[31mred é\"]\n\
         [[fact]]\nname = \"big\"\nformat = \"json\"\n\
         command = [\"sh\", \"-c\", \"cat /root/big.json 2>/dev/null || echo null\"]\n\
         [groups]\nweb = [\"web-*\"]\nfleet = [\"web\", \"db-1\"]\n{extra}"
    )
}

const MOTD: &str = "tab\there \"q\" back\\slash \u{1b}[31mred é";

fn big_json() -> String {
    let items: Vec<Value> = (0..20_000)
        .map(|i| json!({"name": format!("item-{i}"), "size": i, "tags": ["a", "b"]}))
        .collect();
    json!({ "items": items }).to_string()
}

struct Lab {
    fleet: Fleet,
    env: Env,
    config: String,
}

impl Lab {
    fn start() -> Lab {
        let raid = |states: &[&str]| {
            let arrays: Vec<Value> = states
                .iter()
                .enumerate()
                .map(|(i, s)| json!({"name": format!("md{i}"), "state": s}))
                .collect();
            json!({ "arrays": arrays }).to_string()
        };
        let docker = |v: &str, n: u32| json!({"ServerVersion": v, "Containers": n}).to_string();
        let fleet = Fleet::start(vec![
            HostSpec::new("web-1", Os::Debian12)
                .pkg("bash", "5.2.15-2+b2")
                .file("/root/role", "web\n")
                .file("/root/docker.json", docker("20.10.24", 3))
                .file("/root/docker2.json", docker("20.10.24", 3))
                .file("/root/raid.json", raid(&["clean", "degraded"])),
            HostSpec::new("web-2", Os::Ubuntu2204)
                .file("/root/role", "web\n")
                .file("/root/docker.json", docker("24.0.7", 12))
                .file("/root/docker2.json", docker("25.0.1", 12))
                .file("/root/raid.json", raid(&["clean"])),
            HostSpec::new("db-1", Os::Rocky9)
                .pkg("bash", "5.1.8-9.el9")
                .file("/root/role", "db\n")
                .file("/root/raid.json", raid(&["clean", "clean"])),
            HostSpec::new("old-1", Os::Debian11)
                .file("/root/role", "legacy\n")
                .file("/root/docker.json", docker("19.03.15", 1))
                .file("/root/docker2.json", docker("19.03.15", 1))
                .file("/root/raid.json", raid(&[]))
                .file("/root/big.json", big_json()),
        ]);
        let env = Env::new();
        fleet.install_client(&env.home, KnownHosts::Hashed);
        fleet.install_ssh_config(&env.home);
        let old = fleet.host("old-1").target();
        let config = write_config(
            &env,
            &facts_config("/root/docker.json", &format!("legacy = [\"{old}\"]\n")),
        )
        .to_str()
        .unwrap()
        .to_string();
        // Three hosts by their ~/.ssh/config alias, one by address, as a hosts file has it.
        let out = env.run(
            tool!("scan-hosts"),
            &["--config", &config, "web-1", "web-2", "db-1", &old],
        );
        assert_status(&out, 0);
        Lab { fleet, env, config }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--config", self.config.as_str()];
        all.extend_from_slice(args);
        self.env.run(tool!("host-where"), &all)
    }

    /// The hosts that match, one per line (`-f host`), checking the exit status: 0 when some
    /// host matches, 1 (and nothing at all printed) when none does.
    fn hosts(&self, terms: &[&str]) -> Vec<String> {
        let mut args = vec!["-f", "host"];
        args.extend_from_slice(terms);
        let out = self.run(&args);
        let hosts: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
        assert_status(&out, if hosts.is_empty() { 1 } else { 0 });
        assert_eq!(stderr(&out), "", "{terms:?}");
        hosts
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_status(&out, 0);
        stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Exit status 2, nothing on stdout, and the one line on stderr containing `want`.
    fn refuses(&self, args: &[&str], want: &str) {
        let out = self.run(args);
        assert_status(&out, 2);
        assert_eq!(stdout(&out), "", "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

fn proc_value(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
        .unwrap()
}

#[test]
fn host_where_answers_which_hosts_have_a_fact() {
    let lab = Lab::start();
    let all = ["db-1", "old-1", "web-1", "web-2"];

    // No term: every host, in name order.
    assert_eq!(lab.hosts(&[]), all);

    // Text: exact equality, inequality only among hosts that report the fact.
    assert_eq!(lab.hosts(&["os_id=debian"]), ["old-1", "web-1"]);
    assert_eq!(lab.hosts(&["os_id==debian"]), ["old-1", "web-1"]);
    assert_eq!(lab.hosts(&["os_id!=debian"]), ["db-1", "web-2"]);
    assert_eq!(lab.hosts(&["os_id=Debian"]), Vec::<String>::new());
    // Versions in version order: "9.4" < "11" < "12" < "22.04", which text order gets wrong.
    assert_eq!(lab.hosts(&["os_id=debian", "os_version<12"]), ["old-1"]);
    assert_eq!(lab.hosts(&["os_version>=12", "os_id=debian"]), ["web-1"]);
    assert_eq!(lab.hosts(&["os_version>9"]), all);
    assert_eq!(lab.hosts(&["os_version>9.4"]), ["old-1", "web-1", "web-2"]);
    assert_eq!(lab.hosts(&["os_version<=9.4"]), ["db-1"]);
    // Regexes, and their negation.
    assert_eq!(lab.hosts(&["os~^(Rocky|Ubuntu) "]), ["db-1", "web-2"]);
    assert_eq!(lab.hosts(&["os!~Linux"]), ["web-2"]);

    // The kernel, memory and CPUs are this machine's: every host shares them.
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let kernel = kernel.trim();
    let major: u64 = kernel.split('.').next().unwrap().parse().unwrap();
    assert_eq!(lab.hosts(&[&format!("kernel={kernel}")]), all);
    assert_eq!(lab.hosts(&[&format!("kernel<={kernel}")]), all);
    assert!(lab.hosts(&[&format!("kernel<{kernel}")]).is_empty());
    assert_eq!(lab.hosts(&[&format!("kernel<{}", major + 1)]), all);
    assert!(lab.hosts(&[&format!("kernel<{major}")]).is_empty());
    assert_eq!(lab.hosts(&[&format!("kernel>={major}.0")]), all);
    let kib: u64 = proc_value("/proc/meminfo", "MemTotal:")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    let bytes = kib * 1024;
    assert_eq!(lab.hosts(&[&format!("memory={bytes}")]), all);
    assert_eq!(lab.hosts(&[&format!("memory_bytes>={kib}KiB")]), all);
    assert_eq!(lab.hosts(&[&format!("memory<{}K", kib + 1)]), all);
    assert!(lab.hosts(&[&format!("memory>{kib}k")]).is_empty());
    let gib = bytes as f64 / (1u64 << 30) as f64;
    let under_8 = if gib < 8.0 { all.to_vec() } else { vec![] };
    assert_eq!(lab.hosts(&["memory<8GiB"]), under_8);
    assert_eq!(
        lab.hosts(&["memory<8gb"]),
        if bytes < 8_000_000_000 {
            all.to_vec()
        } else {
            vec![]
        }
    );
    let cpus = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    assert_eq!(lab.hosts(&[&format!("cpu_count={cpus}")]), all);
    assert!(lab.hosts(&[&format!("cpu_count>{cpus}")]).is_empty());

    // Times: an age counts back from now, a date is midnight UTC.
    let btime: i64 = proc_value("/proc/stat", "btime ").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // A machine booted within a minute of 7 days ago could go either way; this one was not.
    if (now - btime - 7 * 86_400).abs() > 60 {
        let old_boot = if btime < now - 7 * 86_400 {
            all.to_vec()
        } else {
            vec![]
        };
        assert_eq!(lab.hosts(&["boot_time<7d"]), old_boot);
    }
    assert_eq!(lab.hosts(&["boot_time>1970-01-02"]), all);
    assert!(lab.hosts(&["boot_time<1970-01-02T00:00:00Z"]).is_empty());
    assert_eq!(lab.hosts(&["last_seen>1h"]), all);
    assert_eq!(lab.hosts(&["--seen-within", "1h"]), all);
    assert!(lab.hosts(&["--stale", "1h"]).is_empty());
    assert_eq!(lab.hosts(&["--stale", "2100-01-01T00:00:00Z"]), all);
    assert_eq!(lab.hosts(&["host~^web-"]), ["web-1", "web-2"]);

    // A custom text fact.
    assert_eq!(lab.hosts(&["role=web"]), ["web-1", "web-2"]);
    assert_eq!(lab.hosts(&["role!~web"]), ["db-1", "old-1"]);
    assert_eq!(lab.hosts(&["role<web"]), ["db-1", "old-1"]);
    // JSON custom facts, by path: a text field in version order, a number field numerically.
    assert_eq!(lab.hosts(&["docker.ServerVersion<24"]), ["old-1", "web-1"]);
    assert_eq!(lab.hosts(&["docker.ServerVersion>=24"]), ["web-2"]);
    assert_eq!(lab.hosts(&["docker.Containers>=10"]), ["web-2"]);
    assert_eq!(lab.hosts(&["docker.Containers<3"]), ["old-1"]);
    assert_eq!(lab.hosts(&["docker"]), ["old-1", "web-1", "web-2"]);
    assert_eq!(lab.hosts(&["!docker"]), ["db-1"]);
    assert_eq!(lab.hosts(&["!os_id"]), Vec::<String>::new());
    assert_eq!(lab.hosts(&["raid.arrays[*].state=degraded"]), ["web-1"]);
    assert_eq!(lab.hosts(&["raid.arrays[*].state!=clean"]), ["web-1"]);
    assert_eq!(
        lab.hosts(&["raid.arrays[0].state=clean"]),
        ["db-1", "web-1", "web-2"]
    );
    assert_eq!(lab.hosts(&["raid.arrays[1]"]), ["db-1", "web-1"]);
    assert_eq!(lab.hosts(&["raid~degraded"]), ["web-1"]);
    assert_eq!(lab.hosts(&["raid.arrays=[]"]), ["old-1"]);
    // Every term must hold.
    assert_eq!(
        lab.hosts(&["role=web", "docker.ServerVersion<24"]),
        ["web-1"]
    );
    assert!(
        lab.hosts(&["role=db", "docker.ServerVersion<24"])
            .is_empty()
    );

    // A huge JSON document, addressed deep inside.
    assert_eq!(lab.hosts(&["big.items[19999].name=item-19999"]), ["old-1"]);
    assert_eq!(lab.hosts(&["big.items[*].size>19998"]), ["old-1"]);
    assert!(lab.hosts(&["big.items[*].size>19999"]).is_empty());

    // A value with a tab, quotes, a backslash, an escape sequence and UTF-8 comes back exact in
    // JSON, and escaped (one line, no raw control character) in text.
    let rows = lab.json(&["motd~back", "-f", "host,motd"]);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], json!({"host": "db-1", "motd": MOTD}));
    assert_eq!(lab.hosts(&[&format!("motd={MOTD}")]), all);
    let out = lab.run(&["-f", "host,motd", "host=web-1"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "web-1\ttab\\there \"q\" back\\\\slash \\x1b[31mred é\n"
    );

    // The facts the terms name are columns after the host; -f names any fact.
    let rows = lab.json(&["os_id=debian", "docker.ServerVersion<24"]);
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "host",
            "os_id",
            "docker.ServerVersion",
            "last_seen",
            "fqdn",
            "first_seen"
        ]
    );
    assert_eq!(rows[0]["host"], "old-1");
    assert_eq!(rows[1]["docker.ServerVersion"], "20.10.24");
    let out = lab.run(&["os_id=debian", "docker.ServerVersion<24"]);
    let line = stdout(&out).lines().next().unwrap().to_string();
    let cells: Vec<&str> = line.split('\t').collect();
    assert_eq!(&cells[..3], ["old-1", "debian", "19.03.15"]);
    let rows = lab.json(&[
        "-f",
        "host,role,memory,boot_time,raid.arrays[*].state,docker",
        "host=web-1",
    ]);
    assert_eq!(
        rows,
        [json!({
            "host": "web-1",
            "role": "web",
            "memory": bytes,
            "boot_time": rows[0]["boot_time"].clone(),
            "raid.arrays[*].state": ["clean", "degraded"],
            "docker": {"ServerVersion": "20.10.24", "Containers": 3},
        })]
    );
    assert!(
        rows[0]["boot_time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 20)
    );
    let rows = lab.json(&["-f", "host,docker", "host=db-1"]);
    assert_eq!(rows, [json!({"host": "db-1", "docker": null})]);

    // --count: hosts per value, in the fact's order, those without it last.
    let count = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--count"];
        all.extend_from_slice(args);
        let out = lab.run(&all);
        assert_status(&out, 0);
        stdout(&out).lines().map(str::to_string).collect()
    };
    assert_eq!(
        count(&["os_version"]),
        ["9.4\t1", "11\t1", "12\t1", "22.04\t1"]
    );
    assert_eq!(count(&["os_id"]), ["debian\t2", "rocky\t1", "ubuntu\t1"]);
    assert_eq!(
        count(&["docker.ServerVersion"]),
        ["19.03.15\t1", "20.10.24\t1", "24.0.7\t1", "\t1"]
    );
    assert_eq!(
        count(&["docker.Containers"]),
        ["1\t1", "3\t1", "12\t1", "\t1"]
    );
    assert_eq!(
        count(&["raid.arrays[*].state"]),
        ["clean\t3", "degraded\t1", "\t1"]
    );
    assert_eq!(count(&["role", "os_id=debian"]), ["legacy\t1", "web\t1"]);
    assert_eq!(count(&["memory"]), [format!("{bytes}\t4")]);
    let rows = lab.json(&["--count", "kernel"]);
    assert_eq!(
        rows,
        [json!({"value": kernel, "hosts": 4, "fact": "kernel"})]
    );

    // --hosts: globs, groups (nested, and by the address a host was scanned at), stdin.
    assert_eq!(lab.hosts(&["--hosts", "web-*"]), ["web-1", "web-2"]);
    assert_eq!(lab.hosts(&["--hosts", "WEB-2,old-*"]), ["old-1", "web-2"]);
    assert_eq!(lab.hosts(&["--hosts", "web"]), ["web-1", "web-2"]);
    assert_eq!(lab.hosts(&["--hosts", "fleet", "role!=web"]), ["db-1"]);
    assert_eq!(lab.hosts(&["--hosts", "legacy"]), ["old-1"]);
    let pkg = lab.env.run(tool!("pkg-where"), &["bash"]);
    assert_status(&pkg, 0);
    let out = lab.env.run_stdin(
        tool!("host-where"),
        &[
            "--config",
            &lab.config,
            "-f",
            "host",
            "--hosts",
            "-",
            "os_id=debian",
        ],
        &stdout(&pkg),
    );
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "web-1\n");

    // Facts, paths and groups that do not exist are errors that say so, and where.
    lab.refuses(&["nosuchfact"], "term 1 \"nosuchfact\", at character 1: no host in the catalog has a fact named \"nosuchfact\" (custom facts: big, docker, motd, raid, role;");
    lab.refuses(
        &["role=web", "docker.NoSuchKey<24"],
        "term 2 \"docker.NoSuchKey<24\", at character 7: no host's docker has a key \"NoSuchKey\" (keys seen: ServerVersion, Containers)",
    );
    lab.refuses(
        &["raid.arrays[*].nope=x"],
        "at character 15: no host's raid.arrays[*] has a key \"nope\" (keys seen: name, state)",
    );
    lab.refuses(
        &["docker.ServerVersion.major=1"],
        "at character 21: no host's docker.ServerVersion is an object",
    );
    lab.refuses(
        &["raid.arrays[9]"],
        "at character 12: no host's raid.arrays is a list with an element 9",
    );
    lab.refuses(
        &["kernel.major=6"],
        "at character 7: kernel is a plain value",
    );
    lab.refuses(
        &["docker.Containers>many"],
        "at character 19: expected a number",
    );
    lab.refuses(
        &["-f", "host,nope.x"],
        "fact \"nope.x\", at character 1: no host in the catalog",
    );
    lab.refuses(
        &["--count", "raid.x"],
        "fact \"raid.x\", at character 5: no host's raid has a key \"x\"",
    );
    lab.refuses(&["--hosts", "", "os_id=debian"], "--hosts named no host");

    // A host named on stdin by the pipe's other end: host-where's output feeds scan-hosts.
    let before = lab.env.sql("SELECT count(*) FROM scans");
    let mut hw = lab.env.cmd(tool!("host-where"));
    hw.args(["--config", &lab.config, "raid~degraded", "-f", "host"]);
    let found = hw.output().unwrap();
    assert_eq!(stdout(&found), "web-1\n");
    let out = lab.env.run_stdin(
        tool!("scan-hosts"),
        &["--config", &lab.config],
        &stdout(&found),
    );
    assert_status(&out, 0);
    let after = lab.env.sql("SELECT count(*) FROM scans");
    assert_eq!(
        after[0].parse::<i64>().unwrap(),
        before[0].parse::<i64>().unwrap() + 1
    );

    // A second scan in which web-2's docker fact changes: history, per path.
    let config2 = write_config(
        &lab.env,
        &facts_config(
            "/root/docker2.json",
            &format!("legacy = [\"{}\"]\n", lab.fleet.host("old-1").target()),
        ),
    );
    let config2 = config2.to_str().unwrap();
    let old = lab.fleet.host("old-1").target();
    let out = lab.env.run(
        tool!("scan-hosts"),
        &["--config", config2, "web-1", "web-2", "db-1", &old],
    );
    assert_status(&out, 0);
    let rows = lab.json(&["--changed-since", "1h", "docker.ServerVersion"]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["host"], "web-2");
    assert_eq!(rows[0]["fact"], "docker.ServerVersion");
    assert_eq!(rows[0]["from"], "24.0.7");
    assert_eq!(rows[0]["to"], "25.0.1");
    // The whole fact changed too, and nothing else did on any host.
    let rows = lab.json(&["--changed-since", "1h"]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["fact"], "docker");
    assert_eq!(
        rows[0]["from"],
        json!({"ServerVersion": "24.0.7", "Containers": 12})
    );
    assert_eq!(
        rows[0]["to"],
        json!({"ServerVersion": "25.0.1", "Containers": 12})
    );
    // Containers did not change, so that path has no change; terms still filter hosts.
    for args in [
        &["--changed-since", "1h", "docker.Containers"][..],
        &["--changed-since", "1h", "kernel"],
        &["--changed-since", "1h", "docker", "role=db"],
        &["--changed-since", "2100-01-01T00:00:00Z"],
    ] {
        let out = lab.run(args);
        assert_status(&out, 1);
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    assert_eq!(lab.hosts(&["docker.ServerVersion>=25"]), ["web-2"]);
    lab.refuses(
        &["--changed-since", "1h", "last_seen"],
        "last_seen is not kept with history",
    );
    drop(lab.fleet);
}

#[test]
fn host_where_refuses_malformed_terms_with_the_term_and_the_character() {
    let env = Env::new();
    assert_status(&env.run(tool!("scan-hosts"), &["--local"]), 0);
    let refuses = |args: &[&str], want: &str| {
        let out = env.run(tool!("host-where"), args);
        assert_status(&out, 2);
        assert_eq!(stdout(&out), "");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("host-where: "), "{err}");
        assert!(err.contains(want), "{args:?}: {err}");
    };
    refuses(
        &["kernel<<"],
        "term 1 \"kernel<<\", at character 8: expected a value after \"<\", found '<'",
    );
    refuses(&["os_id=debian", "kernel<<"], "term 2 \"kernel<<\"");
    refuses(
        &["memory<8Gix"],
        "term 1 \"memory<8Gix\", at character 9: unknown unit \"Gix\"",
    );
    refuses(&["memory<lots"], "at character 8: expected a number");
    refuses(
        &["os~("],
        "at character 4: bad regular expression: unclosed group",
    );
    // A pattern that would compile to gigabytes is refused, not built.
    refuses(
        &["os~(a{1000}){1000}"],
        "at character 4: bad regular expression: Compiled regex exceeds size limit",
    );
    refuses(&["boot_time<7x"], "at character 12: expected an age");
    refuses(&["boot_time>yesterday"], "at character 11: expected an age");
    refuses(&["<6"], "at character 1: expected a fact name, found '<'");
    refuses(&["!kernel=6"], "at character 8: unexpected '='");
    refuses(&["kernel!"], "at character 7: expected an operator");
    refuses(&["kernel[0]=6"], "at character 7: kernel is a plain value");
    refuses(&["a[1"], "at character 2: '[' is not closed");
    refuses(&["\"unclosed=1"], "at character 1: '\"' is not closed");
    refuses(
        &["--count", "kernel<6"],
        "fact \"kernel<6\", at character 7: unexpected '<'",
    );
    refuses(
        &["-f", "host,a..b"],
        "fact \"a..b\", at character 3: expected a key",
    );
    refuses(&["--stale", "soon"], "bad time \"soon\"");
    refuses(&["--changed-since=-1d"], "bad time");
    // A term that is fine but matches nothing: exit 1, and silence for cron.
    let out = env.run(tool!("host-where"), &["kernel<0"]);
    assert_status(&out, 1);
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("", ""));
    // At a terminal, a person is told.
    let shell = format!("{} 'kernel<0'", tool!("host-where").path().display());
    let text = run_in_pty(&env, &shell, &[], 1);
    assert!(text.contains("host-where: no host matches"), "{text}");
}

#[test]
fn host_where_groups_refuse_cycles_and_expand_deep_nesting_once() {
    let env = Env::new();
    assert_status(&env.run(tool!("scan-hosts"), &["--local"]), 0);
    let cycle = write_config(&env, "[groups]\na = [\"b\"]\nb = [\"c\"]\nc = [\"a\"]\n");
    let out = env.run(
        tool!("host-where"),
        &["--config", cycle.to_str().unwrap(), "--hosts", "a"],
    );
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("[groups] has a cycle: a -> b -> c -> a"),
        "{}",
        stderr(&out)
    );
    // Twelve members at each of eight levels: 12^8 paths if each were walked, one pass here.
    let mut text = String::from("[groups]\n");
    for level in 0..8 {
        let members: Vec<String> = (0..12)
            .map(|i| {
                if level == 7 {
                    format!("\"leaf-{i}\"")
                } else {
                    format!("\"g{}\"", level + 1)
                }
            })
            .collect();
        text.push_str(&format!("g{level} = [{}]\n", members.join(", ")));
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    text = text.replace("\"leaf-0\"", &format!("\"{}\"", hostname.trim()));
    let deep = write_config(&env, &text);
    let out = env.run(
        tool!("host-where"),
        &[
            "--config",
            deep.to_str().unwrap(),
            "--hosts",
            "g0",
            "-f",
            "host",
        ],
    );
    assert_status(&out, 0);
    assert_eq!(stdout(&out).trim(), hostname.trim());
}
