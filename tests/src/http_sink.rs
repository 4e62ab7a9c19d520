//! The HTTP sink (`peers/http_sink.py`, python's own http.server) as a test peer: where
//! Kannel's smsbox fetches its DLR and MO URLs. Every request it answers is one JSON line.

use anyhow::{bail, Context};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::free_port;

/// One request the sink answered.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
}

pub struct HttpSink {
    child: Child,
    pub port: u16,
    out: PathBuf,
}

impl HttpSink {
    pub fn start(dir: &Path) -> anyhow::Result<HttpSink> {
        let port = free_port();
        let out = dir.join(format!("http-sink-{port}.jsonl"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/http_sink.py");
        let child = Command::new("python3")
            .arg(&script)
            .args(["--port", &port.to_string(), "--out"])
            .arg(&out)
            .stdin(Stdio::null())
            .spawn()
            .context("cannot start python3 (scripts/test installs it)")?;
        let mut sink = HttpSink { child, port, out };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = sink.child.try_wait()? {
                bail!("http_sink.py exited with {status} before listening");
            }
            if Instant::now() > deadline {
                bail!("http_sink.py did not listen on {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(sink)
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<Request> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until at least `n` requests to `path` arrived; returns them.
    pub fn wait_for(
        &self,
        path: &str,
        n: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Request>> {
        let deadline = Instant::now() + timeout;
        loop {
            let got: Vec<Request> = self
                .requests()
                .into_iter()
                .filter(|r| r.path == path)
                .collect();
            if got.len() >= n {
                return Ok(got);
            }
            if Instant::now() > deadline {
                bail!(
                    "{} of {n} requests to {path} within {timeout:?}: {got:?}",
                    got.len()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
