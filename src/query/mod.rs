//! Queries: everything that reads the catalog, joins its sources and returns typed answers
//! for the commands to print.

pub mod address;
pub mod audit;
pub mod ec2;
pub mod expect;
pub mod facts;
pub mod host;
pub mod packages;
pub mod placement;
pub mod switch;
pub mod whatis;
