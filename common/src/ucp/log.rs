//! One-line frame rendering in the shape of EMG's PDU log lines, so one grep serves SMPP and
//! UCP connectors alike:
//!
//! `Write op:51 (SUBMIT_SHORT_MESSAGE) type:O status:0 trn:07 datalen:70 ADC:0612345678
//! MSG:hello MT:3 OADC:EMG` — the header first, then the fields EMG-style: names upper case,
//! only non-empty values, sorted by name. `status` is 0 except in a negative result, where it
//! is the EC. Alphanumeric messages show as text, data as hex; passwords are always masked.

use std::fmt::Write as _;

use super::content::Content;
use super::field::to_hex;
use super::frame::{Body, Frame, Ot};
use crate::smpp::Direction;

const MASK: &str = "********";

#[derive(Default)]
struct Fields(Vec<(&'static str, String)>);

impl Fields {
    fn s(&mut self, name: &'static str, v: &str) {
        if !v.is_empty() {
            self.0.push((name, v.to_string()));
        }
    }
    fn n(&mut self, name: &'static str, v: Option<impl std::fmt::Display>) {
        if let Some(v) = v {
            self.0.push((name, v.to_string()));
        }
    }
    fn flag(&mut self, name: &'static str, v: Option<bool>) {
        self.n(name, v.map(u8::from));
    }
    fn content(&mut self, c: &Content) {
        self.n("MT", c.mt());
        match c {
            Content::None => {}
            Content::Numeric(s) => self.s("MSG", s),
            Content::Alphanumeric(_) => self.s("MSG", &c.text().unwrap_or_default()),
            Content::Transparent { bits, data } => {
                self.n("NB", *bits);
                self.s("MSG", &to_hex(data));
            }
        }
    }
    fn extra(&mut self, extra: &[String]) {
        if extra.iter().any(|e| !e.is_empty()) {
            self.0.push(("EXTRA", extra.join("/")));
        }
    }
}

/// The PDU log line without time stamp and connector prefix.
pub fn log_line(dir: Direction, frame: &Frame) -> String {
    let mut f = Fields::default();
    let mut status = 0;
    fields(&frame.body, &mut f, &mut status);
    f.0.sort_by(|a, b| a.0.cmp(b.0));
    let name = Ot::from_code(frame.ot).map_or("UNKNOWN", |o| o.name());
    let resp = if matches!(frame.body, Body::Ack(_) | Body::Nack(_)) {
        "_RESP"
    } else {
        ""
    };
    let mut line = format!(
        "{} op:{:02} ({name}{resp}) type:{} status:{status} trn:{:02} datalen:{}",
        match dir {
            Direction::Read => "Read",
            Direction::Write => "Write",
        },
        frame.ot,
        frame.kind().letter(),
        frame.trn,
        frame.encoded_len(),
    );
    for (name, value) in f.0 {
        let _ = write!(line, " {name}:{value}");
    }
    line
}

fn fields(body: &Body, f: &mut Fields, status: &mut u8) {
    match body {
        Body::CallInput(b) => {
            f.s("ADC", &b.adc);
            f.s("OADC", &b.oadc);
            f.s("OAC", &b.oac);
            f.content(&b.content);
            f.extra(&b.extra);
        }
        Body::MultipleCallInput(b) => {
            f.s("ADC", &b.adcs.join(","));
            f.s("OADC", &b.oadc);
            f.s("OAC", &b.oac);
            f.content(&b.content);
            f.extra(&b.extra);
        }
        Body::CallInputSs(b) => {
            f.s("ADC", &b.adc);
            f.s("OADC", &b.oadc);
            f.s("OAC", &b.oac);
            f.s("GA", &b.gas.join(","));
            f.flag("RP", b.rp);
            f.flag("PR", b.pr);
            f.s("LPR", &b.lpr);
            f.flag("UM", b.um);
            f.s("LUM", &b.lum);
            f.flag("RC", b.rc);
            f.s("LRC", &b.lrc);
            f.flag("DD", b.dd);
            f.s("DDT", &b.ddt);
            f.content(&b.content);
            f.extra(&b.extra);
        }
        Body::Transfer(b) => {
            f.s("ADC", &b.adc);
            f.s("OADC", &b.oadc);
            f.s("AC", &b.ac);
            f.flag("NRQ", b.nrq);
            f.s("NADC", &b.nadc);
            f.n("NPID", b.npid.map(|v| format!("{v:04}")));
            f.flag("DD", b.dd);
            f.s("DDT", &b.ddt);
            f.s("VP", &b.vp);
            f.s("MSG", &crate::gsm::decode_gsm(&b.amsg));
            f.extra(&b.extra);
        }
        Body::Alert(b) => {
            f.s("ADC", &b.adc);
            f.n("PID", b.pid.map(|v| format!("{v:04}")));
            f.extra(&b.extra);
        }
        Body::Sm(s) => {
            f.s("ADC", &s.adc);
            f.s("OADC", &s.originator());
            f.s("AC", &s.ac);
            f.flag("NRQ", s.nrq);
            f.s("NADC", &s.nadc);
            f.n("NT", s.nt);
            f.n("NPID", s.npid.map(|v| format!("{v:04}")));
            f.flag("LRQ", s.lrq);
            f.s("LRAD", &s.lrad);
            f.n("LPID", s.lpid.map(|v| format!("{v:04}")));
            f.flag("DD", s.dd);
            f.s("DDT", &s.ddt);
            f.s("VP", &s.vp);
            f.n("RPID", s.rpid.map(|v| format!("{v:04}")));
            f.s("SCTS", &s.scts);
            f.n("DST", s.dst);
            f.n("RSN", s.rsn.map(|v| format!("{v:03}")));
            f.s("DSCTS", &s.dscts);
            f.content(&s.content);
            f.flag("MMS", s.mms);
            f.flag("PR", s.pr);
            f.n("DCS", s.dcs);
            f.n("MCLS", s.mcls);
            f.n("RPI", s.rpi);
            f.s("CPG", &s.cpg);
            f.s("RPLY", &s.rply);
            f.s("OTOA", &s.otoa);
            f.s("HPLMN", &s.hplmn);
            f.s("XSER", &s.xser.encode().unwrap_or_default());
            f.s("RES4", &s.res4);
            f.s("RES5", &s.res5);
            f.extra(&s.extra);
        }
        Body::Session(s) => {
            f.s("OADC", &s.oadc);
            f.n("OTON", s.oton);
            f.n("ONPI", s.onpi);
            f.n("STYP", s.styp);
            if !s.pwd.is_empty() {
                f.s("PWD", MASK);
            }
            if !s.npwd.is_empty() {
                f.s("NPWD", MASK);
            }
            f.s("VERS", &s.vers);
            f.s("LADC", &s.ladc);
            f.n("LTON", s.lton);
            f.n("LNPI", s.lnpi);
            f.n("OPID", s.opid.map(|v| format!("{v:02}")));
            f.s("RES1", &s.res1);
            f.s("RES2", &s.res2);
            f.extra(&s.extra);
        }
        Body::Ack(a) => {
            f.s("MVP", &a.mvp);
            f.s("SM", &a.sm);
            f.extra(&a.extra);
        }
        Body::Nack(n) => {
            *status = n.ec.0;
            f.s("SM", &n.sm);
            f.extra(&n.extra);
        }
    }
}
