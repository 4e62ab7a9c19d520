//! SMPP 3.3 / 3.4 / 5.0, both ways, on the connector runtime.
//!
//! | file | what |
//! |---|---|
//! | [`codec`] | `common::smpp`'s codec for the runtime; which PDUs are responses |
//! | [`congestion`] | SMPP 5.0 congestion_state: how an outgoing session slows down |
//! | [`convert`] | PDUs <-> `Message`: short-message bodies, long messages' parts, receipts, refusal codes |
//! | [`outgoing`] | we are the ESME: bind, submit_sm, deliver_sm from the SMSC |
//! | [`incoming`] | we are the SMSC: binds against the users, submit_sm and data_sm, deliver_sm to clients |
//! | [`passthrough`] | the TLVs carried with a message to the next SMPP hop, untouched |
//! | [`requests`] | the incoming requests besides submits: submit_multi, query_sm, cancel_sm, replace_sm |

pub mod codec;
pub mod congestion;
pub mod convert;
pub mod incoming;
pub mod outgoing;
pub mod passthrough;
pub mod requests;
