//! `sync-ec2`: see [`opskit::cli::sync_ec2`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::sync_ec2::Args>()
}
