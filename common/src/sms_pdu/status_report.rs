//! SMS-STATUS-REPORT (TS 23.040 §9.2.2.3): what became of a message we sent with TP-SRR set.
//!
//! It names the message by TP-MR (the `+CMGS: <mr>` the modem gave) and TP-RA (the
//! recipient), which together find the open delivery report entry. TP-PI and the fields it
//! announces are optional; some networks pad the report, so octets after the announced
//! fields are ignored rather than refused.

use super::address::{read_address, write_address};
use super::{coding_of_dcs, reader::Reader, PduError, Timestamp, UserData};
use crate::dlr::DlrStatus;
use crate::message::Address;

/// One SMS-STATUS-REPORT TPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// TP-MMS inverted: more messages are waiting.
    pub more_messages: bool,
    pub loop_prevention: bool,
    /// TP-SRQ: the report is on an SMS-COMMAND rather than an SMS-SUBMIT.
    pub on_command: bool,
    /// TP-MR of the message reported on.
    pub message_ref: u8,
    /// TP-RA: the recipient of that message.
    pub recipient: Address,
    /// TP-SCTS: when the service centre received the message.
    pub scts: Timestamp,
    /// TP-DT: when the status below was reached (delivered, or given up).
    pub discharge: Timestamp,
    /// TP-ST.
    pub status: u8,
    pub pid: Option<u8>,
    pub dcs: Option<u8>,
    pub user_data: Option<UserData>,
}

/// The four ranges of TP-ST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// 0x00–0x1F: the transaction completed (received, forwarded, replaced).
    Completed,
    /// 0x20–0x3F: a temporary error; the service centre is still trying.
    StillTrying,
    /// 0x40–0x5F: a permanent error; the service centre stopped.
    PermanentError,
    /// 0x60–0x7F: a temporary error; the service centre gave up.
    GaveUp,
    /// 0x80–0xFF: reserved.
    Reserved,
}

impl StatusReport {
    /// Which range TP-ST is in.
    pub fn outcome(&self) -> ReportStatus {
        match self.status {
            0x00..=0x1F => ReportStatus::Completed,
            0x20..=0x3F => ReportStatus::StillTrying,
            0x40..=0x5F => ReportStatus::PermanentError,
            0x60..=0x7F => ReportStatus::GaveUp,
            _ => ReportStatus::Reserved,
        }
    }

    /// TP-ST as the delivery report state emg keeps.
    pub fn dlr_status(&self) -> DlrStatus {
        match (self.outcome(), self.status) {
            (ReportStatus::Completed, _) => DlrStatus::Delivered,
            (ReportStatus::StillTrying, _) => DlrStatus::Enroute,
            (_, 0x46) => DlrStatus::Expired,
            (_, 0x47 | 0x48) => DlrStatus::Deleted,
            (ReportStatus::PermanentError | ReportStatus::GaveUp, _) => DlrStatus::Undeliverable,
            (ReportStatus::Reserved, _) => DlrStatus::Unknown,
        }
    }

    /// The TPDU octets (no SCA in front). TP-PI is written only when an optional field is set.
    pub fn encode(&self) -> Result<Vec<u8>, PduError> {
        let first = 0x02
            | u8::from(!self.more_messages) << 2
            | u8::from(self.loop_prevention) << 3
            | u8::from(self.on_command) << 5
            | u8::from(self.user_data.as_ref().is_some_and(|u| u.udh.is_some())) << 6;
        let mut out = vec![first, self.message_ref];
        write_address(&self.recipient, &mut out)?;
        self.scts.write(&mut out);
        self.discharge.write(&mut out);
        out.push(self.status);
        let pi = u8::from(self.pid.is_some())
            | u8::from(self.dcs.is_some()) << 1
            | u8::from(self.user_data.is_some()) << 2;
        if pi != 0 {
            out.push(pi);
            out.extend(self.pid);
            out.extend(self.dcs);
            if let Some(ud) = &self.user_data {
                ud.write(coding_of_dcs(self.dcs.unwrap_or(0)), &mut out)?;
            }
        }
        Ok(out)
    }

    /// Reads an SMS-STATUS-REPORT TPDU.
    pub fn decode(tpdu: &[u8]) -> Result<StatusReport, PduError> {
        let mut r = Reader::new(tpdu);
        let first = r.u8("first octet")?;
        if first & 0x03 != 0x02 {
            return Err(PduError::Invalid {
                field: "TP-MTI",
                why: "not SMS-STATUS-REPORT",
            });
        }
        let message_ref = r.u8("TP-MR")?;
        let recipient = read_address(&mut r, "TP-RA")?;
        let scts = Timestamp::read(&mut r, "TP-SCTS")?;
        let discharge = Timestamp::read(&mut r, "TP-DT")?;
        let status = r.u8("TP-ST")?;
        let mut report = StatusReport {
            more_messages: first & 0x04 == 0,
            loop_prevention: first & 0x08 != 0,
            on_command: first & 0x20 != 0,
            message_ref,
            recipient,
            scts,
            discharge,
            status,
            pid: None,
            dcs: None,
            user_data: None,
        };
        if r.rest().is_empty() {
            return Ok(report);
        }
        let pi = r.u8("TP-PI")?;
        // Bit 7 extends TP-PI by another octet; those bits are all reserved.
        let mut more = pi & 0x80 != 0;
        while more {
            more = r.u8("TP-PI")? & 0x80 != 0;
        }
        if pi & 0x01 != 0 {
            report.pid = Some(r.u8("TP-PID")?);
        }
        if pi & 0x02 != 0 {
            report.dcs = Some(r.u8("TP-DCS")?);
        }
        if pi & 0x04 != 0 {
            let coding = coding_of_dcs(report.dcs.unwrap_or(0));
            report.user_data = Some(UserData::read(&mut r, coding, first & 0x40 != 0)?);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms_pdu::{decode_with_sca, from_hex, Direction, Tpdu};

    #[test]
    fn a_status_report_from_a_modem_decodes() {
        // +CDS as a modem sends it: SCA +46705008999, MR 0x2A, to +46701234567, delivered.
        let hex = [
            "07916407058099F9", // SCA
            "062A",             // SMS-STATUS-REPORT, no more messages; TP-MR
            "0B916407214365F7", // TP-RA
            "62113231540040",   // TP-SCTS 2026-11-23 13:45:00 +01:00
            "62113231545540",   // TP-DT 13:45:55
            "00",               // TP-ST: received by the SME
        ]
        .concat();
        let bytes = from_hex(&hex).unwrap();
        let (sca, tpdu) = decode_with_sca(&bytes, Direction::ToMs).unwrap();
        assert_eq!(sca.unwrap().addr, "46705008999");
        let Tpdu::StatusReport(r) = tpdu else {
            panic!("not a status report: {tpdu:?}")
        };
        assert_eq!(r.message_ref, 0x2A);
        assert_eq!(r.recipient.addr, "46701234567");
        assert_eq!((r.discharge.minute, r.discharge.second), (45, 55));
        assert_eq!(r.dlr_status(), DlrStatus::Delivered);
        assert!(!r.more_messages);
        assert_eq!(StatusReport::decode(&r.encode().unwrap()).unwrap(), r);
    }

    #[test]
    fn status_ranges_map_to_delivery_states() {
        let cases = [
            (0x00, DlrStatus::Delivered),
            (0x02, DlrStatus::Delivered),
            (0x20, DlrStatus::Enroute),
            (0x41, DlrStatus::Undeliverable),
            (0x46, DlrStatus::Expired),
            (0x47, DlrStatus::Deleted),
            (0x48, DlrStatus::Deleted),
            (0x62, DlrStatus::Undeliverable),
            (0x80, DlrStatus::Unknown),
        ];
        let base =
            StatusReport::decode(&from_hex("060004912143000000000000000000000000000000").unwrap())
                .unwrap();
        for (st, want) in cases {
            let r = StatusReport {
                status: st,
                ..base.clone()
            };
            assert_eq!(r.dlr_status(), want, "TP-ST {st:#04x}");
        }
    }

    #[test]
    fn optional_fields_and_padding() {
        let plain = "060004912143000000000000000000000000000000";
        // TP-PI with PID and DCS, then two octets of padding the network added.
        let with_pi = format!("{plain}0300080000");
        let r = StatusReport::decode(&from_hex(&with_pi).unwrap()).unwrap();
        assert_eq!(
            (r.pid, r.dcs, r.user_data.is_some()),
            (Some(0), Some(8), false)
        );
        // TP-PI announcing user data that is not there.
        assert!(StatusReport::decode(&from_hex(&format!("{plain}04")).unwrap()).is_err());
    }
}
