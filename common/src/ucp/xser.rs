//! The extra services field of the 5x operations (UCP 4.0 onwards): a run of `TTLLDD...`
//! items in hex, TT the service type, LL the data length in octets, DD the data.
//!
//! Items keep their order, unknown types included, so a service we do not interpret reaches
//! the next hop unchanged.

use super::error::EncodeError;
use super::field::{from_hex, to_hex};

/// GSM user data header, UDHL first.
pub const UDH: u8 = 0x01;
/// GSM data coding scheme, one octet.
pub const DCS: u8 = 0x02;
/// Billing identifier (UCP 4.0), free octets.
pub const BILLING_ID: u8 = 0x0C;
/// Single shot indicator, one octet.
pub const SINGLE_SHOT: u8 = 0x0D;

/// One extra service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XSerItem {
    pub kind: u8,
    pub data: Vec<u8>,
}

/// The XSer field: items in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XSer {
    pub items: Vec<XSerItem>,
}

impl XSer {
    /// Parses the field's text; `Err` names what is wrong.
    pub fn parse(field: &str) -> Result<XSer, String> {
        let octets = from_hex(field).ok_or("XSer is not an even number of hex digits")?;
        let mut items = Vec::new();
        let mut rest = octets.as_slice();
        while let [kind, len, tail @ ..] = rest {
            let len = usize::from(*len);
            let data = tail.get(..len).ok_or_else(|| {
                format!(
                    "XSer item {kind:#04x} says {len} octets but {} follow",
                    tail.len()
                )
            })?;
            items.push(XSerItem {
                kind: *kind,
                data: data.to_vec(),
            });
            rest = &tail[len..];
        }
        if !rest.is_empty() {
            return Err("XSer ends inside an item header".into());
        }
        Ok(XSer { items })
    }

    /// The field's text.
    pub fn encode(&self) -> Result<String, EncodeError> {
        let mut octets = Vec::new();
        for it in &self.items {
            let len = u8::try_from(it.data.len()).map_err(|_| EncodeError::XSerTooLong {
                kind: it.kind,
                len: it.data.len(),
            })?;
            octets.push(it.kind);
            octets.push(len);
            octets.extend_from_slice(&it.data);
        }
        Ok(to_hex(&octets))
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The data of the last item of `kind` (a repeated service: the last one wins).
    pub fn get(&self, kind: u8) -> Option<&[u8]> {
        self.items
            .iter()
            .rev()
            .find(|i| i.kind == kind)
            .map(|i| i.data.as_slice())
    }

    /// Replaces every item of `kind` with one carrying `data`, at the first one's place.
    pub fn set(&mut self, kind: u8, data: Vec<u8>) {
        match self.items.iter().position(|i| i.kind == kind) {
            Some(at) => {
                self.items[at].data = data;
                let mut seen = false;
                self.items.retain(|i| {
                    let dup = i.kind == kind && seen;
                    seen |= i.kind == kind;
                    !dup
                });
            }
            None => self.items.push(XSerItem { kind, data }),
        }
    }

    /// The user data header, UDHL included.
    pub fn udh(&self) -> Option<&[u8]> {
        self.get(UDH)
    }

    /// The GSM data coding scheme.
    pub fn dcs(&self) -> Option<u8> {
        self.get(DCS).and_then(|d| d.first().copied())
    }

    /// The UCP 4.0 billing identifier.
    pub fn billing_id(&self) -> Option<&[u8]> {
        self.get(BILLING_ID)
    }
}
