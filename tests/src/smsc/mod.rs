//! The SMPP SMSC simulator behind `emgsmsc`, the far end of the benchmark.
//!
//! It accepts binds (any credentials, or only the configured pair), answers each submit_sm
//! with a fresh message id (decimal or hex) and, when the submit asks for one, sends a
//! delivery receipt a configured delay later: deliver_sm with esm_class 0x04, the SMPP 3.4
//! appendix B text (`id:... stat:DELIVRD ...`) and the receipted_message_id and message_state
//! TLVs. A transceiver gets its receipts on its own session; a transmitter's go to a receiver
//! session bound with the same system_id. It answers enquire_link and unbind, can refuse an
//! evenly spread share of submits or throttle each session, and counts everything.
//!
//! One tokio task per session. A session decodes everything one read brought in, answers it
//! into one buffer and writes that buffer once, so a window of submits costs one `write`, not
//! one per PDU: the simulator must not be what limits a benchmark.

mod session;
mod state;
#[cfg(test)]
mod tests;

pub use session::serve;
pub use state::*;
