//! `sshec2`: see [`opskit::cli::sshec2`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::sshec2::Args>()
}
