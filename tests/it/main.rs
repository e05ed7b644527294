//! The integration tests, as one test binary: each module tests one tool (or one convention)
//! through the real binaries against real peers, and `support` holds what they share. One
//! binary links the crate and the helpers once, where a binary per file linked them thirteen
//! times, and it lets the compiler see which helpers nothing uses.

mod support;

mod address_kinds;
mod audit_lab;
mod catalog;
mod crawl_switches;
mod docs;
mod fuzz_corpus;
mod host_where;
mod hostile_hosts;
mod hostile_input;
mod layers;
mod pg_catalog;
mod pg_connect;
mod pkg_where;
mod scan_hosts;
mod ssh_fleet;
mod sshec2;
mod sync_ec2;
mod version_order;
mod whatis_host;
mod whatis_ip;
mod which_switch;
mod who_did;
