//! SMS-DELIVER (TS 23.040 §9.2.2.1): a message the service centre delivered to the modem.

use super::address::{read_address, write_address};
use super::{coding_of_dcs, reader::Reader, PduError, Timestamp, UserData};
use crate::gsm::Coding;
use crate::message::Address;

/// One SMS-DELIVER TPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliver {
    /// TP-MMS inverted: the service centre has more messages waiting for this modem.
    pub more_messages: bool,
    /// TP-LP: loop prevention (a forwarded message).
    pub loop_prevention: bool,
    /// TP-SRI: the sender asked for a status report.
    pub status_report_indication: bool,
    /// TP-RP: the reply may use the sender's service centre.
    pub reply_path: bool,
    /// TP-OA: who sent it; may be alphanumeric (TON 5).
    pub origin: Address,
    pub pid: u8,
    pub dcs: u8,
    /// TP-SCTS: when the service centre received it.
    pub scts: Timestamp,
    pub user_data: UserData,
}

impl Deliver {
    /// The user data's alphabet, from TP-DCS.
    pub fn coding(&self) -> Coding {
        coding_of_dcs(self.dcs)
    }

    /// The TPDU octets (no SCA in front).
    pub fn encode(&self) -> Result<Vec<u8>, PduError> {
        let first = u8::from(!self.more_messages) << 2
            | u8::from(self.loop_prevention) << 3
            | u8::from(self.status_report_indication) << 5
            | u8::from(self.user_data.udh.is_some()) << 6
            | u8::from(self.reply_path) << 7;
        let mut out = vec![first];
        write_address(&self.origin, &mut out)?;
        out.push(self.pid);
        out.push(self.dcs);
        self.scts.write(&mut out);
        self.user_data.write(self.coding(), &mut out)?;
        Ok(out)
    }

    /// Reads an SMS-DELIVER TPDU; every octet must belong to it.
    pub fn decode(tpdu: &[u8]) -> Result<Deliver, PduError> {
        let mut r = Reader::new(tpdu);
        let first = r.u8("first octet")?;
        if first & 0x03 != 0x00 {
            return Err(PduError::Invalid {
                field: "TP-MTI",
                why: "not SMS-DELIVER",
            });
        }
        let origin = read_address(&mut r, "TP-OA")?;
        let pid = r.u8("TP-PID")?;
        let dcs = r.u8("TP-DCS")?;
        let scts = Timestamp::read(&mut r, "TP-SCTS")?;
        let user_data = UserData::read(&mut r, coding_of_dcs(dcs), first & 0x40 != 0)?;
        r.finish()?;
        Ok(Deliver {
            more_messages: first & 0x04 == 0,
            loop_prevention: first & 0x08 != 0,
            status_report_indication: first & 0x20 != 0,
            reply_path: first & 0x80 != 0,
            origin,
            pid,
            dcs,
            scts,
            user_data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms_pdu::{decode_with_sca, from_hex, Direction, Tpdu};

    #[test]
    fn a_received_pdu_from_a_modem_decodes() {
        // The widely quoted example as a modem lists it: SCA 27381000015, from 27838890001
        // (TON 4, NPI 8), sent 1999-03-29 15:16:59, "hellohello".
        let hex = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37";
        let (sca, tpdu) = decode_with_sca(&from_hex(hex).unwrap(), Direction::ToMs).unwrap();
        assert_eq!(sca.unwrap().addr, "27381000015");
        let Tpdu::Deliver(d) = tpdu else {
            panic!("not a deliver: {tpdu:?}")
        };
        assert_eq!(d.origin.addr, "27838890001");
        assert_eq!((d.origin.ton, d.origin.npi), (4, 8));
        assert_eq!(d.user_data.text(d.coding()).unwrap(), "hellohello");
        assert_eq!(
            (d.scts.year, d.scts.month, d.scts.day, d.scts.hour),
            (99, 3, 29, 15)
        );
        assert!(!d.more_messages);
        assert_eq!(Deliver::decode(&d.encode().unwrap()).unwrap(), d);
    }

    #[test]
    fn an_alphanumeric_sender_decodes() {
        let d = Deliver {
            more_messages: false,
            loop_prevention: false,
            status_report_indication: false,
            reply_path: false,
            origin: Address {
                ton: 5,
                npi: 0,
                addr: "MyBank".into(),
            },
            pid: 0,
            dcs: 0x08,
            scts: Timestamp::from_unix(1_795_435_200, 4),
            user_data: UserData::plain("Ж".encode_utf16().flat_map(u16::to_be_bytes).collect()),
        };
        let back = Deliver::decode(&d.encode().unwrap()).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.user_data.text(back.coding()).unwrap(), "Ж");
    }
}
