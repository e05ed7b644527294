//! `who-did`: see [`opskit::cli::who_did`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::who_did::Args>()
}
