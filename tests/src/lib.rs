//! Test support for emg's end-to-end tests: our own SMPP load client and helpers that start
//! the real `emgd` binary on free ports in a temporary directory.
//!
//! Third-party peers (python smpplib, the HTTP sink) live in `peers/`; Kannel and its CIMD2
//! simulator are driven from [`kannel`]; [`tshark`] is the wire oracle. Our own SMPP peers are
//! extra, for load and for the crash test, where we need exact control over what was
//! acknowledged. Where no third-party peer exists we simulate one and prove it against the
//! real clients: the GSM modem simulator (`modem`, the `emgmodem` binary, on a `socat` pty
//! pair from `pty`) is tested with gammu, smstools and python-gsmmodem-new; `emgucpsmsc`
//! ([`ucp_smsc`]) stands in for the UCP SMSC nobody ships and is tested with Kannel.

pub mod bench;
pub mod bench_apps;
pub mod bench_env;
pub mod bench_gsm;
pub mod bench_http;
pub mod bench_kannel;
pub mod bench_metrics;
pub mod bench_mgp;
pub mod bench_pg;
pub mod bench_proc;
pub mod bench_run;
pub mod bench_size;
pub mod bench_smtp;
pub mod bench_soak;
pub mod bench_ucp;
pub mod certs;
pub mod cluster;
pub mod daemon;
pub mod http_sink;
pub mod httpload;
pub mod kannel;
pub mod load;
pub mod mgp_load;
pub mod modem;
pub mod ports;
pub mod postgres;
pub mod pty;
pub mod smpp_client;
pub mod smsc;
pub mod smtp_peer;
pub mod tshark;
pub mod ucp_load;
pub mod ucp_smsc;
pub mod ucp_smsc_process;
