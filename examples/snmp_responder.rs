//! The tests' SNMP v2c responder (tests/it/support/responder.rs) as a program, for
//! bench/crawl.sh: it serves every `.snmprec` recording of a directory (the community names
//! the recording, as with snmpsim) at one UDP port on each loopback address given, and costs
//! microseconds of CPU per request where snmpsim costs about a millisecond, so that the
//! benchmark measures the clients rather than the simulator.
//!
//! Usage: snmp_responder DATA_DIR PORT ADDRESS...   (prints "ready" once every address is
//! bound; serves until killed)

#[path = "../tests/it/support/responder.rs"]
#[allow(dead_code)]
mod responder;

use std::net::IpAddr;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, port, addresses @ ..] = &args[..] else {
        eprintln!("usage: snmp_responder DATA_DIR PORT ADDRESS...");
        std::process::exit(2);
    };
    let fail = |what: String| -> ! {
        eprintln!("snmp_responder: {what}");
        std::process::exit(2);
    };
    let communities =
        responder::load_recordings(Path::new(dir)).unwrap_or_else(|e| fail(format!("{dir}: {e}")));
    let port: u16 = port
        .parse()
        .unwrap_or_else(|_| fail(format!("bad port {port:?}")));
    let agents = addresses
        .iter()
        .map(|a| {
            let ip: IpAddr = a
                .parse()
                .unwrap_or_else(|_| fail(format!("bad address {a:?}")));
            let agent = responder::Agent {
                communities: communities.clone(),
                ..responder::Agent::default()
            };
            (ip, agent)
        })
        .collect();
    let running = responder::Responder::start_on(agents, port)
        .unwrap_or_else(|e| fail(format!("binding port {port}: {e}")));
    println!("ready");
    running.wait();
}
