//! libFuzzer target `known_hosts`: see `opskit_fuzz::known_hosts` (fuzz/src/lib.rs) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opskit_fuzz::known_hosts(data));
