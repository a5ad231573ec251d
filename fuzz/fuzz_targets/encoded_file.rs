//! Fuzz target `encoded_file`: see `zicht_fuzz::encoded_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zicht_fuzz::encoded_file(data));
