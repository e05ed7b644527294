//! `scan-hosts`: see [`opskit::cli::scan_hosts`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::scan_hosts::Args>()
}
