//! A plain MGP client for the tests that look at connector states: one session, logged in as
//! `admin`/`secret` (an `[operator.admin]` the test's configuration defines).

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

/// An MGP session, logged in as admin.
pub struct Mgp {
    w: std::net::TcpStream,
    r: BufReader<std::net::TcpStream>,
    id: u64,
    port: u16,
}

impl Mgp {
    pub fn login(port: u16) -> Mgp {
        // emgd opens MGP just after the connectors' listeners (which the start waits for).
        let deadline = Instant::now() + Duration::from_secs(20);
        let s = loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => panic!("MGP on {port}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut m = Mgp {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
            id: 0,
            port,
        };
        let ok = m.call(r#""op":"login","user":"admin","password":"secret""#);
        assert_eq!(ok["role"], "admin", "{ok}");
        m
    }

    /// One request (`fields` without the id); its `ok` answer.
    pub fn call(&mut self, fields: &str) -> Value {
        self.id += 1;
        writeln!(self.w, "{{\"id\":{},{fields}}}", self.id).unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert!(v["error"].is_null(), "{fields}: {line}");
        v["ok"].clone()
    }

    /// The states of `name`'s instances as the operator sees them: what
    /// `emgclient connectors --json` prints (the binary, not MGP directly).
    pub fn shown_states(&mut self, name: &str) -> Vec<String> {
        let states = super::client::Operator { mgp: self.port }.states(name);
        assert!(!states.is_empty(), "no {name} in emgclient connectors");
        states
    }
}
