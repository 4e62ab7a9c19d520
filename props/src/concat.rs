//! Long messages: splitting into parts (the encoder) and reassembling them (the decoder).

use std::collections::{BTreeMap, HashMap};

use arbitrary::{Result, Unstructured};
use common::concat::*;
use common::gsm::{decode_text, Coding, Udh};

const MAX_PENDING: usize = 4;
const TTL: u64 = 100;

/// Decoder property, checked against a model: `data` is a stream of received parts, each
/// `[sender, advance, len, user data...]` where the user data starts with a UDH. Every part
/// with a valid concatenation IE goes to the reassembler; the model says what must come out:
/// the first copy of each part wins, a message completes with its parts' texts in sequence
/// order, at most `MAX_PENDING` wait, and whatever is evicted or expires is handed back whole
/// — no part is ever dropped silently.
pub fn reassemble(data: &[u8]) {
    let mut r = Reassembler::new(MAX_PENDING, TTL);
    let mut model: HashMap<Key, (u64, BTreeMap<u8, Vec<u8>>)> = HashMap::new();
    let mut now = 0u64;
    let mut rest = data;
    while let [sender, advance, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (user_data, next) = tail.split_at(n);
        rest = next;
        now += u64::from(*advance);
        for gone in r.expire(now) {
            let (first_seen, parts) = model
                .remove(&gone.key)
                .expect("expired a message never pushed");
            assert!(now >= first_seen + TTL);
            assert_eq!(gone.parts, parts.into_iter().collect::<Vec<_>>());
        }
        assert!(
            model.values().all(|(seen, _)| now < seen + TTL),
            "a message outlived its TTL"
        );
        let Ok((udh, text)) = Udh::split(user_data) else {
            continue;
        };
        let Some(c) = udh.concat() else {
            continue;
        };
        let key = Key {
            source: format!("46700{}", sender % 3),
            dest: "4670999".into(),
            reference: c.reference,
            total: c.total,
        };
        let pushed = r.push(key.clone(), c.seq, text.to_vec(), now);
        if c.total == 1 {
            // Whole already: never held, so it evicts nothing.
            let body = text.to_vec();
            assert_eq!(pushed, Pushed::Complete(Assembled { key, body }));
            assert_eq!(
                r.len(),
                model.len(),
                "a single-part message changed what waits"
            );
            continue;
        }
        let mut expect_evicted = None;
        if !model.contains_key(&key) && model.len() >= MAX_PENDING {
            let oldest = model
                .iter()
                .min_by(|a, b| (a.1 .0, a.0).cmp(&(b.1 .0, b.0)))
                .map(|(k, _)| k.clone())
                .expect("the model is full");
            let (_, parts) = model.remove(&oldest).expect("oldest is there");
            expect_evicted = Some(Partial {
                key: oldest,
                parts: parts.into_iter().collect(),
            });
        }
        let entry = model.entry(key.clone()).or_insert((now, BTreeMap::new()));
        if entry.1.contains_key(&c.seq) {
            assert_eq!(pushed, Pushed::Duplicate);
            continue;
        }
        entry.1.insert(c.seq, text.to_vec());
        if entry.1.len() == usize::from(c.total) {
            let (_, parts) = model.remove(&key).expect("just inserted");
            assert_eq!(
                expect_evicted, None,
                "completing {key:?} dropped an evicted message"
            );
            let body: Vec<u8> = parts.into_values().flatten().collect();
            assert_eq!(pushed, Pushed::Complete(Assembled { key, body }));
        } else {
            assert_eq!(
                pushed,
                Pushed::Pending {
                    received: entry.1.len() as u8,
                    total: c.total,
                    evicted: expect_evicted,
                }
            );
        }
        assert_eq!(r.len(), model.len());
        assert!(r.len() <= MAX_PENDING);
    }
}

/// Round-trip property: a body split into parts, received in any order and with repeats,
/// reassembles to the same body; each part fits its coding's capacity, and decoding the parts
/// one by one shows the same text as decoding the whole (no character is cut in two).
pub fn roundtrip(data: &[u8]) {
    let Some((body, dc, method, reference, order)) = crate::generate(data, split_input) else {
        return;
    };
    let Ok(parts) = split_encoded(&body, dc, method, reference) else {
        return;
    };
    let coding = Coding::from_data_coding(dc).expect("split, so the coding is known");
    let lim = limits(coding, method, reference);
    let total = parts.len();
    if method != Method::Payload {
        let cap = if total == 1 { lim.single } else { lim.per_part };
        assert!(
            parts.iter().all(|p| p.text().len() <= cap),
            "a part over {cap}"
        );
    }
    let mut shown = String::new();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!((usize::from(p.seq), usize::from(p.total)), (i + 1, total));
        assert_eq!(
            p.udhi,
            total > 1 && matches!(method, Method::Udh8 | Method::Udh16)
        );
        if p.udhi {
            let c = Udh::split(&p.body)
                .expect("our own UDH")
                .0
                .concat()
                .expect("a concat IE");
            assert_eq!((c.reference, c.total, c.seq), (p.reference, p.total, p.seq));
        }
        if let Ok(t) = decode_text(dc, p.text()) {
            shown.push_str(&t);
        }
    }
    if let Ok(whole) = decode_text(dc, &body) {
        assert_eq!(shown, whole, "decoding part by part differs");
    }
    let mut r = Reassembler::new(1, TTL);
    let key = Key {
        source: "4670".into(),
        dest: "4671".into(),
        reference: parts[0].reference,
        total: parts[0].total,
    };
    let mut complete = None;
    for i in order
        .iter()
        .map(|&i| usize::from(i) % total)
        .chain(0..total)
    {
        let p = &parts[i];
        if let Pushed::Complete(a) = r.push(key.clone(), p.seq, p.text().to_vec(), 0) {
            complete = Some(a.body);
            break;
        }
    }
    assert_eq!(complete, Some(body));
}

/// What `roundtrip` splits: body, data_coding, method, reference, and the order parts arrive in.
type SplitInput = (Vec<u8>, u8, Method, u16, Vec<u8>);

fn split_input(u: &mut Unstructured) -> Result<SplitInput> {
    let dc = *u.choose(&[0u8, 1, 3, 4, 8])?;
    let method = *u.choose(&[Method::Udh8, Method::Udh16, Method::Sar, Method::Payload])?;
    let reference = u.arbitrary()?;
    let len = u.int_in_range(0..=1200usize)?;
    let mut body = Vec::with_capacity(len);
    for _ in 0..len {
        // Runs of escapes and surrogates, where cuts go wrong, more often than chance would.
        body.push(match u.int_in_range(0..=7)? {
            0 => 0x1B,
            1 => *u.choose(&[0xD8, 0xDB, 0xDC, 0xDF])?,
            _ => u.arbitrary()?,
        });
    }
    let order = u.arbitrary()?;
    Ok((body, dc, method, reference, order))
}
