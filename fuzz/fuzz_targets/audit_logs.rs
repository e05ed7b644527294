//! libFuzzer target `audit_logs`: see `opskit_fuzz::audit_logs` (fuzz/src/lib.rs) for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opskit_fuzz::audit_logs(data));
