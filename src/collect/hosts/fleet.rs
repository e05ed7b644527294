//! Scanning many hosts over SSH at once: one connection and one script per host, a bounded
//! number of hosts in flight, and results handed back one by one so the caller can write each
//! host in its own transaction as soon as it is done.
//!
//! Workers are threads (libssh2 is blocking); the channel back to the caller is bounded, so a
//! slow catalog write holds the workers back instead of piling snapshots up in memory.

use std::sync::Mutex;
use std::sync::mpsc::sync_channel;

use crate::clock;
use crate::collect::packages::report::{self, ReportFormat};
use crate::error::{Error, ErrorKind, Result};
use crate::ssh::{Connection, Endpoint, KnownHosts, Limits};

use super::remote::{self, ScriptOptions};
use crate::model::host::HostSnapshot;

/// One host's result.
pub struct HostResult {
    pub endpoint: Endpoint,
    /// When the scan of this host started (Unix seconds).
    pub started_at: i64,
    pub snapshot: Result<HostSnapshot>,
}

/// Scans `endpoints` with at most `concurrency` at once, calling `done` on the caller's thread
/// for each host as it finishes (in completion order).
pub fn scan(
    endpoints: Vec<Endpoint>,
    known: &KnownHosts,
    limits: &Limits,
    options: &ScriptOptions,
    concurrency: usize,
    mut done: impl FnMut(HostResult) -> Result<()>,
) -> Result<()> {
    let workers = concurrency.clamp(1, 1024).min(endpoints.len().max(1));
    let queue = Mutex::new(endpoints.into_iter());
    let (tx, rx) = sync_channel::<HostResult>(workers);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let queue = &queue;
            std::thread::Builder::new()
                .stack_size(512 << 10)
                .spawn_scoped(scope, move || {
                    loop {
                        let next = queue.lock().ok().and_then(|mut q| q.next());
                        let Some(endpoint) = next else { break };
                        let started_at = clock::now();
                        let snapshot = scan_one(&endpoint, known, limits, options);
                        let result = HostResult {
                            endpoint,
                            started_at,
                            snapshot,
                        };
                        if tx.send(result).is_err() {
                            break; // the caller stopped listening: a fatal error there
                        }
                    }
                })
                .map_err(|e| Error::with_source(ErrorKind::Fatal, "starting a scan thread", e))?;
        }
        drop(tx);
        let mut outcome = Ok(());
        for result in rx {
            if let Err(e) = done(result) {
                outcome = Err(e);
                // Drain nothing more: dropping the receiver stops the workers after their host.
                break;
            }
        }
        outcome
    })
}

/// Scans one host: connect, read its package report if it has one, run the script.
pub fn scan_one(
    endpoint: &Endpoint,
    known: &KnownHosts,
    limits: &Limits,
    options: &ScriptOptions,
) -> Result<HostSnapshot> {
    let conn = Connection::open(endpoint, known, limits)?;
    let report = match &endpoint.package_report {
        Some(r) => {
            let format = ReportFormat::from_name(&r.format)?;
            let bytes = conn.read_file(&r.path)?;
            Some(report::parse(format, &String::from_utf8_lossy(&bytes))?)
        }
        None => None,
    };
    let options = ScriptOptions {
        packages: report.is_none() && options.packages,
        facts: options.facts.clone(),
    };
    let marker = remote::new_marker();
    let script = remote::script(&marker, &options);
    let out = conn.run(remote::REMOTE_COMMAND, script.as_bytes())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut snapshot = remote::parse(&marker, &stdout, &options).map_err(|e| {
        // The script ends with exit status 0 by construction; a failure before its end is the
        // login shell refusing (nologin, a forced command) or sh missing: its stderr says why.
        let said =
            crate::collect::packages::summarize_stderr(&String::from_utf8_lossy(&out.stderr));
        match (out.exit_status, said.is_empty()) {
            (0, true) => e,
            (status, _) => Error::new(
                ErrorKind::Source,
                format!("the remote shell failed (exit status {status}): {said}"),
            ),
        }
    })?;
    if snapshot
        .inventories
        .iter()
        .any(crate::collect::packages::needs_dpkg_times)
    {
        // Only a dpkg older than 1.19.3 gets here. Install times are extra: a host whose
        // times cannot be read keeps its packages, undated.
        let script = remote::dpkg_times_script();
        if let Ok(out) = conn.run(remote::REMOTE_COMMAND, script.as_bytes()) {
            remote::add_dpkg_times(&mut snapshot, &String::from_utf8_lossy(&out.stdout));
        }
    }
    if let Some(inventory) = report {
        snapshot.inventories.push(inventory);
    }
    Ok(snapshot)
}
