//! The SMTP client state machine: against our own server state machine (both ends sans-io,
//! wired together in memory) and against scripted servers that behave as other servers do.

use common::smtp::*;

fn mail(rcpts: &[&str], content: &[u8]) -> Outgoing {
    Outgoing {
        from: "4670000001@sms.example.com".into(),
        recipients: rcpts.iter().map(|s| s.to_string()).collect(),
        content: content.to_vec(),
    }
}

/// Drives a client and a server against each other until neither has anything to say;
/// the server accepts everything whose recipient does not start with "bad".
fn pump(
    client: &mut Client,
    server: &mut Server,
    events: &mut Vec<ClientEvent>,
    got: &mut Vec<(Envelope, Vec<u8>)>,
) {
    for _ in 0..1000 {
        let to_server = client.take_output();
        let to_client = server.take_output();
        if to_server.is_empty() && to_client.is_empty() {
            return;
        }
        server.feed(&to_server);
        while let Some(ev) = server.poll() {
            match ev {
                Event::Rcpt { to } if to.starts_with("bad") => {
                    server.reject(Reply::new(550, Enhanced(5, 1, 1), "No such number"))
                }
                Event::Message { envelope, content } => {
                    got.push((envelope, content));
                    server.accept(None)
                }
                Event::StartTls => server.tls_started(),
                Event::Close => {}
                _ => server.accept(None),
            }
        }
        client.feed(&to_client);
        while let Some(ev) = client.poll() {
            if ev == ClientEvent::StartTls {
                client.tls_started();
            }
            events.push(ev);
        }
    }
    panic!("client and server never went quiet");
}

#[test]
fn relays_through_our_own_server_with_tls_auth_and_pipelining() {
    let mut server = Server::new(ServerConfig {
        tls_available: true,
        auth_available: true,
        auth_required: true,
        ..ServerConfig::default()
    });
    let mut client = Client::new(ClientConfig {
        ehlo_name: "emg.test".into(),
        starttls: TlsMode::Required,
        auth: Some(("emg".into(), "secret".into())),
    });
    let (mut events, mut got) = (Vec::new(), Vec::new());
    pump(&mut client, &mut server, &mut events, &mut got);
    assert_eq!(events, [ClientEvent::StartTls, ClientEvent::Ready]);
    assert!(client.capabilities().pipelining);
    assert_eq!(server.user(), Some("emg"));

    let body = b"Subject: x\r\n\r\n.hidden dot\nbare lf\r\n";
    client
        .send(mail(
            &["46701@sms.example.com", "bad@sms.example.com"],
            body,
        ))
        .unwrap();
    events.clear();
    pump(&mut client, &mut server, &mut events, &mut got);
    let [ClientEvent::Sent(outcome)] = &events[..] else {
        panic!("{events:?}")
    };
    let results = outcome.results();
    assert_eq!(results[0], ("46701@sms.example.com".to_string(), Ok(())));
    assert_eq!(results[1].1.as_ref().unwrap_err().code, 550);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.recipients, ["46701@sms.example.com"]);
    assert_eq!(got[0].1, b"Subject: x\r\n\r\n.hidden dot\r\nbare lf\r\n");
    assert!(got[0].0.tls);

    assert!(client.is_ready());
    client.quit();
    events.clear();
    pump(&mut client, &mut server, &mut events, &mut got);
    assert_eq!(events, [ClientEvent::Closed]);
}

/// A scripted server: answers each command the client wrote with the next canned reply.
fn scripted(
    config: ClientConfig,
    replies: &[&str],
    then: impl FnOnce(&mut Client),
) -> (Vec<String>, Vec<ClientEvent>) {
    let mut client = Client::new(config);
    let mut written = Vec::new();
    let mut events = Vec::new();
    let mut then = Some(then);
    for reply in replies {
        client.feed(reply.as_bytes());
        while let Some(ev) = client.poll() {
            events.push(ev);
        }
        if client.is_ready() {
            if let Some(f) = then.take() {
                f(&mut client);
            }
        }
        let out = String::from_utf8(client.take_output()).unwrap();
        written.extend(out.split_inclusive("\r\n").map(str::to_string));
    }
    (written, events)
}

#[test]
fn without_pipelining_one_command_per_reply_and_helo_fallback() {
    let (written, events) = scripted(
        ClientConfig {
            ehlo_name: "e".into(),
            ..ClientConfig::default()
        },
        &[
            "220 old.example\r\n",
            "502 what?\r\n",
            "250 old.example\r\n",
            "250 ok\r\n",
            "451 4.3.0 try later\r\n",
            "250 ok\r\n",
            "354 go\r\n",
            "250 queued\r\n",
        ],
        |c| c.send(mail(&["1@s", "2@s"], b"hi\r\n.\r\n")).unwrap(),
    );
    assert_eq!(
        written,
        [
            "EHLO e\r\n",
            "HELO e\r\n",
            "MAIL FROM:<4670000001@sms.example.com>\r\n",
            "RCPT TO:<1@s>\r\n",
            "RCPT TO:<2@s>\r\n",
            "DATA\r\n",
            "hi\r\n",
            "..\r\n",
            ".\r\n",
        ]
    );
    let Some(ClientEvent::Sent(o)) = events.last() else {
        panic!("{events:?}")
    };
    let r = o.results();
    assert_eq!(r[0].1.as_ref().unwrap_err().code, 451, "refused at RCPT");
    assert!(r[1].1.is_ok());
}

#[test]
fn refusals_end_the_session_or_the_transaction() {
    let cfg = |auth: bool, tls: TlsMode| ClientConfig {
        ehlo_name: "e".into(),
        starttls: tls,
        auth: auth.then(|| ("u".to_string(), "p".to_string())),
    };
    let ehlo = "250-mx\r\n250-AUTH LOGIN\r\n250 PIPELINING\r\n";
    let table: Vec<(ClientConfig, Vec<&str>, bool)> = vec![
        (cfg(false, TlsMode::Never), vec!["554 go away\r\n"], false),
        (
            cfg(false, TlsMode::Required),
            vec!["220 x\r\n", ehlo],
            false,
        ),
        (
            cfg(true, TlsMode::Never),
            vec![
                "220 x\r\n",
                ehlo,
                "334 VXNlcm5hbWU6\r\n",
                "334 UGFzc3dvcmQ6\r\n",
                "535 5.7.8 no\r\n",
            ],
            false,
        ),
        (
            cfg(true, TlsMode::Never),
            vec!["220 x\r\n", "250-mx\r\n250 AUTH CRAM-MD5\r\n"],
            false,
        ),
        (
            cfg(false, TlsMode::Never),
            vec!["220 x\r\n", ehlo, "421 4.3.2 shutting down\r\n"],
            true,
        ),
        (
            cfg(false, TlsMode::Never),
            vec!["220 x\r\n", "250 ok\r\n", "broken\r\n"],
            true,
        ),
    ];
    for (config, replies, transient) in table {
        let (_, events) = scripted(config, &replies, |c| {
            c.send(mail(&["1@s"], b"x")).unwrap();
        });
        let Some(ClientEvent::Failed(e)) = events.last() else {
            panic!("{replies:?}: {events:?}")
        };
        assert_eq!(e.is_transient(), transient, "{replies:?}: {e}");
    }
    // MAIL refused under pipelining: every reply is read, the outcome says MAIL, RSET follows.
    let (written, events) = scripted(
        cfg(false, TlsMode::Never),
        &[
            "220 x\r\n",
            "250-mx\r\n250 PIPELINING\r\n",
            "550 5.7.1 sender refused\r\n503 no\r\n503 no\r\n",
            "250 reset\r\n",
        ],
        |c| c.send(mail(&["1@s"], b"x")).unwrap(),
    );
    assert_eq!(written.last().unwrap(), "RSET\r\n");
    let Some(ClientEvent::Sent(o)) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(o.results()[0].1.as_ref().unwrap_err().code, 550);
}

#[test]
fn local_refusals_need_no_server() {
    let (_, events) = scripted(
        ClientConfig::default(),
        &["220 x\r\n", "250-mx\r\n250 SIZE 10\r\n"],
        |c| {
            let e = c.send(mail(&["1@s"], &[b'a'; 11])).unwrap_err();
            assert!(matches!(
                e,
                Some(ClientError::TooBig {
                    size: 11,
                    limit: 10
                })
            ));
            let e = c.send(mail(&["1@s"], "\u{e5}".as_bytes())).unwrap_err();
            assert_eq!(e, Some(ClientError::EightBitRefused));
            for bad in ["a@b>\r\nRSET", "a b@c", "<a@b>", "caf\u{e9}@b"] {
                let e = c.send(mail(&[bad], b"x")).unwrap_err();
                assert!(matches!(e, Some(ClientError::BadAddress(_))), "{bad:?}");
            }
            assert!(c.send(mail(&[], b"x")).is_err());
            assert!(c.take_output().is_empty(), "nothing was written");
        },
    );
    assert_eq!(events, [ClientEvent::Ready]);
}
