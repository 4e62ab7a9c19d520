//! Deterministic fuzzing of the AT response parser: random bytes and mutated modem
//! transcripts never panic it, never grow its line buffer past the bound, and the events a
//! transcript gives do not depend on how the bytes were cut into reads.

use common::at::{Event, Parser, MAX_LINE};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const TRANSCRIPT: &[u8] = b"ATZ\r\r\nOK\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n\
\r\n+CPMS: \"SM\",2,30,\"SM\",2,30,\"SM\",2,30\r\n\r\nOK\r\n\
\r\n+CMGL: 1,0,,23\r\n07916407058099F9040B916407214365F700006211323154004004E8329BFD\r\n\
\r\n+CMGL: 2,1,,23\r\n07916407058099F9040B916407214365F700006211323154004004E8329BFD\r\n\r\nOK\r\n\
\r\n> \r\n+CMGS: 17\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",3\r\n\r\n+CDS: 26\r\n\
07916407058099F9062A0B916407214365F7621132315400406211323154554000\r\n\
\r\n+CMS ERROR: 500\r\n\r\n+CME ERROR: 10\r\n\r\n+CSQ: 20,99\r\n\r\nRING\r\n";

fn feed_in_chunks(bytes: &[u8], rng: &mut XorShift) -> Vec<Event> {
    let mut p = Parser::new();
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(64));
        let (chunk, tail) = rest.split_at(n);
        out.extend(p.feed(chunk));
        rest = tail;
    }
    out
}

#[test]
fn the_transcript_parses_the_same_however_it_is_cut() {
    let whole = Parser::new().feed(TRANSCRIPT);
    assert_eq!(
        whole
            .iter()
            .filter(|e| matches!(e, Event::Listed { .. }))
            .count(),
        2
    );
    assert!(
        whole.iter().all(|e| !matches!(e, Event::Malformed { .. })),
        "{whole:?}"
    );
    let mut rng = XorShift(7);
    for _ in 0..500 {
        assert_eq!(feed_in_chunks(TRANSCRIPT, &mut rng), whole);
    }
}

#[test]
fn random_and_mutated_input_never_panics_and_stays_bounded() {
    let mut rng = XorShift(0xDEAD_BEEF_1234_5678);
    let alphabet = b"\r\n>+:,\"0123456789ABCDEF OKERRORCMGLSTI\x1a\xff";
    for round in 0..3_000 {
        let len = rng.below(3_000);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match round % 2 {
                0 => rng.next() as u8,
                _ => alphabet[rng.below(alphabet.len())],
            })
            .collect();
        let mut p = Parser::new();
        for chunk in bytes.chunks(1 + rng.below(100)) {
            for e in p.feed(chunk) {
                if let Event::Info(l) | Event::Malformed { line: l, .. } = &e {
                    assert!(l.len() <= MAX_LINE * 3, "line of {} octets kept", l.len());
                }
            }
        }
    }
    for _ in 0..3_000 {
        let mut m = TRANSCRIPT.to_vec();
        for _ in 0..1 + rng.below(8) {
            let i = rng.below(m.len());
            m[i] = rng.next() as u8;
        }
        let mut p = Parser::new();
        let _ = p.feed(&m);
    }
}
