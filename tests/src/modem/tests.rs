//! The simulator's core, driven byte by byte and read back with emg's own AT parser.

use super::call::GUARD_MS as GUARD;
use super::*;
use common::at::{ErrorCode, Event, Final, Parser};
use common::message::Address;
use common::sms_pdu::{
    decode_with_sca, encode_with_sca, submit::submit_text, to_hex, Direction, SubmitOptions, Tpdu,
};

struct Rig {
    modem: Modem,
    parser: Parser,
    now: u64,
}

impl Rig {
    fn new(opts: Options) -> Rig {
        Rig {
            modem: Modem::new(opts, 1_795_435_200),
            parser: Parser::new(),
            now: 0,
        }
    }

    /// Types a command line and returns the events its answer gives.
    fn at(&mut self, line: &str) -> Vec<Event> {
        self.parser.sent(line);
        self.modem.input(format!("{line}\r").as_bytes(), self.now);
        self.read()
    }

    fn read(&mut self) -> Vec<Event> {
        let out = self.modem.take_output();
        self.parser.feed(&out)
    }

    fn later(&mut self, ms: u64) -> Vec<Event> {
        self.now += ms;
        self.modem.tick(self.now);
        self.read()
    }

    /// Sends `text` to `to` through AT+CMGS, one PDU a part; returns the final events.
    fn send(&mut self, to: &str, text: &str, report: bool) -> Vec<Event> {
        let opts = SubmitOptions {
            status_report: report,
            ..SubmitOptions::default()
        };
        let mut events = Vec::new();
        for s in submit_text(&Address::new(to), text, &opts, 7, false).unwrap() {
            let (pdu, len) = encode_with_sca(None, &Tpdu::Submit(s)).unwrap();
            assert_eq!(self.at(&format!("AT+CMGS={len}")), [Event::Prompt]);
            self.modem
                .input(format!("{}\x1a", to_hex(&pdu)).as_bytes(), self.now);
            events.extend(self.read());
        }
        events
    }
}

fn ok() -> Event {
    Event::Final(Final::Ok)
}

#[test]
fn setup_commands_answer_as_a_modem_does() {
    let mut r = Rig::new(Options::default());
    assert_eq!(r.at("ATE0"), [Event::Echo("ATE0".into()), ok()]);
    // Echo is off from here on.
    assert_eq!(r.at("AT+CMEE=1;+CMGF=0"), [ok()]);
    assert_eq!(r.at("AT+CPIN?"), [Event::Pin("READY".into()), ok()]);
    assert_eq!(
        r.at("AT+CMGF=1"),
        [Event::Final(Final::CmsError(ErrorCode::Code(303)))]
    );
    assert_eq!(r.at("AT+NOSUCH"), [Event::Final(Final::Error)]);
    let cpms = r.at("AT+CPMS=\"ME\",\"ME\",\"ME\"");
    assert!(matches!(&cpms[0], Event::Storages(s) if s.len() == 3 && s[0].total == 100));
    assert_eq!(r.at("AT+CNMI=2,1,0,1,0"), [ok()]);
    assert_eq!(
        r.at("AT+CNMI=2,9"),
        [Event::Final(Final::CmsError(ErrorCode::Code(303)))]
    );
    assert!(
        matches!(&r.at("AT+CSCA?")[0], Event::ServiceCentre { address, .. } if address == "+46705008999")
    );
}

#[test]
fn a_submit_is_answered_with_its_reference_and_reported_on_later() {
    let mut r = Rig::new(Options {
        report_delay: Duration::from_millis(300),
        ..Options::default()
    });
    r.at("ATE0");
    r.at("AT+CMEE=1;+CNMI=2,1,0,1,0");
    let got = r.send("46701234567", "hello", true);
    assert_eq!(got, [Event::Sent { mr: 1 }, ok()]);
    let sent = r.modem.take_events();
    let sent = sent.iter().find(|e| e["event"] == "sent").unwrap();
    assert_eq!(
        (sent["to"].as_str(), sent["text"].as_str()),
        (Some("+46701234567"), Some("hello"))
    );
    assert_eq!(r.later(100), []);
    let got = r.later(250);
    let [Event::StatusReport { length, pdu }] = got.as_slice() else {
        panic!("no +CDS: {got:?}")
    };
    let (_, tpdu) = decode_with_sca(pdu, Direction::ToMs).unwrap();
    let Tpdu::StatusReport(rep) = tpdu else {
        panic!("{tpdu:?}")
    };
    assert_eq!(
        (rep.message_ref, rep.recipient.addr.as_str(), rep.status),
        (1, "46701234567", 0)
    );
    assert_eq!(*length, pdu.len() - 8);
    // The next submit gets the next reference; a refused one gets none.
    r.modem.control(
        Control::CmsError {
            code: 500,
            count: 1,
            after: 0,
        },
        r.now,
    );
    assert_eq!(
        r.send("46701234567", "x", false),
        [Event::Final(Final::CmsError(ErrorCode::Code(500)))]
    );
    assert_eq!(r.send("46701234567", "x", false)[0], Event::Sent { mr: 2 });
}

#[test]
fn a_pdu_that_does_not_match_its_length_is_refused() {
    let mut r = Rig::new(Options::default());
    r.at("ATE0");
    r.at("AT+CMEE=1");
    assert_eq!(r.at("AT+CMGS=5"), [Event::Prompt]);
    r.modem
        .input(b"0001000B916407214365F700000568656C6C6F\x1a", 0);
    assert_eq!(
        r.read(),
        [Event::Final(Final::CmsError(ErrorCode::Code(304)))]
    );
    // Escape cancels without sending.
    assert_eq!(r.at("AT+CMGS=5"), [Event::Prompt]);
    r.modem.input(b"00\x1b", 0);
    assert_eq!(r.read(), [ok()]);
}

#[test]
fn arriving_messages_are_stored_listed_and_deleted() {
    let mut r = Rig::new(Options {
        capacities: [2, 100, 30],
        ..Options::default()
    });
    r.at("ATE0");
    r.at("AT+CMEE=1;+CNMI=2,1,0,0,0");
    r.modem.control(
        Control::Mo {
            from: "+46709876543".into(),
            text: "x".repeat(200),
        },
        0,
    );
    r.modem.control(
        Control::Mo {
            from: "Bank".into(),
            text: "third".into(),
        },
        0,
    );
    // Two slots: both parts fit, the third message waits for room.
    let urcs = r.read();
    assert_eq!(
        urcs,
        [
            Event::Stored {
                mem: "SM".into(),
                index: 1
            },
            Event::Stored {
                mem: "SM".into(),
                index: 2
            }
        ]
    );
    let listed = r.at("AT+CMGL=4");
    assert_eq!(listed.len(), 3, "{listed:?}");
    let mut text = String::new();
    for e in &listed[..2] {
        let Event::Listed { stat: 0, pdu, .. } = e else {
            panic!("{e:?}")
        };
        let (_, tpdu) = decode_with_sca(pdu, Direction::ToMs).unwrap();
        let Tpdu::Deliver(d) = tpdu else { panic!() };
        assert_eq!(d.origin.addr, "46709876543");
        text += &d.user_data.text(d.coding()).unwrap();
    }
    assert_eq!(text, "x".repeat(200));
    // Read now: listed again as REC READ.
    assert!(matches!(
        r.at("AT+CMGL=1")[0],
        Event::Listed { stat: 1, .. }
    ));
    assert_eq!(
        r.at("AT+CMGD=1"),
        [
            ok(),
            Event::Stored {
                mem: "SM".into(),
                index: 1
            }
        ]
    );
    assert!(matches!(&r.at("AT+CMGR=1")[0], Event::Read { stat: 0, .. }));
    assert_eq!(
        r.at("AT+CMGD=5"),
        [Event::Final(Final::CmsError(ErrorCode::Code(321)))]
    );
    assert_eq!(r.at("AT+CMGD=1,4"), [ok()]);
    assert_eq!(r.at("AT+CMGL=4"), [ok()]);
}

#[test]
fn reports_can_be_stored_and_messages_routed_straight_through() {
    let mut r = Rig::new(Options {
        report_delay: Duration::ZERO,
        ..Options::default()
    });
    r.at("ATE0");
    r.at("AT+CNMI=2,2,0,2,0");
    r.modem.control(
        Control::Mo {
            from: "+4670".into(),
            text: "direct".into(),
        },
        0,
    );
    assert!(matches!(r.read()[0], Event::Delivered { .. }));
    r.send("4670", "hi", true);
    assert_eq!(
        r.later(1),
        [Event::ReportStored {
            mem: "SR".into(),
            index: 1
        }]
    );
    r.at("AT+CPMS=\"SR\"");
    assert!(matches!(r.at("AT+CMGR=1")[0], Event::Read { .. }));
}

#[test]
fn a_pin_locks_sms_commands_until_given() {
    let mut r = Rig::new(Options {
        pin: Some("1234".into()),
        ..Options::default()
    });
    r.at("ATE0");
    r.at("AT+CMEE=1");
    assert_eq!(r.at("AT+CPIN?"), [Event::Pin("SIM PIN".into()), ok()]);
    assert_eq!(
        r.at("AT+CMGL=4"),
        [Event::Final(Final::CmsError(ErrorCode::Code(311)))]
    );
    assert_eq!(
        r.at("AT+CPIN=\"0000\""),
        [Event::Final(Final::CmeError(ErrorCode::Code(16)))]
    );
    assert_eq!(r.at("AT+CPIN=\"1234\""), [ok()]);
    assert_eq!(r.at("AT+CMGL=4"), [ok()]);
}

#[test]
fn silence_garbage_and_reset() {
    let mut r = Rig::new(Options::default());
    r.at("ATE0");
    r.modem.control(Control::Silent, 0);
    assert_eq!(r.at("AT"), []);
    r.modem.control(Control::Wake, 0);
    assert_eq!(r.at("AT"), [ok()]);
    r.modem.control(Control::Garbage("\u{1}xx\r\n".into()), 0);
    assert_eq!(r.read(), [Event::Info("\u{1}xx".into())]);
    r.modem.control(Control::Reset, 0);
    // Echo is back on after a restart.
    assert_eq!(r.at("AT"), [Event::Echo("AT".into()), ok()]);
}

#[test]
fn control_lines_parse() {
    assert_eq!(
        "mo +4670 hello there".parse(),
        Ok(Control::Mo {
            from: "+4670".into(),
            text: "hello there".into()
        })
    );
    assert_eq!(
        "cms-error 38 3".parse(),
        Ok(Control::CmsError {
            code: 38,
            count: 3,
            after: 0
        })
    );
    assert_eq!(
        "cms-error 500 after 1".parse(),
        Ok(Control::CmsError {
            code: 500,
            count: 1,
            after: 1
        })
    );
    assert_eq!("silent".parse::<Control>(), Ok(Control::Silent));
    assert!("mo onlysender".parse::<Control>().is_err());
    assert!("frobnicate".parse::<Control>().is_err());
}

#[test]
fn a_data_call_connects_carries_bytes_escapes_and_hangs_up() {
    let mut r = Rig::new(Options {
        dial: vec![("5550100".into(), "127.0.0.1:5000".into())],
        ..Options::default()
    });
    r.at("ATE0");
    // Nobody answers an unknown number.
    assert_eq!(r.at("ATD999"), [Event::Final(Final::NoCarrier)]);
    assert_eq!(r.modem.take_dial(), None);
    // A known one: the final result waits for the serve loop's connect.
    assert!(r.at("ATD5550100").is_empty());
    assert_eq!(r.modem.take_dial().as_deref(), Some("127.0.0.1:5000"));
    r.modem.call_connected(true);
    assert_eq!(r.read(), [Event::Final(Final::Connect("9600".into()))]);
    // Online: bytes both ways, AT text included, and a + inside the data stays data.
    r.now += 10;
    r.modem.input(b"\x0201/00019/O/31/+4670/AT\x03", r.now);
    assert_eq!(r.modem.take_uplink(), b"\x0201/00019/O/31/+4670/AT\x03");
    r.modem.downlink(b"\x0201/00020/R/31/A//5F\x03");
    assert_eq!(r.modem.take_output(), b"\x0201/00020/R/31/A//5F\x03");
    // +++ between guard times: command mode, the call still up.
    r.now += GUARD;
    r.modem.input(b"+++", r.now);
    assert!(r.modem.take_uplink().is_empty());
    assert!(r.later(GUARD - 100).is_empty());
    assert_eq!(r.later(100), [Event::Final(Final::Ok)]);
    assert!(!r.modem.take_hang_up());
    assert_eq!(r.at("ATH"), [Event::Final(Final::Ok)]);
    assert!(r.modem.take_hang_up());
    // Redial; the peer going away is NO CARRIER.
    assert!(r.at("ATD5550100").is_empty());
    assert!(r.modem.take_dial().is_some());
    r.modem.call_connected(true);
    r.read();
    r.modem.peer_closed();
    assert_eq!(r.read(), [Event::Final(Final::NoCarrier)]);
    assert!(r.modem.take_hang_up());
    assert_eq!(r.at("AT"), [Event::Final(Final::Ok)]);
}

#[test]
fn plus_signs_without_the_guard_times_are_data() {
    let mut r = Rig::new(Options {
        dial: vec![("1".into(), "127.0.0.1:1".into())],
        ..Options::default()
    });
    r.at("ATE0");
    r.at("ATD1");
    r.modem.take_dial();
    r.modem.call_connected(true);
    r.read();
    r.now += 5;
    r.modem.input(b"+++", r.now);
    r.now += 5;
    r.modem.input(b"x", r.now);
    assert_eq!(r.modem.take_uplink(), b"+++x");
    r.now += GUARD;
    r.modem.input(b"+++", r.now);
    r.now += 10;
    r.modem.input(b"y", r.now);
    assert!(r.later(2 * GUARD).is_empty());
    assert_eq!(r.modem.take_uplink(), b"+++y");
}
