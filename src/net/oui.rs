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
    for file in ["oui.csv", "mam.csv", "oui36.csv", "iab.csv"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records().flatten() {
            let (Some(assignment), Some(org)) = (record.get(1), record.get(2)) else {
                continue;
            };
            for (mac, h) in &hex {
                if h.starts_with(assignment)
                    && found
                        .get(mac)
                        .is_none_or(|(len, _)| assignment.len() > *len)
                {
                    found.insert(*mac, (assignment.len(), org.trim().to_string()));
                }
            }
        }
    }
    found.into_iter().map(|(m, (_, v))| (m, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_local_macs_have_no_vendor() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("oui.csv"),
            "Registry,Assignment,Organization Name,Organization Address\nMA-L,001B21,Intel Corporate,x\nMA-L,70B3D5,IEEE Registration Authority,x\n",
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
    }
}
