//! MAC vendors from the IEEE registry as Debian ships it (package ieee-data):
//! `/usr/share/ieee-data/{oui,mam,oui36,iab}.csv`, MA-L (24-bit), MA-M (28-bit) and MA-S/IAB
//! (36-bit) assignments; the longest matching prefix wins.
//!
//! The files are read once per command, for all the MACs it needs, so a bulk lookup costs one
//! pass over about 3 MB.

use std::collections::HashMap;
use std::path::Path;

use crate::model::Mac;

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
        if hex.len() <= FEW {
            // A few MACs: find each one's line directly (SIMD substring search) instead of
            // parsing 30,000 records; this keeps a single lookup to about a millisecond.
            let needles: Vec<String> = pending
                .iter()
                .map(|(_, h)| format!(",{},", &h[..digits]))
                .collect();
            let Ok(lines) = lines_containing(&dir.join(file), &needles) else {
                continue;
            };
            for ((mac, _), line) in pending.iter().zip(lines) {
                if let Some(org) = line.as_deref().and_then(organization) {
                    record(&mut found, *mac, digits, org);
                }
            }
            continue;
        }
        // The wanted MACs by their prefix of this file's length: each record is one hash
        // lookup, not a comparison with every MAC (30,000 records x thousands of MACs).
        let mut wanted: HashMap<&str, Vec<Mac>> = HashMap::new();
        for (mac, h) in pending {
            wanted.entry(&h[..digits]).or_default().push(*mac);
        }
        // Read through csv's own buffer, not into a copy of the whole file.
        let Ok(mut reader) = csv::Reader::from_path(dir.join(file)) else {
            continue;
        };
        for row in reader.records().flatten() {
            let (Some(assignment), Some(org)) = (row.get(1), row.get(2)) else {
                continue;
            };
            for mac in wanted.get(assignment.trim()).into_iter().flatten() {
                record(&mut found, *mac, digits, org.trim().to_string());
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

/// How much of a registry file [`lines_containing`] reads at a time.
const READ_CHUNK: usize = 128 * 1024;

/// For each needle, the first line of the file at `path` that contains it. The file is read
/// through one small buffer rather than whole: reading the 3 MB MA-L registry into a fresh
/// allocation cost more in page faults than the search itself, a third of a single lookup.
fn lines_containing(path: &Path, needles: &[String]) -> std::io::Result<Vec<Option<Vec<u8>>>> {
    use std::io::Read;
    let finders: Vec<memchr::memmem::Finder<'_>> = needles
        .iter()
        .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
        .collect();
    let mut found: Vec<Option<Vec<u8>>> = vec![None; needles.len()];
    let mut file = std::fs::File::open(path)?;
    // Whole lines only are searched; the unfinished last line waits for the next read.
    let mut buf: Vec<u8> = Vec::with_capacity(2 * READ_CHUNK);
    loop {
        let kept = buf.len();
        buf.resize(kept + READ_CHUNK, 0);
        let n = file.read(&mut buf[kept..])?;
        buf.truncate(kept + n);
        let whole = if n == 0 {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None => continue,
            }
        };
        let lines = &buf[..whole];
        for (finder, slot) in finders.iter().zip(found.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            if let Some(at) = finder.find(lines) {
                let start = memchr::memrchr(b'\n', &lines[..at]).map_or(0, |i| i + 1);
                let end = memchr::memchr(b'\n', &lines[at..]).map_or(lines.len(), |i| at + i);
                *slot = Some(lines[start..end].to_vec());
            }
        }
        if n == 0 || found.iter().all(Option::is_some) {
            return Ok(found);
        }
        buf.drain(..whole);
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
    fn lines_are_found_across_reads_and_at_the_end_without_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("oui.csv");
        // Lines of 40 bytes: the one of vendor 3276 (0CCC) straddles the end of the first
        // read, and the file ends without a newline.
        let mut text = String::new();
        for i in 0..10_000 {
            text.push_str(&format!("MA-L,{i:06X},Vendor number {i:08},x...\n"));
        }
        text.push_str("MA-L,ABCDEF,Last Vendor,x");
        std::fs::write(&path, &text).unwrap();
        let needles: Vec<String> = [",000000,", ",000CCC,", ",00270F,", ",ABCDEF,", ",FFFFFF,"]
            .iter()
            .map(|n| n.to_string())
            .collect();
        let found = lines_containing(&path, &needles).unwrap();
        let found: Vec<Option<String>> = found
            .into_iter()
            .map(|l| l.map(|l| String::from_utf8(l).unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                Some("MA-L,000000,Vendor number 00000000,x...".to_string()),
                Some("MA-L,000CCC,Vendor number 00003276,x...".to_string()),
                Some("MA-L,00270F,Vendor number 00009999,x...".to_string()),
                Some("MA-L,ABCDEF,Last Vendor,x".to_string()),
                None,
            ]
        );
        let straddling = text.find("MA-L,000CCC").unwrap();
        assert!(straddling < READ_CHUNK && straddling + 40 > READ_CHUNK);
    }

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
