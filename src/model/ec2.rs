//! EC2 and Auto Scaling: what an instance and a group are to opskit. Shared by `sshec2` (asks
//! AWS live, then execs ssh), `sync-ec2` (fills the catalog) and the queries that join them.
//!
//! The AWS SDK's types stay inside [`crate::aws`]; everything else works on the plain
//! [`Instance`] and [`Asg`] here, so that selection, picking and storage can be tested without
//! a network.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// The tag AWS puts on every instance an Auto Scaling group launches.
pub const ASG_TAG: &str = "aws:autoscaling:groupName";

/// Which of an instance's addresses to connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressKind {
    /// The public IPv4 address if there is one, else the private one.
    Auto,
    /// The public IPv4 address.
    Public,
    /// The primary private IPv4 address.
    Private,
    /// The first IPv6 address.
    Ipv6,
}

/// One EC2 instance as opskit sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub id: String,
    /// The region it was found in.
    pub region: String,
    /// Where it was read from (`region`, or `profile/region`), for messages.
    pub source: String,
    /// The `Name` tag.
    pub name: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub state: InstanceState,
    pub instance_type: Option<String>,
    pub az: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub private_dns: Option<String>,
    pub public_dns: Option<String>,
    /// Every IPv6 address of every interface.
    pub ipv6: Vec<String>,
    pub interfaces: Vec<Interface>,
    /// Launch time, in seconds since the epoch.
    pub launch_time: Option<i64>,
    /// The Auto Scaling group it belongs to (from the group's member list, else its tag).
    pub asg: Option<String>,
}

/// One network interface of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub id: Option<String>,
    pub device_index: Option<i32>,
    pub mac: Option<String>,
    pub subnet_id: Option<String>,
    /// Every private IPv4 address, the primary first.
    pub private_ips: Vec<String>,
    pub public_ip: Option<String>,
    pub ipv6: Vec<String>,
}

/// An instance's lifecycle state, as EC2 names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopping,
    Stopped,
    /// A state this version does not know (AWS may add some), or `unknown` when AWS gave
    /// none: kept as written, so that it is stored and shown unchanged.
    Other(String),
}

impl InstanceState {
    /// EC2's own name for the state, which is also what the catalog stores and JSON shows.
    pub fn as_str(&self) -> &str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::Other(s) => s,
        }
    }

    /// Reads EC2's name for a state; never fails, so that a new state is not an error.
    pub fn parse(text: &str) -> InstanceState {
        match text {
            "pending" => InstanceState::Pending,
            "running" => InstanceState::Running,
            "shutting-down" => InstanceState::ShuttingDown,
            "terminated" => InstanceState::Terminated,
            "stopping" => InstanceState::Stopping,
            "stopped" => InstanceState::Stopped,
            other => InstanceState::Other(other.to_string()),
        }
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InstanceState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Instance {
    /// Whether the instance can take an SSH connection now.
    pub fn is_running(&self) -> bool {
        self.state == InstanceState::Running
    }

    /// Every address the instance answers to, for matching an address given by a user.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        self.private_ip
            .iter()
            .chain(&self.public_ip)
            .chain(&self.ipv6)
            .map(String::as_str)
            .chain(self.interfaces.iter().flat_map(|i| {
                i.private_ips
                    .iter()
                    .chain(&i.public_ip)
                    .chain(&i.ipv6)
                    .map(String::as_str)
            }))
    }
}

/// An Auto Scaling group and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asg {
    pub name: String,
    pub region: String,
    /// Creation time, in seconds since the epoch.
    pub created_at: Option<i64>,
    pub desired: Option<i32>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    pub members: Vec<Member>,
}

/// One instance of an Auto Scaling group, as the group sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub instance_id: String,
    /// InService, Pending, Terminating, Standby, …
    pub lifecycle: Option<String>,
    /// Healthy or Unhealthy.
    pub health: Option<String>,
}

impl Member {
    /// Whether the group would send traffic to it: in service and healthy.
    pub fn is_healthy(&self) -> bool {
        self.lifecycle.as_deref() == Some("InService")
            && self
                .health
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case("healthy"))
    }
}

impl Asg {
    /// The ids of the members that are in service and healthy.
    pub fn healthy_ids(&self) -> Vec<String> {
        self.members
            .iter()
            .filter(|m| m.is_healthy())
            .map(|m| m.instance_id.clone())
            .collect()
    }
}

/// Sets each instance's `asg` from the groups' member lists, which are authoritative (the tag
/// can be missing or stale after an instance is detached).
pub fn attach_groups(instances: &mut [Instance], groups: &[Asg]) {
    let mut member_of: BTreeMap<&str, &str> = BTreeMap::new();
    for g in groups {
        for m in &g.members {
            member_of.insert(&m.instance_id, &g.name);
        }
    }
    for i in instances {
        if let Some(g) = member_of.get(i.id.as_str()) {
            i.asg = Some((*g).to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_as_written() {
        for text in [
            "pending",
            "running",
            "shutting-down",
            "terminated",
            "stopping",
            "stopped",
            "unknown",
            "hibernating",
        ] {
            let state = InstanceState::parse(text);
            assert_eq!(state.as_str(), text);
            assert_eq!(serde_json::to_string(&state).unwrap(), format!("{text:?}"));
        }
        assert_eq!(InstanceState::parse("stopped"), InstanceState::Stopped);
        assert_eq!(
            InstanceState::parse("hibernating"),
            InstanceState::Other("hibernating".into())
        );
    }
}
