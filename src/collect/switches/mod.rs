//! crawl-switches as a collector: configuration into targets, targets crawled concurrently over
//! one UDP socket per address family, and each device's snapshot stored in its own
//! transaction. Shared by crawl-switches and which-switch --live.

pub mod crawl;
pub mod mibs;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use async_snmp::transport::UdpTransport;

use crate::catalog::Catalog;
use crate::clock;
use crate::collect::{Collector, Stored};
use crate::config::{Config, SnmpConfig, SwitchConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::model::device::DeviceSnapshot;
use crate::snmp;

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
        snmp::deadline(&settings).map_err(|e| e.context(&s.address))?;
        targets.push(Target {
            socket: snmp::resolve_address(&s.address)?,
            label: s.address,
            role: s.role.unwrap_or_else(|| "switch".into()),
            settings,
        });
    }
    Ok(targets)
}

/// Switches and routers over SNMP: every device of a run is crawled over one UDP socket per
/// address family.
pub struct Switches {
    /// The name the scan log and stderr give the run: crawl-switches, or which-switch --live.
    name: &'static str,
    /// Put before each device in messages (`--live: `), or empty.
    prefix: &'static str,
    v4: Option<UdpTransport>,
    v6: Option<UdpTransport>,
    /// The run's DES salt state, or why it could not be taken, when a device needs it.
    des: Option<std::result::Result<snmp::DesSaltState, String>>,
}

impl Switches {
    /// Binds the sockets the targets need and, when one of them uses DES privacy, takes the
    /// run's durable salt epoch (kept beside the catalog).
    pub async fn new(
        name: &'static str,
        prefix: &'static str,
        targets: &[Target],
        catalog: &Path,
    ) -> Result<Switches> {
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
        // DES privacy takes a new durable epoch per run, so only a run that needs it writes one.
        let des = targets
            .iter()
            .any(|t| snmp::uses_des(&t.settings))
            .then(|| snmp::des::take_epoch(&snmp::des::state_path(catalog)))
            .map(|taken| taken.map_err(|e| e.to_string()));
        Ok(Switches {
            name,
            prefix,
            v4,
            v6,
            des,
        })
    }
}

/// Why a device that answered still counts as failed: a switch that gave no bridge data.
fn problem(target: &Target, snap: &DeviceSnapshot) -> Option<&'static str> {
    (target.role != "router" && !snap.has_bridge_mib)
        .then_some("no bridge data (the device answered no BRIDGE-MIB)")
}

impl Collector for Switches {
    type Source = Target;
    type Snapshot = crawl::Crawled;

    fn name(&self) -> &'static str {
        self.name
    }

    fn method(&self) -> &'static str {
        "snmp"
    }

    fn label(&self, target: &Target) -> String {
        target.label.clone()
    }

    fn collect(
        self: Arc<Self>,
        target: &Target,
    ) -> impl Future<Output = Result<crawl::Crawled>> + Send + 'static {
        let target = target.clone();
        async move {
            let transport = if target.socket.is_ipv4() {
                self.v4.as_ref()
            } else {
                self.v6.as_ref()
            };
            let transport = transport.ok_or_else(|| Error::new(ErrorKind::Fatal, "no socket"))?;
            let des = match &self.des {
                Some(Ok(state)) => Some(state),
                Some(Err(why)) if snmp::uses_des(&target.settings) => {
                    return Err(Error::new(ErrorKind::Fatal, why.clone()));
                }
                _ => None,
            };
            let agent = crawl::Agent {
                transport,
                target: target.socket,
                settings: &target.settings,
                des,
            };
            // The whole crawl, not each request: a device that keeps answering but never
            // finishes fails alone, and dropping its future stops its walks.
            let deadline = snmp::deadline(&target.settings)?;
            tokio::time::timeout(deadline, crawl::crawl(&agent))
                .await
                .map_err(|_| {
                    Error::new(
                        ErrorKind::Source,
                        format!(
                            "not finished after the deadline of {} s ([snmp] deadline)",
                            deadline.as_secs_f64()
                        ),
                    )
                })?
        }
    }

    fn store(
        &self,
        catalog: &mut Catalog,
        scan_id: i64,
        target: &Target,
        crawled: &crawl::Crawled,
    ) -> Result<Stored> {
        let snapshot = &crawled.snapshot;
        catalog.store_device(scan_id, clock::now(), &target.label, &target.role, snapshot)?;
        Ok(Stored {
            who: format!("{}{}", self.prefix, target.label),
            problems: crawled
                .problems
                .iter()
                .cloned()
                .chain(problem(target, snapshot).map(String::from))
                .collect(),
            notes: Vec::new(),
        })
    }

    fn failure(&self, label: &str, error: &Error) -> String {
        format!("{}{label}: {error}", self.prefix)
    }
}
