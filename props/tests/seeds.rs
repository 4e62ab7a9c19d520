//! The fuzz targets' seed corpus, `fuzz/seeds/TARGET/`, made from the tests' own inputs: the
//! SMPP sample PDUs of `common/tests`, the configuration files in the tree, and the literals
//! the unit tests of each decoder use (copied here).
//!
//! `UPDATE_SEEDS=1 cargo test -p props --test seeds` rewrites the corpus; without it the test
//! fails when the checked-in corpus is out of date, and runs every seed through its target.

#[path = "../../common/tests/cimd2_support/mod.rs"]
mod cimd2_support;
#[path = "../../common/tests/rng/mod.rs"]
mod rng;
#[path = "../../common/tests/smpp_support/mod.rs"]
mod smpp_support;
#[path = "../../common/tests/ucp_support/mod.rs"]
mod ucp_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::concat::{split, Method};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Files of the tree whose name ends with one of `suffixes`.
fn tree_files(dir: &str, suffixes: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        if suffixes.iter().any(|s| name.ends_with(s)) {
            out.push(std::fs::read(&p).expect("read seed file"));
        }
    }
    out
}

fn texts(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn smpp() -> Vec<Vec<u8>> {
    let pdus: Vec<Vec<u8>> = smpp_support::all_samples()
        .iter()
        .map(|p| smpp_support::to_bytes(p).to_vec())
        .collect();
    // One stream of several PDUs, as a connection reads them.
    let stream = pdus.iter().take(6).flatten().copied().collect();
    pdus.into_iter().chain([stream]).collect()
}

fn mgp() -> Vec<Vec<u8>> {
    texts(&[
        "{\"id\":1,\"op\":\"login\",\"user\":\"admin\",\"password\":\"secret\"}\n",
        "{\"id\":1,\"op\":\"hold\",\"name\":\"sim1\"}\r\n\n{\"id\":2,\"op\":\"status\"}\n{\"id\"",
        "{\"id\":7,\"op\":\"forceclose\",\"name\":\"sim1\",\"persist\":true}\n",
        "{\"id\":1,\"op\":\"queue_list\"}\n{\"op\":\"tail\",\"id\":2,\"pdu\":true}\n",
        "{\"id\":9,\"op\":\"msg_show\",\"message_id\":42}\n",
        "{\"id\":3,\"op\":\"send\",\"to\":\"4670\",\"from\":\"emg\",\"text\":\"hi\",\"dlr\":true}\n",
        "{\"id\":4,\"op\":\"queue_move\",\"from\":\"a\",\"to\":\"b\",\"dest_prefix\":\"46\"}\n",
        "{nope\n{\"id\":3,\"op\":\"stauts\"}\n{\"id\":4,\"op\":\"forceclose\",\"name\":\"a\",\"persits\":true}\n[1]\n{\"id\":5,\"op\":\"reload\"}\n",
        "{\"id\":7,\"error\":{\"code\":\"not_found\",\"message\":\"connector smsc9 does not exist\"}}\n",
        "{\"id\":7,\"ok\":{\"version\":\"0.1.0\",\"uptime_s\":5}}\n",
        "{\"stream\":2,\"event\":{\"type\":\"lost\",\"count\":12}}\n",
        "{\"stream\":1,\"event\":{\"type\":\"log\",\"kind\":\"pdu\",\"connector\":\"c\",\"instance\":0,\"line\":\"x\"}}\n",
        "{\"stream\":1,\"event\":{\"type\":\"state\",\"connector\":\"c\",\"states\":[\"BOUND\"]}}\n",
    ])
}

fn http() -> Vec<Vec<u8>> {
    texts(&[
        "/bin/send?username=a&password=b&to=4670&from=emg&text=hi&dlr-url=http://h/x\n\n",
        "/bin/send?USERNAME=demo&PASSWORD=demo&DESTADDR=5551001&SOURCEADDR=emg&MESSAGE=hello+get\n\n",
        "/bin/send?to=4670&text=hello+%E2%82%AC\n\n",
        "/send?to=4670&text=%D0%B6\n\n",
        "/cgi-bin/sendsms?username=u&password=p&to=4670&text=hi&coding=2\n\n",
        "/cgi-bin/sendsms?to=4670&text=hi&coding=ucs2&dlr-mask=31&dlr-url=http://h/cb\n\n",
        "/send?to=4670&udh=0605040B8423F0&coding=binary&text=C0FE\n\n",
        "/send?to=4670&udh=%06%05%04%0B%84%23%F0&coding=1&text=%C0%FE\n\n",
        "/bin/send?to=4670&text=hi&dlr=3&dlr-method=get&validity=60&priority=2&pid=0\n\n",
        "/bin/send?to=4670&hex-content=00410042&coding=8\n\n",
        "/bin/send\nContent-Type: application/x-www-form-urlencoded\nAuthorization: Basic dTpw\n\nto=4670&text=form+body",
        "/bin/send.json\nContent-Type: application/json\n\n{\"to\":\"4670\",\"text\":\"hi\",\"dlr-mask\":3,\"priority\":1}",
        "/send.json\nAccept: application/json\nContent-Type: application/json\n\n{\"to\":[\"4670\",\"4671\"],\"text\":\"hi\"}",
        "/bin/send\nContent-Type: text/xml\n\n<x/>",
    ])
}

/// EBE programs' stdout, as tests/ebe_connector.rs's programs print it, and the broken kinds.
fn ebe_outputs() -> Vec<Vec<u8>> {
    texts(&[
        "",
        "remote-42\n",
        "  id-7  \r\n\n",
        "two\nlines\n",
        "has space\n",
        "\u{7f}\n",
    ])
}

/// MGP submissions' options as applications send them (emg-guide §5.2), an injected report too.
fn mgp_options() -> Vec<Vec<u8>> {
    texts(&[
        r#"{"DESTADDR":"46701234567","SOURCEADDR":"emg","MESSAGE":"hello","DLR":"1"}"#,
        r#"{"DESTADDR":"46701234567","HEXCONTENT":"00480069","DCS":"8","ROUTE":"sim1","VP":"60"}"#,
        r#"{"DESTADDR":"+46701234567","MESSAGE":"x","SOURCEADDR_TON":"5","SOURCEADDR_NPI":"0","UDH":"050003010201","PRIORITY":"1","ACCOUNT":"acme"}"#,
        r#"{"MSGTYPE":"5","ORIGID":"1234","MESSAGESTATE":"DELIVERED"}"#,
        r#"{"MSGTYPE":"5","ORIGID":"","MESSAGESTATE":"2"}"#,
        r#"{"DESTADDR":"1","NOSUCH":"x"}"#,
    ])
}

/// Store records of the messages the tests use, binary and one JSON record of an older store.
fn store_records() -> Vec<Vec<u8>> {
    use common::message::{Address, DlrInfo, Message, MsgType, Origin};
    let sms = Message {
        id: 1,
        source: Address::new("4610000"),
        dest: Address::new("46701234567"),
        body: b"load 0".to_vec(),
        dlr_requested: true,
        origin: Origin {
            connector: "smpp-in".into(),
            user: Some("demo".into()),
            account: Some("demo".into()),
            ..Default::default()
        },
        target: "sim1".into(),
        received_us: 1_700_000_000_000_000,
        price: Some("0.05".parse().unwrap()),
        ..Default::default()
    };
    let report = Message {
        msgtype: MsgType::Dlr,
        esm_class: 0x04,
        target_user: Some("demo".into()),
        origin: Origin {
            connector: "http-in".into(),
            callback_url: Some("http://127.0.0.1:9/cb?id=%I".into()),
            callback_method: Some("GET".into()),
            callback_mask: 3,
            ..Default::default()
        },
        dlr: Some(DlrInfo {
            message_id: 1,
            reported_id: "1".into(),
            status: common::dlr::DlrStatus::Delivered,
            error: 0,
            submit_us: 1_700_000_000_000_000,
            done_us: 1_700_000_001_000_000,
            text: "load 0".into(),
        }),
        expires_us: Some(1_700_000_600_000_000),
        ..sms.clone()
    };
    vec![
        emgd::store::codec::encode(&sms),
        emgd::store::codec::encode(&report),
        serde_json::to_vec(&sms).unwrap(),
    ]
}

fn receipts() -> Vec<Vec<u8>> {
    texts(&[
        "id:1 stat:DELIVRD",
        "id:0A1B2C sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:Hello world, this is",
        "ID:007  SUB:1 DLVRD:0 Submit_Date:2601011200 DONE DATE : 260101120130 STAT:undeliv ERR:034",
        "id:ab12 stat:EXPIRED text:  two  words ",
        "id:1 stat:WHATEVER",
        "id: 42 sub: stat:ACCEPTD",
        "id: stat:DELIVRD",
        "hello world",
    ])
}

fn dlr_ids() -> Vec<Vec<u8>> {
    // The first byte picks the format: 0 auto, 1 hex, 2 decimal, 3 string.
    [
        (0, "000A1B"),
        (0, "0000"),
        (0, "Msg-01"),
        (1, "00FF\0"),
        (2, "0042"),
        (3, "  Xy\0"),
        (1, "10597059"),
        (2, "a1b2c3"),
        (0, "12345"),
        (0, &"9".repeat(60)),
    ]
    .iter()
    .map(|(f, id)| [&[*f][..], id.as_bytes()].concat())
    .collect()
}

fn gsm_bodies() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (dc, text) in [
        (0u8, "Hello {world} €5 [ok] ^~\\|"),
        (0, "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./"),
        (1, "plain ascii {}"),
        (3, "Latin-1: é ü ß"),
        (8, "UCS-2: Жж 😀"),
    ] {
        let body = common::gsm::encode_text(dc, text).expect("test text encodes");
        out.push([&[dc][..], &body].concat());
    }
    out.push(vec![8, 0x00, 0x41, 0x00]);
    out.push(vec![8, 0xD8, 0x3D, 0x00, 0x41]);
    out.push(vec![0xF0, 0x1B, 0x1B, 0x1B]);
    out.push(vec![4, 5, 0, 3, 1, 2, 1, 0xC0, 0xFE]);
    out
}

fn udhs() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![5, 0, 3, 1, 2, 1, b'h', b'i'],
        vec![6, 8, 4, 0x12, 0x34, 2, 1],
        vec![6, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0xC0, 0xFE],
        vec![1, 0],
        vec![4, 0, 3, 1, 2],
        vec![5, 0, 0, 0, 3, 1],
        vec![0, 9],
        vec![11, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 7, 3, 2],
    ]
}

/// Parts of split test texts, as `concat_reassemble` reads them: `[sender, advance, len, UDH
/// and text]`, some out of order and repeated.
fn reassembly_streams() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (dc, text, method, reference) in [
        (0u8, "a".repeat(400), Method::Udh8, 7u16),
        (8, "Жж".repeat(80), Method::Udh16, 0x1234),
        (0, "{}€".repeat(90), Method::Udh8, 200),
    ] {
        let parts = split(&text, dc, method, reference).expect("test text splits");
        let mut stream = Vec::new();
        for (i, p) in parts
            .iter()
            .enumerate()
            .rev()
            .chain(parts.iter().enumerate().take(1))
        {
            stream.extend_from_slice(&[i as u8, 1, p.body.len() as u8]);
            stream.extend_from_slice(&p.body);
        }
        out.push(stream);
    }
    out
}

fn ucp() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = ucp_support::SPEC
        .iter()
        .map(|f| [&[common::ucp::STX][..], f.as_bytes(), &[common::ucp::ETX]].concat())
        .collect();
    let mut r = rng::XorShift(0x5eed);
    for _ in 0..16 {
        if let Ok(b) = ucp_support::random_frame(&mut r).to_bytes() {
            out.push(b.to_vec());
        }
    }
    out
}

fn cimd2() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = cimd2_support::PACKETS
        .iter()
        .map(|(w, _)| cimd2_support::wire(w))
        .collect();
    out.push(out.iter().flatten().copied().collect());
    out
}

/// The first byte says which way and whether an SCA leads (props::sms_pdu).
fn sms_pdus() -> Vec<Vec<u8>> {
    use common::sms_pdu::{from_hex, submit_text, SubmitOptions, Validity};
    let mut out = Vec::new();
    let dest = common::message::Address::new("46701234567");
    let opts = SubmitOptions {
        status_report: true,
        validity: Validity::Relative(0xA7),
        ..SubmitOptions::default()
    };
    for text in ["hellohello", "€uro [x]", "ж漢字", &"long text ".repeat(40)] {
        for wide in [false, true] {
            for s in submit_text(&dest, text, &opts, 0x1234, wide).expect("test text") {
                out.push([&[1u8][..], &s.encode().expect("encodes")].concat());
            }
        }
    }
    // SMS-DELIVER and SMS-STATUS-REPORT with their SCA, as the AT tests' modem reads them.
    for hex in [
        "07916407058099F9040B916407214365F700006211323154004004E8329BFD",
        "07916407058099F9062A0B916407214365F7621132315400406211323154554000",
    ] {
        out.push([&[2u8][..], &from_hex(hex).expect("hex")].concat());
    }
    out
}

const AT_TRANSCRIPT: &[u8] = b"ATZ\r\r\nOK\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n\
\r\n+CPMS: \"SM\",2,30,\"SM\",2,30,\"SM\",2,30\r\n\r\nOK\r\n\
\r\n+CMGL: 1,0,,23\r\n07916407058099F9040B916407214365F700006211323154004004E8329BFD\r\n\
\r\n+CMGL: 2,1,,23\r\n07916407058099F9040B916407214365F700006211323154004004E8329BFD\r\n\r\nOK\r\n\
\r\n> \r\n+CMGS: 17\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",3\r\n\r\n+CDS: 26\r\n\
07916407058099F9062A0B916407214365F7621132315400406211323154554000\r\n\
\r\n+CMS ERROR: 500\r\n\r\n+CME ERROR: 10\r\n\r\n+CSQ: 20,99\r\n\r\nRING\r\n";

/// The first byte sets the chunk size (props::at, props::smtp).
fn at() -> Vec<Vec<u8>> {
    vec![
        [&[0u8][..], AT_TRANSCRIPT].concat(),
        [&[5u8][..], AT_TRANSCRIPT].concat(),
    ]
}

fn smtp_sessions() -> Vec<Vec<u8>> {
    let mail = "EHLO c\r\nMAIL FROM:<a@b.c> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<46701234567@sms.example.com>\r\nDATA\r\nSubject: x\r\n\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n";
    texts(&[
        &format!("\x07{mail}"),
        "\x00HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<bad@x.y>\r\nRSET\r\nNOOP\r\nQUIT\r\n",
        "\x03EHLO c\r\nAUTH PLAIN\r\nAGFsaWNlAHB3\r\nAUTH LOGIN\r\n*\r\nSTARTTLS\r\nEHLO c\r\n",
        "\x1fEHLO c\nMAIL FROM:<a@b.c>\nRCPT TO:<1@x>\nDATA\nbare\nLF\n.\n",
    ])
}

fn smtp_replies() -> Vec<Vec<u8>> {
    texts(&[
        "220 localhost ESMTP emg\r\n250-localhost\r\n250-SIZE 4096\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n",
        "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 17\r\n",
        "550 5.1.1 no such user\r\n421 4.4.2 timeout\r\n334 \r\n",
        "250-first\r\n250 second\r\n",
    ])
}

fn mails() -> Vec<Vec<u8>> {
    let mut out = texts(&[
        "From: Alice <alice@example.com>\r\nTo: 46701234567@sms.example.com\r\nSubject: Lunch\r\n\r\nAt 12?\r\n",
        "From: =?ISO-8859-1?Q?Bj=F6rn?= <bjorn@example.com>\r\nSubject: =?UTF-8?B?SGrDpHJ0bGln?=\r\n =?ISO-8859-1?Q?_v=E4lkommen?=\r\n\r\nHej\r\n",
        "Subject: qp\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A4ksm=C3=B6rg=C3=A5s =E2=82=AC5 and a very long line that is bro=\r\nken here\r\n",
        "Subject: b64\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVqIHDlIGRpZyE=\r\n",
        "Subject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style></head><body><p>Hello&nbsp;<b>Bob</b></p><p>caf&eacute; &amp; more<br>next</p></body></html>\r\n",
        "Subject: alt\r\nContent-Type: multipart/alternative; boundary=xx\r\n\r\n--xx\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--xx\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n--xx--\r\n",
        "Subject: tidy\n\nline one   \n\n\n\nline two\n-- \nAlice, CEO\n",
        "Subject: o\r\nX-EMG-Option-Priority: 1\r\nx-emg-option-ValidityPeriod: 3600\r\n folded\r\nX-Other: no\r\n\r\nbody\r\n",
    ]);
    out.push(b"Subject: cs\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\x80 \x93quoted\x94\r\n--b--\r\n".to_vec());
    out
}

/// Each case of the importer's test corpus as one input: server.cfg, then `%%% NAME` and
/// each other file of the case (props::emg_import), the expected outputs left out.
fn emg_dirs() -> Vec<Vec<u8>> {
    let corpus = root().join("config/tests/emg_import");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("config/tests/emg_import")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
        .iter()
        .map(|case| {
            let mut input = std::fs::read(case.join("server.cfg")).expect("server.cfg");
            let mut files: Vec<PathBuf> = std::fs::read_dir(case)
                .expect("case dir")
                .map(|e| e.expect("dir entry").path())
                .collect();
            files.sort();
            for f in files {
                let name = f
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                if name == "server.cfg" || name.starts_with("expected") || !f.is_file() {
                    continue;
                }
                input.extend_from_slice(format!("\n%%% {name}\n").as_bytes());
                input.extend_from_slice(&std::fs::read(&f).expect("case file"));
            }
            input
        })
        .collect()
}

/// Every target's seeds.
fn seeds() -> BTreeMap<&'static str, Vec<Vec<u8>>> {
    let toml = tree_files("config", &[".toml"])
        .into_iter()
        .chain(tree_files("config/tests/broken", &[".toml"]))
        .collect::<Vec<_>>();
    let satpool = texts(&[
        "[satpool.mail]\naddresses = [\"46700000100-46700000199\", \"46700000250\"]\nexpire = 604800\nthreaded = false\nton = 1\nnpi = 1\n",
    ]);
    let mapping = tree_files("config/tests/broken", &[".map"])
        .into_iter()
        .chain(texts(&[
            "IN <\n\"a\"   \"d\"\n\"aa\"  \"xx\"\nout<\n\"b\" \"c\" # trailing\n",
        ]))
        .collect();
    let retry = tree_files("config/tests/broken", &[".retry"])
        .into_iter()
        .chain(texts(&[
            "# comment\n\nM*  0x58  0  0  0  5  1\nC0x4 14 10 2 60 0 4 # trailing\n",
            "M4 0x58 0 0 0 5 1\nM* * 0 0 0 60 0\nC* * 1 1 1 0 0\n",
            "M 1 0 0 0 0 0\nC* 1 0 0x100000000 0 0 0\n",
        ]))
        .collect();
    let blacklist = tree_files("config/tests/broken", &[".blacklist"]);
    let mut m = BTreeMap::new();
    m.insert("smpp_decode", smpp());
    m.insert("smpp_roundtrip", smpp());
    m.insert("mgp_decode", mgp());
    m.insert("mgp_roundtrip", mgp());
    m.insert("http_send", http());
    m.insert("store_record", store_records());
    m.insert("ebe_output", ebe_outputs());
    m.insert("mgp_options", mgp_options());
    m.insert("config_toml", [toml, satpool.clone()].concat());
    // Generated tables: any bytes do; the TOML seeds give it varied ones.
    m.insert("config_satpool", satpool);
    m.insert("config_mapping", mapping);
    m.insert("config_retry", retry);
    m.insert("config_blacklist", blacklist);
    m.insert("emg_import", emg_dirs());
    m.insert("receipt_parse", receipts());
    m.insert("receipt_roundtrip", receipts());
    m.insert("dlrid_normalise", dlr_ids());
    m.insert("gsm_text", gsm_bodies());
    m.insert("gsm_text_roundtrip", gsm_bodies());
    m.insert("gsm_udh", udhs());
    m.insert("concat_reassemble", reassembly_streams());
    m.insert("concat_roundtrip", gsm_bodies());
    m.insert("ucp_decode", ucp());
    m.insert("cimd2_decode", cimd2());
    m.insert("sms_pdu_decode", sms_pdus());
    m.insert("at_responses", at());
    m.insert("smtp_server", smtp_sessions());
    m.insert("smtp_replies", smtp_replies());
    m.insert("mime_read", mails());
    m
}

/// A stable file name for a seed: FNV-1a of its bytes.
fn name(seed: &[u8]) -> String {
    let h = seed.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{h:016x}")
}

#[test]
fn seed_corpus_is_current_and_passes() {
    let dir = root().join("fuzz/seeds");
    let update = std::env::var_os("UPDATE_SEEDS").is_some();
    let all = seeds();
    for t in props::TARGETS {
        assert!(all.contains_key(t.name), "no seeds for target {}", t.name);
    }
    let mut stale = Vec::new();
    for (target, list) in &all {
        let check = props::target(target)
            .unwrap_or_else(|| panic!("seeds for unknown target {target}"))
            .check;
        let tdir = dir.join(target);
        if update {
            let _ = std::fs::remove_dir_all(&tdir);
            std::fs::create_dir_all(&tdir).expect("create seed dir");
        }
        let mut want = Vec::new();
        for seed in list {
            check(seed);
            let file = tdir.join(name(seed));
            if update {
                std::fs::write(&file, seed).expect("write seed");
            } else if std::fs::read(&file).ok().as_deref() != Some(&seed[..]) {
                stale.push(file.display().to_string());
            }
            want.push(name(seed));
        }
        if let Ok(entries) = std::fs::read_dir(&tdir) {
            for e in entries {
                let n = e
                    .expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned();
                if !want.contains(&n) {
                    stale.push(tdir.join(n).display().to_string());
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the seed corpus is out of date (run UPDATE_SEEDS=1 cargo test -p props --test seeds): {stale:?}"
    );
}
