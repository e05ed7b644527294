//! Where a command's items come from: its positional arguments, or one item per line on stdin
//! when there are none (or when the only argument is `-`), so that commands compose in pipes.

use std::io::{self, BufRead, IsTerminal};

use crate::error::{Error, Result};

/// The items to work on: the arguments, or stdin's non-blank, non-comment lines.
///
/// Reading stdin when it is a terminal and no argument was given would wait silently for typing;
/// that is a usage error instead, naming what was expected.
pub fn items(args: &[String], what: &str) -> Result<Vec<String>> {
    let from_stdin = args.is_empty() || (args.len() == 1 && args[0] == "-");
    if !from_stdin {
        return Ok(args.to_vec());
    }
    let stdin = io::stdin();
    if args.is_empty() && stdin.is_terminal() {
        return Err(Error::usage(format!(
            "no {what} given (pass them as arguments or one per line on stdin)"
        )));
    }
    let mut items = Vec::new();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| Error::io("reading stdin", e))?;
        let item = line.trim();
        if !item.is_empty() && !item.starts_with('#') {
            items.push(item.to_string());
        }
    }
    if items.is_empty() {
        return Err(Error::usage(format!("no {what} given on stdin")));
    }
    Ok(items)
}
