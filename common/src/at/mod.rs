//! Sans-io parser for what a GSM modem says on its AT command line (3GPP TS 27.007, 27.005).
//!
//! Bytes from the tty go in ([`Parser::feed`]); typed [`Event`]s come out: final result codes,
//! the `> ` prompt of `AT+CMGS`, information lines such as `+CMGS: <mr>`, listed and read
//! messages with their PDU line, unsolicited result codes (`+CMTI`, `+CDS`, `+CDSI`, `RING`)
//! that may arrive between any two lines, and the echo of the last command. The connector in
//! `emgd` owns the dialogue (which command is outstanding, timeouts); this module only knows the
//! line formats, so every quirk is testable with byte strings.
//!
//! Bounded and total: a line longer than [`MAX_LINE`] is dropped (and reported) rather than
//! buffered, the only other state is the header of a message whose PDU line is due, and no
//! input makes it panic.

pub mod classify;
pub mod fields;
pub mod parser;

pub use parser::{Parser, MAX_LINE};

/// A result code that ends a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Final {
    Ok,
    Error,
    /// `+CMS ERROR: <err>`: a message service failure (TS 27.005 §3.2.5).
    CmsError(ErrorCode),
    /// `+CME ERROR: <err>`: an equipment failure (TS 27.007 §9.2), e.g. SIM PIN required.
    CmeError(ErrorCode),
    /// `CONNECT [<text>]` after a dial: the line is now data.
    Connect(String),
    NoCarrier,
    NoDialtone,
    Busy,
    NoAnswer,
}

impl Final {
    /// Whether the command succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, Final::Ok | Final::Connect(_))
    }
}

/// The `<err>` of `+CMS ERROR` / `+CME ERROR`: numeric after `AT+CMEE=1`, words after
/// `AT+CMEE=2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    Code(u16),
    Text(String),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorCode::Code(n) => write!(f, "{n}"),
            ErrorCode::Text(t) => f.write_str(t),
        }
    }
}

/// One message storage in a `+CPMS` answer: used and total slots, with the memory's name when
/// the answer gives it (the query form does, the set form does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    pub mem: Option<String>,
    pub used: u32,
    pub total: u32,
}

/// What one line (or the prompt) from the modem means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The modem echoed the command last passed to [`Parser::sent`].
    Echo(String),
    Final(Final),
    /// `> `: send the PDU now, ended by Ctrl-Z.
    Prompt,
    /// `+CMGS: <mr>`: the message went, with this TP-MR.
    Sent {
        mr: u8,
    },
    /// `+CMGL: <index>,<stat>,[<alpha>],<length>` and its PDU line.
    Listed {
        index: u32,
        stat: u8,
        length: usize,
        pdu: Vec<u8>,
    },
    /// `+CMGR: <stat>,[<alpha>],<length>` and its PDU line.
    Read {
        stat: u8,
        length: usize,
        pdu: Vec<u8>,
    },
    /// `+CMT: [<alpha>],<length>` and its PDU line: a message routed straight to us.
    Delivered {
        length: usize,
        pdu: Vec<u8>,
    },
    /// `+CDS: <length>` and its PDU line: a status report routed straight to us.
    StatusReport {
        length: usize,
        pdu: Vec<u8>,
    },
    /// `+CMTI: <mem>,<index>`: a message was stored.
    Stored {
        mem: String,
        index: u32,
    },
    /// `+CDSI: <mem>,<index>`: a status report was stored.
    ReportStored {
        mem: String,
        index: u32,
    },
    /// `+CPMS:` in either the query or the set form.
    Storages(Vec<Storage>),
    /// `+CPIN: <code>`: READY, SIM PIN, SIM PUK, ...
    Pin(String),
    /// `+CSQ: <rssi>,<ber>`.
    Signal {
        rssi: u8,
        ber: u8,
    },
    /// `+CSCA: <sca>[,<tosca>]`.
    ServiceCentre {
        address: String,
        toa: Option<u8>,
    },
    /// `RING`: an incoming call.
    Ring,
    /// Any other line: answers to `AT+CGMI` and the like, and result codes we do not type.
    Info(String),
    /// A line that announced itself but did not parse (a `+CMGL:` without a PDU after it, a
    /// `+CMGS:` without a number); `why` says what was wrong.
    Malformed {
        line: String,
        why: &'static str,
    },
    /// A line longer than the bound was dropped; `dropped` octets were discarded.
    Overlong {
        dropped: usize,
    },
}
