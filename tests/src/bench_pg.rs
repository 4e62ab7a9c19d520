//! Scenario 12: scenario 1 with emgd's store on PostgreSQL (`backend = "postgres"`), on a
//! server the benchmark starts for itself as the tests do (`crate::postgres`), with `fsync` on
//! as shipped. Beside emgd's CPU it reports the server's (the postmaster and every backend,
//! also the ones that ended: their time is in the postmaster's children's times) and its
//! transactions per message (`pg_stat_database.xact_commit` of emgd's database, before and
//! after). Run it with scenario 1 for the SQLite figures of the same run:
//! `bench/run --scenario 1 --scenario 12`.

use crate::bench::{smpp_flow, Plan, Row};
use crate::postgres::PgServer;
use std::time::Duration;
use tokio::runtime::Runtime;

/// CPU seconds of the server: the postmaster's own and its reaped children's, and its live
/// children's.
fn server_cpu(postmaster: u32) -> f64 {
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let fields = |pid: &str| -> Option<Vec<u64>> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after = stat.rsplit_once(')')?.1;
        Some(
            after
                .split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect(),
        )
    };
    let mut total = 0u64;
    if let Some(f) = fields(&postmaster.to_string()) {
        // After ')': ppid at 1, utime 11, stime 12, cutime 13, cstime 14.
        total += f[11] + f[12] + f[13] + f[14];
    }
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Some(f) = fields(&name) {
            if f.get(1) == Some(&u64::from(postmaster)) {
                total += f[11] + f[12];
            }
        }
    }
    total as f64 / ticks
}

fn commits(pg: &PgServer, db: &str) -> anyhow::Result<u64> {
    Ok(pg
        .query(
            "postgres",
            &format!("SELECT xact_commit FROM pg_stat_database WHERE datname = '{db}'"),
        )
        .parse()?)
}

pub fn scenario(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let pg = PgServer::start_durable();
    let db = "emgbench";
    let url = pg.database(db);
    let mut on_pg = plan.clone();
    on_pg.general = format!(
        "backend = \"postgres\"\ndatabase_url = \"{url}\"\n{}",
        plan.general
    );
    let count = plan.count(12);
    // The statistics reach pg_stat_database within a second of each transaction.
    let settle = || std::thread::sleep(Duration::from_millis(1500));
    settle();
    let (cpu_before, xact_before) = (server_cpu(pg.pid()), commits(&pg, db)?);
    let mut row = smpp_flow(&on_pg, rt, 12, None)?;
    settle();
    let (cpu_after, xact_after) = (server_cpu(pg.pid()), commits(&pg, db)?);
    let per_100k = |s: f64| s / count.max(1) as f64 * 100_000.0;
    row.notes = format!(
        "PostgreSQL 15 (fsync on, synchronous_commit on): server CPU s/100k {:.2}, {:.4} transactions per message ({} commits); {}",
        per_100k(cpu_after - cpu_before),
        (xact_after - xact_before) as f64 / count.max(1) as f64,
        xact_after - xact_before,
        row.notes
    );
    Ok(row)
}
