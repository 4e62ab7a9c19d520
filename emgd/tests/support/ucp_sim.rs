//! The UCP SMSC simulator (`emgucpsmsc`'s engine, proven against Kannel's EMI client in
//! tests/tests/ucp_smsc_kannel.rs) run inside a test, as the far end of outgoing UCP
//! connectors: its counters read directly, and every frame it read or wrote checked by our
//! codec and Wireshark's UCP dissector.

use common::ucp::{decode_frame, Frame};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::tshark::dissect;
use tests::ucp_smsc::{serve, Options, Stats, UcpSmsc};

pub const WAIT: Duration = Duration::from_secs(60);

/// The simulator on a free port, in a thread of its own, stopped on drop.
pub struct Simulator {
    pub smsc: Arc<UcpSmsc>,
    pub port: u16,
    trace: PathBuf,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Simulator {
    pub fn start(dir: &std::path::Path, mut opts: Options) -> Simulator {
        let trace = dir.join("ucp.trace");
        opts.trace = Some(trace.clone());
        let smsc = UcpSmsc::new(opts).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let engine = smsc.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serve(listener, engine, stopped).await;
            });
        });
        Simulator {
            smsc,
            port,
            trace,
            stop,
            thread: Some(thread),
        }
    }

    pub fn wait_for(&self, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.smsc.stats();
            if done(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "no {what}: {}", s.line());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every frame either side wrote: decoded by our codec and by tshark, checksums valid.
    pub fn check_wire(&self) -> Vec<(char, Frame)> {
        let text = std::fs::read_to_string(&self.trace).unwrap();
        let raw: Vec<(char, Vec<u8>)> = text
            .lines()
            .filter_map(|l| {
                let (dir, hex) = l.split_once(' ')?;
                Some((dir.chars().next()?, common::hex::from_hex(hex)?))
            })
            .collect();
        assert!(!raw.is_empty(), "no frames traced");
        let frames: Vec<(char, Frame)> = raw
            .iter()
            .map(|(dir, b)| {
                let f = decode_frame(b)
                    .unwrap_or_else(|e| panic!("{dir} {}: {e}", String::from_utf8_lossy(b)));
                (*dir, f)
            })
            .collect();
        let wire: Vec<Vec<u8>> = raw.into_iter().map(|(_, b)| b).collect();
        for ((dir, f), d) in frames.iter().zip(dissect("ucp", &wire)) {
            assert!(!d.malformed && d.expert.is_empty(), "{dir} {f:?}: {d:?}");
            assert!(!d.info.contains("invalid"), "{dir} {f:?}: {}", d.info);
            assert_eq!(d.get("ucp.hdr.TRN"), Some(f.trn.to_string().as_str()));
            assert_eq!(d.get("ucp.hdr.OT"), Some(f.ot.to_string().as_str()));
            assert_eq!(
                d.get("ucp.hdr.LEN"),
                Some(f.encoded_len().to_string().as_str())
            );
        }
        frames
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
