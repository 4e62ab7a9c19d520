//! The properties every emg decoder must keep, written once and checked two ways:
//!
//! - by `cargo fuzz` (the `fuzz/` crate, nightly, coverage-guided; `scripts/fuzz`), whose
//!   targets are one-line calls into [`TARGETS`];
//! - by the stable test suite (`props/tests`): proptest feeds the same functions random bytes,
//!   and every input the fuzzer ever crashed on is replayed from `fuzz/regressions/`.
//!
//! A check takes raw bytes, as a fuzzer hands them out, and panics when a property fails.
//! Decoder checks read the bytes as the wire or file format itself (so the seed corpus is
//! plain protocol data taken from the tests, `fuzz/seeds/`). Round-trip checks read them
//! through [`arbitrary::Unstructured`] as a generator of valid values and assert
//! `decode(encode(x)) == x`.
//!
//! Adding a decoder: a module here with its check, one line in [`TARGETS`], one file in
//! `fuzz/fuzz_targets/` and one line in `fuzz/Cargo.toml` (the test `targets_match` keeps the
//! three lists in step).

#[cfg(feature = "http")]
pub mod apps;
pub mod at;
pub mod cimd2;
pub mod concat;
pub mod config;
pub mod dlrid;
pub mod emg_import;
pub mod gsm;
#[cfg(feature = "http")]
pub mod http;
pub mod mgp;
pub mod mime;
pub mod receipt;
pub mod smpp;
pub mod sms_pdu;
pub mod smtp;
#[cfg(feature = "http")]
pub mod store;
pub mod ucp;

/// One fuzz target: its name (the file in `fuzz/fuzz_targets/`) and its check.
pub struct Target {
    pub name: &'static str,
    pub check: fn(&[u8]),
}

/// Every fuzz target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "smpp_decode",
        check: smpp::decode_stream,
    },
    Target {
        name: "smpp_roundtrip",
        check: smpp::roundtrip,
    },
    Target {
        name: "mgp_decode",
        check: mgp::decode_lines,
    },
    Target {
        name: "mgp_roundtrip",
        check: mgp::roundtrip,
    },
    #[cfg(feature = "http")]
    Target {
        name: "http_send",
        check: http::send_request,
    },
    #[cfg(feature = "http")]
    Target {
        name: "store_record",
        check: store::record,
    },
    #[cfg(feature = "http")]
    Target {
        name: "ebe_output",
        check: apps::ebe_output,
    },
    #[cfg(feature = "http")]
    Target {
        name: "mgp_options",
        check: apps::mgp_options,
    },
    Target {
        name: "config_toml",
        check: config::toml,
    },
    Target {
        name: "config_satpool",
        check: config::satpool,
    },
    Target {
        name: "config_mapping",
        check: config::mapping,
    },
    Target {
        name: "config_retry",
        check: config::retry,
    },
    Target {
        name: "config_blacklist",
        check: config::blacklist,
    },
    Target {
        name: "emg_import",
        check: emg_import::import_emg,
    },
    Target {
        name: "receipt_parse",
        check: receipt::parse,
    },
    Target {
        name: "receipt_roundtrip",
        check: receipt::roundtrip,
    },
    Target {
        name: "dlrid_normalise",
        check: dlrid::normalise,
    },
    Target {
        name: "gsm_text",
        check: gsm::text,
    },
    Target {
        name: "gsm_text_roundtrip",
        check: gsm::text_roundtrip,
    },
    Target {
        name: "gsm_udh",
        check: gsm::udh,
    },
    Target {
        name: "concat_reassemble",
        check: concat::reassemble,
    },
    Target {
        name: "concat_roundtrip",
        check: concat::roundtrip,
    },
    Target {
        name: "ucp_decode",
        check: ucp::decode_stream,
    },
    Target {
        name: "cimd2_decode",
        check: cimd2::decode_stream,
    },
    Target {
        name: "sms_pdu_decode",
        check: sms_pdu::decode,
    },
    Target {
        name: "at_responses",
        check: at::responses,
    },
    Target {
        name: "smtp_server",
        check: smtp::server,
    },
    Target {
        name: "smtp_replies",
        check: smtp::replies,
    },
    Target {
        name: "mime_read",
        check: mime::read,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Runs the check of the target called `name` on `data` (what a fuzz target does).
pub fn run(name: &str, data: &[u8]) {
    let t = target(name).unwrap_or_else(|| panic!("{name} is not in props::TARGETS"));
    (t.check)(data);
}

/// Runs a round-trip generator over `data`. Running out of bytes is not a failure: the fuzzer
/// simply gave too little to build a value from.
fn generate<T>(
    data: &[u8],
    f: impl FnOnce(&mut arbitrary::Unstructured) -> arbitrary::Result<T>,
) -> Option<T> {
    f(&mut arbitrary::Unstructured::new(data)).ok()
}

/// An arbitrary string of at most `max` bytes (cut on a character boundary) for which `keep`
/// holds of every character.
fn string(
    u: &mut arbitrary::Unstructured,
    max: usize,
    keep: impl Fn(char) -> bool,
) -> arbitrary::Result<String> {
    let s: String = u
        .arbitrary::<String>()?
        .chars()
        .filter(|&c| keep(c))
        .collect();
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(s[..end].to_string())
}
