//! The SMTP server state machine, conversation by conversation: what a client sends (in one
//! piece, as a pipelining client would, and byte by byte), what the server answers, and what
//! it handed to the session.

use common::smtp::*;

/// The session's side, scripted: accepts everything except what the rules refuse.
#[derive(Default)]
struct Policy {
    refuse_rcpt: Vec<&'static str>,
    password: &'static str,
    full_queue: bool,
}

/// Runs `input` through a server, answering events by `policy`; returns every reply line and
/// the messages accepted.
fn talk(
    config: ServerConfig,
    policy: &Policy,
    input: &[u8],
    chunk: usize,
) -> (String, Vec<(Envelope, Vec<u8>)>) {
    let mut server = Server::new(config);
    let mut out = server.take_output();
    let mut messages = Vec::new();
    let mut closed = false;
    for piece in input.chunks(chunk.max(1)) {
        if closed {
            break;
        }
        server.feed(piece);
        while let Some(ev) = server.poll() {
            match ev {
                Event::Auth(c) => {
                    if c.password == policy.password {
                        server.accept(None)
                    } else {
                        server.reject(Reply::new(535, Enhanced(5, 7, 8), "Authentication failed"))
                    }
                }
                Event::Mail { .. } => server.accept(None),
                Event::Rcpt { to } => {
                    if policy.refuse_rcpt.contains(&to.as_str()) {
                        server.reject(Reply::new(550, Enhanced(5, 1, 1), "No route"))
                    } else {
                        server.accept(None)
                    }
                }
                Event::Message { envelope, content } => {
                    if policy.full_queue {
                        server.reject(Reply::new(452, Enhanced(4, 3, 1), "Queue full"));
                    } else {
                        messages.push((envelope, content));
                        server.accept(Some(&format!("Ok: queued as {}", messages.len())));
                    }
                }
                Event::StartTls => {
                    out.extend(server.take_output());
                    server.tls_started();
                }
                Event::Close => closed = true,
            }
        }
        out.extend(server.take_output());
    }
    (String::from_utf8(out).unwrap(), messages)
}

/// The reply codes, in order.
fn codes(transcript: &str) -> Vec<u16> {
    transcript
        .lines()
        .filter(|l| l.as_bytes().get(3) == Some(&b' '))
        .map(|l| l[..3].parse().unwrap())
        .collect()
}

const SIMPLE: &[u8] = b"EHLO client.example\r\nMAIL FROM:<alice@example.com>\r\n\
RCPT TO:<46701234567@sms.example.com>\r\nDATA\r\nSubject: hi\r\n\r\nHello\r\n..dot\r\n.\r\nQUIT\r\n";

#[test]
fn a_whole_conversation_in_one_read_and_byte_by_byte() {
    for chunk in [SIMPLE.len(), 1, 7] {
        let (t, msgs) = talk(ServerConfig::default(), &Policy::default(), SIMPLE, chunk);
        assert_eq!(
            codes(&t),
            [220, 250, 250, 250, 354, 250, 221],
            "chunk {chunk}: {t}"
        );
        assert!(t.contains("250 2.0.0 Ok: queued as 1\r\n"));
        assert_eq!(msgs.len(), 1);
        let (env, content) = &msgs[0];
        assert_eq!(env.helo, "client.example");
        assert_eq!(env.from, "alice@example.com");
        assert_eq!(env.recipients, ["46701234567@sms.example.com"]);
        assert_eq!(content, b"Subject: hi\r\n\r\nHello\r\n.dot\r\n");
    }
}

#[test]
fn ehlo_lists_the_extensions_it_offers() {
    let config = ServerConfig {
        hostname: "mx.test".into(),
        max_message_size: 5000,
        tls_available: true,
        auth_available: true,
        auth_without_tls: true,
        ..ServerConfig::default()
    };
    let (t, _) = talk(config, &Policy::default(), b"EHLO c\r\n", 100);
    assert_eq!(
        t,
        "220 mx.test ESMTP emg\r\n250-mx.test Hello c\r\n250-PIPELINING\r\n250-SIZE 5000\r\n\
         250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
    );
    let (t, _) = talk(
        ServerConfig::default(),
        &Policy::default(),
        b"HELO c\r\n",
        100,
    );
    assert_eq!(t, "220 localhost ESMTP emg\r\n250 localhost Hello c\r\n");
}

#[test]
fn sequence_errors_and_pipelined_commands_out_of_order() {
    let table: &[(&[u8], &[u16])] = &[
        (b"MAIL FROM:<a@b.c>\r\n", &[220, 503]),
        (b"EHLO c\r\nRCPT TO:<a@b.c>\r\nDATA\r\n", &[220, 250, 503, 503]),
        (
            b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nMAIL FROM:<a@b.c>\r\nDATA\r\n",
            &[220, 250, 250, 503, 554],
        ),
        // Pipelined: RCPT before MAIL in the same packet, then the proper order.
        (
            b"EHLO c\r\nRCPT TO:<x@y.z>\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRSET\r\nDATA\r\n",
            &[220, 250, 503, 250, 250, 250, 503],
        ),
        (b"EHLO c\r\nVRFY x\r\nHELP\r\nNOOP\r\nBDAT 1\r\n", &[220, 250, 252, 214, 250, 502]),
    ];
    for (input, want) in table {
        let (t, msgs) = talk(ServerConfig::default(), &Policy::default(), input, 1000);
        assert_eq!(codes(&t), *want, "{}", String::from_utf8_lossy(input));
        assert!(msgs.is_empty());
    }
}

#[test]
fn refused_recipients_one_by_one_and_data_after_none() {
    let policy = Policy {
        refuse_rcpt: vec!["bad@sms.example.com"],
        ..Policy::default()
    };
    let input = b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bad@sms.example.com>\r\n\
RCPT TO:<46701@sms.example.com>\r\nDATA\r\nhi\r\n.\r\n";
    let (t, msgs) = talk(ServerConfig::default(), &policy, input, 1000);
    assert_eq!(codes(&t), [220, 250, 250, 550, 250, 354, 250]);
    assert_eq!(msgs[0].0.recipients, ["46701@sms.example.com"]);
    // Every recipient refused: DATA gets 554 and the text that follows is read as commands.
    let input =
        b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bad@sms.example.com>\r\nDATA\r\nhi\r\n.\r\n";
    let (t, msgs) = talk(ServerConfig::default(), &policy, input, 1000);
    assert_eq!(codes(&t), [220, 250, 250, 550, 554, 500, 500]);
    assert!(msgs.is_empty());
}

#[test]
fn a_full_queue_is_a_temporary_refusal_and_the_session_goes_on() {
    let policy = Policy {
        full_queue: true,
        ..Policy::default()
    };
    let input = [SIMPLE, b"NOOP\r\n"].concat();
    let (t, msgs) = talk(ServerConfig::default(), &policy, &input, 1000);
    assert_eq!(codes(&t), [220, 250, 250, 250, 354, 452, 221]);
    assert!(msgs.is_empty());
}

#[test]
fn limits_have_their_reply_codes() {
    let strict = ServerConfig {
        bare_lf: BareLf::Reject,
        ..ServerConfig::default()
    };
    let small = ServerConfig {
        max_message_size: 100,
        max_recipients: 2,
        max_commands: 5,
        ..ServerConfig::default()
    };
    let mail = |params: &str, body: &[u8]| {
        [
            format!("EHLO c\r\nMAIL FROM:<a@b.c>{params}\r\nRCPT TO:<1@s.e>\r\nDATA\r\n")
                .as_bytes(),
            body,
            b".\r\n",
        ]
        .concat()
    };
    let table: Vec<(&str, ServerConfig, Vec<u8>, Vec<u16>)> = vec![
        (
            "a 2 GB SIZE is refused at MAIL",
            small.clone(),
            mail(" SIZE=2147483648", b""),
            vec![220, 250, 552, 503, 503, 500],
        ),
        (
            "content over the size without SIZE: read to the end, then 552",
            small.clone(),
            mail("", &b"0123456789\r\n".repeat(20)),
            vec![220, 250, 250, 250, 354, 552],
        ),
        (
            "a line over 1,000 octets in DATA",
            ServerConfig::default(),
            mail("", &[vec![b'x'; 1001], b"\r\n".to_vec()].concat()),
            vec![220, 250, 250, 250, 354, 554],
        ),
        (
            "a command line over 1,000 octets",
            ServerConfig::default(),
            [b"EHLO ".to_vec(), vec![b'x'; 1200], b"\r\nNOOP\r\n".to_vec()].concat(),
            vec![220, 500, 250],
        ),
        (
            "bare LF ending a command",
            strict.clone(),
            b"EHLO c\nNOOP\r\n".to_vec(),
            vec![220, 500, 250],
        ),
        (
            "bare LF inside the content",
            strict.clone(),
            mail("", b"one\ntwo\r\n"),
            vec![220, 250, 250, 250, 354, 554],
        ),
        (
            "bare LF inside the content, normalized by default",
            ServerConfig::default(),
            mail("", b"one\ntwo\r\n"),
            vec![220, 250, 250, 250, 354, 250],
        ),
        (
            "8-bit content without BODY=8BITMIME",
            ServerConfig::default(),
            mail("", "Hej d\u{e5}\r\n".as_bytes()),
            vec![220, 250, 250, 250, 354, 554],
        ),
        (
            "8-bit content with BODY=8BITMIME",
            ServerConfig::default(),
            mail(" BODY=8BITMIME", "Hej d\u{e5}\r\n".as_bytes()),
            vec![220, 250, 250, 250, 354, 250],
        ),
        (
            "too many recipients",
            small.clone(),
            b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<1@s.e>\r\nRCPT TO:<2@s.e>\r\nRCPT TO:<3@s.e>\r\n"
                .to_vec(),
            vec![220, 250, 250, 250, 250, 452],
        ),
        (
            "too many commands without a message",
            small.clone(),
            b"EHLO c\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n".to_vec(),
            vec![220, 250, 250, 250, 250, 250, 421],
        ),
        (
            "too many errors",
            ServerConfig {
                max_errors: 3,
                ..ServerConfig::default()
            },
            b"X\r\nY\r\nZ\r\nNOOP\r\n".to_vec(),
            vec![220, 500, 500, 500, 421],
        ),
    ];
    for (what, config, input, want) in table {
        let (t, _) = talk(config, &Policy::default(), &input, 1000);
        assert_eq!(codes(&t), want, "{what}: {t}");
    }
}

#[test]
fn bare_lf_normalized_when_configured_but_never_ends_data() {
    let config = ServerConfig {
        bare_lf: BareLf::Normalize,
        ..ServerConfig::default()
    };
    let input = b"EHLO c\nMAIL FROM:<a@b.c>\nRCPT TO:<1@s.e>\nDATA\none\n.\nMAIL FROM:<evil@x.y>\n\r\n.\r\n";
    let (t, msgs) = talk(config, &Policy::default(), input, 1000);
    assert_eq!(codes(&t), [220, 250, 250, 250, 354, 250]);
    assert_eq!(msgs[0].1, b"one\r\n.\r\nMAIL FROM:<evil@x.y>\r\n\r\n");
}

#[test]
fn auth_plain_and_login_and_failures() {
    let config = ServerConfig {
        auth_available: true,
        auth_without_tls: true,
        auth_required: true,
        max_auth_failures: 2,
        ..ServerConfig::default()
    };
    let policy = Policy {
        password: "pw",
        ..Policy::default()
    };
    let plain = auth::encode_plain("alice", "pw");
    let input = format!("EHLO c\r\nMAIL FROM:<a@b.c>\r\nAUTH PLAIN {plain}\r\nAUTH PLAIN {plain}\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<1@s.e>\r\nDATA\r\nx\r\n.\r\n");
    let (t, msgs) = talk(config.clone(), &policy, input.as_bytes(), 1000);
    assert_eq!(codes(&t), [220, 250, 530, 235, 503, 250, 250, 354, 250]);
    assert_eq!(msgs[0].0.user.as_deref(), Some("alice"));

    let (u, p) = (auth::encode_text("bob"), auth::encode_text("pw"));
    let input = format!("EHLO c\r\nAUTH LOGIN\r\n{u}\r\n{p}\r\nQUIT\r\n");
    let (t, _) = talk(config.clone(), &policy, input.as_bytes(), 3);
    assert_eq!(codes(&t), [220, 250, 334, 334, 235, 221]);
    assert!(t.contains("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"));

    let input = format!(
        "EHLO c\r\nAUTH PLAIN\r\n*\r\nAUTH PLAIN !!\r\nAUTH CRAM-MD5\r\nAUTH LOGIN {u}\r\n{}\r\nAUTH PLAIN {}\r\nNOOP\r\n",
        auth::encode_text("wrong"),
        auth::encode_plain("alice", "nope")
    );
    let (t, _) = talk(config.clone(), &policy, input.as_bytes(), 1000);
    assert_eq!(
        codes(&t),
        [220, 250, 334, 501, 501, 504, 334, 535, 535, 421]
    );

    // Not offered over plain text unless allowed.
    let strict = ServerConfig {
        auth_without_tls: false,
        ..config
    };
    let input = format!("EHLO c\r\nAUTH PLAIN {plain}\r\n");
    let (t, _) = talk(strict, &policy, input.as_bytes(), 1000);
    assert!(!t.contains("AUTH PLAIN"));
    assert_eq!(codes(&t), [220, 250, 538]);
}

#[test]
fn starttls_discards_what_was_pipelined_behind_it_and_starts_again() {
    let config = ServerConfig {
        tls_available: true,
        tls_required: true,
        auth_available: true,
        ..ServerConfig::default()
    };
    // The injected MAIL after STARTTLS (CVE-2011-0411) is never answered.
    let input = b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nSTARTTLS\r\nMAIL FROM:<evil@x.y>\r\n";
    let (t, msgs) = talk(config.clone(), &Policy::default(), input, 1000);
    assert_eq!(codes(&t), [220, 250, 530, 220]);
    assert!(t.contains("250 STARTTLS\r\n") && !t.contains("AUTH"));
    assert!(msgs.is_empty());

    let mut server = Server::new(config);
    server.feed(b"EHLO c\r\nSTARTTLS\r\n");
    assert_eq!(server.poll(), Some(Event::StartTls));
    server.tls_started();
    server.feed(b"MAIL FROM:<a@b.c>\r\nEHLO c\r\nSTARTTLS\r\n");
    assert_eq!(server.poll(), None);
    let t = String::from_utf8(server.take_output()).unwrap();
    assert_eq!(codes(&t), [220, 250, 220, 503, 250, 503]);
    assert!(t.ends_with(
        "250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n503 5.5.1 TLS already active\r\n"
    ));
}

#[test]
fn decisions_hold_back_later_commands() {
    let mut server = Server::new(ServerConfig::default());
    server.take_output();
    server.feed(b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<1@s.e>\r\nNOOP\r\n");
    assert!(matches!(server.poll(), Some(Event::Mail { .. })));
    assert!(!server.wants_input());
    assert_eq!(server.phase(), Phase::Deciding);
    assert_eq!(server.poll(), None, "nothing more until the decision");
    assert_eq!(
        codes(&String::from_utf8(server.take_output()).unwrap()),
        [250]
    );
    server.accept(None);
    assert!(matches!(server.poll(), Some(Event::Rcpt { .. })));
    server.reject(Reply::new(451, Enhanced(4, 3, 0), "Try later"));
    assert_eq!(server.poll(), None);
    let t = String::from_utf8(server.take_output()).unwrap();
    assert_eq!(codes(&t), [250, 451, 250]);
    assert!(server.wants_input());
}

#[test]
fn timeouts_and_refusals_close_with_421_and_554() {
    let mut server = Server::new(ServerConfig::default());
    server.feed(b"EHLO c\r\nMAIL FROM:<a@b.c>\r\n");
    server.poll();
    server.accept(None);
    server.feed(b"RCPT TO:<1@s.e>\r\nDATA\r\nno end");
    assert!(matches!(server.poll(), Some(Event::Rcpt { .. })));
    server.accept(None);
    assert_eq!(server.poll(), None);
    assert_eq!(server.phase(), Phase::Data);
    server.timed_out();
    assert_eq!(server.poll(), Some(Event::Close));
    assert_eq!(server.phase(), Phase::Closed);
    let t = String::from_utf8(server.take_output()).unwrap();
    assert!(t.ends_with(
        "354 End data with <CR><LF>.<CR><LF>\r\n421 4.4.2 localhost Error: timeout exceeded\r\n"
    ));
    server.feed(b".\r\n");
    assert_eq!(server.poll(), None);

    let mut busy = Server::refusing(
        ServerConfig::default(),
        Reply::new(554, Enhanced(5, 3, 2), "No free instance"),
    );
    assert_eq!(busy.poll(), Some(Event::Close));
    assert_eq!(busy.take_output(), b"554 5.3.2 No free instance\r\n");
}
