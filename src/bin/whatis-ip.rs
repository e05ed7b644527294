//! `whatis-ip`: see [`opskit::cli::whatis_ip`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::whatis_ip::Args>()
}
