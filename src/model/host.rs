//! What one scan learned about one host: its facts, interfaces, packages and custom facts.

use std::net::IpAddr;

use serde_json::Value;

use crate::error::Error;

use super::Mac;
use super::package::{Inventory, Manager};

/// Everything one scan learned about one host.
#[derive(Debug)]
pub struct HostSnapshot {
    /// The hostname as the host reports it; the host's identity in the catalog.
    pub hostname: String,
    /// The canonical name the host resolves itself to, if it differs from the hostname.
    pub fqdn: Option<String>,
    /// System facts, name → JSON value, in a stable order.
    pub facts: Vec<(String, Value)>,
    /// Custom facts (the config's `[[fact]]`s) that were gathered.
    pub custom_facts: Vec<(String, Value)>,
    /// Custom facts whose command failed: their previous values are kept.
    pub failed_facts: Vec<(String, Error)>,
    pub interfaces: Vec<Interface>,
    /// One inventory per package manager that answered.
    pub inventories: Vec<Inventory>,
    /// Package managers that are present but failed: their previous packages are kept.
    pub failed_managers: Vec<(Manager, Error)>,
}

/// An interface and everything the kernel says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub mac: Option<Mac>,
    pub mtu: Option<i64>,
    /// `up`, `down`, `unknown`, … as /sys/class/net/*/operstate says.
    pub oper_state: Option<String>,
    pub speed_mbps: Option<i64>,
    pub addresses: Vec<Address>,
}

/// An address on an interface, with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub ip: IpAddr,
    pub prefix_len: Option<u8>,
}
