//! Reports and MO for a user bound on another node, and the connector flags every node
//! follows: reads and claims on the lease connection ([`Leases`]).
//!
//! A queued row for a user (a report or MO for an SMPP or MGP client) can leave only through
//! a session of that user. A node where the user has no session releases the row:
//! `claim_node` becomes [`RELEASED`] and `wait_user` names the user. A node where the user is
//! bound claims it, one statement per batch, `FOR UPDATE SKIP LOCKED`, so one node takes
//! each row. Released rows whose validity ended are claimed by any node with the connector
//! configured, whose queue expires them as usual.

use super::db_err;
use super::lease::Leases;
use crate::store::{Spilled, StoreError};
use common::message::MessageId;

/// `claim_node` of a released row: no node (node ids are 0 to 8999).
pub const RELEASED: i32 = -1;

/// Released rows one claim statement takes.
pub const CLAIM_BATCH: i64 = 2_000;

/// A released row this node claimed.
#[derive(Debug, Clone)]
pub struct ClaimedBack {
    pub target: String,
    /// The user it waits for (`None` when it was claimed because it expired).
    pub user: Option<String>,
    pub spilled: Spilled,
}

impl Leases {
    /// Whether another node's lease runs now (only then is releasing worth it).
    pub async fn others_live(&self) -> Result<bool, StoreError> {
        let row = self
            .conn
            .conn()
            .await?
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM nodes WHERE nodeid <> $1 AND lease_until_us >= $2)",
                &[&i32::from(self.node.id), &crate::clock::now_us()],
            )
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    /// Release queued rows this node holds, each for the user named beside it, in one
    /// statement; the ids released (the others are no longer queued here).
    pub async fn release(
        &self,
        rows: &[(MessageId, String)],
    ) -> Result<Vec<MessageId>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id as i64).collect();
        let users: Vec<&str> = rows.iter().map(|(_, u)| u.as_str()).collect();
        let done = self
            .conn
            .conn()
            .await?
            .query(
                "UPDATE messages m SET claim_node = $2, wait_user = r.usr
                 FROM UNNEST($3::bigint[], $4::text[]) AS r(id, usr)
                 WHERE m.id = r.id AND m.state IN (0, 5)
                   AND COALESCE(m.claim_node, (m.id / 1000000000000000)::integer) = $1
                 RETURNING m.id",
                &[&i32::from(self.node.id), &RELEASED, &ids, &users],
            )
            .await
            .map_err(db_err)?;
        Ok(done
            .into_iter()
            .map(|r| r.get::<_, i64>(0) as MessageId)
            .collect())
    }

    /// Claim up to [`CLAIM_BATCH`] released rows, oldest first: those for the (connector,
    /// user) pairs `bound` here, and those of `configured` connectors whose validity ended.
    pub async fn claim_released(
        &self,
        bound: &[(String, String)],
        configured: &[String],
    ) -> Result<Vec<ClaimedBack>, StoreError> {
        let targets: Vec<&str> = bound.iter().map(|(c, _)| c.as_str()).collect();
        let users: Vec<&str> = bound.iter().map(|(_, u)| u.as_str()).collect();
        let rows = self
            .conn
            .conn()
            .await?
            .query(
                "WITH picked AS (
                    SELECT id, wait_user FROM messages
                    WHERE claim_node = $2 AND state IN (0, 5)
                      AND ((target, wait_user) IN (SELECT * FROM UNNEST($3::text[], $4::text[]))
                           OR (target = ANY($5) AND expires_us <= $6))
                    ORDER BY id LIMIT $7
                    FOR UPDATE SKIP LOCKED
                 )
                 UPDATE messages m SET claim_node = $1, wait_user = NULL FROM picked
                 WHERE m.id = picked.id
                 RETURNING m.id, m.target, m.expires_us, picked.wait_user",
                &[
                    &i32::from(self.node.id),
                    &RELEASED,
                    &targets,
                    &users,
                    &configured,
                    &crate::clock::now_us(),
                    &CLAIM_BATCH,
                ],
            )
            .await
            .map_err(db_err)?;
        let now = crate::clock::now_us();
        let mut out: Vec<ClaimedBack> = rows
            .into_iter()
            .map(|r| {
                let expires_us: Option<i64> = r.get(2);
                let user: Option<String> = r.get(3);
                ClaimedBack {
                    target: r.get(1),
                    // An expired row goes to the queue's shared lane, where expiry finds it.
                    user: user.filter(|_| expires_us.is_none_or(|t| t > now)),
                    spilled: Spilled {
                        id: r.get::<_, i64>(0) as MessageId,
                        expires_us,
                    },
                }
            })
            .collect();
        out.sort_by_key(|c| c.spilled.id);
        Ok(out)
    }

    /// The stored connector flags: connector, hold, force-close.
    pub async fn flags(&self) -> Result<Vec<(String, bool, bool)>, StoreError> {
        let rows = self
            .conn
            .conn()
            .await?
            .query(
                "SELECT connector, hold, forceclose FROM connector_flags",
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}
