//! CIMD2 packets decoded parameter by parameter and encoded back to the same octets; the
//! CIMD2 alphabet table by table; every decode error and the answer it calls for.

mod cimd2_support;

use bytes::BytesMut;
use cimd2_support::{wire, PACKETS};
use common::cimd2::message::ViewError;
use common::cimd2::status::{code, error, report};
use common::cimd2::*;
use common::cimd2::{op, param, text};

fn decode_one(s: &str) -> Packet {
    let mut buf = BytesMut::from(&wire(s)[..]);
    let p = decode(&mut buf, DEFAULT_MAX_PACKET_LEN)
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
        .expect("a whole packet");
    assert!(buf.is_empty());
    p
}

fn exact(s: &str) -> Packet {
    let p = decode_one(s);
    assert_eq!(p.encoded().unwrap().to_vec(), wire(s), "{p:?}");
    p
}

/// `s` with its checksum.
fn sum(s: &str) -> String {
    let cs = checksum(&wire(s)[..wire(s).len() - 1]);
    format!("{s}{cs:02X}")
}

#[test]
fn every_sample_round_trips() {
    for (s, what) in PACKETS {
        let p = exact(s);
        assert!(op::is_known(p.op), "{what}");
    }
}

#[test]
fn login_and_its_response() {
    let p = exact(PACKETS[1].0);
    assert_eq!((p.op, p.number), (op::LOGIN, 1));
    let l = Login::from_packet(&p).unwrap();
    assert_eq!((l.user.as_str(), l.password.as_str()), ("foo", "bar"));
    assert_eq!(l.to_packet(1), p);
    let r = exact(PACKETS[0].0);
    assert_eq!(r, p.response());
    assert_eq!(r.error_code(), 0);
    let refused = p.error_response(error::INVALID_LOGIN);
    let back = decode_one(
        std::str::from_utf8(&refused.encoded().unwrap()[1..])
            .unwrap()
            .trim_end_matches('\u{3}'),
    );
    assert_eq!(back.error_code(), 100);
    assert_eq!(
        back.text(param::ERROR_TEXT).as_deref(),
        Some("invalid login")
    );
    assert!(Login::from_packet(&Packet::new(op::LOGIN, 1)).is_err());
}

#[test]
fn submit_with_extension_characters_and_status_report_request() {
    let p = exact(PACKETS[2].0);
    let m = ShortMessage::from_packet(&p).unwrap();
    assert_eq!(m.destinations, ["46701234567"]);
    assert_eq!(m.originator.as_deref(), Some("12345"));
    assert_eq!(m.user_data, Some(UserData::Text("Hello {world}".into())));
    assert_eq!(m.status_report_request, Some(14));
    assert_eq!(m.to_packet(op::SUBMIT, 3).unwrap(), p);
}

#[test]
fn deliver_and_status_report() {
    let p = exact(PACKETS[3].0);
    let m = ShortMessage::from_packet(&p).unwrap();
    assert_eq!(m.scts.as_deref(), Some("260103120000"));
    assert_eq!(m.user_data, Some(UserData::Text("äöÅ".into())));
    let p = exact(PACKETS[4].0);
    let r = StatusReport::from_packet(&p).unwrap();
    assert_eq!(
        (r.destination.as_str(), r.scts.as_str(), r.status_code),
        ("46701234567", "260103120000", code::DELIVERY_SUCCESSFUL)
    );
    assert_eq!(r.discharge_time.as_deref(), Some("260103120005"));
    assert!(code::is_final(r.status_code) && !code::is_final(code::IN_PROCESS));
    assert_eq!(r.to_packet(2), p);
}

#[test]
fn binary_user_data_udh_dcs_and_everything_else_kept() {
    let m = ShortMessage {
        destinations: vec!["111".into(), "222".into()],
        alphanumeric_originator: Some("EMG".into()),
        dcs: Some(0xF5),
        udh: Some(vec![5, 0, 3, 7, 2, 1]),
        user_data: Some(UserData::Binary(vec![0, 1, 0xFE])),
        more_messages_to_send: Some(true),
        validity_relative: Some(167),
        protocol_identifier: Some(0x41),
        reply_path: Some(false),
        status_report_request: Some(report::FINAL),
        cancel_enabled: Some(true),
        tariff_class: Some(12),
        service_description: Some(3),
        priority: Some(1),
        other: vec![Param::new(777, "vendor")],
        ..ShortMessage::default()
    };
    let p = m.to_packet(op::SUBMIT, 9).unwrap();
    let wire_p = p.encoded().unwrap();
    let back = decode_packet(&wire_p).unwrap();
    assert_eq!(back, p);
    assert_eq!(
        back.text(param::USER_DATA_HEADER).as_deref(),
        Some("050003070201")
    );
    assert_eq!(
        back.text(param::USER_DATA_BINARY).as_deref(),
        Some("0001FE")
    );
    assert_eq!(ShortMessage::from_packet(&back).unwrap(), m);
    let both = Packet::new(op::SUBMIT, 1)
        .with(param::USER_DATA, "a")
        .with(param::USER_DATA_BINARY, "00");
    assert!(matches!(
        ShortMessage::from_packet(&both),
        Err(ViewError { code: 303, .. })
    ));
}

#[test]
fn cimd2_alphabet() {
    // (text, CIMD2 user data)
    let table: &[(&str, &[u8])] = &[
        ("Hello", b"Hello"),
        (
            "@£$¥èéùìòÇØøÅå",
            b"_Oa_L-$_Y-_e`_e'_u`_i`_o`_C,_O/_o/_A*_a*",
        ),
        ("ΔΦΓΛΩΠΨΣΘΞ_", b"_gd_gf_gg_gl_go_gp_gi_gs_gt_gx_--"),
        (
            "ÆæßÉ\"¤¡ÄÖÑÜ§¿äöñüà",
            b"_AE_ae_ss_E'_qq_ox_!!_A\"_O\"_N~_U\"_so_??_a\"_o\"_n~_u\"_a`",
        ),
        ("{}[]~\\|^€", b"_XX(_XX)_XX<_XX>_XX=_XX/_XX_!!_XX_gl_XXe"),
        ("a\nb\rc", b"a\nb\rc"),
    ];
    for &(t, cimd) in table {
        assert_eq!(text::encode(t).unwrap(), cimd, "{t}");
        assert_eq!(text::decode(cimd), t, "{t}");
    }
    // Moved single characters, ISO-8859-1 octets and an unknown escape on decode.
    assert_eq!(text::decode(b"@$]}"), "@$Åå");
    assert_eq!(text::decode(&[b'x', 0xE9, b'y']), "xéy");
    assert_eq!(text::decode(b"_zz"), "_zz");
    assert!(text::encode("日本").is_err());
}

#[test]
fn decode_errors_and_their_answers() {
    // (packet, answer op, answer error code or 0 for none)
    let table: Vec<(String, Option<(u8, u16)>)> = vec![
        ("03:003\t021:123\t00".into(), Some((op::NACK, 0))), // checksum
        (
            sum("07:003\t021:123\t"),
            Some((op::GENERAL_ERROR_RESPONSE, 1)),
        ), // unknown op
        (
            sum("03:003\t21:123\t"),
            Some((op::GENERAL_ERROR_RESPONSE, 2)),
        ), // not PPP:
        (
            sum("03:003\t021:123\t\t"),
            Some((op::GENERAL_ERROR_RESPONSE, 2)),
        ), // empty param
        (
            "03:003\t021:123\tZZ".into(),
            Some((op::GENERAL_ERROR_RESPONSE, 2)),
        ), // checksum not hex
        (sum("03:003\t021:12a\t"), Some((53, 8))),           // address
        (sum("03:003\t030:300\t"), Some((53, 8))),           // DCS > 255
        (sum("03:003\t032:ABC\t"), Some((53, 8))),           // odd hex
        (sum("03:003\t060:2601\t"), Some((53, 8))),          // short time
        (
            sum(&format!("03:003\t033:{}\t", "x".repeat(481))),
            Some((53, 8)),
        ), // too long
        ("53:003\t021:123\t00".into(), None),                // a response: never answered
        (sum("77:003\t"), None),                             // unknown response
    ];
    for (s, want) in table {
        let e = decode(&mut BytesMut::from(&wire(&s)[..]), DEFAULT_MAX_PACKET_LEN).expect_err(&s);
        assert!(!e.is_fatal());
        let got = e.answer().map(|a| (a.op, a.error_code()));
        assert_eq!(got, want, "{s:?}: {e}");
        if let Some(a) = e.answer() {
            assert_eq!(a.number, 3);
            decode_packet(&a.encoded().unwrap()).unwrap();
        }
    }
    for s in ["", "3:003\t", "03-003\t", "03:0a3\t", "03:256\t", "03:003"] {
        assert!(
            matches!(decode_packet(&wire(s)), Err(DecodeError::BadHeader { .. })),
            "{s:?}"
        );
    }
}

#[test]
fn unknown_parameters_are_kept_and_checksum_is_optional() {
    let p = decode_one("03:005\t021:1\t999:anything at all\t");
    assert_eq!(p.get(999), Some(&b"anything at all"[..]));
    assert_eq!(
        ShortMessage::from_packet(&p).unwrap().other,
        vec![Param::new(999, "anything at all")]
    );
    let lower = sum("40:005\t").to_lowercase();
    assert_eq!(decode_one(&lower).op, op::ALIVE);
}

#[test]
fn framing_garbage_unterminated_and_oversized() {
    let ok = wire(PACKETS[5].0);
    let mut b = BytesMut::from(&b"\x01\xff junk"[..]);
    b.extend_from_slice(&ok);
    assert_eq!(
        decode(&mut b, 4096),
        Err(DecodeError::Garbage { skipped: 7 })
    );
    assert_eq!(decode(&mut b, 4096).unwrap().unwrap().op, op::ALIVE);
    let mut b = BytesMut::from(&b"\x0203:0"[..]);
    b.extend_from_slice(&ok);
    assert_eq!(
        decode(&mut b, 4096),
        Err(DecodeError::Unterminated { skipped: 5 })
    );
    assert!(decode(&mut b, 4096).unwrap().is_some());
    for cut in 0..ok.len() {
        let mut b = BytesMut::from(&ok[..cut]);
        assert_eq!(decode(&mut b, 4096), Ok(None));
        assert_eq!(b.len(), cut);
    }
    let mut b = BytesMut::from(&[STX][..]);
    b.extend_from_slice(&vec![b'x'; 1 << 20]);
    let e = decode(&mut b, 4096).unwrap_err();
    assert!(e.is_fatal(), "{e}");
}

#[test]
fn encode_refuses_octets_that_end_a_value() {
    let p = Packet::new(op::SUBMIT, 1).with(param::USER_DATA, "a\tb");
    assert!(matches!(
        p.encoded(),
        Err(EncodeError::BadOctet { code: 33, found: 9 })
    ));
    assert!(matches!(
        Packet::new(100, 1).encoded(),
        Err(EncodeError::BadOperation(100))
    ));
    assert!(matches!(
        Packet::new(1, 1).with(1000, "x").encoded(),
        Err(EncodeError::BadCode(1000))
    ));
    assert_eq!(
        (
            next_number(1),
            next_number(255),
            next_number(0),
            next_number(254)
        ),
        (3, 1, 2, 0)
    );
}

#[test]
fn log_lines_follow_emgs_shape() {
    let p = exact(PACKETS[2].0);
    assert_eq!(
        log_line(common::smpp::Direction::Write, &p),
        "Write op:03 (SUBMIT_MESSAGE) status:0 trn:003 datalen:68 DESTINATIONADDRESS:46701234567 \
         ORIGINATINGADDRESS:12345 STATUSREPORTREQUEST:14 USERDATA:Hello {world}"
    );
    let line = log_line(common::smpp::Direction::Read, &exact(PACKETS[1].0));
    assert!(
        line.contains("PASSWORD:********") && !line.contains("bar"),
        "{line}"
    );
    let line = log_line(common::smpp::Direction::Read, &exact(PACKETS[7].0));
    assert!(
        line.starts_with("Read op:98 (GENERAL_ERROR_RESP) status:1 trn:007"),
        "{line}"
    );
}
