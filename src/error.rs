//! The one error type of the library and the exit statuses every command shares.
//!
//! Errors carry a kind (which decides the exit status and whether anything is printed) and a
//! message that already names what failed; the cause chain is appended when the error is shown,
//! so that a user sees `tool: what failed: why: deeper why` on one line.

use std::fmt;
use std::io;

/// What went wrong, in the terms that decide how a command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user asked for something malformed (bad flag value, bad address, unknown field).
    Usage,
    /// The configuration file is missing, unreadable, malformed or unsafe.
    Config,
    /// The catalog could not be opened, read, migrated or written.
    Catalog,
    /// A source (host, switch, API) could not be reached or answered garbage.
    Source,
    /// Anything else fatal: I/O on local files, failing local commands.
    Fatal,
    /// stdout was closed by the reader (`| head`): end quietly.
    BrokenPipe,
}

/// The library's error: a kind, a message that says what failed, and an optional cause.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Shorthand used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with no underlying cause.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by another one, which is kept for the cause chain.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// A usage error: the user's input cannot be understood.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// A local I/O failure, with what was being done; a closed stdout becomes [`ErrorKind::BrokenPipe`].
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        let kind = if source.kind() == io::ErrorKind::BrokenPipe {
            ErrorKind::BrokenPipe
        } else {
            ErrorKind::Fatal
        };
        Self::with_source(kind, context, source)
    }

    /// The kind, which decides the exit status.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Prefixes the message with more context (`context: message`), keeping kind and cause.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    /// Shows the message followed by the whole cause chain, on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(err) = cause {
            // Some errors repeat their source in their own message; don't print it twice.
            let text = err.to_string();
            if !self.message.ends_with(&text) {
                write!(f, ": {}", one_line(&text))?;
            }
            cause = err.source();
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Error messages must stay on one line: libraries sometimes produce multi-line texts
/// (TOML parse errors show the offending line with a caret); fold them.
fn one_line(text: &str) -> String {
    text.split('\n')
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// How a command that did not fail ended, which decides its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A query answered, or a collector finished with every source.
    Success,
    /// A query found nothing for (some of) its input.
    NothingFound,
    /// A collector finished but some sources failed (their errors are already on stderr).
    SomeSourcesFailed,
    /// What was compared differs from what was expected (`pkg-where --drift` found drift).
    Differs,
}

impl Outcome {
    /// The worse of two outcomes, for a command that answers its inputs in batches.
    pub fn max(self, other: Outcome) -> Outcome {
        if self == Outcome::Success {
            other
        } else {
            self
        }
    }

    /// The process exit status for this outcome: 0, or 1 for nothing found, a partial failure
    /// or a difference found.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::NothingFound | Outcome::SomeSourcesFailed | Outcome::Differs => 1,
        }
    }
}

/// Exit status of a fatal error (usage, configuration, catalog, …).
pub const EXIT_FATAL: u8 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_appends_the_cause_chain_on_one_line() {
        let io = io::Error::new(io::ErrorKind::NotFound, "no such file");
        let err = Error::io("reading /etc/x", io).context("config");
        assert_eq!(err.to_string(), "config: reading /etc/x: no such file");
        assert_eq!(err.kind(), ErrorKind::Fatal);
    }

    #[test]
    fn broken_pipe_is_its_own_kind() {
        let io = io::Error::new(io::ErrorKind::BrokenPipe, "pipe");
        assert_eq!(Error::io("stdout", io).kind(), ErrorKind::BrokenPipe);
    }

    #[test]
    fn multi_line_causes_are_folded() {
        assert_eq!(one_line("a\n  | b\n\n c\n"), "a |   | b |  c");
    }
}
