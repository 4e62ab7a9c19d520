//! emgd run in this process for emgclient's end-to-end tests (Cargo gives a package's tests
//! only its own binaries, so emgd runs through `emgd::run_until`: its MGP server, connectors
//! and store are the same code the binary runs).

#![allow(dead_code)] // each test file uses its own part of this

use std::path::Path;
use std::time::{Duration, Instant};

/// A running emgd on its own thread and runtime; stopped (gracefully) on drop.
pub struct InProcess {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl InProcess {
    /// Start emgd on `config` and wait until `port` (its MGP listener) accepts connections.
    pub fn start(config: &Path, port: u16) -> InProcess {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = config.to_path_buf();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(emgd::run_until(&config, |_gw| async move {
                let _ = stopped.await;
            }))
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if thread.is_finished() {
                panic!("emgd stopped at start: {:?}", thread.join());
            }
            assert!(Instant::now() < deadline, "emgd's MGP port never opened");
            std::thread::sleep(Duration::from_millis(20));
        }
        InProcess {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Shut down and insist it went cleanly.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("emgd thread").expect("emgd stops cleanly");
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
