//! Fuzz target `csv_encode`: see `zicht_fuzz::csv_encode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zicht_fuzz::csv_encode(data));
