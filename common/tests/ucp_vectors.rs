//! Frames from the UCP/EMI 4.x specification's examples, decoded field by field and encoded
//! back to the same octets; plus every decode error path.

use bytes::BytesMut;
use common::ucp::*;

mod rng;
mod ucp_support;
use ucp_support::SPEC;

fn wire(s: &str) -> Vec<u8> {
    let mut v = vec![STX];
    v.extend_from_slice(s.as_bytes());
    v.push(ETX);
    v
}

fn decode_one(s: &str) -> Frame {
    let mut buf = BytesMut::from(&wire(s)[..]);
    let f = decode(&mut buf, DEFAULT_MAX_FRAME_LEN)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .expect("a whole frame");
    assert!(buf.is_empty());
    f
}

/// Decodes, checks the encoding gives the same octets back, returns the frame.
fn exact(s: &str) -> Frame {
    let f = decode_one(s);
    assert_eq!(
        String::from_utf8(f.to_bytes().unwrap().to_vec()).unwrap(),
        String::from_utf8(wire(s)).unwrap(),
        "{f:?}"
    );
    f
}

#[test]
fn every_spec_example_round_trips() {
    for s in SPEC {
        exact(s);
    }
}

fn sm(f: &Frame) -> &Sm {
    match &f.body {
        Body::Sm(s) => s,
        b => panic!("not a 5x body: {b:?}"),
    }
}

#[test]
fn op_01_call_input() {
    let f = exact(SPEC[2]);
    assert_eq!((f.trn, f.ot, f.kind()), (0, 1, Kind::Operation));
    let Body::CallInput(c) = &f.body else {
        panic!("{f:?}")
    };
    assert_eq!(
        (c.adc.as_str(), c.oadc.as_str(), c.oac.as_str()),
        ("01234567890", "09876543210", "")
    );
    assert_eq!(c.content.text().as_deref(), Some("Short Message"));
    let Body::CallInput(n) = exact(SPEC[3]).body else {
        panic!()
    };
    assert_eq!(n.content, Content::Numeric("716436383334".into()));
}

#[test]
fn op_02_multiple_address_call_input() {
    let Body::MultipleCallInput(m) = exact(SPEC[4]).body else {
        panic!()
    };
    assert_eq!(m.adcs, ["01111", "02222", "03333"]);
    assert_eq!(m.oadc, "0123456789");
    assert_eq!(m.content.text().as_deref(), Some("SMSC"));
    let Body::MultipleCallInput(m) = exact(SPEC[5]).body else {
        panic!()
    };
    assert_eq!(m.adcs.len(), 5);
    assert_eq!(m.content, Content::Numeric("563444".into()));
}

#[test]
fn op_03_call_input_with_supplementary_services() {
    let Body::CallInputSs(c) = exact(SPEC[6]).body else {
        panic!()
    };
    assert_eq!(
        (c.adc.as_str(), c.oadc.as_str(), c.oac.as_str()),
        ("01234568", "0756663", "2435")
    );
    assert!(c.gas.is_empty());
    assert_eq!(c.content.text().as_deref(), Some("CMG"));
    let Body::CallInputSs(c) = exact(SPEC[7]).body else {
        panic!()
    };
    assert_eq!((c.dd, c.ddt.as_str()), (Some(true), "0602961500"));
    assert_eq!(c.content, Content::Numeric("89123334".into()));
}

#[test]
fn op_30_sms_message_transfer() {
    let Body::Transfer(t) = exact(SPEC[0]).body else {
        panic!()
    };
    assert_eq!((t.adc.as_str(), t.nrq), ("66677789", Some(true)));
    assert_eq!(t.amsg, b"hello");
    let Body::Transfer(t) = exact(SPEC[8]).body else {
        panic!()
    };
    assert_eq!((t.nadc.as_str(), t.npid), ("0296877842", Some(139)));
    assert_eq!(t.amsg, b"EMI specification");
    let Body::Transfer(t) = exact(SPEC[9]).body else {
        panic!()
    };
    assert_eq!(
        (t.dd, t.ddt.as_str(), t.vp.as_str()),
        (Some(true), "1003961344", "1203961200")
    );
}

#[test]
fn op_31_alert() {
    let Body::Alert(a) = exact(SPEC[10]).body else {
        panic!()
    };
    assert_eq!((a.adc.as_str(), a.pid), ("0234765439845", Some(139)));
    let Body::Ack(r) = exact("04/00023/R/31/A/0003/2D").body else {
        panic!()
    };
    assert_eq!((r.mvp.as_str(), r.sm.as_str()), ("", "0003"));
}

#[test]
fn op_51_submit_with_notification_request() {
    let f = exact(SPEC[11]);
    let s = sm(&f);
    assert_eq!((s.adc.as_str(), s.oadc.as_str()), ("012345", "09876"));
    assert_eq!(
        (s.nrq, s.nadc.as_str(), s.nt, s.npid),
        (Some(true), "1920870340125000", Some(4), Some(539))
    );
    assert_eq!(s.vp, "3012961212");
    assert_eq!(s.content.text().as_deref(), Some("Message 51"));
}

#[test]
fn op_51_submit_transparent_with_last_resort_and_deferred_delivery() {
    let f = exact(SPEC[12]);
    let s = sm(&f);
    assert_eq!(
        (s.nt, s.lrq, s.lrad.as_str(), s.lpid),
        (Some(7), Some(true), "0545765", Some(122))
    );
    assert_eq!((s.dd, s.ddt.as_str()), (Some(true), "0808971800"));
    assert_eq!(
        s.content,
        Content::Transparent {
            bits: Some(32),
            data: vec![0xF5, 0xAA, 0x34, 0xDE]
        }
    );
    assert_eq!(s.mcls, Some(1));
}

#[test]
fn op_52_deliver() {
    let f = exact(SPEC[13]);
    let s = sm(&f);
    assert_eq!(
        (s.adc.as_str(), s.oadc.as_str(), s.scts.as_str()),
        ("076523578", "07686745", "120396111055")
    );
    assert_eq!(s.content.text().as_deref(), Some("Call you back later."));
    assert_eq!(s.dcs, Some(0));
}

#[test]
fn op_53_delivery_notification() {
    let f = exact(SPEC[14]);
    let s = sm(&f);
    assert_eq!((s.adc.as_str(), s.oadc.as_str()), ("1299998", "3155555"));
    assert_eq!(
        (s.scts.as_str(), s.dst, s.rsn, s.dscts.as_str()),
        ("090196161057", Some(1), Some(108), "090196161105")
    );
    assert_eq!(
        s.content.text().as_deref(),
        Some("Message for 3155555, with identification 960109161057 has been buffered")
    );
}

#[test]
fn ops_54_to_58() {
    let f = exact(SPEC[15]);
    assert_eq!(f.ot, 54);
    let s = sm(&f);
    assert_eq!(
        (s.lrq, s.lrad.as_str(), s.lpid, s.scts.as_str()),
        (Some(true), "0654321", Some(100), "010197120501")
    );
    assert_eq!(sm(&f).content, Content::Alphanumeric(vec![]));
    let f = exact(SPEC[16]);
    assert_eq!((f.ot, sm(&f).content.clone()), (55, Content::None));
    let f = exact(SPEC[17]);
    assert_eq!(f.ot, 56);
    assert_eq!(
        sm(&f).content.text().as_deref(),
        Some("960901113944 960808122222")
    );
    let f = exact(SPEC[18]);
    assert_eq!((f.ot, sm(&f).mms), (57, Some(true)));
    let f = exact(SPEC[19]);
    assert_eq!(f.ot, 58);
    assert!(sm(&f)
        .content
        .text()
        .unwrap()
        .ends_with("has been deleted."));
}

#[test]
fn op_60_session_management_and_61() {
    let Body::Session(s) = exact(SPEC[20]).body else {
        panic!()
    };
    assert_eq!(
        (s.oadc.as_str(), s.oton, s.onpi, s.styp),
        ("07656765", Some(2), Some(1), Some(1))
    );
    assert_eq!(
        (s.pwd.as_slice(), s.vers.as_str()),
        (&b"Password"[..], "0100")
    );
    let f = exact(SPEC[21]);
    assert_eq!(f.ot, 61);
    let Body::Session(s) = f.body else { panic!() };
    assert_eq!(
        (s.styp, s.ladc.as_str(), s.lnpi, s.opid),
        (Some(2), "1920870340094000", Some(5), None)
    );
}

#[test]
fn results_by_shape() {
    // (frame, ot, positive, MVP, EC, SM)
    let table: &[(&str, u8, bool, &str, u8, &str)] = &[
        (
            "06/00043/R/01/A/01234567890:090196103258/4E",
            1,
            true,
            "",
            0,
            "01234567890:090196103258",
        ),
        ("12/00022/R/01/N/02//03", 1, false, "", 2, ""),
        (
            "82/00059/R/02/A/0654321:090196113940,065432:090196113940/86",
            2,
            true,
            "",
            0,
            "0654321:090196113940,065432:090196113940",
        ),
        (
            "10/00039/R/30/A//067345:070295121212/6F",
            30,
            true,
            "",
            0,
            "067345:070295121212",
        ),
        ("11/00022/R/30/N/24//08", 30, false, "", 24, ""),
        (
            "00/00039/R/51/A//012234:090996101010/68",
            51,
            true,
            "",
            0,
            "012234:090996101010",
        ),
        ("00/00022/R/51/N/31//07", 51, false, "", 31, ""),
        ("00/00020/R/57/A///9A", 57, true, "", 0, ""),
        ("00/00027/R/58/N/02/07567/1A", 58, false, "", 2, "07567"),
        ("00/00019/R/60/A//6D", 60, true, "", 0, ""),
        ("00/00022/R/60/N/01//04", 60, false, "", 1, ""),
    ];
    for &(s, ot, positive, mvp, ec, text) in table {
        let f = exact(s);
        assert_eq!((f.ot, f.kind()), (ot, Kind::Result), "{s}");
        match f.body {
            Body::Ack(a) if positive => {
                assert_eq!((a.mvp.as_str(), a.sm.as_str()), (mvp, text), "{s}")
            }
            Body::Nack(n) if !positive => {
                assert_eq!((n.ec, n.sm.as_str()), (ErrorCode(ec), text), "{s}")
            }
            b => panic!("{s}: {b:?}"),
        }
    }
}

#[test]
fn mvp_only_in_results_of_30_and_5x() {
    let with_mvp = Frame {
        trn: 3,
        ot: 51,
        body: Body::Ack(Ack {
            mvp: "0101261200".into(),
            sm: "x".into(),
            extra: vec![],
        }),
    };
    let f = decode_one(
        std::str::from_utf8(&with_mvp.to_bytes().unwrap()[1..])
            .unwrap()
            .trim_end_matches('\u{3}'),
    );
    assert_eq!(f, with_mvp);
    let on_60 = Frame { ot: 60, ..with_mvp };
    assert!(matches!(
        on_60.to_bytes(),
        Err(EncodeError::Mismatch { ot: 60, .. })
    ));
}

#[test]
fn alphanumeric_originator_packing() {
    // (text, OAdC)
    let table = [
        ("ALPHA@NUM", "10412614190438AB4D"),
        ("ABC@CMG", "0D41E110306C1E01"),
        ("EMG", "06C5E611"),
    ];
    for (text, hex) in table {
        assert_eq!(encode_alphanumeric(text).unwrap(), hex, "{text}");
        assert_eq!(decode_alphanumeric(hex).unwrap(), text, "{hex}");
    }
    let f =
        exact("00/00080/O/51/0123456789/0D41E110306C1E01/////////////////2//////////5039/////4B");
    assert_eq!(sm(&f).originator(), "ABC@CMG");
    assert!(decode_alphanumeric("0D41").is_err());
    assert!(decode_alphanumeric("XYZ").is_err());
    let mut s = Sm {
        adc: "46701234567".into(),
        content: Content::from_text("hi").unwrap(),
        ..Sm::default()
    };
    s.set_alphanumeric_originator("Nordic €").unwrap();
    let f = Frame {
        trn: 1,
        ot: 51,
        body: Body::Sm(Box::new(s)),
    };
    let back = decode_frame(&f.to_bytes().unwrap()).unwrap();
    assert_eq!(sm(&back).originator(), "Nordic €");
    assert_eq!(sm(&back).otoa, "5039");
}

#[test]
fn xser_udh_dcs_and_billing_identifier() {
    let mut x = XSer::default();
    x.set(xser::UDH, vec![5, 0, 3, 0x2A, 2, 1]);
    x.set(xser::DCS, vec![0x08]);
    x.set(xser::BILLING_ID, b"ACC-7".to_vec());
    x.items.push(XSerItem {
        kind: 0x7E,
        data: vec![1, 2],
    }); // unknown: kept
    let s = Sm {
        adc: "1".into(),
        oadc: "2".into(),
        xser: x.clone(),
        content: Content::binary(vec![0, 0x41]),
        ..Sm::default()
    };
    let f = Frame {
        trn: 9,
        ot: 51,
        body: Body::Sm(Box::new(s)),
    };
    let back = decode_frame(&f.to_bytes().unwrap()).unwrap();
    let got = &sm(&back).xser;
    assert_eq!(got, &x);
    assert_eq!(got.udh(), Some(&[5, 0, 3, 0x2A, 2, 1][..]));
    assert_eq!(got.dcs(), Some(8));
    assert_eq!(got.billing_id(), Some(&b"ACC-7"[..]));
    assert_eq!(
        x.encode().unwrap(),
        "01060500032A0201020108".to_string() + "0C054143432D377E020102"
    );
    assert!(XSer::parse("0105AA").is_err());
    assert!(XSer::parse("01").is_err());
    assert!(XSer::parse("0").is_err());
}

#[test]
fn unknown_trailing_fields_are_kept() {
    let base = Frame {
        trn: 2,
        ot: 31,
        body: Body::Alert(Alert {
            adc: "123".into(),
            pid: Some(539),
            extra: vec!["X1".into(), "".into()],
        }),
    };
    let back = decode_frame(&base.to_bytes().unwrap()).unwrap();
    assert_eq!(back, base);
}

/// `s` (which ends with the last field's '/') with its checksum, and its length where LEN is
/// written `?????`.
fn sum(s: &str) -> String {
    let s = s.replace("?????", &format!("{:05}", s.len() + 2));
    format!("{s}{:02X}", checksum(s.as_bytes()))
}

fn bytes_of(s: &str) -> BytesMut {
    BytesMut::from(&wire(s)[..])
}

#[test]
fn decode_errors_and_the_negative_results_they_call_for() {
    let ok = "02/00035/O/31/0234765439845/0139/A0";
    // (frame, EC of the NACK); `sum` fills in a correct checksum.
    let table: Vec<(String, u8)> = vec![
        ("02/00035/O/31/0234765439845/0139/A1".into(), 1), // checksum
        ("02/00036/O/31/0234765439845/0139/A0".into(), 1), // length changed, sum not fixed
        (sum("02/00034/O/31/0234765439845/0139/"), 2),     // length wrong, sum right
        (sum("02/?????/O/99/0234765439845/0139/"), 3),     // unknown operation
        (sum("02/?????/O/31/0234765439845/"), 2),          // PID missing
        (sum("02/?????/O/31/0234765439845/01X9/"), 2),     // PID not digits
        (sum("00/?????/O/01/1/2//7/41/"), 23),             // MT 7 in 01
        (sum("00/?????/O/02/9/1/2//3/41/"), 2),            // NPL 9, 1 address
    ];
    for (s, ec) in table {
        let s = s.as_str();
        let e = decode(&mut bytes_of(s), DEFAULT_MAX_FRAME_LEN).expect_err(s);
        assert!(!e.is_fatal(), "{s}");
        let nack = e.nack().unwrap_or_else(|| panic!("{s}: {e}"));
        assert_eq!(nack.trn, s[..2].parse::<u8>().unwrap(), "{s}");
        assert_eq!(
            nack.body,
            Body::Nack(Nack::new(ErrorCode(ec), "")),
            "{s}: {e}"
        );
        assert_eq!(e.error_code(), ErrorCode(ec));
        // The answer itself is a valid frame (a result of an unknown operation decodes as
        // unsupported, having no known shape).
        match decode_frame(&nack.to_bytes().unwrap()) {
            Ok(back) => assert_eq!(back, nack),
            Err(DecodeError::UnsupportedOperation { header }) => assert_eq!(header.ot, 99),
            Err(e) => panic!("{s}: {e}"),
        }
    }
    decode(&mut bytes_of(ok), DEFAULT_MAX_FRAME_LEN)
        .unwrap()
        .unwrap();
}

#[test]
fn broken_results_are_never_answered() {
    let e = decode(&mut bytes_of("00/00019/R/60/A//6E"), 4096).unwrap_err();
    assert!(matches!(e, DecodeError::BadChecksum { .. }));
    assert!(e.nack().is_none());
}

#[test]
fn framing_garbage_unterminated_and_oversized() {
    let ok = wire("00/00019/R/60/A//6D");
    // Garbage before a frame is skipped and reported, then the frame decodes.
    let mut b = BytesMut::from(&b"noise"[..]);
    b.extend_from_slice(&ok);
    assert_eq!(
        decode(&mut b, 4096),
        Err(DecodeError::Garbage { skipped: 5 })
    );
    assert!(decode(&mut b, 4096).unwrap().is_some());
    // A frame cut short by a new STX is dropped; the next one decodes.
    let mut b = BytesMut::from(&b"\x0200/000"[..]);
    b.extend_from_slice(&ok);
    assert_eq!(
        decode(&mut b, 4096),
        Err(DecodeError::Unterminated { skipped: 7 })
    );
    assert!(decode(&mut b, 4096).unwrap().is_some());
    // Partial frames wait, consuming nothing.
    for cut in 0..ok.len() {
        let mut b = BytesMut::from(&ok[..cut]);
        assert_eq!(decode(&mut b, 4096), Ok(None), "cut at {cut}");
        assert_eq!(b.len(), cut);
    }
    // No ETX within the bound: fatal, nothing consumed.
    let mut b = BytesMut::from(&[STX][..]);
    b.extend_from_slice(&[b'0'; 5000]);
    let e = decode(&mut b, 4096).unwrap_err();
    assert!(e.is_fatal(), "{e}");
    assert_eq!(b.len(), 5001);
    // A complete frame over the bound is refused the same way.
    let mut b = BytesMut::from(&ok[..]);
    assert!(decode(&mut b, 10).unwrap_err().is_fatal());
    // Non-IRA octets and unreadable headers.
    let e = decode_frame(&wire("00/00019/R/60/A/\u{7f}/6D")).unwrap_err();
    assert!(matches!(e, DecodeError::Malformed { .. }), "{e}");
    for s in [
        "",
        "0",
        "XX/00019/R/60/A//6D",
        "00/00019/Q/60/A//6D",
        "00/00019/R/6/A//6D",
    ] {
        assert!(
            matches!(decode_frame(&wire(s)), Err(DecodeError::BadHeader { .. })),
            "{s:?}"
        );
    }
}

#[test]
fn encode_refuses_what_would_break_framing() {
    let mut a = Alert {
        adc: "12/3".into(),
        pid: None,
        extra: vec![],
    };
    let f = |a: &Alert| {
        Frame {
            trn: 1,
            ot: 31,
            body: Body::Alert(a.clone()),
        }
        .to_bytes()
    };
    assert!(matches!(
        f(&a),
        Err(EncodeError::BadCharacter {
            field: "AdC",
            found: '/'
        })
    ));
    a.adc = "é".into();
    assert!(matches!(f(&a), Err(EncodeError::BadCharacter { .. })));
    a.adc = "1".into();
    a.pid = Some(10_000);
    assert!(matches!(
        f(&a),
        Err(EncodeError::TooWide { field: "PID", .. })
    ));
    a.pid = None;
    assert!(matches!(
        Frame {
            trn: 100,
            ot: 31,
            body: Body::Alert(a.clone())
        }
        .to_bytes(),
        Err(EncodeError::BadTrn(100))
    ));
    assert!(matches!(
        Frame {
            trn: 1,
            ot: 51,
            body: Body::Alert(a)
        }
        .to_bytes(),
        Err(EncodeError::Mismatch { .. })
    ));
    assert_eq!(next_trn(99), 0);
}

#[test]
fn log_lines_follow_emgs_shape() {
    let f = exact(SPEC[11]);
    assert_eq!(
        log_line(common::smpp::Direction::Read, &f),
        "Read op:51 (SUBMIT_SHORT_MESSAGE) type:O status:0 trn:18 datalen:113 ADC:012345 \
         MSG:Message 51 MT:3 NADC:1920870340125000 NPID:0539 NRQ:1 NT:4 OADC:09876 VP:3012961212"
    );
    let f = exact("00/00022/R/60/N/01//04");
    assert_eq!(
        log_line(common::smpp::Direction::Write, &f),
        "Write op:60 (SESSION_MANAGEMENT_RESP) type:R status:1 trn:00 datalen:22"
    );
    let line = log_line(common::smpp::Direction::Write, &exact(SPEC[20]));
    assert!(
        line.contains("PWD:********") && !line.contains("50617373"),
        "{line}"
    );
}
