#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| props::run("ebe_output", data));
