//! SMS-SUBMIT (TS 23.040 §9.2.2.2): a message from the modem to the service centre.
//!
//! There is no originator field: the network sets the sender from the SIM, so a modem cannot
//! send from an alphanumeric or any other chosen address. The destination may be
//! alphanumeric (TON 5) where a network routes such addresses.

use super::address::{read_address, write_address};
use super::{coding_of_dcs, dcs_for_coding, reader::Reader, PduError, UserData, Validity};
use crate::concat::{split_encoded, Method};
use crate::gsm::{encode_text, is_gsm, Coding};
use crate::message::Address;

/// One SMS-SUBMIT TPDU.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Submit {
    /// TP-RD: the service centre may reject a duplicate of a message still held.
    pub reject_duplicates: bool,
    /// TP-SRR: ask for an SMS-STATUS-REPORT.
    pub status_report_request: bool,
    /// TP-RP: a reply may use this service centre.
    pub reply_path: bool,
    /// TP-MR. Modems replace it with their own counter and tell it in `+CMGS: <mr>`.
    pub message_ref: u8,
    /// TP-DA.
    pub dest: Address,
    /// TP-PID (0: plain short message).
    pub pid: u8,
    /// TP-DCS.
    pub dcs: u8,
    /// TP-VP, with TP-VPF following from it.
    pub validity: Validity,
    pub user_data: UserData,
}

impl Submit {
    /// The user data's alphabet, from TP-DCS.
    pub fn coding(&self) -> Coding {
        coding_of_dcs(self.dcs)
    }

    /// The TPDU octets (no SCA in front).
    pub fn encode(&self) -> Result<Vec<u8>, PduError> {
        let first = 0x01
            | u8::from(self.reject_duplicates) << 2
            | self.validity.vpf_bits()
            | u8::from(self.status_report_request) << 5
            | u8::from(self.user_data.udh.is_some()) << 6
            | u8::from(self.reply_path) << 7;
        let mut out = vec![first, self.message_ref];
        write_address(&self.dest, &mut out)?;
        out.push(self.pid);
        out.push(self.dcs);
        self.validity.write(&mut out);
        self.user_data.write(self.coding(), &mut out)?;
        Ok(out)
    }

    /// Reads an SMS-SUBMIT TPDU; every octet must belong to it.
    pub fn decode(tpdu: &[u8]) -> Result<Submit, PduError> {
        let mut r = Reader::new(tpdu);
        let first = r.u8("first octet")?;
        if first & 0x03 != 0x01 {
            return Err(PduError::Invalid {
                field: "TP-MTI",
                why: "not SMS-SUBMIT",
            });
        }
        let message_ref = r.u8("TP-MR")?;
        let dest = read_address(&mut r, "TP-DA")?;
        let pid = r.u8("TP-PID")?;
        let dcs = r.u8("TP-DCS")?;
        let validity = Validity::read(first, &mut r)?;
        let user_data = UserData::read(&mut r, coding_of_dcs(dcs), first & 0x40 != 0)?;
        r.finish()?;
        Ok(Submit {
            reject_duplicates: first & 0x04 != 0,
            status_report_request: first & 0x20 != 0,
            reply_path: first & 0x80 != 0,
            message_ref,
            dest,
            pid,
            dcs,
            validity,
            user_data,
        })
    }
}

/// What every part of an outgoing message carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitOptions {
    /// Ask for a status report (TP-SRR) on every part.
    pub status_report: bool,
    pub validity: Validity,
    /// Message class 0: shown at once, not stored.
    pub flash: bool,
    pub reject_duplicates: bool,
    pub pid: u8,
}

/// The SMS-SUBMITs for a message: one, or the parts of a long one with a concatenation UDH
/// (8-bit reference, or 16-bit when `wide_ref`). `body` is encoded the way
/// [`crate::concat::split_encoded`] takes it: unpacked septets for GSM 7-bit, octets for 8-bit
/// data, UTF-16BE for UCS-2. Parts never end between an escape and its character nor inside a
/// surrogate pair.
pub fn submit_parts(
    dest: &Address,
    coding: Coding,
    body: &[u8],
    opts: &SubmitOptions,
    reference: u16,
    wide_ref: bool,
) -> Result<Vec<Submit>, PduError> {
    if matches!(coding, Coding::Ia5 | Coding::Latin1) {
        return Err(PduError::Invalid {
            field: "TP-DCS",
            why: "IA5 and Latin-1 have no TP-DCS; send such text as GSM 7-bit or UCS-2",
        });
    }
    let method = if wide_ref {
        Method::Udh16
    } else {
        Method::Udh8
    };
    let parts = split_encoded(body, coding.data_coding(), method, reference)?;
    parts
        .iter()
        .map(|part| {
            Ok(Submit {
                reject_duplicates: opts.reject_duplicates,
                status_report_request: opts.status_report,
                reply_path: false,
                message_ref: 0,
                dest: dest.clone(),
                pid: opts.pid,
                dcs: dcs_for_coding(coding, opts.flash),
                validity: opts.validity,
                user_data: UserData::from_part(part)?,
            })
        })
        .collect()
}

/// [`submit_parts`] for text: GSM 7-bit when every character fits, UCS-2 otherwise.
pub fn submit_text(
    dest: &Address,
    text: &str,
    opts: &SubmitOptions,
    reference: u16,
    wide_ref: bool,
) -> Result<Vec<Submit>, PduError> {
    let coding = if is_gsm(text) {
        Coding::Gsm7
    } else {
        Coding::Ucs2
    };
    let body = encode_text(coding.data_coding(), text).map_err(crate::concat::SplitError::from)?;
    submit_parts(dest, coding, &body, opts, reference, wide_ref)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms_pdu::{from_hex, to_hex};

    fn dest(s: &str) -> Address {
        Address::new(s)
    }

    #[test]
    fn a_short_text_encodes_to_the_well_known_pdu() {
        // The classic example: "hellohello" to +46708251358, no validity, MR 0.
        let parts = submit_text(
            &dest("+46708251358"),
            "hellohello",
            &SubmitOptions::default(),
            0,
            false,
        )
        .unwrap();
        assert_eq!(parts.len(), 1);
        let hex = to_hex(&parts[0].encode().unwrap());
        assert_eq!(hex, "01000B916407281553F800000AE8329BFD4697D9EC37");
        let back = Submit::decode(&from_hex(&hex).unwrap()).unwrap();
        assert_eq!(back.dest.addr, "46708251358");
        assert_eq!(back.user_data.text(back.coding()).unwrap(), "hellohello");
    }

    #[test]
    fn flags_validity_and_status_report_are_in_the_first_octet() {
        let opts = SubmitOptions {
            status_report: true,
            validity: Validity::Relative(0xA7),
            reject_duplicates: true,
            ..SubmitOptions::default()
        };
        let parts = submit_text(&dest("4670"), "x", &opts, 0, false).unwrap();
        let bytes = parts[0].encode().unwrap();
        assert_eq!(bytes[0], 0x01 | 0x04 | 0x10 | 0x20);
        assert_eq!(Submit::decode(&bytes).unwrap(), parts[0]);
    }

    #[test]
    fn long_texts_become_concatenated_parts() {
        let text = "€".repeat(80) + &"a".repeat(10); // 170 septets, escapes never split
        let parts = submit_text(
            &dest("+4670"),
            &text,
            &SubmitOptions::default(),
            0x1234,
            true,
        )
        .unwrap();
        assert_eq!(parts.len(), 2);
        let mut joined = String::new();
        for (i, p) in parts.iter().enumerate() {
            let bytes = p.encode().unwrap();
            assert!(bytes.len() <= 12 + 2 + 140);
            let back = Submit::decode(&bytes).unwrap();
            let c = back
                .user_data
                .udh
                .as_ref()
                .and_then(|u| u.concat())
                .unwrap();
            assert_eq!((c.reference, c.total, c.seq), (0x1234, 2, i as u8 + 1));
            joined += &back.user_data.text(back.coding()).unwrap();
        }
        assert_eq!(joined, text);
        let ucs = "ж".repeat(71);
        let parts = submit_text(&dest("+4670"), &ucs, &SubmitOptions::default(), 9, false);
        assert_eq!(parts.unwrap().len(), 2);
    }

    #[test]
    fn trailing_octets_and_wrong_types_are_refused() {
        let mut bytes = from_hex("01000B916407281553F800000AE8329BFD4697D9EC37").unwrap();
        bytes.push(0);
        assert_eq!(Submit::decode(&bytes), Err(PduError::Trailing(1)));
        bytes[0] = 0x00;
        assert!(Submit::decode(&bytes).is_err());
    }
}
