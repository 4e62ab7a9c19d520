//! `nodes`: the nodes sharing this node's store, with their leases, claimed queues and load.
//! On a SQLite store the answer is this node alone, without a lease.

use super::server::{ok, OpResult, Server};
use common::mgp::{ErrorBody, NodeInfo, NodeList, Takeovers};

pub async fn list(s: &Server) -> OpResult {
    let cfg = s.gw.config();
    let this = cfg.general.nodeid;
    let rows =
        s.gw.store
            .nodes()
            .await
            .map_err(|e| ErrorBody::internal(format!("cannot read the nodes: {e}")))?;
    let now = crate::clock::now_us();
    let shared = cfg.general.backend == config::Backend::Postgres;
    let nodes = if shared {
        rows.into_iter()
            .map(|r| NodeInfo {
                node_id: u16::try_from(r.nodeid).unwrap_or_default(),
                hostname: r.hostname,
                started_us: r.started_us,
                lease_until_us: r.lease_until_us,
                state: if r.lease_until_us > now {
                    "live"
                } else {
                    "dead"
                }
                .to_string(),
                claimed: u64::try_from(r.claimed).unwrap_or_default(),
                queued: u64::try_from(r.queued).unwrap_or_default(),
            })
            .collect()
    } else {
        let queued = s.gw.total_queued() as u64;
        vec![NodeInfo {
            node_id: this,
            hostname: nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_default(),
            started_us: now - i64::try_from(s.started.elapsed().as_micros()).unwrap_or(0),
            lease_until_us: 0,
            state: "live".to_string(),
            claimed: queued,
            queued,
        }]
    };
    let m = crate::metrics::global();
    let (taken, resent) = m.takeovers();
    ok(NodeList {
        this_node: this,
        shared,
        nodes,
        takeovers: Takeovers {
            taken,
            resent,
            lease_lapses: m.lease_lapses(),
        },
    })
}
