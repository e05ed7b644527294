//! Running crawls: configuration into targets, targets crawled concurrently over one UDP
//! socket per address family, and each device's snapshot stored in its own transaction.
//! Shared by crawl-switches and which-switch --live.

pub mod crawl;
pub mod mibs;

use std::net::SocketAddr;
use std::sync::Arc;

use async_snmp::transport::UdpTransport;
use tokio::sync::Semaphore;

use crate::catalog::Catalog;
use crate::clock;
use crate::config::{Config, SnmpConfig, SwitchConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Progress;
use crate::snmp;

use crate::model::device::DeviceSnapshot;

/// One device to crawl, with its merged settings.
#[derive(Debug, Clone)]
pub struct Target {
    /// The address as configured, which is the device's identity in the catalog.
    pub label: String,
    pub socket: SocketAddr,
    pub role: String,
    pub settings: SnmpConfig,
}

/// The devices to crawl: every `[[switch]]` when `addresses` is empty, else those addresses
/// (a configured one keeps its credentials and role; others take the `[snmp]` defaults).
/// `overrides` (command-line settings) win over both. Every device's settings are checked
/// before anything is crawled: a typo is a usage error, not a failed device.
pub fn targets(
    config: &Config,
    addresses: &[String],
    overrides: &SnmpConfig,
) -> Result<Vec<Target>> {
    let defaults = overrides.or(&config.snmp);
    let configured: Vec<SwitchConfig> = if addresses.is_empty() {
        config.switches.clone()
    } else {
        addresses
            .iter()
            .map(|a| {
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
    let mut targets = Vec::new();
    for s in configured {
        let settings = overrides.or(&s.snmp.or(&defaults));
        snmp::auth(&settings).map_err(|e| e.context(&s.address))?;
        targets.push(Target {
            socket: snmp::resolve_address(&s.address)?,
            label: s.address,
            role: s.role.unwrap_or_else(|| "switch".into()),
            settings,
        });
    }
    Ok(targets)
}

/// What a round of crawls did.
#[derive(Debug, Default)]
pub struct CrawlReport {
    pub stored: usize,
    /// (device, why) for every device that failed, in address order.
    pub failures: Vec<(String, String)>,
}

/// Why a device that answered still counts as failed: a switch that gave no bridge data.
fn problem(target: &Target, snap: &DeviceSnapshot) -> Option<&'static str> {
    (target.role != "router" && !snap.has_bridge_mib)
        .then_some("no bridge data (the device answered no BRIDGE-MIB)")
}

/// Crawls `targets`, `concurrency` at a time, and stores each device as it was read. A
/// progress bar labelled `collector` is drawn while it runs when stderr is a terminal.
pub fn crawl_and_store(
    catalog: &mut Catalog,
    targets: Vec<Target>,
    concurrency: usize,
    collector: &str,
) -> Result<CrawlReport> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the SNMP runtime", e))?;
    // DES privacy takes a new durable epoch per run, so only a run that needs it writes one.
    let des = targets
        .iter()
        .any(|t| snmp::uses_des(&t.settings))
        .then(|| snmp::des::take_epoch(&snmp::des::state_path(catalog.path())))
        .map(|taken| taken.map_err(|e| e.to_string()));
    let progress = Progress::new(targets.len() as u64, collector);
    let crawled = runtime.block_on(crawl_all(
        targets,
        concurrency.max(1),
        des,
        progress.clone(),
    ));
    progress.finish();
    let mut results = crawled?;
    results.sort_by(|a, b| a.0.label.cmp(&b.0.label));
    let mut report = CrawlReport::default();
    for (target, started, result) in results {
        let scan_id = catalog.begin_scan(collector, "snmp", &target.label, started)?;
        match result {
            Ok(snap) => {
                catalog.store_device(scan_id, clock::now(), &target.label, &target.role, &snap)?;
                let problem = problem(&target, &snap);
                catalog.finish_scan(scan_id, clock::now(), problem)?;
                match problem {
                    Some(p) => report.failures.push((target.label, p.to_string())),
                    None => report.stored += 1,
                }
            }
            Err(e) => {
                catalog.finish_scan(scan_id, clock::now(), Some(&e.to_string()))?;
                report.failures.push((target.label, e.to_string()));
            }
        }
    }
    Ok(report)
}

/// Crawls every target, `concurrency` at a time, over one UDP socket per address family.
/// `des` is the run's DES salt state (or why it could not be taken), when a target needs it.
async fn crawl_all(
    targets: Vec<Target>,
    concurrency: usize,
    des: Option<std::result::Result<snmp::DesSaltState, String>>,
    progress: Progress,
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
        let des = des.clone();
        let progress = progress.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let started = clock::now();
            let result = async {
                let transport =
                    transport.ok_or_else(|| Error::new(ErrorKind::Fatal, "no socket"))?;
                let des = match des {
                    Some(Ok(state)) => Some(state),
                    Some(Err(why)) if snmp::uses_des(&target.settings) => {
                        return Err(Error::new(ErrorKind::Fatal, why));
                    }
                    _ => None,
                };
                let agent = crawl::Agent {
                    transport: &transport,
                    target: target.socket,
                    settings: &target.settings,
                    des: des.as_ref(),
                };
                crawl::crawl(&agent).await
            }
            .await;
            let ok = result
                .as_ref()
                .is_ok_and(|snap| problem(&target, snap).is_none());
            progress.done(&target.label, ok);
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
