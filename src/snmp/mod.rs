//! SNMP: turning configuration into a client, and walking tables into plain rows.
//!
//! Built on async-snmp (GETBULK walks with timeouts and retries, request ids that ignore late
//! replies, OID-ordering checks that stop a looping agent, and many agents on one UDP socket).
//! Peers are hostile: an answer is accepted only from the address it was asked of, walks are
//! capped at [`MAX_ROWS`] rows per table, and every value a device sends counts against its
//! [`Budget`] (a cap per value and a cap per device), so that a broken or malicious agent
//! cannot make the crawler grow without bound.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_snmp::transport::{UdpHandle, UdpTransport};
use async_snmp::{
    Auth, AuthProtocol, Client, Oid, OidOrdering, PrivProtocol, Retry, UsmConfig, Value,
    WalkMethod, WalkOptions,
};

use crate::config::SnmpConfig;
use crate::error::{Error, ErrorKind, Result};

pub mod des;

pub use async_snmp::DesSaltState;

/// The most rows one table walk returns; a real forwarding table stays far below it.
pub const MAX_ROWS: usize = 1_000_000;

/// The longest value kept: a longer one is cut to its first `MAX_VALUE_BYTES` bytes. No
/// interface name, description or neighbour's system description comes near it; a value that
/// does is an agent filling memory and the catalog, and what it said first is what matters.
pub const MAX_VALUE_BYTES: usize = 4096;

/// The most value bytes one device may send in one crawl (each value counted after
/// [`MAX_VALUE_BYTES`] applies, with its index): beyond it the device fails and nothing of it
/// is stored. 200,000 ports with every column filled stay below a fifth of it.
pub const MAX_DEVICE_BYTES: usize = 64 << 20;

/// How long one device's whole crawl may take unless `[snmp] deadline` says otherwise: a device
/// that never finishes fails alone and frees its slot for the others.
pub const DEFAULT_DEADLINE_SECS: f64 = 600.0;

/// What one device may still send: every walk of the device draws from it.
#[derive(Debug)]
pub struct Budget {
    max_total: usize,
    used: AtomicUsize,
    cut: AtomicUsize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::new(MAX_DEVICE_BYTES)
    }
}

impl Budget {
    pub fn new(max_total: usize) -> Budget {
        Budget {
            max_total,
            used: AtomicUsize::new(0),
            cut: AtomicUsize::new(0),
        }
    }

    /// How many values were cut to [`MAX_VALUE_BYTES`].
    pub fn values_cut(&self) -> usize {
        self.cut.load(Ordering::Relaxed)
    }

    /// Cuts an over-long value and charges the row; an error once the device is over budget.
    fn charge(&self, column: &[u32], row: &mut Row) -> Result<()> {
        let cut = |b: &[u8]| b[..MAX_VALUE_BYTES].to_vec().into();
        match &mut row.value {
            Value::OctetString(b) if b.len() > MAX_VALUE_BYTES => {
                // A copy, not a slice: a slice would keep the whole datagram alive.
                *b = cut(b);
                self.cut.fetch_add(1, Ordering::Relaxed);
            }
            Value::Opaque(b) if b.len() > MAX_VALUE_BYTES => {
                *b = cut(b);
                self.cut.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        let size = match &row.value {
            Value::OctetString(b) | Value::Opaque(b) => b.len(),
            Value::ObjectIdentifier(o) => 4 * o.arcs().len(),
            _ => 8,
        } + 4 * row.index.len();
        let used = self.used.fetch_add(size, Ordering::Relaxed) + size;
        if used > self.max_total {
            return Err(Error::new(
                ErrorKind::Source,
                format!(
                    "walking {}: refused: more than {} MiB of values from one device",
                    dotted(column),
                    self.max_total >> 20
                ),
            ));
        }
        Ok(())
    }
}

/// The per-device deadline of these settings: `[snmp] deadline` seconds, else
/// [`DEFAULT_DEADLINE_SECS`]; anything but a positive finite number is a configuration error.
pub fn deadline(settings: &SnmpConfig) -> Result<Duration> {
    match settings.deadline {
        None => Ok(Duration::from_secs_f64(DEFAULT_DEADLINE_SECS)),
        Some(d) if d.is_finite() && d > 0.0 && d <= 86_400.0 => Ok(Duration::from_secs_f64(d)),
        Some(d) => Err(Error::new(
            ErrorKind::Config,
            format!("bad SNMP deadline {d} (expected seconds, more than 0 and at most 86400)"),
        )),
    }
}

/// A client bound to the shared socket, speaking to one agent.
pub type SnmpClient = Client<UdpHandle>;

/// One row of a walked column: the index (the OID arcs after the column's OID) and the value.
#[derive(Debug, Clone)]
pub struct Row {
    pub index: Vec<u32>,
    pub value: Value,
}

/// Resolves `host[:port]` (IPv6 as `[addr]:port`) to a socket address, port 161 by default.
pub fn resolve_address(text: &str) -> Result<SocketAddr> {
    let bad = |why: String| Error::usage(format!("bad switch address {text:?}: {why}"));
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, 161));
    }
    let with_port = if text
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        text.to_string()
    } else {
        format!("{text}:161")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("no address".into()))
}

/// Builds async-snmp's authentication from merged settings. A v1/v2c community with no value
/// anywhere falls back to `$OPSKIT_SNMP_COMMUNITY`, then `public`, as net-snmp tools do.
pub fn auth(settings: &SnmpConfig) -> Result<Auth> {
    let version = settings.version.as_deref().unwrap_or("2c");
    let community = || {
        settings
            .community
            .clone()
            .or_else(|| std::env::var("OPSKIT_SNMP_COMMUNITY").ok())
            .unwrap_or_else(|| "public".to_string())
    };
    match version {
        "1" | "v1" => Ok(Auth::v1(community())),
        "2" | "2c" | "v2c" => Ok(Auth::v2c(community())),
        "3" | "v3" => usm(settings).map(Auth::from),
        other => Err(Error::new(
            ErrorKind::Config,
            format!("unknown SNMP version {other:?} (expected 1, 2c or 3)"),
        )),
    }
}

fn usm(settings: &SnmpConfig) -> Result<UsmConfig> {
    let config_err = |msg: String| Error::new(ErrorKind::Config, msg);
    let user = settings
        .user
        .clone()
        .ok_or_else(|| config_err("SNMPv3 needs a user".into()))?;
    let mut usm = UsmConfig::new(user);
    let auth_protocol = match settings
        .auth_protocol
        .as_deref()
        .map(str::to_ascii_lowercase)
    {
        None => None,
        Some(p) => Some(match p.as_str() {
            "md5" => AuthProtocol::Md5,
            "sha" | "sha1" => AuthProtocol::Sha1,
            "sha224" => AuthProtocol::Sha224,
            "sha256" => AuthProtocol::Sha256,
            "sha384" => AuthProtocol::Sha384,
            "sha512" => AuthProtocol::Sha512,
            other => {
                return Err(config_err(format!(
                    "unknown SNMPv3 auth protocol {other:?}"
                )));
            }
        }),
    };
    let priv_protocol = priv_protocol(settings)?;
    let crypto = |e| Error::with_source(ErrorKind::Config, "SNMPv3 keys", e);
    usm = match (auth_protocol, priv_protocol) {
        (None, None) => usm,
        (Some(a), None) => {
            let key = settings
                .auth_key
                .as_deref()
                .ok_or_else(|| config_err("SNMPv3 auth_protocol needs auth_key".into()))?;
            usm.auth(a, key).map_err(crypto)?
        }
        (Some(a), Some(p)) => {
            let (Some(ak), Some(pk)) = (settings.auth_key.as_deref(), settings.priv_key.as_deref())
            else {
                return Err(config_err(
                    "SNMPv3 authPriv needs auth_key and priv_key".into(),
                ));
            };
            usm.auth_priv(a, ak, p, pk).map_err(crypto)?
        }
        (None, Some(_)) => {
            return Err(config_err("SNMPv3 privacy needs authentication too".into()));
        }
    };
    if let Some(context) = &settings.context {
        usm = usm.context_name(context.clone().into_bytes());
    }
    Ok(usm)
}

/// The configured privacy protocol, by net-snmp's names: `des`, `aes` (`aes128`), `aes192` and
/// `aes256` (key extension as net-snmp's AES-192/AES-256, Blumenthal's draft), `aes192c` and
/// `aes256c` (Cisco's key extension, Reeder's draft).
fn priv_protocol(settings: &SnmpConfig) -> Result<Option<PrivProtocol>> {
    let Some(name) = settings.priv_protocol.as_deref() else {
        return Ok(None);
    };
    Ok(Some(
        match name.to_ascii_lowercase().replace('-', "").as_str() {
            "des" => PrivProtocol::Des,
            "aes" | "aes128" => PrivProtocol::Aes128,
            "aes192" => PrivProtocol::Aes192Blumenthal,
            "aes256" => PrivProtocol::Aes256Blumenthal,
            "aes192c" | "aes192cisco" => PrivProtocol::Aes192Reeder,
            "aes256c" | "aes256cisco" => PrivProtocol::Aes256Reeder,
            _ => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "unknown SNMPv3 privacy protocol {name:?} \
                         (expected des, aes, aes192, aes256, aes192c or aes256c)"
                    ),
                ));
            }
        },
    ))
}

/// Whether these settings encrypt with DES, which needs this run's [`DesSaltState`].
pub fn uses_des(settings: &SnmpConfig) -> bool {
    matches!(settings.version.as_deref(), Some("3" | "v3"))
        && matches!(priv_protocol(settings), Ok(Some(PrivProtocol::Des)))
}

/// The settings that reach one VLAN's bridge instance on a Cisco-style agent: community
/// `COMMUNITY@VLAN` for v1/v2c, context `vlan-VLAN` for v3.
pub fn settings_for_vlan(settings: &SnmpConfig, vlan: u32) -> SnmpConfig {
    let mut s = settings.clone();
    match settings.version.as_deref() {
        Some("3" | "v3") => s.context = Some(format!("vlan-{vlan}")),
        _ => {
            let community = settings
                .community
                .clone()
                .or_else(|| std::env::var("OPSKIT_SNMP_COMMUNITY").ok())
                .unwrap_or_else(|| "public".to_string());
            s.community = Some(format!("{community}@{vlan}"));
        }
    }
    s
}

/// A client for one agent on the shared socket, with the timeout and retries of `settings`.
/// DES privacy needs `des`, the run's durable salt state ([`des::take_epoch`]), shared by every
/// client of the run so that no two messages get the same salt.
pub async fn client(
    transport: &UdpTransport,
    target: SocketAddr,
    auth: Auth,
    settings: &SnmpConfig,
    des: Option<&DesSaltState>,
) -> Result<SnmpClient> {
    let timeout = Duration::from_secs_f64(settings.timeout.unwrap_or(2.0).clamp(0.05, 120.0));
    let retries = settings.retries.unwrap_or(1);
    let retry = Retry::fixed(retries, Duration::ZERO)
        .map_err(|e| Error::with_source(ErrorKind::Config, "SNMP retries", e))?;
    let mut builder = Client::builder(target.to_string(), auth);
    if uses_des(settings) {
        let state = des.ok_or_else(|| {
            Error::new(
                ErrorKind::Fatal,
                "SNMPv3 DES privacy needs the run's DES state (a bug: it was not taken)",
            )
        })?;
        builder = builder.des_salt_state(state.clone());
    }
    builder
        // A datagram from any other address is dropped, however well it is formed: a device
        // sharing the community must not answer for another (async-snmp only warns by
        // default, for multihomed agents that answer from another interface).
        .strict_source(true)
        .request_timeout(timeout)
        .retry(retry)
        .walk_options(WalkOptions {
            method: WalkMethod::GetBulk,
            max_repetitions: settings.max_repetitions.unwrap_or(25).clamp(1, 200),
            ordering: OidOrdering::Strict,
            result_limit: Some(MAX_ROWS),
        })
        .build_with(transport)
        .await
        .map_err(|e| Error::with_source(ErrorKind::Source, "setting up SNMP", *e))
}

/// Walks one column (or subtree) and returns its rows with their index arcs, each charged to
/// the device's `budget` as it arrives.
pub async fn walk(client: &SnmpClient, column: &[u32], budget: &Budget) -> Result<Vec<Row>> {
    let root = Oid::from_slice(column);
    let mut stream = client
        .walk(root.clone())
        .map_err(|e| walk_error(column, *e))?;
    let mut rows = Vec::new();
    while let Some(item) = stream.next().await {
        let vb = item.map_err(|e| walk_error(column, *e))?;
        let arcs = vb.oid.arcs();
        if !vb.oid.starts_with(&root) {
            break;
        }
        if matches!(
            vb.value,
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
        ) {
            continue;
        }
        let mut row = Row {
            index: arcs[column.len()..].to_vec(),
            value: vb.value,
        };
        budget.charge(column, &mut row)?;
        rows.push(row);
    }
    Ok(rows)
}

fn dotted(column: &[u32]) -> String {
    column
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn walk_error(column: &[u32], e: async_snmp::Error) -> Error {
    let oid = dotted(column);
    let what = match e.kind() {
        async_snmp::ErrorKind::Timeout => {
            "no answer (timeout: unreachable, or wrong community or credentials)".to_string()
        }
        async_snmp::ErrorKind::WalkAborted => format!("agent broke the walk: {e}"),
        _ => e.to_string(),
    };
    Error::new(ErrorKind::Source, format!("walking {oid}: {what}"))
}

/// A value as text, when it is text.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::OctetString(b) => Some(
            String::from_utf8_lossy(b)
                .trim_end_matches('\0')
                .to_string(),
        ),
        _ => None,
    }
}

/// A value as an integer, whatever its SNMP integer type.
pub fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(i64::from(*i)),
        Value::Counter32(u) | Value::Gauge32(u) | Value::TimeTicks(u) | Value::UInteger32(u) => {
            Some(i64::from(*u))
        }
        Value::Counter64(u) => i64::try_from(*u).ok(),
        _ => None,
    }
}

/// A value's raw bytes, when it is an octet string.
pub fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::OctetString(b) => Some(b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_port_161() {
        assert_eq!(
            resolve_address("127.0.0.1").unwrap().to_string(),
            "127.0.0.1:161"
        );
        assert_eq!(resolve_address("127.0.0.1:1161").unwrap().port(), 1161);
        assert_eq!(resolve_address("::1").unwrap().to_string(), "[::1]:161");
        assert_eq!(
            resolve_address("[::1]:1161").unwrap().to_string(),
            "[::1]:1161"
        );
        assert_eq!(resolve_address("localhost:1161").unwrap().port(), 1161);
        assert!(resolve_address("no such host.invalid").is_err());
    }

    #[test]
    fn v3_settings_are_checked() {
        let mut s = SnmpConfig {
            version: Some("3".into()),
            ..Default::default()
        };
        assert!(auth(&s).is_err()); // no user
        s.user = Some("u".into());
        s.auth_protocol = Some("sha".into());
        assert!(auth(&s).is_err()); // no key
        s.auth_key = Some("auctoritas".into());
        assert!(auth(&s).is_ok());
        s.priv_protocol = Some("rot13".into());
        assert!(auth(&s).is_err());
        s.priv_key = Some("privatus".into());
        for name in [
            "aes", "AES128", "aes192", "AES-256", "aes256c", "des", "DES",
        ] {
            s.priv_protocol = Some(name.into());
            assert!(auth(&s).is_ok(), "{name}");
        }
        assert!(uses_des(&s));
        s.priv_protocol = Some("aes".into());
        assert!(!uses_des(&s));
        assert!(
            auth(&SnmpConfig {
                version: Some("4".into()),
                ..Default::default()
            })
            .is_err()
        );
    }
}
