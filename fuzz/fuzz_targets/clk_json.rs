//! Fuzz target `clk_json`: see `zicht_fuzz::clk_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zicht_fuzz::clk_json(data));
