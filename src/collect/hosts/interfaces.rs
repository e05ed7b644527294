//! This machine's network interfaces, from the kernel: `getifaddrs(3)` for the addresses and
//! link-layer addresses, `/sys/class/net` for MTU, operational state and speed.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;

use nix::ifaddrs::getifaddrs;

use crate::error::{Error, ErrorKind, Result};

use crate::model::Mac;
use crate::model::host::{Address, Interface};

/// Lists this machine's interfaces, sorted by name, each with all its IPv4 and IPv6 addresses.
pub fn local() -> Result<Vec<Interface>> {
    let addrs = getifaddrs().map_err(|e| {
        Error::with_source(
            ErrorKind::Fatal,
            "listing network interfaces (getifaddrs)",
            e,
        )
    })?;
    let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
    for ifa in addrs {
        let entry = by_name
            .entry(ifa.interface_name.clone())
            .or_insert_with(|| Interface {
                name: ifa.interface_name.clone(),
                mac: None,
                mtu: None,
                oper_state: None,
                speed_mbps: None,
                addresses: Vec::new(),
            });
        let Some(addr) = ifa.address else { continue };
        if let Some(link) = addr.as_link_addr() {
            entry.mac = link.addr().map(Mac).filter(|m| !m.is_zero());
        } else if let Some(v4) = addr.as_sockaddr_in() {
            let prefix = ifa.netmask.and_then(|m| {
                m.as_sockaddr_in()
                    .map(|m| m.ip().to_bits().count_ones() as u8)
            });
            entry.addresses.push(Address {
                ip: IpAddr::V4(v4.ip()),
                prefix_len: prefix,
            });
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            let prefix = ifa.netmask.and_then(|m| {
                m.as_sockaddr_in6()
                    .map(|m| m.ip().to_bits().count_ones() as u8)
            });
            entry.addresses.push(Address {
                ip: IpAddr::V6(v6.ip()),
                prefix_len: prefix,
            });
        }
    }
    for iface in by_name.values_mut() {
        let sys = |attr: &str| {
            fs::read_to_string(format!("/sys/class/net/{}/{attr}", iface.name))
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        if iface.mac.is_none() {
            // Some kernels and sandboxes list no AF_PACKET entries; sysfs still has the address.
            iface.mac = sys("address")
                .and_then(|a| a.parse().ok())
                .filter(|m: &Mac| !m.is_zero());
        }
        iface.mtu = sys("mtu").and_then(|v| v.parse().ok());
        iface.oper_state = sys("operstate");
        // speed is -1 or unreadable (EINVAL) for interfaces that are down or virtual.
        iface.speed_mbps = sys("speed")
            .and_then(|v| v.parse().ok())
            .filter(|&s: &i64| s > 0);
        iface.addresses.sort_by_key(|a| (a.ip.is_ipv6(), a.ip));
    }
    Ok(by_name.into_values().collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_is_listed_with_its_address() {
        let ifaces = super::local().unwrap();
        let lo = ifaces.iter().find(|i| i.name == "lo").expect("lo");
        assert!(
            lo.addresses
                .iter()
                .any(|a| a.ip.to_string() == "127.0.0.1" && a.prefix_len == Some(8)),
            "{lo:?}"
        );
        assert!(lo.mac.is_none());
    }
}
