//! The HTTP load generator behind `emghttpload` and the benchmark's scenario 3: N keep-alive
//! connections send a bounded number of requests (GET with a query, or POST with a form), each
//! asking for a DLR callback to a small HTTP server run here; it records per-request latency
//! (request -> response, request -> callback).
//!
//! The callback URL of request `n` is `http://127.0.0.1:PORT/dlr/n`, so a callback is matched
//! by its path whatever parameters the gateway adds. HTTP/1.1 is spoken directly over tokio
//! (request line, headers, Content-Length or chunked bodies): enough for a load client and its
//! callback sink, and no extra dependency.

use anyhow::{anyhow, bail, Context};
use bytes::{Buf, BytesMut};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to run.
#[derive(Debug, Clone)]
pub struct Args {
    /// `http://HOST:PORT/path`.
    pub url: String,
    /// POST a form instead of GET with a query.
    pub post: bool,
    /// Parameters, `name` -> template; `{n}` is the request number, `{callback}` its
    /// callback URL.
    pub params: Vec<(String, String)>,
    pub connections: usize,
    pub count: usize,
    /// Wait for a callback per accepted request.
    pub callbacks: bool,
    /// Port of the callback server (0: any).
    pub callback_port: u16,
    pub timeout: Duration,
}

impl Default for Args {
    fn default() -> Args {
        Args {
            url: "http://127.0.0.1:8080/bin/send".into(),
            post: false,
            params: default_params("demo", "demo"),
            connections: 16,
            count: 10_000,
            callbacks: true,
            callback_port: 0,
            timeout: Duration::from_secs(120),
        }
    }
}

/// The parameters EMG's, Kannel's and Jasmin's send APIs share (lower-case names).
pub fn default_params(user: &str, password: &str) -> Vec<(String, String)> {
    [
        ("username", user),
        ("password", password),
        ("from", "4610000"),
        ("to", "46701234567"),
        ("text", "load test message {n}"),
        ("dlr-url", "{callback}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The outcome: totals, wall times and sorted latencies in microseconds.
#[derive(Debug, Default)]
pub struct Report {
    pub accepted: usize,
    pub refused: usize,
    /// Status line and body of the first refusal, to say why.
    pub first_refusal: Option<String>,
    pub callbacks: usize,
    /// From the start until the last response.
    pub resp_seconds: f64,
    /// From the start until the last callback (or response, without callbacks).
    pub seconds: f64,
    pub resp_us: Vec<u64>,
    pub dlr_us: Vec<u64>,
}

struct Target {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> anyhow::Result<Target> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("{url}: only http:// URLs"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().context("port")?),
        None => (authority.to_string(), 80),
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok(Target {
        host,
        port,
        path: path.to_string(),
    })
}

/// application/x-www-form-urlencoded escaping.
pub fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A request awaiting its callback.
struct Inflight {
    sent: Instant,
    /// The sender has read a 2xx response.
    answered: bool,
    /// The callback came before the response was read.
    callback_at: Option<Instant>,
}

/// Shared by the senders and the callback server.
#[derive(Default)]
struct Shared {
    next: AtomicUsize,
    inflight: Mutex<HashMap<usize, Inflight>>,
    dlr_us: Mutex<Vec<u64>>,
    callbacks: AtomicUsize,
}

impl Shared {
    fn matched(&self, sent: Instant, at: Instant) {
        self.dlr_us
            .lock()
            .unwrap()
            .push(at.duration_since(sent).as_micros() as u64);
        self.callbacks.fetch_add(1, Relaxed);
    }

    /// The response to `n` was read: 2xx or not.
    fn answered(&self, n: usize, ok: bool) {
        let mut map = self.inflight.lock().unwrap();
        if !ok {
            map.remove(&n);
            return;
        }
        let Some(e) = map.get_mut(&n) else {
            return;
        };
        match e.callback_at {
            Some(cb) => {
                let sent = e.sent;
                map.remove(&n);
                drop(map);
                self.matched(sent, cb);
            }
            None => e.answered = true,
        }
    }

    /// A callback for `n` arrived at `now`.
    fn callback(&self, n: usize, now: Instant) {
        let mut map = self.inflight.lock().unwrap();
        let Some(e) = map.get_mut(&n) else {
            return;
        };
        if e.answered {
            let sent = e.sent;
            map.remove(&n);
            drop(map);
            self.matched(sent, now);
        } else {
            e.callback_at.get_or_insert(now);
        }
    }
}

/// Run the load and collect the report.
pub async fn run(a: Args) -> anyhow::Result<Report> {
    let target = Arc::new(parse_url(&a.url)?);
    let shared = Arc::new(Shared::default());
    let listener = TcpListener::bind(("127.0.0.1", a.callback_port))
        .await
        .context("cannot listen for callbacks")?;
    let cb_port = listener.local_addr()?.port();
    let server = tokio::spawn(callback_server(listener, shared.clone()));
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + a.timeout;
    let a = Arc::new(a);
    let mut tasks = Vec::new();
    for _ in 0..a.connections.max(1) {
        let (a, t, s) = (a.clone(), target.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::timeout_at(deadline, sender(&a, &t, &s, cb_port, started))
                .await
                .map_err(|_| anyhow!("timed out sending"))?
        }));
    }
    let mut report = Report::default();
    for t in tasks {
        let r = t.await??;
        report.accepted += r.accepted;
        report.refused += r.refused;
        report.resp_us.extend(r.resp_us);
        report.resp_seconds = report.resp_seconds.max(r.last_resp);
        if report.first_refusal.is_none() {
            report.first_refusal = r.first_refusal;
        }
    }
    if a.callbacks {
        loop {
            if shared.callbacks.load(Relaxed) >= report.accepted {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "timed out: {} accepted, {} callbacks",
                    report.accepted,
                    shared.callbacks.load(Relaxed)
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    server.abort();
    report.callbacks = shared.callbacks.load(Relaxed);
    report.dlr_us = std::mem::take(&mut *shared.dlr_us.lock().unwrap());
    report.resp_us.sort_unstable();
    report.dlr_us.sort_unstable();
    Ok(report)
}

#[derive(Default)]
struct SenderResult {
    accepted: usize,
    refused: usize,
    first_refusal: Option<String>,
    resp_us: Vec<u64>,
    /// Seconds from the start to this connection's last response.
    last_resp: f64,
}

/// One keep-alive connection sending requests one after the other.
async fn sender(
    a: &Args,
    t: &Target,
    s: &Shared,
    cb_port: u16,
    started: Instant,
) -> anyhow::Result<SenderResult> {
    let mut r = SenderResult::default();
    let mut conn: Option<(TcpStream, BytesMut)> = None;
    let mut req = Vec::with_capacity(1024);
    loop {
        let n = s.next.fetch_add(1, Relaxed);
        if n >= a.count {
            break;
        }
        let callback = format!("http://127.0.0.1:{cb_port}/dlr/{n}");
        let mut form = String::new();
        for (k, v) in &a.params {
            if !form.is_empty() {
                form.push('&');
            }
            let v = v
                .replace("{n}", &n.to_string())
                .replace("{callback}", &callback);
            form.push_str(&form_escape(k));
            form.push('=');
            form.push_str(&form_escape(&v));
        }
        req.clear();
        if a.post {
            req.extend_from_slice(
                format!(
                    "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
                    t.path, t.host, t.port, form.len()
                )
                .as_bytes(),
            );
        } else {
            let sep = if t.path.contains('?') { '&' } else { '?' };
            req.extend_from_slice(
                format!(
                    "GET {}{sep}{form} HTTP/1.1\r\nHost: {}:{}\r\n\r\n",
                    t.path, t.host, t.port
                )
                .as_bytes(),
            );
        }
        if conn.is_none() {
            let stream = TcpStream::connect((t.host.as_str(), t.port))
                .await
                .with_context(|| format!("cannot connect to {}:{}", t.host, t.port))?;
            stream.set_nodelay(true)?;
            conn = Some((stream, BytesMut::with_capacity(8192)));
        }
        let Some((stream, rbuf)) = conn.as_mut() else {
            unreachable!("connected above");
        };
        let at = Instant::now();
        if a.callbacks {
            s.inflight.lock().unwrap().insert(
                n,
                Inflight {
                    sent: at,
                    answered: false,
                    callback_at: None,
                },
            );
        }
        stream.write_all(&req).await?;
        let resp = read_message(stream, rbuf)
            .await?
            .ok_or_else(|| anyhow!("connection closed by the gateway"))?;
        r.resp_us.push(at.elapsed().as_micros() as u64);
        r.last_resp = started.elapsed().as_secs_f64();
        let status = resp
            .start
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0);
        let ok = (200..300).contains(&status);
        if a.callbacks {
            s.answered(n, ok);
        }
        if ok {
            r.accepted += 1;
        } else {
            r.refused += 1;
            if r.first_refusal.is_none() {
                r.first_refusal = Some(format!(
                    "{} {}",
                    resp.start,
                    String::from_utf8_lossy(&resp.body).trim()
                ));
            }
        }
        if resp.close {
            conn = None;
        }
    }
    Ok(r)
}

/// A request or a response: its first line, whether the peer closes after it, its body.
pub(crate) struct Message {
    pub(crate) start: String,
    close: bool,
    pub(crate) body: Vec<u8>,
}

/// Read one HTTP/1.1 message; `None` when the peer closed before one began.
async fn read_message(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
) -> anyhow::Result<Option<Message>> {
    loop {
        if let Some(m) = parse_message(buf)? {
            return Ok(Some(m));
        }
        if buf.len() > 1 << 20 {
            bail!("HTTP message over 1 MiB");
        }
        if stream.read_buf(buf).await? == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            bail!("connection closed in the middle of an HTTP message");
        }
    }
}

/// Take one complete message from `buf`, or `None` (nothing consumed) when it is incomplete.
pub(crate) fn parse_message(buf: &mut BytesMut) -> anyhow::Result<Option<Message>> {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap_or_default().to_string();
    let (mut length, mut chunked, mut close) = (0usize, false, start.ends_with("HTTP/1.0"));
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = v.parse().context("Content-Length")?,
            "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
            "connection" => close = v.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let body_start = head_end + 4;
    if !chunked {
        if buf.len() < body_start + length {
            return Ok(None);
        }
        buf.advance(body_start);
        let body = buf.split_to(length).to_vec();
        return Ok(Some(Message { start, close, body }));
    }
    // Chunked: walk the chunks without consuming until the last one is in.
    let mut pos = body_start;
    let mut body = Vec::new();
    loop {
        let Some(eol) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(&buf[pos..pos + eol]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .context("chunk size")?;
        pos += eol + 2;
        if size == 0 {
            // Trailers end with an empty line.
            let Some(end) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
                return Ok(None);
            };
            if end != 0 {
                let Some(t) = buf[pos..].windows(4).position(|w| w == b"\r\n\r\n") else {
                    return Ok(None);
                };
                pos += t + 4;
            } else {
                pos += 2;
            }
            buf.advance(pos);
            return Ok(Some(Message { start, close, body }));
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

/// Accept callback connections; each request for `/dlr/N...` counts as N's callback.
async fn callback_server(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut buf = BytesMut::with_capacity(8192);
            while let Ok(Some(req)) = read_message(&mut stream, &mut buf).await {
                let now = Instant::now();
                if let Some(n) = callback_number(&req.start) {
                    shared.callback(n, now);
                }
                let close = req.close;
                let answer =
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK";
                if stream.write_all(answer).await.is_err() || close {
                    break;
                }
            }
        });
    }
}

/// `GET /dlr/123?x=y HTTP/1.1` -> 123.
fn callback_number(start: &str) -> Option<usize> {
    let path = start.split_whitespace().nth(1)?;
    let rest = path.strip_prefix("/dlr/")?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_whole_or_not_at_all() {
        let mut b = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"[..]);
        assert!(parse_message(&mut b).unwrap().is_none());
        b.extend_from_slice(b"loHTTP/1.1");
        let m = parse_message(&mut b).unwrap().unwrap();
        assert_eq!(
            (m.start.as_str(), &m.body[..]),
            ("HTTP/1.1 200 OK", &b"hello"[..])
        );
        assert_eq!(&b[..], b"HTTP/1.1");
        let mut c = BytesMut::from(
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"[..],
        );
        let m = parse_message(&mut c).unwrap().unwrap();
        assert_eq!(&m.body[..], b"abcde");
        assert!(c.is_empty());
    }

    #[test]
    fn callback_paths_and_escaping() {
        assert_eq!(
            callback_number("POST /dlr/42?status=DELIVRD HTTP/1.1"),
            Some(42)
        );
        assert_eq!(callback_number("GET /other HTTP/1.1"), None);
        assert_eq!(form_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
