//! libFuzzer target `config_files`: see `opskit_fuzz::config_files` (fuzz/src/lib.rs) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opskit_fuzz::config_files(data));
