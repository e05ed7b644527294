//! The generated man pages and completions: committed, up to date, valid for mandoc, and loadable
//! by real bash, zsh and fish (support/gen_docs.rs generates them); `--help` of every binary; and
//! the binaries and the list of documented commands agreeing.
//! `OPSKIT_UPDATE_GENERATED=1 cargo test --test it docs::` rewrites the generated files.

use std::path::Path;
use std::process::Command;

use crate::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn generated_files_are_up_to_date() {
    let update = std::env::var_os("OPSKIT_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    for (path, contents) in gen_docs::generated_files() {
        let full = Path::new(ROOT).join(&path);
        let committed = std::fs::read_to_string(&full).unwrap_or_default();
        if committed != contents {
            if update {
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, &contents).unwrap();
            } else {
                let first = committed
                    .lines()
                    .zip(contents.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(committed.lines().count().min(contents.lines().count()));
                stale.push(format!(
                    "{}: first difference at line {}:\n- {}\n+ {}",
                    path.display(),
                    first + 1,
                    committed.lines().nth(first).unwrap_or("<end of file>"),
                    contents.lines().nth(first).unwrap_or("<end of file>")
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are stale; run OPSKIT_UPDATE_GENERATED=1 cargo test --test it docs::\n{}",
        stale.join("\n")
    );
}

#[test]
fn man_pages_pass_mandoc_lint() {
    require("mandoc", "mandoc");
    for (doc, _) in opskit::cli::all() {
        let page = Path::new(ROOT).join(format!("man/{}.1", doc.name));
        let out = Command::new("mandoc")
            .args(["-Tlint", "-Wwarning"])
            .arg(&page)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{}:\n{}{}",
            page.display(),
            stdout(&out),
            stderr(&out)
        );
        // And it renders, with the sections we promise.
        let out = Command::new("mandoc")
            .args(["-Tutf8"])
            .arg(&page)
            .output()
            .unwrap();
        // Undo overstriking (X\bX for bold, _\bX for underline) to get plain text.
        let mut text = String::new();
        for c in String::from_utf8_lossy(&out.stdout).chars() {
            if c == '\u{8}' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        for section in ["SYNOPSIS", "EXAMPLES", "EXIT STATUS", "ENVIRONMENT"] {
            assert!(text.contains(section), "{} lacks {section}", page.display());
        }
    }
}

#[test]
fn completions_load_in_real_shells() {
    require("zsh", "zsh");
    require("fish", "fish");
    for (doc, cmd) in opskit::cli::all() {
        let name = doc.name;
        // Fish must complete a long flag from its first letters: the tool's first one.
        let flag = cmd
            .get_arguments()
            .find_map(|a| a.get_long())
            .map(|l| format!("--{l}"))
            .unwrap();
        let bash = Path::new(ROOT).join(format!("completions/bash/{name}"));
        let out = Command::new("bash")
            .args([
                "--norc",
                "-c",
                &format!("source {} && complete -p {name}", bash.display()),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "bash {name}: {}", stderr(&out));
        assert!(stdout(&out).contains(name), "bash {name}: {}", stdout(&out));

        let zsh_dir = Path::new(ROOT).join("completions/zsh");
        let script = format!(
            "fpath=({} $fpath); autoload -Uz compinit; compinit -u -D; print -r -- $_comps[{name}]",
            zsh_dir.display()
        );
        let out = Command::new("zsh")
            .args(["-f", "-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "zsh {name}: {}", stderr(&out));
        assert_eq!(
            stdout(&out).trim(),
            format!("_{name}"),
            "zsh {name}: {}",
            stderr(&out)
        );

        let fish = Path::new(ROOT).join(format!("completions/fish/{name}.fish"));
        let script = format!(
            "source {}; complete -C'{name} {}'",
            fish.display(),
            &flag[..5]
        );
        let out = Command::new("fish")
            .args(["--no-config", "-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "fish {name}: {}", stderr(&out));
        assert!(
            stdout(&out).contains(&flag),
            "fish {name} {flag}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn every_binary_is_a_documented_command() {
    // A binary missing from cli::all() would ship without a man page or completions; a command
    // without a binary would document something that does not exist. Cargo makes a binary of
    // each src/bin/NAME.rs and src/bin/NAME/main.rs.
    let mut binaries: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("src/bin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") || p.join("main.rs").is_file())
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    binaries.sort();
    let mut commands: Vec<String> = opskit::cli::all()
        .iter()
        .map(|(doc, _)| doc.name.to_string())
        .collect();
    commands.sort();
    assert_eq!(
        binaries, commands,
        "src/bin/ and opskit::cli::all() disagree"
    );
}

#[test]
fn help_shows_examples_and_exits_0() {
    for (doc, _) in opskit::cli::all() {
        // By name from the list of commands: the binaries Cargo built sit side by side, and
        // every_binary_is_a_documented_command checks that each command is one of them.
        let bin = bin_dir().join(doc.name);
        let out = Command::new(&bin).arg("--help").output().unwrap();
        assert_status(&out, 0);
        assert!(stdout(&out).contains("Examples:"), "{}", stdout(&out));
        assert!(stdout(&out).contains(doc.examples[0].0));
        let out = Command::new(&bin).arg("--no-such-flag").output().unwrap();
        assert_status(&out, 2);
    }
}
