//! `which-switch`: the switch, port and VLAN a MAC, IP or host is plugged into, with history.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::clock;
use crate::collect;
use crate::collect::switches::{self as switches, Switches};
use crate::error::{Outcome, Result};
use crate::input;
use crate::model::Mac;
use crate::net::oui;
use crate::output::{Key, OutputArgs, Printer, Record, Schema, Shape};
use crate::query::switch::{self, Located};

use super::{CommonArgs, DnsArgs, QUERY_EXIT_STATUS, Tool, ToolDoc, settings, warn};

const NAME: &str = "which-switch";

/// What switch, port and VLAN a MAC, IP address or host is plugged into.
///
/// A MAC is looked up in the forwarding tables crawl-switches stored; an IP address becomes
/// MACs through routers' ARP and neighbour tables and hosts' own interfaces; a host name
/// becomes MACs through its scanned interfaces, or through DNS and then ARP. A MAC is seen on
/// every switch between it and the core: the answer is the port with no uplink evidence (an
/// LLDP/CDP neighbour that is a crawled device, or another device's own MAC learned there),
/// LAG members rolled up, and the evidence is shown in `why`.
#[derive(Debug, clap::Parser)]
#[command(version)]
pub struct Args {
    /// MAC addresses (any notation), IP addresses or host names; read from stdin when absent
    #[arg(value_name = "MAC|IP|HOST")]
    pub items: Vec<String>,

    /// List every place the MAC is seen, uplinks included, each with its role
    #[arg(long, conflicts_with = "history")]
    pub all: bool,

    /// The timeline of every port the MAC has been seen on, current and past
    #[arg(long)]
    pub history: bool,

    /// What is, and was, plugged into a port: SWITCH (sysName or address) and PORT (ifName,
    /// ifDescr, ifAlias or ifIndex)
    #[arg(long, num_args = 2, value_names = ["SWITCH", "PORT"], conflicts_with_all = ["items", "all", "moves"])]
    pub port: Option<Vec<String>>,

    /// Every MAC that moved to another port of the same switch (see --since): a cron report
    #[arg(long, conflicts_with_all = ["items", "all", "history"])]
    pub moves: bool,

    /// With --moves: how far back, as an age (30m, 12h, 1d, 2w) or an RFC 3339 time
    #[arg(long, value_name = "WHEN", default_value = "1d", requires = "moves")]
    pub since: String,

    /// Crawl the switches concerned first (where the MACs were last seen, and routers), then
    /// answer; every configured switch when a MAC was never seen
    #[arg(long, conflicts_with_all = ["port", "moves"])]
    pub live: bool,

    #[command(flatten)]
    pub dns: DnsArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

crate::fields! {
    /// The output fields of which-switch.
    pub Row {
        QUERY = "query", shown,
            "The input as given.";
        MAC = "mac", shown,
            "The MAC address (aa:bb:cc:dd:ee:ff).";
        SWITCH = "switch", shown,
            "The switch's sysName (its address when it reports none).";
        PORT = "port", shown,
            "The port's ifName (ifDescr when there is no ifName); a LAG member shows its aggregate.";
        VLAN = "vlan", shown,
            "The VLAN (Q-BRIDGE FDB id mapped through dot1qVlanFdbId).";
        ROLE = "role", shown,
            "access, shared (many MACs behind the port), uplink, or self (the switch's own MAC).";
        WHY = "why", shown,
            "The evidence for the role, or why no access port was found.";
        LAST_SEEN = "last_seen", shown,
            "When a crawl last saw the MAC there (RFC 3339, UTC).";
        VENDOR = "vendor", hidden,
            "The MAC's vendor from the IEEE registry (ieee-data).";
        SWITCH_ADDRESS = "switch_address", hidden,
            "The address the switch is crawled at.";
        PORT_ALIAS = "port_alias", hidden,
            "ifAlias: the port's description as configured on the switch.";
        PORT_DESCR = "port_descr", hidden,
            "ifDescr.";
        IF_INDEX = "if_index", hidden,
            "The port's ifIndex.";
        MEMBER_PORT = "member_port", hidden,
            "The LAG member port the MAC was learned on, when rolled up to an aggregate.";
        PORT_STATUS = "port_status", hidden,
            "ifOperStatus: up, down, …";
        SPEED_MBPS = "speed_mbps", hidden,
            "ifHighSpeed in Mbit/s.";
        MACS_ON_PORT = "macs_on_port", hidden,
            "How many MACs the port has learned now.";
        CURRENT = "current", hidden,
            "Whether the latest crawl of the switch still sees it there.";
        FIRST_SEEN = "first_seen", hidden,
            "When a crawl first saw the MAC there (RFC 3339, UTC).";
        VIA = "via", hidden,
            "How the query led to the MAC: mac, arp (router), host (its interface) or dns.";
        MOVED_FROM = "moved_from", hidden,
            "With --moves: the port of the same switch the MAC was on before.";
    }
}

impl Tool for Args {
    const DOC: ToolDoc = ToolDoc {
        name: NAME,
        examples: &[
            (
                "which-switch 00:1b:21:3a:4f:10",
                "The switch port of a MAC (any notation works).",
            ),
            (
                "which-switch web-7",
                "Every interface of a scanned host, and where each is plugged in.",
            ),
            (
                "which-switch --all 10.1.2.3",
                "Every switch the address's MAC is seen on, uplinks included.",
            ),
            (
                "which-switch --history aabb.cc00.0100",
                "Where this MAC has been, over time.",
            ),
        ],
        fields: Row::FIELDS,
        exit_status: QUERY_EXIT_STATUS,
        views: &[],
        environment: &[(
            "OPSKIT_SNMP_COMMUNITY",
            "SNMP community for --live crawls of devices whose configuration names none.",
        )],
    };

    fn run(self) -> Result<Outcome> {
        // moved_from is filled by --moves only: other views leave it out unless -f names it.
        let view_only: &[Key<Row>] = if self.moves { &[] } else { &[Row::MOVED_FROM] };
        let mut printer = Printer::without::<Row>(&self.output, view_only)?;
        let config = self.common.config()?;
        let mut catalog = self.common.open_catalog(&config)?;
        let answer = if let Some(port) = &self.port {
            switch::on_port(&catalog, &port[0], &port[1])?
        } else if self.moves {
            switch::moves(&catalog, clock::parse_since(&self.since, clock::now())?)?
        } else {
            let items = input::items(&self.items, "MACs, addresses or host names")?;
            let dns = self.dns.options(&config)?;
            // The one runtime, only for network work: DNS for names, or a --live crawl.
            let runtime = match dns.is_some() || self.live {
                true => Some(settings::runtime()?),
                false => None,
            };
            let resolved = settings::wait(
                runtime.as_ref(),
                switch::resolve(&catalog, &items, dns.as_ref()),
            )?;
            if let (true, Some(runtime)) = (self.live, &runtime) {
                let devices = switch::live_devices(&catalog, &config, &resolved)?;
                if !devices.is_empty() {
                    let (overrides, concurrency) = settings::snmp(&config, None, None, None);
                    let targets = switches::targets(&config, &devices, &overrides)?;
                    let anchor = catalog.local_anchor();
                    runtime.block_on(async {
                        let crawl = Switches::new(NAME, "--live: ", &targets, &anchor);
                        let crawl = Arc::new(crawl.await?);
                        collect::run(crawl, &mut catalog, targets, concurrency).await
                    })?;
                }
            }
            switch::locate(&catalog, resolved, self.all, self.history)?
        };
        for miss in &answer.misses {
            warn(NAME, miss);
        }
        if answer.rows.is_empty() && (self.port.is_some() || self.moves) {
            return Ok(Outcome::NothingFound);
        }
        let macs: Vec<Mac> = answer.rows.iter().map(|l| l.placed.sighting.mac).collect();
        // Vendors looked up in one pass over the registry.
        let vendors = oui::vendors(Path::new(oui::REGISTRY_DIR), &macs);
        let records: Vec<Record<Row>> = answer.rows.iter().map(|l| record(l, &vendors)).collect();
        printer.print(&records, Shape::Table)?;
        Ok(if answer.complete {
            Outcome::Success
        } else {
            Outcome::NothingFound
        })
    }
}

fn record(located: &Located, vendors: &HashMap<Mac, String>) -> Record<Row> {
    let Located {
        query,
        via,
        placed,
        moved_from,
    } = located;
    let s = &placed.sighting;
    // A LAG member is shown as its aggregate, with the physical port beside it.
    let member_port = s.lag_name.as_ref().and(s.member_port());
    let vendor = vendors.get(&s.mac).cloned();
    let mut r = Row::record();
    r.set(Row::QUERY, query.as_str())
        .set(Row::MAC, s.mac.to_string())
        .set(
            Row::SWITCH,
            s.device_name
                .clone()
                .unwrap_or_else(|| s.device_address.clone()),
        )
        .set(Row::PORT, s.port())
        .set(Row::VLAN, s.vlan)
        .set(Row::ROLE, placed.role.name())
        .set(Row::WHY, placed.why.as_str())
        .set(Row::LAST_SEEN, clock::format(s.last_seen))
        .set(Row::VENDOR, vendor)
        .set(Row::SWITCH_ADDRESS, s.device_address.as_str())
        .set(Row::PORT_ALIAS, s.port_alias.clone())
        .set(Row::PORT_DESCR, s.port_descr.clone())
        .set(Row::IF_INDEX, s.if_index)
        .set(Row::MEMBER_PORT, member_port)
        .set(Row::PORT_STATUS, s.oper_status.clone())
        .set(Row::SPEED_MBPS, s.speed_mbps)
        .set(Row::MACS_ON_PORT, s.macs_on_port)
        .set(Row::CURRENT, s.current)
        .set(Row::FIRST_SEEN, clock::format(s.first_seen))
        .set(Row::VIA, via.as_str())
        .set(Row::MOVED_FROM, moved_from.clone());
    r
}
