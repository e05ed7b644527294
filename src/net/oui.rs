//! MAC vendors from the IEEE registry as Debian ships it (package ieee-data):
//! `/usr/share/ieee-data/{oui,mam,oui36,iab}.csv`, MA-L (24-bit), MA-M (28-bit) and MA-S/IAB
//! (36-bit) assignments; the longest matching prefix wins.
//!
//! The files are read once per command, for all the MACs it needs, so a bulk lookup costs one
//! pass over about 3 MB.

use std::collections::HashMap;
use std::path::Path;

use super::Mac;

/// Where Debian's ieee-data puts the registry.
pub const REGISTRY_DIR: &str = "/usr/share/ieee-data";

/// Vendors for a set of MACs, read from the registry in `dir`. MACs with no entry (or a
/// locally administered address, which no vendor owns) are absent from the result. A missing
/// registry yields an empty map: the vendor is extra information, never a reason to fail.
pub fn vendors(dir: &Path, macs: &[Mac]) -> HashMap<Mac, String> {
    // Wanted prefixes, as the registries write them: 6, 7 and 9 upper-case hex digits.
    let hex: Vec<(Mac, String)> = macs
        .iter()
        .filter(|m| m.0[0] & 0x02 == 0)
        .map(|m| (*m, m.0.iter().map(|b| format!("{b:02X}")).collect()))
        .collect();
    let mut found: HashMap<Mac, (usize, String)> = HashMap::new();
    for (file, digits) in [
        ("oui.csv", 6),
        ("mam.csv", 7),
        ("oui36.csv", 9),
        ("iab.csv", 9),
    ] {
        // The smaller blocks (MA-M, MA-S, IAB) are carved out of MA-L blocks registered to the
        // IEEE Registration Authority: only those MACs need the other files.
        let pending: Vec<&(Mac, String)> = hex
            .iter()
            .filter(|(m, _)| {
                digits == 6
                    || found
                        .get(m)
                        .is_none_or(|(_, org)| org.starts_with("IEEE Registration Authority"))
            })
            .collect();
        if pending.is_empty() {
            continue;
        }
        let Ok(bytes) = std::fs::read(dir.join(file)) else {
            continue;
        };
        if hex.len() <= FEW {
            // A few MACs: find each one's line directly (SIMD substring search) instead of
            // parsing 30,000 records; this keeps a single lookup to about a millisecond.
            for (mac, h) in pending {
                let needle = format!(",{},", &h[..digits]);
                if let Some(at) = memchr::memmem::find(&bytes, needle.as_bytes()) {
                    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
                    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
                    if let Some(org) = organization(&bytes[start..end]) {
                        record(&mut found, *mac, digits, org);
                    }
                }
            }
            continue;
        }
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        for row in reader.records().flatten() {
            let (Some(assignment), Some(org)) = (row.get(1), row.get(2)) else {
                continue;
            };
            for (mac, h) in &hex {
                if h.starts_with(assignment) {
                    record(&mut found, *mac, assignment.len(), org.trim().to_string());
                }
            }
        }
    }
    found.into_iter().map(|(m, (_, v))| (m, v)).collect()
}

/// Up to this many MACs are looked up line by line; more, and the registry is parsed once.
const FEW: usize = 16;

fn record(found: &mut HashMap<Mac, (usize, String)>, mac: Mac, len: usize, org: String) {
    if found.get(&mac).is_none_or(|(l, _)| len > *l) {
        found.insert(mac, (len, org));
    }
}

/// The organization name of one registry line (a CSV record; names with commas are quoted).
fn organization(line: &[u8]) -> Option<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line);
    let row = reader.records().next()?.ok()?;
    row.get(2).map(|o| o.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_local_macs_have_no_vendor() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("oui.csv"),
            "Registry,Assignment,Organization Name,Organization Address\nMA-L,001B21,Intel Corporate,x\nMA-L,70B3D5,\"IEEE Registration Authority, Inc.\",x\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("oui36.csv"),
            "Registry,Assignment,Organization Name,Organization Address\nMA-S,70B3D5123,Some Small Vendor,x\n",
        )
        .unwrap();
        let intel: Mac = "00:1b:21:aa:bb:cc".parse().unwrap();
        let small: Mac = "70:b3:d5:12:3f:00".parse().unwrap();
        let local: Mac = "02:1b:21:aa:bb:cc".parse().unwrap();
        let v = vendors(dir.path(), &[intel, small, local]);
        assert_eq!(v[&intel], "Intel Corporate");
        assert_eq!(v[&small], "Some Small Vendor");
        assert!(!v.contains_key(&local));
        // Many MACs take the one-pass path, with the same answers.
        let mut many: Vec<Mac> = (0..40u8).map(|i| Mac([0x02, 0, 0, 0, 0, i])).collect();
        many.extend([intel, small]);
        let v = vendors(dir.path(), &many);
        assert_eq!(
            (v[&intel].as_str(), v[&small].as_str(), v.len()),
            ("Intel Corporate", "Some Small Vendor", 2)
        );
    }
}
