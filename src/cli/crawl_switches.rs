//! `crawl-switches`: read switches' and routers' tables over SNMP into the catalog.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;

use async_snmp::transport::UdpTransport;
use tokio::sync::Semaphore;

use crate::clock;
use crate::config::{SnmpConfig, SwitchConfig};
use crate::error::{Error, ErrorKind, Outcome, Result};
use crate::snmp;
use crate::switches::{DeviceSnapshot, crawl};

use super::{COLLECTOR_EXIT_STATUS, CommonArgs, Tool, ToolDoc, warn};

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
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Seconds to wait for one SNMP answer [default: 2, or [snmp] timeout]
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,

    /// Retries after a timeout [default: 1, or [snmp] retries]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// One device to crawl, with its merged settings.
struct Target {
    label: String,
    socket: SocketAddr,
    role: String,
    settings: SnmpConfig,
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
        text_fields: 0,
        exit_status: COLLECTOR_EXIT_STATUS,
    };

    fn run(self) -> Result<Outcome> {
        let config = self.common.config()?;
        let overrides = SnmpConfig {
            timeout: self.timeout,
            retries: self.retries,
            concurrency: self.concurrency,
            ..SnmpConfig::default()
        };
        let defaults = overrides.or(&config.snmp);
        let configured: Vec<SwitchConfig> = if self.addresses.is_empty() {
            config.switches.clone()
        } else {
            self.addresses
                .iter()
                .map(|a| {
                    // A device named on the command line that is also configured keeps its
                    // configured credentials and role.
                    config
                        .switches
                        .iter()
                        .find(|s| &s.address == a)
                        .cloned()
                        .unwrap_or(SwitchConfig {
                            address: a.clone(),
                            name: None,
                            role: None,
                            snmp: SnmpConfig::default(),
                        })
                })
                .collect()
        };
        if configured.is_empty() {
            return Err(Error::usage(
                "nothing to crawl: give ADDRESSes or add [[switch]] entries to the configuration",
            ));
        }
        let mut targets = Vec::new();
        for s in configured {
            let settings = overrides.or(&s.snmp.or(&defaults));
            // Validate every device's settings before crawling any: a typo is a usage error.
            snmp::auth(&settings).map_err(|e| e.context(&s.address))?;
            targets.push(Target {
                socket: snmp::resolve_address(&s.address)?,
                label: s.address,
                role: s.role.unwrap_or_else(|| "switch".into()),
                settings,
            });
        }
        let concurrency = defaults.concurrency.unwrap_or(32).max(1);
        let mut catalog = self.common.open_catalog(&config)?;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the SNMP runtime", e))?;
        let mut failed = 0;
        let mut stored = 0;
        let mut results = runtime.block_on(crawl_all(targets, concurrency))?;
        results.sort_by(|a, b| a.0.label.cmp(&b.0.label));
        for (target, started, result) in results {
            let scan_id = catalog.begin_scan(NAME, "snmp", &target.label, started)?;
            match result {
                Ok(snap) => {
                    catalog.store_device(
                        scan_id,
                        clock::now(),
                        &target.label,
                        &target.role,
                        &snap,
                    )?;
                    let problem = (target.role != "router" && !snap.has_bridge_mib)
                        .then_some("no bridge data (the device answered no BRIDGE-MIB)");
                    catalog.finish_scan(scan_id, clock::now(), problem)?;
                    if let Some(p) = problem {
                        warn(NAME, format!("{}: {p}", target.label));
                        failed += 1;
                    } else {
                        stored += 1;
                    }
                }
                Err(e) => {
                    catalog.finish_scan(scan_id, clock::now(), Some(&e.to_string()))?;
                    warn(NAME, format!("{}: {e}", target.label));
                    failed += 1;
                }
            }
        }
        if std::io::stderr().is_terminal() {
            eprintln!(
                "{NAME}: {stored} devices crawled, {failed} failed, into {}",
                catalog.path().display()
            );
        }
        Ok(if failed > 0 {
            Outcome::SomeSourcesFailed
        } else {
            Outcome::Success
        })
    }
}

/// Crawls every target, `concurrency` at a time, over one UDP socket per address family.
async fn crawl_all(
    targets: Vec<Target>,
    concurrency: usize,
) -> Result<Vec<(Target, i64, Result<DeviceSnapshot>)>> {
    let bind = |addr: &'static str| async move {
        UdpTransport::bind(addr).await.map_err(|e| {
            Error::with_source(
                ErrorKind::Fatal,
                format!("binding a UDP socket on {addr}"),
                *e,
            )
        })
    };
    let v4 = if targets.iter().any(|t| t.socket.is_ipv4()) {
        Some(bind("0.0.0.0:0").await?)
    } else {
        None
    };
    let v6 = if targets.iter().any(|t| t.socket.is_ipv6()) {
        Some(bind("[::]:0").await?)
    } else {
        None
    };
    let limit = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let transport = if target.socket.is_ipv4() {
            v4.clone()
        } else {
            v6.clone()
        };
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let started = clock::now();
            let result = async {
                let transport =
                    transport.ok_or_else(|| Error::new(ErrorKind::Fatal, "no socket"))?;
                let agent = crawl::Agent {
                    transport: &transport,
                    target: target.socket,
                    settings: &target.settings,
                };
                crawl::crawl(&agent).await
            }
            .await;
            (target, started, result)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        results.push(
            joined.map_err(|e| Error::with_source(ErrorKind::Fatal, "a crawl task failed", e))?,
        );
    }
    Ok(results)
}
