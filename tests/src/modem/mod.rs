//! A GSM modem simulator: the test peer for emg's GSM connector, proven against gammu,
//! smstools and python-gsmmodem-new (tests/tests/modem_peers.rs).
//!
//! No installable GSM modem emulator exists, so this one answers the AT command set real SMS
//! software uses (V.250 basics, TS 27.007 identification and SIM, TS 27.005 SMS in PDU mode):
//! it takes SMS-SUBMITs with `AT+CMGS`, stores received messages in bounded memories and
//! tells of them with `+CMTI` (or `+CMT`), sends SMS-STATUS-REPORTs (`+CDS`, or stored with
//! `+CDSI`) a while after a submit that asked for one, and lets a test inject messages
//! (concatenated when long), make `AT+CMGS` fail with a `+CMS ERROR`, fall silent, babble or
//! restart. Taking the line away is the harness's part: it stops `socat` ([`crate::pty`]).
//!
//! The core here is sans-io: bytes and control commands in, bytes and JSON events out, the
//! time passed in. [`serve`] runs it on a tty (one end of a `socat` pty pair) and stdin.
//!
//! What it does not show (a real modem would): radio and network delays of seconds, `+CMS
//! ERROR`s the network chooses, text mode (`AT+CMGF=1`, refused here), character sets other
//! than GSM/IRA for `+CSCS`, voice calls, USSD, and the vendor quirks of each model. Data
//! calls are simulated as far as UCP over a dial-up line needs ([`call`]): no modulation,
//! no DCD or DTR lines, a CONNECT at once.

mod call;
pub mod command_line;
mod commands;
pub mod serve;
mod sms;
pub mod storage;

use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use storage::Memory;

/// How the simulated modem behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// SIM PIN; `None`: the SIM is unlocked.
    pub pin: Option<String>,
    /// The service centre address `AT+CSCA?` reports and stored PDUs carry.
    pub sca: String,
    /// Delay between a submit that asks for a status report and the report.
    pub report_delay: Duration,
    /// TP-ST of the reports (0: delivered).
    pub report_status: u8,
    /// Capacity of the SIM memory "SM", the phone memory "ME" and "SR" (status reports).
    pub capacities: [usize; 3],
    /// Index of the first slot of every memory.
    pub first_index: u32,
    /// The first TP-MR handed out by `+CMGS`.
    pub first_mr: u8,
    /// `AT+CMGS` PDUs carry no SCA octets (EMG's `nosca` devices); otherwise they must.
    pub nosca: bool,
    /// Send unsolicited result codes even while waiting for a PDU after `> `, as some
    /// modems do.
    pub urc_at_prompt: bool,
    /// Numbers that answer a data call, and the peer (`host:port`) each is bridged to.
    pub dial: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pin: None,
            sca: "+46705008999".into(),
            report_delay: Duration::from_millis(500),
            report_status: 0,
            capacities: [30, 100, 30],
            first_index: 1,
            first_mr: 1,
            nosca: false,
            urc_at_prompt: false,
            dial: Vec::new(),
        }
    }
}

/// The memory names, in the order of [`Options::capacities`].
pub const MEMORIES: [&str; 3] = ["SM", "ME", "SR"];

/// A control command from the test (one line on the simulator's stdin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// `mo <from> <text>`: a message arrives (split into concatenated parts when long).
    Mo {
        from: String,
        text: String,
    },
    /// `mo-pdu <hex>`: an SMS-DELIVER TPDU, as it is, arrives.
    MoPdu(Vec<u8>),
    /// `cms-error <code> [<count>] [after <n>]`: the next `count` (default 1) `AT+CMGS` fail
    /// so, once `n` (default 0) more have gone through (a later part of a long message).
    CmsError {
        code: u16,
        count: u32,
        after: u32,
    },
    /// `report-status <tp-st>`: the TP-ST of later status reports.
    ReportStatus(u8),
    /// `silent`: read and ignore everything until `wake`.
    Silent,
    /// `silent-on <prefix>`: fall silent at the next command line starting with `prefix`
    /// (before answering it), as a modem that hangs in the middle of a dialogue.
    SilentOn(String),
    Wake,
    /// `garbage <text>`: write these bytes on the line as they are.
    Garbage(String),
    /// `reset`: the modem restarts: settings back to their defaults, memories kept.
    Reset,
    /// `drop-carrier`: the data call is lost (NO CARRIER).
    DropCarrier,
}

impl std::str::FromStr for Control {
    type Err = String;
    fn from_str(line: &str) -> Result<Control, String> {
        let line = line.trim();
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        let num = |s: &str| s.parse::<u32>().map_err(|e| format!("{word}: {e}"));
        Ok(match word {
            "mo" => {
                let (from, text) = rest.split_once(' ').ok_or("mo needs a sender and a text")?;
                Control::Mo {
                    from: from.into(),
                    text: text.into(),
                }
            }
            "mo-pdu" => {
                Control::MoPdu(common::sms_pdu::from_hex(rest).map_err(|e| format!("mo-pdu: {e}"))?)
            }
            "cms-error" => {
                let mut it = rest.split_whitespace();
                let code = num(it.next().ok_or("cms-error needs a code")?)?;
                let mut count = 1;
                let mut after = 0;
                while let Some(w) = it.next() {
                    if w == "after" {
                        after = num(it.next().ok_or("cms-error: after needs a count")?)?;
                    } else {
                        count = num(w)?;
                    }
                }
                Control::CmsError {
                    code: u16::try_from(code).map_err(|e| e.to_string())?,
                    count,
                    after,
                }
            }
            "report-status" => {
                Control::ReportStatus(u8::try_from(num(rest)?).map_err(|e| e.to_string())?)
            }
            "silent" => Control::Silent,
            "silent-on" if !rest.is_empty() => Control::SilentOn(rest.to_ascii_uppercase()),
            "wake" => Control::Wake,
            "garbage" => Control::Garbage(rest.into()),
            "reset" => Control::Reset,
            "drop-carrier" => Control::DropCarrier,
            _ => return Err(format!("unknown control command {word:?}")),
        })
    }
}

/// Settings a reset (`ATZ`, or the modem restarting) puts back.
#[derive(Debug, Clone)]
struct Settings {
    echo: bool,
    cmee: u8,
    cnmi: [u8; 5],
    csmp: [u32; 4],
    cscs: String,
    creg: u8,
    /// Read/delete, write/send and receive memories (`AT+CPMS`).
    cpms: [usize; 3],
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            echo: true,
            cmee: 0,
            cnmi: [0, 0, 0, 0, 0],
            csmp: [17, 167, 0, 0],
            cscs: "GSM".into(),
            creg: 0,
            cpms: [0, 0, 0],
        }
    }
}

/// A submit waiting for its PDU after the `> ` prompt.
#[derive(Debug)]
struct PendingSend {
    length: usize,
    hex: Vec<u8>,
}

/// A status report due at `due` (milliseconds of the caller's clock).
#[derive(Debug)]
struct DueReport {
    due: u64,
    report: common::sms_pdu::StatusReport,
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    Error,
    Cms(u16),
    Cme(u16),
    NoCarrier,
}

/// The simulated modem.
pub struct Modem {
    opts: Options,
    set: Settings,
    sca: String,
    pin_ok: bool,
    mems: [Memory; 3],
    next_mr: u8,
    next_concat_ref: u8,
    line: Vec<u8>,
    line_overflow: bool,
    pending_send: Option<PendingSend>,
    out: Vec<u8>,
    events: Vec<Value>,
    urcs: VecDeque<Vec<u8>>,
    reports: Vec<DueReport>,
    /// Messages that found the receive memory full, waiting for room (the network holds
    /// them and tries again).
    backlog: VecDeque<common::sms_pdu::Deliver>,
    /// What the next `AT+CMGS` commands do: fail with a code, or (None) go through.
    cms_errors: VecDeque<Option<u16>>,
    silent: bool,
    /// `silent-on`: the command line prefix that makes the modem fall silent.
    silent_on: Option<String>,
    /// A command line is being answered: unsolicited codes wait for its final result.
    answering: bool,
    /// The clock of the last call, in milliseconds; Unix time of the caller's clock zero.
    now_ms: u64,
    epoch_unix: i64,
    /// The data call, if any.
    call: call::Call,
}

/// Longest command line kept (V.250 asks for at least 40 characters).
const MAX_LINE: usize = 1024;
/// Longest PDU accepted after `> `: SCA and TPDU, two hex digits an octet.
const MAX_PDU_HEX: usize = 2 * (12 + 164);

impl Modem {
    /// A modem whose clock's zero is Unix time `epoch_unix`.
    pub fn new(opts: Options, epoch_unix: i64) -> Modem {
        let mems = std::array::from_fn(|i| Memory::new(opts.capacities[i], opts.first_index));
        Modem {
            pin_ok: opts.pin.is_none(),
            sca: opts.sca.clone(),
            next_mr: opts.first_mr,
            opts,
            set: Settings::default(),
            mems,
            next_concat_ref: 1,
            line: Vec::new(),
            line_overflow: false,
            pending_send: None,
            out: Vec::new(),
            events: Vec::new(),
            urcs: VecDeque::new(),
            reports: Vec::new(),
            backlog: VecDeque::new(),
            cms_errors: VecDeque::new(),
            silent: false,
            silent_on: None,
            answering: false,
            now_ms: 0,
            epoch_unix,
            call: call::Call::default(),
        }
    }

    /// Bytes to write to the tty now.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Events for the test (JSON objects with an `"event"` key).
    pub fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
    }

    /// When [`Modem::tick`] has something to do next.
    pub fn next_deadline(&self) -> Option<u64> {
        let report = self.reports.iter().map(|r| r.due).min();
        report.into_iter().chain(self.escape_deadline()).min()
    }

    fn unix_now(&self) -> i64 {
        self.epoch_unix + (self.now_ms / 1000) as i64
    }

    fn event(&mut self, v: Value) {
        self.events.push(v);
    }

    /// Bytes from the tty.
    pub fn input(&mut self, bytes: &[u8], now_ms: u64) {
        self.now_ms = now_ms;
        if self.silent {
            return;
        }
        for &b in bytes {
            if self.call.state == call::CallState::Online {
                self.data_byte(b);
                continue;
            }
            if self.pending_send.is_some() {
                self.pdu_byte(b);
                continue;
            }
            if self.set.echo {
                self.out.push(b);
            }
            match b {
                b'\r' => self.end_line(),
                b'\n' => {}
                0x08 | 0x7F => {
                    self.line.pop();
                }
                _ if self.line.len() < MAX_LINE => self.line.push(b),
                _ => self.line_overflow = true,
            }
        }
        self.flush_urcs();
    }

    fn end_line(&mut self) {
        let raw = std::mem::take(&mut self.line);
        if std::mem::take(&mut self.line_overflow) {
            self.final_result(Err(Fail::Error));
            return;
        }
        let text = String::from_utf8_lossy(&raw).to_string();
        // Anything before "AT" is line noise a modem ignores.
        let Some(at) = text.to_ascii_uppercase().find("AT") else {
            return;
        };
        let line = text[at..].trim().to_string();
        self.event(json!({"event": "command", "line": line}));
        if let Some(prefix) = &self.silent_on {
            if line.to_ascii_uppercase().starts_with(prefix.as_str()) {
                self.silent_on = None;
                self.silent = true;
                self.event(json!({"event": "fell-silent", "line": line}));
                return;
            }
        }
        let cmds = match command_line::parse(&line[2..]) {
            Ok(c) => c,
            Err(_) => return self.final_result(Err(Fail::Error)),
        };
        let mut result = Ok(());
        self.answering = true;
        for cmd in &cmds {
            result = self.run(cmd);
            if result.is_err() || self.pending_send.is_some() || self.dialing() {
                break;
            }
        }
        // A dial's final result (CONNECT or NO CARRIER) comes when the peer answers; ATO's
        // CONNECT was its final result.
        if self.pending_send.is_none()
            && !self.dialing()
            && self.call.state != call::CallState::Online
        {
            self.final_result(result);
        }
        self.answering = false;
    }

    fn pdu_byte(&mut self, b: u8) {
        if self.set.echo {
            self.out.push(b);
        }
        match b {
            0x1A => {
                let pending = self.pending_send.take().expect("in PDU input");
                let result = self.submit(pending.length, &pending.hex);
                self.final_result(result);
            }
            0x1B => {
                self.pending_send = None;
                self.event(json!({"event": "send-cancelled"}));
                self.final_result(Ok(()));
            }
            b'\r' | b'\n' | b' ' => {}
            _ => {
                let p = self.pending_send.as_mut().expect("in PDU input");
                if p.hex.len() <= MAX_PDU_HEX {
                    p.hex.push(b);
                }
            }
        }
    }

    /// An information line.
    fn info(&mut self, text: &str) {
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    fn final_result(&mut self, result: Result<(), Fail>) {
        let text = match result {
            Ok(()) => "OK".to_string(),
            Err(Fail::Error) => "ERROR".into(),
            Err(Fail::NoCarrier) => "NO CARRIER".into(),
            Err(Fail::Cms(n)) => match self.set.cmee {
                0 => "ERROR".into(),
                1 => format!("+CMS ERROR: {n}"),
                _ => format!("+CMS ERROR: {}", commands::cms_text(n)),
            },
            Err(Fail::Cme(n)) => match self.set.cmee {
                0 => "ERROR".into(),
                1 => format!("+CME ERROR: {n}"),
                _ => format!("+CME ERROR: {}", commands::cme_text(n)),
            },
        };
        self.info(&text);
    }

    /// Sends an unsolicited result code now, or after the PDU being typed.
    fn urc(&mut self, text: Vec<u8>) {
        self.urcs.push_back(text);
        self.flush_urcs();
    }

    fn flush_urcs(&mut self) {
        if self.silent
            || self.answering
            || (self.pending_send.is_some() && !self.opts.urc_at_prompt)
            || self.call.state == call::CallState::Online
        {
            return;
        }
        while let Some(u) = self.urcs.pop_front() {
            self.out.extend_from_slice(&u);
        }
    }

    /// A control command from the test.
    pub fn control(&mut self, c: Control, now_ms: u64) {
        self.now_ms = now_ms;
        match c {
            Control::Mo { from, text } => self.inject_text(&from, &text),
            Control::MoPdu(tpdu) => self.inject_pdu(&tpdu),
            Control::CmsError { code, count, after } => {
                self.cms_errors
                    .extend(std::iter::repeat_n(None, after as usize));
                self.cms_errors
                    .extend(std::iter::repeat_n(Some(code), count as usize));
            }
            Control::ReportStatus(st) => self.opts.report_status = st,
            Control::Silent => self.silent = true,
            Control::SilentOn(prefix) => self.silent_on = Some(prefix),
            Control::Wake => {
                self.silent = false;
                self.flush_urcs();
            }
            Control::Garbage(text) => self.out.extend_from_slice(text.as_bytes()),
            Control::Reset => self.reset(),
            Control::DropCarrier => self.lose_carrier("drop-carrier"),
        }
    }

    /// The tty went away: whatever was half typed is lost, as on a real line.
    pub fn line_closed(&mut self) {
        self.end_call("the tty closed");
        self.line.clear();
        self.pending_send = None;
        self.out.clear();
    }

    fn reset(&mut self) {
        self.end_call("reset");
        self.set = Settings::default();
        self.pin_ok = self.opts.pin.is_none();
        self.pending_send = None;
        self.line.clear();
        self.event(json!({"event": "reset"}));
    }

    /// Time passes: sends the status reports that are due.
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        self.call_tick();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.reports)
            .into_iter()
            .partition(|r| r.due <= now_ms);
        self.reports = later;
        for r in due {
            self.deliver_report(r.report);
        }
    }

    /// Settings and memories as the test may want to assert them.
    pub fn snapshot(&self) -> Value {
        let mems: BTreeMap<&str, usize> = MEMORIES
            .iter()
            .zip(&self.mems)
            .map(|(n, m)| (*n, m.slots.len()))
            .collect();
        json!({
            "echo": self.set.echo,
            "cmee": self.set.cmee,
            "cnmi": self.set.cnmi,
            "cpms": self.set.cpms.map(|i| MEMORIES[i]),
            "stored": mems,
            "backlog": self.backlog.len(),
        })
    }
}

#[cfg(test)]
mod tests;
