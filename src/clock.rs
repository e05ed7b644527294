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

/// How long ago a timestamp was, roughly, for people (`3m`, `5h`, `2d`).
pub fn age(seconds: i64, now: i64) -> String {
    let d = (now - seconds).max(0);
    match d {
        0..60 => format!("{d}s"),
        60..3600 => format!("{}m", d / 60),
        3600..86400 => format!("{}h", d / 3600),
        _ => format!("{}d", d / 86400),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::format(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::age(100, 100 + 7200), "2h");
    }
}
