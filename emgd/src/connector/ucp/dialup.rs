//! UCP over a dial-up modem (EMG's "UCP via modem"): the transport of an outgoing UCP
//! connector with `phone` and `tty` instead of `address`.
//!
//! Dialling opens the tty, sets the modem up (`ATZ`, `ATE0`, `dial_init`), dials `ATD<phone>`
//! and waits for CONNECT (`dial_timeout`); BUSY, NO CARRIER, NO DIALTONE, NO ANSWER or ERROR
//! is a failed connect that the retry scheme's connector rule handles like a refused TCP
//! connect. After CONNECT it waits `dial_connectdelay_ms` (whatever the pool prints meanwhile
//! is dropped: a UCP SMSC speaks only when spoken to), and the normal UCP session
//! ([`super::outgoing`], on the runtime's framed loop) runs over the line through a bridge
//! task, which waits `dial_opdelay_ms` after each operation it writes.
//!
//! The call ends when the session does (idle timeout, `dial_messages` reached, shutdown):
//! the bridge hangs up with the escape `+++` between guard times and `ATH`. When the modem
//! reports NO CARRIER, or the tty closes, the bridge ends the session at once; the messages
//! without an answer go back to the queue, and the next message dials again.

use crate::connector::runtime::outgoing::{DialError, Dialer};
use common::at::{Event, Final, Parser};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Silence a modem wants before and after `+++` to take it as the escape (Hayes S12).
const GUARD: Duration = Duration::from_millis(1100);
/// How long hanging up waits for each answer.
const HANG_UP_WAIT: Duration = Duration::from_secs(3);
/// What a modem prints when the call is gone.
const NO_CARRIER: &[u8] = b"NO CARRIER";
/// UCP's end of frame: an operation has been written when it has.
const ETX: u8 = 0x03;

/// Dials the connector's `phone` on its `tty`.
pub struct Dialup;

impl Dialer for Dialup {
    type Stream = DuplexStream;

    async fn dial(&self, cfg: &config::Connector) -> Result<DuplexStream, DialError> {
        let Some(d) = cfg.dialup.clone() else {
            return Err(DialError {
                errno: 22,
                detail: "no phone number configured".into(),
            });
        };
        let mut line = AtLine::open(&d)?;
        // A modem left in data mode by a crashed session takes the escape first; one in
        // command mode just answers ERROR or nothing to it.
        line.port.write_all(b"\r").await.map_err(io_error)?;
        line.drain(Duration::from_millis(200)).await;
        line.command("ATZ").await?;
        line.command("ATE0").await?;
        if let Some(init) = &d.init {
            line.command(init).await?;
        }
        let dial = format!("ATD{}", d.phone);
        let connect = line.command(&dial).await?;
        tracing::debug!("dial-up {}: {dial}: CONNECT {connect}", d.tty);
        line.drain(Duration::from_millis(d.connect_delay_ms)).await;
        let (session, bridge_end) = tokio::io::duplex(16 * 1024);
        tokio::spawn(bridge(
            line.port,
            bridge_end,
            Duration::from_millis(d.op_delay_ms),
            d.tty,
        ));
        Ok(session)
    }
}

fn io_error(e: std::io::Error) -> DialError {
    DialError {
        errno: e.raw_os_error().unwrap_or(5) as u32,
        detail: format!("modem line: {e}"),
    }
}

/// The modem in command mode.
struct AtLine {
    port: SerialStream,
    parser: Parser,
    timeout: Duration,
}

impl AtLine {
    fn open(d: &config::DialupOptions) -> Result<AtLine, DialError> {
        let port = tokio_serial::new(&d.tty, d.speed)
            .open_native_async()
            .map_err(|e| DialError {
                errno: match e.kind {
                    tokio_serial::ErrorKind::NoDevice => 2,
                    tokio_serial::ErrorKind::Io(k) => {
                        std::io::Error::from(k).raw_os_error().unwrap_or(5) as u32
                    }
                    _ => 5,
                },
                detail: format!("cannot open {}: {e}", d.tty),
            })?;
        Ok(AtLine {
            port,
            parser: Parser::new(),
            timeout: Duration::from_secs(d.timeout),
        })
    }

    /// Reads and forgets what arrives for `wait`.
    async fn drain(&mut self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut buf = [0u8; 512];
        while let Ok(Ok(n)) = tokio::time::timeout_at(until, self.port.read(&mut buf)).await {
            if n == 0 {
                break;
            }
        }
        self.parser = Parser::new();
    }

    /// One command line and its final result code; the CONNECT text for a dial. The bytes
    /// are fed one at a time so that nothing after the final result is taken for AT text.
    async fn command(&mut self, line: &str) -> Result<String, DialError> {
        self.parser.sent(line);
        self.port
            .write_all(format!("{line}\r").as_bytes())
            .await
            .map_err(io_error)?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut byte = [0u8; 1];
        loop {
            let n = match tokio::time::timeout_at(deadline, self.port.read(&mut byte)).await {
                Err(_) => {
                    return Err(DialError {
                        errno: 110,
                        detail: format!("no answer to {line}"),
                    })
                }
                Ok(r) => r.map_err(io_error)?,
            };
            if n == 0 {
                return Err(DialError {
                    errno: 104,
                    detail: "the modem line closed".into(),
                });
            }
            for e in self.parser.feed(&byte) {
                if let Event::Final(f) = e {
                    return match f {
                        Final::Ok => Ok(String::new()),
                        Final::Connect(text) => Ok(text),
                        other => Err(DialError {
                            errno: dial_errno(&other),
                            detail: format!("{line} answered {other:?}"),
                        }),
                    };
                }
            }
        }
    }
}

/// The errno a refused command or dial is logged and retried with (`CONNECT ERR`).
fn dial_errno(f: &Final) -> u32 {
    match f {
        // EBUSY, ECONNRESET, ENETUNREACH, ETIMEDOUT: what the same outcome of a TCP connect
        // would say.
        Final::Busy => 16,
        Final::NoCarrier => 104,
        Final::NoDialtone => 101,
        Final::NoAnswer => 110,
        _ => 5,
    }
}

/// Carries the session's bytes over the call until either side ends it. The session's end
/// hangs up; a lost carrier or a closed tty ends the session.
async fn bridge(port: SerialStream, mut session: DuplexStream, op_delay: Duration, tty: String) {
    let (mut from_modem, mut to_modem) = tokio::io::split(port);
    let mut inbound = [0u8; 2048];
    let mut outbound = [0u8; 2048];
    // The last bytes read, to see NO CARRIER split over two reads.
    let mut recent: Vec<u8> = Vec::with_capacity(64);
    let hang_up = loop {
        tokio::select! {
            r = from_modem.read(&mut inbound) => {
                let n = match r {
                    Ok(0) | Err(_) => break false,
                    Ok(n) => n,
                };
                let chunk = &inbound[..n];
                let before = recent.len();
                recent.extend_from_slice(chunk);
                if let Some(at) = find(&recent, NO_CARRIER) {
                    // What came before the modem's report is still the session's.
                    let keep = at.saturating_sub(before).min(n);
                    let _ = session.write_all(&chunk[..keep]).await;
                    tracing::debug!("dial-up {tty}: NO CARRIER");
                    break false;
                }
                let tail = recent.len().saturating_sub(NO_CARRIER.len());
                recent.drain(..tail);
                if session.write_all(chunk).await.is_err() {
                    break true;
                }
            }
            r = session.read(&mut outbound) => {
                let n = match r {
                    Ok(0) | Err(_) => break true,
                    Ok(n) => n,
                };
                if write_paced(&mut to_modem, &outbound[..n], op_delay).await.is_err() {
                    break false;
                }
            }
        }
    };
    drop(session);
    if hang_up {
        let mut port = from_modem.unsplit(to_modem);
        hang_up_line(&mut port).await;
        tracing::debug!("dial-up {tty}: hung up");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes `bytes`, waiting `op_delay` after each complete operation (its ETX).
async fn write_paced<W: AsyncWriteExt + Unpin>(
    out: &mut W,
    mut bytes: &[u8],
    op_delay: Duration,
) -> std::io::Result<()> {
    if op_delay.is_zero() {
        return out.write_all(bytes).await;
    }
    while let Some(end) = bytes.iter().position(|&b| b == ETX) {
        out.write_all(&bytes[..=end]).await?;
        tokio::time::sleep(op_delay).await;
        bytes = &bytes[end + 1..];
    }
    out.write_all(bytes).await
}

/// `+++` between guard times back to command mode, then `ATH`. A modem that does not answer
/// is closed all the same: the next call starts with `ATZ`.
async fn hang_up_line(port: &mut SerialStream) {
    tokio::time::sleep(GUARD).await;
    if port.write_all(b"+++").await.is_err() {
        return;
    }
    tokio::time::sleep(GUARD).await;
    wait_for_final(port).await;
    if port.write_all(b"ATH\r").await.is_err() {
        return;
    }
    wait_for_final(port).await;
}

async fn wait_for_final(port: &mut SerialStream) -> Option<Final> {
    let mut parser = Parser::new();
    let mut buf = [0u8; 256];
    let deadline = tokio::time::Instant::now() + HANG_UP_WAIT;
    loop {
        let n = match tokio::time::timeout_at(deadline, port.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return None,
        };
        for e in parser.feed(&buf[..n]) {
            if let Event::Final(f) = e {
                return Some(f);
            }
        }
    }
}
