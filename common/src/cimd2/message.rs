//! Typed views of the packets that carry a session or a message: login (01), submit (03) and
//! deliver message (20), deliver status report (23).
//!
//! A view reads the parameters it knows and keeps every other one in `other`, so a packet
//! read into a view and written back loses nothing the peer sent.

use super::frame::{Packet, Param};
use super::param::*;
use super::text;
use crate::gsm::Unencodable;
use crate::hex::{from_hex, to_hex};

/// Why a packet does not make a view (the error code to answer with, and why).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ViewError {
    pub code: u16,
    pub reason: String,
}

fn missing(code: u16, what: &str) -> ViewError {
    ViewError {
        code,
        reason: format!("{what} is missing"),
    }
}

/// Reads parameters off a packet, remembering which it took.
struct Take<'a> {
    params: Vec<Option<&'a Param>>,
}

impl<'a> Take<'a> {
    fn new(p: &'a Packet) -> Take<'a> {
        Take {
            params: p.params.iter().map(Some).collect(),
        }
    }
    fn all(&mut self, code: u16) -> Vec<&'a [u8]> {
        self.params
            .iter_mut()
            .filter(|p| p.is_some_and(|p| p.code == code))
            .filter_map(|p| p.take().map(|p| p.value.as_slice()))
            .collect()
    }
    fn one(&mut self, code: u16) -> Option<&'a [u8]> {
        let slot = self
            .params
            .iter_mut()
            .find(|p| p.is_some_and(|p| p.code == code))?;
        slot.take().map(|p| p.value.as_slice())
    }
    fn text(&mut self, code: u16) -> Option<String> {
        self.one(code).map(latin1)
    }
    fn int<T: TryFrom<i32>>(&mut self, code: u16) -> Option<T> {
        // Checked against the table on decode; a hand-built out-of-range value reads as absent.
        std::str::from_utf8(self.one(code)?)
            .ok()?
            .parse::<i32>()
            .ok()?
            .try_into()
            .ok()
    }
    fn flag(&mut self, code: u16) -> Option<bool> {
        self.int::<u8>(code).map(|v| v == 1)
    }
    fn hex(&mut self, code: u16) -> Option<Vec<u8>> {
        self.one(code)
            .and_then(|v| from_hex(std::str::from_utf8(v).ok()?))
    }
    fn rest(self) -> Vec<Param> {
        self.params.into_iter().flatten().cloned().collect()
    }
}

fn latin1(v: &[u8]) -> String {
    v.iter().map(|&b| char::from(b)).collect()
}

/// Builds a packet's parameters in the spec's order.
struct Put(Packet);

impl Put {
    fn text(&mut self, code: u16, v: &Option<String>) {
        if let Some(v) = v {
            // Values are ISO-8859-1; a character beyond it becomes '?'.
            let octets = v
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'));
            self.0
                .params
                .push(Param::new(code, octets.collect::<Vec<u8>>()));
        }
    }
    fn int(&mut self, code: u16, v: Option<impl Into<i32>>) {
        if let Some(v) = v {
            self.0.params.push(Param::new(code, v.into().to_string()));
        }
    }
    fn flag(&mut self, code: u16, v: Option<bool>) {
        self.int(code, v.map(u8::from));
    }
    fn hex(&mut self, code: u16, v: &Option<Vec<u8>>) {
        if let Some(v) = v {
            self.0.params.push(Param::new(code, to_hex(v)));
        }
    }
}

/// Login (01).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Login {
    pub user: String,
    pub password: String,
    pub subaddress: Option<String>,
    pub window_size: Option<u8>,
    pub other: Vec<Param>,
}

impl Login {
    pub fn from_packet(p: &Packet) -> Result<Login, ViewError> {
        let mut t = Take::new(p);
        Ok(Login {
            user: t
                .text(USER_IDENTITY)
                .ok_or_else(|| missing(super::status::error::INVALID_LOGIN, "user identity"))?,
            password: t
                .text(PASSWORD)
                .ok_or_else(|| missing(super::status::error::INVALID_LOGIN, "password"))?,
            subaddress: t.text(SUBADDRESS),
            window_size: t.int(WINDOW_SIZE),
            other: t.rest(),
        })
    }

    pub fn to_packet(&self, number: u8) -> Packet {
        let mut w = Put(Packet::new(super::op::LOGIN, number));
        w.text(USER_IDENTITY, &Some(self.user.clone()));
        w.text(PASSWORD, &Some(self.password.clone()));
        w.text(SUBADDRESS, &self.subaddress);
        w.int(WINDOW_SIZE, self.window_size);
        w.0.params.extend(self.other.iter().cloned());
        w.0
    }
}

/// The message itself: text in the CIMD2 alphabet (033) or octets (034).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserData {
    Text(String),
    Binary(Vec<u8>),
}

/// Submit (03) and deliver message (20): one view, since they share most parameters (a
/// submit has no SCTS, a delivery no validity period).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShortMessage {
    /// 021, several for a submit to many.
    pub destinations: Vec<String>,
    pub originator: Option<String>,
    pub originating_imsi: Option<String>,
    pub alphanumeric_originator: Option<String>,
    pub originated_visited_msc: Option<String>,
    pub dcs: Option<u8>,
    /// 032, the user data header with its UDHL.
    pub udh: Option<Vec<u8>>,
    pub user_data: Option<UserData>,
    pub more_messages_to_send: Option<bool>,
    /// 050, the TP-VP relative format (0..255), or 051, yymmddhhmmss.
    pub validity_relative: Option<i16>,
    pub validity_absolute: Option<String>,
    pub protocol_identifier: Option<u8>,
    pub first_delivery_relative: Option<i16>,
    pub first_delivery_absolute: Option<String>,
    pub reply_path: Option<bool>,
    /// 056, a sum of [`super::status::report`] bits.
    pub status_report_request: Option<u8>,
    pub cancel_enabled: Option<bool>,
    /// 060, set on deliveries.
    pub scts: Option<String>,
    pub tariff_class: Option<u8>,
    pub service_description: Option<u8>,
    pub priority: Option<u8>,
    pub other: Vec<Param>,
}

impl ShortMessage {
    pub fn from_packet(p: &Packet) -> Result<ShortMessage, ViewError> {
        let mut t = Take::new(p);
        let destinations = t.all(DESTINATION_ADDRESS).into_iter().map(latin1).collect();
        let text = t.one(USER_DATA);
        let binary = t.one(USER_DATA_BINARY);
        let user_data = match (text, binary) {
            (Some(_), Some(_)) => {
                return Err(ViewError {
                    code: super::status::error::USER_DATA_COMBINATION,
                    reason: "both user data (033) and user data binary (034)".into(),
                })
            }
            (Some(t), None) => Some(UserData::Text(text::decode(t))),
            (None, Some(b)) => Some(UserData::Binary(from_hex(&latin1(b)).ok_or_else(|| {
                missing(
                    super::status::error::USER_DATA_SYNTAX_ERROR,
                    "hex user data binary",
                )
            })?)),
            (None, None) => None,
        };
        Ok(ShortMessage {
            destinations,
            originator: t.text(ORIGINATING_ADDRESS),
            originating_imsi: t.text(ORIGINATING_IMSI),
            alphanumeric_originator: t.text(ALPHANUMERIC_ORIGINATING_ADDRESS),
            originated_visited_msc: t.text(ORIGINATED_VISITED_MSC_ADDRESS),
            dcs: t.int(DATA_CODING_SCHEME),
            udh: t.hex(USER_DATA_HEADER),
            user_data,
            more_messages_to_send: t.flag(MORE_MESSAGES_TO_SEND),
            validity_relative: t.int(VALIDITY_PERIOD_RELATIVE),
            validity_absolute: t.text(VALIDITY_PERIOD_ABSOLUTE),
            protocol_identifier: t.int(PROTOCOL_IDENTIFIER),
            first_delivery_relative: t.int(FIRST_DELIVERY_TIME_RELATIVE),
            first_delivery_absolute: t.text(FIRST_DELIVERY_TIME_ABSOLUTE),
            reply_path: t.flag(REPLY_PATH),
            status_report_request: t.int(STATUS_REPORT_REQUEST),
            cancel_enabled: t.flag(CANCEL_ENABLED),
            scts: t.text(SERVICE_CENTRE_TIME_STAMP),
            tariff_class: t.int(TARIFF_CLASS),
            service_description: t.int(SERVICE_DESCRIPTION),
            priority: t.int(PRIORITY),
            other: t.rest(),
        })
    }

    /// The packet for operation `op` (03 submit or 20 deliver). Fails only on text outside the
    /// GSM alphabet (send that as UCS-2 binary with DCS 8).
    pub fn to_packet(&self, op: u8, number: u8) -> Result<Packet, Unencodable> {
        let mut w = Put(Packet::new(op, number));
        for d in &self.destinations {
            w.text(DESTINATION_ADDRESS, &Some(d.clone()));
        }
        w.text(ORIGINATING_ADDRESS, &self.originator);
        w.text(ORIGINATING_IMSI, &self.originating_imsi);
        w.text(
            ALPHANUMERIC_ORIGINATING_ADDRESS,
            &self.alphanumeric_originator,
        );
        w.text(ORIGINATED_VISITED_MSC_ADDRESS, &self.originated_visited_msc);
        w.int(DATA_CODING_SCHEME, self.dcs);
        w.hex(USER_DATA_HEADER, &self.udh);
        match &self.user_data {
            Some(UserData::Text(s)) => w.0.params.push(Param::new(USER_DATA, text::encode(s)?)),
            Some(UserData::Binary(b)) => w.hex(USER_DATA_BINARY, &Some(b.clone())),
            None => {}
        }
        w.flag(MORE_MESSAGES_TO_SEND, self.more_messages_to_send);
        w.int(VALIDITY_PERIOD_RELATIVE, self.validity_relative);
        w.text(VALIDITY_PERIOD_ABSOLUTE, &self.validity_absolute);
        w.int(PROTOCOL_IDENTIFIER, self.protocol_identifier);
        w.int(FIRST_DELIVERY_TIME_RELATIVE, self.first_delivery_relative);
        w.text(FIRST_DELIVERY_TIME_ABSOLUTE, &self.first_delivery_absolute);
        w.flag(REPLY_PATH, self.reply_path);
        w.int(STATUS_REPORT_REQUEST, self.status_report_request);
        w.flag(CANCEL_ENABLED, self.cancel_enabled);
        w.text(SERVICE_CENTRE_TIME_STAMP, &self.scts);
        w.int(TARIFF_CLASS, self.tariff_class);
        w.int(SERVICE_DESCRIPTION, self.service_description);
        w.int(PRIORITY, self.priority);
        w.0.params.extend(self.other.iter().cloned());
        Ok(w.0)
    }
}

/// Deliver status report (23): what became of a submitted message, identified by its
/// destination and the SCTS the submit response carried.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusReport {
    pub destination: String,
    pub originator: Option<String>,
    pub scts: String,
    /// 061, see [`super::status::code`].
    pub status_code: u8,
    pub status_error_code: Option<u16>,
    pub discharge_time: Option<String>,
    pub other: Vec<Param>,
}

impl StatusReport {
    pub fn from_packet(p: &Packet) -> Result<StatusReport, ViewError> {
        let mut t = Take::new(p);
        let syntax = super::status::error::SYNTAX_ERROR;
        Ok(StatusReport {
            destination: t
                .text(DESTINATION_ADDRESS)
                .ok_or_else(|| missing(syntax, "destination address"))?,
            originator: t.text(ORIGINATING_ADDRESS),
            scts: t
                .text(SERVICE_CENTRE_TIME_STAMP)
                .ok_or_else(|| missing(syntax, "service centre time stamp"))?,
            status_code: t
                .int(STATUS_CODE)
                .ok_or_else(|| missing(syntax, "status code"))?,
            status_error_code: t.int(STATUS_ERROR_CODE),
            discharge_time: t.text(DISCHARGE_TIME),
            other: t.rest(),
        })
    }

    pub fn to_packet(&self, number: u8) -> Packet {
        let mut w = Put(Packet::new(super::op::DELIVER_STATUS_REPORT, number));
        w.text(DESTINATION_ADDRESS, &Some(self.destination.clone()));
        w.text(ORIGINATING_ADDRESS, &self.originator);
        w.text(SERVICE_CENTRE_TIME_STAMP, &Some(self.scts.clone()));
        w.int(STATUS_CODE, Some(self.status_code));
        w.int(STATUS_ERROR_CODE, self.status_error_code.map(i32::from));
        w.text(DISCHARGE_TIME, &self.discharge_time);
        w.0.params.extend(self.other.iter().cloned());
        w.0
    }
}
