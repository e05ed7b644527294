//! libFuzzer target `snmp_values`: see `opskit_fuzz::snmp_values` (fuzz/src/lib.rs) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opskit_fuzz::snmp_values(data));
