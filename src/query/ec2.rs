//! Which instance a user means: a target as typed (id, Name tag or glob, tags, address, DNS
//! name) turned into EC2 filters and an exact check, the policy that picks one of several
//! matches, and which of its addresses to connect to.
//!
//! EC2's own filters narrow the search server-side (a Name lookup must not page through
//! thousands of instances), and every result is checked again here, so that the meaning of a
//! target does not depend on how faithfully an endpoint implements filters.

use std::net::IpAddr;

use clap::ValueEnum;

use crate::error::{Error, Result};

use crate::aws::FilterSpec;
pub use crate::model::ec2::AddressKind;
use crate::model::ec2::Instance;

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
    use crate::model::ec2::InstanceState;

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
