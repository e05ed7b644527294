//! MAC addresses: a 48-bit value, parsed from any common notation and shown as
//! `aa:bb:cc:dd:ee:ff`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A 48-bit MAC address, shown as `aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// True for 00:00:00:00:00:00, which loopback and tunnels report instead of having no MAC.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for Mac {
    type Err = Error;

    /// Accepts `aa:bb:cc:dd:ee:ff`, `aa-bb-…`, `aabb.ccdd.eeff`, `aabbccddeeff`, any case, and
    /// colon notation with single-digit groups (`0:1b:…`, as some tools print it).
    fn from_str(text: &str) -> Result<Mac> {
        let bad = || Error::usage(format!("malformed MAC address {text:?}"));
        let s = text.trim();
        let groups: Vec<&str> = if s.contains(':') {
            s.split(':').collect()
        } else if s.contains('-') {
            s.split('-').collect()
        } else {
            let hex: String = if s.contains('.') {
                let parts: Vec<&str> = s.split('.').collect();
                if parts.len() != 3 || parts.iter().any(|p| p.len() != 4) {
                    return Err(bad());
                }
                parts.concat()
            } else {
                s.to_string()
            };
            if hex.len() != 12 || !hex.is_ascii() {
                return Err(bad());
            }
            let mut bytes = [0u8; 6];
            for (i, byte) in bytes.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
            }
            return Ok(Mac(bytes));
        };
        if groups.len() != 6 {
            return Err(bad());
        }
        let mut bytes = [0u8; 6];
        for (byte, group) in bytes.iter_mut().zip(&groups) {
            if group.is_empty() || group.len() > 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(group, 16).map_err(|_| bad())?;
        }
        Ok(Mac(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_notation_parses_to_the_same_mac() {
        let want = "aa:bb:cc:0d:ee:ff";
        for text in [
            "aa:bb:cc:0d:ee:ff",
            "AA-BB-CC-0D-EE-FF",
            "aabb.cc0d.eeff",
            "AABBCC0DEEFF",
            "aa:bb:cc:d:ee:ff",
        ] {
            assert_eq!(text.parse::<Mac>().unwrap().to_string(), want, "{text}");
        }
    }

    #[test]
    fn malformed_macs_are_rejected() {
        for text in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "gg:bb:cc:dd:ee:ff",
            "aabb.ccdd",
            "aabbccddeef",
            "aa:bb:cc:ddd:e:f",
            "ééééééééééé",
        ] {
            assert!(text.parse::<Mac>().is_err(), "{text}");
        }
    }
}
