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

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::format(0), "1970-01-01T00:00:00Z");
    }
}
