//! Reports waiting for an SMPP client that is not bound are spilled to the store, not held
//! in memory: emgd keeps a window of each user's reports in memory and the rest as ids, reads
//! more as the client's sessions take them, in order, and finds them again after a crash.
//!
//! Clients: python smpplib (bound as transmitter to submit, as receiver to collect), and,
//! for the 100,000 messages of the memory bound, emgload's engine (`tests::load`: windowed
//! sessions; smpplib writes every submit before reading an answer, too slow for that many).
//! The SMSC is emgd's `sim` connector, its receipts delayed or sent at once.
//!
//! Needs python3 with smpplib (scripts/test installs it).

mod support;

use std::time::{Duration, Instant};
use support::Setup;

fn store_count(setup: &Setup, sql: &str) -> i64 {
    setup.db().number(sql)
}

fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    f()
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// (target, state, count) of every message in the store, for failure messages.
fn by_state(setup: &Setup) -> Vec<(String, i64, i64)> {
    setup
        .db()
        .rows("SELECT target, state, COUNT(*) FROM messages GROUP BY target, state")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap(), r[2].parse().unwrap()))
        .collect()
}

const QUEUED_REPORTS: &str = "SELECT COUNT(*) FROM messages WHERE target = 'smpp-in' AND state = 0";

/// The bound: 100,000 reports for a client that submitted with receipts as a
/// transmitter and never binds a receiver (the sim's receipts come at once, so only the
/// reports pile up, not open entries) keep emgd under 200 MB resident the whole time, and
/// then expire from the queue after `dlr_expire`. `EMG_BACKLOG_COUNT` runs it with another
/// count, to compare.
#[test]
fn a_hundred_thousand_reports_for_a_client_that_never_binds_stay_in_bounded_memory_and_expire() {
    let count: usize = std::env::var("EMG_BACKLOG_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    const BOUND_KB: u64 = 200 * 1024;
    const EXPIRE: u64 = 90;
    let setup = Setup::new(&format!("dlr_expire = {EXPIRE}"), "", "");
    let daemon = setup.start();
    let pid = daemon.pid();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(
                    status_kb(pid, "VmRSS"),
                    std::sync::atomic::Ordering::Relaxed,
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let started = Instant::now();
    let load = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(tests::load::run(tests::load::Args {
            port: setup.smpp_port,
            count,
            sessions: 4,
            window: 64,
            dlr: true,
            // Takes no reports: they wait for a receiver of the user, which never binds.
            transmitter: true,
            timeout: Duration::from_secs(300),
            ..Default::default()
        }));
    let load = load.expect("the load ran");
    assert_eq!(load.accepted, count, "{load:?}");
    let submitted_in = started.elapsed();
    let rss_submitted = status_kb(pid, "VmRSS");
    // The reports queue up for the client, then expire from its queue.
    let expired = "SELECT COUNT(*) FROM messages WHERE target = 'smpp-in' AND state = 3";
    let deadline = Instant::now() + Duration::from_secs(EXPIRE * 2 + 240);
    let (mut most_queued, mut rss_then) = (0, 0);
    while store_count(&setup, expired) < count as i64 && Instant::now() < deadline {
        let queued = store_count(&setup, QUEUED_REPORTS);
        if queued > most_queued {
            (most_queued, rss_then) = (queued, status_kb(pid, "VmRSS"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let hwm = status_kb(pid, "VmHWM");
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "{count} reports for an absent client: submitted in {:.1} s (RSS {} MB); at most \
         {most_queued} queued at once, RSS then {} MB; all expired at {:.1} s; peak RSS \
         sampled {} MB, VmHWM {} MB",
        submitted_in.as_secs_f64(),
        rss_submitted / 1024,
        rss_then / 1024,
        started.elapsed().as_secs_f64(),
        peak / 1024,
        hwm / 1024
    );
    assert_eq!(
        store_count(&setup, expired),
        count as i64,
        "every report expired, none went elsewhere: {:?}",
        by_state(&setup)
    );
    assert!(
        most_queued * 2 >= count as i64,
        "a real backlog waited at once: at most {most_queued} were queued"
    );
    assert!(
        hwm < BOUND_KB,
        "peak resident {hwm} kB, bound {BOUND_KB} kB"
    );
    assert_eq!(store_count(&setup, QUEUED_REPORTS), 0);
}

/// Submit `count` with receipts as a transmitter (which takes no reports), then wait until
/// every report is queued for the client.
fn backlog(setup: &Setup, count: usize) -> Vec<String> {
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--bind",
            "transmitter",
            "--count",
            &count.to_string(),
            "--timeout",
            "120",
        ],
    );
    let accepted: Vec<String> = report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), count, "{report}");
    assert!(
        wait_for(Duration::from_secs(60), || store_count(
            setup,
            QUEUED_REPORTS
        ) == count as i64),
        "{} of {count} reports queued",
        store_count(setup, QUEUED_REPORTS)
    );
    accepted
}

/// The ids the queued reports name, in queue order (the order they must leave in).
fn queued_report_ids(setup: &Setup) -> Vec<String> {
    setup
        .db()
        .byte_rows(
            "SELECT id, data FROM messages WHERE target = 'smpp-in' AND state = 0 ORDER BY id",
        )
        .into_iter()
        .map(|r| {
            let id: u64 = String::from_utf8_lossy(&r[0]).parse().expect("an id");
            let m = emgd::store::codec::decode(id, "smpp-in", &r[1]).expect("a report record");
            m.dlr.expect("a report").reported_id
        })
        .collect()
}

/// Bind as a receiver and collect `n` reports.
fn collect(setup: &Setup, n: usize) -> serde_json::Value {
    support::smpplib(
        setup.smpp_port,
        &[
            "--bind",
            "receiver",
            "--count",
            "0",
            "--expect",
            &n.to_string(),
            "--timeout",
            "120",
            "--settle",
            "1",
        ],
    )
}

fn order(report: &serde_json::Value) -> Vec<String> {
    report["receipt_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// How far from its place in `want` the report furthest from it came.
fn max_displacement(got: &[String], want: &[String]) -> usize {
    let at: std::collections::HashMap<&String, usize> =
        want.iter().enumerate().map(|(i, id)| (id, i)).collect();
    got.iter()
        .enumerate()
        .map(|(i, id)| at.get(id).map_or(usize::MAX, |&w| w.abs_diff(i)))
        .max()
        .unwrap_or(0)
}

/// A backlog longer than a user's window in memory reaches the client when it binds: every
/// report, once, in the order they were queued. Reports are queued as their commits end,
/// which under concurrency is not quite the order of their ids (170 places at most in a
/// run here): a report may be some commit batches away from its id's place, never a refill
/// batch (500) away, as it would be were the ids left in the store overtaken by what is in
/// memory or the other way round. After a restart the queue is in id order: that test is
/// exact.
#[test]
fn a_client_that_binds_later_gets_its_whole_backlog_in_order() {
    const COUNT: usize = 2_500;
    let setup = Setup::new("", "", "");
    let _daemon = setup.start();
    let mut accepted = backlog(&setup, COUNT);
    let want = queued_report_ids(&setup);
    let got = order(&collect(&setup, COUNT));
    assert_eq!(got.len(), COUNT, "each report once");
    let off = max_displacement(&got, &want);
    eprintln!("live backlog of {COUNT}: furthest a report came from its id's place: {off}");
    assert!(
        off < emgd::queue::USER_LOADED_MAX / 2,
        "in queue order: one report came {off} places away"
    );
    accepted.sort();
    let mut reported = got;
    reported.sort();
    assert_eq!(reported, accepted, "a report for every message");
    assert!(wait_for(Duration::from_secs(10), || store_count(
        &setup,
        QUEUED_REPORTS
    ) == 0));
}

/// The same across a SIGKILL: the restarted emgd finds the backlog in the store (as ids it
/// sorts into the client's lane as it takes them) and delivers it all, in order.
#[test]
fn a_backlog_survives_a_sigkill_and_leaves_in_order_when_the_client_binds() {
    const COUNT: usize = 2_500;
    let setup = Setup::new("", "", "");
    let mut daemon = setup.start();
    let accepted = backlog(&setup, COUNT);
    let want = queued_report_ids(&setup);
    daemon.kill9();
    let _daemon = setup.start();
    let got = order(&collect(&setup, COUNT));
    assert_eq!(got.len(), COUNT, "each report once");
    assert!(got == want, "in queue order");
    let mut reported = got;
    reported.sort();
    let mut accepted = accepted;
    accepted.sort();
    assert_eq!(reported, accepted);
}
