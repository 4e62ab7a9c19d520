//! The parameters the spec defines: code, name, type and bounds.
//!
//! Each known parameter's value is checked on decode against its type (an integer in range,
//! an address of digits, a 12-digit time, hex octets) and its maximum length, so everything
//! above the codec can trust a parameter it finds. Unknown codes pass unchecked and are kept.

pub const USER_IDENTITY: u16 = 10;
pub const PASSWORD: u16 = 11;
pub const SUBADDRESS: u16 = 12;
pub const WINDOW_SIZE: u16 = 19;
pub const DESTINATION_ADDRESS: u16 = 21;
pub const ORIGINATING_ADDRESS: u16 = 23;
pub const ORIGINATING_IMSI: u16 = 26;
pub const ALPHANUMERIC_ORIGINATING_ADDRESS: u16 = 27;
pub const ORIGINATED_VISITED_MSC_ADDRESS: u16 = 28;
pub const DATA_CODING_SCHEME: u16 = 30;
pub const USER_DATA_HEADER: u16 = 32;
pub const USER_DATA: u16 = 33;
pub const USER_DATA_BINARY: u16 = 34;
pub const MORE_MESSAGES_TO_SEND: u16 = 44;
pub const VALIDITY_PERIOD_RELATIVE: u16 = 50;
pub const VALIDITY_PERIOD_ABSOLUTE: u16 = 51;
pub const PROTOCOL_IDENTIFIER: u16 = 52;
pub const FIRST_DELIVERY_TIME_RELATIVE: u16 = 53;
pub const FIRST_DELIVERY_TIME_ABSOLUTE: u16 = 54;
pub const REPLY_PATH: u16 = 55;
pub const STATUS_REPORT_REQUEST: u16 = 56;
pub const CANCEL_ENABLED: u16 = 58;
pub const CANCEL_MODE: u16 = 59;
pub const SERVICE_CENTRE_TIME_STAMP: u16 = 60;
pub const STATUS_CODE: u16 = 61;
pub const STATUS_ERROR_CODE: u16 = 62;
pub const DISCHARGE_TIME: u16 = 63;
pub const TARIFF_CLASS: u16 = 64;
pub const SERVICE_DESCRIPTION: u16 = 65;
pub const MESSAGE_COUNT: u16 = 66;
pub const PRIORITY: u16 = 67;
pub const DELIVERY_REQUEST_MODE: u16 = 68;
pub const SERVICE_CENTER_ADDRESS: u16 = 69;
pub const GET_PARAMETER: u16 = 500;
pub const MC_TIME: u16 = 501;
pub const ERROR_CODE: u16 = 900;
pub const ERROR_TEXT: u16 = 901;

/// What a parameter's value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Decimal, an optional leading `-`, within `min..=max`.
    Int { min: i32, max: i32 },
    /// Digits, with `+` allowed.
    Address,
    /// `yymmddhhmmss`.
    Time,
    /// Hex digits, an even number of them.
    Hex,
    /// Free text.
    Str,
    /// Text in the CIMD2 alphabet ([`super::text`]).
    UserData,
}

/// One row of the spec's parameter table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub code: u16,
    /// Upper case, no spaces: the name in PDU logs.
    pub name: &'static str,
    pub kind: Kind,
    /// Most characters in the value.
    pub max_len: usize,
}

const fn int(min: i32, max: i32) -> Kind {
    Kind::Int { min, max }
}

#[rustfmt::skip]
pub const TABLE: [Spec; 37] = [
    Spec { code: USER_IDENTITY, name: "USERIDENTITY", kind: Kind::Str, max_len: 32 },
    Spec { code: PASSWORD, name: "PASSWORD", kind: Kind::Str, max_len: 32 },
    Spec { code: SUBADDRESS, name: "SUBADDRESS", kind: Kind::Str, max_len: 3 },
    Spec { code: WINDOW_SIZE, name: "WINDOWSIZE", kind: int(1, 128), max_len: 3 },
    Spec { code: DESTINATION_ADDRESS, name: "DESTINATIONADDRESS", kind: Kind::Address, max_len: 20 },
    Spec { code: ORIGINATING_ADDRESS, name: "ORIGINATINGADDRESS", kind: Kind::Address, max_len: 20 },
    Spec { code: ORIGINATING_IMSI, name: "ORIGINATINGIMSI", kind: Kind::Address, max_len: 20 },
    Spec { code: ALPHANUMERIC_ORIGINATING_ADDRESS, name: "ALPHANUMERICORIGINATINGADDRESS", kind: Kind::Str, max_len: 11 },
    Spec { code: ORIGINATED_VISITED_MSC_ADDRESS, name: "ORIGINATEDVISITEDMSCADDRESS", kind: Kind::Address, max_len: 20 },
    Spec { code: DATA_CODING_SCHEME, name: "DATACODINGSCHEME", kind: int(0, 255), max_len: 3 },
    Spec { code: USER_DATA_HEADER, name: "USERDATAHEADER", kind: Kind::Hex, max_len: 280 },
    Spec { code: USER_DATA, name: "USERDATA", kind: Kind::UserData, max_len: 480 },
    Spec { code: USER_DATA_BINARY, name: "USERDATABINARY", kind: Kind::Hex, max_len: 280 },
    Spec { code: MORE_MESSAGES_TO_SEND, name: "MOREMESSAGESTOSEND", kind: int(0, 1), max_len: 1 },
    Spec { code: VALIDITY_PERIOD_RELATIVE, name: "VALIDITYPERIODRELATIVE", kind: int(-1, 255), max_len: 3 },
    Spec { code: VALIDITY_PERIOD_ABSOLUTE, name: "VALIDITYPERIODABSOLUTE", kind: Kind::Time, max_len: 12 },
    Spec { code: PROTOCOL_IDENTIFIER, name: "PROTOCOLIDENTIFIER", kind: int(0, 255), max_len: 3 },
    Spec { code: FIRST_DELIVERY_TIME_RELATIVE, name: "FIRSTDELIVERYTIMERELATIVE", kind: int(-1, 255), max_len: 3 },
    Spec { code: FIRST_DELIVERY_TIME_ABSOLUTE, name: "FIRSTDELIVERYTIMEABSOLUTE", kind: Kind::Time, max_len: 12 },
    Spec { code: REPLY_PATH, name: "REPLYPATH", kind: int(0, 1), max_len: 1 },
    Spec { code: STATUS_REPORT_REQUEST, name: "STATUSREPORTREQUEST", kind: int(0, 63), max_len: 2 },
    Spec { code: CANCEL_ENABLED, name: "CANCELENABLED", kind: int(0, 1), max_len: 1 },
    Spec { code: CANCEL_MODE, name: "CANCELMODE", kind: int(0, 2), max_len: 1 },
    Spec { code: SERVICE_CENTRE_TIME_STAMP, name: "SERVICECENTRETIMESTAMP", kind: Kind::Time, max_len: 12 },
    Spec { code: STATUS_CODE, name: "STATUSCODE", kind: int(0, 9), max_len: 2 },
    Spec { code: STATUS_ERROR_CODE, name: "STATUSERRORCODE", kind: int(0, 999), max_len: 3 },
    Spec { code: DISCHARGE_TIME, name: "DISCHARGETIME", kind: Kind::Time, max_len: 12 },
    Spec { code: TARIFF_CLASS, name: "TARIFFCLASS", kind: int(0, 99), max_len: 2 },
    Spec { code: SERVICE_DESCRIPTION, name: "SERVICEDESCRIPTION", kind: int(0, 9), max_len: 2 },
    Spec { code: MESSAGE_COUNT, name: "MESSAGECOUNT", kind: int(0, 999), max_len: 3 },
    Spec { code: PRIORITY, name: "PRIORITY", kind: int(1, 9), max_len: 1 },
    Spec { code: DELIVERY_REQUEST_MODE, name: "DELIVERYREQUESTMODE", kind: int(0, 2), max_len: 1 },
    Spec { code: SERVICE_CENTER_ADDRESS, name: "SERVICECENTERADDRESS", kind: Kind::Address, max_len: 20 },
    Spec { code: GET_PARAMETER, name: "GETPARAMETER", kind: int(501, 999), max_len: 3 },
    Spec { code: MC_TIME, name: "MCTIME", kind: Kind::Time, max_len: 12 },
    Spec { code: ERROR_CODE, name: "ERRORCODE", kind: int(0, 999), max_len: 3 },
    Spec { code: ERROR_TEXT, name: "ERRORTEXT", kind: Kind::Str, max_len: 64 },
];

/// The table row for `code`.
pub fn spec(code: u16) -> Option<&'static Spec> {
    TABLE.iter().find(|s| s.code == code)
}

/// Checks `value` against the row for `code`; unknown codes pass. `Err` says what is wrong.
pub fn check(code: u16, value: &[u8]) -> Result<(), String> {
    let Some(s) = spec(code) else {
        return Ok(());
    };
    if value.len() > s.max_len {
        return Err(format!(
            "{} has {} characters, at most {} allowed",
            s.name,
            value.len(),
            s.max_len
        ));
    }
    let digits = |v: &[u8]| !v.is_empty() && v.iter().all(u8::is_ascii_digit);
    let ok = match s.kind {
        Kind::Int { min, max } => {
            let body = value.strip_prefix(b"-").unwrap_or(value);
            digits(body)
                && std::str::from_utf8(value)
                    .ok()
                    .and_then(|t| t.parse::<i32>().ok())
                    .is_some_and(|n| (min..=max).contains(&n))
        }
        Kind::Address => value.iter().all(|b| b.is_ascii_digit() || *b == b'+'),
        Kind::Time => value.len() == 12 && digits(value),
        Kind::Hex => value.len().is_multiple_of(2) && value.iter().all(u8::is_ascii_hexdigit),
        Kind::Str | Kind::UserData => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} {:?} is not {}",
            s.name,
            String::from_utf8_lossy(value),
            match s.kind {
                Kind::Int { min, max } => format!("an integer {min}..{max}"),
                Kind::Address => "an address of digits".into(),
                Kind::Time => "a yymmddhhmmss time".into(),
                _ => "hex octets".into(),
            }
        ))
    }
}
