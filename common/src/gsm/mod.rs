//! Text coding for short messages: GSM 03.38 7-bit (unpacked and packed), IA5, Latin-1, UCS-2,
//! and user data headers.
//!
//! Owned here rather than taken from a crate because no crate covers unpacked + packed + UDH +
//! exact sizing together, and every rule is small and fully table-tested. All of it is sans-io
//! and total: any input gives a value or an error, never a panic.
//!
//! - [`encode_gsm`] / [`decode_gsm`] / [`septet_len`] / [`is_gsm`]: the default alphabet and
//!   extension table, one septet per octet.
//! - [`pack_septets`] / [`unpack_septets`]: 7-bit packing with UDH fill bits.
//! - [`encode_text`] / [`decode_text`] / [`choose_coding`]: by SMPP `data_coding`.
//! - [`Udh`]: user data headers. Splitting and reassembly live in [`crate::concat`].

pub mod alphabet;
pub mod pack;
pub mod text;
pub mod udh;

pub use alphabet::{
    char_septets, decode_gsm, encode_gsm, extension_char, is_gsm, septet_len, Unencodable, ESC,
};
pub use pack::{pack_septets, packed_len, udh_fill_bits, unpack_septets};
pub use text::{choose_coding, decode_text, encode_text, Coding, TextError};
pub use udh::{Concat, Ie, Ports, Udh, UdhError};
