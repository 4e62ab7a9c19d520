//! Kannel as a test peer: the real UCP/EMI and CIMD2 client (bearerbox + smsbox, Debian
//! `kannel`) and its CIMD2 SMSC simulator `test_cimd2` (Debian `kannel-extras`).
//!
//! [`Kannel::start`] writes a kannel.conf for the SMSC groups a test gives, starts bearerbox
//! and smsbox on free loopback ports in the test's directory and waits until both listen;
//! [`Kannel::send`] injects a message through smsbox's sendsms; [`Kannel::wait_online`]
//! polls the admin status until an SMSC connection is up. [`TestCimd2`] runs the simulator.
//! A missing binary fails the test with what to install; nothing here skips. Everything is
//! torn down on drop.

use anyhow::{anyhow, bail, Context};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::free_port;

pub const BEARERBOX: &str = "/usr/sbin/bearerbox";
pub const SMSBOX: &str = "/usr/sbin/smsbox";
pub const TEST_CIMD2: &str = "/usr/lib/kannel/test/test_cimd2";
pub const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";

const ADMIN_PASSWORD: &str = "kannel-admin";
pub const SENDSMS_USER: &str = "tester";
pub const SENDSMS_PASSWORD: &str = "foobar";

fn require(path: &str, package: &str) -> anyhow::Result<()> {
    if !Path::new(path).exists() {
        bail!(
            "{path} is missing: install Debian's {package} \
             (DEBIAN_FRONTEND=noninteractive apt-get install -y {package}; scripts/test does)"
        );
    }
    Ok(())
}

/// A running bearerbox and smsbox.
pub struct Kannel {
    bearerbox: Child,
    smsbox: Child,
    dir: PathBuf,
    pub admin_port: u16,
    pub sendsms_port: u16,
}

impl Kannel {
    /// Starts Kannel in `dir` with `smsc_groups` (each a `group = smsc` block, one
    /// `key = value` a line) and MO messages fetched from `mo_url` (smsbox's `get-url`,
    /// with Kannel's escapes such as `%p` sender and `%a` text).
    pub fn start(dir: &Path, smsc_groups: &[String], mo_url: &str) -> anyhow::Result<Kannel> {
        require(BEARERBOX, "kannel")?;
        require(SMSBOX, "kannel")?;
        let (admin_port, box_port, sendsms_port) = (free_port(), free_port(), free_port());
        let log = |name: &str| dir.join(name).display().to_string();
        let mut conf = format!(
            "group = core\n\
             admin-port = {admin_port}\n\
             admin-password = {ADMIN_PASSWORD}\n\
             status-password = {ADMIN_PASSWORD}\n\
             admin-allow-ip = 127.0.0.1\n\
             smsbox-port = {box_port}\n\
             box-allow-ip = 127.0.0.1\n\
             log-file = \"{}\"\n\
             log-level = 0\n\
             access-log = \"{}\"\n\
             dlr-storage = internal\n\n\
             group = smsbox\n\
             bearerbox-host = 127.0.0.1\n\
             bearerbox-port = {box_port}\n\
             sendsms-port = {sendsms_port}\n\
             sendsms-interface = 127.0.0.1\n\
             log-file = \"{}\"\n\
             log-level = 0\n\
             http-request-retry = 5\n\
             http-queue-delay = 1\n\n\
             group = sendsms-user\n\
             username = {SENDSMS_USER}\n\
             password = {SENDSMS_PASSWORD}\n\
             max-messages = 10\n\
             concatenation = true\n\n\
             group = sms-service\n\
             keyword = default\n\
             get-url = \"{mo_url}\"\n\
             max-messages = 0\n\
             catch-all = true\n\n",
            log("bearerbox.log"),
            log("access.log"),
            log("smsbox.log"),
        );
        for g in smsc_groups {
            conf.push_str("group = smsc\n");
            conf.push_str(g.trim());
            conf.push_str("\n\n");
        }
        let conf_path = dir.join("kannel.conf");
        std::fs::write(&conf_path, conf)?;
        let spawn = |bin: &str, out: &str| -> anyhow::Result<Child> {
            let out = std::fs::File::create(dir.join(out))?;
            Command::new(bin)
                .arg(&conf_path)
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out)
                .spawn()
                .with_context(|| format!("cannot start {bin}"))
        };
        let bearerbox = spawn(BEARERBOX, "bearerbox.out")?;
        // smsbox is started once bearerbox listens for it; until then it is a placeholder
        // that Drop can reap.
        let placeholder = Command::new("true").spawn()?;
        let mut k = Kannel {
            bearerbox,
            smsbox: placeholder,
            dir: dir.to_path_buf(),
            admin_port,
            sendsms_port,
        };
        k.wait_port(box_port, "bearerbox")?;
        k.smsbox = spawn(SMSBOX, "smsbox.out")?;
        k.wait_port(sendsms_port, "smsbox")?;
        Ok(k)
    }

    fn wait_port(&mut self, port: u16, what: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            // bearerbox must stay up throughout; smsbox only once it is what we wait for.
            let exited = match self.bearerbox.try_wait()? {
                Some(status) => Some(("bearerbox", status)),
                None if what == "smsbox" => self.smsbox.try_wait()?.map(|s| ("smsbox", s)),
                None => None,
            };
            if let Some((name, status)) = exited {
                bail!(
                    "{name} exited with {status} before listening:\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "{what} did not listen on {port} within 30 s:\n{}",
            self.logs()
        )
    }

    /// The tail of Kannel's logs, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for f in ["bearerbox.out", "bearerbox.log", "smsbox.out", "smsbox.log"] {
            let text = std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            s.push_str(&format!("--- {f}\n{}\n", tail.join("\n")));
        }
        s
    }

    /// Sends a message through sendsms; `dlr` asks for receipts (Kannel's dlr-mask and the
    /// URL smsbox fetches for each, with `%d` the receipt type). Returns Kannel's answer.
    /// `smsc` pins the SMSC connection (Kannel's `smsc` parameter).
    pub fn send(
        &self,
        smsc: Option<&str>,
        from: &str,
        to: &str,
        text: &str,
        dlr: Option<(u32, &str)>,
    ) -> anyhow::Result<String> {
        let mut q = format!(
            "/cgi-bin/sendsms?username={SENDSMS_USER}&password={SENDSMS_PASSWORD}&from={}&to={}&text={}",
            escape(from),
            escape(to),
            escape(text)
        );
        if let Some(id) = smsc {
            q.push_str(&format!("&smsc={}", escape(id)));
        }
        if let Some((mask, url)) = dlr {
            q.push_str(&format!("&dlr-mask={mask}&dlr-url={}", escape(url)));
        }
        // smsbox, busy starting or under load, may close a connection without a word; nothing
        // was taken then, so asking again cannot send the message twice.
        let mut attempt = 0;
        let (status, body) = loop {
            match http_get(self.sendsms_port, &q) {
                Err(e) if attempt < 10 && e.to_string().contains(CLOSED_UNANSWERED) => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(500));
                }
                other => break other?,
            }
        };
        if !(200..300).contains(&status) {
            bail!("sendsms answered {status}: {body}\n{}", self.logs());
        }
        Ok(body)
    }

    /// Kannel's status page (admin `status.txt`).
    pub fn status(&self) -> anyhow::Result<String> {
        self.status_page("status.txt")
    }

    /// One of bearerbox's status pages: `status.txt`, `status.xml`, `status.html`.
    pub fn status_page(&self, page: &str) -> anyhow::Result<String> {
        let (_, body) = http_get(
            self.admin_port,
            &format!("/{page}?password={ADMIN_PASSWORD}"),
        )?;
        Ok(body)
    }

    /// Waits until the status page shows the SMSC `id` online.
    pub fn wait_online(&self, id: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        while Instant::now() < deadline {
            last = self.status().unwrap_or_default();
            if last
                .lines()
                .any(|l| l.contains(&format!("{id}[")) && l.contains("(online"))
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(anyhow!(
            "SMSC {id} not online within {timeout:?}:\n{last}\n{}",
            self.logs()
        ))
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        for child in [&mut self.smsbox, &mut self.bearerbox] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Percent-encodes a query value.
pub fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What [`http_exchange`] says of a server that closed the connection without a byte.
const CLOSED_UNANSWERED: &str = "closed the connection without an answer";

/// A plain HTTP/1.0 GET to 127.0.0.1: status and body.
pub fn http_get(port: u16, path: &str) -> anyhow::Result<(u16, String)> {
    let a = http_exchange(port, path)?;
    Ok((a.status, String::from_utf8_lossy(&a.body).into_owned()))
}

/// An HTTP answer as it came: status line, headers (names lower-case), body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// The first header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.0 GET of `path` to 127.0.0.1:`port`, read to its end.
pub fn http_exchange(port: u16, path: &str) -> anyhow::Result<RawAnswer> {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("connect to 127.0.0.1:{port}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    if raw.is_empty() {
        bail!("127.0.0.1:{port} {CLOSED_UNANSWERED}");
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("no end of headers in {:?}", String::from_utf8_lossy(&raw)))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow!("no HTTP status in {head:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(RawAnswer {
        status_line,
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// Kannel's fake SMSC client (Debian `kannel-extras`): it connects to the port of a
/// `smsc = fake` group of bearerbox and takes every message sent there, so the SMSC is
/// online. It sends no MO of its own (`-m 0`).
pub struct FakeSmsc {
    child: Child,
}

impl FakeSmsc {
    pub fn start(dir: &Path, port: u16) -> anyhow::Result<FakeSmsc> {
        require(FAKESMSC, "kannel-extras")?;
        let out = std::fs::File::create(dir.join(format!("fakesmsc-{port}.out")))?;
        let child = Command::new(FAKESMSC)
            .args(["-H", "127.0.0.1", "-r", &port.to_string(), "-m", "0"])
            .arg("1 2 text unused")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {FAKESMSC}"))?;
        Ok(FakeSmsc { child })
    }
}

impl Drop for FakeSmsc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How test_cimd2 behaves (its own options).
#[derive(Debug, Clone)]
pub struct Cimd2SimOptions {
    pub user: String,
    pub password: String,
    /// 0 listen only (answers nothing), 1 answer requests, 2 deliver a random SMS every few
    /// seconds, 3 deliver random SMSes as fast as they are answered.
    pub activity: u8,
    /// 0 none, 1 random binary garbage, continuously.
    pub spew: u8,
    /// Stop delivering after this many (with activity 2 and 3).
    pub max: Option<u32>,
}

impl Default for Cimd2SimOptions {
    fn default() -> Cimd2SimOptions {
        Cimd2SimOptions {
            user: "foo".into(),
            password: "bar".into(),
            activity: 1,
            spew: 0,
            max: None,
        }
    }
}

/// Kannel's CIMD2 SMSC simulator. It serves exactly one client, logs packet summaries
/// (`RCV: ...` / `SND: ...`) to its output, and exits when that client closes.
pub struct TestCimd2 {
    child: Child,
    pub port: u16,
    output: PathBuf,
}

impl TestCimd2 {
    pub fn start(dir: &Path, o: &Cimd2SimOptions) -> anyhow::Result<TestCimd2> {
        require(TEST_CIMD2, "kannel-extras")?;
        let port = free_port();
        let output = dir.join(format!("test_cimd2-{port}.out"));
        let out = std::fs::File::create(&output)?;
        // Its summaries go through stdio, block-buffered into a file: stdbuf (coreutils) makes
        // them line-buffered so a test can follow them as they happen.
        let mut cmd = Command::new("stdbuf");
        cmd.args(["-oL", TEST_CIMD2]);
        cmd.args([
            "--port",
            &port.to_string(),
            "--user",
            &o.user,
            "--password",
            &o.password,
        ])
        .args([
            "--activity",
            &o.activity.to_string(),
            "--spew",
            &o.spew.to_string(),
        ])
        .args(["--logging", "2"]);
        if let Some(max) = o.max {
            cmd.args(["--max", &max.to_string()]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {TEST_CIMD2}"))?;
        let mut sim = TestCimd2 {
            child,
            port,
            output,
        };
        // It accepts one client only, so readiness is read from the kernel's socket table
        // rather than tried with a connection.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !is_listening(port) {
            if let Some(status) = sim.child.try_wait()? {
                bail!(
                    "test_cimd2 exited with {status} before listening:\n{}",
                    sim.output()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "test_cimd2 did not listen on {port} within 10 s:\n{}",
                    sim.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(sim)
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Waits until its output satisfies `done`.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.output();
            if done(&out) {
                return Ok(out);
            }
            if Instant::now() > deadline {
                bail!("test_cimd2: no {what} within {timeout:?}:\n{out}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for TestCimd2 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether something listens on 127.0.0.1/0.0.0.0 `port` (TCP, IPv4 or IPv6).
pub fn is_listening(port: u16) -> bool {
    let want = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3 && cols[1].ends_with(&want) && cols[3] == "0A"
            })
    })
}
