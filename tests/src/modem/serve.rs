//! Runs a [`Modem`] on a tty: the simulator's end of a `socat` pty pair.
//!
//! The tty may go away (the harness stops `socat` to show a modem disappearing): reads then
//! fail with EIO, and the modem waits for the path to vanish and come back before it opens it
//! again, keeping its memories, so a test sees what a connector does when its line returns.

use super::{Control, Modem};
use serde_json::{json, Value};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long a data call's peer may take to accept the connection.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the tty non-blocking, raw, without making it our controlling terminal.
fn open_tty(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(path)?;
    // SAFETY: tcgetattr/tcsetattr on a file descriptor we own, with a zeroed termios that
    // tcgetattr fills before cfmakeraw changes it.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(f.as_raw_fd(), &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(f.as_raw_fd(), libc::TCSANOW, &t);
        }
    }
    Ok(f)
}

/// Whether the path leads to a tty now (a dangling link left by a killed `socat` does not).
fn present(path: &Path) -> bool {
    std::fs::metadata(path).is_ok()
}

/// Where the simulator sends its events.
pub type Events = mpsc::UnboundedSender<Value>;

/// Runs until `control` closes. Events (JSON objects) go to `events`; a closed receiver is
/// ignored.
pub async fn run(
    mut modem: Modem,
    tty: PathBuf,
    mut control: mpsc::UnboundedReceiver<Control>,
    events: Events,
) {
    let start = Instant::now();
    let now = move || start.elapsed().as_millis() as u64;
    let send = |modem: &mut Modem| {
        for e in modem.take_events() {
            let _ = events.send(e);
        }
    };
    loop {
        // Closed: wait for the tty to appear.
        let file = loop {
            if present(&tty) {
                match open_tty(&tty) {
                    Ok(f) => break f,
                    Err(e) => {
                        let _ = events.send(json!({"event": "open-failed", "why": e.to_string()}));
                    }
                }
            }
            tokio::select! {
                c = control.recv() => match c {
                    Some(c) => { modem.control(c, now()); let _ = modem.take_output(); send(&mut modem); }
                    None => return,
                },
                _ = tokio::time::sleep(Duration::from_millis(20)) => modem.tick(now()),
            }
        };
        let _ = events.send(json!({"event": "open", "tty": tty.display().to_string()}));
        // SAFETY: `file` owns an open descriptor that stays open, and always the same, until the
        // AsyncFd that owns `file` is dropped.
        let fd = match unsafe { AsyncFd::register(file) } {
            Ok(fd) => fd,
            Err(e) => {
                let _ = events.send(json!({"event": "open-failed", "why": e.to_string()}));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let why = session(&mut modem, &fd, &mut control, &events, &now).await;
        drop(fd);
        modem.line_closed();
        let _ = events.send(json!({"event": "closed", "why": why}));
        if why == "control closed" {
            return;
        }
        // Wait for the old tty to go, so we do not reopen the dying one.
        while present(&tty) {
            tokio::select! {
                c = control.recv() => match c {
                    Some(c) => { modem.control(c, now()); let _ = modem.take_output(); send(&mut modem); }
                    None => return,
                },
                _ = tokio::time::sleep(Duration::from_millis(20)) => modem.tick(now()),
            }
        }
    }
}

/// One open tty; returns why it ended.
async fn session(
    modem: &mut Modem,
    fd: &AsyncFd<File>,
    control: &mut mpsc::UnboundedReceiver<Control>,
    events: &Events,
    now: &impl Fn() -> u64,
) -> String {
    let mut buf = [0u8; 4096];
    let mut peer_buf = [0u8; 4096];
    // The data call's peer (see `super::call`).
    let mut peer: Option<TcpStream> = None;
    loop {
        if let Some(addr) = modem.take_dial() {
            let connected = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(&addr)).await;
            peer = match connected {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    Some(s)
                }
                _ => None,
            };
            modem.call_connected(peer.is_some());
        }
        if modem.take_hang_up() {
            peer = None;
        }
        let up = modem.take_uplink();
        if let (false, Some(p)) = (up.is_empty(), peer.as_mut()) {
            if p.write_all(&up).await.is_err() {
                peer = None;
                modem.peer_closed();
            }
        }
        for e in modem.take_events() {
            let _ = events.send(e);
        }
        let out = modem.take_output();
        if !out.is_empty() {
            if let Err(e) = write_all(fd, &out).await {
                return format!("write: {e}");
            }
        }
        let wait = modem
            .next_deadline()
            .map(|d| Duration::from_millis(d.saturating_sub(now())))
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            r = fd.readable() => {
                let Ok(mut guard) = r else { return "poll failed".into() };
                match guard.try_io(|f| (&mut f.get_ref()).read(&mut buf)) {
                    Ok(Ok(0)) => return "end of file".into(),
                    Ok(Ok(n)) => modem.input(&buf[..n], now()),
                    Ok(Err(e)) => return format!("read: {e}"),
                    Err(_would_block) => {}
                }
            }
            c = control.recv() => match c {
                Some(c) => modem.control(c, now()),
                None => return "control closed".into(),
            },
            r = async { peer.as_mut().expect("checked").read(&mut peer_buf).await }, if peer.is_some() => {
                match r {
                    Ok(n) if n > 0 => modem.downlink(&peer_buf[..n]),
                    _ => {
                        peer = None;
                        modem.peer_closed();
                    }
                }
            }
            _ = tokio::time::sleep(wait) => modem.tick(now()),
        }
    }
}

async fn write_all(fd: &AsyncFd<File>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let mut guard = fd.writable().await?;
        match guard.try_io(|f| (&mut f.get_ref()).write(bytes)) {
            Ok(Ok(n)) => bytes = &bytes[n..],
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => {}
        }
    }
    Ok(())
}
