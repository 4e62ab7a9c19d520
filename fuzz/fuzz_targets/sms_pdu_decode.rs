#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| props::run("sms_pdu_decode", data));
