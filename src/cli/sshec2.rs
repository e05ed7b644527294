//! `sshec2`: a shell on the right EC2 instance. Looks the instance up live in AWS, picks one
//! when several match, and replaces itself with the system `ssh`.

use std::io::{BufRead, IsTerminal, Write};

use serde_json::json;

use crate::clock;
use crate::error::{Error, Outcome, Result};
use crate::model::ec2::Instance;
use crate::output::{OutputArgs, Printer, Record, Schema, Shape};
use crate::query::ec2::{self as select, AddressKind, Found, Pick, Wanted};

use crate::ssh::exec;

use super::{CommonArgs, Tool, ToolDoc, settings, warn};

const NAME: &str = "sshec2";

/// Get a shell on an EC2 instance, found by id, Name tag, any tag, address, or Auto Scaling group.
///
/// TARGET is an instance id (i-…), a Name tag value (exact, or a glob with * and ?), a private or
/// public IPv4 or IPv6 address, or a DNS name, optionally as USER@TARGET. -t KEY=VALUE narrows
/// by any tag (repeatable). -a NAME takes a random InService, Healthy member of that Auto
/// Scaling group; -p PREFIX takes the newest group whose name starts with PREFIX that has such
/// members, then a random one of them. Only running instances qualify. AWS is asked live, in
/// every --region at once, with the standard credential chain (environment, profile, SSO,
/// instance role).
///
/// When several instances match, --pick decides; without it, an interactive list is shown
/// when stdin and stdout are a terminal, and otherwise the matches are listed on stderr and
/// sshec2 exits with 2. The chosen address (--address: public if the instance has one, else
/// private) is handed to the system ssh, which sshec2 replaces itself with, so ~/.ssh/config,
/// the agent and ProxyJump apply and ssh's exit status is sshec2's. Arguments after -- go to
/// ssh after the address: ssh options first, then a remote command.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// [USER@]TARGET: instance id, Name tag (glob), IP address or DNS name
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,

    /// Only instances with this tag (VALUE may be a glob); repeatable
    #[arg(short = 't', long = "tag", value_name = "KEY=VALUE", value_parser = select::parse_tag)]
    pub tags: Vec<(String, String)>,

    /// A random InService, Healthy instance of this Auto Scaling group
    #[arg(short = 'a', long, value_name = "NAME", conflicts_with_all = ["target", "group_prefix"])]
    pub asg: Option<String>,

    /// The newest Auto Scaling group with this name prefix that has healthy instances
    #[arg(short = 'p', long, value_name = "PREFIX", conflicts_with = "target")]
    pub group_prefix: Option<String>,

    /// How to choose among several matches [default: ask on a terminal, else fail; random for -a and -p]
    #[arg(long, value_enum, value_name = "POLICY")]
    pub pick: Option<Pick>,

    /// List the matching instances instead of connecting
    #[arg(long, conflicts_with_all = ["print", "print_argv"])]
    pub list: bool,

    /// Remote user [default: USER@ of the target, else [ec2] user, else ssh's own choice]
    #[arg(short = 'l', long = "login", value_name = "USER")]
    pub user: Option<String>,

    /// Which address to connect to [default: auto, or [ec2] address]
    #[arg(long, value_enum, value_name = "KIND")]
    pub address: Option<AddressKind>,

    /// Print the chosen address and exit (for scripts and ssh's ProxyCommand)
    #[arg(long)]
    pub print: bool,

    /// Print the ssh command line, shell-quoted, and exit
    #[arg(long, conflicts_with = "print")]
    pub print_argv: bool,

    /// AWS region to search; repeat to search several at once [default: [ec2] regions, else AWS_REGION or the profile's]
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,

    /// AWS profile [default: [ec2] profiles, else AWS_PROFILE or the default chain]
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Seconds to wait for a connection to AWS [default: 3, or [ec2] timeout]
    #[arg(long, value_name = "SECONDS", value_parser = crate::cli::settings::parse_seconds)]
    pub timeout: Option<f64>,

    /// Arguments for ssh, after the address: options, then a remote command
    #[arg(last = true, value_name = "SSH ARGS")]
    pub ssh_args: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The fields of `--list`.
    pub Row {
        ID = "id", shown,
            "Instance id.";
        NAME = "name", shown,
            "The Name tag.";
        STATE = "state", shown,
            "Instance state (always running: only running instances qualify).";
        PRIVATE_IP = "private_ip", shown,
            "Primary private IPv4 address.";
        PUBLIC_IP = "public_ip", shown,
            "Public IPv4 address, if any.";
        AZ = "az", shown,
            "Availability zone.";
        LAUNCHED = "launched", shown,
            "Launch time (RFC 3339, UTC).";
        ASG = "asg", shown,
            "Auto Scaling group, if the instance belongs to one.";
        REGION = "region", shown,
            "Region (profile/region when a profile was named).";
        IPV6 = "ipv6", hidden,
            "IPv6 addresses.";
        TYPE = "type", hidden,
            "Instance type.";
        VPC_ID = "vpc_id", hidden,
            "VPC id.";
        SUBNET_ID = "subnet_id", hidden,
            "Subnet id.";
        PRIVATE_DNS = "private_dns", hidden,
            "Private DNS name.";
        PUBLIC_DNS = "public_dns", hidden,
            "Public DNS name.";
        TAGS = "tags", hidden,
            "All tags, as an object.";
    }
}

/// The exit statuses of sshec2.
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "--list, --print or --print-argv answered. After connecting, the status is ssh's own.",
    ),
    (
        "1",
        "No running instance matches (or the group has no healthy instance).",
    ),
    (
        "2",
        "Usage, configuration or AWS error, or several matches with --pick fail (or no terminal to ask on).",
    ),
];

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "sshec2 web-7",
                "A shell on the running instance whose Name tag is web-7.",
            ),
            (
                "sshec2 -a web-prod -- sudo journalctl -fu nginx",
                "Follow nginx's log on a random healthy instance of the web-prod group.",
            ),
            (
                "sshec2 -p web-prod- -l admin",
                "The newest web-prod-* group (a blue/green deploy), any healthy member, as admin.",
            ),
            (
                "sshec2 'web-*' --pick newest --region eu-west-1 --region us-east-1",
                "The most recently launched web-* instance in either region.",
            ),
            (
                "sshec2 -t env=prod -t role=db --list",
                "List the running instances tagged env=prod and role=db.",
            ),
            (
                "sshec2 ec2-user@10.1.2.3 -- -A -L 8080:localhost:80",
                "By address, forwarding the agent and a port.",
            ),
            (
                "ProxyCommand sh -c 'nc $(sshec2 --print --address private %h) %p'",
                "In ~/.ssh/config (Host i-*): ssh by instance id.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: EXIT_STATUS,
        views: &[],
        environment: settings::AWS_ENVIRONMENT,
    };

    fn run(self) -> Result<Outcome> {
        let config = self.common.config()?;
        let (target_user, wanted) = self.wanted()?;
        let profiles: Vec<String> = self.profile.iter().cloned().collect();
        let options = settings::aws(&config, &profiles, &self.region, self.timeout)?;
        let mut printer = if self.list {
            Some(Printer::new::<Row>(&self.output)?)
        } else {
            None
        };

        let runtime = settings::runtime()?;
        let search = runtime.block_on(select::search(&options, &wanted, &self.tags))?;
        drop(runtime);

        let matches = match search.found {
            Found::Running(matches) => matches,
            Found::Nothing(why) => {
                // Only a search that reached every source may say "nothing": otherwise the
                // instance may well be in the region that failed.
                if let Some(first) = search.failures.into_iter().next() {
                    return Err(first);
                }
                warn(NAME, why);
                return Ok(Outcome::NothingFound);
            }
        };
        for failure in &search.failures {
            warn(NAME, failure);
        }

        if let Some(printer) = printer.as_mut() {
            let records: Vec<Record<Row>> = matches.iter().map(record).collect();
            printer.print(&records, Shape::Table)?;
            return Ok(Outcome::Success);
        }

        let policy = self.pick.or(wanted.default_pick());
        let chosen = match (matches.len(), policy) {
            (1, _) => 0,
            (_, Some(p)) if p != Pick::Fail => select::pick(&matches, p).unwrap_or(0),
            (_, None) if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() => {
                ask(&matches)?
            }
            _ => {
                for i in &matches {
                    warn(NAME, format!("  {}", one_line(i)));
                }
                return Err(Error::usage(format!(
                    "{} running instances match; choose one with --pick \
                     random|newest|oldest|first, or narrow with -t KEY=VALUE",
                    matches.len()
                )));
            }
        };
        let instance = &matches[chosen];
        let kind = self
            .address
            .or(config.ec2.address)
            .unwrap_or(AddressKind::Auto);
        let address = select::address(instance, kind)?;
        if self.print {
            println_or_fail(&address)?;
            return Ok(Outcome::Success);
        }
        let user = target_user
            .or(self.user.clone())
            .or(config.ec2.user.clone());
        let argv = exec::argv(user.as_deref(), &address, &self.ssh_args)?;
        if self.print_argv {
            let quoted: Vec<String> = argv.iter().map(|a| exec::shell_quote(a)).collect();
            println_or_fail(&quoted.join(" "))?;
            return Ok(Outcome::Success);
        }
        if std::io::stderr().is_terminal() {
            eprintln!(
                "{NAME}: {} ({}) in {}: ssh {address}",
                instance.id,
                crate::output::escape::for_terminal(instance.name.as_deref().unwrap_or("-")),
                instance.source
            );
        }
        Err(exec::exec(&argv))
    }
}

impl Args {
    /// The user from `USER@TARGET`, and what is being looked for.
    fn wanted(&self) -> Result<(Option<String>, Wanted)> {
        if let Some(name) = &self.asg {
            return Ok((None, Wanted::Group(name.clone())));
        }
        if let Some(prefix) = &self.group_prefix {
            return Ok((None, Wanted::Prefix(prefix.clone())));
        }
        match &self.target {
            Some(text) => {
                let (user, target) = select::user_and_target(text)?;
                Ok((user, Wanted::Instances(Some(target))))
            }
            None if self.tags.is_empty() => Err(Error::usage(
                "nothing to look for: give a TARGET, -t KEY=VALUE, -a GROUP or -p PREFIX",
            )),
            None => Ok((None, Wanted::Instances(None))),
        }
    }
}

/// One instance on one line, for lists on stderr and the picker.
fn one_line(i: &Instance) -> String {
    format!(
        "{}  {}  {}  {}  {}  {}",
        i.id,
        i.name.as_deref().unwrap_or("-"),
        i.private_ip.as_deref().unwrap_or("-"),
        i.public_ip.as_deref().unwrap_or("-"),
        i.launch_time.map(clock::format).unwrap_or_default(),
        i.source
    )
}

/// Asks on the terminal which instance to use.
fn ask(matches: &[Instance]) -> Result<usize> {
    let mut err = std::io::stderr().lock();
    let io = |e| Error::io("asking which instance", e);
    for (n, i) in matches.iter().enumerate() {
        writeln!(
            err,
            "{:3}) {}",
            n + 1,
            crate::output::escape::for_terminal(&one_line(i))
        )
        .map_err(io)?;
    }
    write!(err, "which one [1-{}]? ", matches.len()).map_err(io)?;
    err.flush().map_err(io)?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(io)?;
    match line.trim().parse::<usize>() {
        Ok(n) if (1..=matches.len()).contains(&n) => Ok(n - 1),
        _ => Err(Error::usage(format!(
            "no instance chosen ({:?} is not a number from 1 to {})",
            line.trim(),
            matches.len()
        ))),
    }
}

fn println_or_fail(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing output", e))
}

/// A `--list` row.
fn record(i: &Instance) -> Record<Row> {
    let mut r = Row::record();
    r.set(Row::ID, i.id.as_str())
        .set(Row::NAME, i.name.clone())
        .set(Row::STATE, i.state.as_str())
        .set(Row::PRIVATE_IP, i.private_ip.clone())
        .set(Row::PUBLIC_IP, i.public_ip.clone())
        .set(Row::AZ, i.az.clone())
        .set(Row::LAUNCHED, i.launch_time.map(clock::format))
        .set(Row::ASG, i.asg.clone())
        .set(Row::REGION, i.source.as_str())
        .set(Row::IPV6, json!(i.ipv6))
        .set(Row::TYPE, i.instance_type.clone())
        .set(Row::VPC_ID, i.vpc_id.clone())
        .set(Row::SUBNET_ID, i.subnet_id.clone())
        .set(Row::PRIVATE_DNS, i.private_dns.clone())
        .set(Row::PUBLIC_DNS, i.public_dns.clone())
        .set(Row::TAGS, json!(i.tags));
    r
}
