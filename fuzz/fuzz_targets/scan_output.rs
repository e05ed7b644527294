//! libFuzzer target `scan_output`: see `opskit_fuzz::scan_output` (fuzz/src/lib.rs) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opskit_fuzz::scan_output(data));
