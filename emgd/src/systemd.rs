//! systemd's readiness protocol (`Type=notify`): `READY=1` once every listener is up,
//! `RELOADING=1` and `READY=1` around a reload, `STOPPING=1` at shutdown, and `WATCHDOG=1`
//! keep-alives when the unit sets `WatchdogSec=` (so systemd restarts an emgd that hangs, not
//! only one that dies). Without NOTIFY_SOCKET (not under systemd) every call does nothing.
//!
//! The protocol is one datagram to the Unix socket NOTIFY_SOCKET names (a path, or `@name` in
//! the abstract namespace): a few lines of std, no crate needed.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Send `state` (e.g. `READY=1`) to systemd, if it is listening.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent = (|| -> std::io::Result<()> {
        let bytes = path.as_encoded_bytes();
        let addr = match bytes.strip_prefix(b"@") {
            Some(name) => SocketAddr::from_abstract_name(name)?,
            None => SocketAddr::from_pathname(&path)?,
        };
        let sock = UnixDatagram::unbound()?;
        sock.send_to_addr(state.as_bytes(), &addr)?;
        Ok(())
    })();
    if let Err(e) = sent {
        tracing::warn!("cannot tell systemd {state:?}: {e}");
    }
}

/// Half the interval systemd expects keep-alives at (WATCHDOG_USEC), when it expects them from
/// this process.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}
