//! libFuzzer target `packages`: see `opskit_fuzz::packages` (fuzz/src/lib.rs) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opskit_fuzz::packages(data));
