//! Mail peers for the SMTP connector tests: python smtplib and swaks as the applications that
//! send mail in, aiosmtpd (tests/peers/smtp_relay.py) as the relay mail goes out to, and a
//! line-by-line SMTP client on a plain socket for the bad-input cases no real client sends.
//! A missing peer fails the test (scripts/test installs them).

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers")
}

/// Polls `f` until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

pub fn wait_port(port: u16) {
    assert!(
        wait_for(Duration::from_secs(30), || TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()),
        "nothing listens on {port}"
    );
}

/// python smtplib sending one mail of `kind` (tests/peers/smtplib_send.py) with `extra`
/// arguments; its JSON report.
pub fn smtplib(port: u16, kind: &str, extra: &[&str]) -> Value {
    let out = Command::new("python3")
        .arg(peers().join("smtplib_send.py"))
        .args(["--port", &port.to_string(), "--kind", kind])
        .args(extra)
        .output()
        .expect("python3 runs (scripts/test installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "smtplib_send.py {kind}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// swaks with `args` against 127.0.0.1:`port`: its exit status and transcript.
pub fn swaks(port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}"), "--timeout", "30"])
        .args(args)
        .output()
        .expect("swaks runs (scripts/test installs the Debian package)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// aiosmtpd as a relay, recording what it takes; stops when dropped.
pub struct MailRelay {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
    events: Arc<Mutex<Vec<Value>>>,
}

impl MailRelay {
    pub fn start(args: &[&str]) -> MailRelay {
        let mut child = Command::new("python3")
            .arg(peers().join("smtp_relay.py"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // aiosmtpd warns on stderr about AUTH without TLS, which the tests want.
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (scripts/test installs aiosmtpd)");
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next()
            .and_then(|l| l.ok())
            .expect("smtp_relay.py printed nothing (is aiosmtpd installed? pip install -r tests/peers/requirements.txt)");
        let ready: Value = serde_json::from_str(&first).unwrap();
        let port = ready["ready"].as_u64().expect("ready line") as u16;
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        MailRelay {
            child,
            _stdin: stdin,
            port,
            events,
        }
    }

    /// Every DATA the relay answered, in order.
    pub fn data(&self) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "data")
            .cloned()
            .collect()
    }

    /// The mails the relay took (answered 250).
    pub fn taken(&self) -> Vec<Value> {
        self.data()
            .into_iter()
            .filter(|e| e["answer"] == 250)
            .collect()
    }
}

/// The content of a data event.
pub fn content(event: &Value) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(event["data"].as_str().unwrap_or_default())
        .unwrap_or_default();
    String::from_utf8_lossy(&raw).into_owned()
}

impl Drop for MailRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SMTP client that writes exactly what it is told, for input no real client sends.
pub struct RawSmtp {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl RawSmtp {
    /// Connects and reads the greeting.
    pub fn connect(port: u16) -> (RawSmtp, String) {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        let mut s = RawSmtp { stream, reader };
        let greeting = s.reply();
        (s, greeting)
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// One reply, all its lines; empty when the server closed the connection.
    pub fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return all,
                Ok(_) => {}
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }

    /// Writes `line` CRLF and reads its reply.
    pub fn command(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// True when the server closed the connection (reads end of file).
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.reader.read(&mut b), Ok(0))
    }
}
