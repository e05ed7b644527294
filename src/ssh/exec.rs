//! Handing a session over to the system's OpenSSH client: the argument vector (`ssh [-l USER]
//! ADDRESS [ARGS…]`, refusing a user that ssh would read as an option), quoting for a shell
//! line shown to a user, and replacing this process with ssh, so that ~/.ssh/config, the agent
//! and ProxyJump apply and ssh's exit status is the caller's.

use crate::error::{Error, ErrorKind, Result};

/// The ssh command line: `ssh [-l USER] ADDRESS [ARGS…]`. OpenSSH reads options that follow
/// the destination as well as those before it, so ARGS may hold options and then a command.
pub fn argv(user: Option<&str>, address: &str, args: &[String]) -> Result<Vec<String>> {
    let mut argv = vec!["ssh".to_string()];
    if let Some(u) = user {
        if u.is_empty() || u.starts_with('-') || u.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::usage(format!("bad user {u:?}")));
        }
        argv.extend(["-l".to_string(), u.to_string()]);
    }
    argv.push(address.to_string());
    argv.extend(args.iter().cloned());
    Ok(argv)
}

/// Quotes an argument for a POSIX shell, leaving plain words as they are.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Replaces this process with ssh; returns only if that failed.
pub fn exec(argv: &[String]) -> Error {
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new(&argv[0]).args(&argv[1..]).exec();
    Error::with_source(
        ErrorKind::Fatal,
        "running ssh (is openssh-client installed?)",
        e,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_puts_the_user_first_and_passes_the_rest_through() {
        let got = argv(
            Some("ec2-user"),
            "10.0.0.5",
            &["-A".into(), "uptime".into()],
        )
        .unwrap();
        assert_eq!(got, ["ssh", "-l", "ec2-user", "10.0.0.5", "-A", "uptime"]);
        assert!(argv(Some("-oProxyCommand=x"), "10.0.0.5", &[]).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("10.0.0.5"), "10.0.0.5");
        assert_eq!(shell_quote("ls -l"), "'ls -l'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
