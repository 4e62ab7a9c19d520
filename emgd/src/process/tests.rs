//! The pipelines end to end over real configurations (files and all), without sockets.

use super::masquerade::Masquerade;
use super::pipeline::{self, Context, Note, Processed, Refused};
use super::satpool::SatIndex;
use crate::store::{sqlite::SqliteStore, Store, Write};
use common::message::{Address, Message, MsgType, Origin};
use config::AddressField;

const KEY: &str = "unit-test-masquerade-key";

/// A validated configuration from `text`, with `files` written beside it.
fn config(text: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, config::Config) {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let path = dir.path().join("emg.toml");
    let cfg = config::parse_str(text, &path).unwrap_or_else(|e| panic!("{e}"));
    (dir, cfg)
}

fn message(connector: &str, from: &str, to: &str, text: &str) -> Message {
    Message {
        source: Address::new(from),
        dest: Address::new(to),
        body: text.as_bytes().to_vec(),
        origin: Origin {
            connector: connector.into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn run_in(cfg: &config::Config, sat: &mut SatIndex, m: Message) -> Processed {
    let mq = cfg.general.masquerade_key.as_deref().map(Masquerade::new);
    let ctx = Context {
        config: cfg,
        connector: cfg.connectors.get(&m.origin.connector),
        masquerade: mq.as_ref(),
        now_us: 1_000_000_000_000,
    };
    pipeline::inbound(&ctx, sat, m)
}

fn run_out(cfg: &config::Config, sat: &mut SatIndex, connector: &str, m: &Message) -> Processed {
    let mq = cfg.general.masquerade_key.as_deref().map(Masquerade::new);
    let ctx = Context {
        config: cfg,
        connector: cfg.connectors.get(connector),
        masquerade: mq.as_ref(),
        now_us: 1_000_000_000_000,
    };
    pipeline::outbound(&ctx, sat, m)
}

const SMSC: &str = r#"
masquerade_key = "unit-test-masquerade-key"

[connector.smsc]
type = "outgoing"
protocol = "sim"
mapping = "smsc.map"
replaceprefix = ":+"
replacesourceprefix_in = "+:"
masquerade = true
"#;

const SMSC_MAP: &str =
    "OUT <\n\"a\"\t\"d\"\n\"aa\"\t\"xx\"\n>\nIN <\n\"dd\"\t\"aa\"\n\"d\"\t\"a\"\n>\n";

#[test]
fn out_then_the_reply_in_turns_back() {
    let (_dir, cfg) = config(SMSC, &[("smsc.map", SMSC_MAP)]);
    let mut sat = SatIndex::default();
    let queued = message("smpp-in", "123456", "4670123456", "aabacc");
    let out = run_out(&cfg, &mut sat, "smsc", &queued);
    let masked = Masquerade::new(KEY).mask("123456").unwrap();
    assert_eq!(out.message.source.addr, masked);
    assert_eq!(out.message.dest.addr, "+4670123456");
    assert_eq!(out.message.body, b"ddbdcc");
    assert_eq!(queued.body, b"aabacc", "the queued message is untouched");
    assert_eq!(
        out.notes
            .iter()
            .filter(|n| matches!(n, Note::Rewritten { .. }))
            .count(),
        2
    );
    // Sending the same queued message again (a retry) gives the same copy.
    assert_eq!(
        run_out(&cfg, &mut sat, "smsc", &queued).message,
        out.message
    );

    let reply = message("smsc", "+4670123456", &masked, "re:ddbdcc");
    let back = run_in(&cfg, &mut sat, reply);
    assert!(back.refused.is_none());
    assert_eq!(back.message.dest.addr, "123456");
    assert_eq!(back.message.source.addr, "4670123456");
    assert_eq!(back.message.body, b"re:aabacc");
}

#[test]
fn swedish_numbers_on_receipt() {
    let text = r#"
[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2775"
replaceprefix_in = "+:,00:,0:46"
replacesourceprefix_in = "+:,00:,0:46,:+"
"#;
    let (_dir, cfg) = config(text, &[]);
    let cases = [
        ("+46123456", "46123456", "+46123456"),
        ("46123456", "46123456", "+46123456"),
        ("0046123456", "46123456", "+46123456"),
        ("070123456", "4670123456", "+4670123456"),
    ];
    for (input, dest, source) in cases {
        let m = message("smpp-in", input, input, "hi");
        let p = run_in(&cfg, &mut SatIndex::default(), m);
        assert_eq!(p.message.dest.addr, dest, "{input}");
        assert_eq!(p.message.source.addr, source, "{input}");
    }
}

#[test]
fn remove_require_and_regexp_in_both_directions() {
    let text = r#"
[connector.a]
type = "outgoing"
protocol = "sim"
removeprefix = "+,00"
requireprefix = "46"
regexp_destaddr = "s/^46(0)?/46/"
removesourceprefix_in = "+"
requiresourceprefix_in = "00"
regexp_sourceaddr_in = "s/^00(\\d{3})$/short-$1/"
"#;
    let (_dir, cfg) = config(text, &[]);
    let cases = [
        // dest out: + or 00 removed, 46 required, then 460... becomes 46...
        ("+4670123", "4670123"),
        ("004670123", "4670123"),
        ("70123", "4670123"),
        ("070123", "4670123"),
    ];
    for (input, output) in cases {
        let out = run_out(
            &cfg,
            &mut SatIndex::default(),
            "a",
            &message("x", "1", input, ""),
        );
        assert_eq!(out.message.dest.addr, output, "{input}");
    }
    let cases = [
        ("+123", "short-123"),
        ("1234", "001234"),
        ("00123", "short-123"),
    ];
    for (input, output) in cases {
        let p = run_in(&cfg, &mut SatIndex::default(), message("a", input, "1", ""));
        assert_eq!(p.message.source.addr, output, "{input}");
    }
}

#[test]
fn nothing_configured_changes_nothing() {
    let text = "[connector.a]\ntype = \"outgoing\"\nprotocol = \"sim\"\n";
    let (_dir, cfg) = config(text, &[]);
    assert!(pipeline::outbound_is_noop(&cfg.connectors["a"]));
    let m = message("a", "+4670", "0046", "text");
    assert_eq!(run_out(&cfg, &mut SatIndex::default(), "a", &m).message, m);
    let p = run_in(&cfg, &mut SatIndex::default(), m.clone());
    assert_eq!((p.message, p.notes, p.writes.len()), (m, vec![], 0));
}

const BLACKLISTED: &str = r#"
blacklist = "blacklist.txt"

[satpool.mail]
addresses = ["4670000100-4670000109"]

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2775"
replacesourceprefix_in = "0:46"
replaceprefix_in = "0:46"
satpool_create_in = "mail"
"#;

#[test]
fn blacklist_sees_rewritten_addresses_and_comes_before_sat() {
    let list = "# address\taction\tfield\n\
                4670111\tREJECT\n\
                4670222\tLOG\n\
                4670333\tREJECT\tDESTADDR\n\
                spam@example.com\tREJECT\n";
    let (_dir, cfg) = config(BLACKLISTED, &[("blacklist.txt", list)]);
    let mut sat = SatIndex::default();
    // National 070111 is rewritten to 4670111 first, then refused as a source.
    let p = run_in(&cfg, &mut sat, message("smpp-in", "070111", "4670999", "x"));
    assert_eq!(
        p.refused,
        Some(Refused {
            field: AddressField::Source,
            address: "4670111".into()
        })
    );
    assert!(p.writes.is_empty(), "no SAT entry for a refused message");
    let p = run_in(&cfg, &mut sat, message("smpp-in", "4670999", "070333", "x"));
    assert_eq!(p.refused.map(|r| r.field), Some(AddressField::Dest));
    // LOG lets it through with a note; the source then gets a pool address.
    let p = run_in(
        &cfg,
        &mut sat,
        message("smpp-in", "4670222", "4670999", "x"),
    );
    assert!(p.refused.is_none());
    assert!(p.notes.contains(&Note::Listed {
        field: AddressField::Source,
        address: "4670222".into()
    }));
    assert_eq!(p.message.source.addr, "4670000100");
    // Messages from elsewhere (MGP) meet the blacklist too.
    let p = run_in(
        &cfg,
        &mut sat,
        message("mgp", "spam@example.com", "4670999", "x"),
    );
    assert!(p.refused.is_some());
}

#[test]
fn sat_pool_threads_mail_and_replies() {
    let text = r#"
[satpool.mail]
addresses = ["4670000100-4670000101"]
expire = 3600

[connector.mail-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2775"
satpool_create_in = "mail"

[connector.smsc]
type = "outgoing"
protocol = "sim"
satpool_lookup_in = "mail"

[connector.smsc-out-sat]
type = "outgoing"
protocol = "sim"
satpool_create = "mail"
satpool_lookup = "mail"
"#;
    let (_dir, cfg) = config(text, &[]);
    let mut sat = SatIndex::default();
    let mut from = |who: &str| {
        let mut m = message("mail-in", who, "4670555", "hello");
        m.source.ton = 5;
        m.source.npi = 0;
        run_in(&cfg, &mut sat, m)
    };
    let alice = from("alice@example.com");
    let bob = from("bob@example.com");
    let alice2 = from("alice@example.com");
    assert_eq!(alice.message.source.addr, "4670000100");
    assert_eq!((alice.message.source.ton, alice.message.source.npi), (1, 1));
    assert_eq!(bob.message.source.addr, "4670000101");
    assert_eq!(alice2.message.source.addr, "4670000100");
    assert!(alice.writes.iter().any(
        |w| matches!(w, Write::SatEntry { entry } if entry.original.addr == "alice@example.com")
    ));
    // Replies from the phone to each pool address go back to the right mail address.
    for (pool_addr, who) in [
        ("4670000100", "alice@example.com"),
        ("4670000101", "bob@example.com"),
    ] {
        let reply = run_in(&cfg, &mut sat, message("smsc", "4670555", pool_addr, "re"));
        assert_eq!(reply.message.dest.addr, who);
        assert_eq!((reply.message.dest.ton, reply.message.dest.npi), (5, 0));
    }
    // Another phone replying to a pool address it never got a message from: left alone.
    let stray = run_in(
        &cfg,
        &mut sat,
        message("smsc", "4670666", "4670000100", "re"),
    );
    assert_eq!(stray.message.dest.addr, "4670000100");
    // Delivery reports never touch SAT.
    let mut dlr = message("smsc", "4670555", "4670000100", "");
    dlr.msgtype = MsgType::Dlr;
    assert_eq!(run_in(&cfg, &mut sat, dlr).message.dest.addr, "4670000100");
    // The sending forms act on the copy that leaves.
    let mut sat = SatIndex::default();
    let out = run_out(
        &cfg,
        &mut sat,
        "smsc-out-sat",
        &message("x", "carol@example.com", "4670777", "hi"),
    );
    assert_eq!(out.message.source.addr, "4670000100");
    let back = message("x", "4670777", "4670000100", "re");
    let out = run_out(&cfg, &mut sat, "smsc-out-sat", &back);
    assert_eq!(out.message.dest.addr, "carol@example.com");
}

#[tokio::test]
async fn sat_entries_survive_a_restart() {
    let text = r#"
[satpool.mail]
addresses = ["4670000100"]

[connector.mail-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2775"
satpool_create_in = "mail"
"#;
    let (dir, cfg) = config(text, &[]);
    let pool = &cfg.satpools["mail"];
    let original = Address {
        ton: 5,
        npi: 0,
        addr: "alice@example.com".into(),
    };
    let now = crate::clock::now_us();
    {
        let store = SqliteStore::open(dir.path(), Default::default()).unwrap();
        let mut sat = SatIndex::new(&[]);
        let created = sat.create(pool, &original, "4670555", now);
        store.commit(created.writes).await.unwrap();
        store.close().await.unwrap();
    }
    let store = SqliteStore::open(dir.path(), Default::default()).unwrap();
    let recovered = store.recover().await.unwrap();
    assert_eq!(recovered.sat_entries.len(), 1);
    let sat = SatIndex::new(&recovered.sat_entries);
    assert_eq!(
        sat.lookup("mail", "4670555", "4670000100", now),
        Some(original)
    );
    // Purged rows are gone from the store too.
    store
        .commit(vec![Write::SatPurge {
            before_us: now + 8 * 86_400 * 1_000_000,
        }])
        .await
        .unwrap();
    assert!(store.recover().await.unwrap().sat_entries.is_empty());
    store.close().await.unwrap();
}
