//! The simulator against a raw SMPP peer over the codec.

use super::session::*;
use super::*;
use bytes::BytesMut;
use common::dlr::DlrStatus;
use common::smpp::{
    command, decode, encode, status, tlv, Bind, Body, Pdu, Receipt, Sm, SmppAddr,
    DEFAULT_MAX_PDU_LEN,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A raw SMPP peer over the codec, to check exactly what the simulator sends.
struct Peer {
    s: TcpStream,
    buf: BytesMut,
    seq: u32,
}

impl Peer {
    async fn connect(port: u16) -> Peer {
        let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        Peer {
            s,
            buf: BytesMut::new(),
            seq: 0,
        }
    }

    async fn send(&mut self, command_id: u32, body: Body) -> u32 {
        self.seq += 1;
        let mut out = BytesMut::new();
        encode(&Pdu::new(command_id, self.seq, body), &mut out);
        self.s.write_all(&out).await.unwrap();
        self.seq
    }

    /// Send a response with the sequence number of the PDU it answers.
    async fn send_as(&mut self, command_id: u32, seq: u32, body: Body) {
        let mut out = BytesMut::new();
        encode(&Pdu::new(command_id, seq, body), &mut out);
        self.s.write_all(&out).await.unwrap();
    }

    async fn read(&mut self) -> Pdu {
        let read = async {
            loop {
                if let Some(p) = decode(&mut self.buf, DEFAULT_MAX_PDU_LEN).unwrap() {
                    return p;
                }
                assert!(self.s.read_buf(&mut self.buf).await.unwrap() > 0, "closed");
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("a PDU within 5 s")
    }

    async fn bind(&mut self, command_id: u32, user: &str, password: &str) -> u32 {
        let bind = Body::Bind(Bind {
            system_id: user.into(),
            password: password.into(),
            interface_version: 0x34,
            ..Default::default()
        });
        self.send(command_id, bind).await;
        self.read().await.status
    }

    async fn submit(&mut self, registered_delivery: u8) -> Pdu {
        let sm = Sm {
            source: SmppAddr::new(1, 1, "4610000"),
            dest: SmppAddr::new(1, 1, "46701234567"),
            registered_delivery,
            short_message: b"hello from the receipt test".to_vec().into(),
            ..Default::default()
        };
        self.send(command::SUBMIT_SM, Body::SubmitSm(sm)).await;
        self.read().await
    }
}

async fn start(opts: Options) -> (u16, Arc<Smsc>, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let smsc = Smsc::new(opts);
    let (stop, rx) = watch::channel(false);
    tokio::spawn(serve(listener, smsc.clone(), rx));
    (port, smsc, stop)
}

fn message_id(p: &Pdu) -> String {
    match &p.body {
        Body::SubmitSmResp { message_id, .. } => message_id.clone(),
        other => panic!("not a submit_sm_resp: {other:?}"),
    }
}

#[tokio::test]
async fn receipt_carries_text_and_tlvs_with_the_submitted_id() {
    let (port, smsc, _stop) = start(Options {
        ids: IdFormat::Hex,
        receipt_ids: IdFormat::Hex,
        first_id: 255,
        dlr_delay: Duration::from_millis(20),
        ..Default::default()
    })
    .await;
    let mut p = Peer::connect(port).await;
    assert_eq!(p.bind(command::BIND_TRANSCEIVER, "any", "thing").await, 0);
    let resp = p.submit(1).await;
    assert_eq!((resp.status, message_id(&resp)), (0, "ff".to_string()));
    let dlr = p.read().await;
    assert_eq!(dlr.command_id, command::DELIVER_SM);
    let Body::DeliverSm(sm) = &dlr.body else {
        panic!("{dlr:?}")
    };
    assert_eq!(sm.esm_class, 0x04);
    assert_eq!(
        (sm.source.addr.as_str(), sm.dest.addr.as_str()),
        ("46701234567", "4610000")
    );
    let r = Receipt::parse(&sm.short_message).expect("an appendix B receipt");
    assert_eq!(
        (r.id.as_str(), r.stat, r.text.as_str()),
        ("ff", DlrStatus::Delivered, "hello from the recei")
    );
    assert_eq!((r.sub, r.dlvrd, r.err.as_str()), (1, 1, "000"));
    assert_eq!(
        sm.tlv(tlv::RECEIPTED_MESSAGE_ID).map(|v| &v[..]),
        Some(&b"ff\0"[..])
    );
    assert_eq!(sm.tlv(tlv::MESSAGE_STATE).map(|v| &v[..]), Some(&[2u8][..]));
    p.send(
        command::DELIVER_SM_RESP,
        Body::DeliverSmResp {
            message_id: String::new(),
            tlvs: vec![],
        },
    )
    .await;
    // No receipt without registered_delivery.
    let resp = p.submit(0).await;
    assert_eq!(message_id(&resp), "100");
    p.send(command::ENQUIRE_LINK, Body::Empty).await;
    assert_eq!(p.read().await.command_id, command::ENQUIRE_LINK_RESP);
    p.send(command::UNBIND, Body::Empty).await;
    assert_eq!(p.read().await.command_id, command::UNBIND_RESP);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let s = smsc.stats();
    assert_eq!(
        (
            s.submits,
            s.accepted,
            s.receipts,
            s.receipts_acked,
            s.enquire_links
        ),
        (2, 2, 1, 1, 1)
    );
}

#[tokio::test]
async fn credentials_refusals_throttle_and_receiver_binds() {
    let (port, smsc, _stop) = start(Options {
        credentials: Some(("emg".into(), "secret".into())),
        ids: IdFormat::Decimal,
        receipt_ids: IdFormat::Hex,
        first_id: 10,
        dlr_delay: Duration::ZERO,
        fail_share: 0.5,
        fail_status: status::ESME_RSYSERR,
        throttle: Some(1.0),
        ..Default::default()
    })
    .await;
    let mut wrong = Peer::connect(port).await;
    assert_eq!(
        wrong.bind(command::BIND_TRANSMITTER, "emg", "nope").await,
        status::ESME_RINVPASWD
    );
    let mut rx = Peer::connect(port).await;
    assert_eq!(rx.bind(command::BIND_RECEIVER, "emg", "secret").await, 0);
    let mut tx = Peer::connect(port).await;
    assert_eq!(tx.bind(command::BIND_TRANSMITTER, "emg", "secret").await, 0);
    // A receiver may not submit.
    assert_eq!(rx.submit(1).await.status, status::ESME_RINVBNDSTS);
    // Every second submit fails; the throttle lets one through, then refuses.
    let first = tx.submit(1).await;
    let second = tx.submit(1).await;
    let third = tx.submit(1).await;
    assert_eq!((first.status, message_id(&first)), (0, "10".to_string()));
    assert_eq!(second.status, status::ESME_RSYSERR);
    assert_eq!(third.status, status::ESME_RTHROTTLED);
    // The transmitter's receipt arrives on the receiver, with the id in hex.
    let dlr = rx.read().await;
    let Body::DeliverSm(sm) = &dlr.body else {
        panic!("{dlr:?}")
    };
    assert_eq!(Receipt::parse(&sm.short_message).unwrap().id, "a");
    let s = smsc.stats();
    assert_eq!(
        (s.binds, s.binds_refused, s.refused, s.throttled, s.receipts),
        (2, 1, 2, 1, 1)
    );
}

/// A bounce closes a session with receipts still waiting: they go out on another session of
/// the same system_id, one bound then or the next one to bind, none lost.
#[tokio::test]
async fn receipts_of_a_closed_session_go_out_on_another() {
    let (port, smsc, _stop) = start(Options {
        dlr_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let read_receipt = |dlr: Pdu| {
        assert_eq!(dlr.command_id, command::DELIVER_SM, "{dlr:?}");
        let Body::DeliverSm(sm) = &dlr.body else {
            panic!("{dlr:?}")
        };
        Receipt::parse(&sm.short_message).unwrap().id
    };
    // Another transceiver is bound: it takes the closed session's receipt.
    let mut a = Peer::connect(port).await;
    let mut b = Peer::connect(port).await;
    assert_eq!(a.bind(command::BIND_TRANSCEIVER, "emg", "x").await, 0);
    assert_eq!(b.bind(command::BIND_TRANSCEIVER, "emg", "x").await, 0);
    let first = message_id(&a.submit(1).await);
    drop(a);
    let dlr = b.read().await;
    assert_eq!(read_receipt(dlr.clone()), first);
    let ack = Body::DeliverSmResp {
        message_id: String::new(),
        tlvs: vec![],
    };
    b.send_as(command::DELIVER_SM_RESP, dlr.sequence, ack).await;
    // None bound when it closes: the next bind of the system_id gets it.
    let second = message_id(&b.submit(1).await);
    b.send(command::UNBIND, Body::Empty).await;
    assert_eq!(b.read().await.command_id, command::UNBIND_RESP);
    drop(b);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(smsc.orphaned(), 1);
    // Another system_id does not take it.
    let mut other = Peer::connect(port).await;
    assert_eq!(other.bind(command::BIND_TRANSCEIVER, "else", "x").await, 0);
    assert_eq!(smsc.orphaned(), 1);
    let mut c = Peer::connect(port).await;
    assert_eq!(c.bind(command::BIND_RECEIVER, "emg", "x").await, 0);
    assert_eq!(read_receipt(c.read().await), second);
    // Sent and never answered when its session closes: sent again on the next session.
    drop(c);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(smsc.orphaned(), 1);
    let mut d = Peer::connect(port).await;
    assert_eq!(d.bind(command::BIND_TRANSCEIVER, "emg", "x").await, 0);
    assert_eq!(read_receipt(d.read().await), second);
    let s = smsc.stats();
    assert_eq!((smsc.orphaned(), s.receipts, s.receipts_dropped), (0, 3, 0));
}
