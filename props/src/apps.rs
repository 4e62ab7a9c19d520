//! What applications hand emgd outside the SMPP/HTTP codecs: an EBE program's stdout
//! (`emgd::connector::ebe::program::remote_id`) and the options of an MGP submission, DLR
//! injection (`MSGTYPE`=5) included (`emgd::connector::mgp::options::submission`). Any input
//! gives an answer or a named error, never a panic.

use common::message::Origin;
use emgd::connector::ebe::program::remote_id;
use emgd::connector::mgp::options::{submission, Submission};
use serde_json::{Map, Value};

/// Read `data` as an EBE program's stdout: at most one id, printable, no spaces.
pub fn ebe_output(data: &[u8]) {
    match remote_id(data) {
        Ok(Some(id)) => {
            assert!(!id.is_empty(), "an empty remote id");
            assert!(
                id.bytes().all(|b| b.is_ascii_graphic()),
                "remote id {id:?} has a space or a control character"
            );
            // The id read back from a program that printed only it is the same id.
            assert_eq!(remote_id(format!("{id}\n").as_bytes()), Ok(Some(id)));
        }
        Ok(None) => {}
        Err(e) => assert!(!e.is_empty(), "an error without a message"),
    }
}

/// Read `data` as the JSON options of an MGP submission; when it is an object, it is a
/// message with one recipient, an injected report naming its message, or a named refusal.
pub fn mgp_options(data: &[u8]) {
    let Ok(options) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    let origin = Origin {
        connector: "mgp-in".into(),
        user: Some("app".into()),
        ..Default::default()
    };
    match submission(&options, origin) {
        Ok(Submission::Message { message, route }) => {
            assert_eq!(message.origin.connector, "mgp-in");
            assert!(route.is_none_or(|r| !r.is_empty()), "an empty route");
        }
        Ok(Submission::Report { origid, .. }) => {
            assert!(!origid.is_empty(), "an injected report for no message")
        }
        Err(e) => assert!(!e.to_string().is_empty(), "a refusal without a message"),
    }
}
