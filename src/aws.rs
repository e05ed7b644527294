//! Talking to AWS: the credential and region chains set up to start fast and fail fast, one
//! source per (profile, region), paginated reads of instances and Auto Scaling groups, and SDK
//! errors turned into one-line messages a user can act on.
//!
//! The standard chains are used (environment, profile files, SSO, web identity, ECS, instance
//! role) so that whatever works for the aws CLI works here, including `AWS_ENDPOINT_URL`. Two
//! things differ from the SDK's defaults because a command-line tool is not a long-running
//! service: the instance metadata service is given a fraction of a second (off EC2 it is not
//! there, and the default would wait seconds on every run), and retries and timeouts are short,
//! so that an unreachable endpoint ends with an error in seconds, not minutes.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_config::SdkConfig;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::Filter;

use crate::error::{Error, ErrorKind, Result};

use crate::model::ec2::{ASG_TAG, Asg, Instance, InstanceState, Interface, Member};

/// Where to look: profiles (`None` is the default chain) and regions (empty: each profile's
/// default region), and how long to wait.
#[derive(Debug, Clone)]
pub struct Options {
    pub profiles: Vec<Option<String>>,
    pub regions: Vec<String>,
    /// Connection timeout; one attempt may take four times this, a whole call ten times.
    pub timeout: Duration,
}

/// One place instances are read from: an account (through a profile) in one region.
#[derive(Debug, Clone)]
pub struct Source {
    /// `region`, or `profile/region` when a profile was named.
    pub label: String,
    pub profile: Option<String>,
    pub region: String,
    sdk: SdkConfig,
}

/// An instance metadata client that gives up quickly: off EC2 nothing answers there, and the
/// SDK's default (one second per attempt, several attempts) would be paid on every run that
/// lacks credentials or a region.
fn quick_imds() -> aws_config::imds::Client {
    aws_config::imds::Client::builder()
        .connect_timeout(Duration::from_millis(300))
        .read_timeout(Duration::from_millis(500))
        .operation_timeout(Duration::from_secs(1))
        .max_attempts(1)
        .build()
}

/// The region a profile uses when none is given: environment, profile file, then IMDS.
async fn default_region(profile: Option<&str>) -> Option<String> {
    let mut file = ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        file = file.profile_name(p);
    }
    RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(file.build())
        .or_else(
            ImdsRegionProvider::builder()
                .imds_client(quick_imds())
                .build(),
        )
        .region()
        .await
        .map(|r| r.to_string())
}

/// Sets up one source per (profile, region). Nothing is sent to AWS yet: credentials are
/// resolved on the first call, once per profile, and shared by that profile's regions.
pub async fn sources(options: &Options) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    let profiles = if options.profiles.is_empty() {
        vec![None]
    } else {
        options.profiles.clone()
    };
    for profile in profiles {
        let regions = if options.regions.is_empty() {
            match default_region(profile.as_deref()).await {
                Some(r) => vec![r],
                None => {
                    return Err(Error::new(
                        ErrorKind::Config,
                        "no AWS region: give --region, set regions in [ec2], or set AWS_REGION",
                    ));
                }
            }
        } else {
            options.regions.clone()
        };
        let first = Region::new(regions[0].clone());
        let mut chain = DefaultCredentialsChain::builder()
            .imds_client(quick_imds())
            .region(first.clone());
        if let Some(p) = &profile {
            chain = chain.profile_name(p);
        }
        let credentials = chain.build().await;
        let t = options.timeout;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(first)
            .credentials_provider(credentials)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(t)
                    .read_timeout(t * 4)
                    .operation_attempt_timeout(t * 4)
                    .operation_timeout(t * 10)
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(100))
                    .with_max_backoff(Duration::from_secs(2)),
            );
        if let Some(p) = &profile {
            loader = loader.profile_name(p);
        }
        let sdk = loader.load().await;
        for region in regions {
            sources.push(Source {
                label: match &profile {
                    Some(p) => format!("{p}/{region}"),
                    None => region.clone(),
                },
                profile: profile.clone(),
                region,
                sdk: sdk.clone(),
            });
        }
    }
    Ok(sources)
}

/// A server-side filter: name and accepted values (`*` and `?` are wildcards in tag filters).
pub type FilterSpec = (String, Vec<String>);

impl Source {
    fn ec2(&self) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .region(Region::new(self.region.clone()))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    fn autoscaling(&self) -> aws_sdk_autoscaling::Client {
        let conf = aws_sdk_autoscaling::config::Builder::from(&self.sdk)
            .region(Region::new(self.region.clone()))
            .build();
        aws_sdk_autoscaling::Client::from_conf(conf)
    }

    /// Every instance that passes all `filters`, across all pages.
    pub async fn instances(&self, filters: &[FilterSpec]) -> Result<Vec<Instance>> {
        let filters: Vec<Filter> = filters
            .iter()
            .map(|(name, values)| {
                Filter::builder()
                    .name(name)
                    .set_values(Some(values.clone()))
                    .build()
            })
            .collect();
        let mut request = self.ec2().describe_instances().max_results(1000);
        if !filters.is_empty() {
            request = request.set_filters(Some(filters));
        }
        let mut pages = request.into_paginator().send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("describing instances", "EC2", e))?;
            for reservation in page.reservations() {
                for i in reservation.instances() {
                    if let Some(instance) = self.instance(i) {
                        found.push(instance);
                    }
                }
            }
        }
        Ok(found)
    }

    /// The Auto Scaling groups named `names`, or every group when `names` is empty.
    pub async fn groups(&self, names: &[String]) -> Result<Vec<Asg>> {
        let mut request = self
            .autoscaling()
            .describe_auto_scaling_groups()
            .max_records(100);
        if !names.is_empty() {
            request = request.set_auto_scaling_group_names(Some(names.to_vec()));
        }
        let mut pages = request.into_paginator().send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| self.error("describing Auto Scaling groups", "Auto Scaling", e))?;
            for g in page.auto_scaling_groups() {
                let Some(name) = g.auto_scaling_group_name() else {
                    continue;
                };
                found.push(Asg {
                    name: name.to_string(),
                    region: self.region.clone(),
                    created_at: g.created_time().map(|t| t.secs()),
                    desired: g.desired_capacity(),
                    min_size: g.min_size(),
                    max_size: g.max_size(),
                    members: g
                        .instances()
                        .iter()
                        .filter_map(|m| {
                            Some(Member {
                                instance_id: m.instance_id()?.to_string(),
                                lifecycle: m.lifecycle_state().map(|l| l.as_str().to_string()),
                                health: m.health_status().map(str::to_string),
                            })
                        })
                        .collect(),
                });
            }
        }
        Ok(found)
    }

    /// Converts the SDK's instance; one without an id is skipped (it cannot be named).
    fn instance(&self, i: &aws_sdk_ec2::types::Instance) -> Option<Instance> {
        let id = i.instance_id()?.to_string();
        let tags: std::collections::BTreeMap<String, String> = i
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
            .collect();
        let interfaces: Vec<Interface> = i
            .network_interfaces()
            .iter()
            .map(|n| {
                let mut private_ips: Vec<String> = n
                    .private_ip_address()
                    .map(str::to_string)
                    .into_iter()
                    .collect();
                for a in n.private_ip_addresses() {
                    if let Some(ip) = a.private_ip_address()
                        && !private_ips.iter().any(|p| p == ip)
                    {
                        private_ips.push(ip.to_string());
                    }
                }
                Interface {
                    id: n.network_interface_id().map(str::to_string),
                    device_index: n.attachment().and_then(|a| a.device_index()),
                    mac: n.mac_address().map(str::to_ascii_lowercase),
                    subnet_id: n.subnet_id().map(str::to_string),
                    private_ips,
                    public_ip: n
                        .association()
                        .and_then(|a| a.public_ip())
                        .map(str::to_string),
                    ipv6: n
                        .ipv6_addresses()
                        .iter()
                        .filter_map(|a| a.ipv6_address().map(str::to_string))
                        .collect(),
                }
            })
            .collect();
        let mut ipv6: Vec<String> = i.ipv6_address().map(str::to_string).into_iter().collect();
        for a in interfaces.iter().flat_map(|n| &n.ipv6) {
            if !ipv6.contains(a) {
                ipv6.push(a.clone());
            }
        }
        let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
        Some(Instance {
            name: tags.get("Name").cloned(),
            asg: tags.get(ASG_TAG).cloned(),
            id,
            region: self.region.clone(),
            source: self.label.clone(),
            state: InstanceState::parse(
                i.state()
                    .and_then(|s| s.name())
                    .map_or("unknown", |n| n.as_str()),
            ),
            instance_type: i.instance_type().map(|t| t.as_str().to_string()),
            az: i
                .placement()
                .and_then(|p| p.availability_zone())
                .map(str::to_string),
            vpc_id: nonempty(i.vpc_id()),
            subnet_id: nonempty(i.subnet_id()),
            private_ip: nonempty(i.private_ip_address()),
            public_ip: nonempty(i.public_ip_address()),
            private_dns: nonempty(i.private_dns_name()),
            public_dns: nonempty(i.public_dns_name()),
            ipv6,
            interfaces,
            launch_time: i.launch_time().map(|t| t.secs()),
            tags,
        })
    }

    /// One line that says what failed, where, and what to do about it.
    fn error<E, R>(&self, what: &str, service: &str, err: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let at = format!("{}: {what}", self.label);
        match &err {
            SdkError::ServiceError(se) => {
                let code = se.err().code().unwrap_or("error");
                let message = se.err().message().unwrap_or("");
                let hint = match code {
                    "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
                        " (the credentials have expired: refresh them, e.g. aws sso login)"
                    }
                    "AuthFailure"
                    | "UnrecognizedClientException"
                    | "InvalidClientTokenId"
                    | "SignatureDoesNotMatch" => " (AWS refused the credentials)",
                    "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" => {
                        " (the credentials lack permission)"
                    }
                    _ => "",
                };
                Error::new(ErrorKind::Source, format!("{at}: {code}: {message}{hint}"))
            }
            SdkError::TimeoutError(_) => Error::new(
                ErrorKind::Source,
                format!(
                    "{at}: no answer from the {service} API{} in time",
                    self.endpoint()
                ),
            ),
            _ => {
                let chain = chain_text(&err);
                if chain.to_ascii_lowercase().contains("credential") {
                    let profile = match &self.profile {
                        Some(p) => format!("profile {p}"),
                        None => "AWS_PROFILE or the default profile".into(),
                    };
                    // The chain's last word is usually the instance role's "not on EC2",
                    // which misleads; an expired SSO session or a broken profile says more.
                    let lower = chain.to_ascii_lowercase();
                    let detail = if ["expired", "sso", "profile"]
                        .iter()
                        .any(|w| lower.contains(w))
                    {
                        format!(": {chain}")
                    } else {
                        String::new()
                    };
                    Error::new(
                        ErrorKind::Source,
                        format!(
                            "{at}: no usable AWS credentials (looked in the environment, \
                             {profile}, SSO, web identity, container and instance role; \
                             set AWS_PROFILE or --profile, or run aws sso login){detail}"
                        ),
                    )
                } else {
                    Error::new(
                        ErrorKind::Source,
                        format!(
                            "{at}: cannot reach the {service} API{}: {chain}",
                            self.endpoint()
                        ),
                    )
                }
            }
        }
    }

    /// ` at URL` when an endpoint was configured (AWS_ENDPOINT_URL or the profile), else "".
    fn endpoint(&self) -> String {
        self.sdk
            .endpoint_url()
            .map(|u| format!(" at {u}"))
            .unwrap_or_default()
    }
}

/// The error's cause chain on one line, without the repetitions the SDK's layers add.
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = err.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    if parts.is_empty() {
        parts.push(err.to_string());
    }
    parts.join(": ").replace('\n', " ")
}

/// Runs `f` on every source concurrently and returns each source's result, in source order.
/// One slow or failing region does not hold the others back, and every failure is kept for
/// the report.
pub async fn across<T, F, Fut>(sources: &[Source], f: F) -> Vec<(Source, Result<T>)>
where
    T: Send + 'static,
    F: Fn(Source) -> Fut,
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for (n, source) in sources.iter().enumerate() {
        let job = f(source.clone());
        tasks.spawn(async move { (n, job.await) });
    }
    let mut results: Vec<Option<Result<T>>> = (0..sources.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((n, r)) => results[n] = Some(r),
            // A panic in a task is a bug in opskit: let it surface as one. A cancelled task
            // (only at runtime shutdown) leaves its slot empty and is reported below.
            Err(e) => {
                if let Ok(p) = e.try_into_panic() {
                    std::panic::resume_unwind(p);
                }
            }
        }
    }
    sources
        .iter()
        .cloned()
        .zip(results)
        .map(|(s, r)| {
            let r = r.unwrap_or_else(|| Err(Error::new(ErrorKind::Fatal, "task cancelled")));
            (s, r)
        })
        .collect()
}
