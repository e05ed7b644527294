//! Collectors: reading sources (hosts over SSH or locally, switches over SNMP, AWS regions)
//! and storing what each said in the catalog.
//!
//! Every collector has one shape, [`Collector`]: its sources, reading one source, and storing
//! one source in one transaction. Every collector runs through one loop, [`run`]: begin each
//! source's scan, read the sources with bounded concurrency, store each as it arrives, finish
//! its scan, draw a progress bar on a terminal, print one stderr line per failure, and count
//! what happened for the exit status. A source that failed stores nothing, so nothing it did
//! not report is retired: its previous data stays current.

pub mod audit;
pub mod ec2;
pub mod hosts;
pub mod packages;
pub mod switches;

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::catalog::Catalog;
use crate::clock;
use crate::error::{Error, ErrorKind, Outcome, Result};
use crate::output::warning;
use crate::progress::Progress;

/// A collector: how one of its sources is read and how what it said is stored.
pub trait Collector: Send + Sync + 'static {
    /// One source: an SSH endpoint, a device, an AWS region.
    type Source: Send + 'static;
    /// What reading one source yields.
    type Snapshot: Send + 'static;

    /// The name the catalog's scan log and stderr lines give the run (`scan-hosts`).
    fn name(&self) -> &'static str;

    /// How a source is reached, for the scan log (`ssh`, `local`, `snmp`, `aws`).
    fn method(&self) -> &'static str;

    /// A source's label: its identity in the scan log and in messages.
    fn label(&self, source: &Self::Source) -> String;

    /// Reads one source. Runs concurrently with the others on the run's runtime; blocking
    /// work (libssh2, reading /proc) goes through `spawn_blocking`.
    fn collect(
        self: Arc<Self>,
        source: &Self::Source,
    ) -> impl Future<Output = Result<Self::Snapshot>> + Send + 'static;

    /// Stores one source's snapshot in its own transaction, and says what failed within it
    /// while the rest was kept (a package manager, a custom fact, a switch without bridge data).
    fn store(
        &self,
        catalog: &mut Catalog,
        scan_id: i64,
        source: &Self::Source,
        snapshot: &Self::Snapshot,
    ) -> Result<Stored>;

    /// The stderr line for a source that failed, without the tool's name.
    fn failure(&self, label: &str, error: &Error) -> String {
        format!("{label}: {error}")
    }
}

/// What storing one source left to report.
#[derive(Debug, Default)]
pub struct Stored {
    /// How messages name the source: its label, with the name it reported when that differs.
    pub who: String,
    /// What failed within the source while the rest was stored, one phrase each.
    pub problems: Vec<String>,
    /// What is worth a line on stderr but is not a failure (an audit log read in part, the
    /// rest left for the next scan by the byte cap).
    pub notes: Vec<String>,
}

/// What a run did, for the exit status and the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub sources: usize,
    /// Sources read and stored, problems or not.
    pub stored: usize,
    /// Of those, the ones with a problem.
    pub with_problems: usize,
    /// Sources that could not be read at all.
    pub failed: usize,
}

impl Report {
    /// Every source stored without a problem: success; else some sources failed.
    pub fn outcome(&self) -> Outcome {
        if self.failed == 0 && self.with_problems == 0 {
            Outcome::Success
        } else {
            Outcome::SomeSourcesFailed
        }
    }
}

/// Reads `sources`, `concurrency` at a time, storing each as it arrives. Errors of the catalog
/// are fatal (returned); a source's own failure is counted, logged in the catalog and printed.
///
/// A source's concurrency slot is held until it is stored, so a slow catalog holds the readers
/// back instead of piling snapshots up in memory.
pub async fn run<C: Collector>(
    collector: Arc<C>,
    catalog: &mut Catalog,
    sources: Vec<C::Source>,
    concurrency: usize,
) -> Result<Report> {
    let name = collector.name();
    let mut report = Report {
        sources: sources.len(),
        ..Report::default()
    };
    let progress = Progress::new(sources.len() as u64, name);
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for source in sources {
        let collector = collector.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let permit = limit.acquire_owned().await;
            let started = clock::now();
            let result = collector.collect(&source).await;
            (source, started, result, permit)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (source, started, result, permit) = joined
            .map_err(|e| Error::with_source(ErrorKind::Fatal, "a collector task failed", e))?;
        let label = collector.label(&source);
        let scan_id = catalog.begin_scan(name, collector.method(), &label, started)?;
        // A source the catalog refuses (a host claiming another's identity) fails alone, like
        // one that could not be read; any other store error is the catalog's and ends the run.
        let result = match result {
            Ok(snapshot) => match collector.store(catalog, scan_id, &source, &snapshot) {
                Err(e) if e.kind() == ErrorKind::Source => Err(e),
                stored => stored.map(Ok)?,
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(stored) => {
                let problem = (!stored.problems.is_empty()).then(|| stored.problems.join("; "));
                catalog.finish_scan(scan_id, clock::now(), problem.as_deref())?;
                for p in stored.problems.iter().chain(&stored.notes) {
                    progress.println(warning(name, format!("{}: {p}", stored.who)));
                }
                report.stored += 1;
                report.with_problems += usize::from(problem.is_some());
                progress.done(&label, problem.is_none());
            }
            Err(e) => {
                catalog.finish_scan(scan_id, clock::now(), Some(&e.to_string()))?;
                progress.println(warning(name, collector.failure(&label, &e)));
                report.failed += 1;
                progress.done(&label, false);
            }
        }
        drop(permit);
    }
    progress.finish();
    Ok(report)
}
