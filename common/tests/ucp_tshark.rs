//! Wire oracle: every UCP frame we encode, for every operation and both result shapes, goes
//! through Wireshark's UCP dissector, which must find every field we sent with the value we
//! meant, no field we did not send, a valid checksum and no expert complaint.

mod rng;
#[path = "../../tests/src/tshark.rs"]
mod tshark;
mod ucp_support;

use common::ucp::*;
use tshark::{dissect, ucp_time, Dissected};
use ucp_support::SPEC;

fn chr(c: impl std::fmt::Display) -> String {
    format!("'{c}'")
}

/// The dissector shows some one-character fields as the character's code.
fn code_of(c: char) -> String {
    (c as u32).to_string()
}

#[derive(Default)]
struct Want(Vec<(&'static str, String)>);

impl Want {
    fn s(&mut self, name: &'static str, v: &str) {
        if !v.is_empty() {
            self.0.push((name, v.to_string()));
        }
    }
    fn c<T: std::fmt::Display>(&mut self, name: &'static str, v: Option<T>) {
        if let Some(v) = v {
            self.0.push((name, chr(v)));
        }
    }
    fn flag(&mut self, name: &'static str, v: Option<bool>) {
        self.c(name, v.map(u8::from));
    }
    fn code(&mut self, name: &'static str, v: Option<bool>) {
        if let Some(v) = v {
            self.0.push((name, code_of(if v { '1' } else { '0' })));
        }
    }
    fn n(&mut self, name: &'static str, v: Option<u16>) {
        if let Some(v) = v {
            self.0.push((name, v.to_string()));
        }
    }
    fn t(&mut self, name: &'static str, v: &str) {
        if !v.is_empty() {
            self.0.push((name, ucp_time(v)));
        }
    }
    /// The dissector decodes IRA as ASCII, which our test texts keep to.
    fn ira(&mut self, name: &'static str, v: &[u8]) {
        self.s(name, std::str::from_utf8(v).expect("ASCII test text"));
    }
    fn short_content(&mut self, c: &Content) {
        self.c("ucp.parm.MT", c.mt());
        match c {
            Content::Alphanumeric(v) => self.ira("ucp.parm.AMsg", v),
            _ => self.s("ucp.message", " "),
        }
    }
}

/// What the dissector should show for `f`.
fn want(f: &Frame) -> Want {
    let mut w = Want::default();
    w.0.push(("ucp.hdr.TRN", f.trn.to_string()));
    w.0.push(("ucp.hdr.LEN", f.encoded_len().to_string()));
    w.0.push(("ucp.hdr.O_R", chr(f.kind().letter())));
    w.0.push(("ucp.hdr.OT", f.ot.to_string()));
    match &f.body {
        Body::CallInput(b) => {
            w.s("ucp.parm.AdC", &b.adc);
            w.s("ucp.parm.OAdC", &b.oadc);
            w.s("ucp.parm.OAC", &b.oac);
            w.short_content(&b.content);
        }
        Body::MultipleCallInput(b) => {
            w.n("ucp.parm.NPL", Some(b.adcs.len() as u16));
            for a in &b.adcs {
                w.s("ucp.parm.AdC", a);
            }
            w.s("ucp.parm.OAdC", &b.oadc);
            w.s("ucp.parm.OAC", &b.oac);
            w.short_content(&b.content);
        }
        // Wireshark reads an LRP field after RP that the spec's 03 layout (and its two example
        // frames) do not have, so past GA:s it reads one field off and calls the frame
        // malformed; `check_03` proves that this one field is the only disagreement.
        Body::CallInputSs(b) => {
            w.s("ucp.parm.AdC", &b.adc);
            w.s("ucp.parm.OAdC", &b.oadc);
            w.s("ucp.parm.OAC", &b.oac);
            w.n("ucp.parm.NPL", Some(b.gas.len() as u16));
            for g in &b.gas {
                w.s("ucp.parm.GA", g);
            }
            w.flag("ucp.parm.RP", b.rp);
            w.code("ucp.parm.PR", b.pr);
            w.s("ucp.parm.LPR", &b.lpr);
            w.flag("ucp.parm.UM", b.um);
            w.s("ucp.parm.LUM", &b.lum);
            w.flag("ucp.parm.RC", b.rc);
            w.s("ucp.parm.LRC", &b.lrc);
            w.flag("ucp.parm.DD", b.dd);
            w.t("ucp.parm.DDT", &b.ddt);
            w.short_content(&b.content);
        }
        Body::Transfer(b) => {
            w.s("ucp.parm.AdC", &b.adc);
            w.s("ucp.parm.OAdC", &b.oadc);
            w.s("ucp.parm.AC", &b.ac);
            w.flag("ucp.parm.NRq", b.nrq);
            w.s("ucp.parm.NAdC", &b.nadc);
            w.n("ucp.parm.NPID", b.npid);
            w.flag("ucp.parm.DD", b.dd);
            w.t("ucp.parm.DDT", &b.ddt);
            w.t("ucp.parm.VP", &b.vp);
            w.ira("ucp.parm.AMsg", &b.amsg);
        }
        Body::Alert(b) => {
            w.s("ucp.parm.AdC", &b.adc);
            w.n("ucp.parm.PID", b.pid);
        }
        Body::Sm(s) => {
            w.s("ucp.parm.AdC", &s.adc);
            w.s("ucp.parm.OAdC", &s.oadc);
            w.s("ucp.parm.AC", &s.ac);
            w.flag("ucp.parm.NRq", s.nrq);
            w.s("ucp.parm.NAdC", &s.nadc);
            w.c("ucp.parm.NT", s.nt);
            w.n("ucp.parm.NPID", s.npid);
            w.flag("ucp.parm.LRq", s.lrq);
            w.s("ucp.parm.LRAd", &s.lrad);
            w.n("ucp.parm.LPID", s.lpid);
            w.flag("ucp.parm.DD", s.dd);
            w.t("ucp.parm.DDT", &s.ddt);
            w.t("ucp.parm.VP", &s.vp);
            w.s(
                "ucp.parm.RPID",
                &s.rpid.map(|v| format!("{v:04}")).unwrap_or_default(),
            );
            w.t("ucp.parm.SCTS", &s.scts);
            w.c("ucp.parm.Dst", s.dst);
            w.n("ucp.parm.Rsn", s.rsn);
            w.t("ucp.parm.DSCTS", &s.dscts);
            w.c("ucp.parm.MT", s.content.mt());
            match &s.content {
                Content::None => {}
                Content::Alphanumeric(v) => w.ira("ucp.parm.AMsg", v),
                Content::Transparent { bits, .. } => {
                    w.n("ucp.parm.NB", *bits);
                    w.s("ucp.message", " ");
                }
                Content::Numeric(_) => w.s("ucp.message", " "),
            }
            w.code("ucp.parm.MMS", s.mms);
            w.code("ucp.parm.PR", s.pr);
            w.c("ucp.parm.DCs", s.dcs);
            w.c("ucp.parm.MCLs", s.mcls);
            w.c("ucp.parm.RPI", s.rpi);
            w.s("ucp.parm.OTOA", &s.otoa);
            w.s("ucp.parm.HPLMN", &s.hplmn);
            for it in &s.xser.items {
                w.0.push(("ucp.xser.service", format!("0x{:02x}", it.kind)));
                w.0.push(("ucp.xser.length", it.data.len().to_string()));
                w.s("ucp.xser.data", &common::hex::to_hex(&it.data));
            }
            w.s("ucp.parm.RES4", &s.res4);
            w.s("ucp.parm.RES5", &s.res5);
        }
        Body::Session(s) => {
            w.s("ucp.parm.OAdC", &s.oadc);
            w.c("ucp.parm.OTON", s.oton);
            w.c("ucp.parm.ONPI", s.onpi);
            w.c(
                if f.ot == 60 {
                    "ucp.parm.STYP0"
                } else {
                    "ucp.parm.STYP1"
                },
                s.styp,
            );
            w.s("ucp.parm.PWD", std::str::from_utf8(&s.pwd).unwrap());
            w.s("ucp.parm.NPWD", std::str::from_utf8(&s.npwd).unwrap());
            w.s("ucp.parm.VERS", &s.vers);
            w.s("ucp.parm.LAdC", &s.ladc);
            if let Some(v) = s.lton {
                w.0.push(("ucp.parm.LTON", code_of(char::from(b'0' + v))));
            }
            if let Some(v) = s.lnpi {
                w.0.push(("ucp.parm.LNPI", code_of(char::from(b'0' + v))));
            }
            w.n("ucp.parm.OPID", s.opid);
            w.s("ucp.parm.RES1", &s.res1);
            w.s("ucp.parm.RES2", &s.res2);
        }
        Body::Ack(a) => {
            w.0.push(("ucp.parm.ACK", chr('A')));
            w.t("ucp.parm.MVP", &a.mvp);
            w.s("ucp.parm.SM", &a.sm);
        }
        Body::Nack(n) => {
            w.0.push(("ucp.parm.ACK", chr('N')));
            w.n("ucp.parm.EC", Some(u16::from(n.ec.0)));
            w.s("ucp.parm.SM", &n.sm);
        }
    }
    w
}

/// Fields the dissector adds that are not values we sent.
fn structural(name: &str) -> bool {
    name.starts_with("_ws.") || name == "ucp.parm" || name == "ucp.parm.XSer"
}

fn check(f: &Frame, d: &Dissected) {
    let shown = common::ucp::log_line(common::smpp::Direction::Write, f);
    assert!(
        !d.malformed && d.expert.is_empty(),
        "{shown}\ntshark: {d:?}"
    );
    assert!(!d.info.contains("invalid"), "{shown}\ntshark: {}", d.info);
    let mut left: Vec<(String, String)> = d
        .fields
        .iter()
        .filter(|(n, _)| !structural(n))
        .cloned()
        .collect();
    for (name, value) in want(f).0 {
        let at = left
            .iter()
            .position(|(n, v)| n == name && (v == &value || name == "ucp.message"));
        let at = at.unwrap_or_else(|| {
            panic!(
                "{shown}\ntshark has no {name} = {value:?}; it shows {:?}",
                d.fields
            )
        });
        left.remove(at);
    }
    assert!(
        left.is_empty(),
        "{shown}\ntshark shows fields we did not send: {left:?}"
    );
}

/// `frame` (an 03) as Wireshark's dissector lays it out: an empty LRP after RP.
fn wireshark_layout_03(frame: &Frame) -> Vec<u8> {
    let Body::CallInputSs(c) = &frame.body else {
        panic!("not an 03")
    };
    let text = String::from_utf8(frame.to_bytes().unwrap()[1..].to_vec()).unwrap();
    let mut fields: Vec<&str> = text.trim_end_matches('\u{3}').split('/').collect();
    fields.pop(); // checksum
    let rp = 4 + 3 + 1 + c.gas.len();
    fields.insert(rp + 1, "");
    let body = fields.join("/") + "/";
    let body = format!("{}{:05}{}", &body[..3], body.len() + 2, &body[8..]);
    let cs = checksum(body.as_bytes());
    wire(&format!("{body}{cs:02X}"))
}

fn is_03(f: &Frame) -> bool {
    matches!(f.body, Body::CallInputSs(_))
}

/// Checks every frame; an 03 twice: as we send it, where tshark must agree up to GA:s, and
/// in Wireshark's layout, where it must agree on everything.
fn check_all(frames: &[Frame]) {
    let mut wire_frames = Vec::new();
    for f in frames {
        wire_frames.push(f.to_bytes().unwrap().to_vec());
        if is_03(f) {
            wire_frames.push(wireshark_layout_03(f));
        }
    }
    let mut seen = dissect("ucp", &wire_frames).into_iter();
    for f in frames {
        let d = seen.next().unwrap();
        if !is_03(f) {
            check(f, &d);
            continue;
        }
        let mut prefix = want(f).0;
        let ga = prefix
            .iter()
            .rposition(|(n, _)| *n == "ucp.parm.NPL" || *n == "ucp.parm.GA")
            .unwrap();
        prefix.truncate(ga + 1);
        for (name, value) in prefix {
            assert!(
                d.all(name).contains(&value.as_str()),
                "03: tshark has no {name} = {value}: {d:?}"
            );
        }
        let mut as_wireshark = seen.next().unwrap();
        as_wireshark
            .fields
            .retain(|(n, _)| n != "ucp.parm.LEN" && n != "ucp.hdr.LEN");
        as_wireshark
            .fields
            .push(("ucp.hdr.LEN".into(), f.encoded_len().to_string()));
        check(f, &as_wireshark);
    }
}

fn wire(s: &str) -> Vec<u8> {
    [&[STX][..], s.as_bytes(), &[ETX]].concat()
}

/// One frame per operation and result shape, every field the operation has filled in.
fn rich_frames() -> Vec<Frame> {
    let text = |s: &str| Content::from_text(s).unwrap();
    let mut xser = XSer::default();
    xser.set(xser::UDH, vec![5, 0, 3, 0x2A, 2, 1]);
    xser.set(xser::DCS, vec![0xF1]);
    xser.set(xser::BILLING_ID, b"ACC7".to_vec());
    let sm = Sm {
        adc: "46701234567".into(),
        oadc: "4670999".into(),
        ac: "1234".into(),
        nrq: Some(true),
        nadc: "4670888".into(),
        nt: Some(7),
        npid: Some(539),
        lrq: Some(true),
        lrad: "4670777".into(),
        lpid: Some(100),
        dd: Some(true),
        ddt: "0501261230".into(),
        vp: "3112261200".into(),
        rpid: Some(127),
        scts: "010126120000".into(),
        dst: Some(2),
        rsn: Some(5),
        dscts: "020126130405".into(),
        content: text("Hello from emg"),
        mms: Some(true),
        pr: Some(false),
        dcs: Some(1),
        mcls: Some(2),
        rpi: Some(1),
        otoa: "1139".into(),
        hplmn: "46709".into(),
        xser,
        res4: "r4".into(),
        res5: "r5".into(),
        ..Sm::default()
    };
    let mut frames = Vec::new();
    for (i, ot) in (51..=58).enumerate() {
        let mut s = sm.clone();
        match i % 3 {
            1 => s.content = Content::binary(vec![0, 0x41, 0xFF]),
            2 => s.content = Content::Numeric("0123".into()),
            _ => {}
        }
        frames.push(Frame {
            trn: i as u8,
            ot,
            body: Body::Sm(Box::new(s)),
        });
    }
    let mut alpha = sm.clone();
    alpha.set_alphanumeric_originator("EMG Test").unwrap();
    frames.push(Frame {
        trn: 20,
        ot: 51,
        body: Body::Sm(Box::new(alpha)),
    });
    frames.push(Frame {
        trn: 21,
        ot: 53,
        body: Body::Sm(Box::new(Sm {
            content: Content::None,
            ..sm.clone()
        })),
    });
    frames.push(Frame {
        trn: 30,
        ot: 1,
        body: Body::CallInput(CallInput {
            adc: "123".into(),
            oadc: "456".into(),
            oac: "789".into(),
            content: text("one"),
            extra: vec![],
        }),
    });
    frames.push(Frame {
        trn: 31,
        ot: 2,
        body: Body::MultipleCallInput(MultipleCallInput {
            adcs: vec!["111".into(), "222".into()],
            oadc: "456".into(),
            oac: "789".into(),
            content: Content::Numeric("42".into()),
            extra: vec![],
        }),
    });
    frames.push(Frame {
        trn: 34,
        ot: 3,
        body: Body::CallInputSs(CallInputSs {
            adc: "123".into(),
            oadc: "456".into(),
            oac: "789".into(),
            gas: vec!["4670111".into(), "4670222".into()],
            rp: Some(true),
            pr: Some(true),
            lpr: "11".into(),
            um: Some(false),
            lum: "22".into(),
            rc: Some(true),
            lrc: "33".into(),
            dd: Some(true),
            ddt: "0602261500".into(),
            content: text("supplementary"),
            extra: vec![],
        }),
    });
    frames.push(Frame {
        trn: 32,
        ot: 30,
        body: Body::Transfer(Transfer {
            adc: "123".into(),
            oadc: "456".into(),
            ac: "77".into(),
            nrq: Some(true),
            nadc: "999".into(),
            npid: Some(539),
            dd: Some(true),
            ddt: "0201261000".into(),
            vp: "0301261000".into(),
            amsg: b"transfer".to_vec(),
            extra: vec![],
        }),
    });
    frames.push(Frame {
        trn: 33,
        ot: 31,
        body: Body::Alert(Alert {
            adc: "0234765439845".into(),
            pid: Some(539),
            extra: vec![],
        }),
    });
    for ot in [60, 61] {
        frames.push(Frame {
            trn: ot - 20,
            ot,
            body: Body::Session(Session {
                oadc: "emguser".into(),
                oton: Some(6),
                onpi: Some(5),
                styp: Some(1),
                pwd: b"secret".to_vec(),
                npwd: b"newer".to_vec(),
                vers: "0100".into(),
                ladc: "4670".into(),
                lton: Some(1),
                lnpi: Some(1),
                opid: (ot == 60).then_some(39),
                res1: "x".into(),
                res2: if ot == 61 { "y".into() } else { String::new() },
                extra: vec![],
            }),
        });
    }
    for o in Ot::ALL {
        let op = Frame {
            trn: 50 + o.code() % 40,
            ot: o.code(),
            body: Body::Alert(Alert::default()),
        };
        let mvp = if o.result_has_mvp() { "0101261200" } else { "" };
        frames.push(op.ack(mvp, "46701234567:010126120000"));
        frames.push(op.nack(ErrorCode::SYNTAX, "bad field"));
    }
    frames
}

#[test]
fn tshark_decodes_every_field_of_every_operation_and_result() {
    check_all(&rich_frames());
}

#[test]
fn tshark_agrees_with_the_spec_examples() {
    let frames: Vec<Frame> = SPEC
        .iter()
        .map(|s| decode_frame(&wire(s)).unwrap())
        .collect();
    check_all(&frames);
}

#[test]
fn tshark_sees_the_negative_results_our_decode_errors_call_for() {
    // A frame with a bad checksum: tshark flags it too, and our NACK for it is clean.
    let bad = wire("02/00035/O/31/0234765439845/0139/A1");
    let nack = decode_frame(&bad).unwrap_err().nack().unwrap();
    let d = dissect("ucp", &[bad, nack.to_bytes().unwrap().to_vec()]);
    assert!(d[0].info.contains("checksum invalid"), "{:?}", d[0].info);
    check(&nack, &d[1]);
}
