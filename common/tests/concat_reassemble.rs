//! Reassembly: out of order, duplicates, expiry, the pending bound, and split → reassemble.

use common::concat::{split, Assembled, Key, Method, Partial, Pushed, Reassembler};
use common::gsm::{decode_text, Udh};

fn key(reference: u16, total: u8) -> Key {
    Key {
        source: "4670000001".into(),
        dest: "1234".into(),
        reference,
        total,
    }
}

#[test]
fn out_of_order_with_duplicates() {
    let mut r = Reassembler::new(10, 1000);
    assert_eq!(
        r.push(key(5, 3), 3, b"c".to_vec(), 0),
        Pushed::Pending {
            received: 1,
            total: 3,
            evicted: None
        }
    );
    assert_eq!(r.push(key(5, 3), 3, b"X".to_vec(), 1), Pushed::Duplicate);
    assert_eq!(
        r.push(key(5, 3), 1, b"a".to_vec(), 2),
        Pushed::Pending {
            received: 2,
            total: 3,
            evicted: None
        }
    );
    assert_eq!(r.push(key(5, 3), 1, b"Y".to_vec(), 3), Pushed::Duplicate);
    let Pushed::Complete(done) = r.push(key(5, 3), 2, b"b".to_vec(), 4) else {
        panic!()
    };
    assert_eq!((done.key, done.body), (key(5, 3), b"abc".to_vec()));
    assert!(r.is_empty());
}

#[test]
fn keys_keep_messages_apart() {
    let mut r = Reassembler::new(10, 1000);
    r.push(key(5, 2), 1, b"a".to_vec(), 0);
    r.push(key(6, 2), 1, b"x".to_vec(), 0);
    let mut other_sender = key(5, 2);
    other_sender.source = "999".into();
    r.push(other_sender, 2, b"q".to_vec(), 0);
    r.push(key(5, 3), 2, b"q".to_vec(), 0);
    assert_eq!(r.len(), 4);
    let Pushed::Complete(done) = r.push(key(5, 2), 2, b"b".to_vec(), 1) else {
        panic!()
    };
    assert_eq!(done.body, b"ab");
    assert_eq!(r.len(), 3);
}

#[test]
fn invalid_and_single_parts() {
    let mut r = Reassembler::new(10, 1000);
    assert_eq!(r.push(key(1, 2), 0, vec![], 0), Pushed::Invalid);
    assert_eq!(r.push(key(1, 2), 3, vec![], 0), Pushed::Invalid);
    assert_eq!(r.push(key(1, 0), 1, vec![], 0), Pushed::Invalid);
    assert!(
        matches!(r.push(key(1, 1), 1, b"z".to_vec(), 0), Pushed::Complete(a) if a.body == b"z")
    );
    assert!(r.is_empty());
}

#[test]
fn expiry_returns_partials() {
    let mut r = Reassembler::new(10, 100);
    r.push(key(1, 3), 2, b"b".to_vec(), 10);
    r.push(key(2, 2), 1, b"x".to_vec(), 50);
    assert_eq!(r.next_deadline(), Some(110));
    assert_eq!(r.expire(109), vec![]);
    // A late part does not extend the deadline.
    r.push(key(1, 3), 1, b"a".to_vec(), 105);
    let gone = r.expire(110);
    assert_eq!(
        gone,
        vec![Partial {
            key: key(1, 3),
            parts: vec![(1, b"a".to_vec()), (2, b"b".to_vec())]
        }]
    );
    assert_eq!(r.next_deadline(), Some(150));
    assert_eq!(r.expire(u64::MAX).len(), 1);
    assert!(r.is_empty());
    // After expiry the same key starts afresh.
    assert!(matches!(
        r.push(key(1, 3), 3, b"c".to_vec(), 200),
        Pushed::Pending { received: 1, .. }
    ));
}

#[test]
fn bound_evicts_the_oldest() {
    let mut r = Reassembler::new(2, 1000);
    r.push(key(1, 2), 1, b"a".to_vec(), 5);
    r.push(key(2, 2), 1, b"b".to_vec(), 3);
    // Parts of a message already pending never evict.
    assert_eq!(r.push(key(1, 2), 1, b"a".to_vec(), 6), Pushed::Duplicate);
    let pushed = r.push(key(3, 2), 1, b"c".to_vec(), 7);
    let Pushed::Pending {
        evicted: Some(old), ..
    } = pushed
    else {
        panic!("{pushed:?}")
    };
    assert_eq!(
        old,
        Partial {
            key: key(2, 2),
            parts: vec![(1, b"b".to_vec())]
        }
    );
    assert_eq!(r.len(), 2);
    // Zero is raised to one.
    let mut tiny = Reassembler::new(0, 10);
    tiny.push(key(1, 2), 1, vec![], 0);
    assert!(matches!(
        tiny.push(key(2, 2), 1, vec![], 0),
        Pushed::Pending {
            evicted: Some(_),
            ..
        }
    ));
}

/// A single-part message never waits, so it must not push a waiting one out (that one was
/// dropped, not handed back; found by fuzzing, fuzz/regressions/concat_reassemble/).
#[test]
fn single_part_message_evicts_nothing() {
    let mut r = Reassembler::new(1, 1000);
    r.push(key(1, 75), 1, b"first of 75".to_vec(), 0);
    assert_eq!(
        r.push(key(2, 1), 1, b"whole".to_vec(), 1),
        Pushed::Complete(Assembled {
            key: key(2, 1),
            body: b"whole".to_vec()
        })
    );
    assert_eq!(r.len(), 1, "the long message still waits");
    assert_eq!(
        r.expire(1000),
        vec![Partial {
            key: key(1, 75),
            parts: vec![(1, b"first of 75".to_vec())]
        }]
    );
}

#[test]
fn split_then_reassemble_out_of_order() {
    let text = format!("{} — Привет 😀 {}", "long ".repeat(40), "ж".repeat(100));
    for method in [Method::Udh8, Method::Udh16] {
        let mut parts = split(&text, 8, method, 0x2A7).unwrap();
        assert!(parts.len() > 3);
        parts.reverse();
        parts.swap(0, 2);
        let dup = parts[1].clone();
        parts.insert(3, dup);
        let mut r = Reassembler::new(4, 1000);
        let mut result = None;
        for p in &parts {
            let (udh, body) = Udh::split(&p.body).unwrap();
            let c = udh.concat().unwrap();
            let k = Key {
                source: "a".into(),
                dest: "b".into(),
                reference: c.reference,
                total: c.total,
            };
            if let Pushed::Complete(done) = r.push(k, c.seq, body.to_vec(), 0) {
                result = Some(done);
            }
        }
        let done = result.expect("complete");
        assert_eq!(decode_text(8, &done.body).unwrap(), text);
    }
}
