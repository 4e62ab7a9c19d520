//! Nodes sharing one database: this node's lease, the takeover of a dead node's queue, and the
//! list of nodes for operators.
//!
//! A node renews `nodes.lease_until_us` on a connection of its own (so neither commits nor
//! operator reads hold it up). A queued row belongs to its claimant; rows whose claimant's
//! lease ran out (SIGKILL, power loss, a node cut from the database) are claimed by a live
//! node, one statement per batch, `FOR UPDATE SKIP LOCKED` so live nodes never take the same
//! rows. The dead node's row in `nodes` is locked by that statement too: a node restarting
//! registers a new lease on it, so it either waits for the takeover to commit or the takeover
//! sees its new lease and leaves its rows.

use super::read::Reader;
use super::{db_err, Node};
use crate::store::{NodeRow, Spilled, StoreError};
use common::message::MessageId;

/// Rows of a dead node's queue one takeover statement claims.
pub const TAKEOVER_BATCH: i64 = 2_000;

/// A queued row this node claimed from a dead one.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub target: String,
    pub spilled: Spilled,
    /// The dead node was submitting it (maybe sent, not answered): sending it again may
    /// deliver it twice, which SMPP allows.
    pub was_submitting: bool,
    /// The node whose lease ran out.
    pub from_node: i32,
}

/// The lease connection.
pub struct Leases {
    pub(super) conn: Reader,
    pub(super) node: Node,
    lease_us: i64,
}

impl Leases {
    pub fn new(url: String, node: Node, lease: std::time::Duration) -> Leases {
        Leases {
            conn: Reader::new(url, node),
            node,
            lease_us: i64::try_from(lease.as_micros()).unwrap_or(i64::MAX),
        }
    }

    pub fn lease_us(&self) -> i64 {
        self.lease_us
    }

    /// Extend this node's lease from now, noting its load (`queued`: messages in its
    /// in-memory queues); the new expiry (µs since the epoch).
    pub async fn renew(&self, queued: u64) -> Result<i64, StoreError> {
        let until = crate::clock::now_us() + self.lease_us;
        let n = self
            .conn
            .conn()
            .await?
            .execute(
                "UPDATE nodes SET lease_until_us = $2, queued = $3 WHERE nodeid = $1",
                &[
                    &i32::from(self.node.id),
                    &until,
                    &i64::try_from(queued).unwrap_or(i64::MAX),
                ],
            )
            .await
            .map_err(db_err)?;
        if n == 0 {
            return Err(StoreError::Database(format!(
                "node {} has no row in nodes any more",
                self.node.id
            )));
        }
        Ok(until)
    }

    /// Claim up to [`TAKEOVER_BATCH`] queued rows for `targets` whose claimant's lease has run
    /// out, oldest first, in one statement.
    pub async fn take_over(&self, targets: &[String]) -> Result<Vec<Claimed>, StoreError> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .conn
            .conn()
            .await?
            .query(
                "WITH dead AS (
                    SELECT nodeid FROM nodes WHERE lease_until_us < $2 AND nodeid <> $1
                    FOR UPDATE SKIP LOCKED
                 ), picked AS (
                    SELECT id, COALESCE(claim_node, (id / 1000000000000000)::integer) AS was
                    FROM messages
                    WHERE state IN (0, 5) AND target = ANY($3)
                      AND COALESCE(claim_node, (id / 1000000000000000)::integer) IN (SELECT nodeid FROM dead)
                    ORDER BY id LIMIT $4
                    FOR UPDATE SKIP LOCKED
                 )
                 UPDATE messages m SET claim_node = $1 FROM picked WHERE m.id = picked.id
                 RETURNING m.id, m.target, m.state, m.expires_us, picked.was",
                &[
                    &i32::from(self.node.id),
                    &crate::clock::now_us(),
                    &targets,
                    &TAKEOVER_BATCH,
                ],
            )
            .await
            .map_err(db_err)?;
        let mut out: Vec<Claimed> = rows
            .into_iter()
            .map(|r| Claimed {
                target: r.get(1),
                spilled: Spilled {
                    id: r.get::<_, i64>(0) as MessageId,
                    expires_us: r.get(3),
                },
                was_submitting: r.get::<_, i16>(2) == crate::store::MessageState::Submitting as i16,
                from_node: r.get(4),
            })
            .collect();
        out.sort_by_key(|c| c.spilled.id);
        Ok(out)
    }

    /// The queued rows claimed by this node, oldest first: what it sends after its lease
    /// lapsed and was renewed again (those another node took over meanwhile are not).
    pub async fn own_queue(&self) -> Result<Vec<(String, Spilled)>, StoreError> {
        let rows = self
            .conn
            .conn()
            .await?
            .query(
                "SELECT id, target, expires_us FROM messages WHERE state IN (0, 5)
                 AND COALESCE(claim_node, (id / 1000000000000000)::integer) = $1 ORDER BY id",
                &[&i32::from(self.node.id)],
            )
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.get(1),
                    Spilled {
                        id: r.get::<_, i64>(0) as MessageId,
                        expires_us: r.get(2),
                    },
                )
            })
            .collect())
    }

    /// Every node of the database, with the queue each has claimed.
    pub async fn nodes(&self) -> Result<Vec<NodeRow>, StoreError> {
        let rows = self
            .conn
            .conn()
            .await?
            .query(
                "SELECT n.nodeid, n.hostname, n.started_us, n.lease_until_us, n.queued,
                        (SELECT COUNT(*) FROM messages
                          WHERE state IN (0, 5)
                            AND COALESCE(claim_node, (id / 1000000000000000)::integer) = n.nodeid)
                 FROM nodes n ORDER BY n.nodeid",
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|r| NodeRow {
                nodeid: r.get(0),
                hostname: r.get(1),
                started_us: r.get(2),
                lease_until_us: r.get(3),
                queued: r.get(4),
                claimed: r.get(5),
            })
            .collect())
    }
}
