//! Data calls, for UCP over a dial-up modem: `ATD` to a number given with `--dial
//! NUMBER=HOST:PORT` asks the serve loop to connect that peer (an SMSC over TCP), answers
//! `CONNECT 9600` once it has and carries the line's bytes both ways; `+++` with a guard
//! time of silence before and after returns to command mode (`OK`) with the call up, `ATO`
//! goes back online, `ATH` (or `ATZ`) hangs up. The peer going away, the tty closing or the
//! `drop-carrier` control ends the call with `NO CARRIER`. A number nobody answers gets
//! `NO CARRIER` at once, as before calls were simulated.
//!
//! Still sans-io: the serve loop asks [`Modem::take_dial`] whom to connect, reports with
//! [`Modem::call_connected`] and [`Modem::peer_closed`], and moves the bytes with
//! [`Modem::take_uplink`] and [`Modem::downlink`].

use super::{Fail, Modem};
use serde_json::json;

/// The silence `+++` needs before and after it (Hayes S12, 50 × 20 ms).
pub const GUARD_MS: u64 = 1000;

/// Where the call is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum CallState {
    #[default]
    None,
    /// `ATD` given; the serve loop is connecting this peer.
    Dialing(String),
    /// Bytes go to and from the peer.
    Online,
    /// Back in command mode after `+++`, the call still up.
    Escaped,
}

/// The call and the data phase's state.
#[derive(Debug, Default)]
pub(super) struct Call {
    pub(super) state: CallState,
    /// The peer to connect, once, for the serve loop.
    dial: Option<String>,
    /// Bytes from the tty for the peer.
    up: Vec<u8>,
    /// The serve loop must close the peer connection.
    hang_up: bool,
    /// When the last byte came from the tty.
    last_input_ms: u64,
    /// `+` characters held back as a possible escape, and when the last came.
    plus: usize,
    plus_ms: u64,
    /// Calls made, for the events.
    calls: u64,
}

impl Modem {
    /// `ATD<number>`: a known number is dialled (its final result comes with the connect),
    /// any other gets NO CARRIER.
    pub(super) fn dial(&mut self, number: &str) -> Result<(), Fail> {
        let number: String = number
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | 'T' | 't' | 'P' | 'p'))
            .collect();
        self.event(json!({"event": "dial", "number": number}));
        if self.call.state != CallState::None {
            return Err(Fail::Error);
        }
        match self.opts.dial.iter().find(|(n, _)| *n == number) {
            Some((_, peer)) => {
                self.call.state = CallState::Dialing(peer.clone());
                self.call.dial = Some(peer.clone());
                Ok(())
            }
            None => Err(Fail::NoCarrier),
        }
    }

    /// Whether a dial is waiting for its peer (the command line's final result waits too).
    pub(super) fn dialing(&self) -> bool {
        matches!(self.call.state, CallState::Dialing(_))
    }

    /// The peer the serve loop should connect now.
    pub fn take_dial(&mut self) -> Option<String> {
        self.call.dial.take()
    }

    /// The serve loop connected the peer (or could not).
    pub fn call_connected(&mut self, ok: bool) {
        if !self.dialing() {
            return;
        }
        if ok {
            self.call.state = CallState::Online;
            self.call.calls += 1;
            self.call.last_input_ms = self.now_ms;
            self.event(json!({"event": "connected", "call": self.call.calls}));
            self.info("CONNECT 9600");
        } else {
            self.call.state = CallState::None;
            self.event(json!({"event": "no-answer"}));
            self.info("NO CARRIER");
        }
    }

    /// Bytes for the peer.
    pub fn take_uplink(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.call.up)
    }

    /// Bytes from the peer: on the line while online, dropped in command mode (the modem has
    /// no room to keep them).
    pub fn downlink(&mut self, bytes: &[u8]) {
        if self.call.state == CallState::Online {
            self.out.extend_from_slice(bytes);
        } else {
            self.event(json!({"event": "data-dropped", "octets": bytes.len()}));
        }
    }

    /// Whether the serve loop must close the peer connection now.
    pub fn take_hang_up(&mut self) -> bool {
        std::mem::take(&mut self.call.hang_up)
    }

    /// The peer closed the connection: the carrier is gone.
    pub fn peer_closed(&mut self) {
        if matches!(self.call.state, CallState::Online | CallState::Escaped) {
            self.lose_carrier("the peer closed");
        }
    }

    /// The call ends without anybody asking: NO CARRIER on the line.
    pub(super) fn lose_carrier(&mut self, why: &str) {
        self.end_call(why);
        self.info("NO CARRIER");
    }

    /// The call ends (hang-up, carrier lost, tty gone).
    pub(super) fn end_call(&mut self, why: &str) {
        if self.call.state == CallState::None {
            return;
        }
        self.flush_plus();
        self.call.state = CallState::None;
        self.call.dial = None;
        self.call.hang_up = true;
        self.event(json!({"event": "hung-up", "why": why}));
    }

    /// `ATH`, `ATZ`: hang up if a call is up.
    pub(super) fn hang_up_command(&mut self) {
        self.end_call("ATH");
    }

    /// `ATO`: back online from command mode.
    pub(super) fn online_again(&mut self) -> Result<(), Fail> {
        if self.call.state != CallState::Escaped {
            return Err(Fail::NoCarrier);
        }
        self.call.state = CallState::Online;
        self.event(json!({"event": "online"}));
        self.info("CONNECT 9600");
        Ok(())
    }

    /// One byte from the tty while online: data, or part of the `+++` escape.
    pub(super) fn data_byte(&mut self, b: u8) {
        let now = self.now_ms;
        let quiet = now.saturating_sub(self.call.last_input_ms) >= GUARD_MS;
        self.call.last_input_ms = now;
        if b == b'+' && self.call.plus < 3 && (self.call.plus > 0 || quiet) {
            self.call.plus += 1;
            self.call.plus_ms = now;
            return;
        }
        self.flush_plus();
        self.call.up.push(b);
    }

    /// Held-back `+` characters that were data after all.
    fn flush_plus(&mut self) {
        let n = std::mem::take(&mut self.call.plus);
        self.call.up.extend(std::iter::repeat_n(b'+', n));
    }

    /// When the escape's closing guard time ends.
    pub(super) fn escape_deadline(&self) -> Option<u64> {
        (self.call.state == CallState::Online && self.call.plus == 3)
            .then_some(self.call.plus_ms + GUARD_MS)
    }

    /// Time passed: `+++` followed by a guard time of silence is the escape.
    pub(super) fn call_tick(&mut self) {
        if self
            .escape_deadline()
            .is_some_and(|due| due <= self.now_ms && self.call.last_input_ms == self.call.plus_ms)
        {
            self.call.plus = 0;
            self.call.state = CallState::Escaped;
            self.event(json!({"event": "escaped"}));
            self.info("OK");
        }
    }
}
