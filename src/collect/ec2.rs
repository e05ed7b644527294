//! sync-ec2 as a collector: each (profile, region) is a source whose instances and Auto Scaling
//! groups are read at once and stored in one transaction, with instances tied to their groups.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::aws::Source;
use crate::catalog::Catalog;
use crate::clock;
use crate::error::{Error, Result};
use crate::model::ec2::{self, Asg, Instance};

use super::{Collector, Stored};

/// EC2 instances and Auto Scaling groups, per region and profile.
#[derive(Debug, Default)]
pub struct Ec2 {
    /// Instances and groups stored so far, for the summary line.
    pub instances: AtomicUsize,
    pub groups: AtomicUsize,
}

impl Collector for Ec2 {
    type Source = Source;
    type Snapshot = (Vec<Instance>, Vec<Asg>);

    fn name(&self) -> &'static str {
        "sync-ec2"
    }

    fn method(&self) -> &'static str {
        "aws"
    }

    fn label(&self, source: &Source) -> String {
        source.label.clone()
    }

    fn collect(
        self: Arc<Self>,
        source: &Source,
    ) -> impl Future<Output = Result<Self::Snapshot>> + Send + 'static {
        let source = source.clone();
        async move {
            // Instances and groups of one region are read at the same time.
            let (instances, groups) = tokio::join!(source.instances(&[]), source.groups(&[]));
            Ok((instances?, groups?))
        }
    }

    fn store(
        &self,
        catalog: &mut Catalog,
        scan_id: i64,
        source: &Source,
        (instances, groups): &Self::Snapshot,
    ) -> Result<Stored> {
        let mut instances = instances.clone();
        ec2::attach_groups(&mut instances, groups);
        let write = catalog.store_ec2(
            scan_id,
            clock::now(),
            &source.label,
            &source.region,
            &instances,
            groups,
        )?;
        self.instances.fetch_add(write.instances, Ordering::Relaxed);
        self.groups.fetch_add(write.groups, Ordering::Relaxed);
        Ok(Stored {
            who: source.label.clone(),
            problems: Vec::new(),
            notes: Vec::new(),
        })
    }

    /// AWS errors already name their source (`profile/region: describing …`).
    fn failure(&self, _: &str, error: &Error) -> String {
        error.to_string()
    }
}
