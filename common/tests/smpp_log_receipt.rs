//! PDU log lines in EMG's format and delivery receipt texts.

mod smpp_support;

use common::dlr::DlrStatus;
use common::smpp::tlv::{self, Tlv};
use common::smpp::*;

#[test]
fn bind_log_line_masks_password() {
    let p = Pdu::new(
        command::BIND_TRANSCEIVER,
        11638,
        Body::Bind(Bind {
            system_id: "user".into(),
            password: "secret".into(),
            interface_version: 0x34,
            ..Default::default()
        }),
    );
    assert_eq!(
        log_line(Direction::Write, &p),
        "Write op:0x00000009 (BIND_TRANSCEIVER) status:0 trn:11638 datalen:17 \
         INTERFACEVERSION:52 PASSWORD:******** SYSTEMID:user"
    );
    let r = p.response(
        0,
        Body::BindResp(BindResp {
            system_id: String::new(),
            tlvs: vec![Tlv::u8(tlv::SC_INTERFACE_VERSION, 0x34)],
        }),
    );
    assert_eq!(
        log_line(Direction::Read, &r),
        "Read op:0x80000009 (BIND_TRANSCEIVER_RESP) status:0 trn:11638 datalen:6 \
         SCINTERFACEVERSION:52"
    );
}

#[test]
fn submit_log_line() {
    let mut sm = smpp_support::sm("hello");
    sm.tlvs = vec![
        Tlv::u16(tlv::SAR_MSG_REF_NUM, 7),
        Tlv::new(0x1400, vec![0xAB]),
    ];
    let p = Pdu::new(command::SUBMIT_SM, 3, Body::SubmitSm(sm));
    let line = log_line(Direction::Write, &p);
    assert!(
        line.starts_with("Write op:0x00000004 (SUBMIT_SM) status:0 trn:3 datalen:"),
        "{line}"
    );
    for part in [
        " DESTADDR:46701234567 ",
        " DATACODING:8 ",
        " SOURCEADDR:EMG ",
        " SOURCEADDRTON:5 ",
        " ESMCLASS:64 ",
        " REGISTEREDDELIVERY:1 ",
        " SHORTMESSAGE:hello ",
        " SARMSGREFNUM:7 ",
        " TLV0x1400:ab",
    ] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
    assert!(
        !line.contains("SOURCEADDRNPI"),
        "zero values are left out: {line}"
    );

    let mut ucs2 = smpp_support::sm("");
    ucs2.short_message = vec![0x00, 0xE5].into();
    let line = log_line(
        Direction::Read,
        &Pdu::new(command::DELIVER_SM, 1, Body::DeliverSm(ucs2)),
    );
    assert!(line.contains(" SHORTMESSAGE:00e5"), "{line}");
}

#[test]
fn every_sample_logs_with_its_datalen() {
    for p in smpp_support::all_samples() {
        let line = log_line(Direction::Read, &p);
        let want = format!("datalen:{}", p.encoded_len() - HEADER_LEN);
        assert!(line.contains(&want), "{line}");
        assert!(line.contains(p.name()), "{line}");
        assert!(
            !line.contains("password") && !line.contains(":pw"),
            "{line}"
        );
    }
}

fn receipt() -> Receipt {
    Receipt {
        id: "0012AB".into(),
        sub: 1,
        dlvrd: 1,
        submit_date: "2601011200".into(),
        done_date: "2601011201".into(),
        stat: DlrStatus::Delivered,
        err: "000".into(),
        text: "Hello world, this is longer than twenty".into(),
    }
}

#[test]
fn receipt_text() {
    let r = receipt();
    let t = r.to_text();
    assert_eq!(
        t,
        "id:0012AB sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 \
         stat:DELIVRD err:000 text:Hello world, this is"
    );
    let back = Receipt::parse(t.as_bytes()).unwrap();
    assert_eq!(back.text, "Hello world, this is");
    assert_eq!(
        back,
        Receipt {
            text: back.text.clone(),
            ..r
        }
    );
}

#[test]
fn receipt_parse_is_tolerant() {
    let r = Receipt::parse(
        b"ID:007  SUB:1 DLVRD:0 Submit_Date:2601011200 DONE DATE : 260101120130 STAT:undeliv ERR:034",
    )
    .unwrap();
    assert_eq!(r.id, "007");
    assert_eq!((r.sub, r.dlvrd), (1, 0));
    assert_eq!(r.submit_date, "2601011200");
    assert_eq!(r.done_date, "260101120130");
    assert_eq!(r.stat, DlrStatus::Undeliverable);
    assert_eq!(r.err, "034");
    assert_eq!(r.text, "");

    let r = Receipt::parse(b"id:ab12 stat:EXPIRED text:  two  words ").unwrap();
    assert_eq!(
        (r.id.as_str(), r.stat, r.text.as_str()),
        ("ab12", DlrStatus::Expired, "two  words")
    );
    assert_eq!(
        Receipt::parse(b"id:1 stat:WHATEVER").unwrap().stat,
        DlrStatus::Unknown
    );

    assert_eq!(Receipt::parse(b"hello world"), None);
    assert_eq!(Receipt::parse(b"stat:DELIVRD"), None);
    assert_eq!(Receipt::parse(b"id: stat:DELIVRD"), None);
    assert_eq!(
        Receipt::parse(b"id: 42 sub: stat:ACCEPTD").map(|r| (r.id, r.sub, r.stat)),
        Some(("42".into(), 0, DlrStatus::Accepted))
    );
    assert_eq!(Receipt::parse(b""), None);
    assert_eq!(Receipt::parse(&[0xff, 0xfe, b':']), None);
}
