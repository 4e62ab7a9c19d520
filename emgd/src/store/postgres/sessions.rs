//! The sessions bound on each node, published for operators on every node (MGP
//! `connectors` shows each connector's sessions per node): a node rewrites its own rows in
//! `node_sessions` when they change; readers take those of live nodes.

use super::db_err;
use super::lease::Leases;
use crate::store::{NodeSession, StoreError};

/// One bound session as a node publishes it: connector, instance, user, bound since (µs).
pub type Published = (String, u32, Option<String>, i64);

impl Leases {
    /// Replace this node's published sessions with `sessions`.
    pub async fn publish_sessions(&self, sessions: &[Published]) -> Result<(), StoreError> {
        let node = i32::from(self.node.id);
        let connectors: Vec<&str> = sessions.iter().map(|s| s.0.as_str()).collect();
        let instances: Vec<i32> = sessions
            .iter()
            .map(|s| i32::try_from(s.1).unwrap_or(i32::MAX))
            .collect();
        let users: Vec<Option<&str>> = sessions.iter().map(|s| s.2.as_deref()).collect();
        let since: Vec<i64> = sessions.iter().map(|s| s.3).collect();
        let conn = self.conn.conn().await?;
        conn.execute(
            "DELETE FROM node_sessions WHERE nodeid = $1
               AND (connector, instance) NOT IN (SELECT * FROM UNNEST($2::text[], $3::integer[]))",
            &[&node, &connectors, &instances],
        )
        .await
        .map_err(db_err)?;
        conn.execute(
            "INSERT INTO node_sessions (nodeid, connector, instance, usr, since_us)
             SELECT $1, * FROM UNNEST($2::text[], $3::integer[], $4::text[], $5::bigint[])
             ON CONFLICT (nodeid, connector, instance)
             DO UPDATE SET usr = EXCLUDED.usr, since_us = EXCLUDED.since_us",
            &[&node, &connectors, &instances, &users, &since],
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Every live node, with the sessions it published (a node with none: one row without
    /// a connector).
    pub async fn node_sessions(&self) -> Result<Vec<NodeSession>, StoreError> {
        let rows = self
            .conn
            .conn()
            .await?
            .query(
                "SELECT n.nodeid, s.connector, s.usr FROM nodes n
                 LEFT JOIN node_sessions s ON s.nodeid = n.nodeid
                 WHERE n.lease_until_us >= $1 ORDER BY n.nodeid, s.connector, s.instance",
                &[&crate::clock::now_us()],
            )
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|r| NodeSession {
                nodeid: r.get(0),
                connector: r.get(1),
                user: r.get(2),
            })
            .collect())
    }
}
