//! Deterministic fuzzing of the SMTP state machines: random, truncated and mutated
//! conversations never panic, every byte the server writes is a well-formed reply, and
//! nothing the peer sends makes either side buffer without bound.

use common::smtp::*;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&[u8]] = &[
    b"EHLO c\r\n",
    b"HELO c\r\n",
    b"MAIL FROM:<a@b.c>\r\n",
    b"MAIL FROM:<> SIZE=100 BODY=8BITMIME\r\n",
    b"RCPT TO:<46701234567@sms.example.com>\r\n",
    b"RCPT TO:<bad@x.y>\r\n",
    b"DATA\r\n",
    b"Subject: x\r\n\r\nhello\r\n",
    b"..dot\r\n",
    b".\r\n",
    b"\n.\n",
    b"\r\n.\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"AUTH PLAIN\r\n",
    b"AUTH LOGIN\r\n",
    b"AGFsaWNlAHB3\r\n",
    b"*\r\n",
    b"STARTTLS\r\n",
    b"QUIT\r\n",
    b"\xff\xfe\x00",
    b"\r",
    b"\n",
];

fn conversation(rng: &mut XorShift) -> Vec<u8> {
    let mut out = Vec::new();
    if rng.below(2) == 0 {
        // A proper transaction first, so the mutations also land inside DATA.
        for &i in &[0, 2, 4, 6, 7, 8, 9] {
            out.extend_from_slice(PIECES[i]);
        }
    }
    for _ in 0..rng.below(40) {
        out.extend_from_slice(PIECES[rng.below(PIECES.len())]);
    }
    // Mutations: flip, insert, delete, and now and then a long run of one byte.
    for _ in 0..rng.below(6) {
        if out.is_empty() {
            break;
        }
        let at = rng.below(out.len());
        match rng.below(4) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out.insert(at, rng.next() as u8),
            2 => {
                out.remove(at);
            }
            _ => {
                let run = vec![rng.next() as u8; rng.below(3000)];
                out.splice(at..at, run);
            }
        }
    }
    out
}

fn assert_replies(bytes: &[u8]) {
    let mut buf = bytes.to_vec();
    while !buf.is_empty() {
        let reply = parse_reply(&mut buf)
            .unwrap_or_else(|e| {
                panic!(
                    "server wrote a bad reply: {e}: {:?}",
                    String::from_utf8_lossy(bytes)
                )
            })
            .unwrap_or_else(|| {
                panic!(
                    "server wrote half a reply: {:?}",
                    String::from_utf8_lossy(bytes)
                )
            });
        assert!((200..600).contains(&reply.code));
    }
}

#[test]
fn the_server_survives_anything() {
    let mut rng = XorShift(0x005e_ed0f_5a7e);
    let mut messages = 0;
    for round in 0..3000 {
        let config = ServerConfig {
            max_message_size: 1 + rng.below(5000) as u64,
            max_line_len: 3 + rng.below(1200),
            max_recipients: 1 + rng.below(4),
            max_commands: 5 + rng.below(50),
            max_errors: 1 + rng.below(20),
            bare_lf: if rng.below(2) == 0 {
                BareLf::Reject
            } else {
                BareLf::Normalize
            },
            lenient_8bit: rng.below(2) == 0,
            tls_available: rng.below(2) == 0,
            tls_required: rng.below(4) == 0,
            auth_available: rng.below(2) == 0,
            auth_required: rng.below(3) == 0,
            auth_without_tls: rng.below(2) == 0,
            ..ServerConfig::default()
        };
        let max_size = config.max_message_size as usize;
        let mut server = Server::new(config);
        let input = conversation(&mut rng);
        let mut written = server.take_output();
        let mut pos = 0;
        while pos < input.len() {
            let n = 1 + rng.below(200);
            let end = (pos + n).min(input.len());
            if server.wants_input() {
                server.feed(&input[pos..end]);
                pos = end;
            }
            while let Some(ev) = server.poll() {
                match ev {
                    Event::Message { content, .. } => {
                        assert!(content.len() <= max_size + 2, "round {round}");
                        messages += 1;
                    }
                    Event::StartTls => server.tls_started(),
                    Event::Close => {}
                    _ => {}
                }
                match rng.below(6) {
                    0 => server.reject(Reply::new(451, Enhanced(4, 3, 0), "no")),
                    _ => server.accept(Some("ok")),
                }
            }
            if !server.wants_input() && server.phase() != Phase::Deciding {
                // Closed, or a full pipeline buffer that processing could not drain.
                assert!(matches!(
                    server.phase(),
                    Phase::Closed | Phase::Command | Phase::Data
                ));
                if server.phase() == Phase::Closed {
                    break;
                }
            }
            written.extend(server.take_output());
        }
        written.extend(server.take_output());
        assert_replies(&written);
    }
    assert!(
        messages > 50,
        "the fuzz loop should reach DATA now and then ({messages})"
    );
}

#[test]
fn the_client_survives_any_server() {
    let mut rng = XorShift(0x00c1_1e47);
    let replies: &[&[u8]] = &[
        b"220 hi\r\n",
        b"250-mx\r\n250-PIPELINING\r\n250-SIZE 100\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
        b"250 ok\r\n",
        b"334 \r\n",
        b"235 ok\r\n",
        b"354 go\r\n",
        b"421 bye\r\n",
        b"451 later\r\n",
        b"550 no\r\n",
        b"250-a\r\n251 b\r\n",
        b"hello\r\n",
        b"\xff\r\n",
    ];
    for _ in 0..3000 {
        let mut client = Client::new(ClientConfig {
            ehlo_name: "e".into(),
            starttls: match rng.below(3) {
                0 => TlsMode::Never,
                1 => TlsMode::Opportunistic,
                _ => TlsMode::Required,
            },
            auth: (rng.below(2) == 0).then(|| ("u".into(), "p".into())),
        });
        for _ in 0..rng.below(30) {
            let mut r = replies[rng.below(replies.len())].to_vec();
            if rng.below(5) == 0 && !r.is_empty() {
                let at = rng.below(r.len());
                r[at] ^= 1 << rng.below(8);
            }
            client.feed(&r);
            while let Some(ev) = client.poll() {
                if ev == ClientEvent::StartTls {
                    client.tls_started();
                }
            }
            if client.is_ready() {
                let _ = client.send(Outgoing {
                    from: "a@b".into(),
                    recipients: vec!["1@s".into(), "2@s".into()],
                    content: b"x\r\n.\r\n".to_vec(),
                });
            }
            let _ = client.take_output();
        }
    }
}
