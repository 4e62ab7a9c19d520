//! The heart of the daemon: accepts messages from incoming sessions, routes and stores them,
//! and records what outgoing sessions report back (sent, failed, delivery reports).
//!
//! Sessions own their sockets; this owns the shared state they act on. One file per job, each
//! adding to [`Gateway`] (defined in [`shared`], which the others build on):
//!
//! | file | job |
//! |---|---|
//! | [`shared`] | the state, its recovery at start, shutdown |
//! | [`changes`] | what a reload asks of the connector supervisor, and its channel |
//! | [`reload`] | a reloaded configuration in force; connectors added, removed, restarted |
//! | [`accept`] | IN pipeline, routing (with [`cmr`]), queue limits ([`limits`]), durable enqueue |
//! | [`processing`] | the IN and OUT pipelines of `crate::process`, with their store writes and logs |
//! | [`plugins`] | the plugins' hooks (`crate::plugin`) in that flow and what their verdicts do |
//! | [`history`] | the rows of a message's history: submit attempts, receipts, callbacks |
//! | [`outcome`] | what a session reports about a message: submitting, sent, failed, expired, unsent |
//! | [`reassembly`] | holding the parts of a long message until it can be joined (`reassemble`), with [`held_parts`] |
//! | [`receipt`] | matching delivery receipts to open DLR entries ([`dlr_book`]), long messages' parts |
//! | [`inject`] | delivery reports injected by applications (MSGTYPE=5) for connectors without receipts |
//! | [`dlr_lookup`] | receipts the book misses, looked up in batches in a store other nodes share |
//! | [`dlr_expiry`] | settling as UNKNOWN the open DLR entries whose receipt never came (`dlr_expire`) |
//! | [`report`] | the DLR messages that tell a sender what became of its message |
//! | [`expiry`] | failing queued messages whose validity ended |
//! | [`queued`] | cancelling and replacing a message still in its queue |
//! | [`cluster`] | a node on a shared store: its lease, dead nodes' queues taken over |
//! | [`cluster_lanes`] | reports and MO handed to the node where their user is bound |
//! | [`cluster_flags`] | connector flags set on another node, applied here |

pub mod accept;
#[cfg(test)]
mod across_nodes_tests;
pub mod changes;
pub mod cluster;
pub mod cluster_flags;
pub mod cluster_lanes;
pub mod cmr;
pub mod dlr_book;
pub mod dlr_expiry;
pub mod dlr_lookup;
pub mod expiry;
pub mod held_parts;
pub mod history;
pub mod inject;
pub mod limits;
pub mod outcome;
pub mod plugins;
pub mod processing;
pub mod queued;
pub mod reassembly;
pub mod receipt;
pub mod reject;
pub mod reload;
pub mod report;
pub mod shared;

pub use inject::InjectError;
pub use queued::QueuedError;
pub use receipt::ReceiptOutcome;
pub use reject::Reject;
pub use shared::{stopped, Gateway};
