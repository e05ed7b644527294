//! scan-hosts as collectors: hosts over SSH (one connection and one fixed script per host) and
//! this machine, each stored in its own transaction by the same [`store`].

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::catalog::Catalog;
use crate::clock;
use crate::collect::audit::logread::AuditOptions;
use crate::config::FactConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::host::HostSnapshot;
use crate::ssh::{Endpoint, KnownHosts, Limits};

use super::fleet;
use super::remote::ScriptOptions;
use crate::collect::{Collector, Stored};

/// The collector's name in the scan log and on stderr.
pub const NAME: &str = "scan-hosts";

/// Hosts over SSH.
pub struct Ssh {
    pub known: KnownHosts,
    pub limits: Limits,
    /// Hostnames whose machine id or host key may differ from the catalog's (reinstalled).
    pub new_identity: Vec<String>,
    pub options: ScriptOptions,
}

impl Collector for Ssh {
    type Source = Endpoint;
    type Snapshot = HostSnapshot;

    fn name(&self) -> &'static str {
        NAME
    }

    fn method(&self) -> &'static str {
        "ssh"
    }

    fn label(&self, endpoint: &Endpoint) -> String {
        endpoint.label.clone()
    }

    fn collect(
        self: Arc<Self>,
        endpoint: &Endpoint,
    ) -> impl Future<Output = Result<HostSnapshot>> + Send + 'static {
        let endpoint = endpoint.clone();
        // libssh2 is blocking: each host gets a thread of the runtime's blocking pool.
        blocking(move || fleet::scan_one(&endpoint, &self.known, &self.limits, &self.options))
    }

    fn store(
        &self,
        catalog: &mut Catalog,
        scan_id: i64,
        endpoint: &Endpoint,
        snapshot: &HostSnapshot,
    ) -> Result<Stored> {
        store(
            catalog,
            scan_id,
            &endpoint.label,
            snapshot,
            &self.new_identity,
        )
    }
}

/// This machine, without SSH.
pub struct Local {
    pub facts: Vec<FactConfig>,
    /// As [`Ssh::new_identity`].
    pub new_identity: Vec<String>,
    /// How to read this machine's audit log, if at all.
    pub audit: Option<AuditOptions>,
    /// The hostname, interfaces and packages of the last scan, for the summary line.
    pub scanned: Mutex<Option<(String, usize, usize)>>,
}

/// The one source of a local scan.
pub const LOCALHOST: &str = "localhost";

impl Collector for Local {
    type Source = &'static str;
    type Snapshot = HostSnapshot;

    fn name(&self) -> &'static str {
        NAME
    }

    fn method(&self) -> &'static str {
        "local"
    }

    fn label(&self, source: &&'static str) -> String {
        source.to_string()
    }

    fn collect(
        self: Arc<Self>,
        _: &&'static str,
    ) -> impl Future<Output = Result<HostSnapshot>> + Send + 'static {
        // The one source of its run: reading /proc and the package database in place blocks
        // nothing else, and a blocking-pool thread would cost more than the wait it hides.
        std::future::ready(super::local::scan(&self.facts).map(|mut snapshot| {
            if let Some(audit) = &self.audit {
                snapshot.audit = Some(super::local::read_audit(audit, &snapshot.hostname));
            }
            snapshot
        }))
    }

    fn store(
        &self,
        catalog: &mut Catalog,
        scan_id: i64,
        _: &&'static str,
        snapshot: &HostSnapshot,
    ) -> Result<Stored> {
        let packages = snapshot.inventories.iter().map(|i| i.packages.len()).sum();
        if let Ok(mut scanned) = self.scanned.lock() {
            *scanned = Some((
                snapshot.hostname.clone(),
                snapshot.interfaces.len(),
                packages,
            ));
        }
        store(
            catalog,
            scan_id,
            &snapshot.hostname,
            snapshot,
            &self.new_identity,
        )
    }
}

/// Runs blocking work on the runtime's blocking pool.
fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> impl Future<Output = Result<T>> + Send + 'static {
    let task = tokio::task::spawn_blocking(work);
    async move {
        task.await
            .map_err(|e| Error::with_source(ErrorKind::Fatal, "a scan thread failed", e))?
    }
}

/// Stores one host's snapshot. What failed within it (package managers, custom facts) is kept
/// from the previous scan and named, with the host as the label and the name it reports.
pub fn store(
    catalog: &mut Catalog,
    scan_id: i64,
    label: &str,
    snap: &HostSnapshot,
    new_identity: &[String],
) -> Result<Stored> {
    let renewed = new_identity.contains(&snap.hostname);
    catalog.store_host(scan_id, clock::now(), snap, renewed)?;
    let who = if label == snap.hostname {
        label.to_string()
    } else {
        format!("{label} ({})", snap.hostname)
    };
    let mut problems = Vec::new();
    for (manager, error) in &snap.failed_managers {
        problems.push(format!("{manager}: {error}"));
    }
    for (fact, error) in &snap.failed_facts {
        problems.push(format!("fact {fact}: {error}"));
    }
    let mut notes = Vec::new();
    if let Some(read) = &snap.audit {
        if read.bad_lines > 0 {
            notes.push(format!(
                "audit: {} lines of {} are not audit records (skipped)",
                read.bad_lines, read.log
            ));
        }
        match &read.problem {
            // No auditd is a state, not a failure: the report lists such hosts.
            Some(p) if read.checkpoint.is_none() && !read.absent => {
                problems.push(format!("audit: {p}"))
            }
            Some(p) if !read.absent => notes.push(format!("audit: {p}")),
            _ => {}
        }
    }
    Ok(Stored {
        who,
        problems,
        notes,
    })
}
