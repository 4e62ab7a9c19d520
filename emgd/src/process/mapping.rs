//! Mappings (`mapping` files): EMG applies each rule, top to bottom, to the whole text, so a
//! rule sees what the rules before it made. With `"a"->"d"` before `"aa"->"xx"`, `aabacc`
//! becomes `ddbdcc`; in the other order `xxbdcc`.

use common::message::{Message, MsgType};
use config::MapRule;

/// Whether `m` carries 7-bit text, the only kind EMG maps: data coding 0 (SMSC default
/// alphabet), 1 (IA5/ASCII) or a GSM 7-bit message-class coding (0xF0..=0xF3).
pub fn is_seven_bit_text(m: &Message) -> bool {
    m.msgtype == MsgType::Sms && matches!(m.data_coding, 0 | 1 | 0xF0..=0xF3)
}

/// `text` with every rule applied in order, each replacing all its non-overlapping matches
/// from left to right.
pub fn apply(rules: &[MapRule], text: &[u8]) -> Vec<u8> {
    let mut cur = text.to_vec();
    for rule in rules {
        cur = replace_all(&cur, &rule.find, &rule.replace);
    }
    cur
}

fn replace_all(text: &[u8], find: &[u8], replace: &[u8]) -> Vec<u8> {
    if find.is_empty() || text.len() < find.len() {
        return text.to_vec();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text.get(i..i + find.len()) == Some(find) {
            out.extend_from_slice(replace);
            i += find.len();
        } else {
            out.extend(text.get(i).copied());
            i += 1;
        }
    }
    out
}

/// Applies `rules` to the text of `m` (after its UDH, which stays as it is). Returns whether
/// the body changed; other messages are left alone.
pub fn map_body(rules: &[MapRule], m: &mut Message) -> bool {
    if rules.is_empty() || !is_seven_bit_text(m) {
        return false;
    }
    let header = if m.esm_class & 0x40 != 0 {
        m.body
            .first()
            .map_or(0, |&udhl| (usize::from(udhl) + 1).min(m.body.len()))
    } else {
        0
    };
    let (udh, text) = m.body.split_at(header);
    let mapped = apply(rules, text);
    if mapped == text {
        return false;
    }
    let mut body = udh.to_vec();
    body.extend(mapped);
    m.body = body;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(find: &[u8], replace: &[u8]) -> MapRule {
        MapRule {
            find: find.to_vec(),
            replace: replace.to_vec(),
            line: 1,
        }
    }

    #[test]
    fn emg_examples() {
        // (rules, input, output): EMG's two ordering examples, then one-to-many, many-to-one,
        // many-to-many, binary tokens and deletion.
        type Rules<'a> = &'a [(&'a [u8], &'a [u8])];
        let cases: &[(Rules, &[u8], &[u8])] = &[
            (&[(b"a", b"d"), (b"aa", b"xx")], b"aabacc", b"ddbdcc"),
            (&[(b"aa", b"xx"), (b"a", b"d")], b"aabacc", b"xxbdcc"),
            (&[(b"a", b"b")], b"banana", b"bbnbnb"),
            (&[(b"xyz", b"zyx")], b"xyzxyz!", b"zyxzyx!"),
            (
                &[(&[3, b'a'], &[b'a', 3, 2])],
                &[1, 3, b'a', 3],
                &[1, b'a', 3, 2, 3],
            ),
            (&[(b"e", b"ee")], b"hello", b"heello"),
            (&[(b"oo", b"0")], b"foo", b"f0"),
            (&[(b"x", b"")], b"x-x-x", b"--"),
            (
                &[(&[1, 2, 3], &[0x20, 0x20])],
                &[1, 2, 3, 1, 2],
                b"  \x01\x02",
            ),
            (&[(b"aa", b"a")], b"aaa", b"aa"),
            (&[], b"same", b"same"),
        ];
        for (rules, input, output) in cases {
            let rules: Vec<MapRule> = rules.iter().map(|(f, r)| rule(f, r)).collect();
            assert_eq!(
                apply(&rules, input),
                output.to_vec(),
                "{:?} on {:?}",
                rules,
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn only_seven_bit_text_is_mapped_and_the_udh_is_kept() {
        let rules = [rule(b"a", b"d")];
        let text = |dc: u8, esm: u8, body: &[u8]| Message {
            data_coding: dc,
            esm_class: esm,
            body: body.to_vec(),
            ..Default::default()
        };
        let mut m = text(0, 0, b"aab");
        assert!(map_body(&rules, &mut m));
        assert_eq!(m.body, b"ddb");
        let mut m = text(0, 0x40, &[5, 0, 3, b'a', 2, 1, b'a']);
        assert!(map_body(&rules, &mut m));
        assert_eq!(m.body, [5, 0, 3, b'a', 2, 1, b'd']);
        for dc in [3, 4, 8] {
            let mut m = text(dc, 0, b"aab");
            assert!(!map_body(&rules, &mut m), "data coding {dc}");
            assert_eq!(m.body, b"aab");
        }
        let mut dlr = text(0, 0, b"aab");
        dlr.msgtype = MsgType::Dlr;
        assert!(!map_body(&rules, &mut dlr));
    }
}
