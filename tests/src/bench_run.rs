//! The benchmark run: each scenario of the plan in order, one table row (or more) each. The
//! SMPP scenarios (1, 2, 4, 5) are in [`crate::bench`], the HTTP one (3) in
//! [`crate::bench_http`], the store size (6) in [`crate::bench_size`] and the side by side
//! with Kannel (7) in [`crate::bench_kannel`], the SMTP connectors (8) in
//! [`crate::bench_smtp`], the soak (13) in [`crate::bench_soak`], the MGP application and EBE
//! ones (14, 15) in [`crate::bench_apps`]; all build on `bench`'s plan, rows and helpers.

use crate::bench::{held_queue, scenario_name, smpp_flow, Plan, Row};
use crate::{bench_http, bench_ucp};
use tokio::runtime::Runtime;

/// Run the plan's scenarios in order; a scenario that fails gives a row saying so.
pub fn run(plan: &Plan, rt: &Runtime, mut progress: impl FnMut(&str)) -> Vec<Row> {
    let mut rows = Vec::new();
    for &n in &plan.scenarios {
        progress(&format!(
            "scenario {n}: {} ({} messages)",
            scenario_name(n),
            plan.count(n)
        ));
        let result = match n {
            1 => smpp_flow(plan, rt, 1, None).map(|r| vec![r]),
            2 => smpp_flow(plan, rt, 2, Some(plan.rate())).map(|r| vec![r]),
            5 => smpp_flow(plan, rt, 5, None).map(|r| vec![r]),
            3 => bench_http::scenario(plan, rt),
            4 => held_queue(plan, rt).map(|r| vec![r]),
            6 => crate::bench_size::scenario(plan, rt).map(|r| vec![r]),
            7 => crate::bench_kannel::scenario(plan, plan.rounds).map(|(mut rows, summary)| {
                if let Some(last) = rows.last_mut() {
                    last.summary = Some(summary);
                }
                rows
            }),
            8 => crate::bench_smtp::scenario(plan, rt),
            9 => bench_ucp::smpp_to_ucp(plan, rt).map(|r| vec![r]),
            10 => bench_ucp::ucp_to_smpp(plan, rt).map(|r| vec![r]),
            11 => crate::bench_gsm::smpp_to_gsm(plan, rt).map(|r| vec![r]),
            12 => crate::bench_pg::scenario(plan, rt).map(|r| vec![r]),
            13 => crate::bench_soak::scenario(plan, rt, plan.soak_minutes).map(|r| vec![r]),
            14 => crate::bench_apps::mgp_app_to_smpp(plan, rt).map(|r| vec![r]),
            15 => crate::bench_apps::smpp_to_ebe(plan, rt).map(|r| vec![r]),
            _ => Err(anyhow::anyhow!("no scenario {n} (1 to 15)")),
        };
        match result {
            Ok(r) => rows.extend(r),
            Err(e) => rows.push(Row {
                unavailable: Some(format!("failed: {e:#}")),
                ..Row::empty(n)
            }),
        }
    }
    compare_plugin_cost(&mut rows);
    rows
}

/// Scenario 5's cost: its throughput and emgd's CPU per message against the scenario 1 row
/// run just before it (or the first one, when none came before). On a shared machine the load
/// changes from minute to minute: interleave them (`--scenario 1 --scenario 5`, repeated) and
/// compare each pair.
fn compare_plugin_cost(rows: &mut [Row]) {
    let first = rows
        .iter()
        .find(|r| r.scenario == 1 && r.unavailable.is_none())
        .map(|r| (r.accepted_per_s, r.cpu_s_per_100k));
    let mut before = None;
    for r in rows.iter_mut() {
        if r.unavailable.is_some() {
            continue;
        }
        if r.scenario == 1 {
            before = Some((r.accepted_per_s, r.cpu_s_per_100k));
            continue;
        }
        let Some((rate, cpu)) = before.or(first).filter(|_| r.scenario == 5) else {
            continue;
        };
        let cost = 100.0 * (1.0 - r.accepted_per_s / rate);
        let cpu_more = 100.0 * (r.cpu_s_per_100k / cpu - 1.0);
        r.notes = format!(
            "plugins cost {cost:.1} % of scenario 1's accepted/s, {cpu_more:+.1} % emgd CPU per message (against the scenario 1 row before it); {}",
            r.notes
        );
    }
}
