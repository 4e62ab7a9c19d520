//! Operation codes. A response is its request's code + 50; 98 and 99 answer anything.

pub const LOGIN: u8 = 1;
pub const LOGOUT: u8 = 2;
pub const SUBMIT: u8 = 3;
pub const ENQUIRE_MESSAGE_STATUS: u8 = 4;
pub const DELIVERY_REQUEST: u8 = 5;
pub const CANCEL: u8 = 6;
pub const SET: u8 = 8;
pub const GET: u8 = 9;
pub const DELIVER_MESSAGE: u8 = 20;
pub const DELIVER_STATUS_REPORT: u8 = 23;
pub const ALIVE: u8 = 40;
/// Add to a request's code for its response.
pub const RESPONSE: u8 = 50;
pub const GENERAL_ERROR_RESPONSE: u8 = 98;
pub const NACK: u8 = 99;

/// Every request the spec defines.
pub const REQUESTS: [u8; 11] = [
    LOGIN,
    LOGOUT,
    SUBMIT,
    ENQUIRE_MESSAGE_STATUS,
    DELIVERY_REQUEST,
    CANCEL,
    SET,
    GET,
    DELIVER_MESSAGE,
    DELIVER_STATUS_REPORT,
    ALIVE,
];

/// Whether `op` is a request or response this codec knows.
pub fn is_known(op: u8) -> bool {
    op == GENERAL_ERROR_RESPONSE
        || op == NACK
        || REQUESTS.contains(&op)
        || (op > RESPONSE && REQUESTS.contains(&(op - RESPONSE)))
}

/// Requests expect a response; responses (51.., 98, 99) do not.
pub fn is_request(op: u8) -> bool {
    op < RESPONSE
}

/// The name in PDU logs.
pub fn name(op: u8) -> &'static str {
    match op {
        LOGIN => "LOGIN",
        LOGOUT => "LOGOUT",
        SUBMIT => "SUBMIT_MESSAGE",
        ENQUIRE_MESSAGE_STATUS => "ENQUIRE_MESSAGE_STATUS",
        DELIVERY_REQUEST => "DELIVERY_REQUEST",
        CANCEL => "CANCEL_MESSAGE",
        SET => "SET",
        GET => "GET",
        DELIVER_MESSAGE => "DELIVER_MESSAGE",
        DELIVER_STATUS_REPORT => "DELIVER_STATUS_REPORT",
        ALIVE => "ALIVE",
        51 => "LOGIN_RESP",
        52 => "LOGOUT_RESP",
        53 => "SUBMIT_MESSAGE_RESP",
        54 => "ENQUIRE_MESSAGE_STATUS_RESP",
        55 => "DELIVERY_REQUEST_RESP",
        56 => "CANCEL_MESSAGE_RESP",
        58 => "SET_RESP",
        59 => "GET_RESP",
        70 => "DELIVER_MESSAGE_RESP",
        73 => "DELIVER_STATUS_REPORT_RESP",
        90 => "ALIVE_RESP",
        GENERAL_ERROR_RESPONSE => "GENERAL_ERROR_RESP",
        NACK => "NACK",
        _ => "UNKNOWN",
    }
}
