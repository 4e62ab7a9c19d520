//! Launchers for the python peers in tests/peers (http_sink.py, http_provider.py) and the
//! small waits the HTTP tests share. A missing python fails the test loudly.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers")
}

/// A child process killed when dropped.
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn python(script: &str, args: &[String], port: u16) -> Peer {
    let child = Command::new("python3")
        .arg(peers().join(script))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 runs (scripts/test installs it)");
    let p = Peer(child);
    wait_port(port);
    p
}

/// The HTTP receiver (tests/peers/http_sink.py) on `port`, recording into `out`, failing the
/// first `fail_first` requests with 500.
pub fn sink(port: u16, out: &Path, fail_first: u32) -> Peer {
    let args = vec![
        "--port".to_string(),
        port.to_string(),
        "--out".into(),
        out.display().to_string(),
        "--fail-first".into(),
        fail_first.to_string(),
    ];
    python("http_sink.py", &args, port)
}

/// The SMS provider's API (tests/peers/http_provider.py) on `port`, posting its DLRs and
/// one MO to our `dlr_port`, recording into `out`.
pub fn provider(port: u16, dlr_port: u16, out: &Path) -> Peer {
    let args = [
        "--port".to_string(),
        port.to_string(),
        "--dlr-url".into(),
        format!("http://127.0.0.1:{dlr_port}/dlr"),
        "--mo-url".into(),
        format!("http://127.0.0.1:{dlr_port}/mo"),
        "--out".into(),
        out.display().to_string(),
    ];
    python("http_provider.py", &args, port)
}

/// One lines-of-JSON file.
pub fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Poll `f` every 100 ms until it holds or `timeout` passes.
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

/// curl `url` with `args`; the answer's status and body.
pub fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-S", "-w", "\n%{http_code}", "--max-time", "20"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "curl {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.trim().parse().unwrap_or(0), body.to_string())
}
