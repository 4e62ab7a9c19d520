//! CIMD2 packets shared by the CIMD2 integration tests: one per kind of traffic, with the
//! checksums worked out independently of the codec.
#![allow(dead_code)]

/// (wire text between STX and ETX, what it is)
pub const PACKETS: &[(&str, &str)] = &[
    ("51:001\t3C", "login response, no parameters"),
    ("01:001\t010:foo\t011:bar\t59", "login"),
    (
        "03:003\t021:46701234567\t023:12345\t033:Hello _XX(world_XX)\t056:14\tEC",
        "submit",
    ),
    (
        "20:000\t021:4242\t023:46709876543\t060:260103120000\t033:_a\"_o\"_A*\t99",
        "deliver",
    ),
    (
        "23:002\t021:46701234567\t060:260103120000\t061:4\t063:260103120005\tB5",
        "status report",
    ),
    ("40:005\t3E", "alive"),
    ("90:005\t43", "alive response"),
    (
        "98:007\t900:1\t901:unexpected operation\t5D",
        "general error response",
    ),
];

pub fn wire(s: &str) -> Vec<u8> {
    let mut v = vec![common::cimd2::STX];
    v.extend(s.chars().map(|c| c as u32 as u8));
    v.push(common::cimd2::ETX);
    v
}
