#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| props::run("mgp_options", data));
