//! The bodies of the operations and results, field by field in the spec's order.
//!
//! Field names follow the spec (AdC, OAdC, NRq, ...) in snake case. Empty fields are empty
//! strings or `None`; numbers the spec gives a fixed width (NPID, RPID, ...) are numbers and
//! are written back zero-padded. Fields after the last one the spec defines are kept in
//! `extra` and written back, so a newer peer's additions survive a round trip.
//!
//! Results have two shapes: `A/SM` and `N/EC/SM` for 01, 02, 03, 31, 60 and 61, and `A/MVP/SM`
//! and `N/EC/SM` for 30 and the 5x series; the frame's OT decides which ([`super::Ot`]).

use super::content::{
    decode_alphanumeric, read_5x_content, read_short_content, write_5x_content,
    write_short_content, Content,
};
use super::error::{EncodeError, ErrorCode};
use super::field::{Bad, Reader, Writer, R};
use super::xser::XSer;

/// OTOA of an alphanumeric originator.
pub const OTOA_ALPHANUMERIC: &str = "5039";
/// OTOA of an international number (TON 1, NPI 1).
pub const OTOA_INTERNATIONAL: &str = "1139";

/// Lengths of the time stamps: DDMMYYHHmm and DDMMYYhhmmss.
const MINUTES: usize = 10;
const SECONDS: usize = 12;

/// Operation 01, call input: one message to one address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallInput {
    pub adc: String,
    pub oadc: String,
    pub oac: String,
    pub content: Content,
    pub extra: Vec<String>,
}

/// Operation 02, multiple address call input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultipleCallInput {
    /// RAd:s, one per recipient (NPL on the wire is their count).
    pub adcs: Vec<String>,
    pub oadc: String,
    pub oac: String,
    pub content: Content,
    pub extra: Vec<String>,
}

/// Operation 03, call input with supplementary services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallInputSs {
    pub adc: String,
    pub oadc: String,
    pub oac: String,
    /// GA:s, the legitimisation addresses (NPL on the wire is their count).
    pub gas: Vec<String>,
    /// RP: repetition requested.
    pub rp: Option<bool>,
    /// PR: priority requested.
    pub pr: Option<bool>,
    pub lpr: String,
    /// UM: urgent message.
    pub um: Option<bool>,
    pub lum: String,
    /// RC: reverse charging.
    pub rc: Option<bool>,
    pub lrc: String,
    /// DD: deferred delivery requested, at DDT (DDMMYYHHmm).
    pub dd: Option<bool>,
    pub ddt: String,
    pub content: Content,
    pub extra: Vec<String>,
}

/// Operation 30, SMS message transfer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transfer {
    pub adc: String,
    pub oadc: String,
    pub ac: String,
    pub nrq: Option<bool>,
    pub nadc: String,
    pub npid: Option<u16>,
    pub dd: Option<bool>,
    pub ddt: String,
    pub vp: String,
    /// AMsg, GSM septets decoded from IRA hex.
    pub amsg: Vec<u8>,
    pub extra: Vec<String>,
}

/// Operation 31, SMT alert: a keepalive, or "I am ready for my messages".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alert {
    pub adc: String,
    /// PID: 0100 mobile station, 0539 PC application over TCP/IP, ...
    pub pid: Option<u16>,
    pub extra: Vec<String>,
}

/// The 5x series (51 submit, 52 deliver, 53 delivery notification, 54 modify, 55 inquiry,
/// 56 delete, 57 response inquiry, 58 response delete): one layout for all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sm {
    /// AdC: the recipient (for 53: the originator of the message notified about).
    pub adc: String,
    /// OAdC: the originator, packed hex when `otoa` is [`OTOA_ALPHANUMERIC`].
    pub oadc: String,
    pub ac: String,
    /// NRq: notification requested.
    pub nrq: Option<bool>,
    /// NAdC: where notifications go.
    pub nadc: String,
    /// NT: notification types, a sum of 1 delivery, 2 non-delivery, 4 buffered.
    pub nt: Option<u8>,
    /// NPID: how notifications travel (0539 PC application over TCP/IP, ...).
    pub npid: Option<u16>,
    /// LRq: last resort address requested, LRAd, LPID.
    pub lrq: Option<bool>,
    pub lrad: String,
    pub lpid: Option<u16>,
    /// DD: deferred delivery requested, at DDT (DDMMYYHHmm).
    pub dd: Option<bool>,
    pub ddt: String,
    /// VP: validity period, DDMMYYHHmm.
    pub vp: String,
    /// RPID: replace PID (the TP-PID), 4 digits.
    pub rpid: Option<u16>,
    /// SCTS: SMSC time stamp, DDMMYYhhmmss (with AdC, the message's identity for 53).
    pub scts: String,
    /// Dst: delivery status in 53: 0 delivered, 1 buffered, 2 not delivered.
    pub dst: Option<u8>,
    /// Rsn: reason code, 3 digits.
    pub rsn: Option<u16>,
    /// DSCTS: delivery time stamp, DDMMYYhhmmss.
    pub dscts: String,
    /// MT, NB and the message.
    pub content: Content,
    /// MMS: more messages to send.
    pub mms: Option<bool>,
    /// PR: priority.
    pub pr: Option<bool>,
    /// DCs: 0 default alphabet, 1 user-defined (8-bit) data.
    pub dcs: Option<u8>,
    /// MCLs: message class 0..3.
    pub mcls: Option<u8>,
    /// RPI: reply path, 1 request, 2 response.
    pub rpi: Option<u8>,
    /// CPg and RPLy: reserved.
    pub cpg: String,
    pub rply: String,
    /// OTOA: originator type of address, `""`, "1139" or "5039".
    pub otoa: String,
    pub hplmn: String,
    pub xser: XSer,
    /// RES4, RES5: reserved.
    pub res4: String,
    pub res5: String,
    pub extra: Vec<String>,
}

impl Sm {
    /// The originator as text: the decoded alphanumeric OAdC for OTOA 5039, else OAdC.
    pub fn originator(&self) -> String {
        if self.otoa == OTOA_ALPHANUMERIC {
            // Checked when decoded; a hand-built value that does not decode shows as it is.
            decode_alphanumeric(&self.oadc).unwrap_or_else(|_| self.oadc.clone())
        } else {
            self.oadc.clone()
        }
    }

    /// Sets an alphanumeric originator (OTOA 5039, GSM-packed OAdC).
    pub fn set_alphanumeric_originator(
        &mut self,
        text: &str,
    ) -> Result<(), crate::gsm::Unencodable> {
        self.oadc = super::content::encode_alphanumeric(text)?;
        self.otoa = OTOA_ALPHANUMERIC.into();
        Ok(())
    }
}

/// Operations 60 (session management) and 61 (provisioning actions): one layout, except that
/// 60 has OPID where 61 has RES2 at the end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Session {
    /// OAdC: the account (the short number or name the SMSC knows us by).
    pub oadc: String,
    /// OTON: 1 international, 2 national, 6 abbreviated (short number alias).
    pub oton: Option<u8>,
    /// ONPI: 1 E.164, 3 X.121, 5 SMSC-specific (private).
    pub onpi: Option<u8>,
    /// STYP: 1 open session, 3 change password, 4 open provisioning session, ...
    pub styp: Option<u8>,
    /// PWD and NPWD: the password and the new password, decoded from IRA hex.
    pub pwd: Vec<u8>,
    pub npwd: Vec<u8>,
    /// VERS: the UCP version, "0100".
    pub vers: String,
    pub ladc: String,
    pub lton: Option<u8>,
    pub lnpi: Option<u8>,
    /// OPID (60 only): originator protocol identifier, 00 mobile station, 39 PC application.
    pub opid: Option<u16>,
    pub res1: String,
    /// RES2 (61 only).
    pub res2: String,
    pub extra: Vec<String>,
}

/// A positive result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ack {
    /// MVP: modified validity period, only in results of 30 and the 5x series.
    pub mvp: String,
    /// SM: system message. For 51 the SMSC puts `AdC:SCTS` here, the message's identity.
    pub sm: String,
    pub extra: Vec<String>,
}

/// A negative result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    pub ec: ErrorCode,
    pub sm: String,
    pub extra: Vec<String>,
}

impl Nack {
    pub fn new(ec: ErrorCode, sm: impl Into<String>) -> Nack {
        Nack {
            ec,
            sm: sm.into(),
            extra: Vec::new(),
        }
    }
}

impl CallInput {
    pub(crate) fn read(r: &mut Reader) -> R<CallInput> {
        Ok(CallInput {
            adc: r.string("AdC")?,
            oadc: r.string("OAdC")?,
            oac: r.string("OAC")?,
            content: read_short_content(r)?,
            extra: r.rest(),
        })
    }

    pub(crate) fn write(&self, ot: u8, w: &mut Writer) -> Result<(), EncodeError> {
        w.str("AdC", &self.adc)?;
        w.str("OAdC", &self.oadc)?;
        w.str("OAC", &self.oac)?;
        write_short_content(ot, &self.content, w)?;
        w.all("extra", &self.extra)
    }
}

impl MultipleCallInput {
    pub(crate) fn read(r: &mut Reader) -> R<MultipleCallInput> {
        let n = r.count("NPL", 4)?;
        let adcs = (0..n).map(|_| r.string("RAd")).collect::<R<_>>()?;
        Ok(MultipleCallInput {
            adcs,
            oadc: r.string("OAdC")?,
            oac: r.string("OAC")?,
            content: read_short_content(r)?,
            extra: r.rest(),
        })
    }

    pub(crate) fn write(&self, ot: u8, w: &mut Writer) -> Result<(), EncodeError> {
        w.count(self.adcs.len());
        w.all("RAd", &self.adcs)?;
        w.str("OAdC", &self.oadc)?;
        w.str("OAC", &self.oac)?;
        write_short_content(ot, &self.content, w)?;
        w.all("extra", &self.extra)
    }
}

impl CallInputSs {
    pub(crate) fn read(r: &mut Reader) -> R<CallInputSs> {
        let adc = r.string("AdC")?;
        let oadc = r.string("OAdC")?;
        let oac = r.string("OAC")?;
        let n = r.count("NPL", 11)?;
        let gas = (0..n).map(|_| r.string("GA")).collect::<R<_>>()?;
        Ok(CallInputSs {
            adc,
            oadc,
            oac,
            gas,
            rp: r.flag("RP")?,
            pr: r.flag("PR")?,
            lpr: r.string("LPR")?,
            um: r.flag("UM")?,
            lum: r.string("LUM")?,
            rc: r.flag("RC")?,
            lrc: r.string("LRC")?,
            dd: r.flag("DD")?,
            ddt: r.time("DDT", MINUTES)?,
            content: read_short_content(r)?,
            extra: r.rest(),
        })
    }

    pub(crate) fn write(&self, ot: u8, w: &mut Writer) -> Result<(), EncodeError> {
        w.str("AdC", &self.adc)?;
        w.str("OAdC", &self.oadc)?;
        w.str("OAC", &self.oac)?;
        w.count(self.gas.len());
        w.all("GA", &self.gas)?;
        w.flag(self.rp);
        w.flag(self.pr);
        w.str("LPR", &self.lpr)?;
        w.flag(self.um);
        w.str("LUM", &self.lum)?;
        w.flag(self.rc);
        w.str("LRC", &self.lrc)?;
        w.flag(self.dd);
        w.str("DDT", &self.ddt)?;
        write_short_content(ot, &self.content, w)?;
        w.all("extra", &self.extra)
    }
}

impl Transfer {
    pub(crate) fn read(r: &mut Reader) -> R<Transfer> {
        Ok(Transfer {
            adc: r.string("AdC")?,
            oadc: r.string("OAdC")?,
            ac: r.string("AC")?,
            nrq: r.flag("NRq")?,
            nadc: r.string("NAdC")?,
            npid: r.number("NPID", 4)?,
            dd: r.flag("DD")?,
            ddt: r.time("DDT", MINUTES)?,
            vp: r.time("VP", MINUTES)?,
            amsg: r.hex("AMsg")?,
            extra: r.rest(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.str("AdC", &self.adc)?;
        w.str("OAdC", &self.oadc)?;
        w.str("AC", &self.ac)?;
        w.flag(self.nrq);
        w.str("NAdC", &self.nadc)?;
        w.number("NPID", self.npid, 4)?;
        w.flag(self.dd);
        w.str("DDT", &self.ddt)?;
        w.str("VP", &self.vp)?;
        w.hex(&self.amsg);
        w.all("extra", &self.extra)
    }
}

impl Alert {
    pub(crate) fn read(r: &mut Reader) -> R<Alert> {
        Ok(Alert {
            adc: r.string("AdC")?,
            pid: r.number("PID", 4)?,
            extra: r.rest(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.str("AdC", &self.adc)?;
        w.number("PID", self.pid, 4)?;
        w.all("extra", &self.extra)
    }
}

impl Sm {
    pub(crate) fn read(r: &mut Reader) -> R<Sm> {
        let sm = Sm {
            adc: r.string("AdC")?,
            oadc: r.string("OAdC")?,
            ac: r.string("AC")?,
            nrq: r.flag("NRq")?,
            nadc: r.string("NAdC")?,
            nt: r.digit("NT", 7)?,
            npid: r.number("NPID", 4)?,
            lrq: r.flag("LRq")?,
            lrad: r.string("LRAd")?,
            lpid: r.number("LPID", 4)?,
            dd: r.flag("DD")?,
            ddt: r.time("DDT", MINUTES)?,
            vp: r.time("VP", MINUTES)?,
            rpid: r.number("RPID", 4)?,
            scts: r.time("SCTS", SECONDS)?,
            dst: r.digit("Dst", 9)?,
            rsn: r.number("Rsn", 3)?,
            dscts: r.time("DSCTS", SECONDS)?,
            content: read_5x_content(r)?,
            mms: r.flag("MMS")?,
            pr: r.flag("PR")?,
            dcs: r.digit("DCs", 9)?,
            mcls: r.digit("MCLs", 3)?,
            rpi: r.digit("RPI", 9)?,
            cpg: r.string("CPg")?,
            rply: r.string("RPLy")?,
            otoa: r.string("OTOA")?,
            hplmn: r.string("HPLMN")?,
            xser: XSer::parse(r.next("XSer")?).map_err(Bad::syntax)?,
            res4: r.string("RES4")?,
            res5: r.string("RES5")?,
            extra: r.rest(),
        };
        if sm.otoa == OTOA_ALPHANUMERIC {
            decode_alphanumeric(&sm.oadc).map_err(|e| Bad::syntax(e.to_string()))?;
        }
        Ok(sm)
    }

    pub(crate) fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.str("AdC", &self.adc)?;
        w.str("OAdC", &self.oadc)?;
        w.str("AC", &self.ac)?;
        w.flag(self.nrq);
        w.str("NAdC", &self.nadc)?;
        w.digit("NT", self.nt)?;
        w.number("NPID", self.npid, 4)?;
        w.flag(self.lrq);
        w.str("LRAd", &self.lrad)?;
        w.number("LPID", self.lpid, 4)?;
        w.flag(self.dd);
        w.str("DDT", &self.ddt)?;
        w.str("VP", &self.vp)?;
        w.number("RPID", self.rpid, 4)?;
        w.str("SCTS", &self.scts)?;
        w.digit("Dst", self.dst)?;
        w.number("Rsn", self.rsn, 3)?;
        w.str("DSCTS", &self.dscts)?;
        write_5x_content(&self.content, w)?;
        w.flag(self.mms);
        w.flag(self.pr);
        w.digit("DCs", self.dcs)?;
        w.digit("MCLs", self.mcls)?;
        w.digit("RPI", self.rpi)?;
        w.str("CPg", &self.cpg)?;
        w.str("RPLy", &self.rply)?;
        w.str("OTOA", &self.otoa)?;
        w.str("HPLMN", &self.hplmn)?;
        let xser = self.xser.encode()?;
        w.str("XSer", &xser)?;
        w.str("RES4", &self.res4)?;
        w.str("RES5", &self.res5)?;
        w.all("extra", &self.extra)
    }
}

impl Session {
    pub(crate) fn read(ot: u8, r: &mut Reader) -> R<Session> {
        let mut s = Session {
            oadc: r.string("OAdC")?,
            oton: r.digit("OTON", 9)?,
            onpi: r.digit("ONPI", 9)?,
            styp: r.digit("STYP", 9)?,
            pwd: r.hex("PWD")?,
            npwd: r.hex("NPWD")?,
            vers: r.string("VERS")?,
            ladc: r.string("LAdC")?,
            lton: r.digit("LTON", 9)?,
            lnpi: r.digit("LNPI", 9)?,
            ..Session::default()
        };
        if ot == 60 {
            s.opid = r.number("OPID", 2)?;
            s.res1 = r.string("RES1")?;
        } else {
            s.res1 = r.string("RES1")?;
            s.res2 = r.string("RES2")?;
        }
        s.extra = r.rest();
        Ok(s)
    }

    pub(crate) fn write(&self, ot: u8, w: &mut Writer) -> Result<(), EncodeError> {
        w.str("OAdC", &self.oadc)?;
        w.digit("OTON", self.oton)?;
        w.digit("ONPI", self.onpi)?;
        w.digit("STYP", self.styp)?;
        w.hex(&self.pwd);
        w.hex(&self.npwd);
        w.str("VERS", &self.vers)?;
        w.str("LAdC", &self.ladc)?;
        w.digit("LTON", self.lton)?;
        w.digit("LNPI", self.lnpi)?;
        if ot == 60 {
            if !self.res2.is_empty() {
                return Err(EncodeError::Mismatch {
                    ot,
                    reason: "RES2 belongs to operation 61".into(),
                });
            }
            w.number("OPID", self.opid, 2)?;
            w.str("RES1", &self.res1)?;
        } else {
            if self.opid.is_some() {
                return Err(EncodeError::Mismatch {
                    ot,
                    reason: "OPID belongs to operation 60".into(),
                });
            }
            w.str("RES1", &self.res1)?;
            w.str("RES2", &self.res2)?;
        }
        w.all("extra", &self.extra)
    }
}

impl Ack {
    pub(crate) fn read(has_mvp: bool, r: &mut Reader) -> R<Ack> {
        let mvp = if has_mvp {
            r.time("MVP", MINUTES)?
        } else {
            String::new()
        };
        Ok(Ack {
            mvp,
            sm: r.string("SM")?,
            extra: r.rest(),
        })
    }

    pub(crate) fn write(&self, ot: u8, has_mvp: bool, w: &mut Writer) -> Result<(), EncodeError> {
        w.out.push_str("A/");
        if has_mvp {
            w.str("MVP", &self.mvp)?;
        } else if !self.mvp.is_empty() {
            return Err(EncodeError::Mismatch {
                ot,
                reason: "its result has no MVP field".into(),
            });
        }
        w.str("SM", &self.sm)?;
        w.all("extra", &self.extra)
    }
}

impl Nack {
    pub(crate) fn read(r: &mut Reader) -> R<Nack> {
        let ec = r.next("EC")?;
        if ec.len() != 2 || !ec.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Bad::syntax(format!("EC must be two digits, not {ec:?}")));
        }
        Ok(Nack {
            ec: ErrorCode(ec.parse().map_err(|_| Bad::syntax("EC"))?),
            sm: r.string("SM")?,
            extra: r.rest(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.out.push_str("N/");
        w.number("EC", Some(u16::from(self.ec.0)), 2)?;
        w.str("SM", &self.sm)?;
        w.all("extra", &self.extra)
    }
}
