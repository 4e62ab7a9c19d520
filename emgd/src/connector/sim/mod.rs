//! `sim`: an SMSC inside the daemon, on the connector runtime as a call-per-message
//! connector. It lets the sample configuration deliver end to end with nothing else
//! installed, and gives benchmarks a next hop that costs nothing.
//!
//! It has only [`outgoing`]: nothing connects to it (a `sim` connector of type incoming runs
//! the same simulated SMSC), and it has no frames to convert: it takes the OUT pipeline's copy
//! of each message as it is.

pub mod outgoing;
