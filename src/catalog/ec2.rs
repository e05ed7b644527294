//! EC2 in the catalog: writing one source's (profile and region's) instances and Auto Scaling
//! groups, with history, and finding the instance behind an address or a name.
//!
//! An instance's identity row (`ec2_instances`) says when it was first and last seen; what it
//! looked like is in `ec2_instance_states`, a new row whenever any attribute changes (so "which
//! instance had 10.0.3.7 last Tuesday" is a query). A group gets a new `ec2_asgs` row whenever
//! its size or members change. What a source no longer reports is marked not current, never
//! deleted. Rows belong to the source whose scan last wrote them (`scans.target`), so two
//! accounts read in the same region do not retire each other's instances.

use std::collections::HashSet;

use crate::error::Result;
use crate::model::ec2::{Asg, Instance, InstanceState};

use super::Catalog;
use super::db::{Param, params, placeholders};
use super::observations::{Cell, Observed, Stamp, Table};

const STATES: Table = Table {
    name: "ec2_instance_states",
    scope: "instance_id",
    key: &[
        "name",
        "state",
        "instance_type",
        "az",
        "vpc_id",
        "subnet_id",
        "private_ip",
        "public_ip",
        "ipv6",
        "interfaces",
        "tags",
        "launch_time",
        "asg_name",
    ],
    extra: &[],
};

/// What storing one source changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ec2Write {
    pub instances: usize,
    /// Instances whose attributes changed (or that are new) in this sync.
    pub changed: usize,
    pub retired_instances: usize,
    pub groups: usize,
    pub retired_groups: usize,
}

/// An instance as the catalog last knew it, for the query tools.
#[derive(Debug, Clone)]
pub struct Ec2InstanceRow {
    pub instance_id: String,
    pub region: String,
    pub name: Option<String>,
    pub state: Option<InstanceState>,
    pub instance_type: Option<String>,
    pub az: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub asg_name: Option<String>,
    /// Every tag, as a JSON object (null when none were stored).
    pub tags: serde_json::Value,
    /// Whether the instance was reported by the last sync of its source.
    pub current: bool,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// A group's attributes that make a new history row when they change: created_at, desired,
/// min_size, max_size and the members as JSON.
type GroupAttrs = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

fn json(value: &impl serde::Serialize) -> Cell {
    // Serializing plain strings and vectors cannot fail.
    Cell::Text(serde_json::to_string(value).unwrap_or_default())
}

impl Catalog {
    /// Stores one source's snapshot in one transaction. `source` is the scan target
    /// (`region` or `profile/region`); `region` is the region every item was read in.
    pub fn store_ec2(
        &mut self,
        scan_id: i64,
        now: i64,
        source: &str,
        region: &str,
        instances: &[Instance],
        groups: &[Asg],
    ) -> Result<Ec2Write> {
        let tx = self.db.begin_write()?;
        tx.lock_source("ec2", source)?;
        let stamp = Stamp { now, scan_id };
        let mut write = Ec2Write::default();
        let mut seen: HashSet<&str> = HashSet::new();
        for i in instances {
            if !seen.insert(&i.id) {
                continue;
            }
            let id: i64 = tx.query_one(
                "INSERT INTO ec2_instances (instance_id, region, first_seen, last_seen, current) \
                     VALUES (?1, ?2, ?3, ?3, 1) \
                     ON CONFLICT(instance_id) DO UPDATE SET region = excluded.region, \
                       last_seen = excluded.last_seen, current = 1 \
                     RETURNING id",
                params![i.id, region, now],
                |r| r.get(0),
            )?;
            let observed = Observed {
                key: vec![
                    i.name.clone().into(),
                    // EC2's own word, so that the history reads as the console does.
                    i.state.as_str().into(),
                    i.instance_type.clone().into(),
                    i.az.clone().into(),
                    i.vpc_id.clone().into(),
                    i.subnet_id.clone().into(),
                    i.private_ip.clone().into(),
                    i.public_ip.clone().into(),
                    json(&i.ipv6),
                    json(&i.interfaces),
                    json(&i.tags),
                    i.launch_time.into(),
                    i.asg.clone().into(),
                ],
                extra: vec![],
            };
            let counts = STATES.sync(&tx, id, [observed], |_| false, stamp)?;
            write.instances += 1;
            write.changed += counts.added;
        }

        // Instances this source reported before and not now: gone (terminated long ago).
        let gone: Vec<(i64, String)> = tx.query_map(
            "SELECT i.id, i.instance_id FROM ec2_instances i \
             JOIN ec2_instance_states s ON s.instance_id = i.id AND s.current = 1 \
             JOIN scans sc ON sc.id = s.last_scan_id \
             WHERE i.current = 1 AND i.region = ?1 AND sc.target = ?2 ORDER BY i.id",
            params![region, source],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (id, instance_id) in gone {
            if seen.contains(instance_id.as_str()) {
                continue;
            }
            tx.execute(
                "UPDATE ec2_instances SET current = 0 WHERE id = ?1",
                params![id],
            )?;
            tx.execute(
                "UPDATE ec2_instance_states SET current = 0 WHERE instance_id = ?1 AND current = 1",
                params![id],
            )?;
            write.retired_instances += 1;
        }

        let mut seen_groups: HashSet<&str> = HashSet::new();
        for g in groups {
            if !seen_groups.insert(&g.name) {
                continue;
            }
            let mut members = g.members.clone();
            members.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
            let members = serde_json::to_string(&members).unwrap_or_default();
            let existing: Option<(i64, GroupAttrs)> = tx.query_opt(
                "SELECT id, created_at, desired, min_size, max_size, members FROM ec2_asgs \
                     WHERE name = ?1 AND region = ?2 AND current = 1 \
                     ORDER BY last_seen DESC, id DESC LIMIT 1",
                params![g.name, region],
                |r| {
                    Ok((
                        r.get(0)?,
                        (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                    ))
                },
            )?;
            let now_row = (
                g.created_at,
                g.desired.map(i64::from),
                g.min_size.map(i64::from),
                g.max_size.map(i64::from),
                Some(members.clone()),
            );
            match existing {
                Some((id, ref attrs)) if *attrs == now_row => {
                    tx.execute(
                        "UPDATE ec2_asgs SET last_seen = ?2, last_scan_id = ?3 WHERE id = ?1",
                        params![id, now, scan_id],
                    )?;
                }
                other => {
                    if let Some((id, ..)) = other {
                        tx.execute("UPDATE ec2_asgs SET current = 0 WHERE id = ?1", params![id])?;
                    }
                    // Two changes within one second would collide on (name, region,
                    // first_seen): the later one simply replaces the earlier.
                    tx.execute(
                        "INSERT INTO ec2_asgs (name, region, created_at, desired, min_size, \
                           max_size, members, first_seen, last_seen, current, last_scan_id) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9) \
                         ON CONFLICT(name, region, first_seen) DO UPDATE SET \
                           created_at = excluded.created_at, desired = excluded.desired, \
                           min_size = excluded.min_size, max_size = excluded.max_size, \
                           members = excluded.members, current = 1, \
                           last_scan_id = excluded.last_scan_id",
                        params![
                            g.name,
                            region,
                            g.created_at,
                            g.desired,
                            g.min_size,
                            g.max_size,
                            members,
                            now,
                            scan_id
                        ],
                    )?;
                }
            }
            write.groups += 1;
        }
        let gone: Vec<(i64, String)> = tx.query_map(
            "SELECT a.id, a.name FROM ec2_asgs a JOIN scans sc ON sc.id = a.last_scan_id \
             WHERE a.current = 1 AND a.region = ?1 AND sc.target = ?2 ORDER BY a.id",
            params![region, source],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (id, name) in gone {
            if !seen_groups.contains(name.as_str()) {
                tx.execute("UPDATE ec2_asgs SET current = 0 WHERE id = ?1", params![id])?;
                write.retired_groups += 1;
            }
        }
        tx.commit()?;
        Ok(write)
    }

    /// Instances that have, or had, this address (private or public IPv4, or among the
    /// IPv6 addresses), the most recently seen first.
    pub fn ec2_instances_by_address(&self, address: &str) -> Result<Vec<Ec2InstanceRow>> {
        self.ec2_instances_by_addresses(&[address.to_string()])
    }

    /// Instances that have, or had, any of these addresses, in one query (a host's eight
    /// addresses are one statement, not eight: on a server each is a round trip).
    pub fn ec2_instances_by_addresses(&self, addresses: &[String]) -> Result<Vec<Ec2InstanceRow>> {
        let (v6, v4): (Vec<&String>, Vec<&String>) =
            addresses.iter().partition(|a| a.contains(':'));
        let mut conditions = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        // IPv4 lookups use the two indexes; only IPv6 needs to look inside the JSON arrays.
        if !v4.is_empty() {
            let marks = placeholders(values.len(), v4.len());
            conditions.push(format!(
                "s.private_ip IN ({marks}) OR s.public_ip IN ({marks})"
            ));
            values.extend(v4.iter().map(|a| a.as_str()));
        }
        if !v6.is_empty() {
            let marks = placeholders(values.len(), v6.len());
            conditions.push(format!(
                "s.ipv6 IS NOT NULL AND EXISTS (SELECT 1 FROM {} WHERE j.value IN ({marks}))",
                self.db.dialect().json_array("s.ipv6", "j")
            ));
            values.extend(v6.iter().map(|a| a.as_str()));
        }
        if conditions.is_empty() {
            return Ok(Vec::new());
        }
        self.ec2_query(&format!("({})", conditions.join(") OR (")), &values)
    }

    /// Instances whose Name tag, or id, is `name`, the most recently seen first.
    pub fn ec2_instances_by_name(&self, name: &str) -> Result<Vec<Ec2InstanceRow>> {
        self.ec2_instances_by_names(&[name.to_string()])
    }

    /// Instances whose Name tag, or id, is any of `names`, in one query.
    pub fn ec2_instances_by_names(&self, names: &[String]) -> Result<Vec<Ec2InstanceRow>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let marks = placeholders(0, names.len());
        let values: Vec<&str> = names.iter().map(String::as_str).collect();
        self.ec2_query(
            &format!("s.name IN ({marks}) OR i.instance_id IN ({marks})"),
            &values,
        )
    }

    fn ec2_query(&self, condition: &str, values: &[&str]) -> Result<Vec<Ec2InstanceRow>> {
        let sql = format!(
            "SELECT i.instance_id, i.region, s.name, s.state, s.instance_type, s.az, \
               s.private_ip, s.public_ip, s.asg_name, (s.current = 1 AND i.current = 1), \
               s.first_seen, s.last_seen, s.tags \
             FROM ec2_instance_states s JOIN ec2_instances i ON i.id = s.instance_id \
             WHERE {condition} ORDER BY s.last_seen DESC, i.instance_id, s.id"
        );
        let params: Vec<&dyn Param> = values.iter().map(|v| v as &dyn Param).collect();
        self.db.query_map(&sql, &params, |r| {
            Ok(Ec2InstanceRow {
                instance_id: r.get(0)?,
                region: r.get(1)?,
                name: r.get(2)?,
                state: r
                    .get::<Option<String>>(3)?
                    .as_deref()
                    .map(InstanceState::parse),
                instance_type: r.get(4)?,
                az: r.get(5)?,
                private_ip: r.get(6)?,
                public_ip: r.get(7)?,
                asg_name: r.get(8)?,
                current: r.get(9)?,
                first_seen: r.get(10)?,
                last_seen: r.get(11)?,
                tags: r
                    .get::<Option<String>>(12)?
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or(serde_json::Value::Null),
            })
        })
    }
}
