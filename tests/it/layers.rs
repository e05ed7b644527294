//! The layering rule of docs/ARCHITECTURE.md, enforced: every `crate::…` path in `src/` is read
//! and an import that runs up a layer (or sideways where the layers are siblings) fails the
//! test, naming the file, the line and the rule it breaks.

use std::path::{Path, PathBuf};

/// Each top-level module of the library and the modules it may use. Leaf modules know no
/// domain; the model is plain data; config is typed with the model's vocabulary; the access
/// modules talk to the world and know nothing of the catalog; the catalog holds all SQL;
/// collectors and queries are siblings that never use each other; the CLI uses everything.
const LEAF: &[&str] = &["error", "clock", "input", "output", "progress"];
const ACCESS: &[&str] = &["net", "dns", "ssh", "snmp", "aws"];

fn allowed(module: &str) -> Option<Vec<&'static str>> {
    let mut may: Vec<&str> = Vec::new();
    let leaf = LEAF.iter().copied();
    match module {
        "error" => {}
        m if LEAF.contains(&m) => may.extend(leaf),
        "model" => may.extend(leaf),
        "config" => may.extend(leaf.chain(["model"])),
        m if ACCESS.contains(&m) => may.extend(leaf.chain(["model", "config"])),
        "catalog" => may.extend(leaf.chain(["model", "config"])),
        "collect" | "query" => may.extend(
            leaf.chain(["model", "config", "catalog"])
                .chain(ACCESS.iter().copied()),
        ),
        "cli" => may.extend(
            leaf.chain(["model", "config", "catalog", "collect", "query"])
                .chain(ACCESS.iter().copied()),
        ),
        _ => return None,
    }
    Some(may)
}

/// A use of another top-level module: where it is and what it names.
#[derive(Debug)]
struct Edge {
    line: usize,
    to: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Source text with comments blanked out (doc links may name any module), lines kept.
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string literal ("http://…") is rare in `use` lines, and cutting
            // there can only hide a path, never invent one.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file names through `crate::x` or `crate::{x, y::z}`. A macro
/// exported at the crate root (`crate::fields!`) belongs to the module that defines it.
fn edges(text: &str) -> Vec<Edge> {
    let code = code_only(text);
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut push = |at: usize, name: &str| {
        let to = match name {
            "fields" => "output",
            other => other,
        };
        out.push(Edge {
            line: line_of(at),
            to: to.to_string(),
        });
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::{c, d}, e}`: the first segment after each top-level comma.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => {
                        let name: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        push(at, &name);
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                push(at, &name);
            }
        }
    }
    out
}

/// Every import in `src/` that breaks the rule, as `file:line: why`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        if module == "bin" {
            // A binary is one call into the CLI layer.
            for (i, line) in code_only(&text).lines().enumerate() {
                if line.contains("opskit::") && !line.contains("opskit::cli") {
                    found.push(format!(
                        "src/{}:{}: a binary may use only opskit::cli",
                        rel.display(),
                        i + 1
                    ));
                }
            }
            continue;
        }
        if module == "lib" {
            continue;
        }
        let Some(may) = allowed(&module) else {
            found.push(format!(
                "src/{}: module {module} is in no layer: add it to tests/it/layers.rs and docs/ARCHITECTURE.md",
                rel.display()
            ));
            continue;
        };
        for edge in edges(&text) {
            if edge.to != module && !may.contains(&edge.to.as_str()) {
                found.push(format!(
                    "src/{}:{}: {module} uses {}, which is not below it (it may use: {})",
                    rel.display(),
                    edge.line,
                    edge.to,
                    may.join(", ")
                ));
            }
        }
    }
    found
}

#[test]
fn every_import_runs_down_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports that run up a layer (docs/ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reader_sees_grouped_and_inline_paths() {
    let text = "use crate::{catalog::Catalog, error::{Error, Result}};\n\
                // crate::cli in a comment is not an import\n\
                fn f() { crate::query::placement::select(); }\n";
    let got: Vec<(usize, String)> = edges(text).into_iter().map(|e| (e.line, e.to)).collect();
    assert_eq!(
        got,
        [
            (1, "catalog".to_string()),
            (1, "error".to_string()),
            (3, "query".to_string())
        ]
    );
}

#[test]
fn an_upward_import_is_named_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog");
    std::fs::create_dir_all(&catalog).unwrap();
    std::fs::write(
        catalog.join("mod.rs"),
        "//! x\nuse crate::model::Mac;\nuse crate::query::placement;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("query.rs"), "use crate::collect::hosts;\n").unwrap();
    let found = violations(dir.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("src/catalog/mod.rs:3: catalog uses query"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("src/query.rs:1: query uses collect"),
        "{found:?}"
    );
}
