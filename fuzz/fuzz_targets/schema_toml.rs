//! Fuzz target `schema_toml`: see `zicht_fuzz::schema_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zicht_fuzz::schema_toml(data));
