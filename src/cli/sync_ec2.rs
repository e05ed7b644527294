//! `sync-ec2`: read EC2 instances and Auto Scaling groups into the catalog, so that the query
//! tools can tie an address or a name to its instance.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::aws;
use crate::collect::{self, ec2::Ec2};
use crate::error::{Outcome, Result};

use super::{COLLECTOR_EXIT_STATUS, CommonArgs, Tool, ToolDoc};

const NAME: &str = "sync-ec2";

/// Read EC2 instances and Auto Scaling groups into the catalog.
///
/// For every configured profile and region ([ec2] profiles and regions, or --profile and
/// --region), reads every instance (id, Name and all tags, state, type, availability zone,
/// VPC, subnet, private and public IPv4, IPv6, network interfaces, launch time, Auto Scaling
/// group) and every Auto Scaling group (size and members with their health), all regions at
/// once, and writes each region in its own transaction with history: what changed gets a new
/// row, what disappeared is marked not current. A region that fails is named on stderr and the
/// others are kept. Credentials come from the standard AWS chain (environment, profile, SSO,
/// instance role), never from the command line.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// AWS region to read; repeatable [default: [ec2] regions, else AWS_REGION or the profile's]
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,

    /// AWS profile to read; repeatable [default: [ec2] profiles, else the default chain]
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,

    /// Seconds to wait for a connection to AWS [default: 3, or [ec2] timeout]
    #[arg(long, value_name = "SECONDS", value_parser = crate::cli::settings::parse_seconds)]
    pub timeout: Option<f64>,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "sync-ec2",
                "Read the regions and profiles of [ec2] in the configuration.",
            ),
            (
                "sync-ec2 --region eu-west-1 --region us-east-1 --profile prod",
                "Read two regions of the prod profile.",
            ),
            (
                "*/10 * * * * sync-ec2",
                "A crontab line: every 10 minutes; mail arrives only when a region failed.",
            ),
        ],
        fields: &[],
        exit_status: COLLECTOR_EXIT_STATUS,
        views: &[],
        environment: super::settings::AWS_ENVIRONMENT,
    };

    fn run(self) -> Result<Outcome> {
        let config = self.common.config()?;
        let options = super::settings::aws(&config, &self.profile, &self.region, self.timeout)?;
        // Open the catalog first: a catalog problem is fatal and should not wait for AWS.
        let mut catalog = self.common.open_catalog(&config)?;
        let collector = Arc::new(Ec2::default());
        let runtime = super::settings::runtime()?;
        let report = runtime.block_on(async {
            let sources = aws::sources(&options).await?;
            let concurrency = sources.len();
            collect::run(collector.clone(), &mut catalog, sources, concurrency).await
        })?;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "{NAME}: {} instances and {} Auto Scaling groups stored, {} regions failed, into {}",
                collector.instances.load(Ordering::Relaxed),
                collector.groups.load(Ordering::Relaxed),
                report.failed,
                catalog.location()
            );
        }
        Ok(report.outcome())
    }
}
