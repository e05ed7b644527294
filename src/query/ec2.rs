//! Which instance a user means: a target as typed (id, Name tag or glob, tags, address, DNS
//! name) turned into EC2 filters and an exact check, the live search for it across every
//! source (or for an Auto Scaling group's healthy members) with a typed answer when nothing
//! running qualifies, the policy that picks one of several matches, and which of its
//! addresses to connect to.
//!
//! EC2's own filters narrow the search server-side (a Name lookup must not page through
//! thousands of instances), and every result is checked again here, so that the meaning of a
//! target does not depend on how faithfully an endpoint implements filters.

use std::fmt;
use std::net::IpAddr;

use clap::ValueEnum;

use crate::error::{Error, Result};

use crate::aws::{self, FilterSpec, Source};
pub use crate::model::ec2::AddressKind;
use crate::model::ec2::{Asg, Instance, InstanceState};

/// What a positional target names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `i-0123456789abcdef0`.
    Id(String),
    /// An IPv4 or IPv6 address, private or public.
    Address(IpAddr),
    /// A DNS name (`ip-10-0-1-5.ec2.internal`, `ec2-….compute.amazonaws.com`); may also be a
    /// Name tag with dots in it.
    DnsName(String),
    /// A Name tag value; `*` and `?` are wildcards.
    Name(String),
}

impl Target {
    /// Reads a target as typed (without any `user@`).
    pub fn parse(text: &str) -> Result<Target> {
        if text.is_empty() {
            return Err(Error::usage("empty target"));
        }
        if text.chars().any(char::is_control) {
            return Err(Error::usage(format!(
                "bad target {text:?}: control characters"
            )));
        }
        if is_instance_id(text) {
            return Ok(Target::Id(text.to_ascii_lowercase()));
        }
        let unbracketed = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Target::Address(ip));
        }
        let dns_like = text.contains('.')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        Ok(if dns_like {
            Target::DnsName(text.to_ascii_lowercase())
        } else {
            Target::Name(text.to_string())
        })
    }

    /// The EC2 filter sets to query, each one a separate request whose results are merged
    /// (EC2 filters are AND-ed within a request, and an address may be private or public).
    /// `tags` are added to every set.
    pub fn filters(&self, tags: &[(String, String)]) -> Vec<Vec<FilterSpec>> {
        let one = |name: &str, value: &str| vec![(name.to_string(), vec![value.to_string()])];
        let sets = match self {
            Target::Id(id) => vec![one("instance-id", id)],
            Target::Name(name) => vec![one("tag:Name", name)],
            Target::Address(IpAddr::V4(ip)) => {
                let ip = ip.to_string();
                vec![one("private-ip-address", &ip), one("ip-address", &ip)]
            }
            // Not every endpoint filters on IPv6 addresses; the exact check below does it.
            Target::Address(IpAddr::V6(_)) => vec![Vec::new()],
            Target::DnsName(name) => vec![
                one("private-dns-name", name),
                one("dns-name", name),
                one("tag:Name", name),
            ],
        };
        sets.into_iter()
            .map(|mut set| {
                set.extend(tag_filters(tags));
                set
            })
            .collect()
    }

    /// Whether an instance really is what the target names.
    pub fn matches(&self, i: &Instance) -> bool {
        match self {
            Target::Id(id) => i.id.eq_ignore_ascii_case(id),
            Target::Name(pattern) => i.name.as_deref().is_some_and(|n| glob(pattern, n)),
            Target::Address(ip) => i.addresses().any(|a| a.parse::<IpAddr>().ok() == Some(*ip)),
            Target::DnsName(name) => {
                [&i.private_dns, &i.public_dns]
                    .into_iter()
                    .flatten()
                    .any(|d| d.eq_ignore_ascii_case(name))
                    || i.name.as_deref() == Some(name.as_str())
            }
        }
    }
}

/// Splits `[USER@]TARGET` and reads the target. The last `@` separates them, so that a user
/// cannot smuggle in an option (`-oProxyCommand=…@host`).
pub fn user_and_target(text: &str) -> Result<(Option<String>, Target)> {
    let (user, target) = match text.rsplit_once('@') {
        Some((u, t)) if !u.is_empty() && !u.starts_with('-') => (Some(u.to_string()), t),
        Some(_) => return Err(Error::usage(format!("bad target {text:?}: bad user"))),
        None => (None, text),
    };
    Ok((user, Target::parse(target)?))
}

/// The filters for `-t KEY=VALUE`.
pub fn tag_filters(tags: &[(String, String)]) -> Vec<FilterSpec> {
    tags.iter()
        .map(|(k, v)| (format!("tag:{k}"), vec![v.clone()]))
        .collect()
}

/// Whether an instance carries every `-t KEY=VALUE` (values may be globs).
pub fn has_tags(i: &Instance, tags: &[(String, String)]) -> bool {
    tags.iter()
        .all(|(k, v)| i.tags.get(k).is_some_and(|have| glob(v, have)))
}

/// Parses `-t KEY=VALUE`.
pub fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

/// `i-` followed by 8 or 17 hex digits.
fn is_instance_id(text: &str) -> bool {
    text.strip_prefix("i-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// Shell-style matching with `*` and `?`, the wildcards EC2 filters accept.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with backtracking to the last star: linear in practice, and no
    // recursion for a hostile pattern to exploit.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// What the user asked for, once parsed.
#[derive(Debug, Clone)]
pub enum Wanted {
    /// Instances that a target names (and that carry the tags), or any with the tags.
    Instances(Option<Target>),
    /// The healthy members of the Auto Scaling group with this name.
    Group(String),
    /// The healthy members of the newest group with this name prefix that has any.
    Prefix(String),
}

impl Wanted {
    /// The pick policy when none is given: any healthy member of a group will do, while
    /// among instances a target names the user must choose.
    pub fn default_pick(&self) -> Option<Pick> {
        match self {
            Wanted::Group(_) | Wanted::Prefix(_) => Some(Pick::Random),
            Wanted::Instances(_) => None,
        }
    }
}

/// The outcome of a search across every source.
#[derive(Debug)]
pub struct Search {
    pub found: Found,
    /// Sources that could not be searched. When nothing was found they matter most: the
    /// instance may well be in the region that failed.
    pub failures: Vec<Error>,
}

/// The running instances that match, or why there are none.
#[derive(Debug)]
pub enum Found {
    /// Never empty, in listing order (see [`sort`]).
    Running(Vec<Instance>),
    Nothing(Nothing),
}

/// Why no running instance qualifies; its `Display` is the message a user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nothing {
    /// No source has an Auto Scaling group of this name.
    NoSuchGroup(String),
    /// No group with this name prefix has an InService, Healthy member.
    NoHealthyGroup(String),
    /// The groups exist, but no member is InService, Healthy (and carries the tags).
    NoHealthyMember(Vec<String>),
    /// Instances match, but none is running: their ids and states.
    NotRunning(Subject, Vec<(String, InstanceState)>),
    /// No instance matches at all.
    NoMatch(Subject),
}

/// What was looked for, as a user would recognise it in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A target and `-t` tags.
    Target(Option<Target>, Vec<(String, String)>),
    /// The members of these Auto Scaling groups.
    Groups(Vec<String>),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Target(target, tags) => {
                let mut parts: Vec<String> = match target {
                    Some(Target::Id(id)) => vec![id.clone()],
                    Some(Target::Address(ip)) => vec![ip.to_string()],
                    Some(Target::DnsName(n)) | Some(Target::Name(n)) => vec![n.clone()],
                    None => Vec::new(),
                };
                parts.extend(tags.iter().map(|(k, v)| format!("{k}={v}")));
                f.write_str(&parts.join(" "))
            }
            Subject::Groups(names) => write!(f, "Auto Scaling group {}", names.join(", ")),
        }
    }
}

impl fmt::Display for Nothing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Nothing::NoSuchGroup(name) => write!(f, "{name}: no such Auto Scaling group"),
            Nothing::NoHealthyGroup(prefix) => write!(
                f,
                "{prefix}*: no Auto Scaling group with this prefix has a healthy instance"
            ),
            Nothing::NoHealthyMember(groups) => write!(
                f,
                "{}: no InService, Healthy instance",
                Subject::Groups(groups.clone())
            ),
            Nothing::NotRunning(subject, states) => {
                // A handful says enough; a stopped fleet would make the line unreadable.
                let states: Vec<String> = states
                    .iter()
                    .take(5)
                    .map(|(id, state)| format!("{id} is {state}"))
                    .collect();
                write!(
                    f,
                    "{subject}: no running instance matches ({})",
                    states.join(", ")
                )
            }
            Nothing::NoMatch(subject) => write!(f, "{subject}: no instance matches"),
        }
    }
}

/// Searches every source at once for the running instances that are wanted and carry `tags`.
/// Only setting the sources up can fail; a source that fails is reported in the result.
pub async fn search(
    options: &aws::Options,
    wanted: &Wanted,
    tags: &[(String, String)],
) -> Result<Search> {
    let sources = aws::sources(options).await?;
    let mut failures = Vec::new();
    let mut found = match wanted {
        Wanted::Instances(target) => {
            let seen = instances(&sources, target.as_ref(), tags, &mut failures).await;
            running_only(seen, Subject::Target(target.clone(), tags.to_vec()))
        }
        Wanted::Group(name) => {
            let groups = groups(&sources, vec![name.clone()], &mut failures).await;
            if groups.is_empty() {
                Found::Nothing(Nothing::NoSuchGroup(name.clone()))
            } else {
                members(groups, tags, &mut failures).await
            }
        }
        Wanted::Prefix(prefix) => {
            // The newest group that has a healthy member: a blue/green deploy's live half.
            let live = |g: &Asg| g.name.starts_with(prefix.as_str()) && !g.healthy_ids().is_empty();
            let best = groups(&sources, Vec::new(), &mut failures)
                .await
                .into_iter()
                .filter(|(_, g)| live(g))
                .reduce(|best, g| {
                    if (g.1.created_at, &g.1.name) > (best.1.created_at, &best.1.name) {
                        g
                    } else {
                        best
                    }
                });
            match best {
                Some(group) => members(vec![group], tags, &mut failures).await,
                None => Found::Nothing(Nothing::NoHealthyGroup(prefix.clone())),
            }
        }
    };
    if let Found::Running(list) = &mut found {
        sort(list);
    }
    Ok(Search { found, failures })
}

/// The instances (in any state) that `target` names and that carry `tags`, from every source.
async fn instances(
    sources: &[Source],
    target: Option<&Target>,
    tags: &[(String, String)],
    failures: &mut Vec<Error>,
) -> Vec<Instance> {
    let sets = match target {
        Some(t) => t.filters(tags),
        None => vec![tag_filters(tags)],
    };
    let results = aws::across(sources, move |source| {
        let sets = sets.clone();
        async move {
            let mut all: Vec<Instance> = Vec::new();
            // The few filter sets of one target (private, public address…) are asked one
            // after the other; the regions run concurrently.
            for set in sets {
                for i in source.instances(&set).await? {
                    if !all.iter().any(|a| a.id == i.id) {
                        all.push(i);
                    }
                }
            }
            Ok(all)
        }
    })
    .await;
    let mut seen = Vec::new();
    for (_, r) in results {
        match r {
            Ok(list) => seen.extend(
                list.into_iter()
                    .filter(|i| target.is_none_or(|t| t.matches(i)) && has_tags(i, tags)),
            ),
            Err(e) => failures.push(e),
        }
    }
    seen
}

/// The Auto Scaling groups named `names` (every group when empty) in every source, in source
/// order, each with the source it is in.
async fn groups(
    sources: &[Source],
    names: Vec<String>,
    failures: &mut Vec<Error>,
) -> Vec<(Source, Asg)> {
    let results = aws::across(sources, move |source| {
        let names = names.clone();
        async move { source.groups(&names).await }
    })
    .await;
    let mut groups = Vec::new();
    for (source, r) in results {
        match r {
            Ok(list) => groups.extend(list.into_iter().map(|g| (source.clone(), g))),
            Err(e) => failures.push(e),
        }
    }
    groups
}

/// The running, healthy, in-service members of these groups that carry `tags`.
async fn members(
    groups: Vec<(Source, Asg)>,
    tags: &[(String, String)],
    failures: &mut Vec<Error>,
) -> Found {
    let names: Vec<String> = groups.iter().map(|(_, g)| g.name.clone()).collect();
    let mut seen = Vec::new();
    for (source, group) in groups {
        let ids = group.healthy_ids();
        if ids.is_empty() {
            continue;
        }
        let mut filters = vec![("instance-id".to_string(), ids.clone())];
        filters.extend(tag_filters(tags));
        match source.instances(&filters).await {
            Ok(list) => seen.extend(
                list.into_iter()
                    .filter(|i| ids.contains(&i.id) && has_tags(i, tags))
                    .map(|mut i| {
                        i.asg = Some(group.name.clone());
                        i
                    }),
            ),
            Err(e) => failures.push(e),
        }
    }
    if seen.is_empty() {
        return Found::Nothing(Nothing::NoHealthyMember(names));
    }
    running_only(seen, Subject::Groups(names))
}

/// Keeps the running instances, and says why nothing qualified when none does.
fn running_only(seen: Vec<Instance>, subject: Subject) -> Found {
    let (running, other): (Vec<Instance>, Vec<Instance>) =
        seen.into_iter().partition(Instance::is_running);
    if !running.is_empty() {
        Found::Running(running)
    } else if other.is_empty() {
        Found::Nothing(Nothing::NoMatch(subject))
    } else {
        let states = other.into_iter().map(|i| (i.id, i.state)).collect();
        Found::Nothing(Nothing::NotRunning(subject, states))
    }
}

/// How to choose among several matching instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pick {
    /// Any one, at random.
    Random,
    /// The most recently launched.
    Newest,
    /// The longest running.
    Oldest,
    /// The first in listing order (Name, then id).
    First,
    /// Refuse, listing the matches (exit 2).
    Fail,
}

/// Puts matches in listing order: by Name, then id, so `first` and lists are stable.
pub fn sort(instances: &mut [Instance]) {
    instances.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
}

/// The index `pick` chooses among `instances` (sorted), or `None` for [`Pick::Fail`].
pub fn pick(instances: &[Instance], how: Pick) -> Option<usize> {
    if instances.is_empty() {
        return None;
    }
    let by_launch = |newest: bool| {
        (0..instances.len()).max_by(|&a, &b| {
            let (x, y) = (instances[a].launch_time, instances[b].launch_time);
            // Ties keep listing order: max_by returns the last maximum, so compare reversed.
            let ord = if newest { x.cmp(&y) } else { y.cmp(&x) };
            ord.then(b.cmp(&a))
        })
    };
    match how {
        Pick::Fail => None,
        Pick::First => Some(0),
        Pick::Random => Some(random_below(instances.len())),
        Pick::Newest => by_launch(true),
        Pick::Oldest => by_launch(false),
    }
}

/// A random number below `n` (n > 0). The standard library's hasher keys are seeded from the
/// operating system's randomness, which is all a pick among a handful of instances needs.
pub fn random_below(n: usize) -> usize {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() % n as u64) as usize
}

/// The address to connect to, or why there is none.
pub fn address(i: &Instance, kind: AddressKind) -> Result<String> {
    let found = match kind {
        AddressKind::Auto => i
            .public_ip
            .clone()
            .or_else(|| i.private_ip.clone())
            .or_else(|| i.ipv6.first().cloned()),
        AddressKind::Public => i.public_ip.clone(),
        AddressKind::Private => i.private_ip.clone(),
        AddressKind::Ipv6 => i.ipv6.first().cloned(),
    };
    let what = match kind {
        AddressKind::Auto => "no address",
        AddressKind::Public => "no public IPv4 address",
        AddressKind::Private => "no private IPv4 address",
        AddressKind::Ipv6 => "no IPv6 address",
    };
    match found {
        // An address is handed to ssh as an argument: one that could read as an option
        // (from a misbehaving endpoint) is refused.
        Some(a) if a.parse::<IpAddr>().is_ok() => Ok(a),
        Some(a) => Err(Error::new(
            crate::error::ErrorKind::Source,
            format!("{}: AWS returned a malformed address {a:?}", i.id),
        )),
        None => Err(Error::new(
            crate::error::ErrorKind::Source,
            format!(
                "{} ({}) has {what}",
                i.id,
                i.name.as_deref().unwrap_or("no Name")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, name: &str, launch: i64) -> Instance {
        Instance {
            id: id.into(),
            region: "r".into(),
            source: "r".into(),
            name: Some(name.into()),
            tags: [("Name".to_string(), name.to_string())].into(),
            state: InstanceState::Running,
            instance_type: None,
            az: None,
            vpc_id: None,
            subnet_id: None,
            private_ip: Some("10.0.0.5".into()),
            public_ip: None,
            private_dns: Some("ip-10-0-0-5.ec2.internal".into()),
            public_dns: None,
            ipv6: vec!["2001:db8::5".into()],
            interfaces: vec![],
            launch_time: Some(launch),
            asg: None,
        }
    }

    #[test]
    fn targets_are_recognised() {
        assert_eq!(
            Target::parse("i-0123456789ABCDEF0").unwrap(),
            Target::Id("i-0123456789abcdef0".into())
        );
        assert_eq!(
            Target::parse("10.0.0.5").unwrap(),
            Target::Address("10.0.0.5".parse().unwrap())
        );
        assert_eq!(
            Target::parse("[2001:db8::5]").unwrap(),
            Target::Address("2001:db8::5".parse().unwrap())
        );
        assert_eq!(
            Target::parse("ip-10-0-0-5.ec2.internal").unwrap(),
            Target::DnsName("ip-10-0-0-5.ec2.internal".into())
        );
        assert_eq!(
            Target::parse("web-*").unwrap(),
            Target::Name("web-*".into())
        );
        assert_eq!(
            Target::parse("i-nothex").unwrap(),
            Target::Name("i-nothex".into())
        );
        assert!(Target::parse("").is_err());
    }

    #[test]
    fn matching_is_exact_after_the_server_filter() {
        let i = instance("i-0123456789abcdef0", "web-7", 1);
        assert!(Target::parse("web-?").unwrap().matches(&i));
        assert!(!Target::parse("web").unwrap().matches(&i));
        assert!(Target::parse("2001:db8:0::5").unwrap().matches(&i));
        assert!(
            Target::parse("IP-10-0-0-5.ec2.internal")
                .unwrap()
                .matches(&i)
        );
        assert!(!Target::parse("10.0.0.6").unwrap().matches(&i));
        assert!(has_tags(&i, &[("Name".into(), "web*".into())]));
        assert!(!has_tags(&i, &[("env".into(), "*".into())]));
    }

    #[test]
    fn users_are_split_off_targets() {
        assert_eq!(
            user_and_target("admin@web-7").unwrap(),
            (Some("admin".into()), Target::Name("web-7".into()))
        );
        assert_eq!(
            user_and_target("10.0.0.5").unwrap(),
            (None, Target::Address("10.0.0.5".parse().unwrap()))
        );
        assert!(user_and_target("-oProxyCommand=x@web-7").is_err());
        assert!(user_and_target("@web-7").is_err());
    }

    #[test]
    fn nothing_says_why_in_the_words_users_know() {
        let tags = vec![("env".to_string(), "prod".to_string())];
        let web = Subject::Target(Some(Target::Name("web-*".into())), tags.clone());
        assert_eq!(
            Nothing::NoMatch(web.clone()).to_string(),
            "web-* env=prod: no instance matches"
        );
        assert_eq!(
            Nothing::NoMatch(Subject::Target(None, tags)).to_string(),
            "env=prod: no instance matches"
        );
        let states = (1..=7)
            .map(|n| (format!("i-0000000{n}"), InstanceState::Stopped))
            .collect();
        assert_eq!(
            Nothing::NotRunning(web, states).to_string(),
            "web-* env=prod: no running instance matches (i-00000001 is stopped, \
             i-00000002 is stopped, i-00000003 is stopped, i-00000004 is stopped, \
             i-00000005 is stopped)"
        );
        let groups = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            Nothing::NoHealthyMember(groups.clone()).to_string(),
            "Auto Scaling group a, b: no InService, Healthy instance"
        );
        assert_eq!(
            Nothing::NotRunning(
                Subject::Groups(groups),
                vec![(
                    "i-00000001".into(),
                    InstanceState::Other("hibernated".into())
                )]
            )
            .to_string(),
            "Auto Scaling group a, b: no running instance matches (i-00000001 is hibernated)"
        );
        assert_eq!(
            Nothing::NoSuchGroup("web".into()).to_string(),
            "web: no such Auto Scaling group"
        );
        assert_eq!(
            Nothing::NoHealthyGroup("api-".into()).to_string(),
            "api-*: no Auto Scaling group with this prefix has a healthy instance"
        );
    }

    #[test]
    fn glob_handles_stars_and_question_marks() {
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("w?b-*", "web-prod-1"));
        assert!(!glob("web", "web-1"));
    }

    #[test]
    fn picks_follow_the_policy() {
        let list = vec![
            instance("i-00000001", "a", 30),
            instance("i-00000002", "b", 10),
            instance("i-00000003", "c", 20),
        ];
        assert_eq!(pick(&list, Pick::First), Some(0));
        assert_eq!(pick(&list, Pick::Newest), Some(0));
        assert_eq!(pick(&list, Pick::Oldest), Some(1));
        assert_eq!(pick(&list, Pick::Fail), None);
        for _ in 0..50 {
            assert!(pick(&list, Pick::Random).unwrap() < 3);
        }
    }

    #[test]
    fn address_preference() {
        let mut i = instance("i-00000001", "a", 1);
        assert_eq!(address(&i, AddressKind::Auto).unwrap(), "10.0.0.5");
        assert!(address(&i, AddressKind::Public).is_err());
        i.public_ip = Some("203.0.113.9".into());
        assert_eq!(address(&i, AddressKind::Auto).unwrap(), "203.0.113.9");
        assert_eq!(address(&i, AddressKind::Ipv6).unwrap(), "2001:db8::5");
        i.private_ip = Some("-oProxyCommand=x".into());
        assert!(address(&i, AddressKind::Private).is_err());
    }
}
