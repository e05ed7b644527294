//! `whatis-host`: see [`opskit::cli::whatis_host`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::whatis_host::Args>()
}
