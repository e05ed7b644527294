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
    /// (device, ifIndex) → the current LLDP/CDP neighbours on that port (or, for an
    /// aggregate, on its members).
    neighbors: RefCell<HashMap<(i64, i64), Vec<NeighborRow>>>,
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
        let ports = ports_of(&sightings);
        let owner = match sightings.first() {
            Some(s) => catalog.mac_owner(s.mac)?,
            None => None,
        };
        let evidence = Evidence::new(
            &self.devices,
            owner,
            self.neighbors_on(catalog, &ports)?,
            self.ports_learning_devices(catalog, &ports)?,
        );
        Ok(evidence.classify(sightings))
    }

    /// [`Catalog::neighbors_on`], asked only for the ports not asked about before.
    fn neighbors_on(&self, catalog: &Catalog, ports: &[(i64, i64)]) -> Result<Vec<NeighborRow>> {
        let mut cache = self.neighbors.borrow_mut();
        fill(&mut cache, ports, |missing| catalog.neighbors_on(missing))?;
        // A member's neighbour is listed under the member and the aggregate: once is enough.
        let mut out: Vec<NeighborRow> = Vec::new();
        for n in ports.iter().flat_map(|p| cache[p].iter()) {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        Ok(out)
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
        Ok(self.answers(catalog, &[mac])?.pop().flatten())
    }

    /// [`Placer::answer`] for each of `macs`, in their order: one query for every MAC's
    /// sightings, and the evidence about all their ports asked for at once (a host's
    /// interfaces, whatis-host's card, cost a few statements rather than a few per MAC).
    pub fn answers(&self, catalog: &Catalog, macs: &[Mac]) -> Result<Vec<Option<Placed>>> {
        let mut by_mac: HashMap<Mac, Vec<Sighting>> = HashMap::new();
        for s in catalog.sightings_of(macs, true)? {
            by_mac.entry(s.mac).or_default().push(s);
        }
        let ports = ports_of(by_mac.values().flatten());
        // Fills the caches that classify then reads.
        self.neighbors_on(catalog, &ports)?;
        self.ports_learning_devices(catalog, &ports)?;
        macs.iter()
            .map(|mac| match by_mac.get(mac) {
                None => Ok(None),
                Some(sightings) => {
                    let placed = self.classify(catalog, sightings.clone())?;
                    Ok(select(placed, false, false).into_iter().next())
                }
            })
            .collect()
    }
}

/// The ports (device, ifIndex) the sightings are on, their aggregates included, each once.
fn ports_of<'a>(sightings: impl IntoIterator<Item = &'a Sighting>) -> Vec<(i64, i64)> {
    let mut ports: Vec<(i64, i64)> = sightings
        .into_iter()
        .flat_map(|s| {
            [s.if_index, s.lag_if_index]
                .into_iter()
                .flatten()
                .map(move |i| (s.device_id, i))
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::device::{DeviceSnapshot, FdbEntry, Neighbor, Port};

    /// A host behind access1's port 10, seen through core1's port 1 too.
    const HOST: &str = "00:1b:21:0a:00:01";
    /// A host behind core1's port 2, seen through access1's uplink (port 48) too.
    const HOST_B: &str = "00:1b:21:0b:00:02";
    const CORE_MAC: &str = "02:00:00:00:00:01";
    const ACCESS_MAC: &str = "02:00:00:00:00:02";

    fn mac(text: &str) -> Mac {
        text.parse().unwrap()
    }

    /// core1 (1), access1 (2) and an unnamed device crawled at a non-default SNMP port (3).
    fn devices() -> Vec<DeviceRow> {
        let device = |id: i64, address: &str, name: Option<&str>, base: Option<&str>| DeviceRow {
            id,
            address: address.into(),
            sys_name: name.map(Into::into),
            base_mac: base.map(mac),
            lldp_chassis_id: None,
            role: Some("switch".into()),
            last_seen: 1_700_000_000,
        };
        let mut access = device(2, "192.0.2.2", Some("access1"), Some(ACCESS_MAC));
        access.lldp_chassis_id = Some("access1-chassis".into());
        // A device that sent an empty lldpLocChassisId.
        let mut unnamed = device(3, "192.0.2.3:1161", None, None);
        unnamed.lldp_chassis_id = Some(String::new());
        vec![
            device(1, "192.0.2.1", Some("core1"), Some(CORE_MAC)),
            access,
            unnamed,
        ]
    }

    /// The host's MAC learned on port `if_index` of device `device_id`.
    fn sighting(device_id: i64, if_index: i64) -> Sighting {
        Sighting {
            device_id,
            device_address: format!("192.0.2.{device_id}"),
            device_name: None,
            mac: mac(HOST),
            vlan: Some(10),
            if_index: Some(if_index),
            bridge_port: Some(if_index),
            status: Some("learned".into()),
            port_name: Some(format!("ge-0/0/{if_index}")),
            port_alias: None,
            port_descr: None,
            oper_status: Some("up".into()),
            speed_mbps: Some(1000),
            lag_if_index: None,
            lag_name: None,
            first_seen: 1_700_000_000,
            last_seen: 1_700_003_600,
            current: true,
            macs_on_port: 1,
        }
    }

    /// An LLDP entry on `device_id`'s port `port`, naming nothing yet.
    fn lldp(device_id: i64, port: i64) -> NeighborRow {
        NeighborRow {
            device_id,
            local_if_index: Some(port),
            local_lag_if_index: None,
            protocol: "lldp".into(),
            chassis_id: None,
            port_id: Some("ge-0/0/48".into()),
            sys_name: None,
            mgmt_address: None,
        }
    }

    /// Role and reason of one sighting, with these neighbours and this learning.
    fn place(
        owner: Option<i64>,
        neighbors: Vec<NeighborRow>,
        learning: &[((i64, i64), Vec<i64>)],
        s: Sighting,
    ) -> (Role, String) {
        let devices = devices();
        let evidence = Evidence::new(
            &devices,
            owner,
            neighbors,
            learning.iter().cloned().collect(),
        );
        let placed = evidence.classify(vec![s]).remove(0);
        (placed.role, placed.why)
    }

    fn placed(role: Role, s: Sighting) -> Placed {
        Placed {
            sighting: s,
            role,
            why: "evidence".into(),
        }
    }

    #[test]
    fn roles_have_their_shown_names() {
        assert_eq!(Role::Access.name(), "access");
        assert_eq!(Role::Shared.name(), "shared");
        assert_eq!(Role::Uplink.name(), "uplink");
        assert_eq!(Role::Itself.name(), "self");
    }

    #[test]
    fn a_neighbour_that_is_a_crawled_device_makes_an_uplink() {
        let uplink = |n: NeighborRow| place(None, vec![n], &[], sighting(1, 1));
        let access1 = "uplink: LLDP neighbour access1 is a crawled device".to_string();
        // Its chassis id is the device's bridge address (any case), or its LLDP chassis id.
        let mut n = lldp(1, 1);
        n.chassis_id = Some(ACCESS_MAC.to_uppercase());
        assert_eq!(uplink(n), (Role::Uplink, access1.clone()));
        let mut n = lldp(1, 1);
        n.chassis_id = Some("ACCESS1-chassis".into());
        assert_eq!(uplink(n), (Role::Uplink, access1.clone()));
        // Its system name, any case.
        let mut n = lldp(1, 1);
        n.sys_name = Some("Access1".into());
        assert_eq!(uplink(n), (Role::Uplink, access1.clone()));
        // Its management address: the crawled address, or its host part.
        let mut n = lldp(1, 1);
        n.mgmt_address = Some("192.0.2.2".into());
        assert_eq!(uplink(n), (Role::Uplink, access1));
        let mut n = lldp(1, 1);
        n.mgmt_address = Some("192.0.2.3".into());
        n.protocol = "cdp".into();
        assert_eq!(
            uplink(n),
            (
                Role::Uplink,
                "uplink: CDP neighbour 192.0.2.3:1161 is a crawled device".into()
            )
        );
    }

    #[test]
    fn a_neighbour_that_is_no_crawled_device_is_no_evidence() {
        let access = (Role::Access, "no uplink evidence on this port".to_string());
        let place_one = |n: NeighborRow| place(None, vec![n], &[], sighting(1, 1));
        // A phone or a server announcing itself over LLDP.
        let mut n = lldp(1, 1);
        n.chassis_id = Some("00:1b:21:0a:00:01".into());
        n.sys_name = Some("phone-42".into());
        n.mgmt_address = Some("192.0.2.99".into());
        assert_eq!(place_one(n), access);
        // Empty chassis ids match nothing, not even another empty one.
        let mut n = lldp(1, 1);
        n.chassis_id = Some(String::new());
        assert_eq!(place_one(n), access);
        // The device's own entry (a loop, or LLDP echoing itself) is not a neighbour.
        let mut n = lldp(1, 1);
        n.sys_name = Some("core1".into());
        assert_eq!(place_one(n), access);
        // A crawled device's name on another port, or on another device's same port number.
        let mut n = lldp(1, 2);
        n.sys_name = Some("access1".into());
        assert_eq!(place_one(n), access);
        let mut n = lldp(2, 1);
        n.sys_name = Some("core1".into());
        assert_eq!(place_one(n), access);
        // A port with no ifIndex is on no port.
        let mut n = lldp(1, 1);
        n.local_if_index = None;
        n.sys_name = Some("access1".into());
        assert_eq!(place_one(n), access);
    }

    #[test]
    fn a_hidden_system_name_matches_no_device() {
        // Some switches send "<private>" for every neighbour's name.
        let mut devices = devices();
        devices[1].sys_name = Some("<private>".into());
        let mut n = lldp(1, 1);
        n.sys_name = Some("<private>".into());
        let evidence = Evidence::new(&devices, None, vec![n], HashMap::new());
        let placed = evidence.classify(vec![sighting(1, 1)]);
        assert_eq!(placed[0].role, Role::Access);
    }

    #[test]
    fn lag_members_and_their_aggregate_share_evidence() {
        let mut n = lldp(1, 7);
        n.sys_name = Some("access1".into());
        // The MAC learned on member 7 of aggregate 100, the neighbour on the member.
        let mut member = sighting(1, 7);
        member.lag_if_index = Some(100);
        assert_eq!(
            place(None, vec![n.clone()], &[], member.clone()).0,
            Role::Uplink
        );
        // The MAC learned on the aggregate, the neighbour on a member.
        n.local_lag_if_index = Some(100);
        assert_eq!(
            place(None, vec![n.clone()], &[], sighting(1, 100)).0,
            Role::Uplink
        );
        // The neighbour on another member of the same aggregate.
        n.local_if_index = Some(8);
        assert_eq!(
            place(None, vec![n.clone()], &[], member.clone()).0,
            Role::Uplink
        );
        // Learning on the aggregate counts for a member's sighting.
        assert_eq!(
            place(None, vec![], &[((1, 100), vec![2])], member),
            (Role::Uplink, "uplink: learns the own MAC of access1".into())
        );
    }

    #[test]
    fn a_port_that_learns_a_crawled_devices_mac_is_an_uplink() {
        assert_eq!(
            place(None, vec![], &[((1, 1), vec![3])], sighting(1, 1)),
            (
                Role::Uplink,
                "uplink: learns the own MAC of 192.0.2.3:1161".into()
            )
        );
        assert_eq!(
            place(None, vec![], &[((1, 1), vec![42])], sighting(1, 1)).1,
            "uplink: learns the own MAC of device 42"
        );
        // Learning on another port, or on another device's port of that number: no evidence.
        assert_eq!(
            place(
                None,
                vec![],
                &[((1, 2), vec![2]), ((2, 1), vec![3])],
                sighting(1, 1)
            )
            .0,
            Role::Access
        );
    }

    #[test]
    fn the_port_facing_the_macs_own_device_is_its_access_port() {
        // access1's own MAC, learned on core1's port 1, which learns access1's MACs.
        let facing = (
            Role::Access,
            "the port faces access1, a crawled device that owns this MAC".to_string(),
        );
        assert_eq!(
            place(Some(2), vec![], &[((1, 1), vec![2])], sighting(1, 1)),
            facing
        );
        // … or has access1 as its LLDP neighbour.
        let mut n = lldp(1, 1);
        n.sys_name = Some("access1".into());
        assert_eq!(place(Some(2), vec![n.clone()], &[], sighting(1, 1)), facing);
        // The same port learning a third device's MAC is still an uplink.
        assert_eq!(
            place(Some(2), vec![], &[((1, 1), vec![2, 3])], sighting(1, 1)),
            (
                Role::Uplink,
                "uplink: learns the own MAC of 192.0.2.3:1161".into()
            )
        );
        // Many MACs on it do not make it shared: the owner is known.
        let mut busy = sighting(1, 1);
        busy.macs_on_port = 40;
        assert_eq!(place(Some(2), vec![n], &[], busy), facing);
        // A device's MAC on its own port faces nothing.
        assert_eq!(
            place(Some(1), vec![], &[((1, 1), vec![1])], sighting(1, 1)),
            (Role::Access, "no uplink evidence on this port".into())
        );
        // access1 named by another device's neighbour entry on a port of that number is no
        // evidence about this port.
        let mut elsewhere = lldp(3, 1);
        elsewhere.sys_name = Some("access1".into());
        assert_eq!(
            place(Some(2), vec![elsewhere], &[], sighting(1, 1)).1,
            "no uplink evidence on this port"
        );
        // Without evidence on this port, the owner is not faced.
        assert_eq!(
            place(Some(2), vec![], &[((1, 2), vec![2])], sighting(1, 1)).1,
            "no uplink evidence on this port"
        );
    }

    #[test]
    fn more_than_four_macs_make_a_port_shared() {
        let mut s = sighting(2, 10);
        s.macs_on_port = SHARED_PORT_MACS;
        assert_eq!(place(None, vec![], &[], s.clone()).0, Role::Access);
        s.macs_on_port = 5;
        assert_eq!(
            place(None, vec![], &[], s),
            (
                Role::Shared,
                "5 MACs on this port: a hypervisor, access point or unmanaged switch behind it"
                    .into()
            )
        );
    }

    #[test]
    fn the_switchs_own_address_is_itself_whatever_the_port() {
        for status in ["self", "mgmt"] {
            let mut s = sighting(1, 1);
            s.status = Some(status.into());
            assert_eq!(
                place(None, vec![], &[((1, 1), vec![2])], s),
                (Role::Itself, "the switch's own address".into())
            );
        }
    }

    #[test]
    fn the_answer_is_the_quietest_current_access_port() {
        let with = |device: i64, macs: i64, last_seen: i64| {
            let mut s = sighting(device, 10);
            s.macs_on_port = macs;
            s.last_seen = last_seen;
            s
        };
        let places = vec![
            placed(Role::Uplink, with(1, 1, 300)),
            placed(Role::Access, with(2, 3, 300)),
            placed(Role::Access, with(3, 2, 100)),
            placed(Role::Access, with(4, 2, 200)),
        ];
        assert_eq!(choose(&places), Some(3), "fewest MACs, then newest");
        // An access port, even a busy one, before a shared one.
        let places = vec![
            placed(Role::Shared, with(1, 5, 300)),
            placed(Role::Access, with(2, 40, 100)),
        ];
        assert_eq!(choose(&places), Some(1));
        let places = vec![
            placed(Role::Uplink, with(1, 1, 300)),
            placed(Role::Shared, with(2, 9, 100)),
            placed(Role::Shared, with(3, 6, 100)),
        ];
        assert_eq!(choose(&places), Some(2));
        // Gone from an access port: not the answer.
        let mut gone = with(2, 1, 500);
        gone.current = false;
        let places = vec![
            placed(Role::Access, gone),
            placed(Role::Shared, with(3, 6, 100)),
        ];
        assert_eq!(choose(&places), Some(1));
        let places = vec![
            placed(Role::Uplink, with(1, 1, 300)),
            placed(Role::Itself, with(2, 1, 300)),
        ];
        assert_eq!(choose(&places), None);
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn the_rows_shown() {
        let at = |device: i64, first: i64, last: i64, current: bool| {
            let mut s = sighting(device, 10);
            s.first_seen = first;
            s.last_seen = last;
            s.current = current;
            s
        };
        let places = vec![
            placed(Role::Uplink, at(1, 200, 900, true)),
            placed(Role::Access, at(2, 100, 900, true)),
            placed(Role::Access, at(3, 100, 100, false)),
            placed(Role::Access, at(4, 100, 100, true)),
        ];
        let devices = |rows: &[Placed]| {
            rows.iter()
                .map(|p| p.sighting.device_id)
                .collect::<Vec<_>>()
        };
        // History: oldest first; at the same first sighting, the one gone first.
        assert_eq!(devices(&select(places.clone(), false, true)), [3, 4, 2, 1]);
        assert_eq!(devices(&select(places.clone(), true, true)), [3, 4, 2, 1]);
        // Every current place, in the order given.
        assert_eq!(devices(&select(places.clone(), true, false)), [1, 2, 4]);
        // The answer, with how many other current places there are.
        let answer = select(places.clone(), false, false);
        assert_eq!(devices(&answer), [2]);
        assert_eq!(
            answer[0].why,
            "evidence; also seen on 2 other port(s), see --all"
        );
        let answer = select(places[1..3].to_vec(), false, false);
        assert_eq!(
            (answer[0].sighting.device_id, answer[0].why.as_str()),
            (2, "evidence")
        );
    }

    #[test]
    fn without_an_access_port_the_row_says_why() {
        let mut s = sighting(1, 1);
        let uplinks = vec![
            placed(Role::Uplink, s.clone()),
            placed(Role::Itself, sighting(2, 1)),
        ];
        let rows = select(uplinks, false, false);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].sighting.device_id, 1);
        assert_eq!(rows[0].why, "only seen on uplinks (2 places), see --all");
        let switch = vec![
            placed(Role::Itself, sighting(2, 1)),
            placed(Role::Itself, s.clone()),
        ];
        let rows = select(switch, false, false);
        assert_eq!(rows[0].sighting.device_id, 2);
        assert_eq!(rows[0].why, "the MAC is a crawled switch's own address");
        // Gone everywhere: the newest row (the catalog lists newest first) and when.
        s.current = false;
        s.last_seen = 1_700_000_000;
        let mut older = sighting(2, 10);
        older.current = false;
        older.last_seen = 1_600_000_000;
        let rows = select(
            vec![placed(Role::Access, s), placed(Role::Access, older)],
            false,
            false,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].sighting.device_id, 1);
        assert_eq!(
            rows[0].why,
            "not seen since 2023-11-14T22:13:20Z (the latest crawls of its switches no longer \
             see it); see --history"
        );
        assert!(select(Vec::new(), false, false).is_empty());
    }

    #[test]
    fn the_cache_asks_only_for_what_it_lacks_and_remembers_nothing_found() {
        let mut cache: HashMap<i64, Vec<&str>> = HashMap::new();
        let mut asked = Vec::new();
        fill(&mut cache, &[1, 2, 3], |keys| {
            asked.push(keys.to_vec());
            Ok(vec![(1, "a"), (3, "c"), (1, "b")])
        })
        .unwrap();
        assert_eq!(asked, [vec![1, 2, 3]]);
        assert_eq!(cache[&1], ["a", "b"]);
        assert_eq!(cache[&2], Vec::<&str>::new());
        assert_eq!(cache[&3], ["c"]);
        fill(&mut cache, &[3, 4, 2], |keys| {
            asked.push(keys.to_vec());
            Ok(vec![(4, "d")])
        })
        .unwrap();
        assert_eq!(asked[1], [4]);
        assert_eq!(cache[&4], ["d"]);
        assert_eq!(cache[&3], ["c"], "kept, not asked again");
        fill(&mut cache, &[1, 2], |_| panic!("everything is cached")).unwrap();
        let failed = fill(&mut cache, &[5], |_| {
            Err(crate::error::Error::new(
                crate::error::ErrorKind::Catalog,
                "down",
            ))
        });
        assert!(failed.is_err());
        assert!(!cache.contains_key(&5), "a failed fetch caches nothing");
    }

    /// A catalog as crawl-switches leaves it: core1's port 1 goes to access1's port 48
    /// (which has core1 as its LLDP neighbour); the host is on access1's port 10.
    fn crawled_catalog(dir: &std::path::Path) -> Catalog {
        let mut catalog = Catalog::open(&dir.join("catalog.db")).unwrap();
        let learned = |m: &str, port: i64| FdbEntry {
            mac: mac(m),
            vlan: Some(10),
            bridge_port: Some(port),
            if_index: Some(port),
            status: "learned".into(),
        };
        let port = |if_index: i64| Port {
            if_index,
            bridge_port: Some(if_index),
            name: Some(format!("ge-0/0/{if_index}")),
            oper_status: Some("up".into()),
            ..Port::default()
        };
        let core = DeviceSnapshot {
            sys_name: Some("core1".into()),
            base_mac: Some(mac(CORE_MAC)),
            ports: vec![port(1), port(2)],
            fdb: vec![learned(HOST, 1), learned(ACCESS_MAC, 1), learned(HOST_B, 2)],
            has_bridge_mib: true,
            ..DeviceSnapshot::default()
        };
        let access = DeviceSnapshot {
            sys_name: Some("access1".into()),
            base_mac: Some(mac(ACCESS_MAC)),
            ports: vec![port(10), port(48)],
            fdb: vec![
                learned(HOST, 10),
                learned(CORE_MAC, 48),
                learned(HOST_B, 48),
            ],
            neighbors: vec![Neighbor {
                local_if_index: Some(48),
                protocol: "lldp".into(),
                chassis_id: Some(CORE_MAC.into()),
                port_id: Some("ge-0/0/1".into()),
                sys_name: Some("core1".into()),
                ..Neighbor::default()
            }],
            has_bridge_mib: true,
            ..DeviceSnapshot::default()
        };
        let now = 1_700_000_000;
        for (address, snap) in [("192.0.2.1", core), ("192.0.2.2", access)] {
            let scan = catalog
                .begin_scan("crawl-switches", "snmp", address, now)
                .unwrap();
            catalog
                .store_device(scan, now, address, "switch", &snap)
                .unwrap();
        }
        catalog
    }

    #[test]
    fn the_placer_answers_from_a_crawled_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = crawled_catalog(dir.path());
        let placer = Placer::new(&catalog).unwrap();
        let answer = placer.answer(&catalog, mac(HOST)).unwrap().unwrap();
        assert_eq!(answer.sighting.device_name.as_deref(), Some("access1"));
        assert_eq!(answer.sighting.if_index, Some(10));
        assert_eq!(answer.role, Role::Access);
        assert_eq!(
            answer.why,
            "no uplink evidence on this port; also seen on 1 other port(s), see --all"
        );
        let sightings = catalog.sightings(mac(HOST), true).unwrap();
        let mut roles: Vec<(String, &str, String)> = placer
            .classify(&catalog, sightings)
            .unwrap()
            .into_iter()
            .map(|p| (p.sighting.device_name.unwrap(), p.role.name(), p.why))
            .collect();
        roles.sort();
        assert_eq!(
            roles,
            [
                (
                    "access1".to_string(),
                    "access",
                    "no uplink evidence on this port".to_string()
                ),
                (
                    "core1".to_string(),
                    "uplink",
                    "uplink: learns the own MAC of access1".to_string()
                ),
            ]
        );
        // The switches' own MACs: each is where the other's port faces it.
        let core = placer.answer(&catalog, mac(CORE_MAC)).unwrap().unwrap();
        assert_eq!(
            (core.sighting.device_name.as_deref(), core.sighting.if_index),
            (Some("access1"), Some(48))
        );
        assert_eq!(
            core.why,
            "the port faces core1, a crawled device that owns this MAC"
        );
        let access = placer.answer(&catalog, mac(ACCESS_MAC)).unwrap().unwrap();
        assert_eq!(access.sighting.if_index, Some(1));
        assert_eq!(
            access.why,
            "the port faces access1, a crawled device that owns this MAC"
        );
        // A host behind core1: access1's port 48 is an uplink first by its LLDP neighbour.
        let b = placer.answer(&catalog, mac(HOST_B)).unwrap().unwrap();
        assert_eq!(
            (b.sighting.device_name.as_deref(), b.sighting.if_index),
            (Some("core1"), Some(2))
        );
        let sightings = catalog.sightings(mac(HOST_B), true).unwrap();
        let uplinks: Vec<String> = placer
            .classify(&catalog, sightings)
            .unwrap()
            .into_iter()
            .filter(|p| p.role == Role::Uplink)
            .map(|p| p.why)
            .collect();
        assert_eq!(
            uplinks,
            ["uplink: LLDP neighbour core1 is a crawled device"]
        );
        // Asked again, from the cache: the same answer.
        let again = placer.answer(&catalog, mac(HOST)).unwrap().unwrap();
        assert_eq!(again.why, answer.why);
        assert!(
            placer
                .answer(&catalog, mac("00:1b:21:ff:ff:ff"))
                .unwrap()
                .is_none()
        );
        assert!(placer.classify(&catalog, Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn neighbours_are_read_for_the_ports_asked_and_their_aggregates() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        let port = |if_index: i64, lag: Option<i64>| Port {
            if_index,
            lag_if_index: lag,
            ..Port::default()
        };
        let neighbor = |local: i64, name: &str| Neighbor {
            local_if_index: Some(local),
            protocol: "lldp".into(),
            chassis_id: Some(format!("chassis-{name}")),
            sys_name: Some(name.into()),
            ..Neighbor::default()
        };
        // Ports 7 and 8 are members of aggregate 100; one neighbour on each of 1..=20 but 7,
        // and a second one on 8.
        let mut neighbors: Vec<Neighbor> = (1..=20)
            .filter(|&i| i != 7)
            .map(|i| neighbor(i, &format!("n{i}")))
            .collect();
        neighbors.push(neighbor(8, "n8b"));
        let snap = DeviceSnapshot {
            sys_name: Some("core".into()),
            ports: (1..=20)
                .map(|i| port(i, (i == 7 || i == 8).then_some(100)))
                .chain([port(100, None)])
                .collect(),
            neighbors,
            ..DeviceSnapshot::default()
        };
        let scan = catalog
            .begin_scan("crawl-switches", "snmp", "192.0.2.9", 1_700_000_000)
            .unwrap();
        catalog
            .store_device(scan, 1_700_000_000, "192.0.2.9", "switch", &snap)
            .unwrap();
        let id = catalog.devices().unwrap()[0].id;
        let asked = |ports: &[(i64, i64)]| -> Vec<((i64, i64), String)> {
            let mut got: Vec<_> = catalog
                .neighbors_on(ports)
                .unwrap()
                .into_iter()
                .map(|(k, n)| (k, n.sys_name.unwrap()))
                .collect();
            got.sort();
            got
        };
        // Port 7 has none of its own; the aggregate has member 8's two.
        assert_eq!(
            asked(&[(id, 7), (id, 100)]),
            [
                ((id, 100), "n8".to_string()),
                ((id, 100), "n8b".to_string())
            ]
        );
        // Port 8 itself, and 3: the neighbours on them, under each, and nothing else.
        assert_eq!(
            asked(&[(id, 3), (id, 8)]),
            [
                ((id, 3), "n3".to_string()),
                ((id, 8), "n8".to_string()),
                ((id, 8), "n8b".to_string())
            ]
        );
        // Another device's port numbers are not this one's.
        assert!(asked(&[(id + 1, 3)]).is_empty());
        assert!(asked(&[]).is_empty());
    }

    #[test]
    fn several_macs_at_once_answer_as_each_alone() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = crawled_catalog(dir.path());
        let unseen = "00:1b:21:ff:ff:ff";
        // Repeated and unseen MACs keep their places in the answer.
        let asked = [HOST, unseen, CORE_MAC, HOST_B, ACCESS_MAC, HOST];
        let shown = |p: Option<Placed>| {
            p.map(|p| {
                (
                    p.sighting.mac,
                    p.sighting.device_name,
                    p.sighting.if_index,
                    p.role.name(),
                    p.why,
                )
            })
        };
        // Each alone, with a placer that has asked nothing before.
        let alone: Vec<_> = asked
            .iter()
            .map(|m| {
                shown(
                    Placer::new(&catalog)
                        .unwrap()
                        .answer(&catalog, mac(m))
                        .unwrap(),
                )
            })
            .collect();
        let macs: Vec<Mac> = asked.iter().map(|m| mac(m)).collect();
        let together: Vec<_> = Placer::new(&catalog)
            .unwrap()
            .answers(&catalog, &macs)
            .unwrap()
            .into_iter()
            .map(shown)
            .collect();
        assert_eq!(together, alone);
        assert_eq!(together.iter().filter(|a| a.is_some()).count(), 5);
        assert!(together[1].is_none());
        assert_eq!(
            together[0].as_ref().unwrap().1.as_deref(),
            Some("access1"),
            "{together:?}"
        );
        assert!(
            Placer::new(&catalog)
                .unwrap()
                .answers(&catalog, &[])
                .unwrap()
                .is_empty()
        );
    }
}
