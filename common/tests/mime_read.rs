//! Mails as senders write them → the SMS text, subject and sender we take from them; and
//! mails we build, read back.

use common::mime::*;

/// What, raw mail, subject, text, discarded content types.
type Case = (
    &'static str,
    Vec<u8>,
    Option<&'static str>,
    &'static str,
    Vec<&'static str>,
);

fn table() -> Vec<Case> {
    vec![
        (
            "plain ASCII",
            b"From: Alice <alice@example.com>\r\nTo: 46701234567@sms.example.com\r\nSubject: Lunch\r\n\r\nAt 12?\r\n".to_vec(),
            Some("Lunch"),
            "At 12?",
            vec![],
        ),
        (
            "folded subject with encoded words in two charsets",
            b"From: =?ISO-8859-1?Q?Bj=F6rn?= <bjorn@example.com>\r\nSubject: =?UTF-8?B?SGrDpHJ0bGln?=\r\n =?ISO-8859-1?Q?_v=E4lkommen?=\r\n\r\nHej\r\n".to_vec(),
            Some("Hjärtlig välkommen"),
            "Hej",
            vec![],
        ),
        (
            "quoted-printable UTF-8 with soft breaks",
            b"Subject: qp\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A4ksm=C3=B6rg=C3=A5s =E2=82=AC5 and a very long line that is bro=\r\nken here\r\n".to_vec(),
            Some("qp"),
            "Räksmörgås €5 and a very long line that is broken here",
            vec![],
        ),
        (
            "base64 ISO-8859-1",
            b"Subject: b64\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVqIHDlIGRpZyE=\r\n".to_vec(),
            Some("b64"),
            "Hej på dig!",
            vec![],
        ),
        (
            "windows-1252, KOI8-R and Shift_JIS through encoding_rs",
            [
                &b"Subject: cs\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\x80 \x93quoted\x94\r\n--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n--b\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n"[..],
                b"\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\r\n--b--\r\n",
            ]
            .concat(),
            Some("cs"),
            "€ \u{201c}quoted\u{201d}\n\nПривет\n\nこんにちは",
            vec![],
        ),
        (
            "html only, reduced to text",
            b"Subject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>Bob</b></p><p>caf&eacute; &amp; more<br>next</p></body></html>\r\n".to_vec(),
            Some("h"),
            "Hello\u{a0}Bob\ncafé & more\nnext",
            vec![],
        ),
        (
            "multipart/alternative takes the plain part once",
            b"Subject: alt\r\nContent-Type: multipart/alternative; boundary=xx\r\n\r\n--xx\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--xx\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n--xx--\r\n".to_vec(),
            Some("alt"),
            "plain version",
            vec![],
        ),
        (
            "nested multipart with an image and a pdf discarded, a text attachment kept",
            b"Subject: nest\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\npreamble\r\n--outer\r\nContent-Type: multipart/related; boundary=inner\r\n\r\n--inner\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nsee the picture\r\n--inner\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: inline; filename=\"dot.png\"\r\n\r\niVBORw0KGgo=\r\n--inner--\r\n--outer\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?w6Rw?=.pdf\"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--outer\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nthe notes\r\n--outer--\r\nepilogue\r\n".to_vec(),
            Some("nest"),
            "see the picture\n\nthe notes",
            vec!["image/png", "application/pdf"],
        ),
        (
            "bare LF line ends, trailing blanks, blank runs and a signature",
            b"Subject: tidy\n\nline one   \n\n\n\nline two\n-- \nAlice, CEO\n".to_vec(),
            Some("tidy"),
            "line one\n\nline two",
            vec![],
        ),
        (
            "no subject, no body",
            b"From: a@b.c\r\n\r\n".to_vec(),
            None,
            "",
            vec![],
        ),
    ]
}

#[test]
fn mails_become_sms_text() {
    for (what, raw, subject, text, discarded) in table() {
        let m = read_mail(&raw).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(m.subject.as_deref(), subject, "{what}");
        assert_eq!(m.text, text, "{what}");
        let types: Vec<&str> = m
            .discarded
            .iter()
            .map(|d| d.content_type.as_str())
            .collect();
        assert_eq!(types, discarded, "{what}");
    }
    let m = read_mail(&table()[1].1).unwrap();
    assert_eq!(m.from.as_deref(), Some("bjorn@example.com"));
    assert_eq!(m.from_name.as_deref(), Some("Björn"));
    let nested = read_mail(&table()[7].1).unwrap();
    assert_eq!(nested.discarded[0].name.as_deref(), Some("dot.png"));
    assert_eq!(nested.discarded[1].name.as_deref(), Some("äp.pdf"));
    assert_eq!(nested.discarded[1].size, 5);
}

#[test]
fn options_come_from_x_emg_option_headers() {
    let raw = b"Subject: o\r\nX-EMG-Option-Priority: 1\r\nx-emg-option-ValidityPeriod: 3600\r\n folded\r\nX-Other: no\r\n\r\nbody\r\n";
    let m = read_mail(raw).unwrap();
    assert_eq!(
        m.options,
        [
            ("Priority".to_string(), "1".to_string()),
            ("ValidityPeriod".to_string(), "3600 folded".to_string())
        ]
    );
}

#[test]
fn what_we_build_reads_back_the_same() {
    let to = vec!["alice@example.com".to_string()];
    let options = vec![
        ("DLR".to_string(), "1".to_string()),
        ("Note".to_string(), "Grüße\r\nX-Injected: 1".to_string()),
    ];
    let long = "Hälsningar från mobilen, ".repeat(12);
    for text in [
        "plain ascii",
        "Räksmörgås € 😀",
        long.trim_end(),
        "ends in space \nnext",
        "a=b\n.\nlast",
    ] {
        let subject = "Svar: Lunch på fredag – 😀 ".repeat(3);
        let raw = build_mail(&NewMail {
            from: "46701234567@sms.example.com",
            from_name: Some("Mobil 46701234567"),
            to: &to,
            subject: Some(&subject),
            text,
            date: "Tue, 1 Dec 2026 13:48:00 +0000",
            message_id: "17.1@emg.test",
            in_reply_to: Some("orig@example.com"),
            options: &options,
        });
        assert!(raw.is_ascii(), "7-bit clean for any relay");
        for line in raw.split(|&b| b == b'\n') {
            assert!(line.len() <= 77, "{:?}", String::from_utf8_lossy(line));
        }
        let m = read_mail(&raw).unwrap();
        assert_eq!(m.subject.as_deref(), Some(subject.trim()));
        assert_eq!(m.text, tidy(text), "{text}");
        assert_eq!(m.from.as_deref(), Some("46701234567@sms.example.com"));
        assert_eq!(m.from_name.as_deref(), Some("Mobil 46701234567"));
        assert_eq!(m.options[0], ("DLR".to_string(), "1".to_string()));
        assert_eq!(
            m.options[1].1, "Grüße  X-Injected: 1",
            "no header injection"
        );
        let head = String::from_utf8_lossy(&raw);
        assert!(head.contains("\r\nIn-Reply-To: <orig@example.com>\r\n"));
        assert!(!head.contains("\r\nX-Injected"));
    }
}

#[test]
fn encoded_words_and_quoted_printable_rules() {
    assert_eq!(encode_header_text("Hello", 9), "Hello");
    assert_eq!(encode_header_text("Hej då", 9), "=?UTF-8?B?SGVqIGTDpQ==?=");
    let words = encoded_words(&"é".repeat(40), 40);
    let mut col = 40;
    for w in words.split("\r\n ") {
        assert!(
            col + w.len() <= 76 && w.starts_with("=?UTF-8?B?") && w.ends_with("?="),
            "{w}"
        );
        col = 1;
    }
    assert_eq!(quoted_printable(b"a=b \nc\t"), "a=3Db=20\r\nc=09");
    let qp = quoted_printable(&[b'x'; 200]);
    assert!(qp.split("\r\n").all(|l| l.len() <= 76));
}

#[test]
fn not_a_mail_is_an_error() {
    assert_eq!(read_mail(b""), Err(MailError::NoHeader));
}

/// Mutated mails (flipped, inserted, deleted and repeated bytes, cut boundaries) never panic
/// the reader, and what it gives is tidy text.
#[test]
fn mutated_mails_never_panic() {
    let mut seed: u64 = 0x0123_4567_89ab_cdef;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    let mails: Vec<Vec<u8>> = table().into_iter().map(|t| t.1).collect();
    let mut read = 0;
    for _ in 0..20_000 {
        let mut m = mails[next(mails.len())].clone();
        for _ in 0..1 + next(8) {
            if m.is_empty() {
                break;
            }
            let at = next(m.len());
            match next(5) {
                0 => m[at] ^= 1 << next(8),
                1 => m.insert(at, b"=?\r\n-:;\"<>\x80\xff"[next(12)]),
                2 => {
                    m.remove(at);
                }
                3 => m.truncate(at),
                _ => {
                    let end = (at + next(40)).min(m.len());
                    let piece = m[at..end].repeat(1 + next(50));
                    m.splice(at..at, piece);
                }
            }
        }
        if let Ok(t) = read_mail(&m) {
            assert_eq!(t.text, tidy(&t.text));
            read += 1;
        }
    }
    assert!(read > 15_000, "most mutations are still mails ({read})");
}
