//! Long messages: splitting on send and reassembly on receipt.
//!
//! - [`split()`] / [`split_encoded()`]: plan the parts for a coding and a [`Method`] (UDH with 8- or
//!   16-bit reference, SAR TLVs, or one `message_payload`). The caller picks the reference.
//! - [`Reassembler`]: collect parts from UDH or SAR into whole messages, with expiry driven by a
//!   `now` the caller passes in.

pub mod reassemble;
pub mod split;

pub use reassemble::{Assembled, Key, Partial, Pushed, Reassembler};
pub use split::{
    count_parts, limits, limits_for_udh, split, split_encoded, Limits, Method, Part, SplitError,
};
