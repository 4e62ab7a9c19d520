//! MGP on the wire, against the real emgd binary: what a client written in any language sees.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::Setup;
use tests::daemon::free_port;

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Conn {
        // emgd opens its MGP listener after the connectors the harness waits for, so poll.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let s = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if std::time::Instant::now() > deadline => panic!("connect MGP: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }
    fn send(&mut self, line: &str) {
        self.w.write_all(line.as_bytes()).unwrap();
        self.w.write_all(b"\n").unwrap();
    }
    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("a line from emgd");
        l
    }
    fn ask(&mut self, line: &str) -> String {
        self.send(line);
        self.line()
    }
}

fn setup() -> (Setup, u16) {
    let mgp = free_port();
    let s = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "",
        "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n",
    );
    (s, mgp)
}

#[test]
fn login_first_errors_keep_the_session_and_streams_stop() {
    let (setup, mgp) = setup();
    let _d = setup.start();
    let mut c = Conn::open(mgp);
    assert_eq!(
        c.ask(r#"{"id":1,"op":"status"}"#),
        "{\"id\":1,\"error\":{\"code\":\"not_authenticated\",\"message\":\"log in first: the first request must be {\\\"op\\\":\\\"login\\\",...} (or {\\\"op\\\":\\\"login_peer\\\"} on the local socket)\"}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":2,"op":"login","user":"admin","password":"nope"}"#),
        "{\"id\":2,\"error\":{\"code\":\"auth_failed\",\"message\":\"login failed for user admin: wrong user or password\"}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":3,"op":"login","user":"admin","password":"secret"}"#),
        format!(
            "{{\"id\":3,\"ok\":{{\"role\":\"admin\",\"user\":\"admin\",\"version\":\"{}\"}}}}\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert!(c
        .ask("{not json")
        .starts_with("{\"id\":null,\"error\":{\"code\":\"bad_request\",\"message\":\"not JSON: "));
    assert_eq!(
        c.ask(r#"{"id":4,"op":"hold","name":"smsc9"}"#),
        "{\"id\":4,\"error\":{\"code\":\"not_found\",\"message\":\"connector smsc9 does not exist (connectors: sim1, smpp-in)\"}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":5,"op":"hold","name":"sim1"}"#),
        "{\"id\":5,\"ok\":{\"connector\":\"sim1\",\"forceclose\":false,\"hold\":true,\"persisted\":false}}\n"
    );
    // Answers are JSON objects with their keys in alphabetical order.
    // A connector-log stream sees the release it asks for, then stops.
    assert_eq!(
        c.ask(r#"{"id":6,"op":"tail","name":"sim1"}"#),
        "{\"id\":6,\"ok\":{\"stream\":1}}\n"
    );
    c.send(r#"{"id":7,"op":"release","name":"sim1"}"#);
    let mut got = [c.line(), c.line()];
    got.sort();
    assert_eq!(
        got[0],
        "{\"id\":7,\"ok\":{\"connector\":\"sim1\",\"forceclose\":false,\"hold\":false,\"persisted\":false}}\n"
    );
    assert!(
        got[1].starts_with("{\"stream\":1,\"event\":{\"type\":\"log\",\"kind\":\"connector\",\"connector\":\"sim1\",\"instance\":0,\"line\":\"")
            && got[1].ends_with(" (0) RELEASE (by operator admin)\"}}\n"),
        "{}",
        got[1]
    );
    assert_eq!(
        c.ask(r#"{"id":8,"op":"stop","stream":1}"#),
        "{\"id\":8,\"ok\":{\"stream\":1}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":9,"op":"stop","stream":1}"#),
        "{\"id\":9,\"error\":{\"code\":\"not_found\",\"message\":\"stream 1 is not open in this session\"}}\n"
    );
}

#[test]
fn an_oversize_line_is_refused_and_the_connection_closed() {
    let (setup, mgp) = setup();
    let _d = setup.start();
    let mut c = Conn::open(mgp);
    let big = vec![b'x'; (1 << 20) + 1];
    let _ = c.w.write_all(&big);
    assert_eq!(
        c.line(),
        "{\"id\":null,\"error\":{\"code\":\"frame_too_large\",\"message\":\"line longer than 1048576 bytes\"}}\n"
    );
    assert_eq!(c.line(), "", "closed");
}

#[test]
fn failed_logins_are_throttled_per_address() {
    let (setup, mgp) = setup();
    let d = setup.start();
    let mut c = Conn::open(mgp);
    for i in 0..5 {
        let a = c.ask(&format!(
            r#"{{"id":{i},"op":"login","user":"admin","password":"x"}}"#
        ));
        assert!(a.contains("wrong user or password"), "{a}");
    }
    let a = c.ask(r#"{"id":9,"op":"login","user":"admin","password":"secret"}"#);
    assert_eq!(
        a,
        "{\"id\":9,\"error\":{\"code\":\"auth_failed\",\"message\":\"too many failed logins from 127.0.0.1; try again in 1 s\"}}\n"
    );
    std::thread::sleep(Duration::from_millis(1100));
    let a = c.ask(r#"{"id":10,"op":"login","user":"admin","password":"secret"}"#);
    assert!(a.contains("\"ok\""), "{a}");
    let log = d.stderr_text();
    assert!(
        log.contains("MGP login failed: wrong user or password") && log.contains("127.0.0.1"),
        "{log}"
    );
}
