//! Scanning one host over SSH: one connection, its package report if it has one, and one
//! fixed script. The collector loop ([`crate::collect::run`]) runs many at once.

use crate::collect::audit::logread::{self, AuditOptions};
use crate::collect::packages::report::{self, ReportFormat};
use crate::error::{Error, ErrorKind, Result};
use crate::model::audit::AuditRead;
use crate::ssh::{Connection, Endpoint, KnownHosts, Limits};

use super::remote::{self, ScriptOptions};
use crate::model::host::HostSnapshot;

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
        audit: options.audit.clone(),
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
    snapshot.host_key = Some(conn.host_key_fingerprint());
    if let Some(audit) = &options.audit {
        snapshot.audit = Some(read_audit(&conn, audit, &snapshot.hostname));
    }
    Ok(snapshot)
}

/// Reads the host's audit log from its checkpoint, in a second command on the connection.
/// Never fails the scan: what went wrong is the read's problem, stored and reported.
fn read_audit(conn: &Connection, audit: &AuditOptions, hostname: &str) -> AuditRead {
    let first = audit.for_host(hostname);
    let mut options = first.clone();
    // A second round only when the checkpoint's file was rewritten (truncated in place).
    for _ in 0..2 {
        let marker = remote::new_marker();
        let script = logread::script(&marker, &options, remote::sh_quote);
        let out = match conn.run(audit.command(), script.as_bytes()) {
            Ok(out) if out.exit_status == 0 => out,
            other => return read_failed(&first, audit.command(), other),
        };
        match logread::parse(&marker, &out.stdout, &options) {
            logread::Parsed::Read(mut read) => {
                read.started_from = first.checkpoint.clone();
                return *read;
            }
            logread::Parsed::Rewritten => options = logread::from_start(&options),
        }
    }
    logread::failed(
        &first,
        format!("{} keeps changing under the read", first.log),
    )
}

/// The read of a command that failed.
fn read_failed(
    options: &logread::ReadOptions,
    command: &str,
    out: Result<crate::ssh::CommandOutput>,
) -> AuditRead {
    match out {
        Ok(out) => {
            let said =
                crate::collect::packages::summarize_stderr(&String::from_utf8_lossy(&out.stderr));
            logread::failed(
                options,
                format!(
                    "reading {} ({command}) failed with exit status {}: {said}",
                    options.log, out.exit_status
                ),
            )
        }
        Err(e) => logread::failed(options, format!("reading {}: {e}", options.log)),
    }
}
