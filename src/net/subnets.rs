//! The user's subnets file: the prefixes a site uses, with their names, VLANs and sites, so
//! that `whatis-ip` can say which subnets hold an address (most specific first) and a CIDR query
//! can list what lies inside a range. No collector can learn these names; people keep them in a
//! spreadsheet or a file, and this reads either form.
//!
//! CSV (a header row is required; columns in any order, only `prefix` required):
//!
//! ```text
//! prefix,name,vlan,site,description
//! # comment lines and blank lines are skipped
//! 10.20.0.0/16,paris,,PAR,all of Paris
//! 10.20.30.0/24,paris-servers,30,PAR,"racks 1-4, row B"
//! 2001:db8:20::/48,paris-v6,,PAR,
//! ```
//!
//! TOML:
//!
//! ```toml
//! [[subnet]]
//! prefix = "10.20.30.0/24"
//! name = "paris-servers"
//! vlan = 30
//! site = "PAR"
//! description = "racks 1-4, row B"
//! ```
//!
//! The format is chosen by the extension (`.csv`, `.toml`), else by the content. A bare address
//! is read as a one-address prefix (/32, /128). Errors name the file and the line, and refuse
//! what would silently mislead a lookup: a prefix with host bits set (10.0.0.1/24 is either a
//! typo for 10.0.0.0/24 or an interface address pasted in), a VLAN outside 1..4094, a prefix
//! listed twice (which name would win?).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::{IpNet, Ipv4Net};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, ErrorKind, Result};

/// One subnet from the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subnet {
    /// The prefix, without host bits (an IPv4-mapped IPv6 prefix is stored as IPv4).
    pub prefix: IpNet,
    pub name: Option<String>,
    /// 802.1Q VLAN id, 1..4094.
    pub vlan: Option<u16>,
    pub site: Option<String>,
    pub description: Option<String>,
}

/// The subnets of one file, indexed for lookup.
///
/// Containment is a hash probe per distinct prefix length, longest first: a lookup costs one
/// probe for each length the file uses (a handful in practice, at most 33 or 129), whatever the
/// number of subnets, and the answer comes out already most specific first. A sorted list
/// answers the other question, which subnets lie inside a range, with a binary search; hashing
/// cannot answer that one, and a trie would be more code for no gain at a few thousand entries.
#[derive(Debug, Clone, Default)]
pub struct Subnets {
    /// Sorted by (family, network address, prefix length).
    list: Vec<Subnet>,
    v4: Family,
    v6: Family,
}

/// The containment index of one address family.
#[derive(Debug, Clone, Default)]
struct Family {
    /// The prefix lengths in use, longest first.
    lengths: Vec<u8>,
    /// (prefix length, network address) → index into `list`.
    index: HashMap<(u8, u128), usize>,
}

/// The file formats [`Subnets::load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Toml,
}

/// The columns (CSV) and keys (TOML) a subnet has.
const COLUMNS: &[&str] = &["prefix", "name", "vlan", "site", "description"];

/// The default subnets file: `$XDG_CONFIG_HOME/opskit/subnets.toml`, else `subnets.csv` in the
/// same directory, whichever exists first (`None` when neither does).
pub fn default_path() -> Option<PathBuf> {
    let dir = crate::config::xdg_dir("XDG_CONFIG_HOME", ".config")?.join("opskit");
    default_path_in(&dir)
}

fn default_path_in(dir: &Path) -> Option<PathBuf> {
    ["subnets.toml", "subnets.csv"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

impl Subnets {
    /// No subnets: every lookup answers nothing.
    pub fn empty() -> Subnets {
        Subnets::default()
    }

    /// Reads a CSV file (header row required: prefix,name,vlan,site,description — column order
    /// free, only prefix required, unknown columns an error naming them, `#` comment lines and
    /// blank lines allowed) or a TOML file (`[[subnet]]` tables with the same keys), chosen by
    /// extension (.csv / .toml), else by content.
    pub fn load(path: &Path) -> Result<Subnets> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::with_source(ErrorKind::Config, format!("subnets {}", path.display()), e)
        })?;
        Subnets::parse(&text, path)
    }

    /// The subnets whatis-ip uses: `configured` (from `--subnets` or the config's
    /// `[whatis] subnets`; it must exist), else [`default_path`] if it exists, else none.
    pub fn load_configured(configured: Option<&Path>) -> Result<Subnets> {
        match configured.map(Path::to_path_buf).or_else(default_path) {
            Some(path) => Subnets::load(&path),
            None => Ok(Subnets::empty()),
        }
    }

    /// Parses the text of a subnets file read from `path` (whose extension picks the format).
    pub fn parse(text: &str, path: &Path) -> Result<Subnets> {
        let rows = match format_of(path, text) {
            Format::Csv => parse_csv(text, path)?,
            Format::Toml => parse_toml(text, path)?,
        };
        Subnets::build(rows, path)
    }

    /// Every subnet containing `ip`, most specific (longest prefix) first. IPv4-mapped IPv6
    /// addresses match IPv4 subnets.
    pub fn containing(&self, ip: IpAddr) -> Vec<&Subnet> {
        let ip = crate::model::address::canonical(ip);
        let (family, bits, width) = self.family_of(ip);
        family
            .lengths
            .iter()
            .filter_map(|&len| family.index.get(&(len, mask(bits, len, width))))
            .map(|&i| &self.list[i])
            .collect()
    }

    /// Every subnet that overlaps `net` (contains it or lies inside it), most specific first.
    /// An IPv4-mapped IPv6 range (inside ::ffff:0:0/96) is looked up as the IPv4 range it maps.
    pub fn overlapping(&self, net: IpNet) -> Vec<&Subnet> {
        let net = unmap(net.trunc());
        let (family, lo, width) = self.family_of(net.network());
        let len = net.prefix_len();
        // Those that contain it (same length included).
        let mut found: Vec<&Subnet> = family
            .lengths
            .iter()
            .filter(|&&l| l <= len)
            .filter_map(|&l| family.index.get(&(l, mask(lo, l, width))))
            .map(|&i| &self.list[i])
            .collect();
        // Those strictly inside it: their network address lies in [lo, hi] and they are longer.
        let hi = lo | host_bits(len, width);
        let v6 = net.addr().is_ipv6();
        let start = self.list.partition_point(|s| sort_key(s) < (v6, lo, 0));
        found.extend(
            self.list[start..]
                .iter()
                .take_while(|s| {
                    s.prefix.addr().is_ipv6() == v6 && bits_of(s.prefix.network()) <= hi
                })
                .filter(|s| s.prefix.prefix_len() > len),
        );
        found.sort_by_key(|s| (std::cmp::Reverse(s.prefix.prefix_len()), sort_key(s)));
        found
    }

    /// How many subnets the file lists.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when the file lists none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every subnet, IPv4 before IPv6, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Subnet> {
        self.list.iter()
    }

    fn family_of(&self, ip: IpAddr) -> (&Family, u128, u8) {
        match ip {
            IpAddr::V4(_) => (&self.v4, bits_of(ip), 32),
            IpAddr::V6(_) => (&self.v6, bits_of(ip), 128),
        }
    }

    /// Indexes checked rows, refusing a prefix listed twice.
    fn build(mut rows: Vec<(usize, Subnet)>, path: &Path) -> Result<Subnets> {
        rows.sort_by_key(|(line, s)| (sort_key(s), *line));
        let mut subnets = Subnets::empty();
        let mut lines = Vec::with_capacity(rows.len());
        for (line, subnet) in rows {
            let family = match subnet.prefix {
                IpNet::V4(_) => &mut subnets.v4,
                IpNet::V6(_) => &mut subnets.v6,
            };
            let key = (subnet.prefix.prefix_len(), bits_of(subnet.prefix.network()));
            match family.index.entry(key) {
                Entry::Occupied(first) => {
                    return Err(at(
                        path,
                        line,
                        format!(
                            "duplicate prefix {} (first on line {})",
                            subnet.prefix,
                            lines[*first.get()]
                        ),
                    ));
                }
                Entry::Vacant(slot) => {
                    slot.insert(subnets.list.len());
                }
            }
            if !family.lengths.contains(&key.0) {
                family.lengths.push(key.0);
            }
            subnets.list.push(subnet);
            lines.push(line);
        }
        subnets.v4.lengths.sort_unstable_by(|a, b| b.cmp(a));
        subnets.v6.lengths.sort_unstable_by(|a, b| b.cmp(a));
        Ok(subnets)
    }
}

fn sort_key(s: &Subnet) -> (bool, u128, u8) {
    (
        s.prefix.addr().is_ipv6(),
        bits_of(s.prefix.network()),
        s.prefix.prefix_len(),
    )
}

fn bits_of(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The first `len` bits of a `width`-bit address.
fn mask(bits: u128, len: u8, width: u8) -> u128 {
    if len == 0 {
        0
    } else {
        let shift = width - len;
        (bits >> shift) << shift
    }
}

/// The low `width - len` bits set.
fn host_bits(len: u8, width: u8) -> u128 {
    match width - len {
        0 => 0,
        128 => u128::MAX,
        n => (1u128 << n) - 1,
    }
}

/// An IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) as the IPv4 prefix it maps (10.0.0.0/8).
fn unmap(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && let Ok(mapped) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(mapped);
    }
    net
}

/// An error about one line of the file.
fn at(path: &Path, line: usize, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("subnets {} line {line}: {why}", path.display()),
    )
}

/// The extension decides; without a known one, a first line that opens a table or sets a key
/// is TOML, anything else CSV.
fn format_of(path: &Path, text: &str) -> Format {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => return Format::Csv,
        Some("toml") => return Format::Toml,
        _ => {}
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let sets_a_key = first.split_once('=').is_some_and(|(key, _)| {
        let key = key.trim();
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if first.starts_with('[') || sets_a_key {
        Format::Toml
    } else {
        Format::Csv
    }
}

/// One subnet as written, before it is checked.
#[derive(Default)]
struct Raw {
    prefix: String,
    name: Option<String>,
    vlan: Option<i64>,
    site: Option<String>,
    description: Option<String>,
}

/// Checks one subnet as written: the prefix parses and has no host bits, the VLAN is valid.
/// `vlan_line` is where the VLAN was written (TOML keys can sit on other lines than the prefix).
fn check(raw: Raw, path: &Path, line: usize, vlan_line: usize) -> Result<Subnet> {
    let text = raw.prefix.trim();
    let parsed = text
        .parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from));
    let Ok(prefix) = parsed else {
        let why = if text.is_empty() {
            "prefix is empty".to_string()
        } else {
            format!("malformed prefix {text:?} (want ADDRESS/LENGTH, e.g. 10.0.0.0/24)")
        };
        return Err(at(path, line, why));
    };
    if prefix != prefix.trunc() {
        return Err(at(
            path,
            line,
            format!(
                "prefix {prefix} has host bits set: did you mean {}?",
                prefix.trunc()
            ),
        ));
    }
    let vlan = match raw.vlan {
        None => None,
        Some(v @ 1..=4094) => Some(v as u16),
        Some(v) => {
            return Err(at(path, vlan_line, format!("VLAN {v} is outside 1..4094")));
        }
    };
    let text = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Subnet {
        prefix: unmap(prefix),
        name: text(raw.name),
        vlan,
        site: text(raw.site),
        description: text(raw.description),
    })
}

fn parse_csv(text: &str, path: &Path) -> Result<Vec<(usize, Subnet)>> {
    let csv_error = |e: csv::Error| {
        Error::with_source(ErrorKind::Config, format!("subnets {}", path.display()), e)
    };
    // Flexible: a hand-written line may stop after its last non-empty column; too many
    // columns is still refused below.
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(csv_error)?.clone();
    let lines = Lines::new(text);
    let header_line = lines.of_record(header.position());
    if header.iter().all(str::is_empty) {
        return Ok(Vec::new());
    }
    let mut columns = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    for name in header.iter() {
        let lower = name.to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == lower) {
            Some(i) if columns.contains(&Some(i)) => {
                return Err(at(
                    path,
                    header_line,
                    format!("column {name:?} appears twice"),
                ));
            }
            Some(i) => columns.push(Some(i)),
            None => {
                unknown.push(format!("{name:?}"));
                columns.push(None);
            }
        }
    }
    if !columns.contains(&Some(0)) {
        let first = header.get(0).unwrap_or("");
        let why = if first.parse::<IpNet>().is_ok() || first.parse::<IpAddr>().is_ok() {
            format!(
                "no header row: the first line must name the columns, e.g. {}",
                COLUMNS.join(",")
            )
        } else {
            format!(
                "no prefix column (the columns are {}{})",
                COLUMNS.join(", "),
                if unknown.is_empty() {
                    String::new()
                } else {
                    format!("; unknown: {}", unknown.join(", "))
                }
            )
        };
        return Err(at(path, header_line, why));
    }
    if !unknown.is_empty() {
        return Err(at(
            path,
            header_line,
            format!(
                "unknown column{} {} (the columns are {})",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                COLUMNS.join(", ")
            ),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = lines.of_record(record.position());
        // The csv crate skips a comment only at the very start of a line; allow it indented.
        if record.iter().all(str::is_empty) || record.get(0).is_some_and(|f| f.starts_with('#')) {
            continue;
        }
        if record.len() > columns.len() {
            return Err(at(
                path,
                line,
                format!(
                    "{} fields, but the header names {} columns",
                    record.len(),
                    columns.len()
                ),
            ));
        }
        let mut raw = Raw::default();
        for (field, column) in record.iter().zip(&columns) {
            let value = Some(field.to_string());
            match column {
                Some(0) => raw.prefix = field.to_string(),
                Some(1) => raw.name = value,
                Some(2) if !field.is_empty() => {
                    let vlan = field
                        .parse::<i64>()
                        .map_err(|_| at(path, line, format!("VLAN {field:?} is not a number")))?;
                    raw.vlan = Some(vlan);
                }
                Some(3) => raw.site = value,
                Some(4) => raw.description = value,
                _ => {}
            }
        }
        rows.push((line, check(raw, path, line, line)?));
    }
    Ok(rows)
}

/// Line numbers of byte offsets, by binary search over the newlines: counting from the start
/// for every record would make a file of thousands of subnets load in quadratic time.
struct Lines<'a> {
    text: &'a str,
    newlines: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let newlines = text.match_indices('\n').map(|(i, _)| i).collect();
        Lines { text, newlines }
    }

    /// The line (from 1) holding byte `offset`.
    fn of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }

    /// The line a CSV record starts on. The csv crate's position is where it began reading,
    /// before the comment and blank lines it skipped, and its own line count misses some of
    /// those; so skip them here, as it did, from that byte on.
    fn of_record(&self, position: Option<&csv::Position>) -> usize {
        let mut offset = position.map_or(0, |p| p.byte() as usize);
        while let Some(rest) = self.text.get(offset..).filter(|r| !r.is_empty()) {
            let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = &rest[..end];
            if !(line.trim_end_matches(['\r', '\n']).is_empty() || line.starts_with('#')) {
                break;
            }
            offset += end;
        }
        self.of(offset)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    subnet: Vec<TomlSubnet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlSubnet {
    prefix: Spanned<String>,
    name: Option<String>,
    vlan: Option<Spanned<i64>>,
    site: Option<String>,
    description: Option<String>,
}

fn parse_toml(text: &str, path: &Path) -> Result<Vec<(usize, Subnet)>> {
    let file: TomlFile = toml::from_str(text).map_err(|e| {
        Error::with_source(ErrorKind::Config, format!("subnets {}", path.display()), e)
    })?;
    let lines = Lines::new(text);
    let mut rows = Vec::with_capacity(file.subnet.len());
    for entry in file.subnet {
        let line = lines.of(entry.prefix.span().start);
        let vlan_line = entry
            .vlan
            .as_ref()
            .map_or(line, |v| lines.of(v.span().start));
        let raw = Raw {
            prefix: entry.prefix.into_inner(),
            name: entry.name,
            vlan: entry.vlan.map(Spanned::into_inner),
            site: entry.site,
            description: entry.description,
        };
        rows.push((line, check(raw, path, line, vlan_line)?));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Subnets> {
        Subnets::parse(text, Path::new("subnets.csv"))
    }

    fn toml(text: &str) -> Result<Subnets> {
        Subnets::parse(text, Path::new("subnets.toml"))
    }

    fn err(result: Result<Subnets>) -> String {
        let e = result.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        e.to_string()
    }

    fn prefixes(found: Vec<&Subnet>) -> Vec<String> {
        found.iter().map(|s| s.prefix.to_string()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    const SAMPLE_CSV: &str = "\
# Paris
site,prefix,vlan,name,description

PAR,10.20.0.0/16,,paris,all of Paris
  # indented comment
PAR,10.20.30.0/24,30,paris-servers,\"racks 1-4, row B\"
PAR,10.20.30.128/25,31
PAR,2001:db8:20::/48,,paris-v6,
,192.0.2.7,,one host,
";

    #[test]
    fn csv_columns_in_any_order_with_comments_and_blank_lines() {
        let subnets = csv(SAMPLE_CSV).unwrap();
        assert_eq!(subnets.len(), 5);
        let servers = subnets.containing(ip("10.20.30.5"))[0];
        assert_eq!(
            servers,
            &Subnet {
                prefix: net("10.20.30.0/24"),
                name: Some("paris-servers".into()),
                vlan: Some(30),
                site: Some("PAR".into()),
                description: Some("racks 1-4, row B".into()),
            }
        );
        let short = subnets.containing(ip("10.20.30.200"))[0];
        assert_eq!(short.prefix, net("10.20.30.128/25"));
        assert_eq!((short.vlan, short.name.as_deref()), (Some(31), None));
        assert_eq!(
            prefixes(subnets.containing(ip("192.0.2.7"))),
            ["192.0.2.7/32"]
        );
    }

    #[test]
    fn csv_with_only_a_prefix_column_and_a_byte_order_mark() {
        let subnets = csv("\u{feff}Prefix\n10.0.0.0/8\n").unwrap();
        assert_eq!(subnets.len(), 1);
        assert!(csv("").unwrap().is_empty());
        assert!(csv("prefix,name\n").unwrap().is_empty());
    }

    #[test]
    fn csv_header_problems_are_named() {
        let e = err(csv("prefix,name,vlna,owner\n10.0.0.0/8,a,1,b\n"));
        assert!(
            e.contains("subnets.csv line 1: unknown columns \"vlna\", \"owner\""),
            "{e}"
        );
        let e = err(csv("# no header\n10.0.0.0/8,office\n"));
        assert!(e.contains("line 2: no header row"), "{e}");
        let e = err(csv("name,site\noffice,PAR\n"));
        assert!(e.contains("line 1: no prefix column"), "{e}");
        let e = err(csv("prefix,name,prefix\n"));
        assert!(e.contains("\"prefix\" appears twice"), "{e}");
        let e = err(csv("prefix,name\n10.0.0.0/8,a,b\n"));
        assert!(
            e.contains("line 2: 3 fields, but the header names 2"),
            "{e}"
        );
    }

    #[test]
    fn toml_subnets() {
        let text = "\
[[subnet]]
prefix = \"10.20.30.0/24\"
name = \"paris-servers\"
vlan = 30
site = \"PAR\"
description = \"racks 1-4, row B\"

[[subnet]]
prefix = \"2001:db8:20::/48\"
";
        let subnets = toml(text).unwrap();
        assert_eq!(subnets.len(), 2);
        let found = subnets.containing(ip("10.20.30.1"));
        assert_eq!(found[0].vlan, Some(30));
        assert_eq!(found[0].description.as_deref(), Some("racks 1-4, row B"));
        let found = subnets.containing(ip("2001:db8:20::1"));
        assert_eq!((found[0].name.as_ref(), found[0].vlan), (None, None));
        assert!(toml("").unwrap().is_empty());
        let e = err(toml("[[subnet]]\nprefix = \"10.0.0.0/8\"\nvlam = 3\n"));
        assert!(e.contains("subnets.toml") && e.contains("vlam"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        let e = err(toml("[[subnet]]\nname = \"x\"\n"));
        assert!(e.contains("prefix"), "{e}");
    }

    #[test]
    fn the_format_follows_the_extension_else_the_content() {
        let toml_text = "# mine\n[[subnet]]\nprefix = \"10.0.0.0/8\"\n";
        let csv_text = "prefix,name\n10.0.0.0/8,a\n";
        assert_eq!(format_of(Path::new("s.TOML"), csv_text), Format::Toml);
        assert_eq!(format_of(Path::new("s.csv"), toml_text), Format::Csv);
        assert_eq!(format_of(Path::new("subnets"), toml_text), Format::Toml);
        assert_eq!(format_of(Path::new("subnets.txt"), csv_text), Format::Csv);
        assert_eq!(
            format_of(Path::new("s"), "subnet = []\n"),
            Format::Toml,
            "a key at the top"
        );
        // A bare TOML key is letters, digits, `_` and `-`; a first line with `=` whose left
        // side is anything else (a CSV header with an `=` in a column name) is CSV.
        for (first, format) in [
            ("site_name = 1", Format::Toml),
            ("site-name = 1", Format::Toml),
            ("Site2=1", Format::Toml),
            ("prefix,note=x", Format::Csv),
            ("two words = 1", Format::Csv),
            (" = 1", Format::Csv),
        ] {
            assert_eq!(format_of(Path::new("s"), first), format, "{first:?}");
        }
        assert_eq!(Subnets::parse(toml_text, Path::new("s")).unwrap().len(), 1);
        assert_eq!(Subnets::parse(csv_text, Path::new("s")).unwrap().len(), 1);
    }

    #[test]
    fn csv_line_numbers_count_comment_and_blank_lines() {
        let text = "# c\n\nprefix,name\n# c2\n\n10.0.0.0/8,a\n\n  \n10.0.0.1,\"x\ny\"\n\r\n10.1.0.0/33,b\n";
        let e = err(csv(text));
        assert!(
            e.contains("line 12: malformed prefix \"10.1.0.0/33\""),
            "{e}"
        );
        let e = err(csv("# c\n\nprefix,nmae\n"));
        assert!(e.contains("line 3: unknown column \"nmae\""), "{e}");
    }

    #[test]
    fn malformed_prefixes_name_the_line() {
        let e = err(csv("prefix,name\n10.0.0.0/8,a\n10.0.0/24,b\n"));
        assert!(
            e.contains("subnets.csv line 3: malformed prefix \"10.0.0/24\""),
            "{e}"
        );
        let e = err(csv("prefix,name\n10.0.0.0/33,a\n"));
        assert!(e.contains("line 2: malformed prefix"), "{e}");
        let e = err(csv("prefix,name\n,a\n"));
        assert!(e.contains("line 2: prefix is empty"), "{e}");
        let e = err(toml(
            "\n[[subnet]]\nname = \"a\"\nprefix = \"fe80::/129\"\n",
        ));
        assert!(e.contains("subnets.toml line 4: malformed prefix"), "{e}");
    }

    #[test]
    fn host_bits_are_refused_with_the_network_suggested() {
        let e = err(csv("prefix\n10.0.0.0/8\n10.0.0.1/24\n"));
        assert!(
            e.contains("line 3: prefix 10.0.0.1/24 has host bits set: did you mean 10.0.0.0/24?"),
            "{e}"
        );
        let e = err(toml("[[subnet]]\nprefix = \"2001:db8::1/64\"\n"));
        assert!(
            e.contains(
                "line 2: prefix 2001:db8::1/64 has host bits set: did you mean 2001:db8::/64?"
            ),
            "{e}"
        );
    }

    #[test]
    fn vlans_outside_1_to_4094_are_refused() {
        for (vlan, why) in [
            ("0", "VLAN 0 is outside 1..4094"),
            ("4095", "VLAN 4095 is outside 1..4094"),
            ("-3", "VLAN -3 is outside"),
            ("70000", "VLAN 70000 is outside"),
            ("ten", "VLAN \"ten\" is not a number"),
        ] {
            let e = err(csv(&format!(
                "prefix,vlan\n10.0.0.0/8,1\n10.1.0.0/16,{vlan}\n"
            )));
            assert!(e.contains(&format!("line 3: {why}")), "{vlan}: {e}");
        }
        assert!(csv("prefix,vlan\n10.0.0.0/8,4094\n10.1.0.0/16,1\n").is_ok());
        let e = err(toml("[[subnet]]\nprefix = \"10.0.0.0/8\"\n\nvlan = 4095\n"));
        assert!(e.contains("line 4: VLAN 4095 is outside 1..4094"), "{e}");
        let e = err(toml("[[subnet]]\nprefix = \"10.0.0.0/8\"\nvlan = \"30\"\n"));
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn duplicate_prefixes_name_both_lines() {
        let e = err(csv(
            "prefix,name\n10.0.0.0/8,a\n10.1.0.0/16,b\n10.0.0.0/8,c\n",
        ));
        assert!(
            e.contains("line 4: duplicate prefix 10.0.0.0/8 (first on line 2)"),
            "{e}"
        );
        // Duplicates after normalisation: the mapped form of an IPv4 prefix, and a bare host.
        let e = err(csv("prefix\n::ffff:10.0.0.0/104\n10.0.0.0/8\n"));
        assert!(
            e.contains("line 3: duplicate prefix 10.0.0.0/8 (first on line 2)"),
            "{e}"
        );
        let e = err(toml(
            "[[subnet]]\nprefix = \"10.0.0.1\"\n[[subnet]]\nprefix = \"10.0.0.1/32\"\n",
        ));
        assert!(
            e.contains("line 4: duplicate prefix 10.0.0.1/32 (first on line 2)"),
            "{e}"
        );
        assert!(csv("prefix\n10.0.0.0/8\n10.0.0.0/9\n::/0\n0.0.0.0/0\n").is_ok());
    }

    #[test]
    fn containing_is_most_specific_first() {
        let subnets = csv("prefix,name\n0.0.0.0/0,all\n10.0.0.0/8,a\n10.1.2.0/24,c\n10.1.0.0/16,b\n10.1.2.3/32,d\n10.2.0.0/16,x\n").unwrap();
        assert_eq!(
            prefixes(subnets.containing(ip("10.1.2.3"))),
            [
                "10.1.2.3/32",
                "10.1.2.0/24",
                "10.1.0.0/16",
                "10.0.0.0/8",
                "0.0.0.0/0"
            ]
        );
        assert_eq!(
            prefixes(subnets.containing(ip("10.1.2.4"))),
            ["10.1.2.0/24", "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0"]
        );
        assert_eq!(prefixes(subnets.containing(ip("192.0.2.1"))), ["0.0.0.0/0"]);
        assert!(subnets.containing(ip("2001:db8::1")).is_empty());
        assert!(Subnets::empty().containing(ip("10.0.0.1")).is_empty());
    }

    #[test]
    fn ipv4_mapped_addresses_match_ipv4_subnets() {
        let subnets = csv("prefix\n10.0.0.0/8\n10.1.0.0/16\n::/0\n").unwrap();
        assert_eq!(
            prefixes(subnets.containing(ip("::ffff:10.1.0.1"))),
            ["10.1.0.0/16", "10.0.0.0/8"]
        );
        assert_eq!(
            prefixes(subnets.overlapping(net("::ffff:10.0.0.0/104"))),
            ["10.1.0.0/16", "10.0.0.0/8"]
        );
        assert_eq!(prefixes(subnets.containing(ip("::10.1.0.1"))), ["::/0"]);
    }

    #[test]
    fn ipv6_containment() {
        let subnets = csv("prefix,name\n2001:db8::/32,doc\n2001:db8:20::/48,paris\n2001:db8:20:30::/64,servers\nfe80::/10,ll\n").unwrap();
        assert_eq!(
            prefixes(subnets.containing(ip("2001:db8:20:30::1"))),
            ["2001:db8:20:30::/64", "2001:db8:20::/48", "2001:db8::/32"]
        );
        assert_eq!(
            prefixes(subnets.containing(ip("2001:db8:21::1"))),
            ["2001:db8::/32"]
        );
        assert!(subnets.containing(ip("10.0.0.1")).is_empty());
    }

    #[test]
    fn overlapping_lists_what_contains_and_what_lies_inside() {
        let subnets = csv("prefix\n10.0.0.0/8\n10.1.0.0/16\n10.1.2.0/24\n10.1.3.0/24\n10.1.3.128/25\n10.2.0.0/16\n11.0.0.0/8\n10.1.255.255/32\n2001:db8::/32\n2001:db8:1::/48\n2001:db8:1:2::/64\n2001:db9::/32\n").unwrap();
        assert_eq!(
            prefixes(subnets.overlapping(net("10.1.0.0/16"))),
            [
                "10.1.255.255/32",
                "10.1.3.128/25",
                "10.1.2.0/24",
                "10.1.3.0/24",
                "10.1.0.0/16",
                "10.0.0.0/8"
            ]
        );
        assert_eq!(
            prefixes(subnets.overlapping(net("10.1.3.0/26"))),
            ["10.1.3.0/24", "10.1.0.0/16", "10.0.0.0/8"]
        );
        assert_eq!(
            prefixes(subnets.overlapping(net("10.1.3.0/24"))),
            ["10.1.3.128/25", "10.1.3.0/24", "10.1.0.0/16", "10.0.0.0/8"]
        );
        // Host bits in the query are ignored: the range is what matters.
        assert_eq!(
            prefixes(subnets.overlapping(net("10.1.3.7/24"))),
            prefixes(subnets.overlapping(net("10.1.3.0/24")))
        );
        assert_eq!(subnets.overlapping(net("0.0.0.0/0")).len(), 8);
        assert!(subnets.overlapping(net("12.0.0.0/8")).is_empty());
        assert_eq!(
            prefixes(subnets.overlapping(net("2001:db8:1::/56"))),
            ["2001:db8:1:2::/64", "2001:db8:1::/48", "2001:db8::/32"]
        );
        assert_eq!(subnets.overlapping(net("::/0")).len(), 4);
        assert_eq!(
            prefixes(subnets.overlapping(net("2001:db8::/31"))),
            [
                "2001:db8:1:2::/64",
                "2001:db8:1::/48",
                "2001:db8::/32",
                "2001:db9::/32"
            ]
        );
    }

    #[test]
    fn lookups_agree_with_a_linear_scan() {
        // Every /24 and /16 around a few addresses, plus /32s: the indexed answers must be the
        // brute-force answers, in order.
        let mut text = String::from("prefix\n");
        for a in 0..4u8 {
            text.push_str(&format!("10.{a}.0.0/16\n"));
            for b in (0..=255u8).step_by(17) {
                text.push_str(&format!("10.{a}.{b}.0/24\n10.{a}.{b}.{b}/32\n"));
            }
        }
        let subnets = csv(&text).unwrap();
        for q in [
            "10.1.17.17",
            "10.1.17.1",
            "10.3.255.255",
            "10.4.0.0",
            "9.9.9.9",
        ] {
            let q = ip(q);
            let mut want: Vec<&Subnet> = subnets.iter().filter(|s| s.prefix.contains(&q)).collect();
            want.sort_by_key(|s| std::cmp::Reverse(s.prefix.prefix_len()));
            assert_eq!(subnets.containing(q), want, "{q}");
        }
        for q in [
            "10.1.0.0/16",
            "10.1.16.0/20",
            "10.0.0.0/14",
            "10.1.17.17/32",
        ] {
            let q = net(q);
            let mut want: Vec<&Subnet> = subnets
                .iter()
                .filter(|s| s.prefix.contains(&q) || q.contains(&s.prefix))
                .collect();
            want.sort_by_key(|s| (std::cmp::Reverse(s.prefix.prefix_len()), sort_key(s)));
            assert_eq!(subnets.overlapping(q), want, "{q}");
        }
    }

    #[test]
    fn subnets_serialize_with_the_prefix_as_text() {
        let subnets = csv("prefix,vlan\n10.0.0.0/8,7\n").unwrap();
        let json = serde_json::to_string(subnets.iter().next().unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"prefix":"10.0.0.0/8","name":null,"vlan":7,"site":null,"description":null}"#
        );
    }

    #[test]
    fn load_reads_a_file_and_names_it_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(default_path_in(dir.path()), None);
        std::fs::write(dir.path().join("subnets.csv"), "prefix\n10.0.0.0/8\n").unwrap();
        assert_eq!(
            default_path_in(dir.path()),
            Some(dir.path().join("subnets.csv"))
        );
        std::fs::write(
            dir.path().join("subnets.toml"),
            "[[subnet]]\nprefix = \"::/0\"\n",
        )
        .unwrap();
        let path = default_path_in(dir.path()).unwrap();
        assert_eq!(path, dir.path().join("subnets.toml"), "TOML wins");
        let loaded = Subnets::load(&path).unwrap();
        assert_eq!(loaded.len(), 1);
        assert!(!loaded.is_empty());
        assert!(Subnets::empty().is_empty());
        let missing = dir.path().join("nope.csv");
        let e = Subnets::load(&missing).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("nope.csv"), "{e}");
        assert!(Subnets::load_configured(Some(&missing)).is_err());
    }

    #[test]
    fn the_default_file_is_found_under_the_config_directory() {
        // Run again as a child with XDG_CONFIG_HOME set: the environment is per process.
        const EXPECT: &str = "OPSKIT_TEST_DEFAULT_SUBNETS";
        if let Some(expected) = std::env::var_os(EXPECT) {
            assert_eq!(default_path(), Some(PathBuf::from(expected)));
            assert_eq!(Subnets::load_configured(None).unwrap().len(), 2);
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("opskit")).unwrap();
        let file = dir.path().join("opskit").join("subnets.csv");
        std::fs::write(&file, "prefix,name\n10.0.0.0/8,a\n10.1.0.0/16,b\n").unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "net::subnets::tests::the_default_file_is_found_under_the_config_directory",
            ])
            .env("XDG_CONFIG_HOME", dir.path())
            .env(EXPECT, &file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}
