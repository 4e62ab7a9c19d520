//! Test support for emg's end-to-end tests: our own SMPP load client and helpers that start
//! the real `emgd` binary on free ports in a temporary directory.
//!
//! Third-party peers (python smpplib) live in `peers/`; these are extra, for load and for
//! the crash test, where we need exact control over what was acknowledged.

pub mod bench;
pub mod bench_env;
pub mod bench_http;
pub mod bench_kannel;
pub mod bench_metrics;
pub mod bench_mgp;
pub mod bench_proc;
pub mod bench_size;
pub mod daemon;
pub mod httpload;
pub mod load;
pub mod smpp_client;
pub mod smsc;
