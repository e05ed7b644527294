//! Collectors: reading sources (hosts over SSH or locally, switches over SNMP, AWS regions)
//! and storing what each said in the catalog, one source in one transaction.

pub mod hosts;
pub mod packages;
pub mod switches;
