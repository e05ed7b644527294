//! DNS lookups through hickory-resolver: the system's resolver configuration (/etc/resolv.conf
//! and /etc/hosts) by default, or one server the user names (`--dns-server ADDR[:PORT]`).
//!
//! A lookup never fails a command: a DNS server that is down or slow becomes an error note in
//! the answer, after the configured timeout, and the catalog's part of the answer still prints.
//!
//! Lookups are `async` and run on the caller's tokio runtime (the one the command starts at its
//! edge); building a resolver needs none. Bulk input (thousands of addresses or names on stdin)
//! is resolved concurrently on one thread: up to [`IN_FLIGHT`] lookups wait on the network at once. When a server has answered
//! nothing after [`GIVE_UP_AFTER`] timeouts, the rest are not asked, so a dead server costs one
//! timeout, not one per line.

use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{Name, RData};

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

/// How many lookups bulk resolution keeps in flight. Enough to hide a LAN round trip behind
/// the others; few enough that a small resolver (dnsmasq forwards at most 150 at once by
/// default) does not start dropping questions.
pub const IN_FLIGHT: usize = 100;

/// Timeouts with no answer at all after which a server is taken for dead.
pub const GIVE_UP_AFTER: usize = 8;

/// The addresses DNS gave for a name, or why it gave none.
#[derive(Debug, Clone, Default)]
pub struct AddressAnswer {
    pub addresses: Vec<IpAddr>,
    /// The CNAME chain from the name asked to its canonical name, each hop's target in order
    /// (empty when the name has A/AAAA records of its own).
    pub cnames: Vec<String>,
    /// Set when a query failed for another reason than "no such name / no such record".
    pub error: Option<String>,
}

/// One PTR name of an address, and whether it resolves back to that address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtrName {
    /// The name, without the trailing dot.
    pub name: String,
    /// The name's addresses of the same family as the address asked about.
    pub forward: Vec<IpAddr>,
    /// Forward-confirmed reverse DNS: the name's A/AAAA records include the address.
    pub confirmed: bool,
    /// Why the forward lookup failed, if it did (other than "no such name").
    pub forward_error: Option<String>,
}

/// What reverse DNS says about an address.
#[derive(Debug, Clone, Default)]
pub struct ReverseAnswer {
    pub names: Vec<PtrName>,
    /// Set when the PTR query failed for another reason than "no such name / no records".
    pub error: Option<String>,
}

/// A resolver, to be awaited on a single-threaded tokio runtime (its counters are not shared
/// across threads).
pub struct Resolver {
    inner: TokioResolver,
    /// Timeouts so far, and answers of any kind (including "no such name") so far.
    timeouts: Cell<usize>,
    answers: Cell<usize>,
}

impl Resolver {
    /// Builds a resolver for `options`. Nothing is asked yet, so no runtime is needed until the
    /// first lookup is awaited.
    pub fn new(options: &DnsOptions) -> Result<Resolver> {
        let inner = {
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
            // Bulk lookups share a connection per server; let all of them be in flight.
            opts.max_active_requests = opts.max_active_requests.max(IN_FLIGHT * 3);
            builder
                .build()
                .map_err(|e| Error::with_source(ErrorKind::Config, "setting up DNS", e))?
        };
        Ok(Resolver {
            inner,
            timeouts: Cell::new(0),
            answers: Cell::new(0),
        })
    }

    /// The A and AAAA addresses of `name` (and the CNAME chain to them), asked concurrently.
    pub async fn addresses(&self, name: &str) -> AddressAnswer {
        let mut answer = AddressAnswer::default();
        let query = match Name::from_utf8(name) {
            Ok(n) => n,
            Err(e) => {
                answer.error = Some(format!("not a DNS name: {e}"));
                return answer;
            }
        };
        let (a, aaaa) = tokio::join!(
            self.ask(query.clone(), RecordType::A),
            self.ask(query, RecordType::AAAA)
        );
        for result in [a, aaaa] {
            match result {
                Ok(records) => {
                    for data in records {
                        match data {
                            RData::CNAME(target) => {
                                let target = display_name(&target.0);
                                if !answer.cnames.contains(&target) {
                                    answer.cnames.push(target);
                                }
                            }
                            other => answer.addresses.extend(other.ip_addr()),
                        }
                    }
                }
                Err(e) => {
                    answer.error.get_or_insert(e);
                }
            }
        }
        answer.addresses.dedup();
        answer
    }

    /// [`Resolver::addresses`] for many names at once, in input order.
    pub async fn addresses_many(&self, names: &[String]) -> Vec<AddressAnswer> {
        stream::iter(names)
            .map(|n| self.addresses(n))
            .buffered(IN_FLIGHT / 2)
            .collect()
            .await
    }

    /// [`Resolver::reverse`] for many addresses at once, in input order.
    pub async fn reverse_many(&self, ips: &[IpAddr]) -> Vec<ReverseAnswer> {
        stream::iter(ips)
            .map(|ip| self.reverse(*ip))
            .buffered(IN_FLIGHT)
            .collect()
            .await
    }

    /// True once the server has timed out often and never answered: later questions are
    /// answered with an error at once.
    fn given_up(&self) -> bool {
        self.answers.get() == 0 && self.timeouts.get() >= GIVE_UP_AFTER
    }

    /// Asks one question, counting answers and timeouts; "no such name" and "no records" are
    /// answers with no records, not errors.
    async fn ask(&self, name: Name, kind: RecordType) -> Result<Vec<RData>, String> {
        if self.given_up() {
            return Err(format!(
                "not asked: the DNS server gave no answer to {GIVE_UP_AFTER} questions"
            ));
        }
        match self.inner.lookup(name, kind).await {
            Ok(lookup) => {
                self.answers.set(self.answers.get() + 1);
                Ok(lookup.answers().iter().map(|r| r.data.clone()).collect())
            }
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => {
                self.answers.set(self.answers.get() + 1);
                Ok(Vec::new())
            }
            Err(e) => {
                if matches!(e, NetError::Timeout) {
                    self.timeouts.set(self.timeouts.get() + 1);
                }
                Err(e.to_string())
            }
        }
    }

    /// The PTR names of `ip`, each checked forward.
    pub async fn reverse(&self, ip: IpAddr) -> ReverseAnswer {
        let mut answer = ReverseAnswer::default();
        let names: Vec<Name> = match self.ask(Name::from(ip), RecordType::PTR).await {
            Ok(records) => records
                .into_iter()
                .filter_map(|d| match d {
                    RData::PTR(p) => Some(p.0),
                    _ => None,
                })
                .collect(),
            Err(e) => {
                answer.error = Some(e);
                return answer;
            }
        };
        let family = if ip.is_ipv4() {
            RecordType::A
        } else {
            RecordType::AAAA
        };
        let checks = names.into_iter().map(|name| async move {
            let shown = display_name(&name);
            // The PTR target is absolute: asking it as is skips the search list.
            match self.ask(name, family).await {
                Ok(records) => {
                    let forward: Vec<IpAddr> = records.iter().filter_map(RData::ip_addr).collect();
                    PtrName {
                        name: shown,
                        confirmed: forward.contains(&ip),
                        forward,
                        forward_error: None,
                    }
                }
                Err(e) => PtrName {
                    name: shown,
                    forward: Vec::new(),
                    confirmed: false,
                    forward_error: Some(e),
                },
            }
        });
        answer.names = futures_util::future::join_all(checks).await;
        answer
    }
}

/// A name as people write it: no trailing dot.
fn display_name(name: &Name) -> String {
    let text = name.to_utf8();
    text.strip_suffix('.').unwrap_or(&text).to_string()
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
