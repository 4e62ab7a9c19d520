//! The benchmark run: each scenario of the plan in order, one table row (or more) each. The
//! SMPP scenarios (1, 2, 4) are in [`crate::bench`], the HTTP one (3) in
//! [`crate::bench_http`]; both build on `bench`'s plan, rows and helpers.

use crate::bench::{held_queue, scenario_name, smpp_flow, Plan, Row};
use crate::bench_http;
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
            3 => bench_http::scenario(plan, rt),
            4 => held_queue(plan, rt).map(|r| vec![r]),
            _ => Err(anyhow::anyhow!("no scenario {n} (1 to 4)")),
        };
        match result {
            Ok(r) => rows.extend(r),
            Err(e) => rows.push(Row {
                unavailable: Some(format!("failed: {e:#}")),
                ..Row::empty(n)
            }),
        }
    }
    rows
}
