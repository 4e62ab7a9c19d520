//! The store stays bounded across crashes: finished messages are purged after `retention`
//! and open DLR entries expire after `dlr_expire`, and a SIGKILL in the middle loses no
//! acknowledged message and purges nothing that is not final.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::{Setup, StoreDb};
use tests::daemon::free_port;
use tests::smpp_client::Client;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn demo(setup: &Setup) -> Client {
    Client::bind(setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind as demo")
}

/// Submit `count` messages to `dest` with receipts; SIGKILL process `pid` once `n` are
/// acknowledged (`kill_after = Some((n, pid))`). The ids acknowledged.
async fn load(
    c: &mut Client,
    count: usize,
    dest: &str,
    kill_after: Option<(usize, u32)>,
) -> HashSet<String> {
    let mut pending = kill_after;
    let result = c
        .submit(count, 32, dest, true, |acked| match pending {
            Some((n, pid)) if acked >= n => {
                std::process::Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status()
                    .expect("kill runs");
                pending = None;
                false
            }
            _ => true,
        })
        .await;
    assert!(result.is_ok(), "load ran until the stop: {result:?}");
    c.accepted.iter().cloned().collect()
}

fn count(setup: &Setup, sql: &str) -> i64 {
    setup.db().number(sql)
}

/// Poll `f` until it holds; panic with `what` after `timeout`.
fn wait_for(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// With a two-second retention: every acknowledged message still gets its receipt after a
/// SIGKILL, finished messages (and the reports that went back) are purged, the messages
/// queued behind a connector that never binds are not, and a restart still finds them all,
/// also once the restart horizon has passed them.
#[test]
fn purge_across_sigkill_loses_nothing_acknowledged_and_keeps_what_is_not_final() {
    const QUEUED: usize = 150;
    let dead_port = free_port();
    let setup = Setup::new(
        "retention = 2\nroutelog_retention = 3600",
        "dlr_delay_ms = 20\nwindowsize = 32",
        &format!(
            "[[route]]\nprefix = \"5\"\nto = \"dead\"\n\n[connector.dead]\ntype = \"outgoing\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:{dead_port}\"\nstatic = true\n"
        ),
    );
    let rt = runtime();
    let mut daemon = setup.start();
    let (held, delivered, before) = rt.block_on(async {
        let mut c = demo(&setup).await;
        let held = load(&mut c, QUEUED, "5550001", None).await;
        assert_eq!(held.len(), QUEUED, "the held ones are all accepted");
        c.accepted.clear();
        let delivered = load(&mut c, 4_000, "46701234", Some((1_500, daemon.pid()))).await;
        (held, delivered, c.receipts.clone())
    });
    daemon.kill9();
    assert!(delivered.len() >= 1_500);
    let mut daemon = setup.start();
    rt.block_on(async {
        let mut c = demo(&setup).await;
        let wanted: HashSet<String> = delivered.difference(&before).cloned().collect();
        c.await_receipts(&wanted, Duration::from_secs(120))
            .await
            .unwrap();
        let missing = wanted.difference(&c.receipts).count();
        assert_eq!(missing, 0, "acknowledged messages lost after the SIGKILL");
        // Stay bound: the reports going back (also those of messages stored but not yet
        // acknowledged at the SIGKILL) must be delivered to be final, then purged.
        let deadline = Instant::now() + Duration::from_secs(60);
        let never: HashSet<String> = ["none".to_string()].into();
        while count(
            &setup,
            "SELECT COUNT(*) FROM messages WHERE target != 'dead'",
        ) > 0
        {
            assert!(Instant::now() < deadline, "final rows were not purged");
            // Read (and answer) what comes meanwhile.
            c.await_receipts(&never, Duration::from_millis(200))
                .await
                .unwrap();
        }
        c.unbind().await;
    });
    assert_eq!(
        count(
            &setup,
            "SELECT COUNT(*) FROM messages WHERE target = 'dead' AND state = 0"
        ),
        QUEUED as i64,
        "queued messages are never purged"
    );
    let logged = count(
        &setup,
        "SELECT COUNT(*) FROM routelog WHERE status = 'DELIVRD' AND msgtype = 1",
    );
    assert!(
        logged >= delivered.len() as i64,
        "the routelog keeps every delivered message: {logged} rows for {} acknowledged",
        delivered.len()
    );
    // Once the horizon has passed the held rows, a restart finds them through the list of
    // stragglers instead of the scan. (SQLite's; the PostgreSQL store finds queued rows by
    // an index on their state and has no horizon.)
    if matches!(setup.db(), StoreDb::Sqlite(_)) {
        wait_for(
            Duration::from_secs(60),
            "the horizon to pass the held rows",
            || count(&setup, "SELECT COUNT(*) FROM stragglers") == QUEUED as i64,
        );
    }
    daemon.kill9();
    let mut daemon = setup.start();
    wait_for(Duration::from_secs(30), "the recovery line", || {
        daemon.stderr_text().contains("store recovered")
    });
    let text = daemon.stderr_text();
    let line = text
        .lines()
        .rfind(|l| l.contains("store recovered"))
        .unwrap();
    assert!(
        line.contains(&format!("store recovered: {QUEUED} queued messages")),
        "{line}"
    );
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let ids: HashSet<String> = setup
        .db()
        .rows("SELECT id FROM messages WHERE state = 0")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(ids, held, "the held messages, all of them");
}

/// Receipts that never come: with `dlr_expire = 3` every acknowledged message ends as
/// UNKNOWN and its sender hears so, including the entries opened before a SIGKILL; the
/// entries leave the store.
#[test]
fn dlr_expiry_across_sigkill_reports_unknown_for_every_acknowledged_message() {
    let setup = Setup::new(
        "dlr_expire = 3",
        "dlr_delay_ms = 3600000\nwindowsize = 32",
        "",
    );
    let rt = runtime();
    let mut daemon = setup.start();
    let (acked, before) = rt.block_on(async {
        let mut c = demo(&setup).await;
        let acked = load(&mut c, 1_000, "46701234", Some((600, daemon.pid()))).await;
        (acked, c.receipt_texts.clone())
    });
    daemon.kill9();
    assert!(acked.len() >= 600);
    let opened = Instant::now();
    let mut daemon = setup.start();
    let texts = rt.block_on(async {
        let mut c = demo(&setup).await;
        let wanted: HashSet<String> = acked
            .iter()
            .filter(|id| !before.contains_key(*id))
            .cloned()
            .collect();
        c.await_receipts(&wanted, Duration::from_secs(60))
            .await
            .unwrap();
        let missing = wanted.difference(&c.receipts).count();
        assert_eq!(missing, 0, "every acknowledged message gets its report");
        let mut texts = before;
        texts.extend(std::mem::take(&mut c.receipt_texts));
        c.unbind().await;
        texts
    });
    assert!(
        opened.elapsed() >= Duration::from_secs(2),
        "reports come after dlr_expire, not at once"
    );
    for id in &acked {
        let text = &texts[id];
        assert!(text.contains("stat:UNKNOWN"), "{id}: {text}");
    }
    // Those stored but not acknowledged before the SIGKILL were sent after the restart, so
    // their entries expire a little later.
    wait_for(
        Duration::from_secs(30),
        "every open entry to expire",
        || count(&setup, "SELECT COUNT(*) FROM dlr_open") == 0,
    );
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    // Stored but not yet acknowledged when the SIGKILL came: those are sent and expire too.
    let unknown = count(
        &setup,
        "SELECT COUNT(*) FROM routelog WHERE status = 'UNKNOWN' AND msgtype = 1",
    );
    assert!(unknown >= acked.len() as i64, "{unknown} UNKNOWN rows");
    assert_eq!(
        count(&setup, "SELECT COUNT(*) FROM routelog"),
        unknown,
        "and nothing else"
    );
    let log = setup.log("connector.sim1");
    assert!(log.contains("DLR EXPIRED (info="), "{log}");
}
