//! The hot statements of one transaction, prepared once and reused by every op in it.
//!
//! rusqlite's statement cache hashes the SQL text on every `prepare_cached` and moves the
//! statement out of and back into its LRU (clearing its bindings) around each use: in
//! callgrind that was about a tenth of the writer's instructions in scenario 1. A group commit
//! runs hundreds of ops, so each hot statement is taken from the cache once per transaction
//! and handed back when the transaction's ops are done.

use rusqlite::{CachedStatement, Connection};

/// The statements the write path runs for (nearly) every message.
#[derive(Debug, Clone, Copy)]
pub enum Sql {
    Insert,
    Submitting,
    Sent,
    OpenDlr,
    Final,
    CloseDlr,
    Routelog,
    Event,
}

const COUNT: usize = 8;

impl Sql {
    fn text(self) -> &'static str {
        match self {
            Sql::Insert => "INSERT INTO messages (id, target, state, data, updated_us, expires_us) VALUES (?1, ?2, 0, ?3, ?4, ?5)",
            Sql::Submitting => "UPDATE messages SET state = 5, updated_us = ?2 WHERE id = ?1",
            Sql::Sent => "UPDATE messages SET state = 1, remote_id = ?2, status = 'SENT', updated_us = ?3 WHERE id = ?1",
            Sql::OpenDlr => "INSERT OR REPLACE INTO dlr_open (connector, remote_id, message_id, created_us) VALUES (?1, ?2, ?3, ?4)",
            Sql::Final => "UPDATE messages SET state = ?2, status = ?3, remote_id = COALESCE(?4, remote_id), updated_us = ?5 WHERE id = ?1",
            Sql::CloseDlr => "DELETE FROM dlr_open WHERE connector = ?1 AND remote_id = ?2",
            Sql::Routelog => "INSERT OR REPLACE INTO routelog (message_id, received_us, in_connector, account, msgtype, source, dest, route, status, error, updated_us, price, cost, parts, charged, route_entry)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            // OR IGNORE: the same step twice in one microsecond is the same step.
            Sql::Event => "INSERT OR IGNORE INTO msg_events (message_id, at_us, kind, remote_id, connector, instance, status, code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        }
    }
}

/// The connection of a transaction with the statements taken so far; dropping it returns
/// them to the connection's cache.
pub struct Prepared<'c> {
    conn: &'c Connection,
    held: [Option<CachedStatement<'c>>; COUNT],
}

impl<'c> Prepared<'c> {
    pub fn new(conn: &'c Connection) -> Prepared<'c> {
        Prepared {
            conn,
            held: Default::default(),
        }
    }

    pub fn conn(&self) -> &'c Connection {
        self.conn
    }

    /// `sql`'s statement, prepared (or taken from the cache) on its first use here.
    pub fn get(&mut self, sql: Sql) -> rusqlite::Result<&mut CachedStatement<'c>> {
        let slot = &mut self.held[sql as usize];
        let stmt = match slot.take() {
            Some(stmt) => stmt,
            None => self.conn.prepare_cached(sql.text())?,
        };
        Ok(slot.insert(stmt))
    }
}
