//! sshec2 against a real moto server: which instance each kind of target resolves to, the
//! address and ssh argument vector it prints, the pick policies, Auto Scaling groups (never an
//! unhealthy or stopped instance), the real ssh it execs, and the errors a user can cause.

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::time::Duration;

use crate::support::moto::{Fleet, Moto};
use crate::support::*;

fn sshec2(env: &Env, moto: &Moto, args: &[&str]) -> Output {
    let mut cmd = env.cmd(tool!("sshec2"));
    moto.env(&mut cmd);
    cmd.args(args).output().unwrap()
}

/// Runs and expects success with one line of output.
#[track_caller]
fn line(env: &Env, moto: &Moto, args: &[&str]) -> String {
    let out = sshec2(env, moto, args);
    assert_status(&out, 0);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    text.trim_end().to_string()
}

fn public(m: &crate::support::moto::Made) -> String {
    m.public_ip.clone().expect("fixture has a public address")
}

#[test]
fn targets_resolve_to_the_right_instance_and_address() {
    let moto = Moto::start();
    let fleet: Fleet = moto.fleet();
    let env = Env::new();
    let w = &fleet.web7;

    // By Name, id, private and public address: public first (auto), private on request.
    assert_eq!(line(&env, &moto, &["web-7", "--print"]), public(w));
    assert_eq!(
        line(&env, &moto, &[&w.id, "--print", "--address", "private"]),
        w.private_ip
    );
    assert_eq!(line(&env, &moto, &[&w.private_ip, "--print"]), public(w));
    assert_eq!(
        line(
            &env,
            &moto,
            &[&public(w), "--print", "--address", "private"]
        ),
        w.private_ip
    );
    // A glob, and any tag.
    assert_eq!(line(&env, &moto, &["web-?", "--print"]), public(w));
    assert_eq!(
        line(&env, &moto, &["-t", "role=db", "--print"]),
        fleet.db1.private_ip
    );
    // By DNS name, as --list reports it.
    let out = sshec2(&env, &moto, &["web-7", "--list", "--json"]);
    assert_status(&out, 0);
    let row: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(row["id"], w.id.as_str());
    assert_eq!(row["tags"]["role"], "web");
    let dns = row["private_dns"].as_str().unwrap().to_string();
    assert_eq!(line(&env, &moto, &[&dns, "--print"]), public(w));

    // The argument vector: user from the target, then -l; ssh arguments after the address.
    assert_eq!(
        line(
            &env,
            &moto,
            &["admin@web-7", "--print-argv", "--", "-A", "ls -l /tmp"]
        ),
        format!("ssh -l admin {} -A 'ls -l /tmp'", public(w))
    );
    assert_eq!(
        line(&env, &moto, &["db-1", "-l", "ec2-user", "--print-argv"]),
        format!("ssh -l ec2-user {}", fleet.db1.private_ip)
    );
    // The config's user and address preference apply when the command line says nothing.
    let config = write_config(&env, "[ec2]\nuser = \"ubuntu\"\naddress = \"private\"\n");
    let c = config.to_str().unwrap();
    assert_eq!(
        line(&env, &moto, &["web-7", "--config", c, "--print-argv"]),
        format!("ssh -l ubuntu {}", w.private_ip)
    );

    // No public address: auto falls back to the private one; asking for public fails.
    assert_eq!(
        line(&env, &moto, &["db-1", "--print"]),
        fleet.db1.private_ip
    );
    let out = sshec2(&env, &moto, &["db-1", "--print", "--address", "public"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("no public IPv4 address"),
        "{}",
        stderr(&out)
    );

    // Several regions at once; the default region alone does not see eu-west-1.
    assert_eq!(
        line(
            &env,
            &moto,
            &[
                "web-eu",
                "--region",
                "us-east-1",
                "--region",
                "eu-west-1",
                "--print"
            ]
        ),
        public(&fleet.web_eu)
    );
    let out = sshec2(&env, &moto, &["web-eu", "--print"]);
    assert_status(&out, 1);
    assert_eq!(
        (stdout(&out).as_str(), stderr(&out).as_str()),
        ("", "sshec2: web-eu: no instance matches\n")
    );

    // Stopped instances never qualify, and the message says why nothing did.
    let out = sshec2(&env, &moto, &["old-1", "--print"]);
    assert_status(&out, 1);
    assert!(
        stderr(&out).contains(&format!("{} is stopped", fleet.old1.id)),
        "{}",
        stderr(&out)
    );
    let out = sshec2(&env, &moto, &["-t", "env=prod", "--list", "-f", "id"]);
    assert_status(&out, 0);
    let ids: BTreeSet<String> = stdout(&out).lines().map(str::to_string).collect();
    let expected: BTreeSet<String> = [&fleet.web7.id, &fleet.db1.id].map(String::clone).into();
    assert_eq!(ids, expected);

    // Nothing found: exit 1 with the target named.
    for (args, target) in [
        (
            &["i-0123456789abcdef0", "--print"][..],
            "i-0123456789abcdef0",
        ),
        (&["-t", "env=nowhere", "--print"], "env=nowhere"),
        (&["no-such-name", "--print"], "no-such-name"),
        (&["10.200.200.200", "--print"], "10.200.200.200"),
    ] {
        let out = sshec2(&env, &moto, args);
        assert_status(&out, 1);
        assert_eq!(stdout(&out), "", "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("sshec2: "), "{err}");
        assert!(err.contains(target), "{args:?}: {err}");
    }

    // Usage errors, where the endpoint works (so that refusing them is sshec2's doing, not
    // AWS's): each exits 2, prints nothing on stdout, and says what is wrong.
    for (args, says) in [
        (&[][..], "nothing to look for: give a TARGET"),
        (&["-t", "novalue"], "expected KEY=VALUE, got \"novalue\""),
        (
            &["web-7", "-a", "web-prod"],
            "cannot be used with '--asg <NAME>'",
        ),
        (
            &["web-7", "--pick", "best"],
            "invalid value 'best' for '--pick <POLICY>'",
        ),
        (
            &["-oProxyCommand=x@web-7"],
            "unexpected argument '-o' found",
        ),
    ] {
        let out = sshec2(&env, &moto, args);
        assert_status(&out, 2);
        assert_eq!(stdout(&out), "", "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn several_matches_follow_the_pick_policy() {
    let moto = Moto::start();
    let fleet = moto.fleet();
    let env = Env::new();
    let (old, new) = (&fleet.dup_old, &fleet.dup_new);

    // No terminal to ask on: fail with the list.
    let out = sshec2(&env, &moto, &["dup", "--print"]);
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(err.contains(&old.id) && err.contains(&new.id), "{err}");
    assert!(err.contains("--pick"), "{err}");
    let out = sshec2(&env, &moto, &["dup", "--print", "--pick", "fail"]);
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains(&old.id) && err.contains(&new.id), "{err}");

    assert_eq!(
        line(&env, &moto, &["dup", "--print", "--pick", "newest"]),
        public(new)
    );
    assert_eq!(
        line(&env, &moto, &["dup", "--print", "--pick", "oldest"]),
        public(old)
    );
    // "first" is the first in listing order: by Name (both are "dup"), then instance id.
    let first = line(&env, &moto, &["dup", "--print", "--pick", "first"]);
    let lower = if old.id < new.id { old } else { new };
    assert_eq!(first, public(lower));
    let mut seen = BTreeSet::new();
    for _ in 0..30 {
        seen.insert(line(&env, &moto, &["dup", "--print", "--pick", "random"]));
    }
    assert_eq!(seen, [public(old), public(new)].into());

    let out = sshec2(&env, &moto, &["dup", "--list", "--header"]);
    assert_status(&out, 0);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.starts_with("id\tname\tstate\t"), "{text}");
}

#[test]
fn groups_yield_only_healthy_members_of_the_newest_group() {
    let moto = Moto::start();
    let fleet = moto.fleet();
    let env = Env::new();
    let ip_of = |id: &str| line(&env, &moto, &[id, "--print", "--address", "private"]);
    let healthy: BTreeSet<String> = fleet.web_prod_healthy.iter().map(|i| ip_of(i)).collect();
    let unhealthy = ip_of(&fleet.web_prod_unhealthy);
    assert_eq!(healthy.len(), 3);

    // Random (the default for a group) reaches every healthy member and never the other.
    let mut seen = BTreeSet::new();
    for _ in 0..40 {
        seen.insert(line(
            &env,
            &moto,
            &["-a", "web-prod", "--print", "--address", "private"],
        ));
    }
    assert!(!seen.contains(&unhealthy), "picked the unhealthy member");
    assert_eq!(seen, healthy);

    let out = sshec2(&env, &moto, &["-a", "web-prod", "--list", "-f", "id,asg"]);
    assert_status(&out, 0);
    let listed: BTreeSet<String> = stdout(&out)
        .lines()
        .map(|l| {
            assert!(l.ends_with("\tweb-prod"), "{l}");
            l.split('\t').next().unwrap().to_string()
        })
        .collect();
    assert_eq!(listed, fleet.web_prod_healthy.iter().cloned().collect());

    // The prefix takes the newest group that has instances (api-blue-3 is newer but empty).
    let out = sshec2(&env, &moto, &["-p", "api-blue-", "--list", "-f", "id,asg"]);
    assert_status(&out, 0);
    let listed: BTreeSet<String> = stdout(&out)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(listed, fleet.api_new.iter().cloned().collect());
    assert!(stdout(&out).contains("api-blue-2"));
    let chosen = line(
        &env,
        &moto,
        &["-p", "api-blue-", "--print", "--address", "private"],
    );
    let api_new_ips: BTreeSet<String> = fleet.api_new.iter().map(|i| ip_of(i)).collect();
    assert!(api_new_ips.contains(&chosen), "{chosen}");

    for args in [&["-a", "nope"][..], &["-p", "nope-"], &["-a", "api-blue-3"]] {
        let out = sshec2(&env, &moto, args);
        assert_status(&out, 1);
        assert_eq!(stdout(&out), "", "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(args[1]), "{args:?}: {err}");
    }
}

#[test]
fn execs_the_real_ssh() {
    require("ssh", "openssh-client");
    let moto = Moto::start();
    let fleet = moto.fleet();
    let env = Env::new();
    // `ssh -G` prints the configuration it would use and exits without connecting: proof that
    // sshec2 handed ssh the user, the address and the extra options, through exec.
    let out = sshec2(
        &env,
        &moto,
        &["db-1", "-l", "opskit-test", "--", "-G", "-p", "2222"],
    );
    assert_status(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("user opskit-test\n"), "{text}");
    assert!(
        text.contains(&format!("hostname {}\n", fleet.db1.private_ip)),
        "{text}"
    );
    assert!(text.contains("port 2222\n"), "{text}");
}

/// An EC2 endpoint that answers no request: it accepts each connection and closes it at once,
/// and counts them, so that a test can bound how often a tool tries without timing it.
struct ClosingEndpoint {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl ClosingEndpoint {
    fn start() -> ClosingEndpoint {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        // The thread ends with the test binary; it holds nothing but the listener.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                count.fetch_add(1, AtomicOrdering::SeqCst);
                drop(stream);
            }
        });
        ClosingEndpoint { url, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(AtomicOrdering::SeqCst)
    }
}

/// Runs `cmd` to completion. A hang guard, not a timing: the tool's own timeouts end it within
/// seconds, so one still running after `HANG` has hung; it is killed and the test fails.
fn output_unless_hung(cmd: &mut Command) -> Output {
    const HANG: Duration = Duration::from_secs(300);
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(HANG) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped (its
            // waiter is still waiting), so the pid cannot have been reused.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("hung: still running after {HANG:?}: {cmd:?}");
        }
    }
}

#[test]
fn bad_input_and_unreachable_aws_end_with_one_line() {
    let env = Env::new();
    let run = |args: &[&str], vars: &[(&str, &str)], remove: &[&str]| {
        let mut cmd = env.cmd(tool!("sshec2"));
        for v in remove {
            cmd.env_remove(v);
        }
        cmd.envs(vars.iter().copied()).args(args);
        output_unless_hung(&mut cmd)
    };
    // Nothing listens on this port: connection refused, retried briefly, then one line.
    let dead = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let creds = |endpoint: &str| {
        [
            ("AWS_ENDPOINT_URL", endpoint.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    };
    let vars = creds(&dead);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(&["web-7", "--print"], &vars, &["AWS_PROFILE"]);
    assert_status(&out, 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("cannot reach the EC2 API at {dead}")),
        "{err}"
    );

    // An endpoint that takes each connection and closes it: the tool gives up after its retry
    // budget (three attempts), not in a storm, with the same one line.
    let closing = ClosingEndpoint::start();
    let vars = creds(&closing.url);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(&["web-7", "--print"], &vars, &["AWS_PROFILE"]);
    assert_status(&out, 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("cannot reach the EC2 API at {}", closing.url)),
        "{err}"
    );
    let tries = closing.connections();
    assert!((1..=3).contains(&tries), "{tries} connections to the API");

    // No credentials anywhere (HOME is empty): a clear line, without asking the API at all.
    let silent = ClosingEndpoint::start();
    let out = run(
        &["web-7", "--print"],
        &[
            ("AWS_ENDPOINT_URL", silent.url.as_str()),
            ("AWS_REGION", "us-east-1"),
        ],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
        ],
    );
    assert_status(&out, 2);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert_eq!(
        silent.connections(),
        0,
        "the API was asked without credentials"
    );

    // No region anywhere.
    let out = run(
        &["web-7"],
        &[],
        &["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"],
    );
    assert_status(&out, 2);
    assert!(stderr(&out).contains("no AWS region"), "{}", stderr(&out));
}
