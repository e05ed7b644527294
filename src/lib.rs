//! opskit: small Unix commands that answer the questions system administrators ask all day,
//! from one catalog that collectors fill.
//!
//! The library is divided by domain; the tools under `src/bin/` are thin entry points over
//! [`cli`], which holds every command's flags and documentation.

pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dns;
pub mod ec2;
pub mod error;
pub mod host;
pub mod input;
pub mod net;
pub mod output;
pub mod packages;
pub mod progress;
pub mod snmp;
pub mod ssh;
pub mod switches;
