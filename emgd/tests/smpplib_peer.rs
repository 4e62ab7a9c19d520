//! A real third-party SMPP client (python smpplib) against the real emgd binary.

mod support;

use std::collections::HashSet;
use std::time::Duration;
use support::{smpplib, Setup};

#[test]
fn thousand_messages_come_back_as_delivery_receipts() {
    let setup = Setup::new("", "dlr_delay_ms = 50", "");
    let mut daemon = setup.start();
    let report = smpplib(setup.smpp_port, &["--count", "1000", "--timeout", "60"]);
    let accepted: HashSet<String> = report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        accepted.len(),
        1000,
        "every submit acknowledged with a distinct id: {report}"
    );
    assert_eq!(report["refused"].as_array().unwrap().len(), 0);
    let receipts = report["receipts"].as_object().unwrap();
    for id in &accepted {
        let r = receipts
            .get(id)
            .unwrap_or_else(|| panic!("no receipt for {id}"));
        assert_eq!(r["esm_class"], 4);
        assert_eq!(r["state"], 2, "message_state DELIVERED");
        let text = r["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("id:{id} sub:001 dlvrd:001 submit date:")),
            "{text}"
        );
        assert!(
            text.contains(" stat:DELIVRD err:000 text:message "),
            "{text}"
        );
    }
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let store = setup.db();
    let delivered =
        store.number("SELECT COUNT(*) FROM routelog WHERE status = 'DELIVRD' AND msgtype = 1");
    assert_eq!(delivered, 1000, "routelog records every final state");
    let open = store.number("SELECT COUNT(*) FROM dlr_open");
    assert_eq!(open, 0, "no open DLR entry is left behind");
}

#[test]
fn wrong_password_is_refused_with_esme_rinvpaswd() {
    let setup = Setup::new("", "", "");
    let _daemon = setup.start();
    let report = smpplib(setup.smpp_port, &["--password", "wrong", "--bind-only"]);
    assert_eq!(report["bind_error"], 0x0e, "{report}");
    let good = smpplib(setup.smpp_port, &["--bind-only"]);
    assert_eq!(good["bound"], true, "{good}");
    // The connector log tells the operator what happened, EMG style.
    std::thread::sleep(Duration::from_millis(300));
    let log = setup.log("connector.smpp-in");
    assert!(log.contains(") LOGIN ERR (info=\"14\")"), "{log}");
    assert!(log.contains(") LOGIN OK (info=\"0 demo\")"), "{log}");
    let pdu = setup.log("pdu.smpp-in");
    assert!(
        pdu.contains("PASSWORD:********"),
        "passwords are masked: {pdu}"
    );
    assert!(
        !pdu.contains("wrong"),
        "the wrong password never reaches the log"
    );
}
