//! opskit: small Unix commands that answer the questions system administrators ask all day,
//! from one catalog that collectors fill.
//!
//! The library is layered; each layer imports only the ones below it (`docs/ARCHITECTURE.md`,
//! enforced by a test):
//!
//! - [`cli`]: every command's flags, documentation, settings and output; `src/bin/` are one line.
//! - [`collect`] and [`query`]: filling the catalog from sources; answering from it.
//! - [`catalog`]: all SQL.
//! - [`model`]: plain data shared by everyone.
//! - access to the world below them: [`net`], [`dns`], [`ssh`], [`snmp`], [`aws`].
//! - leaf modules: [`error`], [`clock`], [`config`], [`input`], [`output`], [`progress`].

pub mod aws;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod collect;
pub mod config;
pub mod dns;
pub mod error;
pub mod input;
pub mod model;
pub mod net;
pub mod output;
pub mod progress;
pub mod query;
pub mod snmp;
pub mod ssh;
