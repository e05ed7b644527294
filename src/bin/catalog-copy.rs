//! `catalog-copy`: see [`opskit::cli::catalog_copy`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::catalog_copy::Args>()
}
