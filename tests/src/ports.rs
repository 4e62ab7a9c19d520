//! Loopback ports for tests that start servers: free when handed out, and never handed to
//! two tests at once.

use std::net::TcpListener;

/// A loopback port for one test, free now and kept from every other test until this process
/// ends.
///
/// Ports come from below the kernel's ephemeral range (32768-60999 on Linux), so no outgoing
/// connection, and no `bind(0)`, can take a port between the moment we pick it and the moment
/// the daemon listens on it; asking the kernel for port 0 and releasing it lost that race in CI
/// (`cannot listen on 127.0.0.1:37573: Address already in use`). A lock file per port keeps
/// test processes that run at the same time apart; the lock lasts as long as the process.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    static HELD: Mutex<Vec<std::fs::File>> = Mutex::new(Vec::new());
    let dir = std::env::temp_dir().join("emg-test-ports");
    std::fs::create_dir_all(&dir).expect("a directory for test port locks");
    // Each process starts at its own place in the range, so they rarely meet at all.
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % COUNT,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..COUNT {
        let port = (FIRST + NEXT.fetch_add(1, Ordering::SeqCst) % COUNT) as u16;
        let Ok(lock) = std::fs::File::create(dir.join(port.to_string())) else {
            continue;
        };
        if lock.try_lock().is_err() {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            HELD.lock().unwrap_or_else(|e| e.into_inner()).push(lock);
            return port;
        }
    }
    panic!(
        "no free loopback port in {FIRST}-{} (locks in {})",
        FIRST + COUNT - 1,
        dir.display()
    )
}
