//! The store's disk fills up under load: emgd's data directory is a small tmpfs the test
//! mounts, a filler file takes its last byte while python smpplib submits. Submits then get
//! the protocol's temporary error (SMPP ESME_RMSGQFUL, HTTP 503 with Retry-After), `/health`
//! answers 503 and `/metrics` counts the failed commits; once the filler is removed emgd
//! commits again by itself (no restart), `/health` is 200 again, and every message that was
//! acknowledged reaches the npm `smpp` SMSC.
//!
//! The data directory also turns read-only (ext4 on a loop device, `errors=remount-ro`, after a
//! file-system error) under load: the same temporary errors, then the recovery of emgd(8)
//! STORE FAULTS, and nothing acknowledged is lost.
//!
//! Mounting needs root: the tests run as root here and in CI, and a test that cannot mount
//! fails (it never skips).
//!
//! Over ~600 lines on purpose: every store-fault scenario (disk full, read-only, corruption,
//! the start-time check) in one file beside the load and health helpers they share.
//!
//! SQLite only, by nature: every test here is about the SQLite file itself (its disk filling,
//! its corruption and the sqlite3 recovery steps of emgd(8), the start-time quick_check), so
//! scripts/test does not run this suite again with `EMG_TEST_BACKEND=postgres`.

mod support;

use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::loop_ext4::LoopExt4;
use support::peers::{curl, wait_for};
use support::smsc::{texts, Smsc};
use support::{smpplib, Setup};
use tests::daemon::free_port;

const ESME_RMSGQFUL: u64 = 0x14;

/// A tmpfs of `megabytes` on `dir`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, megabytes: u32) -> Tmpfs {
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "this test mounts a tmpfs and must run as root (it does here and in CI)"
        );
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}M"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mount -t tmpfs on {} failed",
            dir.display()
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Write zeros to `path` until the file system has no byte left.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&chunk) {
            assert_eq!(
                e.raw_os_error(),
                Some(28),
                "filling failed with {e}, not ENOSPC"
            );
            break;
        }
    }
    // The last partial chunk too.
    let _ = f.write_all(&[0u8; 512]);
    let _ = f.sync_all();
}

fn metric(port: u16, name: &str) -> f64 {
    let (_, body) = curl(&format!("http://127.0.0.1:{port}/metrics"), &[]);
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics:\n{body}"))
}

fn health(port: u16) -> (u16, String) {
    curl(&format!("http://127.0.0.1:{port}/health"), &[])
}

/// What the load saw: texts acknowledged, and the statuses of refused submits.
#[derive(Default)]
struct Seen {
    acked: HashSet<String>,
    refused: Vec<u64>,
}

/// One smpplib run of `count` submits tagged `tag`; records what it saw.
fn submit_batch(port: u16, tag: &str, count: usize, seen: &Mutex<Seen>) {
    let report: Value = smpplib(
        port,
        &[
            "--count",
            &count.to_string(),
            "--dest",
            "5551234",
            "--no-dlr",
            "--tag",
            tag,
            "--timeout",
            "20",
        ],
    );
    let mut seen = seen.lock().unwrap();
    for n in report["accepted_numbers"].as_array().unwrap() {
        seen.acked.insert(format!("{tag}message {n}"));
    }
    for s in report["refused"].as_array().unwrap() {
        seen.refused.push(s.as_u64().unwrap());
    }
}

/// A gateway routing 5* to the npm SMSC on `smsc_port`, with metrics and an HTTP listener:
/// (setup, smsc port, metrics port, HTTP port).
fn fault_setup() -> (Setup, u16, u16, u16) {
    let smsc_port = free_port();
    let (metrics, http) = (free_port(), free_port());
    let extra = format!(
        r#"
[[route]]
prefix = "5"
to = "smsc"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
instances = 1
windowsize = 50

[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
"#
    );
    let setup = Setup::new(
        &format!("metrics_address = \"127.0.0.1:{metrics}\""),
        "",
        &extra,
    );
    (setup, smsc_port, metrics, http)
}

/// An HTTP submit while the store cannot commit: 503 with Retry-After, or (`may_take`: a full
/// disk whose WAL still had room for it) taken.
fn http_refused_temporarily(http: u16, may_take: bool) {
    let (code, head) = curl(
        &format!("http://127.0.0.1:{http}/bin/send?username=demo&password=demo&from=emg&to=5550001&text=full"),
        &["-i"],
    );
    if code == 503 {
        assert!(
            head.to_ascii_lowercase().contains("retry-after:"),
            "HTTP's temporary refusal carries Retry-After:\n{head}"
        );
    } else {
        assert!(
            may_take && (code == 200 || code == 202),
            "HTTP answer while the store cannot commit: {head}"
        );
    }
}

#[test]
fn disk_full_answers_temporary_errors_loses_nothing_and_recovers_without_restart() {
    let (setup, smsc_port, metrics, http) = fault_setup();
    let data = setup.dir.path().join("data");
    let _tmpfs = Tmpfs::mount(&data, 12);
    let state = setup.dir.path().join("smsc.json");
    let smsc = Smsc::start(smsc_port, state, &[]);
    let _daemon = setup.start();
    assert!(
        wait_for(Duration::from_secs(20), || health(metrics).0 == 200),
        "emgd healthy at start"
    );
    assert_eq!(metric(metrics, "emg_store_commit_failures_total"), 0.0);
    assert_eq!(metric(metrics, "emg_store_healthy"), 1.0);

    let seen = Arc::new(Mutex::new(Seen::default()));
    submit_batch(setup.smpp_port, "before ", 50, &seen);
    assert_eq!(
        seen.lock().unwrap().acked.len(),
        50,
        "all taken before the disk fills"
    );

    // Load from smpplib while the disk fills, until the store refuses.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (seen, stop, port) = (seen.clone(), stop.clone(), setup.smpp_port);
        std::thread::spawn(move || {
            let mut batch = 0;
            while !stop.load(Ordering::Relaxed) {
                submit_batch(port, &format!("b{batch} "), 100, &seen);
                batch += 1;
            }
        })
    };
    let filler = data.join("filler");
    fill(&filler);
    let mut went_unhealthy = None;
    let refused = wait_for(Duration::from_secs(120), || {
        if went_unhealthy.is_none() {
            let (code, body) = health(metrics);
            if code == 503 {
                went_unhealthy = Some(body);
            }
        }
        seen.lock().unwrap().refused.contains(&ESME_RMSGQFUL) && went_unhealthy.is_some()
    });
    let statuses: HashSet<u64> = seen.lock().unwrap().refused.iter().copied().collect();
    assert!(
        refused,
        "a full disk refuses submits with ESME_RMSGQFUL and /health goes 503 (refusals seen: {statuses:?}, health: {went_unhealthy:?})"
    );
    assert_eq!(
        statuses,
        HashSet::from([ESME_RMSGQFUL]),
        "every refusal is the temporary ESME_RMSGQFUL, never ESME_RSYSERR (0x08)"
    );
    let why = went_unhealthy.unwrap();
    assert!(
        why.contains("store commits failing"),
        "health says why: {why}"
    );
    assert!(metric(metrics, "emg_store_commit_failures_total") > 0.0);
    assert_eq!(metric(metrics, "emg_store_healthy"), 0.0);

    // HTTP while the disk is still full: 503 with Retry-After.
    http_refused_temporarily(http, true);

    // Space returns: emgd commits again by itself.
    std::fs::remove_file(&filler).unwrap();
    assert!(
        wait_for(Duration::from_secs(60), || health(metrics).0 == 200),
        "/health is 200 again without a restart: {:?}",
        health(metrics)
    );
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    let before_after = seen.lock().unwrap().refused.len();
    submit_batch(setup.smpp_port, "after ", 50, &seen);
    assert_eq!(
        seen.lock().unwrap().refused.len(),
        before_after,
        "nothing refused once space is back"
    );
    assert_eq!(metric(metrics, "emg_store_healthy"), 1.0);

    // Every acknowledged message reaches the SMSC.
    let acked = seen.lock().unwrap().acked.clone();
    let delivered = wait_for(Duration::from_secs(120), || {
        acked.is_subset(&texts(&smsc.state()))
    });
    let missing: Vec<_> = acked
        .difference(&texts(&smsc.state()))
        .take(10)
        .cloned()
        .collect();
    assert!(
        delivered,
        "every acknowledged message delivered ({} acknowledged, missing e.g. {missing:?})",
        acked.len()
    );
}

/// The data directory turns read-only under load, as ext4 does on a disk error
/// (`errors=remount-ro`, with emg.sqlite and its -wal open): submits get the temporary errors,
/// `/health` is 503 and the failures are counted, emgd keeps running; then the recovery of
/// emgd(8) STORE FAULTS (stop emgd, umount, e2fsck -fy, mount, start) and every message that
/// was acknowledged, before or during the fault, reaches the SMSC, which is down until then.
#[test]
fn read_only_data_dir_answers_temporary_errors_and_loses_nothing_after_recovery() {
    let (setup, smsc_port, metrics, http) = fault_setup();
    let data = setup.dir.path().join("data");
    let disk = LoopExt4::mount(&setup.dir.path().join("data.img"), &data, 64);
    // The SMSC is down until the recovery: what emgd acknowledged is still queued in the store
    // when the disk fails, and only the recovered store can deliver it.
    let mut daemon = setup.start();
    assert!(
        wait_for(Duration::from_secs(20), || health(metrics).0 == 200),
        "emgd healthy at start"
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    submit_batch(setup.smpp_port, "before ", 50, &seen);
    assert_eq!(seen.lock().unwrap().acked.len(), 50);
    assert!(
        data.join("emg.sqlite-wal").exists(),
        "the store's -wal file is open when the disk fails"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (seen, stop, port) = (seen.clone(), stop.clone(), setup.smpp_port);
        std::thread::spawn(move || {
            let mut batch = 0;
            while !stop.load(Ordering::Relaxed) {
                submit_batch(port, &format!("b{batch} "), 100, &seen);
                batch += 1;
            }
        })
    };
    // The first loaded batch taken, the next one under way: the disk fails.
    assert!(
        wait_for(Duration::from_secs(60), || seen.lock().unwrap().acked.len()
            >= 150),
        "the first batch under load is taken"
    );
    disk.trigger_error();
    let probe = std::fs::write(data.join("probe"), "x").unwrap_err();
    assert_eq!(
        probe.raw_os_error(),
        Some(30),
        "EROFS after the error: {probe}"
    );
    assert!(
        disk.options().contains("emergency_ro"),
        "{}",
        disk.options()
    );

    let mut went_unhealthy = None;
    let refused = wait_for(Duration::from_secs(120), || {
        if went_unhealthy.is_none() {
            let (code, body) = health(metrics);
            if code == 503 {
                went_unhealthy = Some(body);
            }
        }
        seen.lock().unwrap().refused.contains(&ESME_RMSGQFUL) && went_unhealthy.is_some()
    });
    let statuses: HashSet<u64> = seen.lock().unwrap().refused.iter().copied().collect();
    assert!(
        refused,
        "a read-only data dir refuses submits with ESME_RMSGQFUL and /health goes 503 (refusals seen: {statuses:?}, health: {went_unhealthy:?})\n{}",
        daemon.stderr_text()
    );
    assert_eq!(
        statuses,
        HashSet::from([ESME_RMSGQFUL]),
        "every refusal is the temporary ESME_RMSGQFUL, never ESME_RSYSERR (0x08)"
    );
    let why = went_unhealthy.unwrap();
    assert!(
        why.contains("store commits failing"),
        "health says why: {why}"
    );
    assert!(metric(metrics, "emg_store_commit_failures_total") > 0.0);
    assert_eq!(metric(metrics, "emg_store_healthy"), 0.0);
    http_refused_temporarily(http, false);
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    // Still running and still refusing: nothing crashed.
    assert_eq!(health(metrics).0, 503, "emgd still answers while read-only");
    let during = seen.lock().unwrap().acked.len();
    let log = daemon.stderr_text();
    assert!(
        !log.contains("panicked"),
        "no panic while read-only:\n{log}"
    );
    eprintln!(
        "read-only: {during} acknowledged, {} refused, {} failed commits",
        seen.lock().unwrap().refused.len(),
        metric(metrics, "emg_store_commit_failures_total")
    );

    // Recovery: stop emgd, umount, e2fsck -fy, mount, start.
    // It cannot checkpoint or leave emg.clean: it says so and exits 1, so the next start checks.
    let stopped = daemon.terminate(Duration::from_secs(30));
    let log = daemon.stderr_text();
    assert_eq!(
        stopped.as_ref().ok().and_then(|s| s.code()),
        Some(1),
        "emgd stops on SIGTERM while read-only, exit 1: {stopped:?}\n{log}"
    );
    assert!(
        log.contains("emgd: cannot close the store cleanly: store database error: disk I/O error"),
        "{log}"
    );
    disk.check_and_remount();
    let daemon = setup.start();
    let smsc = Smsc::start(smsc_port, setup.dir.path().join("smsc.json"), &[]);
    assert!(
        wait_for(Duration::from_secs(30), || health(metrics).0 == 200),
        "/health is 200 after the recovery: {:?}",
        health(metrics)
    );
    assert!(
        daemon
            .stderr_text()
            .contains("did not shut down cleanly last time (no emg.clean); running quick_check"),
        "the restart checks the store:\n{}",
        daemon.stderr_text()
    );
    let refusals = seen.lock().unwrap().refused.len();
    submit_batch(setup.smpp_port, "after ", 50, &seen);
    assert_eq!(
        seen.lock().unwrap().refused.len(),
        refusals,
        "nothing refused after recovery"
    );

    let acked = seen.lock().unwrap().acked.clone();
    let delivered = wait_for(Duration::from_secs(120), || {
        acked.is_subset(&texts(&smsc.state()))
    });
    let missing: Vec<_> = acked
        .difference(&texts(&smsc.state()))
        .take(10)
        .cloned()
        .collect();
    assert!(
        delivered,
        "every acknowledged message delivered ({} acknowledged, {during} before the recovery, missing e.g. {missing:?})",
        acked.len()
    );
}

/// STORE RECOVERY in man/emgd.8, in the data directory (Debian's sqlite3 has no `.recover`:
/// `.dump` reads what it can and ends in ROLLBACK after an error, which is made a COMMIT).
const RECOVERY_STEPS: &str = r#"set -e
mv emg.sqlite emg.sqlite.corrupt
rm -f emg.sqlite-wal emg.sqlite-shm
v=$(sqlite3 emg.sqlite.corrupt 'PRAGMA user_version')
sqlite3 emg.sqlite.corrupt .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 emg.sqlite
sqlite3 emg.sqlite "PRAGMA user_version = $v"
"#;

/// A store file with pages overwritten in the middle: emgd refuses to start, naming the file,
/// saying it is corrupt and how to recover, and never starts on an empty queue.
#[test]
fn a_corrupt_store_refuses_to_start_with_the_recovery_steps() {
    // A store with a few hundred messages (delivered by the sim connector, kept for their
    // retention), written by emgd itself.
    let setup = Setup::new("", "", "");
    let mut daemon = setup.start();
    let report = smpplib(
        setup.smpp_port,
        &[
            "--count",
            "600",
            "--no-dlr",
            "--dest",
            "46701234567",
            "--text",
            &"x".repeat(150),
        ],
    );
    assert_eq!(report["accepted"].as_array().unwrap().len(), 600);
    daemon.terminate(Duration::from_secs(30)).unwrap();
    let store = setup.dir.path().join("data/emg.sqlite");
    let pages = std::fs::metadata(&store).unwrap().len() / 4096;
    assert!(pages >= 20, "a store of {pages} pages");

    // A copy, corrupted in the middle, as emgd's whole data directory.
    let copy = Setup::new("", "", "");
    let copied = copy.dir.path().join("data/emg.sqlite");
    std::fs::create_dir_all(copied.parent().unwrap()).unwrap();
    std::fs::copy(&store, &copied).unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&copied)
            .unwrap();
        f.seek(SeekFrom::Start(pages / 2 * 4096)).unwrap();
        f.write_all(&vec![0xA5u8; 4 * 4096]).unwrap();
        f.sync_all().unwrap();
    }
    let out = Command::new(support::EMGD)
        .arg("--config")
        .arg(&copy.config)
        .output()
        .expect("emgd runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "emgd refuses a corrupt store:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}: store is corrupt (", copied.display())),
        "names the file and says it is corrupt:\n{stderr}"
    );
    assert!(
        stderr.contains("STORE RECOVERY") && stderr.contains("emgd(8)"),
        "says where the recovery steps are:\n{stderr}"
    );
    // The steps of emgd(8)'s STORE RECOVERY, as written there: the rows sqlite3 can read go
    // into a new file with the schema version, and emgd starts with them.
    let data = copied.parent().unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(RECOVERY_STEPS)
        .current_dir(data)
        .status()
        .expect("sh and sqlite3 run (scripts/test installs sqlite3)");
    assert!(status.success(), "the recovery steps ran");
    let mut recovered = copy.start();
    let saved: i64 = copy
        .store()
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert!(saved > 0 && saved <= 600, "{saved} of 600 rows saved");
    recovered.terminate(Duration::from_secs(30)).unwrap();
}

/// Overwrites four pages in the middle of the store file at `path`.
fn corrupt_middle(path: &Path) {
    use std::io::{Seek, SeekFrom, Write};
    let pages = std::fs::metadata(path).unwrap().len() / 4096;
    assert!(pages >= 20, "a store of {pages} pages");
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(pages / 2 * 4096)).unwrap();
    f.write_all(&vec![0xA5u8; 4 * 4096]).unwrap();
    f.sync_all().unwrap();
}

/// emgd on `config`, expected to refuse its store: its standard error.
fn refused(config: &Path) -> String {
    let out = Command::new(support::EMGD)
        .arg("--config")
        .arg(config)
        .output()
        .expect("emgd runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "emgd refuses a corrupt store:\n{stderr}"
    );
    assert!(
        stderr.contains("store is corrupt (") && stderr.contains("STORE RECOVERY"),
        "{stderr}"
    );
    stderr
}

/// The start-time quick_check (store_check = "auto", the default) runs only when the last run
/// did not shut down cleanly: a clean stop leaves `emg.clean`, the next start removes it and
/// skips the check; after SIGKILL there is no marker, the check runs, and a corrupt store is
/// still refused. `store_check = "always"` checks after a clean stop too.
#[test]
fn quick_check_runs_after_an_unclean_shutdown_only() {
    let setup = Setup::new("", "", "");
    let data = setup.dir.path().join("data");
    let marker = data.join("emg.clean");
    let skipped = "store check skipped: emgd shut down cleanly last time";
    let ran = "emgd did not shut down cleanly last time (no emg.clean); running quick_check";
    let passed = "store checked: quick_check of ";
    let mut daemon = setup.start();
    let report = smpplib(
        setup.smpp_port,
        &[
            "--count",
            "600",
            "--no-dlr",
            "--dest",
            "46701234567",
            "--text",
            &"x".repeat(150),
        ],
    );
    assert_eq!(report["accepted"].as_array().unwrap().len(), 600);
    // The first start created the store: nothing to check, and no word of an unclean stop.
    let log = daemon.stderr_text();
    assert_eq!(
        log.matches("store check: a new store, nothing to check")
            .count(),
        1,
        "{log}"
    );
    assert_eq!(log.matches(ran).count(), 0, "{log}");
    daemon.terminate(Duration::from_secs(30)).unwrap();
    assert!(marker.exists(), "a clean stop leaves {}", marker.display());

    // Clean restart: no check, and the marker is gone while emgd runs.
    let mut daemon = setup.start();
    let log = daemon.stderr_text();
    assert_eq!(log.matches(skipped).count(), 1, "{log}");
    assert_eq!(
        log.matches(passed).count(),
        0,
        "no start checked yet:\n{log}"
    );
    assert!(!marker.exists(), "the marker is removed at start");
    daemon.kill9();
    assert!(!marker.exists(), "SIGKILL leaves no marker");

    // After SIGKILL: the check runs (and passes).
    let mut daemon = setup.start();
    let log = daemon.stderr_text();
    assert_eq!(log.matches(ran).count(), 1, "{log}");
    assert_eq!(log.matches(passed).count(), 1, "{log}");
    daemon.terminate(Duration::from_secs(30)).unwrap();
    assert!(marker.exists());

    // store_check = "always": a cleanly stopped but corrupt store is refused.
    let always = Setup::new("store_check = \"always\"", "", "");
    let copied = always.dir.path().join("data");
    std::fs::create_dir_all(&copied).unwrap();
    std::fs::copy(data.join("emg.sqlite"), copied.join("emg.sqlite")).unwrap();
    std::fs::copy(&marker, copied.join("emg.clean")).unwrap();
    corrupt_middle(&copied.join("emg.sqlite"));
    let stderr = refused(&always.config);
    assert!(
        stderr.contains("store check: store_check = \"always\"; running quick_check"),
        "{stderr}"
    );

    // SIGKILL, then a corrupt file: still refused at the next start.
    let mut daemon = setup.start();
    daemon.kill9();
    corrupt_middle(&data.join("emg.sqlite"));
    let stderr = refused(&setup.config);
    assert!(stderr.contains(ran), "{stderr}");
}
