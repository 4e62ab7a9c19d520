//! The store's message record (`emgd::store::codec`): any bytes read back from a damaged or
//! foreign database give an error, never a panic, and a record that decodes encodes to one
//! that decodes to the same message (the JSON records of stores before schema 5 included).

use emgd::store::codec::{decode, encode};

/// Decode `data` as a record; when it decodes, its re-encoding decodes to the same message.
pub fn record(data: &[u8]) {
    let Ok(m) = decode(7, "target", data) else {
        return;
    };
    let again = decode(7, "target", &encode(&m)).expect("a re-encoded record decodes");
    assert_eq!(again, m, "re-encoding changed the message");
}
