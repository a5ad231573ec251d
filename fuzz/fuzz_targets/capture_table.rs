//! Fuzz target `capture_table`: see `zicht_fuzz::capture_table`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zicht_fuzz::capture_table(data));
