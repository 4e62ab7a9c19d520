//! Test support for emg's end-to-end tests: our own SMPP load client and helpers that start
//! the real `emgd` binary on free ports in a temporary directory.
//!
//! Third-party peers (python smpplib) live in `peers/`; these are extra, for load and for
//! the crash test, where we need exact control over what was acknowledged. Where no
//! third-party peer exists we simulate one and prove it against the real clients: the GSM
//! modem simulator (`modem`, the `emgmodem` binary, on a `socat` pty pair from `pty`) is
//! tested with gammu, smstools and python-gsmmodem-new.

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
pub mod modem;
pub mod pty;
pub mod smpp_client;
pub mod smsc;
