//! Wire oracle: every CIMD2 packet we encode, for every operation and response, goes through
//! Wireshark's CIMD dissector, which must find every parameter we sent with its value, none
//! we did not send, a valid checksum and no expert complaint.

mod cimd2_support;
#[path = "../../tests/src/tshark.rs"]
mod tshark;

use common::cimd2::message::{Login, ShortMessage, StatusReport, UserData};
use common::cimd2::*;
use common::cimd2::{op, param};
use tshark::{dissect, Dissected};

/// tshark's field for a parameter, and how it shows the value we sent.
fn field(code: u16, value: &[u8]) -> (&'static str, String) {
    let text = String::from_utf8(value.to_vec()).expect("ASCII test values");
    let number = || text.parse::<u32>().expect("an integer").to_string();
    match code {
        param::USER_IDENTITY => ("cimd.ui", text),
        param::PASSWORD => ("cimd.passwd", text),
        param::SUBADDRESS => ("cimd.saddr", text),
        param::WINDOW_SIZE => ("cimd.ws", text),
        param::DESTINATION_ADDRESS => ("cimd.da", text),
        param::ORIGINATING_ADDRESS => ("cimd.oa", text),
        param::ORIGINATING_IMSI => ("cimd.oimsi", text),
        param::ALPHANUMERIC_ORIGINATING_ADDRESS => ("cimd.aoi", text),
        param::ORIGINATED_VISITED_MSC_ADDRESS => ("cimd.ovma", text),
        param::DATA_CODING_SCHEME => ("cimd.dcs", format!("0x{:02x}", text.parse::<u8>().unwrap())),
        param::USER_DATA_HEADER => ("cimd.udh", text),
        // The dissector's own decoding of the CIMD2 alphabet; our test texts keep to the
        // characters CIMD2 writes as themselves.
        param::USER_DATA => ("cimd.ud", text),
        param::USER_DATA_BINARY => ("cimd.udb", text),
        param::MORE_MESSAGES_TO_SEND => ("cimd.mms", text),
        param::VALIDITY_PERIOD_RELATIVE => ("cimd.vpr", text),
        param::VALIDITY_PERIOD_ABSOLUTE => ("cimd.vpa", text),
        param::PROTOCOL_IDENTIFIER => ("cimd.pi", text),
        param::FIRST_DELIVERY_TIME_RELATIVE => ("cimd.fdtr", text),
        param::FIRST_DELIVERY_TIME_ABSOLUTE => ("cimd.fdta", text),
        param::REPLY_PATH => ("cimd.rpath", text),
        param::STATUS_REPORT_REQUEST => ("cimd.srr", text),
        param::CANCEL_ENABLED => ("cimd.ce", text),
        param::CANCEL_MODE => ("cimd.cm", text),
        param::SERVICE_CENTRE_TIME_STAMP => ("cimd.scts", text),
        param::STATUS_CODE => ("cimd.stcode", number()),
        param::STATUS_ERROR_CODE => ("cimd.sterrcode", number()),
        param::DISCHARGE_TIME => ("cimd.dt", text),
        param::TARIFF_CLASS => ("cimd.tclass", text),
        param::SERVICE_DESCRIPTION => ("cimd.sdes", text),
        param::MESSAGE_COUNT => ("cimd.mcount", text),
        param::PRIORITY => ("cimd.priority", text),
        param::DELIVERY_REQUEST_MODE => ("cimd.drmode", text),
        param::SERVICE_CENTER_ADDRESS => ("cimd.scaddr", text),
        param::GET_PARAMETER => ("cimd.gpar", text),
        param::MC_TIME => ("cimd.smsct", text),
        param::ERROR_CODE => ("cimd.errcode", number()),
        param::ERROR_TEXT => ("cimd.errtext", text),
        other => panic!("parameter {other} has no dissector field"),
    }
}

fn check(p: &Packet, d: &Dissected) {
    let shown = log_line(common::smpp::Direction::Write, p);
    assert!(
        !d.malformed && d.expert.is_empty(),
        "{shown}\ntshark: {d:?}"
    );
    assert!(!d.info.contains("invalid"), "{shown}\ntshark: {}", d.info);
    assert!(!d.info.contains("Unknown"), "{shown}\ntshark: {}", d.info);
    let wire = p.encoded().unwrap();
    let cs = &wire[wire.len() - 3..wire.len() - 1];
    let mut want = vec![
        ("cimd.opcode", p.op.to_string()),
        ("cimd.pnumber", p.number.to_string()),
        (
            "cimd.chksum",
            format!("0x{}", std::str::from_utf8(cs).unwrap().to_lowercase()),
        ),
    ];
    for pa in &p.params {
        want.push(("cimd.pcode", format!("{:03}", pa.code)));
        if !pa.value.is_empty() {
            want.push(field(pa.code, &pa.value));
        }
    }
    let mut left: Vec<(String, String)> = d
        .fields
        .iter()
        .filter(|(n, _)| !n.starts_with("cimd.dcs.") && !n.starts_with("_ws."))
        .cloned()
        .collect();
    for (name, value) in want {
        let at = left
            .iter()
            .position(|(n, v)| n == name && *v == value)
            .unwrap_or_else(|| {
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

fn check_all(packets: &[Packet]) {
    let wire: Vec<Vec<u8>> = packets
        .iter()
        .map(|p| p.encoded().unwrap().to_vec())
        .collect();
    for (p, d) in packets.iter().zip(dissect("cimd", &wire)) {
        check(p, &d);
    }
}

/// Every request with every parameter it takes, and every response.
fn rich_packets() -> Vec<Packet> {
    let login = Login {
        user: "emguser".into(),
        password: "secret".into(),
        subaddress: Some("7".into()),
        window_size: Some(10),
        other: vec![],
    };
    let submit = ShortMessage {
        destinations: vec!["46701234567".into(), "46707654321".into()],
        originator: Some("4670999".into()),
        alphanumeric_originator: Some("EMG".into()),
        dcs: Some(0xF1),
        udh: Some(vec![5, 0, 3, 0x2A, 2, 1]),
        user_data: Some(UserData::Text("Hello from emg, 1+1=2!".into())),
        more_messages_to_send: Some(true),
        validity_relative: Some(167),
        validity_absolute: Some("260131120000".into()),
        protocol_identifier: Some(65),
        first_delivery_relative: Some(12),
        first_delivery_absolute: Some("260102080000".into()),
        reply_path: Some(false),
        status_report_request: Some(status::report::FINAL),
        cancel_enabled: Some(true),
        tariff_class: Some(12),
        service_description: Some(3),
        priority: Some(2),
        ..ShortMessage::default()
    };
    let deliver = ShortMessage {
        destinations: vec!["4242".into()],
        originator: Some("46709876543".into()),
        originating_imsi: Some("240011234567890".into()),
        originated_visited_msc: Some("46705550000".into()),
        dcs: Some(8),
        user_data: Some(UserData::Binary(vec![0, 0x48, 0, 0x69])),
        protocol_identifier: Some(0),
        reply_path: Some(true),
        scts: Some("260103120000".into()),
        ..ShortMessage::default()
    };
    let report = StatusReport {
        destination: "46701234567".into(),
        originator: Some("4670999".into()),
        scts: "260103120000".into(),
        status_code: status::code::DELIVERY_FAILED,
        status_error_code: Some(29),
        discharge_time: Some("260103120105".into()),
        other: vec![],
    };
    let n = |op, number| Packet::new(op, number);
    let submit_p = submit.to_packet(op::SUBMIT, 5).unwrap();
    vec![
        login.to_packet(1),
        n(op::LOGIN, 1).response(),
        n(op::LOGIN, 1).error_response(status::error::INVALID_LOGIN),
        n(op::LOGOUT, 3),
        n(op::LOGOUT, 3).response(),
        submit_p.clone(),
        submit_p
            .response()
            .with(param::DESTINATION_ADDRESS, "46701234567")
            .with(param::SERVICE_CENTRE_TIME_STAMP, "260103120000"),
        submit_p.error_response(status::error::INCORRECT_DESTINATION_ADDRESS),
        n(op::ENQUIRE_MESSAGE_STATUS, 7)
            .with(param::DESTINATION_ADDRESS, "46701234567")
            .with(param::SERVICE_CENTRE_TIME_STAMP, "260103120000"),
        n(op::ENQUIRE_MESSAGE_STATUS, 7)
            .response()
            .with(param::STATUS_CODE, "4")
            .with(param::DISCHARGE_TIME, "260103120105"),
        n(op::DELIVERY_REQUEST, 9).with(param::DELIVERY_REQUEST_MODE, "0"),
        n(op::DELIVERY_REQUEST, 9)
            .response()
            .with(param::MESSAGE_COUNT, "0"),
        n(op::CANCEL, 11)
            .with(param::CANCEL_MODE, "1")
            .with(param::SERVICE_CENTRE_TIME_STAMP, "260103120000")
            .with(param::DESTINATION_ADDRESS, "4670"),
        n(op::CANCEL, 11).response(),
        n(op::SET, 13).with(param::PASSWORD, "newsecret"),
        n(op::SET, 13).error_response(801),
        n(op::GET, 15).with(param::GET_PARAMETER, "501"),
        n(op::GET, 15)
            .response()
            .with(param::MC_TIME, "260103120000"),
        deliver.to_packet(op::DELIVER_MESSAGE, 0).unwrap(),
        n(op::DELIVER_MESSAGE, 0).response(),
        report.to_packet(2),
        n(op::DELIVER_STATUS_REPORT, 2).response(),
        n(op::ALIVE, 17),
        n(op::ALIVE, 17).response(),
        n(op::GENERAL_ERROR_RESPONSE, 19)
            .with(param::ERROR_CODE, "1")
            .with(param::ERROR_TEXT, "unexpected operation"),
        n(op::NACK, 21),
        n(op::SUBMIT, 23).with(param::SERVICE_CENTER_ADDRESS, "46708000"),
    ]
}

#[test]
fn tshark_decodes_every_parameter_of_every_operation() {
    check_all(&rich_packets());
}

#[test]
fn tshark_agrees_with_the_sample_packets() {
    // The samples whose user data keeps to characters CIMD2 writes as themselves (the
    // dissector's own alphabet table is incomplete: it leaves `_Oa` and `_XX` as they are).
    let packets: Vec<Packet> = cimd2_support::PACKETS
        .iter()
        .filter(|(s, _)| !s.contains("033:"))
        .map(|(s, _)| decode_packet(&cimd2_support::wire(s)).unwrap())
        .collect();
    check_all(&packets);
}

#[test]
fn tshark_sees_our_answers_to_bad_packets() {
    let bad = cimd2_support::wire("03:003\t021:123\t00");
    let nack = decode_packet(&bad).unwrap_err().answer().unwrap();
    let unknown = cimd2_support::wire("07:005\t");
    let unknown = decode_packet(&unknown).unwrap_err().answer().unwrap();
    assert_eq!(unknown.op, op::GENERAL_ERROR_RESPONSE);
    let d = dissect(
        "cimd",
        &[
            bad,
            nack.encoded().unwrap().to_vec(),
            unknown.encoded().unwrap().to_vec(),
        ],
    );
    assert!(d[0].info.contains("invalid checksum"), "{}", d[0].info);
    check(&nack, &d[1]);
    check(&unknown, &d[2]);
}
