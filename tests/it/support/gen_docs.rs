//! Man pages and shell completions, generated from the same clap definitions the binaries use
//! (`opskit::cli::all()`).
//!
//! The generated files are committed under `man/` and `completions/`; the docs tests regenerate
//! them and fail with a diff when they are stale (`OPSKIT_UPDATE_GENERATED=1 cargo test --test it
//! docs::` rewrites them). The generator lives here, not in the library, because nothing but
//! those tests runs it: the tools need not link clap_mangen and clap_complete. Nothing that
//! changes from day to day (dates) goes into the files, so regenerating is idempotent.

use std::path::PathBuf;

use clap_complete::Shell;
use opskit::cli::ToolDoc;

/// The shells completions are generated for, with their file naming conventions.
const SHELLS: &[(Shell, &str)] = &[
    (Shell::Bash, "bash"),
    (Shell::Zsh, "zsh"),
    (Shell::Fish, "fish"),
];

/// Every generated file: its path relative to the repository, and its contents.
pub fn generated_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for (doc, cmd) in opskit::cli::all() {
        files.push((
            PathBuf::from(format!("man/{}.1", doc.name)),
            man_page(&doc, cmd.clone()),
        ));
        for (shell, dir) in SHELLS {
            let file = match shell {
                Shell::Zsh => format!("_{}", doc.name),
                Shell::Fish => format!("{}.fish", doc.name),
                _ => doc.name.to_string(),
            };
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd.clone(), doc.name, &mut out);
            files.push((
                PathBuf::from(format!("completions/{dir}/{file}")),
                String::from_utf8_lossy(&out).into_owned(),
            ));
        }
    }
    files
}

/// Escapes text for a roff line: backslashes, and a leading dot or quote that roff would read
/// as a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The man page of one tool: clap_mangen's sections, then examples, output fields and exit
/// statuses from its [`ToolDoc`], then the environment and files every tool shares.
fn man_page(doc: &ToolDoc, cmd: clap::Command) -> String {
    // The help text's examples live in our own EXAMPLES section; drop them from clap's.
    let cmd = cmd.after_help(None::<&str>).after_long_help(None::<&str>);
    let man = clap_mangen::Man::new(cmd)
        .manual("opskit")
        .source(format!("opskit {}", env!("CARGO_PKG_VERSION")))
        .date(MAN_DATE);
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    // clap_mangen separates a flag's help from its possible values with `.br`, a blank line and
    // `.br` again, which mandoc rightly flags; one line break says the same.
    let mut page = String::from_utf8_lossy(&out).replace(".br\n\n.br\n", ".br\n");

    page.push_str(".SH EXAMPLES\n");
    for (command, what) in doc.examples {
        page.push_str(&format!(".TP\n.B {}\n{}\n", roff(command), roff(what)));
    }
    if !doc.fields.is_empty() {
        page.push_str(".SH OUTPUT FIELDS\n");
        page.push_str(
            "Field names are stable: they are the JSON keys, the \\fB\\-f\\fR names and the \
             \\fB\\-\\-header\\fR names.\n",
        );
        let shown: Vec<&str> = doc
            .fields
            .iter()
            .filter(|f| f.shown)
            .map(|f| f.name)
            .collect();
        if shown.len() < doc.fields.len() {
            page.push_str(&format!(
                ".PP\nWithout \\fB\\-f\\fR, the table, tsv and csv formats show {}; cards, json \
                 and jsonl show every field.\n",
                roff(&shown.join(", "))
            ));
        }
        for field in doc.fields {
            page.push_str(&format!(".TP\n.B {}\n{}\n", field.name, roff(field.about)));
        }
        for view in doc.views {
            page.push_str(&format!(
                ".SS \"Fields with {}\"\n{}\n",
                roff(view.flag),
                roff(view.about)
            ));
            let shown: Vec<&str> = view
                .fields
                .iter()
                .filter(|f| f.shown)
                .map(|f| f.name)
                .collect();
            if shown.len() < view.fields.len() {
                page.push_str(&format!(
                    ".PP\nWithout \\fB\\-f\\fR, text formats show {}.\n",
                    roff(&shown.join(", "))
                ));
            }
            for field in view.fields {
                page.push_str(&format!(".TP\n.B {}\n{}\n", field.name, roff(field.about)));
            }
        }
        page.push_str(&format!(".SH OUTPUT FORMAT\n{}\n", roff(OUTPUT_TEXT)));
    }
    page.push_str(".SH EXIT STATUS\n");
    for (code, what) in doc.exit_status {
        page.push_str(&format!(".TP\n.B {code}\n{}\n", roff(what)));
    }
    page.push_str(".SH ENVIRONMENT\n");
    for (var, what) in ENVIRONMENT.iter().chain(doc.environment) {
        page.push_str(&format!(".TP\n.B {var}\n{}\n", roff(what)));
    }
    page.push_str(".SH FILES\n");
    for (file, what) in FILES {
        page.push_str(&format!(".TP\n.I {}\n{}\n", roff(file), roff(what)));
    }
    let others: Vec<String> = opskit::cli::all()
        .iter()
        .map(|(d, _)| d.name)
        .filter(|n| *n != doc.name)
        .map(|n| format!(".BR {} (1)", roff(n)))
        .collect();
    page.push_str(".SH SEE ALSO\n");
    page.push_str(&others.join(",\n"));
    page.push('\n');
    page
}

/// The date man pages carry in their title line. Man pages date their last substantive change;
/// a fixed date keeps regeneration reproducible. Move it forward when the pages change a lot.
const MAN_DATE: &str = "2026-11-22";

const OUTPUT_TEXT: &str = "On a terminal: a table (or one card per object). Piped: tab-separated \
lines without a header, with tab, newline, backslash and control characters escaped as \\t, \\n, \
\\\\ and \\xNN. Control characters in names from the network are escaped on a terminal too. \
CSV follows RFC 4180; JSON strings are exact.";

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "OPSKIT_CATALOG",
        "Catalog file, when --catalog is not given.",
    ),
    (
        "OPSKIT_CONFIG",
        "Configuration file, when --config is not given.",
    ),
    (
        "XDG_CONFIG_HOME",
        "Base of the default configuration path (default ~/.config).",
    ),
    (
        "XDG_DATA_HOME",
        "Base of the default catalog path (default ~/.local/share).",
    ),
    (
        "NO_COLOR",
        "When set and not empty, no colour or bold is used.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "~/.config/opskit/config.toml",
        "Configuration (TOML). A file holding secrets must not be readable by group or others.",
    ),
    (
        "~/.local/share/opskit/catalog.db",
        "The catalog (SQLite, WAL mode), created on first use.",
    ),
    (
        "~/.config/opskit/subnets.toml, ~/.config/opskit/subnets.csv",
        "Your subnets (prefix, name, vlan, site, description), which whatis-ip shows for each \
         address; another path with --subnets or [whatis] subnets in the configuration.",
    ),
];
