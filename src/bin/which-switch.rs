//! `which-switch`: see [`opskit::cli::which_switch`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::which_switch::Args>()
}
