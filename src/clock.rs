//! Time as the catalog stores it (Unix seconds) and as people read it (RFC 3339, UTC).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A catalog timestamp as RFC 3339 in UTC (`2026-11-22T03:07:00Z`), sortable and unambiguous.
pub fn format(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

/// A point in time from `--since`: an age (`90s`, `30m`, `12h`, `1d`, `2w`) before `now`, or an
/// RFC 3339 timestamp (`2026-11-21T08:00:00Z`).
pub fn parse_since(text: &str, now: i64) -> crate::error::Result<i64> {
    let bad = || {
        crate::error::Error::usage(format!(
            "bad time {text:?} (expected an age like 30m, 12h, 1d, 2w, or an RFC 3339 timestamp)"
        ))
    };
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(seconds).map(|d| now - d).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::format(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::parse_since("1d", 100_000).unwrap(), 100_000 - 86_400);
        assert_eq!(super::parse_since("30m", 10_000).unwrap(), 10_000 - 1800);
        assert_eq!(super::parse_since("1970-01-01T00:01:00Z", 5).unwrap(), 60);
        for bad in ["", "d", "1y", "-1d", "99999999999999999999w", "yesterday"] {
            assert!(super::parse_since(bad, 0).is_err(), "{bad}");
        }
    }
}
