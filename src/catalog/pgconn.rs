//! Connecting to a PostgreSQL catalog (provisional: URL form, no TLS; replaced by the full
//! libpq-compatible connection handling).

use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// True when `s` names a PostgreSQL database rather than a file.
pub(crate) fn is_postgres_spec(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Connects; returns the client and the target as messages may show it.
pub(crate) fn connect_catalog(spec: &str) -> Result<(postgres::Client, String)> {
    let mut config = postgres::Config::from_str(spec)
        .map_err(|e| Error::with_source(ErrorKind::Catalog, "catalog: bad connection string", e))?;
    config.connect_timeout(Duration::from_secs(10));
    if config.get_password().is_none()
        && let Ok(pw) = std::env::var("PGPASSWORD")
    {
        config.password(pw);
    }
    let shown = format!(
        "postgres {}",
        config.get_dbname().unwrap_or("(default database)")
    );
    let client = config
        .connect(postgres::NoTls)
        .map_err(|e| Error::with_source(ErrorKind::Catalog, format!("catalog {shown}"), e))?;
    Ok((client, shown))
}

/// Whether the connection string holds a password (provisional).
pub(crate) fn spec_has_password(s: &str) -> bool {
    postgres::Config::from_str(s).is_ok_and(|c| c.get_password().is_some())
}
