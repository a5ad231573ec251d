//! Fuzz target `clkhash_schema`: see `zicht_fuzz::clkhash_schema`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zicht_fuzz::clkhash_schema(data));
