//! `pkg-where`: see [`opskit::cli::pkg_where`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::pkg_where::Args>()
}
