//! libFuzzer target `versions`: see `opskit_fuzz::versions` (fuzz/src/lib.rs) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opskit_fuzz::versions(data));
