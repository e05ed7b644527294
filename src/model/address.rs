//! What kind of address an IP is: private, public, loopback, documentation, multicast and the
//! rest, with the range and the RFC that makes it so, for `whatis-ip`.
//!
//! The table follows the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
//! its updates), the IANA IPv6 address space registry (what lies outside 2000::/3 is reserved)
//! and the multicast scopes (RFC 5771, RFC 2365, RFC 4291, RFC 7346). The most specific range
//! wins, so 192.0.0.9 is a PCP anycast address even though it lies in 192.0.0.0/24.
//!
//! `global` is the registries' "globally reachable" column. Where a registry says "N/A"
//! (Teredo, 6to4, the deprecated 6to4 relay anycast) the address is not global: a tool should
//! not promise that such an address is reachable. Multicast is outside the special-purpose
//! registries; there the scope decides (only global-scope IPv6 multicast, and IPv4 multicast
//! outside 224.0.0.0/24 and 239.0.0.0/8, is global).
//!
//! The kinds (the fixed set in [`Kind::ALL`]):
//!
//! | kind | ranges |
//! |---|---|
//! | `public` | IPv4 outside every range below; IPv6 2000::/3 outside every range below |
//! | `private` | 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918) |
//! | `cgnat` | 100.64.0.0/10, shared address space for carrier-grade NAT (RFC 6598) |
//! | `loopback` | 127.0.0.0/8, ::1 |
//! | `link-local` | 169.254.0.0/16, fe80::/10 |
//! | `this-network` | 0.0.0.0/8 (RFC 791) |
//! | `unspecified` | 0.0.0.0, :: |
//! | `ietf-protocol` | 192.0.0.0/24, 2001::/23: IETF protocol assignments not listed separately |
//! | `ds-lite` | 192.0.0.0/29, IPv4 service continuity prefix (RFC 7335) |
//! | `dummy` | 192.0.0.8, IPv4 dummy address (RFC 7600) |
//! | `anycast` | 192.0.0.9, 192.0.0.10, 2001:1::1, 2001:1::2, 2001:1::3 (PCP, TURN, DNS-SD SRP) |
//! | `nat64` | 192.0.0.170/31 (discovery), 64:ff9b::/96 (well-known prefix), 64:ff9b:1::/48 (local use) |
//! | `documentation` | 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20 |
//! | `as112` | 192.31.196.0/24, 192.175.48.0/24, 2001:4:112::/48, 2620:4f:8000::/48 |
//! | `amt` | 192.52.193.0/24, 2001:3::/32 (RFC 7450) |
//! | `6to4` | 2002::/16, and the deprecated relay anycast 192.88.99.0/24 |
//! | `benchmarking` | 198.18.0.0/15, 2001:2::/48 |
//! | `multicast` | 224.0.0.0/4, ff00::/8; the description names the block or the scope |
//! | `reserved` | 240.0.0.0/4; IPv6 space the IETF has not allocated (::/8, 4000::/3, …) |
//! | `broadcast` | 255.255.255.255 |
//! | `ipv4-compatible` | ::/96, deprecated IPv4-compatible addresses (RFC 4291) |
//! | `discard` | 100::/64, discard-only (RFC 6666) |
//! | `teredo` | 2001::/32 (RFC 4380) |
//! | `orchid` | 2001:10::/28 (deprecated), 2001:20::/28 (ORCHIDv2) |
//! | `drip` | 2001:30::/28, drone remote ID entity tags (RFC 9374) |
//! | `srv6` | 5f00::/16, segment routing SIDs (RFC 9602) |
//! | `unique-local` | fc00::/7 (RFC 4193) |
//! | `site-local` | fec0::/10, deprecated (RFC 3879) |
//!
//! An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 host seen through an IPv6 socket, so it
//! gets its IPv4 address's kind, `global` and description (with ", IPv4-mapped" appended).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The classification of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressKind {
    /// The kind, one of [`Kind::ALL`] (see the module documentation for the ranges).
    pub kind: Kind,
    /// For people: the range and its source, e.g. "private (RFC 1918, 10.0.0.0/8)".
    pub description: String,
    /// Whether the address is globally reachable per the IANA special-purpose registries.
    pub global: bool,
    /// The IPv4 address an IPv6 address carries: for IPv4-mapped (::ffff:a.b.c.d),
    /// IPv4-compatible (::a.b.c.d) and NAT64 well-known-prefix (64:ff9b::a.b.c.d) addresses the
    /// last 32 bits; for 6to4 (2002:AABB:CCDD::/48) the site's IPv4 address; for Teredo
    /// (2001::/32) the client's public IPv4 address (the last 32 bits, inverted).
    pub embedded_v4: Option<Ipv4Addr>,
}

/// What kind of address an IP is: one of a fixed set of short machine names (see the module
/// documentation for the ranges), shown and stored as its [`name`](Kind::name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Public,
    Private,
    Cgnat,
    Loopback,
    LinkLocal,
    ThisNetwork,
    Unspecified,
    IetfProtocol,
    DsLite,
    Dummy,
    Anycast,
    Nat64,
    Documentation,
    As112,
    Amt,
    SixToFour,
    Benchmarking,
    Multicast,
    Reserved,
    Broadcast,
    Ipv4Compatible,
    Discard,
    Teredo,
    Orchid,
    Drip,
    Srv6,
    UniqueLocal,
    SiteLocal,
}

impl Kind {
    /// Every kind [`classify`] can return, for documentation and for tools that validate a filter.
    pub const ALL: [Kind; 28] = [
        Kind::Public,
        Kind::Private,
        Kind::Cgnat,
        Kind::Loopback,
        Kind::LinkLocal,
        Kind::ThisNetwork,
        Kind::Unspecified,
        Kind::IetfProtocol,
        Kind::DsLite,
        Kind::Dummy,
        Kind::Anycast,
        Kind::Nat64,
        Kind::Documentation,
        Kind::As112,
        Kind::Amt,
        Kind::SixToFour,
        Kind::Benchmarking,
        Kind::Multicast,
        Kind::Reserved,
        Kind::Broadcast,
        Kind::Ipv4Compatible,
        Kind::Discard,
        Kind::Teredo,
        Kind::Orchid,
        Kind::Drip,
        Kind::Srv6,
        Kind::UniqueLocal,
        Kind::SiteLocal,
    ];

    /// The short machine name: the `kind` field of whatis-ip, stable for scripts.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Public => "public",
            Kind::Private => "private",
            Kind::Cgnat => "cgnat",
            Kind::Loopback => "loopback",
            Kind::LinkLocal => "link-local",
            Kind::ThisNetwork => "this-network",
            Kind::Unspecified => "unspecified",
            Kind::IetfProtocol => "ietf-protocol",
            Kind::DsLite => "ds-lite",
            Kind::Dummy => "dummy",
            Kind::Anycast => "anycast",
            Kind::Nat64 => "nat64",
            Kind::Documentation => "documentation",
            Kind::As112 => "as112",
            Kind::Amt => "amt",
            Kind::SixToFour => "6to4",
            Kind::Benchmarking => "benchmarking",
            Kind::Multicast => "multicast",
            Kind::Reserved => "reserved",
            Kind::Broadcast => "broadcast",
            Kind::Ipv4Compatible => "ipv4-compatible",
            Kind::Discard => "discard",
            Kind::Teredo => "teredo",
            Kind::Orchid => "orchid",
            Kind::Drip => "drip",
            Kind::Srv6 => "srv6",
            Kind::UniqueLocal => "unique-local",
            Kind::SiteLocal => "site-local",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Kinds compare with their names, so that a test or a filter can say `kind == "private"`.
impl PartialEq<&str> for Kind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// Where an IPv6 range carries an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Embed {
    None,
    /// The last 32 bits (IPv4-compatible, NAT64 /96).
    Last32,
    /// Bits 16..48 (6to4, RFC 3056).
    SixToFour,
    /// The last 32 bits inverted: the Teredo client's public address (RFC 4380 §4).
    TeredoClient,
}

/// One row of the table.
struct Range {
    net: IpNet,
    kind: Kind,
    /// What the range is, for people: "private", "documentation (TEST-NET-1)".
    label: &'static str,
    /// Where it is defined: "RFC 1918".
    source: &'static str,
    global: bool,
    embed: Embed,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len))
}

const fn v6(s: [u16; 8], len: u8) -> IpNet {
    IpNet::V6(Ipv6Net::new_assert(
        Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        len,
    ))
}

const fn row(
    net: IpNet,
    kind: Kind,
    label: &'static str,
    source: &'static str,
    global: bool,
) -> Range {
    Range {
        net,
        kind,
        label,
        source,
        global,
        embed: Embed::None,
    }
}

const fn embedding(mut range: Range, embed: Embed) -> Range {
    range.embed = embed;
    range
}

// A static table scanned in full (about 70 rows): a classification is a few hundred nanoseconds,
// far below anything else whatis-ip does per address, and a flat list is easy to check against
// the registries line by line (which is also why rustfmt keeps out of it: one row, one line).
#[rustfmt::skip]
static RANGES: &[Range] = &[
    // IPv4 Special-Purpose Address Registry.
    row(v4(0, 0, 0, 0, 8), Kind::ThisNetwork, "this network", "RFC 791", false),
    row(v4(0, 0, 0, 0, 32), Kind::Unspecified, "unspecified, this host on this network", "RFC 1122", false),
    row(v4(10, 0, 0, 0, 8), Kind::Private, "private", "RFC 1918", false),
    row(v4(100, 64, 0, 0, 10), Kind::Cgnat, "shared address space, carrier-grade NAT", "RFC 6598", false),
    row(v4(127, 0, 0, 0, 8), Kind::Loopback, "loopback", "RFC 1122", false),
    row(v4(169, 254, 0, 0, 16), Kind::LinkLocal, "link-local", "RFC 3927", false),
    row(v4(172, 16, 0, 0, 12), Kind::Private, "private", "RFC 1918", false),
    row(v4(192, 0, 0, 0, 24), Kind::IetfProtocol, "IETF protocol assignments", "RFC 6890", false),
    row(v4(192, 0, 0, 0, 29), Kind::DsLite, "IPv4 service continuity prefix, DS-Lite", "RFC 7335", false),
    row(v4(192, 0, 0, 8, 32), Kind::Dummy, "IPv4 dummy address", "RFC 7600", false),
    row(v4(192, 0, 0, 9, 32), Kind::Anycast, "Port Control Protocol anycast", "RFC 7723", true),
    row(v4(192, 0, 0, 10, 32), Kind::Anycast, "TURN anycast", "RFC 8155", true),
    row(v4(192, 0, 0, 170, 31), Kind::Nat64, "NAT64/DNS64 discovery", "RFC 8880", false),
    row(v4(192, 0, 2, 0, 24), Kind::Documentation, "documentation, TEST-NET-1", "RFC 5737", false),
    row(v4(192, 31, 196, 0, 24), Kind::As112, "AS112-v4", "RFC 7535", true),
    row(v4(192, 52, 193, 0, 24), Kind::Amt, "automatic multicast tunneling", "RFC 7450", true),
    row(v4(192, 88, 99, 0, 24), Kind::SixToFour, "deprecated 6to4 relay anycast", "RFC 7526", false),
    row(v4(192, 168, 0, 0, 16), Kind::Private, "private", "RFC 1918", false),
    row(v4(192, 175, 48, 0, 24), Kind::As112, "direct delegation AS112 service", "RFC 7534", true),
    row(v4(198, 18, 0, 0, 15), Kind::Benchmarking, "benchmarking", "RFC 2544", false),
    row(v4(198, 51, 100, 0, 24), Kind::Documentation, "documentation, TEST-NET-2", "RFC 5737", false),
    row(v4(203, 0, 113, 0, 24), Kind::Documentation, "documentation, TEST-NET-3", "RFC 5737", false),
    row(v4(240, 0, 0, 0, 4), Kind::Reserved, "reserved for future use", "RFC 1112", false),
    row(v4(255, 255, 255, 255, 32), Kind::Broadcast, "limited broadcast", "RFC 919", false),
    // IPv4 multicast (IANA multicast address space registry); scope decides reachability.
    row(v4(224, 0, 0, 0, 4), Kind::Multicast, "multicast", "RFC 5771", true),
    row(v4(224, 0, 0, 0, 24), Kind::Multicast, "multicast, local network control, link-local scope", "RFC 5771", false),
    row(v4(224, 0, 1, 0, 24), Kind::Multicast, "multicast, internetwork control", "RFC 5771", true),
    row(v4(232, 0, 0, 0, 8), Kind::Multicast, "multicast, source-specific", "RFC 4607", true),
    row(v4(233, 0, 0, 0, 8), Kind::Multicast, "multicast, GLOP", "RFC 3180", true),
    row(v4(239, 0, 0, 0, 8), Kind::Multicast, "multicast, administratively scoped", "RFC 2365", false),
    row(v4(239, 192, 0, 0, 14), Kind::Multicast, "multicast, organization-local scope", "RFC 2365", false),
    row(v4(239, 255, 0, 0, 16), Kind::Multicast, "multicast, local scope", "RFC 2365", false),
    // IPv6 Special-Purpose Address Registry. (::ffff:0:0/96 is handled before the table.)
    row(v6([0, 0, 0, 0, 0, 0, 0, 0], 128), Kind::Unspecified, "unspecified", "RFC 4291", false),
    row(v6([0, 0, 0, 0, 0, 0, 0, 1], 128), Kind::Loopback, "loopback", "RFC 4291", false),
    embedding(
        row(v6([0, 0, 0, 0, 0, 0, 0, 0], 96), Kind::Ipv4Compatible, "IPv4-compatible, deprecated", "RFC 4291", false),
        Embed::Last32,
    ),
    embedding(
        row(v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96), Kind::Nat64, "NAT64 well-known prefix", "RFC 6052", true),
        Embed::Last32,
    ),
    row(v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), Kind::Nat64, "NAT64 local-use prefix", "RFC 8215", false),
    row(v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), Kind::Discard, "discard-only", "RFC 6666", false),
    row(v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), Kind::IetfProtocol, "IETF protocol assignments", "RFC 2928", false),
    embedding(
        row(v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32), Kind::Teredo, "Teredo", "RFC 4380", false),
        Embed::TeredoClient,
    ),
    row(v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128), Kind::Anycast, "Port Control Protocol anycast", "RFC 7723", true),
    row(v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128), Kind::Anycast, "TURN anycast", "RFC 8155", true),
    row(v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128), Kind::Anycast, "DNS-SD service registration protocol anycast", "RFC 9665", true),
    row(v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48), Kind::Benchmarking, "benchmarking", "RFC 5180", false),
    row(v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32), Kind::Amt, "automatic multicast tunneling", "RFC 7450", true),
    row(v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48), Kind::As112, "AS112-v6", "RFC 7535", true),
    row(v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28), Kind::Orchid, "ORCHID, deprecated", "RFC 4843", false),
    row(v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28), Kind::Orchid, "ORCHIDv2", "RFC 7343", true),
    row(v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28), Kind::Drip, "drone remote ID entity tags", "RFC 9374", true),
    row(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), Kind::Documentation, "documentation", "RFC 3849", false),
    embedding(
        row(v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), Kind::SixToFour, "6to4", "RFC 3056", false),
        Embed::SixToFour,
    ),
    row(v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48), Kind::As112, "direct delegation AS112 service", "RFC 7534", true),
    row(v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), Kind::Documentation, "documentation", "RFC 9637", false),
    row(v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), Kind::Srv6, "segment routing (SRv6) SIDs", "RFC 9602", false),
    row(v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), Kind::UniqueLocal, "unique local", "RFC 4193", false),
    row(v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), Kind::LinkLocal, "link-local", "RFC 4291", false),
    // IPv6 address space registry: the rest of the space, so that every address has a row.
    row(v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3), Kind::Public, "public, global unicast", "RFC 4291", true),
    row(v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), Kind::SiteLocal, "site-local, deprecated", "RFC 3879", false),
    row(v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), Kind::Multicast, "multicast", "RFC 4291", false),
    row(v6([0, 0, 0, 0, 0, 0, 0, 0], 8), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x100, 0, 0, 0, 0, 0, 0, 0], 8), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x200, 0, 0, 0, 0, 0, 0, 0], 7), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x400, 0, 0, 0, 0, 0, 0, 0], 6), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x800, 0, 0, 0, 0, 0, 0, 0], 5), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x1000, 0, 0, 0, 0, 0, 0, 0], 4), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x4000, 0, 0, 0, 0, 0, 0, 0], 3), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x6000, 0, 0, 0, 0, 0, 0, 0], 3), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0x8000, 0, 0, 0, 0, 0, 0, 0], 3), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0xa000, 0, 0, 0, 0, 0, 0, 0], 3), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0xc000, 0, 0, 0, 0, 0, 0, 0], 3), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0xe000, 0, 0, 0, 0, 0, 0, 0], 4), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0xf000, 0, 0, 0, 0, 0, 0, 0], 5), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0xf800, 0, 0, 0, 0, 0, 0, 0], 6), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
    row(v6([0xfe00, 0, 0, 0, 0, 0, 0, 0], 9), Kind::Reserved, "reserved by the IETF", "RFC 4291", false),
];

/// Every range the classification table names, in no particular order: for tests that sample
/// each range's edges, and for documentation.
pub fn special_prefixes() -> impl Iterator<Item = IpNet> {
    RANGES.iter().map(|r| r.net)
}

/// Classifies an address (see the module documentation for the kinds and the rules).
pub fn classify(ip: IpAddr) -> AddressKind {
    if let IpAddr::V6(v6) = ip
        && let Some(v4) = v6.to_ipv4_mapped()
    {
        let inner = classify(IpAddr::V4(v4));
        return AddressKind {
            description: format!("{}, IPv4-mapped", inner.description),
            embedded_v4: Some(v4),
            ..inner
        };
    }
    let Some(range) = RANGES
        .iter()
        .filter(|r| r.net.contains(&ip))
        .max_by_key(|r| r.net.prefix_len())
    else {
        // Only IPv4 outside every special range gets here: the IPv6 rows cover all of ::/0.
        return AddressKind {
            kind: Kind::Public,
            description: "public".to_string(),
            global: true,
            embedded_v4: None,
        };
    };
    let IpAddr::V6(v6) = ip else {
        return from_range(range, None);
    };
    if range.kind == Kind::Multicast {
        return multicast_v6(v6);
    }
    let bits = u128::from(v6);
    let embedded = match range.embed {
        Embed::None => None,
        Embed::Last32 => Some(Ipv4Addr::from(bits as u32)),
        Embed::SixToFour => Some(Ipv4Addr::from((bits >> 80) as u32)),
        Embed::TeredoClient => Some(Ipv4Addr::from(!(bits as u32))),
    };
    from_range(range, embedded)
}

fn from_range(range: &Range, embedded_v4: Option<Ipv4Addr>) -> AddressKind {
    AddressKind {
        kind: range.kind,
        description: format!("{} ({}, {})", range.label, range.source, range.net),
        global: range.global,
        embedded_v4,
    }
}

/// IPv6 multicast, named by its scope (RFC 4291 §2.7, RFC 7346): only global scope is global.
fn multicast_v6(ip: Ipv6Addr) -> AddressKind {
    let scope = ip.segments()[0] & 0xf;
    let scope_name = match scope {
        0x1 => "interface-local",
        0x2 => "link-local",
        0x3 => "realm-local",
        0x4 => "admin-local",
        0x5 => "site-local",
        0x8 => "organization-local",
        0xe => "global",
        0x0 | 0xf => "reserved",
        _ => "unassigned",
    };
    // The few groups a sysadmin meets daily in neighbour tables and packet captures.
    let group = match ip.segments() {
        [0xff02, 0, 0, 0, 0, 0, 0, 1] => ", all nodes",
        [0xff02, 0, 0, 0, 0, 0, 0, 2] => ", all routers",
        [0xff02, 0, 0, 0, 0, 1, s6, _] if s6 >> 8 == 0xff => ", solicited-node",
        _ => "",
    };
    AddressKind {
        kind: Kind::Multicast,
        description: format!("multicast, {scope_name} scope{group} (RFC 4291, ff00::/8)"),
        global: scope == 0xe,
        embedded_v4: None,
    }
}

/// The canonical form: IPv4-mapped IPv6 (::ffff:10.0.0.1) becomes the IPv4 address; everything
/// else unchanged. Used so a lookup of ::ffff:10.0.0.1 finds what is stored under 10.0.0.1.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> AddressKind {
        classify(text.parse().unwrap())
    }

    /// (address, kind, global, description fragment)
    fn check(cases: &[(&str, &str, bool, &str)]) {
        for &(addr, want_kind, want_global, fragment) in cases {
            let got = kind(addr);
            // By name, not through `Kind == &str`, which has a test of its own below.
            assert_eq!(got.kind.name(), want_kind, "{addr}: {got:?}");
            assert_eq!(got.global, want_global, "{addr}: {got:?}");
            assert!(
                got.description.contains(fragment),
                "{addr}: {:?} lacks {fragment:?}",
                got.description
            );
            assert!(
                Kind::ALL.contains(&got.kind),
                "{addr}: {} not in Kind::ALL",
                got.kind
            );
        }
    }

    #[test]
    fn the_table_is_well_formed() {
        for r in RANGES {
            assert_eq!(r.net, r.net.trunc(), "{} has host bits set", r.net);
            assert!(Kind::ALL.contains(&r.kind), "{}: {}", r.net, r.kind);
            assert!(r.source.starts_with("RFC "), "{}", r.net);
        }
        for (i, a) in RANGES.iter().enumerate() {
            for b in &RANGES[i + 1..] {
                assert_ne!(a.net, b.net, "{} is listed twice", a.net);
            }
        }
        for k in Kind::ALL {
            let used = RANGES.iter().any(|r| r.kind == k) || k == Kind::Public;
            assert!(used, "{k} is in Kind::ALL but never returned");
        }
    }

    #[test]
    fn ipv4_special_ranges() {
        check(&[
            ("0.0.0.0", "unspecified", false, "(RFC 1122, 0.0.0.0/32)"),
            (
                "0.0.0.1",
                "this-network",
                false,
                "this network (RFC 791, 0.0.0.0/8)",
            ),
            ("0.255.255.255", "this-network", false, "0.0.0.0/8"),
            (
                "10.0.0.0",
                "private",
                false,
                "private (RFC 1918, 10.0.0.0/8)",
            ),
            ("10.255.255.255", "private", false, "10.0.0.0/8"),
            ("100.63.255.255", "public", true, "public"),
            ("100.64.0.0", "cgnat", false, "(RFC 6598, 100.64.0.0/10)"),
            ("100.127.255.255", "cgnat", false, "100.64.0.0/10"),
            ("100.128.0.0", "public", true, "public"),
            (
                "127.0.0.1",
                "loopback",
                false,
                "loopback (RFC 1122, 127.0.0.0/8)",
            ),
            ("127.255.255.255", "loopback", false, "127.0.0.0/8"),
            (
                "169.254.0.1",
                "link-local",
                false,
                "(RFC 3927, 169.254.0.0/16)",
            ),
            ("172.15.255.255", "public", true, "public"),
            ("172.16.0.0", "private", false, "172.16.0.0/12"),
            ("172.31.255.255", "private", false, "172.16.0.0/12"),
            ("172.32.0.0", "public", true, "public"),
            ("192.0.0.0", "ds-lite", false, "(RFC 7335, 192.0.0.0/29)"),
            ("192.0.0.7", "ds-lite", false, "192.0.0.0/29"),
            ("192.0.0.8", "dummy", false, "(RFC 7600, 192.0.0.8/32)"),
            ("192.0.0.9", "anycast", true, "Port Control Protocol"),
            ("192.0.0.10", "anycast", true, "TURN"),
            (
                "192.0.0.11",
                "ietf-protocol",
                false,
                "(RFC 6890, 192.0.0.0/24)",
            ),
            ("192.0.0.170", "nat64", false, "(RFC 8880, 192.0.0.170/31)"),
            ("192.0.0.171", "nat64", false, "192.0.0.170/31"),
            ("192.0.0.255", "ietf-protocol", false, "192.0.0.0/24"),
            (
                "192.0.2.1",
                "documentation",
                false,
                "TEST-NET-1 (RFC 5737, 192.0.2.0/24)",
            ),
            ("192.31.196.1", "as112", true, "(RFC 7535, 192.31.196.0/24)"),
            ("192.52.193.1", "amt", true, "(RFC 7450, 192.52.193.0/24)"),
            (
                "192.88.99.1",
                "6to4",
                false,
                "deprecated 6to4 relay anycast (RFC 7526",
            ),
            ("192.168.0.1", "private", false, "192.168.0.0/16"),
            ("192.169.0.0", "public", true, "public"),
            ("192.175.48.1", "as112", true, "(RFC 7534, 192.175.48.0/24)"),
            ("198.17.255.255", "public", true, "public"),
            (
                "198.18.0.0",
                "benchmarking",
                false,
                "(RFC 2544, 198.18.0.0/15)",
            ),
            ("198.19.255.255", "benchmarking", false, "198.18.0.0/15"),
            ("198.51.100.7", "documentation", false, "TEST-NET-2"),
            ("203.0.113.255", "documentation", false, "TEST-NET-3"),
            ("240.0.0.0", "reserved", false, "(RFC 1112, 240.0.0.0/4)"),
            ("255.255.255.254", "reserved", false, "240.0.0.0/4"),
            (
                "255.255.255.255",
                "broadcast",
                false,
                "limited broadcast (RFC 919",
            ),
            ("8.8.8.8", "public", true, "public"),
        ]);
    }

    #[test]
    fn ipv4_multicast_blocks_and_scopes() {
        check(&[
            (
                "224.0.0.1",
                "multicast",
                false,
                "local network control, link-local scope",
            ),
            ("224.0.0.255", "multicast", false, "224.0.0.0/24"),
            ("224.0.1.1", "multicast", true, "internetwork control"),
            (
                "224.2.0.1",
                "multicast",
                true,
                "multicast (RFC 5771, 224.0.0.0/4)",
            ),
            ("232.1.1.1", "multicast", true, "source-specific (RFC 4607"),
            ("233.1.1.1", "multicast", true, "GLOP"),
            (
                "239.1.1.1",
                "multicast",
                false,
                "administratively scoped (RFC 2365, 239.0.0.0/8)",
            ),
            (
                "239.192.0.1",
                "multicast",
                false,
                "organization-local scope",
            ),
            (
                "239.255.255.250",
                "multicast",
                false,
                "local scope (RFC 2365, 239.255.0.0/16)",
            ),
        ]);
    }

    #[test]
    fn ipv6_special_ranges() {
        check(&[
            ("::", "unspecified", false, "unspecified (RFC 4291, ::/128)"),
            ("::1", "loopback", false, "loopback (RFC 4291, ::1/128)"),
            (
                "::2",
                "ipv4-compatible",
                false,
                "deprecated (RFC 4291, ::/96)",
            ),
            (
                "::1:0:0:0",
                "reserved",
                false,
                "reserved by the IETF (RFC 4291, ::/8)",
            ),
            (
                "64:ff9b::8.8.8.8",
                "nat64",
                true,
                "well-known prefix (RFC 6052, 64:ff9b::/96)",
            ),
            (
                "64:ff9b:1::1",
                "nat64",
                false,
                "local-use prefix (RFC 8215, 64:ff9b:1::/48)",
            ),
            ("100::1", "discard", false, "(RFC 6666, 100::/64)"),
            ("100:0:0:1::", "reserved", false, "100::/8"),
            ("2001::1", "teredo", false, "Teredo (RFC 4380, 2001::/32)"),
            ("2001:1::1", "anycast", true, "Port Control Protocol"),
            ("2001:1::2", "anycast", true, "TURN"),
            ("2001:1::3", "anycast", true, "RFC 9665"),
            ("2001:1::4", "ietf-protocol", false, "(RFC 2928, 2001::/23)"),
            (
                "2001:2::1",
                "benchmarking",
                false,
                "(RFC 5180, 2001:2::/48)",
            ),
            ("2001:2:1::", "ietf-protocol", false, "2001::/23"),
            ("2001:3::1", "amt", true, "2001:3::/32"),
            ("2001:4:112::1", "as112", true, "AS112-v6"),
            (
                "2001:10::1",
                "orchid",
                false,
                "ORCHID, deprecated (RFC 4843",
            ),
            (
                "2001:20::1",
                "orchid",
                true,
                "ORCHIDv2 (RFC 7343, 2001:20::/28)",
            ),
            ("2001:30::1", "drip", true, "(RFC 9374, 2001:30::/28)"),
            ("2001:1ff:ffff::", "ietf-protocol", false, "2001::/23"),
            (
                "2001:200::",
                "public",
                true,
                "global unicast (RFC 4291, 2000::/3)",
            ),
            (
                "2001:db8::1",
                "documentation",
                false,
                "(RFC 3849, 2001:db8::/32)",
            ),
            (
                "2002:c000:204::1",
                "6to4",
                false,
                "6to4 (RFC 3056, 2002::/16)",
            ),
            (
                "2620:4f:8000::1",
                "as112",
                true,
                "(RFC 7534, 2620:4f:8000::/48)",
            ),
            ("3fff::1", "documentation", false, "(RFC 9637, 3fff::/20)"),
            ("3fff:1000::", "public", true, "2000::/3"),
            ("4000::1", "reserved", false, "4000::/3"),
            ("5f00::1", "srv6", false, "(RFC 9602, 5f00::/16)"),
            ("fc00::1", "unique-local", false, "(RFC 4193, fc00::/7)"),
            ("fdff:ffff::1", "unique-local", false, "fc00::/7"),
            ("fe00::1", "reserved", false, "fe00::/9"),
            ("fe80::1", "link-local", false, "(RFC 4291, fe80::/10)"),
            ("febf::1", "link-local", false, "fe80::/10"),
            (
                "fec0::1",
                "site-local",
                false,
                "deprecated (RFC 3879, fec0::/10)",
            ),
            ("2a00:1450::1", "public", true, "public"),
        ]);
    }

    #[test]
    fn ipv6_multicast_is_named_by_scope() {
        check(&[
            ("ff01::1", "multicast", false, "interface-local scope"),
            ("ff02::1", "multicast", false, "link-local scope, all nodes"),
            ("ff02::2", "multicast", false, "all routers"),
            ("ff02::1:ff12:3456", "multicast", false, "solicited-node"),
            // ff02::1:ff00:0/104 only: a neighbour of it is an ordinary link-local group.
            (
                "ff02::1:fe12:3456",
                "multicast",
                false,
                "link-local scope (RFC 4291",
            ),
            ("ff02::3", "multicast", false, "link-local scope (RFC 4291"),
            ("ff03::1", "multicast", false, "realm-local scope"),
            ("ff04::1", "multicast", false, "admin-local scope"),
            ("ff05::1:3", "multicast", false, "site-local scope"),
            ("ff08::1", "multicast", false, "organization-local scope"),
            ("ff0e::1", "multicast", true, "global scope"),
            (
                "ff1e::1",
                "multicast",
                true,
                "global scope (RFC 4291, ff00::/8)",
            ),
            ("ff00::1", "multicast", false, "reserved scope"),
            ("ff06::1", "multicast", false, "unassigned scope"),
        ]);
    }

    #[test]
    fn embedded_ipv4_addresses() {
        let cases = [
            ("::ffff:10.0.0.1", "10.0.0.1"),
            ("::10.0.0.1", "10.0.0.1"),
            ("64:ff9b::192.0.2.33", "192.0.2.33"),
            ("2002:c000:221::1", "192.0.2.33"),
            // RFC 4380 §4's example: client 192.0.2.45 is carried as 3fff:fdd2.
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),
        ];
        for (addr, want) in cases {
            assert_eq!(
                kind(addr).embedded_v4,
                Some(want.parse().unwrap()),
                "{addr}"
            );
        }
        assert_eq!(kind("64:ff9b:1::1").embedded_v4, None);
        assert_eq!(kind("10.0.0.1").embedded_v4, None);
        assert_eq!(kind("2001:db8::1").embedded_v4, None);
    }

    #[test]
    fn ipv4_mapped_addresses_are_classified_by_their_ipv4_address() {
        let got = kind("::ffff:10.0.0.1");
        assert_eq!(got.kind, "private");
        assert!(!got.global);
        assert_eq!(
            got.description,
            "private (RFC 1918, 10.0.0.0/8), IPv4-mapped"
        );
        let got = kind("::ffff:8.8.8.8");
        assert_eq!((got.kind, got.global), (Kind::Public, true));
        assert_eq!(got.description, "public, IPv4-mapped");
        assert_eq!(kind("::ffff:127.0.0.1").kind, "loopback");
        assert_eq!(kind("::ffff:192.0.0.9").kind, "anycast");
    }

    #[test]
    fn canonical_unmaps_ipv4_mapped_addresses_only() {
        for (addr, want) in [
            ("::ffff:10.0.0.1", "10.0.0.1"),
            ("10.0.0.1", "10.0.0.1"),
            ("::10.0.0.1", "::10.0.0.1"),
            ("64:ff9b::10.0.0.1", "64:ff9b::10.0.0.1"),
            ("2001:db8::1", "2001:db8::1"),
        ] {
            let want: IpAddr = want.parse().unwrap();
            assert_eq!(canonical(addr.parse().unwrap()), want, "{addr}");
        }
    }

    #[test]
    fn kinds_compare_with_and_print_as_their_names() {
        assert!(Kind::Private == "private");
        assert!(Kind::Private != "public");
        assert!(Kind::LinkLocal != "link_local");
        assert_eq!(Kind::LinkLocal.to_string(), "link-local");
        assert_eq!(format!("{}", Kind::SixToFour), "6to4");
        for k in Kind::ALL {
            assert!(k == k.name());
            assert_eq!(k.to_string(), k.name());
        }
        // Every name is distinct, so a name says which kind it is.
        let names: std::collections::HashSet<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), Kind::ALL.len());
    }

    #[test]
    fn special_prefixes_name_the_documented_ranges() {
        let all: Vec<IpNet> = special_prefixes().collect();
        for documented in [
            "10.0.0.0/8",
            "100.64.0.0/10",
            "192.168.0.0/16",
            "169.254.0.0/16",
            "198.18.0.0/15",
            "224.0.0.0/4",
            "2001:db8::/32",
            "2002::/16",
            "64:ff9b::/96",
            "fe80::/10",
            "ff00::/8",
        ] {
            let net: IpNet = documented.parse().unwrap();
            assert!(all.contains(&net), "{documented} missing");
        }
        // Special ranges only: never the whole space of either family.
        assert!(all.iter().all(|n| n.prefix_len() > 0), "{all:?}");
    }
}
