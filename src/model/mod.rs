//! The model: plain data every layer above shares. Snapshots the collectors produce (a host, a
//! device, EC2 instances and groups), the identifiers that cross the catalog typed (MAC, package
//! manager, kind of address), and the orders they sort in (package versions).
//!
//! Nothing here does I/O, and nothing here imports the catalog, the collectors or the queries:
//! it sits just above the leaf modules (error, clock, config), so every layer can use it.

pub mod address;
pub mod audit;
pub mod device;
pub mod ec2;
pub mod host;
pub mod mac;
pub mod package;
pub mod version;

pub use mac::Mac;
pub use package::Manager;
