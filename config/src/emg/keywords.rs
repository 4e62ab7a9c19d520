//! What EMG's keywords become: the tables of those emg does not carry (and why), those it
//! spells differently, and how a value's type is told.

use crate::model::Protocol;
use std::io::Read;
use toml::Value;

/// General keywords emg has no counterpart for, and why.
pub(super) const GENERAL_NOT_CARRIED: &[(&str, &str)] = &[
    ("BACKEND", "emg has a store of its own (backend = \"sqlite\" or \"postgres\"): the messages queued and the delivery reports open in EMG's stay there"),
    ("BACKEND_DLR", "emg keeps open delivery reports in its own store: those in EMG's stay there"),
    ("SPOOLDIR", "emg keeps its store in datadir: the messages in EMG's spool stay there"),
    ("CONNECTORLOGDB", "emg does not write logs into a database; the connector logs are files in logdir"),
    ("ROUTELOGDB", "emg keeps its routelog in its own store; EMG's routelog table is not used"),
    ("PDULOGDB", "emg does not write PDU logs into a database; they are files in logdir"),
    ("CONNECTOR_LOGLEVEL", "connector logs have no level of their own in emg"),
    ("DBPROFILE", "EMG's database profiles are not used by emg"),
    ("DBCONFIG", "configuration kept in EMG's database tables cannot be read here; export it into server.cfg and import again"),
    ("DISABLE_CREDITS", "emg has no database credit handling to disable"),
    ("DISABLE_MESSAGEBODY", "emg has no messagebody table"),
    ("DISABLE_MESSAGEOPTION", "emg has no messageoption table"),
    ("ROTATELOGS", "emg does not rotate its logs itself: logrotate does (the Debian package installs /etc/logrotate.d/emg), and emgd reopens its files on SIGHUP"),
    ("ROTATELOGS_DEBUG", "emg does not rotate its logs itself: logrotate does"),
    ("PROFILING_THRESHOLD", "emg has no profiling log; the general log at debug level and the metrics show slow operations"),
];

/// General keywords that emg always does: carried by saying nothing.
pub(super) const GENERAL_ALWAYS: &[&str] = &["LOGYEAR", "PERSISTFILES"];

/// Connector keywords emg has no counterpart for, and why.
pub(super) const CONNECTOR_NOT_CARRIED: &[(&str, &str)] = &[
    ("USERDB", "the users are in EMG's database, which emg cannot read; add them as [user.NAME] tables"),
    ("ROUTEDLR", "emg routes a delivery report back to the connector its message came in on; a separate DLR route is not available"),
    ("REDIRECT", "emg has no DLR redirection for one-way connectors"),
    ("DEFAULT_CHARCODE_TEXT", "emg reads the character set from each request"),
    ("PLUGIN", "Perl plugins do not run in emg; rewrite it as a Lua [plugin.NAME] (emg-plugins(7)) and attach it with plugins = [\"NAME:string\"]"),
    ("LIBRARY", "custom (DLL) connectors do not run in emg"),
    ("LOGLEVEL", "connector logs have no level of their own in emg"),
    ("XAUTH", "emg serves EMG's HTTP admin API (/admin/...) on a listener of its own: set admin_address, where operators ([operator.NAME]) log in; it does not share a connector's port"),
];

/// EMG connector keywords spelled differently in emg.
pub(super) const CONNECTOR_RENAMED: &[(&str, &str)] = &[
    ("SUBADDRESS", "address"),
    ("REPLACE_PREFIX", "replaceprefix"),
    ("REPLACE_PREFIX_IN", "replaceprefix_in"),
    ("DEFAULT_SMSCOP", "http_method"),
    // A flag (EMG 7.2): `dlr_session = "same_ip"` (see `convert`).
    ("DLR_TO_SAME_IP", "dlr_session"),
    ("XAUTHUSER", "username"),
    ("XAUTHPASSWORD", "password"),
];

/// EMG keywords of one protocol spelled differently in emg: the dial-up modem keywords of an
/// outgoing UCP connector and the GSM connector's.
pub(super) const PROTOCOL_RENAMED: &[(Protocol, &str, &str)] = &[
    (Protocol::Ucp, "PHONE", "phone"),
    (Protocol::Ucp, "DEVICE", "tty"),
    (Protocol::Ucp, "INITSTRING", "dial_init"),
    (Protocol::Ucp, "DELAYAFTERCONNECT", "dial_connectdelay_ms"),
    (Protocol::Ucp, "DELAYAFTEROP", "dial_opdelay_ms"),
    (Protocol::Ucp, "MAXMESSAGESPERSESSION", "dial_messages"),
    (Protocol::Ucp, "DEFAULT_SOURCEADDR", "dial_sourceaddr"),
    (Protocol::Gsm, "INITSTRING", "gsm_init"),
    (Protocol::Gsm, "POLL", "gsm_poll"),
    (Protocol::Gsm, "NOSCA", "gsm_nosca"),
    (Protocol::Gsm, "MEMORY", "gsm_memory"),
    (Protocol::Gsm, "DESTADDR", "gsm_destaddr"),
];

/// Keywords given in seconds in EMG and in milliseconds in emg.
pub(super) const SECONDS_TO_MILLIS: &[&str] = &["dial_connectdelay_ms", "dial_opdelay_ms"];

/// Keywords whose value is text even when it is all digits (numbers to dial, addresses).
pub(super) const TEXT_KEYWORDS: &[&str] = &["phone", "dial_sourceaddr", "gsm_destaddr"];

/// Connector keywords whose value is a count.
pub(super) const INTEGER_KEYWORDS: &[&str] = &[
    "instances",
    "idletimeout",
    "keepalive",
    "maxqueuesize",
    "windowsize",
];

/// Keywords whose value names a file that is copied beside the output.
pub(super) const FILE_KEYWORDS: &[&str] = &["mapping", "retryscheme", "blacklist"];

pub(super) fn protocol_of(word: &str) -> Option<Protocol> {
    Some(match word.to_ascii_lowercase().as_str() {
        "smpp" => Protocol::Smpp,
        "http" => Protocol::Http,
        "smtp" => Protocol::Smtp,
        "ucp" | "emi" => Protocol::Ucp,
        "cimd2" | "cimd" => Protocol::Cimd2,
        "mgp" => Protocol::Mgp,
        "ebe" => Protocol::Ebe,
        "gsm" => Protocol::Gsm,
        _ => return None,
    })
}

/// An integer, a decimal number, or (for validation to refuse with its reason) the text.
pub(super) fn number(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        Value::Integer(i)
    } else if let Ok(f) = v.parse::<f64>() {
        Value::Float(f)
    } else {
        Value::String(v.to_string())
    }
}

/// EMG's seconds (`2`, `0.5`) as emg's milliseconds; anything else as the text, for
/// validation to refuse with its reason.
pub(super) fn millis(v: &str) -> Value {
    match v.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Value::Integer((s * 1000.0).round() as i64),
        _ => Value::String(v.to_string()),
    }
}

/// A flag is `true`; digits a number; anything else a string.
pub(super) fn guess(v: Option<&str>) -> Value {
    match v {
        None => Value::Boolean(true),
        Some(v) if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) => number(v),
        Some(v) => Value::String(v.to_string()),
    }
}

/// 32 hex digits from the system's random source (time and pid if it cannot be read).
pub(super) fn random_key() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (t ^ u128::from(std::process::id())).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
