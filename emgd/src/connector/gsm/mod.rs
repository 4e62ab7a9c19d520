//! GSM modems on a serial line (`protocol = "gsm"`): always outgoing, one instance. Messages
//! leave as SMS-SUBMIT PDUs we encode (`common::sms_pdu`) through `AT+CMGS`; received
//! messages and status reports are read from the modem's memory every `gsm_poll` seconds
//! (and at once on `+CMTI`), routed like any MO or matched to their DLR entry, and deleted
//! from the modem only once the store has them.
//!
//! | file | what |
//! |---|---|
//! | [`modem`] | the AT dialogue on the tty: set-up, one command at a time, `+CMGS`, `+CMGL`, `+CMGR`, `+CMGD` |
//! | [`session`] | the task that owns the modem: sends, polls, reads unsolicited codes, reopens a lost line |
//! | [`outgoing`] | the connector runtime's side: each queued message handed to the session |
//! | [`convert`] | `Message` <-> PDUs: parts of a long message, MO and status reports |
//!
//! See `man/emg.toml.5` (GSM CONNECTORS) for the keywords.

pub mod convert;
pub mod modem;
pub mod outgoing;
pub mod session;

use common::at::Final;

/// What went wrong with the modem.
#[derive(Debug, thiserror::Error)]
pub enum ModemError {
    #[error("cannot open {tty}: {why}")]
    Open {
        tty: String,
        errno: u32,
        why: String,
    },
    #[error("serial line: {0}")]
    Io(#[from] std::io::Error),
    #[error("the tty closed")]
    Closed,
    #[error("no answer to {0}")]
    Timeout(String),
    #[error("{0} answered {1:?}")]
    Refused(String, Final),
    #[error("the SIM wants a PIN and gsm_pin is not set")]
    PinNeeded,
    #[error("the SIM is in state {0}")]
    Sim(String),
    #[error("+CMGS gave no message reference")]
    NoReference,
}

impl ModemError {
    /// The errno the connector log and the retry scheme's connector rule see.
    pub fn errno(&self) -> u32 {
        match self {
            ModemError::Open { errno, .. } => *errno,
            ModemError::Io(e) => e.raw_os_error().unwrap_or(5) as u32,
            ModemError::Closed => 104,
            ModemError::Timeout(_) => 110,
            ModemError::Refused(_, f) => modem::error_number(f),
            ModemError::PinNeeded | ModemError::Sim(_) => 311,
            ModemError::NoReference => 500,
        }
    }
}
