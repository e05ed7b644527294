//! `crawl-switches`: read switches' and routers' tables over SNMP into the catalog.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::collect;
use crate::collect::switches::{self as switches, Switches};
use crate::error::{Error, Outcome, Result};

use super::{COLLECTOR_EXIT_STATUS, CommonArgs, Tool, ToolDoc};

const NAME: &str = "crawl-switches";

/// Read switches' MAC tables, ports, neighbours and routers' ARP tables over SNMP.
///
/// Crawls every `[[switch]]` of the configuration, or the ADDRESSes given (which take their
/// credentials from the `[snmp]` defaults, or $OPSKIT_SNMP_COMMUNITY). For each device it reads
/// the system group, IF-MIB, BRIDGE-MIB and Q-BRIDGE-MIB forwarding tables (with FDB ids mapped
/// to VLANs), LLDP and CDP neighbours, LAG membership, and the ARP and IPv6 neighbour tables,
/// and writes them in one transaction. Devices are crawled concurrently; one that fails is
/// named on stderr and the others are kept. SNMP secrets come only from the configuration file
/// or the environment, never from the command line.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// Devices to crawl, as HOST[:PORT], instead of the configured ones
    #[arg(value_name = "ADDRESS")]
    pub addresses: Vec<String>,

    /// Devices crawled at once [default: 32, or [snmp] concurrency]
    #[arg(long, value_name = "N", value_parser = crate::cli::settings::parse_concurrency)]
    pub concurrency: Option<usize>,

    /// Seconds to wait for one SNMP answer [default: 2, or [snmp] timeout]
    #[arg(long, value_name = "SECONDS", value_parser = crate::cli::settings::parse_seconds)]
    pub timeout: Option<f64>,

    /// Retries after a timeout [default: 1, or [snmp] retries]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "crawl-switches",
                "Crawl every [[switch]] in the configuration.",
            ),
            (
                "OPSKIT_SNMP_COMMUNITY=s3cret crawl-switches 10.1.0.2 10.1.0.3:1161",
                "Crawl two devices with a community from the environment.",
            ),
            (
                "*/15 * * * * crawl-switches",
                "A crontab line: crawl every 15 minutes; mail arrives only when a device failed.",
            ),
        ],
        fields: &[],
        exit_status: COLLECTOR_EXIT_STATUS,
        views: &[],
        environment: &[
            (
                "OPSKIT_SNMP_COMMUNITY",
                "SNMP v1/v2c community for devices whose configuration names none.",
            ),
            (
                "XDG_STATE_HOME",
                "Where the SNMPv3 DES salt state is kept (opskit/snmp-des-state; default beside the catalog).",
            ),
        ],
    };

    fn run(self) -> Result<Outcome> {
        let config = self.common.config()?;
        let (overrides, concurrency) =
            super::settings::snmp(&config, self.timeout, self.retries, self.concurrency);
        let targets = switches::targets(&config, &self.addresses, &overrides)?;
        if targets.is_empty() {
            return Err(Error::usage(
                "nothing to crawl: give ADDRESSes or add [[switch]] entries to the configuration",
            ));
        }
        let mut catalog = self.common.open_catalog(&config)?;
        let runtime = super::settings::runtime()?;
        let report = runtime.block_on(async {
            let collector = Switches::new(NAME, "", &targets, &catalog.local_anchor()).await?;
            collect::run(Arc::new(collector), &mut catalog, targets, concurrency).await
        })?;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "{NAME}: {} devices crawled, {} failed, into {}",
                report.stored - report.with_problems,
                report.failed + report.with_problems,
                catalog.location()
            );
        }
        Ok(report.outcome())
    }
}
