//! Test support for emg's end-to-end tests: our own SMPP load client and helpers that start
//! the real `emgd` binary on free ports in a temporary directory.
//!
//! Third-party peers (python smpplib, the HTTP sink) live in `peers/`; Kannel and its CIMD2
//! simulator are driven from [`kannel`]; `emgucpsmsc` ([`ucp_smsc`]) stands in for the UCP
//! SMSC nobody ships; [`tshark`] is the wire oracle. Our own SMPP peers are extra, for load
//! and for the crash test, where we need exact control over what was acknowledged.

pub mod bench;
pub mod bench_env;
pub mod bench_http;
pub mod bench_metrics;
pub mod bench_mgp;
pub mod bench_proc;
pub mod daemon;
pub mod http_sink;
pub mod httpload;
pub mod kannel;
pub mod load;
pub mod smpp_client;
pub mod smsc;
pub mod tshark;
pub mod ucp_smsc;
pub mod ucp_smsc_process;
