//! Test support for emg's end-to-end tests: our own SMPP load client and helpers that start
//! the real `emgd` binary on free ports in a temporary directory.
//!
//! Third-party peers (python smpplib) live in `peers/`; these are extra, for load and for
//! the crash test, where we need exact control over what was acknowledged.

pub mod daemon;
pub mod load;
pub mod smpp_client;
