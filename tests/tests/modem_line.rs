//! The harness's line: stopping socat takes the modem away from whoever has the tty open,
//! starting it again brings the same modem back (its memories kept), and the simulator answers
//! on the new pty. The far end here is a plain tty read with emg's own AT parser.

use common::at::{Event, Final, Parser};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};
use tests::pty::{PtyPair, Simulator};

const EMGMODEM: &str = env!("CARGO_BIN_EXE_emgmodem");
const WAIT: Duration = Duration::from_secs(20);

/// Sends `line` on the host tty and collects events up to the final result code.
fn at(tty: &mut std::fs::File, line: &str) -> Vec<Event> {
    let mut parser = Parser::new();
    parser.sent(line);
    tty.write_all(format!("{line}\r").as_bytes()).unwrap();
    let mut events = Vec::new();
    let deadline = Instant::now() + WAIT;
    let mut buf = [0u8; 1024];
    while Instant::now() < deadline {
        match tty.read(&mut buf) {
            Ok(n) if n > 0 => events.extend(parser.feed(&buf[..n])),
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
        if events.iter().any(|e| matches!(e, Event::Final(_))) {
            return events;
        }
    }
    panic!("no final result for {line:?}: {events:?}");
}

fn open(path: &Path) -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    // SAFETY: termios calls on a descriptor we own; cfmakeraw edits what tcgetattr filled.
    unsafe {
        use std::os::fd::AsRawFd;
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(f.as_raw_fd(), &mut t);
        libc::cfmakeraw(&mut t);
        libc::tcsetattr(f.as_raw_fd(), libc::TCSANOW, &t);
    }
    f
}

#[test]
fn the_line_goes_away_and_comes_back_with_the_same_modem() {
    let dir = tempfile::tempdir().unwrap();
    let mut pty = PtyPair::new(dir.path()).unwrap();
    let mut sim = Simulator::start(Path::new(EMGMODEM), &pty.modem, &[]).unwrap();
    let mut host = open(&pty.host);
    assert_eq!(at(&mut host, "ATE0").last(), Some(&Event::Final(Final::Ok)));
    sim.control("mo +46709876543 kept over the outage").unwrap();
    sim.wait_for("stored", WAIT, |e| e["event"] == "stored")
        .unwrap();

    pty.stop().unwrap();
    sim.wait_for("closed", WAIT, |e| e["event"] == "closed")
        .unwrap();
    // The host side sees the line die: reads end or fail (EIO), not merely "no data yet".
    let mut buf = [0u8; 16];
    let dead = tests::pty::wait_until(WAIT, || match host.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
        Ok(_) => false,
    });
    assert!(dead, "host tty still open after socat stopped");
    drop(host);

    pty.start().unwrap();
    sim.wait_for("reopened", WAIT, |e| e["event"] == "open")
        .unwrap();
    let mut host = open(&pty.host);
    let listed = at(&mut host, "AT+CMGL=4");
    assert!(
        matches!(
            listed.as_slice(),
            [.., Event::Listed { stat: 0, .. }, Event::Final(Final::Ok)]
        ),
        "{listed:?}"
    );
}
