//! The number spaces of CIMD2: error codes (900), status codes (061) and the status report
//! request bits (056).

/// Error codes carried in parameter 900 of a response.
pub mod error {
    pub const NO_ERROR: u16 = 0;
    pub const UNEXPECTED_OPERATION: u16 = 1;
    pub const SYNTAX_ERROR: u16 = 2;
    pub const UNSUPPORTED_PARAMETER: u16 = 3;
    pub const CONNECTION_TO_SMSC_LOST: u16 = 4;
    pub const NO_RESPONSE_FROM_SMSC: u16 = 5;
    pub const GENERAL_SYSTEM_ERROR: u16 = 6;
    pub const CANNOT_FIND_INFORMATION: u16 = 7;
    pub const PARAMETER_FORMATTING_ERROR: u16 = 8;
    pub const REQUESTED_OPERATION_FAILED: u16 = 9;
    pub const TEMPORARY_CONGESTION: u16 = 10;
    pub const INVALID_LOGIN: u16 = 100;
    pub const INCORRECT_ACCESS_TYPE: u16 = 101;
    pub const TOO_MANY_USERS: u16 = 102;
    pub const LOGIN_REFUSED: u16 = 103;
    pub const INCORRECT_DESTINATION_ADDRESS: u16 = 300;
    pub const INCORRECT_NUMBER_OF_DESTINATIONS: u16 = 301;
    pub const USER_DATA_SYNTAX_ERROR: u16 = 302;
    pub const USER_DATA_COMBINATION: u16 = 303;
    pub const DCS_USAGE: u16 = 304;
    pub const VALIDITY_PERIOD_USAGE: u16 = 305;
    pub const ORIGINATOR_ADDRESS_USAGE: u16 = 306;

    /// The spec's text for an error code.
    pub fn text(code: u16) -> &'static str {
        match code {
            0 => "no error",
            1 => "unexpected operation",
            2 => "syntax error",
            3 => "unsupported parameter error",
            4 => "connection to SMS center lost",
            5 => "no response from SMS center",
            6 => "general system error",
            7 => "cannot find information",
            8 => "parameter formatting error",
            9 => "requested operation failed",
            10 => "temporary congestion error",
            100 => "invalid login",
            101 => "incorrect access type",
            102 => "too many users with this login ID",
            103 => "login refused by SMS center",
            104 => "invalid window size",
            105 => "windowing disabled",
            106 => "virtual SMS center-based barring",
            107 => "invalid subaddress",
            108 => "alias account, login refused",
            300 => "incorrect destination address",
            301 => "incorrect number of destination addresses",
            302 => "syntax error in user data parameter",
            303 => "incorrect bin/head/normal user data parameter combination",
            304 => "incorrect DCS parameter usage",
            305 => "incorrect validity period parameters usage",
            306 => "incorrect originator address usage",
            307 => "incorrect PID parameter usage",
            308 => "incorrect first delivery parameter usage",
            309 => "incorrect reply path usage",
            310 => "incorrect status report request parameter usage",
            311 => "incorrect cancel enabled parameter usage",
            312 => "incorrect priority parameter usage",
            313 => "incorrect tariff class parameter usage",
            314 => "incorrect service description parameter usage",
            315 => "incorrect transport type parameter usage",
            316 => "incorrect message type parameter usage",
            318 => "incorrect MMS parameter usage",
            319 => "incorrect operation timer parameter usage",
            320 => "incorrect dialogue ID parameter usage",
            321 => "incorrect alpha originator address usage",
            322 => "invalid data for alphanumeric originator",
            400 => "incorrect address parameter usage",
            401 => "incorrect SCTS parameter usage",
            500 => "incorrect SCTS parameter usage",
            501 => "incorrect mode parameter usage",
            502 => "incorrect parameter combination",
            600 => "incorrect SCTS parameter usage",
            601 => "incorrect address parameter usage",
            602 => "incorrect mode parameter usage",
            603 => "incorrect parameter combination",
            800 => "changing password failed",
            801 => "changing password not allowed",
            900 => "unsupported item requested",
            _ => "unknown error",
        }
    }
}

/// Status codes (061) in a status report or an enquiry's response.
pub mod code {
    pub const IN_PROCESS: u8 = 1;
    pub const VALIDITY_PERIOD_EXPIRED: u8 = 2;
    pub const DELIVERY_FAILED: u8 = 3;
    pub const DELIVERY_SUCCESSFUL: u8 = 4;
    pub const NO_RESPONSE: u8 = 5;
    pub const LAST_NO_RESPONSE: u8 = 6;
    pub const MESSAGE_CANCELLED: u8 = 7;
    pub const MESSAGE_DELETED: u8 = 8;
    pub const MESSAGE_DELETED_BY_CANCEL: u8 = 9;

    pub fn text(code: u8) -> &'static str {
        match code {
            0 => "no status",
            1 => "in process",
            2 => "validity period expired",
            3 => "delivery failed",
            4 => "delivery successful",
            5 => "no response",
            6 => "last no response",
            7 => "message cancelled",
            8 => "message deleted",
            9 => "message deleted by cancel",
            _ => "unknown status",
        }
    }

    /// Whether no later report can follow this one.
    pub fn is_final(code: u8) -> bool {
        matches!(code, 2 | 3 | 4 | 6..=9)
    }
}

/// Bits of the status report request (056): which outcomes the SMSC reports.
pub mod report {
    pub const TEMPORARY_ERROR: u8 = 1;
    pub const VALIDITY_PERIOD_EXPIRED: u8 = 2;
    pub const DELIVERY_FAILED: u8 = 4;
    pub const DELIVERY_SUCCESSFUL: u8 = 8;
    pub const MESSAGE_CANCELLED: u8 = 16;
    pub const MESSAGE_DELETED: u8 = 32;
    /// Every final outcome: what a gateway asking for a receipt wants.
    pub const FINAL: u8 = VALIDITY_PERIOD_EXPIRED
        | DELIVERY_FAILED
        | DELIVERY_SUCCESSFUL
        | MESSAGE_CANCELLED
        | MESSAGE_DELETED;
}
