//! DNS lookups through hickory-resolver: the system's resolver configuration (/etc/resolv.conf
//! and /etc/hosts) by default, or one server the user names (`--dns-server ADDR[:PORT]`).
//!
//! A lookup never fails a command: a DNS server that is down or slow becomes an error note in
//! the answer, after the configured timeout, and the catalog's part of the answer still prints.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RecordType;

use crate::error::{Error, ErrorKind, Result};

/// Where to send DNS questions and how long to wait.
#[derive(Debug, Clone)]
pub struct DnsOptions {
    /// `None`: the system's configuration.
    pub server: Option<SocketAddr>,
    pub timeout: Duration,
}

/// Parses `ADDR[:PORT]`, `[V6ADDR]:PORT` or a bare IPv6 address; the port defaults to 53.
pub fn parse_server(text: &str) -> Result<SocketAddr> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(Error::usage(format!(
        "malformed DNS server {text:?} (expected ADDR[:PORT], e.g. 127.0.0.1:5353 or [::1]:53)"
    )))
}

/// The addresses DNS gave for a name, or why it gave none.
#[derive(Debug, Clone, Default)]
pub struct AddressAnswer {
    pub addresses: Vec<IpAddr>,
    /// Set when a query failed for another reason than "no such name / no such record".
    pub error: Option<String>,
}

/// A resolver with its own single-threaded runtime, for use from synchronous code.
pub struct Resolver {
    runtime: tokio::runtime::Runtime,
    inner: TokioResolver,
}

impl Resolver {
    /// Builds a resolver for `options`.
    pub fn new(options: &DnsOptions) -> Result<Resolver> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the DNS runtime", e))?;
        let inner = {
            let _guard = runtime.enter();
            let provider = TokioRuntimeProvider::default();
            let mut builder = match options.server {
                Some(server) => {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = server.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = server.port();
                    let ns = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
                    let mut b = TokioResolver::builder_with_config(
                        ResolverConfig::from_parts(None, vec![], vec![ns]),
                        provider,
                    );
                    // Asking a named server means asking it, not /etc/hosts.
                    b.options_mut().use_hosts_file = ResolveHosts::Never;
                    b
                }
                None => TokioResolver::builder(provider).map_err(|e| {
                    Error::with_source(ErrorKind::Config, "reading the system DNS configuration", e)
                })?,
            };
            let opts: &mut ResolverOpts = builder.options_mut();
            opts.timeout = options.timeout;
            opts.attempts = 1;
            builder
                .build()
                .map_err(|e| Error::with_source(ErrorKind::Config, "setting up DNS", e))?
        };
        Ok(Resolver { runtime, inner })
    }

    /// The A and AAAA addresses of `name`, asked concurrently.
    pub fn addresses(&self, name: &str) -> AddressAnswer {
        let inner = &self.inner;
        let (a, aaaa) = self.runtime.block_on(async {
            tokio::join!(
                inner.lookup(name, RecordType::A),
                inner.lookup(name, RecordType::AAAA)
            )
        });
        let mut answer = AddressAnswer::default();
        for result in [a, aaaa] {
            match result {
                Ok(lookup) => answer
                    .addresses
                    .extend(lookup.answers().iter().filter_map(|r| r.data.ip_addr())),
                Err(e) if e.is_no_records_found() || e.is_nx_domain() => {}
                Err(e) => {
                    answer.error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        answer.addresses.dedup();
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_parse_with_and_without_port() {
        assert_eq!(
            parse_server("127.0.0.1").unwrap().to_string(),
            "127.0.0.1:53"
        );
        assert_eq!(parse_server("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_server("::1").unwrap().to_string(), "[::1]:53");
        assert_eq!(
            parse_server("[::1]:5300").unwrap().to_string(),
            "[::1]:5300"
        );
        assert!(parse_server("dns.example").is_err());
        assert!(parse_server("1.2.3.4:99999").is_err());
    }
}
