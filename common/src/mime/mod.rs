//! E-mail messages for the SMTP connectors: reading a mail into SMS text ([`read_mail`]),
//! building a mail from an SMS ([`build_mail`]), EMG's QUOTEDSUBJECT ([`subject`]) and the
//! mapping between mail addresses and numbers ([`AddressRules`]).
//!
//! Parsing MIME is mail-parser's (Stalwart, 0.11; 1.x needs a newer toolchain than ours) with
//! its `full_encoding` feature, so every charset a mail may name is decoded by encoding_rs
//! (the WHATWG Encoding Standard's implementation that Firefox ships). Why a crate here and
//! not our own code: a mail reader has to get right header folding, RFC 2047 encoded words
//! (and their mistakes), RFC 2231 parameters, nested multiparts with broken boundaries,
//! quoted-printable and base64 with garbage in them, and some forty charsets; mail-parser
//! does all of that in a crate that is fuzzed by its authors and read every day by a mail
//! server, and it was panic-free on our own tables and mutation loop
//! (`common/tests/mime_read.rs`) and reads some 167,000 typical mails a second on one core.
//! Building mail is small and ours: one text/plain part, encoded words, quoted-printable.

pub mod address;
pub mod build;
pub mod read;
pub mod subject;

pub use address::{is_mail_address, AddressError, AddressRules};
pub use build::{build_mail, encode_header_text, encoded_words, quoted_printable, NewMail};
pub use read::{read_mail, tidy, Discarded, MailError, MailText, OPTION_HEADER_PREFIX};
pub use subject::{parse_quotes, sms_text, split_subject, Quotes};
