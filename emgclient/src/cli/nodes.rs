//! `nodes`: the nodes sharing the store, their leases, claimed queues and load.

use super::out::Out;
use super::table::Table;
use crate::client::Client;
use crate::exit::Failure;
use crate::format::time_us;
use common::mgp::{NodeList, Op};

pub fn table(l: &NodeList) -> Table {
    let mut t = Table::new(&[
        "NODE",
        "HOST",
        "STATE",
        "LEASE UNTIL",
        "STARTED",
        ">CLAIMED",
        ">QUEUED",
    ]);
    for n in &l.nodes {
        let id = if n.node_id == l.this_node {
            format!("{}*", n.node_id)
        } else {
            n.node_id.to_string()
        };
        t.row(vec![
            id,
            n.hostname.clone(),
            n.state.clone(),
            time_us(n.lease_until_us),
            time_us(n.started_us),
            n.claimed.to_string(),
            n.queued.to_string(),
        ]);
    }
    t
}

/// The answering node's fail-over counts, under the table.
pub fn takeovers(l: &NodeList) -> String {
    let t = &l.takeovers;
    format!(
        "node {} took over {} queued messages of dead nodes since it started, {} of them resent (in flight on the dead node: they may arrive twice); its own lease lapsed {} times",
        l.this_node, t.taken, t.resent, t.lease_lapses
    )
}

pub async fn list(c: &mut Client, out: &Out) -> Result<(), Failure> {
    let (v, l) = c.call_as::<NodeList>(Op::Nodes).await?;
    if !out.raw(&v)? {
        table(&l).print()?;
        if l.shared {
            println!("{}", takeovers(&l));
        }
    }
    Ok(())
}
