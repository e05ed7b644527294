//! Network facts read from local files: the subnets the user names in their own file
//! ([`subnets`]) and the IEEE registry of MAC vendors ([`oui`]).

pub mod oui;
pub mod subnets;
