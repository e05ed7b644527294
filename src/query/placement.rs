//! Which of the ports a MAC is seen on is the one it is plugged into.
//!
//! A MAC shows up on every switch between it and the core. The evidence that a port is an
//! uplink rather than the access port: an LLDP or CDP neighbour on it that is itself a crawled
//! device; another crawled device's own MAC learned on it. LAG members roll up to their
//! aggregate. A non-uplink port with many MACs is kept, labelled as shared (a hypervisor, an
//! access point or an unmanaged switch behind it), because it may well be the answer.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::catalog::{Catalog, DeviceRow, NeighborRow, Sighting};
use crate::clock;
use crate::error::Result;
use crate::model::Mac;

/// More learned MACs than this on a non-uplink port, and it is labelled shared.
pub const SHARED_PORT_MACS: i64 = 4;

/// What a port is, for one sighting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The MAC's own port.
    Access,
    /// An access port with many MACs behind it.
    Shared,
    /// A link towards another crawled device.
    Uplink,
    /// The switch's own MAC (status self or mgmt).
    Itself,
}

impl Role {
    /// The name shown in the `role` field.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Access => "access",
            Role::Shared => "shared",
            Role::Uplink => "uplink",
            Role::Itself => "self",
        }
    }
}

/// A sighting with its role and the evidence for it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub sighting: Sighting,
    pub role: Role,
    pub why: String,
}

/// What is known about the crawled devices, for telling uplinks from access ports.
pub struct Evidence<'a> {
    devices: &'a [DeviceRow],
    /// The crawled device that owns the MAC being placed, if any.
    owner: Option<i64>,
    neighbors: Vec<NeighborRow>,
    /// (device, ifIndex) → the other devices whose own MACs are learned there.
    learning: HashMap<(i64, i64), Vec<i64>>,
}

impl<'a> Evidence<'a> {
    /// Builds the evidence from catalog lookups, for placing one MAC (whose owner, if it is a
    /// crawled device's own MAC, is `owner`).
    pub fn new(
        devices: &'a [DeviceRow],
        owner: Option<i64>,
        neighbors: Vec<NeighborRow>,
        learning: HashMap<(i64, i64), Vec<i64>>,
    ) -> Evidence<'a> {
        Evidence {
            devices,
            owner,
            neighbors,
            learning,
        }
    }

    fn device_name(&self, id: i64) -> String {
        self.devices
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.sys_name.clone().unwrap_or_else(|| d.address.clone()))
            .unwrap_or_else(|| format!("device {id}"))
    }

    /// The crawled device a neighbour entry describes, if any.
    fn crawled_neighbor(&self, n: &NeighborRow) -> Option<&DeviceRow> {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => !a.is_empty() && a.eq_ignore_ascii_case(b),
            _ => false,
        };
        self.devices.iter().find(|d| {
            d.id != n.device_id
                && (same(&n.chassis_id, &d.base_mac.map(|m| m.to_string()))
                    || same(&n.chassis_id, &d.lldp_chassis_id)
                    || (same(&n.sys_name, &d.sys_name)
                        && n.sys_name.as_deref() != Some("<private>"))
                    || n.mgmt_address.as_deref().is_some_and(|m| {
                        d.address == m || d.address.rsplit_once(':').is_some_and(|(h, _)| h == m)
                    }))
        })
    }

    /// Why this port is an uplink, if it is one. A port facing a crawled device is not an
    /// uplink for that device's own MACs: it is where that device is plugged in.
    fn uplink_reason(&self, s: &Sighting) -> Option<String> {
        let owner = self.owner;
        let ports: Vec<i64> = s.if_index.into_iter().chain(s.lag_if_index).collect();
        let on_port = |i: Option<i64>| i.is_some_and(|i| ports.contains(&i));
        for n in &self.neighbors {
            if n.device_id != s.device_id
                || !(on_port(n.local_if_index) || on_port(n.local_lag_if_index))
            {
                continue;
            }
            if let Some(d) = self.crawled_neighbor(n).filter(|d| Some(d.id) != owner) {
                let name = d.sys_name.clone().unwrap_or_else(|| d.address.clone());
                return Some(format!(
                    "{} neighbour {name} is a crawled device",
                    n.protocol.to_uppercase()
                ));
            }
        }
        for port in &ports {
            let others = self.learning.get(&(s.device_id, *port));
            if let Some(other) = others.into_iter().flatten().find(|o| Some(**o) != owner) {
                return Some(format!(
                    "learns the own MAC of {}",
                    self.device_name(*other)
                ));
            }
        }
        None
    }

    /// The crawled device that owns `mac`, when this sighting's port faces it (an LLDP/CDP
    /// neighbour, or its own MACs learned there): then the port is where that device is
    /// plugged in.
    fn faces_owner(&self, s: &Sighting) -> Option<String> {
        let owner = self.owner?;
        if owner == s.device_id {
            return None;
        }
        let ports: Vec<i64> = s.if_index.into_iter().chain(s.lag_if_index).collect();
        let on_port = |i: Option<i64>| i.is_some_and(|i| ports.contains(&i));
        let by_neighbor = self.neighbors.iter().any(|n| {
            n.device_id == s.device_id
                && (on_port(n.local_if_index) || on_port(n.local_lag_if_index))
                && self.crawled_neighbor(n).is_some_and(|d| d.id == owner)
        });
        let by_learning = ports.iter().any(|p| {
            self.learning
                .get(&(s.device_id, *p))
                .is_some_and(|others| others.contains(&owner))
        });
        (by_neighbor || by_learning).then(|| self.device_name(owner))
    }

    /// Labels every sighting with its role.
    pub fn classify(&self, sightings: Vec<Sighting>) -> Vec<Placed> {
        sightings
            .into_iter()
            .map(|s| {
                let (role, why) = if matches!(s.status.as_deref(), Some("self" | "mgmt")) {
                    (Role::Itself, "the switch's own address".to_string())
                } else if let Some(reason) = self.uplink_reason(&s) {
                    (Role::Uplink, format!("uplink: {reason}"))
                } else if let Some(owner) = self.faces_owner(&s) {
                    (
                        Role::Access,
                        format!("the port faces {owner}, a crawled device that owns this MAC"),
                    )
                } else if s.macs_on_port > SHARED_PORT_MACS {
                    (
                        Role::Shared,
                        format!(
                            "{} MACs on this port: a hypervisor, access point or unmanaged switch behind it",
                            s.macs_on_port
                        ),
                    )
                } else {
                    (Role::Access, "no uplink evidence on this port".to_string())
                };
                Placed { sighting: s, role, why }
            })
            .collect()
    }
}

/// The answer among current, classified sightings: an access port (fewest MACs, newest
/// first), else a shared one; `None` when the MAC is only on uplinks or is a switch itself.
pub fn choose(placed: &[Placed]) -> Option<usize> {
    let rank = |p: &Placed| match p.role {
        Role::Access => 0,
        Role::Shared => 1,
        _ => 9,
    };
    placed
        .iter()
        .enumerate()
        .filter(|(_, p)| p.sighting.current && rank(p) < 9)
        .min_by_key(|(_, p)| (rank(p), p.sighting.macs_on_port, -p.sighting.last_seen))
        .map(|(i, _)| i)
}

/// Places MACs as which-switch does, for any tool: gathers the evidence about the ports a MAC
/// is seen on from the catalog, with the device list read once however many MACs are placed.
///
/// What is learned about a port or a device is kept for the next MAC: in a real network a MAC
/// is seen on the uplinks between it and the core, the same few ports for every MAC behind
/// them, and a trunk's evidence (every MAC it learns, joined with the devices' own MACs) is
/// the costly part. The cache lives as long as the Placer, one command's answer.
pub struct Placer {
    devices: Vec<DeviceRow>,
    /// (device, ifIndex) → the other crawled devices whose own MACs the port learns.
    learning: RefCell<HashMap<(i64, i64), Vec<i64>>>,
    /// Device → its current LLDP/CDP neighbours.
    neighbors: RefCell<HashMap<i64, Vec<NeighborRow>>>,
}

impl Placer {
    /// Reads the crawled devices once.
    pub fn new(catalog: &Catalog) -> Result<Placer> {
        Ok(Placer {
            devices: catalog.devices()?,
            learning: RefCell::new(HashMap::new()),
            neighbors: RefCell::new(HashMap::new()),
        })
    }

    /// Classifies sightings (all of one MAC) with the evidence about the ports they are on.
    pub fn classify(&self, catalog: &Catalog, sightings: Vec<Sighting>) -> Result<Vec<Placed>> {
        let mut ids: Vec<i64> = sightings.iter().map(|s| s.device_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut ports: Vec<(i64, i64)> = sightings
            .iter()
            .flat_map(|s| {
                [s.if_index, s.lag_if_index]
                    .into_iter()
                    .flatten()
                    .map(move |i| (s.device_id, i))
            })
            .collect();
        ports.sort_unstable();
        ports.dedup();
        let owner = match sightings.first() {
            Some(s) => catalog.mac_owner(s.mac)?,
            None => None,
        };
        let evidence = Evidence::new(
            &self.devices,
            owner,
            self.neighbors_of(catalog, &ids)?,
            self.ports_learning_devices(catalog, &ports)?,
        );
        Ok(evidence.classify(sightings))
    }

    /// [`Catalog::neighbors_of`], asked only for the devices not asked about before.
    fn neighbors_of(&self, catalog: &Catalog, ids: &[i64]) -> Result<Vec<NeighborRow>> {
        let mut cache = self.neighbors.borrow_mut();
        fill(&mut cache, ids, |missing| {
            Ok(catalog
                .neighbors_of(missing)?
                .into_iter()
                .map(|n| (n.device_id, n))
                .collect())
        })?;
        Ok(ids
            .iter()
            .flat_map(|id| cache[id].iter().cloned())
            .collect())
    }

    /// [`Catalog::ports_learning_devices`], asked only for the ports not asked about before:
    /// (device, ifIndex) → the other devices whose own MACs the port learns.
    fn ports_learning_devices(
        &self,
        catalog: &Catalog,
        ports: &[(i64, i64)],
    ) -> Result<HashMap<(i64, i64), Vec<i64>>> {
        let mut cache = self.learning.borrow_mut();
        fill(&mut cache, ports, |missing| {
            Ok(catalog
                .ports_learning_devices(missing)?
                .into_iter()
                .map(|(device, if_index, other)| ((device, if_index), other))
                .collect())
        })?;
        Ok(ports.iter().map(|p| (*p, cache[p].clone())).collect())
    }

    /// The one row that answers "where is this MAC plugged in", with its evidence in `why`;
    /// `None` when no forwarding table has ever seen it.
    pub fn answer(&self, catalog: &Catalog, mac: Mac) -> Result<Option<Placed>> {
        let sightings = catalog.sightings(mac, true)?;
        if sightings.is_empty() {
            return Ok(None);
        }
        let placed = self.classify(catalog, sightings)?;
        Ok(select(placed, false, false).into_iter().next())
    }
}

/// Adds to `cache` the values of the `keys` it lacks, asking `fetch` for those keys at once.
/// A key `fetch` returns nothing for is remembered as empty, so it is not asked again.
fn fill<K: Copy + Eq + std::hash::Hash, V>(
    cache: &mut HashMap<K, Vec<V>>,
    keys: &[K],
    fetch: impl FnOnce(&[K]) -> Result<Vec<(K, V)>>,
) -> Result<()> {
    let missing: Vec<K> = keys
        .iter()
        .copied()
        .filter(|k| !cache.contains_key(k))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for (key, value) in fetch(&missing)? {
        cache.entry(key).or_default().push(value);
    }
    for key in missing {
        cache.entry(key).or_default();
    }
    Ok(())
}

/// The rows to show: the answer (default), every current place (`all`), or everything
/// (`history`, oldest first).
pub fn select(placed: Vec<Placed>, all: bool, history: bool) -> Vec<Placed> {
    if history {
        let mut placed = placed;
        // Oldest first; within one second (two crawls close together) what is gone comes first.
        placed.sort_by_key(|p| {
            (
                p.sighting.first_seen,
                p.sighting.current,
                p.sighting.last_seen,
            )
        });
        return placed;
    }
    if all {
        return placed.into_iter().filter(|p| p.sighting.current).collect();
    }
    if let Some(i) = choose(&placed) {
        let mut p = placed[i].clone();
        let others = placed.iter().filter(|o| o.sighting.current).count() - 1;
        if others > 0 {
            p.why = format!("{}; also seen on {others} other port(s), see --all", p.why);
        }
        return vec![p];
    }
    // No access port: say why, with the most telling row.
    let current: Vec<&Placed> = placed.iter().filter(|p| p.sighting.current).collect();
    if let Some(first) = current.first() {
        let mut p = (*first).clone();
        if current.iter().all(|c| c.role == Role::Itself) {
            p.why = "the MAC is a crawled switch's own address".into();
        } else {
            p.why = format!("only seen on uplinks ({} places), see --all", current.len());
        }
        return vec![p];
    }
    let Some(first) = placed.first() else {
        return Vec::new();
    };
    let mut p = first.clone();
    p.why = format!(
        "not seen since {} (the latest crawls of its switches no longer see it); see --history",
        clock::format(p.sighting.last_seen)
    );
    vec![p]
}
