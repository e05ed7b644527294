//! `crawl-switches`: see [`opskit::cli::crawl_switches`] for what it does.

fn main() -> std::process::ExitCode {
    opskit::cli::main::<opskit::cli::crawl_switches::Args>()
}
