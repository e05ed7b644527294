//! `host-where`: see [`opskit::cli::host_where`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::host_where::Args>()
}
