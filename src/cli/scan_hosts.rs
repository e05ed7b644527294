//! `scan-hosts`: gather host facts, interfaces and installed packages into the catalog.

use std::io::IsTerminal;

use crate::clock;
use crate::error::{Outcome, Result};
use crate::host;

use super::{COLLECTOR_EXIT_STATUS, CommonArgs, Tool, ToolDoc, warn};

const NAME: &str = "scan-hosts";

/// Gather host facts, network interfaces and installed packages into the catalog.
///
/// With --local, scans the machine it runs on without SSH: hostname and FQDN, OS, kernel,
/// architecture, CPU, memory, DMI vendor/product/serial (where readable), boot time, every
/// interface with its MAC, IPv4 and IPv6 addresses, and the packages of every package manager
/// present (dpkg, rpm, apk, pacman) through their own query commands. The snapshot is written in
/// one transaction; what the host no longer reports is kept as history, marked not current.
///
/// Prints nothing when all went well and stderr is not a terminal (cron mails only failures).
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// Scan this machine, without SSH
    #[arg(long, required = true)]
    pub local: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "scan-hosts --local",
                "Scan this machine into the default catalog.",
            ),
            (
                "scan-hosts --local --catalog /srv/opskit/catalog.db",
                "Scan into a shared catalog file.",
            ),
            (
                "17 * * * * scan-hosts --local",
                "A crontab line: rescan hourly; mail arrives only when something failed.",
            ),
        ],
        fields: &[],
        text_fields: 0,
        exit_status: COLLECTOR_EXIT_STATUS,
        views: &[],
    };

    fn run(self) -> Result<Outcome> {
        let config = self.common.config()?;
        let mut catalog = self.common.open_catalog(&config)?;
        let scan_id = catalog.begin_scan(NAME, "local", "localhost", clock::now())?;
        let snapshot = match host::local::scan() {
            Ok(s) => s,
            Err(e) => {
                catalog.finish_scan(scan_id, clock::now(), Some(&e.to_string()))?;
                warn(NAME, e.context("localhost"));
                return Ok(Outcome::SomeSourcesFailed);
            }
        };
        let written = catalog.store_host(scan_id, clock::now(), &snapshot)?;
        let mut outcome = Outcome::Success;
        let mut problems = Vec::new();
        for (manager, error) in &snapshot.failed_managers {
            warn(NAME, format!("{}: {manager}: {error}", snapshot.hostname));
            problems.push(format!("{manager}: {error}"));
            outcome = Outcome::SomeSourcesFailed;
        }
        let problem = (!problems.is_empty()).then(|| problems.join("; "));
        catalog.finish_scan(scan_id, clock::now(), problem.as_deref())?;
        if std::io::stderr().is_terminal() {
            let p = written.packages;
            let packages: usize = snapshot.inventories.iter().map(|i| i.packages.len()).sum();
            eprintln!(
                "{NAME}: {}: {} interfaces, {packages} packages (+{} new, -{} gone) into {}",
                crate::output::escape::for_terminal(&snapshot.hostname),
                snapshot.interfaces.len(),
                p.added,
                p.retired,
                catalog.path().display()
            );
        }
        Ok(outcome)
    }
}
