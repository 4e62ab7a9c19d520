//! Incoming SMPP beyond plain submit_sm: validity periods (refused when malformed, and a
//! message that outlives its validity in the queue fails as EXPIRED and its sender hears so),
//! and data_sm (stored, answered with data_sm_resp and our id, and its receipt comes back;
//! its qos_time_to_live honoured as a validity).

mod support;

use common::smpp::{
    command, status, Body, DataSm, MultiDest, Pdu, ReplaceSm, Sm, SmppAddr, SubmitMulti, Tlv,
};
use std::collections::HashSet;
use std::time::Duration;
use support::Setup;
use tests::daemon::free_port;
use tests::smpp_client::Client;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Setup's smpp-in and sim1 (destinations 4...), plus `dead`, an outgoing SMPP connector
/// for destinations 5... whose SMSC never answers, so its messages stay queued.
fn setup() -> Setup {
    let dead_port = free_port();
    Setup::new(
        "",
        "",
        &format!(
            r#"
[[route]]
prefix = "5"
to = "dead"

[connector.dead]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{dead_port}"
static = true
"#
        ),
    )
}

/// A client bound as `demo`.
async fn demo_client(setup: &Setup) -> Client {
    Client::bind(setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind as demo")
}

fn submit(dest: &str, validity: &str) -> Body {
    Body::SubmitSm(Sm {
        source: SmppAddr::new(1, 1, "4610000"),
        dest: SmppAddr::new(1, 1, dest),
        registered_delivery: 1,
        validity_period: validity.into(),
        short_message: b"validity".to_vec().into(),
        ..Default::default()
    })
}

#[test]
fn a_malformed_validity_period_is_refused_with_esme_rinvexpiry() {
    let setup = setup();
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = demo_client(&setup).await;
        for bad in ["soon", "261399120000000+", "000000000010000X"] {
            let resp = c
                .request(command::SUBMIT_SM, submit("4670000", bad))
                .await
                .unwrap();
            assert_eq!(resp.command_id, command::SUBMIT_SM_RESP);
            assert_eq!(resp.status, status::ESME_RINVEXPIRY, "{bad:?}");
        }
        let ok = c
            .request(command::SUBMIT_SM, submit("4670000", "000001000000000R"))
            .await
            .unwrap();
        assert_eq!(ok.status, status::ESME_ROK, "a good relative validity");
    });
}

#[test]
fn a_message_that_outlives_its_validity_in_the_queue_fails_as_expired() {
    let setup = setup();
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = demo_client(&setup).await;
        let resp = c
            .request(command::SUBMIT_SM, submit("5550000", "000000000002000R"))
            .await
            .unwrap();
        assert_eq!(resp.status, status::ESME_ROK);
        let Body::SubmitSmResp { message_id, .. } = resp.body else {
            panic!("no message id: {resp:?}");
        };
        let wanted: HashSet<String> = [message_id.clone()].into();
        c.await_receipts(&wanted, Duration::from_secs(15))
            .await
            .unwrap();
        let receipt = c
            .receipt_texts
            .get(&message_id)
            .unwrap_or_else(|| panic!("no EXPIRED receipt for {message_id}"));
        assert!(receipt.contains("stat:EXPIRED"), "{receipt}");
    });
    let state = setup
        .db()
        .rows("SELECT state, status FROM messages WHERE target = 'dead'");
    assert_eq!(state, [["3", "EXPIRED"]], "failed, as EXPIRED");
    let log = setup.log("connector.dead");
    assert!(log.contains("EXPIRED (info="), "{log}");
}

/// data_sm has no validity_period: its qos_time_to_live (seconds) is honoured the same way.
#[test]
fn a_data_sm_that_outlives_its_qos_time_to_live_fails_as_expired() {
    let setup = setup();
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = demo_client(&setup).await;
        let resp = c
            .request(
                command::DATA_SM,
                Body::DataSm(DataSm {
                    source: SmppAddr::new(1, 1, "4610000"),
                    dest: SmppAddr::new(1, 1, "5550000"),
                    registered_delivery: 1,
                    tlvs: vec![
                        Tlv::new(common::smpp::tlv::MESSAGE_PAYLOAD, b"short-lived".to_vec()),
                        Tlv::u32(common::smpp::tlv::QOS_TIME_TO_LIVE, 2),
                    ],
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
        assert_eq!(resp.status, status::ESME_ROK);
        let Body::DataSmResp { message_id, .. } = resp.body else {
            panic!("no message id: {resp:?}");
        };
        let wanted: HashSet<String> = [message_id.clone()].into();
        c.await_receipts(&wanted, Duration::from_secs(15))
            .await
            .unwrap();
        let receipt = c
            .receipt_texts
            .get(&message_id)
            .unwrap_or_else(|| panic!("no EXPIRED receipt for {message_id}"));
        assert!(receipt.contains("stat:EXPIRED"), "{receipt}");
    });
    let state = setup
        .db()
        .rows("SELECT state, status FROM messages WHERE target = 'dead'");
    assert_eq!(state, [["3", "EXPIRED"]], "failed, as EXPIRED");
}

#[test]
fn data_sm_is_stored_answered_with_our_id_and_its_receipt_comes_back() {
    let setup = setup();
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = demo_client(&setup).await;
        let resp = c
            .request(
                command::DATA_SM,
                Body::DataSm(DataSm {
                    source: SmppAddr::new(1, 1, "4610000"),
                    dest: SmppAddr::new(1, 1, "4670000"),
                    registered_delivery: 1,
                    tlvs: vec![Tlv::new(
                        common::smpp::tlv::MESSAGE_PAYLOAD,
                        b"sent as data_sm".to_vec(),
                    )],
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
        assert_eq!(resp.command_id, command::DATA_SM_RESP);
        assert_eq!(resp.status, status::ESME_ROK);
        let Body::DataSmResp { message_id, .. } = resp.body else {
            panic!("no message id: {resp:?}");
        };
        let wanted: HashSet<String> = [message_id.clone()].into();
        c.await_receipts(&wanted, Duration::from_secs(15))
            .await
            .unwrap();
        let receipt = c
            .receipt_texts
            .get(&message_id)
            .unwrap_or_else(|| panic!("no receipt for data_sm {message_id}"));
        assert!(receipt.contains("stat:DELIVRD"), "{receipt}");
        assert!(receipt.contains("text:sent as data_sm"), "{receipt}");
    });
}

fn queued_id(resp: Pdu) -> String {
    match resp.body {
        Body::SubmitSmResp { message_id, .. } => message_id,
        other => panic!("no message id: {other:?}"),
    }
}

fn query(id: &str) -> Body {
    Body::QuerySm {
        message_id: id.into(),
        source: SmppAddr::new(1, 1, "4610000"),
    }
}

fn state_of(resp: &Pdu) -> (u8, String) {
    match &resp.body {
        Body::QuerySmResp {
            message_state,
            final_date,
            ..
        } => (*message_state, final_date.clone()),
        other => panic!("not a query_sm_resp: {other:?} ({resp:?})"),
    }
}

/// query_sm, replace_sm and cancel_sm on a message waiting in the queue, by its sender and
/// by another user.
#[test]
fn a_queued_message_can_be_queried_replaced_and_cancelled_by_its_sender_only() {
    let setup = setup();
    let _daemon = setup.start();
    let id = rt().block_on(async {
        let mut c = demo_client(&setup).await;
        let id = queued_id(
            c.request(command::SUBMIT_SM, submit("5550000", ""))
                .await
                .unwrap(),
        );
        let q = c.request(command::QUERY_SM, query(&id)).await.unwrap();
        assert_eq!(q.status, status::ESME_ROK);
        assert_eq!(state_of(&q), (1, String::new()), "ENROUTE, no final date");

        let mut other = Client::bind(setup.smpp_port, "other", "pw")
            .await
            .unwrap()
            .expect("bind other");
        let q = other.request(command::QUERY_SM, query(&id)).await.unwrap();
        assert_eq!(q.status, status::ESME_RQUERYFAIL, "not other's message");
        let cancel = Body::CancelSm {
            service_type: String::new(),
            message_id: id.clone(),
            source: SmppAddr::new(1, 1, "4610000"),
            dest: SmppAddr::new(1, 1, "5550000"),
        };
        let r = other
            .request(command::CANCEL_SM, cancel.clone())
            .await
            .unwrap();
        assert_eq!(r.status, status::ESME_RCANCELFAIL, "not other's message");

        let replace = Body::ReplaceSm(ReplaceSm {
            message_id: id.clone(),
            source: SmppAddr::new(1, 1, "4610000"),
            short_message: b"replaced text".to_vec().into(),
            ..Default::default()
        });
        let r = c.request(command::REPLACE_SM, replace).await.unwrap();
        assert_eq!(r.status, status::ESME_ROK);

        let r = c.request(command::CANCEL_SM, cancel.clone()).await.unwrap();
        assert_eq!(r.status, status::ESME_ROK);
        let r = c.request(command::CANCEL_SM, cancel).await.unwrap();
        assert_eq!(r.status, status::ESME_RCANCELFAIL, "already cancelled");
        let q = c.request(command::QUERY_SM, query(&id)).await.unwrap();
        let (state, final_date) = state_of(&q);
        assert_eq!(state, 4, "DELETED");
        assert_eq!(final_date.len(), 16, "{final_date:?}");
        id
    });
    let id: u64 = id.parse().unwrap();
    let row = setup
        .db()
        .byte_rows(&format!("SELECT state, data FROM messages WHERE id = {id}"));
    assert_eq!(row.len(), 1, "one message {id}");
    let (state, data) = (String::from_utf8_lossy(&row[0][0]), &row[0][1]);
    assert_eq!(state, "4", "cancelled in the store");
    let stored = emgd::store::codec::decode(0, "", data).expect("a message record");
    assert_eq!(
        stored.body, b"replaced text",
        "the replaced text was stored"
    );
}

/// submit_multi: each routable destination becomes a stored message, refused ones are listed
/// with their reason, and every receipt reports the one id the client was given.
#[test]
fn submit_multi_stores_each_destination_and_reports_the_refused_ones() {
    let setup = setup();
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = demo_client(&setup).await;
        let multi = Body::SubmitMulti(SubmitMulti {
            source: SmppAddr::new(1, 1, "4610000"),
            dests: vec![
                MultiDest::Sme(SmppAddr::new(1, 1, "4670001")),
                MultiDest::Sme(SmppAddr::new(1, 1, "9990000")),
                MultiDest::DistributionList("friends".into()),
                MultiDest::Sme(SmppAddr::new(1, 1, "4670002")),
            ],
            registered_delivery: 1,
            short_message: b"to many".to_vec().into(),
            ..Default::default()
        });
        let resp = c.request(command::SUBMIT_MULTI, multi).await.unwrap();
        assert_eq!(resp.status, status::ESME_ROK);
        let Body::SubmitMultiResp {
            message_id,
            unsuccess,
            ..
        } = resp.body
        else {
            panic!("not a submit_multi_resp");
        };
        let refused: Vec<(String, u32)> = unsuccess
            .iter()
            .map(|u| (u.addr.addr.clone(), u.error_status))
            .collect();
        assert_eq!(
            refused,
            [
                ("9990000".to_string(), status::ESME_RINVDSTADR),
                ("friends".to_string(), status::ESME_RINVDLNAME)
            ]
        );
        // Both receipts name the id the client was given.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut seen = 0;
        while seen < 2 && tokio::time::Instant::now() < deadline {
            let wanted: HashSet<String> = [message_id.clone()].into();
            c.receipts.clear();
            c.await_receipts(&wanted, Duration::from_secs(5))
                .await
                .unwrap();
            if c.receipts.contains(&message_id) {
                seen += 1;
            }
        }
        assert_eq!(seen, 2, "two receipts for {message_id}");
    });
}

/// query_sm from a third-party client (python smpplib) for a delivered message.
#[test]
fn smpplib_queries_a_delivered_message() {
    let setup = setup();
    let _daemon = setup.start();
    let report = support::smpplib(setup.smpp_port, &["--count", "1", "--dest", "4670000"]);
    let id = report["accepted"][0].as_str().unwrap().to_string();
    assert!(report["receipts"].get(&id).is_some(), "{report}");
    let answer = support::smpplib(setup.smpp_port, &["--query", &id]);
    assert_eq!(answer["query"]["status"].as_u64(), Some(0), "{answer}");
    assert_eq!(
        answer["query"]["state"].as_u64(),
        Some(2),
        "DELIVERED: {answer}"
    );
    assert_eq!(
        answer["query"]["final_date"].as_str().map(str::len),
        Some(16),
        "{answer}"
    );
}

/// submit_multi is received as submit_sm is: refused on a transmit-only connector, and paced
/// by the connector's `throughput`, one message per destination.
#[test]
fn submit_multi_honours_mode_and_throughput() {
    let multi = |n: usize| {
        Body::SubmitMulti(SubmitMulti {
            source: SmppAddr::new(1, 1, "4610000"),
            dests: (0..n)
                .map(|i| MultiDest::Sme(SmppAddr::new(1, 1, format!("467000{i}"))))
                .collect(),
            short_message: b"to many".to_vec().into(),
            ..Default::default()
        })
    };
    let with = |keyword: &str| {
        let setup = setup();
        let text = std::fs::read_to_string(&setup.config).unwrap().replacen(
            "instances = 4\n",
            &format!("instances = 4\n{keyword}\n"),
            1,
        );
        std::fs::write(&setup.config, text).unwrap();
        setup
    };
    let transmit_only = with("mode = \"transmit\"");
    let d = transmit_only.start();
    rt().block_on(async {
        let mut c = demo_client(&transmit_only).await;
        let resp = c.request(command::SUBMIT_MULTI, multi(2)).await.unwrap();
        assert_eq!(resp.status, status::ESME_RSUBMITFAIL, "{resp:?}");
    });
    drop(d);
    let stored: i64 = transmit_only.db().number("SELECT COUNT(*) FROM messages");
    assert_eq!(stored, 0, "a transmit-only connector took nothing");

    let paced = with("throughput = 2");
    let _d = paced.start();
    rt().block_on(async {
        let mut c = demo_client(&paced).await;
        let started = std::time::Instant::now();
        let resp = c.request(command::SUBMIT_MULTI, multi(6)).await.unwrap();
        assert_eq!(resp.status, status::ESME_ROK, "{resp:?}");
        // Six messages at 2/s: answered 2.5 s later at the earliest.
        let took = started.elapsed();
        assert!(took >= Duration::from_secs(2), "{took:?}");
    });
}
